"""The annotated image: a JPEG that always fits a Lambda response."""

from __future__ import annotations

import base64

import cv2
import numpy as np
import pytest
from ocr_engine.annotate import MIN_SIDE, render
from ocr_engine.config import DEFAULT_MAX_ANNOTATED_BYTES, LAMBDA_PAYLOAD_LIMIT, load_settings
from ocr_engine.schemas import Word

JPEG = b"\xff\xd8\xff"


def noisy_photo(h: int, w: int, seed: int = 0) -> np.ndarray:
    """Per-pixel noise: the worst case for any compressor (a real photo compresses far better)."""
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def words_over(w: int, h: int, n: int = 8) -> list[Word]:
    step = max(1, w // (n + 1))
    return [Word(f"WORD{i}", 0.9, (i * step, h // 3, i * step + step // 2, h // 2)) for i in range(n)]


def limits(**given: int) -> dict[str, int]:
    """render's ``max_side`` and ``max_bytes`` as the API passes them, its settings' (the
    environment's, else the defaults), unless ``given``."""
    settings = load_settings()
    return {"max_side": settings.annotate_max_side, "max_bytes": settings.max_annotated_bytes, **given}


def _decode(data: bytes, flags: int = cv2.IMREAD_COLOR) -> np.ndarray:
    img = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    assert img is not None
    return img


def test_large_noisy_photo_gives_a_jpeg_that_fits_a_response():
    rgb = noisy_photo(3000, 4000)
    png_size = len(cv2.imencode(".png", cv2.resize(rgb, (1600, 1200)))[1])
    out = render(rgb, words_over(4000, 3000), **limits())
    assert out.mime == "image/jpeg" and out.data.startswith(JPEG)
    assert (out.width, out.height) == (1600, 1200) and out.note is None
    assert _decode(out.data).shape == (1200, 1600, 3)
    assert len(out.data) <= DEFAULT_MAX_ANNOTATED_BYTES
    assert len(out.data) < png_size / 2  # what the PNG of before cost (7.6 MB responses)
    # base64 in the response leaves room for the rest of the JSON under Lambda's 6 MB.
    assert len(base64.b64encode(out.data)) + 256 * 1024 <= LAMBDA_PAYLOAD_LIMIT


def test_default_budget_fits_the_response_with_room_for_the_rest():
    assert DEFAULT_MAX_ANNOTATED_BYTES * 4 / 3 + 1024 * 1024 <= LAMBDA_PAYLOAD_LIMIT
    assert load_settings().max_annotated_bytes == DEFAULT_MAX_ANNOTATED_BYTES


@pytest.mark.parametrize("budget", [600_000, 150_000, 20_000])
def test_noisy_photo_is_shrunk_until_it_fits_the_budget(budget):
    rgb = noisy_photo(1200, 1600, seed=1)
    out = render(rgb, words_over(1600, 1200), **limits(max_bytes=budget))
    assert out.data is not None and len(out.data) <= budget
    img = _decode(out.data)
    assert img.shape[:2] == (out.height, out.width)
    assert MIN_SIDE <= max(img.shape[:2]) < 1600
    assert abs(img.shape[1] / img.shape[0] - 4 / 3) < 0.02  # the aspect ratio is kept
    assert out.note and "shrunk" in out.note and f"{budget:,}" in out.note


def test_boxes_are_drawn_at_the_shrunk_scale():
    rgb = np.full((1200, 1600, 3), 255, np.uint8)
    words = [Word("HELLO", 0.9, (400, 400, 1200, 800))]
    out = render(rgb, words, **limits(max_side=800))
    img = _decode(out.data)
    # The box's left edge lands at x = 400 / 2 on the 800-wide image: amber (BGR 0, 200, 255).
    b, g, r = (int(v) for v in img[300, 200])
    assert b < 80 and g > 150 and r > 200
    assert img[300, 100].min() > 230  # left of the box: still the white page


def test_annotation_is_dropped_with_a_reason_when_nothing_fits():
    out = render(noisy_photo(1200, 1600, seed=2), words_over(1600, 1200), **limits(max_bytes=1_000))
    assert out.data is None and out.mime is None
    assert "dropped" in out.note and "1,000-byte" in out.note
    assert out.b64 is None  # the response's annotated_b64 is null
    assert render(noisy_photo(1200, 1600, seed=2), [], **limits(max_bytes=300)).data is None


def test_b64_carries_the_image_whose_bytes_say_its_type():
    out = render(noisy_photo(120, 160), [], **limits())
    assert base64.b64decode(out.b64) == out.data and out.data.startswith(b"\xff\xd8\xff")  # a JPEG
    assert out.mime == "image/jpeg" and out.note is None


def test_small_images_keep_their_size():
    out = render(noisy_photo(64, 220), [Word("OPEN", 0.9, (10, 10, 200, 54))], **limits())
    assert (out.width, out.height) == (220, 64) and out.note is None


def test_side_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("OCR_ANNOTATE_MAX_SIDE", "500")  # the default byte budget holds 500 px of noise
    out = render(noisy_photo(1200, 1600, seed=3), [], **limits())
    assert (out.width, out.height) == (500, 375)


def test_budget_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("OCR_MAX_ANNOTATED_BYTES", "100000")
    monkeypatch.setenv("OCR_ANNOTATE_MAX_SIDE", "4000")  # the side alone would keep all 1600 px
    out = render(noisy_photo(1200, 1600, seed=3), [], **limits())
    assert len(out.data) <= 100_000 and max(out.width, out.height) < 1600


def test_an_annotated_photo_is_no_larger_than_the_photo_it_annotates(data_dir):
    """The issue's case: a 288 KB street photo came back as a 1.5 MB PNG; now it is a JPEG
    of the photo's own pixel count at most, no heavier than the photo itself."""
    path = data_dir / "svt_train" / "images" / "16_08.jpg"
    source = path.read_bytes()
    rgb = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
    words = [Word("coffee", 0.9, (100, 100, 400, 180)), Word("shop", 0.8, (420, 100, 600, 180))]
    annotation = render(rgb, words, **limits())
    assert annotation.mime == "image/jpeg"
    assert annotation.width * annotation.height <= rgb.shape[0] * rgb.shape[1]
    assert len(annotation.data) <= len(source)
