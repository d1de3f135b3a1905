"""``ocr_tools.evaluate.evaluate_crops``, the one evaluator of labelled crops (``ocr eval``,
``model.evaluate``, ``model.test_point``, the peers' benchmark): its readers, loaders and
report, without the model."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from ocr_engine.pipeline import DecodeOptions
from ocr_tools.evaluate import EngineReader, evaluate_crops, recognition_report


@pytest.fixture
def labels(tmp_path) -> Path:
    (tmp_path / "crops").mkdir()
    for name, grey in (("a", 50), ("b", 150), ("c", 250)):
        cv2.imwrite(str(tmp_path / "crops" / f"{name}.png"), np.full((32, 100, 3), grey, np.uint8))
    tsv = tmp_path / "labels.tsv"
    tsv.write_text("crops/a.png\tDark\ncrops/b.png\tmid\ncrops/c.png\tlight\n", encoding="utf-8")
    return tsv


def by_grey(crop: np.ndarray):
    """Reads a crop by its grey level: dark, mid (wrongly, as 'mud'), light."""
    text = {50: "dark", 150: "mud", 250: "light"}[int(crop[0, 0, 0])]
    return SimpleNamespace(text=text, confidence=0.5)


def test_it_scores_as_the_protocol_says_and_reports_as_ocr_eval(labels):
    evaluation = evaluate_crops(labels, by_grey)
    assert evaluation.predictions == ["dark", "mud", "light"]
    report = evaluation.report()
    assert report == recognition_report(["dark", "mud", "light"], ["Dark", "mid", "light"], evaluation.ms,
                                        [0.5, 0.5, 0.5])
    assert report["n"] == 3 and report["word_accuracy"] == round(2 / 3, 4)  # case-insensitive
    assert evaluation.score().cer == pytest.approx(1 / 12)  # one edit in 12 reference characters
    assert [(p.name, label, text) for p, label, text in evaluation.wrong()] == [("b.png", "mid", "mud")]
    assert len(evaluation.ms) == 3


def test_a_reader_of_texts_alone_has_no_calibration_figure(labels):
    evaluation = evaluate_crops(labels, lambda crop: by_grey(crop).text, limit=2)
    assert evaluation.confidences is None and evaluation.report()["n"] == 2
    assert "ece" not in evaluation.report()


def test_a_loader_gives_the_reader_what_it_reads(labels):
    """As a peer reads the file itself, or model.test_point the network's output per crop."""
    seen = []
    evaluation = evaluate_crops(labels, lambda path: seen.append(path) or path.stem, load=Path)
    assert [p.name for p in seen] == ["a.png", "b.png", "c.png"]
    assert evaluation.score().word_accuracy == 0.0


def test_an_unreadable_crop_is_wrong_and_reported(labels):
    (labels.parent / "crops" / "b.png").write_bytes(b"not an image")
    said = []
    evaluation = evaluate_crops(labels, by_grey, on_unreadable=lambda path, why: said.append((path.name, why)))
    assert evaluation.predictions == ["dark", "", "light"] and evaluation.confidences == [0.5, 0.0, 0.5]
    assert [p.name for p in evaluation.unreadable] == ["b.png"] and len(evaluation.ms) == 2
    assert said and said[0][0] == "b.png" and "not a supported image" in said[0][1]


def test_the_engine_reader_reads_one_crop_with_the_decoding_asked_for():
    calls = []

    class Engine:
        def read_crops(self, crops, **kw):
            calls.append((len(crops), kw))
            return [SimpleNamespace(text="x", confidence=1.0)]

    read = EngineReader(Engine(), DecodeOptions(beam_width=1, lexicon=("x",), lm_weight=0.0, lm_bonus=0.5))
    assert read(np.zeros((32, 100, 3), np.uint8)).text == "x"
    assert calls == [(1, {"decoding": DecodeOptions(beam_width=1, lexicon=("x",), lm_weight=0.0, lm_bonus=0.5)})]
