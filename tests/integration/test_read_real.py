"""The shipped model on real IIIT5K test crops: it reads them about as well as crnn.json claims."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ocr_engine.config import Settings
from ocr_engine.pipeline import get_engine
from ocr_engine.schemas import ReadOptions
from ocr_tools.evaluate import recognition_score
from ocr_tools.labels import read_label_file

SAMPLE = 200  # the first crops of test.tsv: ~3.5 points of sampling error around the true rate
MARGIN = 0.12  # 3+ standard errors: a claim this far above the sample is not the shipped model's


@pytest.fixture(scope="module")
def sample(data_dir):
    rows = read_label_file(data_dir / "iiit5k" / "test.tsv")[:SAMPLE]
    return [(path.read_bytes(), label) for path, label in rows]


@pytest.fixture(scope="module")
def claimed() -> dict:
    metrics = json.loads((Settings().model_dir / "crnn.json").read_text())["metrics"]
    key = next(k for k in metrics if k.startswith("iiit5k_test") and k.endswith("word_accuracy"))
    cer = next(k for k in metrics if k.startswith("iiit5k_test") and k.endswith("cer"))
    return {"word_accuracy": metrics[key], "cer": metrics[cer]}


def _read_all(sample, options: ReadOptions) -> list[str]:
    engine = get_engine()
    return [engine.read(data, options).full_text for data, _ in sample]


@pytest.fixture(scope="module")
def plain_texts(sample) -> list[str]:
    return _read_all(sample, ReadOptions(detect=False))


def test_real_crops_are_read_as_well_as_the_model_card_claims(sample, plain_texts, claimed):
    score = recognition_score(plain_texts, [label for _, label in sample])
    assert score.word_accuracy >= claimed["word_accuracy"] - MARGIN
    assert score.cer <= claimed["cer"] + MARGIN


def test_a_lexicon_of_the_sample_words_only_helps(sample, plain_texts):
    labels = [label for _, label in sample]
    plain = recognition_score(plain_texts, labels)
    lexicon = tuple(sorted({label.lower() for label in labels}))
    constrained = _read_all(sample, ReadOptions(detect=False, lexicon=lexicon))
    assert all(t.lower() in lexicon for t in constrained)
    assert recognition_score(constrained, labels).word_accuracy >= plain.word_accuracy + 0.1


def test_a_word_crop_is_read_with_detection_on_too(sample, plain_texts):
    # An upload that is one word has no word inside it for the detector to find; the
    # whole image competes as a candidate, so the default (detect on) still reads it.
    labels = [label for _, label in sample]
    detected = [t.replace(" ", "") for t in _read_all(sample, ReadOptions(detect=True))]
    plain = recognition_score(plain_texts, labels).word_accuracy
    assert recognition_score(detected, labels).word_accuracy >= plain - 0.05


@pytest.fixture(scope="module")
def first_crops(sample) -> list[np.ndarray]:
    """The pixels of the sample's first 20 crops, as an upload of each is decoded."""
    from ocr_engine.imagefile import decode_image

    return [decode_image(data, get_engine().settings).rgb for data, _ in sample[:20]]


def test_decoding_probabilities_reads_as_an_upload_is_served(first_crops, plain_texts):
    # The tools that tune and record decoding (model.tune_decoding, model.test_point,
    # model.dev_compare) decode the output of the engine's crop step (OcrEngine.crop_probs,
    # with their own network) with decode_readings: on the same pixels, that must be what an
    # upload of the crop is served, or their figures would describe another reader.
    engine = get_engine()
    served = plain_texts[:20]
    assert [d.text for d in engine.decode_readings(engine.crop_probs(first_crops))] == served
    assert sum(bool(t) for t in served) >= 15  # real readings, not twenty empty strings


def test_the_engine_reads_crops_stretched_as_its_settings_say(first_crops):
    import dataclasses

    from ocr_engine.pipeline import OcrEngine

    engine = get_engine()
    assert engine.settings.read_stretch != 1.0
    plain = OcrEngine(dataclasses.replace(engine.settings, read_stretch=1.0), engine.recognizer, engine.lm)
    widths: list[list[int]] = []  # per call, the width of each crop that reaches the network

    def predict(batch):
        widths.append([c.shape[1] for c in batch])
        return engine.recognizer.predict_crops(batch)

    engine.crop_probs(first_crops, predict=predict)
    plain.crop_probs(first_crops, predict=predict)
    stretched, unstretched = np.array(widths)
    assert stretched / unstretched == pytest.approx(engine.settings.read_stretch, abs=0.02)  # after the margin
    assert engine.read_crops(first_crops) != plain.read_crops(first_crops)  # the stretch changes some readings


def test_the_records_name_the_decoding_and_its_language_model():
    engine = get_engine()
    described = engine.decoding
    assert f"beam {engine.settings.beam_width}" in described
    assert f"order-{engine.lm.order} character LM {engine.settings.lm_file}" in described
    assert f"weight {engine.settings.lm_weight}, bonus {engine.settings.lm_bonus}" in described


@pytest.mark.parametrize("shape", [(1, 1, 3), (64, 200, 3), (600, 800, 3)])
def test_a_blank_image_returns_no_words(shape):
    import cv2
    import numpy as np

    ok, png = cv2.imencode(".png", np.zeros(shape, np.uint8))
    assert ok
    for detect in (True, False):
        assert get_engine().read(png.tobytes(), ReadOptions(detect=detect)).words == []


def test_the_words_of_a_panorama_are_read():
    """A 20000 x 200 strip: shrunk by its long side for detection, its words were 7 px high and
    the engine read one made-up word ("int") across it."""
    import cv2

    from tests.helpers import scene_with_words

    texts = ["open", "bakery", "sale", "hotel", "2026"]
    rgb, _ = scene_with_words([(t.upper(), 400 + 3500 * i, 150, 3.0) for i, t in enumerate(texts)], size=(200, 20000))
    jpeg = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))[1].tobytes()
    words = [w.text for w in get_engine().read(jpeg).words]
    assert sum(t in words for t in texts) >= 4, words


@pytest.mark.parametrize("ink", [255, 0])
def test_a_word_drawn_on_a_transparent_background_is_read_whatever_its_colour(data_dir, ink):
    """White letters on a transparent background (a dark-mode logo) read as nothing: they
    were flattened onto white. The ink is the crop's dark strokes, made opaque."""
    import io

    from PIL import Image

    crop = np.asarray(Image.open(data_dir / "iiit5k" / "test" / "1002_1.png").convert("L")).astype(np.float32)
    ground = np.median(crop)
    alpha = np.clip((ground - crop) / max(1.0, ground - crop.min()) * 2 * 255, 0, 255).astype(np.uint8)
    rgba = np.dstack([np.full((*crop.shape, 3), ink, np.uint8), alpha])
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, "PNG")
    result = get_engine().read(buf.getvalue(), ReadOptions(detect=False))
    assert result.full_text == "private"
