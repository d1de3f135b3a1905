"""Synthetic training words: each distortion and failure class draws what it says."""

from __future__ import annotations

import math

import numpy as np
import pytest

from model.synth import curve


def ink_rows(img: np.ndarray, column: int) -> tuple[int, int]:
    rows = np.flatnonzero(img[:, column] < 128)
    return int(rows.min()), int(rows.max())


@pytest.mark.parametrize("bend", [12.0, -12.0])
def test_an_arc_lifts_or_sinks_the_middle_and_keeps_the_ends(bend):
    img = np.full((60, 200), 255, np.uint8)
    img[20:40, 20:180] = 0  # a "text line" 20 px high, 160 px long
    box = np.float32([20, 20, 180, 40])
    out, new_box = curve(img, box, bend)
    pad = (out.shape[0] - img.shape[0]) // 2
    assert pad >= abs(bend)
    end_top, _ = ink_rows(out, 22)
    mid_top, mid_bottom = ink_rows(out, 100)
    assert abs(end_top - (20 + pad)) <= 2  # the ends stay
    assert abs((20 + pad) - mid_top - bend) <= 2  # the middle moves by the bend
    # The new box holds all of the ink.
    ys, xs = np.nonzero(out < 128)
    assert new_box[1] - 1 <= ys.min() and ys.max() <= new_box[3] + 1


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    """A generator over a small word list (wordfreq is a training dependency, as the
    device bundle's OCR_WORDS_FILE stands in for it) and this machine's fonts."""
    import model.synth as synth_module

    words = tmp_path_factory.mktemp("words") / "words.txt"
    words.write_text("\n".join(["coffee", "shop", "hotel", "area", "open", "sale", "street", "park"]) + "\n")
    patch = pytest.MonkeyPatch()
    patch.setattr(synth_module, "WORDS_FILE", str(words))
    synth_module.word_list.cache_clear()
    try:
        yield synth_module.WordSynth(seed=3)
    except RuntimeError as exc:  # no fonts on this machine (make setup-train installs them)
        pytest.skip(str(exc))
    finally:
        patch.undo()
        synth_module.word_list.cache_clear()


def test_punctuation_is_drawn_but_never_in_the_label(synth):
    from ocr_engine.charset import normalize_text

    for word in ("1958", "area", "its", "ymca"):
        text = synth.punctuated(word)
        assert text != word and normalize_text(text) == word
    for _ in range(300):
        _, label = synth.sample()
        assert label == normalize_text(label) and label


def test_numbers_are_written_as_signs_write_them(synth):
    for _ in range(50):
        text = synth.number_text()
        assert any(ch.isdigit() for ch in text) and len(text) <= 8


def test_stacked_letters_come_out_side_by_side_as_the_engine_lays_them(synth):
    img = synth.render_stacked("HOTEL")
    h, w = img.shape[:2]
    assert w > 3 * h  # five square cells in a row


def test_dot_matrix_lettering_keeps_only_dots_of_the_text(synth):
    text = np.zeros((40, 80, 3), np.uint8)
    background = np.full((40, 80, 3), 200, np.uint8)
    out = synth._dot_matrix(text, background, size=40)
    dark = (out == 0).all(axis=2)
    assert 0.1 < dark.mean() < 0.8  # dots of the (all-dark) text, background between them
    assert ((out == 0) | (out == 200)).all()


def test_tiny_text_is_a_few_pixels_high(synth):
    img = synth._shrunk(np.zeros((60, 200, 3), np.uint8), 12)
    assert img.shape[:2] == (12, 40)


def _bar_image() -> tuple[np.ndarray, np.ndarray]:
    """A dark 'word' (a bar 160 x 20) on white, and its box."""
    img = np.full((80, 240, 3), 255, np.uint8)
    img[30:50, 40:200] = 0
    return img, np.float32([40, 30, 200, 50])


def test_a_steep_word_fills_an_upright_box_much_taller_than_itself(synth):
    img, box = _bar_image()
    _, level = synth._geometric(img, box, degrees=0.0)
    _, steep = synth._geometric(img, box, degrees=35.0)
    level_h, steep_h = level[3] - level[1], steep[3] - steep[1]
    assert steep_h > 3 * level_h  # 160 * sin(35) + 20 * cos(35) = 108 px against about 20
    assert steep[2] - steep[0] < level[2] - level[0]


def test_steep_words_are_the_share_asked_for_and_within_their_angles(synth):
    import model.synth as synth_module

    low, high = synth_module.STEEP_DEGREES
    angles = np.abs([synth._rotation_degrees() for _ in range(4000)])
    steep = angles[angles >= low]
    # The steep share, plus the tail of the 30% drawn around level with a deviation of 8 degrees.
    tail = (1 - synth_module.STEEP) * 0.3 * math.erfc(low / 8 / math.sqrt(2))
    assert abs(len(steep) / len(angles) - (synth_module.STEEP + tail)) < 0.02
    assert steep.max() <= max(high, 45)  # the 8-degree tail almost never passes 40 degrees


def test_glow_bleeds_light_letters_into_a_dark_ground_and_keeps_far_pixels_dark(synth):
    img = np.zeros((60, 200, 3), np.uint8)
    img[20:40, 40:160] = 230  # light letters on black
    out = synth._glow(img, size=40)
    assert out[14, 100].mean() > 20  # a few pixels above the letters: lit
    assert out[25:35, 60:140].min() >= 230  # the letters stay at least as light
    assert out[:3, :3].max() < 10 and out[-3:, -3:].max() < 10  # far corners stay dark


def test_a_neighbouring_line_is_drawn_outside_the_words_box_never_across_it(synth):
    from PIL import Image, ImageDraw

    from model.synth import load_font

    font = load_font(synth.fonts[0], 32)
    for _ in range(10):
        canvas = Image.new("L", (400, 200), 255)
        draw = ImageDraw.Draw(canvas)
        box = (100, 80, 300, 120)
        synth._draw_neighbour(draw, font, 0, box)
        ink_rows = np.flatnonzero((np.asarray(canvas) < 128).any(axis=1))
        assert len(ink_rows) > 0
        assert not ((ink_rows >= box[1]) & (ink_rows < box[3])).any()  # the word's own rows stay clear


@pytest.mark.parametrize("text_w, text_h, degrees", [(300, 40, 12), (300, 40, -40), (60, 50, 25), (500, 30, 33)])
def test_a_steep_words_canvas_holds_its_whole_turned_box_and_margin(text_w, text_h, degrees):
    import cv2

    from model.synth import steep_room

    margin = 0.3 * text_h
    pad_x, pad_y = steep_room(text_w, text_h, degrees, margin)
    w, h = text_w + 2 * pad_x, text_h + 2 * pad_y
    t = np.deg2rad(degrees)
    rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    centre = np.array([w / 2, h / 2])
    turn = lambda pts: (np.asarray(pts, float) - centre) @ rot.T + centre  # noqa: E731
    canvas = turn([[0, 0], [w, 0], [w, h], [0, h]]).astype(np.float32)
    line = turn([[pad_x, pad_y], [pad_x + text_w, pad_y], [pad_x + text_w, pad_y + text_h], [pad_x, pad_y + text_h]])
    (x1, y1), (x2, y2) = line.min(axis=0) - margin, line.max(axis=0) + margin
    for corner in [(x1, y1), (x2, y1), (x2, y2), (x1, y2)]:
        assert cv2.pointPolygonTest(canvas, (float(corner[0]), float(corner[1])), False) >= 0


def test_a_steep_words_crop_never_cuts_into_its_box(synth):
    img = np.zeros((300, 400, 3), np.uint8)
    box = np.float32([100, 80, 300, 220])
    for _ in range(50):
        crop = synth._crop(img, box, line_height=30)
        assert 140 <= crop.shape[0] <= 140 + 2 * 0.3 * 30 + 1
        assert 200 <= crop.shape[1] <= 200 + 2 * 0.3 * 30 + 1


def test_a_font_freetype_cannot_draw_costs_one_draw_not_the_training_run(synth, monkeypatch):
    import model.synth as synth_module

    real_render, calls = synth.render, []

    def render_failing_once(text):
        calls.append(text)
        if len(calls) == 1:
            raise OSError("array allocation size too large")
        return real_render(text)

    monkeypatch.setattr(synth, "render", render_failing_once)
    monkeypatch.setattr(synth_module, "STACKED", 0.0)
    img, label = synth.sample()
    assert len(calls) == 2 and img.ndim == 3 and label

    monkeypatch.setattr(synth, "render", lambda text: (_ for _ in ()).throw(OSError("always")))
    with pytest.raises(OSError, match="always"):  # a generator that cannot draw at all still stops
        synth.sample()
