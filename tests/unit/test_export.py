"""Export metadata: what the engine checks at load, and what /api/health shows."""

from __future__ import annotations

import json

from ocr_engine.charset import ALPHABET, BLANK_INDEX

from model.export import write_metadata


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
