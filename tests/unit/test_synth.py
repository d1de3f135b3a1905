"""Synthetic training words: the arc distortion moves the text where its box says."""

from __future__ import annotations

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

    def render_failing(text):
        raise OSError("always")

    monkeypatch.setattr(synth, "render", render_failing)
    with pytest.raises(OSError, match="always"):  # a generator that cannot draw at all still stops
        synth.sample()
