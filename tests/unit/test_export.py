"""Export metadata: what the engine checks at load, and what /api/health shows."""

from __future__ import annotations

import hashlib
import json

import pytest
from ocr_engine.charset import ALPHABET, BLANK_INDEX
from ocr_engine.config import REPO_ARTIFACTS_DIR

from model.calibrate import main as calibrate_main
from model.evaluate import models_to_measure
from model.export import EXPORTED_FILES, fingerprints, stale_files, write_metadata
from model.export_single import SINGLE_MODEL_FILE


def test_metadata_names_the_training_data_and_the_engines_charset(tmp_path):
    out = tmp_path / "crnn.json"
    write_metadata(out, "2026.11.25-test", 0.5, dataset="synthetic words (151 fonts) + IIIT5K train")
    meta = json.loads(out.read_text())
    assert meta["name"] == "crnn-w0.5"
    assert meta["version"] == "2026.11.25-test"
    assert meta["dataset"] == "synthetic words (151 fonts) + IIIT5K train"
    assert (meta["alphabet"], meta["blank_index"]) == (ALPHABET, BLANK_INDEX)


def test_without_a_dataset_it_counts_the_fonts_it_can_find(tmp_path, monkeypatch):
    monkeypatch.setattr("model.synth.find_fonts", lambda: ("a.ttf", "b.otf"))
    write_metadata(tmp_path / "crnn.json", "v", 0.5)
    assert json.loads((tmp_path / "crnn.json").read_text())["dataset"] == "synthetic words (2 fonts) + IIIT5K train"


def test_metadata_records_the_digest_of_each_file_it_describes(tmp_path):
    (tmp_path / "crnn-int8.tflite").write_bytes(b"int8 model")
    (tmp_path / "crnn.weights.h5").write_bytes(b"weights")
    write_metadata(tmp_path / "crnn.json", "v", 0.5, dataset="d", files=fingerprints(tmp_path))
    meta = json.loads((tmp_path / "crnn.json").read_text())
    assert set(meta["files"]) == {"crnn-int8.tflite", "crnn.weights.h5"}
    assert meta["files"]["crnn-int8.tflite"] == hashlib.sha256(b"int8 model").hexdigest()
    assert stale_files(tmp_path, meta, EXPORTED_FILES) == []


def test_a_file_left_from_another_export_is_stale(tmp_path):
    (tmp_path / "crnn-int8.tflite").write_bytes(b"this export")
    meta = {"files": fingerprints(tmp_path)}
    (tmp_path / "crnn.tflite").write_bytes(b"an older export's float32 model")  # never recorded
    assert stale_files(tmp_path, meta, EXPORTED_FILES) == ["crnn.tflite"]
    (tmp_path / "crnn-int8.tflite").write_bytes(b"copied over since")
    assert stale_files(tmp_path, meta, EXPORTED_FILES) == ["crnn.tflite", "crnn-int8.tflite"]


def test_the_shipped_card_describes_the_committed_model_files():
    # The float32 model is not committed (.gitignore): stale_files skips it when absent.
    meta = json.loads((REPO_ARTIFACTS_DIR / "crnn.json").read_text())
    committed = ("crnn-int8.tflite", SINGLE_MODEL_FILE, "crnn.weights.h5")
    assert all((REPO_ARTIFACTS_DIR / name).exists() for name in committed)
    assert stale_files(REPO_ARTIFACTS_DIR, meta, committed) == []


def test_evaluate_measures_only_the_exports_own_models(tmp_path, capsys):
    (tmp_path / "crnn-int8.tflite").write_bytes(b"this export")
    meta = {"version": "v", "files": fingerprints(tmp_path)}
    (tmp_path / "crnn.tflite").write_bytes(b"an older export's float32 model")
    assert models_to_measure(tmp_path, meta, "crnn-int8.tflite") == ["crnn-int8.tflite"]
    assert "skipped" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="not the file"):
        models_to_measure(tmp_path, meta, "crnn.tflite")
    with pytest.raises(SystemExit, match="missing"):
        models_to_measure(tmp_path / "nowhere", meta, "crnn-int8.tflite")


def test_calibrate_fits_only_the_model_its_card_describes(tmp_path, monkeypatch):
    (tmp_path / "crnn-int8.tflite").write_bytes(b"this export")
    (tmp_path / "crnn.json").write_text(json.dumps({"version": "v", "files": fingerprints(tmp_path)}))
    (tmp_path / "crnn-int8.tflite").write_bytes(b"copied over since")
    monkeypatch.setenv("OCR_MODEL_DIR", str(tmp_path))
    monkeypatch.setenv("OCR_MODEL_FILE", "crnn-int8.tflite")
    with pytest.raises(SystemExit, match="not the file"):
        calibrate_main(["--data", str(tmp_path), "--out", str(tmp_path)])
    # --out names the export: its own model is the one checked, whatever OCR_MODEL_DIR says
    # (the shipped model's fit was written into another folder's card).
    monkeypatch.setenv("OCR_MODEL_DIR", str(REPO_ARTIFACTS_DIR))
    with pytest.raises(SystemExit, match=f"{tmp_path}.*not the file"):
        calibrate_main(["--data", str(tmp_path), "--out", str(tmp_path)])
