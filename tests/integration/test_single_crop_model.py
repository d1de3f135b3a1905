"""The single-crop model (crnn-int8-single.tflite, fused LSTM ops; OCR_SINGLE_CROP_MODEL=1):
a lone crop reads as the batch model reads it, each from a clean LSTM state, and batches
never go to it."""

from __future__ import annotations

import dataclasses
import shutil

import numpy as np
import pytest
from ocr_engine.config import Settings
from ocr_engine.errors import ModelUnavailable
from ocr_engine.imagefile import load_rgb
from ocr_engine.pipeline import OcrEngine, get_engine
from ocr_tools.labels import read_label_file

SAMPLE = 40


@pytest.fixture(scope="module")
def crops(data_dir) -> list[np.ndarray]:
    rows = read_label_file(data_dir / "iiit5k" / "test.tsv")[:SAMPLE]
    return [load_rgb(path) for path, _ in rows]


@pytest.fixture(scope="module")
def engines() -> tuple[OcrEngine, OcrEngine]:
    """(with the single-crop model switched on, as shipped: off)."""
    with_single = OcrEngine.from_settings(dataclasses.replace(Settings(), single_crop_model=True))
    assert with_single.recognizer.single is not None, "the shipped artifacts lack crnn-int8-single.tflite"
    without = get_engine()  # the cached engine the other tests share: as shipped, without it
    assert without.recognizer.single is None
    return with_single, without


def test_a_lone_crop_reads_as_the_batch_model_reads_it(engines, crops):
    """The same weights through other kernels: the same words but on near ties (3 of the
    first 400 IIIT5K test crops; none of these 40)."""
    single, batch_only = engines
    for crop in crops:
        # Both read the crop alone: one through the fused model, one through the unrolled one.
        assert single.read_crops([crop])[0].text == batch_only.read_crops([crop])[0].text


def test_each_crop_starts_from_a_clean_lstm_state(engines, crops):
    """The fused op keeps its state between invocations; without the reset, the second
    reading of a crop would start where the crop before it ended."""
    recognizer = engines[0].recognizer
    first = recognizer.predict_crops([crops[0]])
    recognizer.predict_crops([crops[1]])
    assert np.array_equal(recognizer.predict_crops([crops[0]]), first)


def test_batches_stay_on_the_batch_model(engines, crops, monkeypatch):
    recognizer = engines[0].recognizer
    calls = []
    original = recognizer.single.predict
    monkeypatch.setattr(recognizer.single, "predict", lambda batch: calls.append(len(batch)) or original(batch))
    recognizer.predict_crops(crops[:3])
    recognizer.predict_crops(crops[:17])  # chunks of 16: the last chunk is one crop of a batch
    assert calls == []
    recognizer.predict_crops(crops[:1])
    assert calls == [1]


def _model_dir(folder, *names: str):
    """``folder`` holding these files of the shipped model folder."""
    for name in names:
        shutil.copy(Settings().model_dir / name, folder / name)
    return folder


def test_the_twin_follows_the_model_file_and_the_switch(tmp_path):
    _model_dir(tmp_path, "crnn-int8.tflite", "crnn-int8-single.tflite", "crnn.json")
    settings = dataclasses.replace(Settings(), model_dir=tmp_path, single_crop_model=True)
    assert settings.single_model_path == tmp_path / "crnn-int8-single.tflite"
    assert dataclasses.replace(settings, single_crop_model=False).single_model_path is None
    # The float32 model has no twin here: single crops stay on it, never on the int8 twin.
    assert dataclasses.replace(settings, model_file="crnn.tflite").single_model_path is None


def test_a_missing_twin_is_logged_and_the_batch_model_reads(tmp_path, caplog):
    _model_dir(tmp_path, "crnn-int8.tflite", "crnn.json")
    settings = dataclasses.replace(Settings(), model_dir=tmp_path, lm_file="", single_crop_model=True)
    assert OcrEngine.from_settings(settings).recognizer.single is None
    assert "no single-crop twin" in caplog.text


def test_a_corrupt_twin_fails_the_cold_start_loudly(tmp_path):
    _model_dir(tmp_path, "crnn-int8.tflite", "crnn.json")
    (tmp_path / "crnn-int8-single.tflite").write_bytes(b"not a flatbuffer" * 100)
    with pytest.raises(ModelUnavailable, match="corrupt"):
        OcrEngine.from_settings(dataclasses.replace(Settings(), model_dir=tmp_path, lm_file="", single_crop_model=True))
