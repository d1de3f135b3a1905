"""``OcrEngine.read_many``: several images, their crops in shared recognizer batches, read
as ``read`` reads each of them; a bad image fails alone; the batch's bounds and deadline."""

from __future__ import annotations

import dataclasses
import io

import pytest
from ocr_engine import imagefile
from ocr_engine.errors import DeadlineExceeded, ImageTooLarge, InvalidImage, InvalidOption, UnsupportedFormat
from ocr_engine.pipeline import OcrEngine, get_engine
from ocr_engine.schemas import OcrResult, ReadOptions
from ocr_tools.labels import read_label_file, read_scenes
from PIL import Image


@pytest.fixture(scope="module")
def crops(data_dir) -> list[bytes]:
    return [path.read_bytes() for path, _ in read_label_file(data_dir / "iiit5k" / "test.tsv")[:6]]


@pytest.fixture(scope="module")
def scene(data_dir) -> bytes:
    return read_scenes(data_dir / "svt_train")[0][0].read_bytes()


def _engine(**changes) -> OcrEngine:
    """The shipped engine (its loaded model) with some settings changed."""
    engine = get_engine()
    return OcrEngine(dataclasses.replace(engine.settings, **changes), engine.recognizer, engine.lm)


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 200, 200)).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize("options", [ReadOptions(detect=False), ReadOptions(), ReadOptions(beam_width=1),
                                     ReadOptions(detect=False, lexicon=("private", "parking", "salutes"))],
                         ids=["word", "detect", "greedy", "lexicon"])
def test_read_many_reads_each_image_as_read_does(crops, scene, options):
    engine = get_engine()
    images = [*crops, scene]
    batch = engine.read_many(images, options)
    assert len(batch) == len(images)
    for data, result in zip(images, batch, strict=True):
        single = engine.read(data, options)
        assert isinstance(result, OcrResult)
        assert result.words == single.words and result.image_size == single.image_size
        assert set(result.timings_ms) == set(single.timings_ms)
    assert any(r.full_text for r in batch)  # the crops are words, not blanks


def test_a_bad_image_fails_alone_in_its_place(crops):
    engine = get_engine()
    options = ReadOptions(detect=False)
    batch = engine.read_many([crops[0], b"not an image", crops[1], b"\x89PNG\r\n\x1a\n truncated"], options)
    assert batch[0].words == engine.read(crops[0], options).words
    assert isinstance(batch[1], UnsupportedFormat)
    assert batch[2].words == engine.read(crops[1], options).words
    assert isinstance(batch[3], InvalidImage)


def test_an_empty_batch_reads_nothing():
    assert get_engine().read_many([]) == []


def test_bad_options_fail_the_whole_batch_before_any_work(crops):
    with pytest.raises(InvalidOption, match="beam_width"):
        get_engine().read_many(crops, ReadOptions(beam_width=0))


def test_more_images_than_the_limit_are_refused(crops):
    engine = _engine(max_batch_images=3)
    assert len(engine.read_many(crops[:3], ReadOptions(detect=False))) == 3
    with pytest.raises(InvalidOption, match="at most 3 images"):
        engine.read_many(crops[:4])


def test_more_bytes_in_all_than_the_limit_are_refused(crops):
    limit = len(crops[0]) + len(crops[1])
    engine = _engine(max_batch_bytes=limit)
    assert len(engine.read_many(crops[:2], ReadOptions(detect=False))) == 2
    with pytest.raises(ImageTooLarge, match=f"{limit:,}-byte limit"):
        engine.read_many(crops[:2] + [b"x"])


def test_the_batch_decodes_at_most_max_pixels_in_all():
    engine = _engine(max_pixels=100 * 100)
    batch = engine.read_many([_png(100, 60), _png(100, 50), _png(100, 40)], ReadOptions(detect=False))
    assert isinstance(batch[0], OcrResult) and isinstance(batch[2], OcrResult)  # 6000 + 4000 pixels fit
    assert isinstance(batch[1], ImageTooLarge) and "in all" in batch[1].message


def test_an_image_past_the_batchs_pixels_is_refused_from_its_header_not_decoded(monkeypatch):
    """Two 40 Mpx images used to be decoded both, the second refused only then (610 MB peak)."""
    engine = _engine(max_pixels=100 * 100)
    decoded = []  # the sizes whose pixels were decoded (brought to 8 bits)
    to_uint8 = imagefile._to_uint8

    def counting_to_uint8(img):
        decoded.append(img.size)
        return to_uint8(img)

    monkeypatch.setattr(imagefile, "_to_uint8", counting_to_uint8)
    first, too_many, last = _png(100, 60), _png(100, 50), _png(100, 40)
    batch = engine.read_many([first, too_many, last], ReadOptions(detect=False))
    assert isinstance(batch[1], ImageTooLarge) and "in all" in batch[1].message
    assert decoded == [(100, 60), (100, 40)]
    # One too large alone is told so, as it would be alone.
    alone = engine.read_many([first, _png(200, 100)], ReadOptions(detect=False))
    assert isinstance(alone[1], ImageTooLarge) and "the image is 200×100 = 20,000 pixels" in alone[1].message


def test_one_deadline_covers_the_batch_and_fails_each_image_it_stops(crops):
    engine = _engine(request_deadline_s=1e-9)
    batch = engine.read_many([crops[0], b"not an image"], ReadOptions(detect=False))
    assert isinstance(batch[0], DeadlineExceeded)
    assert isinstance(batch[1], DeadlineExceeded)  # stopped before it was even looked at


def test_read_many_with_image_returns_each_decoded_image(crops):
    (image, result), error = get_engine().read_many([crops[0], b""], ReadOptions(detect=False), with_image=True)
    assert (image.width, image.height) == result.image_size
    assert isinstance(error, InvalidImage)
