"""Evaluation: the one evaluator of labelled crops, and the accuracy measures it and
``ocr eval-scenes`` share.

``evaluate_crops`` reads a ``path<TAB>label`` file's crops (decoded as uploads are) with a
reader, by default the engine as served (``EngineReader``), and scores them: ``ocr eval``,
``model.evaluate`` (the shipped metrics), ``model.test_point`` (Keras weights, the engine's
decoding) and ``tests/benchmarks/peer_accuracy`` (Tesseract, RapidOCR) all call it.

Recognition follows the standard protocol: case-insensitive over [0-9a-z]. Detection
is matched one-to-one at IoU >= 0.5 (greedy by IoU).
"""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from ocr_engine.charset import normalize_text
from ocr_engine.config import Settings
from ocr_engine.errors import OcrError
from ocr_engine.imagefile import load_rgb, read_image_file
from ocr_engine.pipeline import DecodeOptions, OcrEngine
from ocr_engine.schemas import ReadOptions
from rapidfuzz.distance import Levenshtein
from tqdm import tqdm

from ocr_tools.labels import Scenes, read_label_file

Box = Sequence[float]


@dataclass(frozen=True)
class RecognitionScore:
    n: int
    word_accuracy: float
    cer: float


def recognition_score(predictions: Sequence[str], labels: Sequence[str]) -> RecognitionScore:
    """Word accuracy and character error rate (edits / reference characters)."""
    if len(predictions) != len(labels):
        raise ValueError("predictions and labels differ in length")
    preds = [normalize_text(p) for p in predictions]
    refs = [normalize_text(g) for g in labels]
    correct = sum(p == g for p, g in zip(preds, refs, strict=True))
    edits = sum(Levenshtein.distance(p, g) for p, g in zip(preds, refs, strict=True))
    chars = sum(len(g) for g in refs)
    n = len(refs)
    return RecognitionScore(n, correct / n if n else 0.0, edits / chars if chars else 0.0)


def expected_calibration_error(confidences: Sequence[float], correct: Sequence[bool], bins: int = 10) -> float:
    """ECE: over ``bins`` equal-width confidence bins, the mean |accuracy - confidence|,
    weighted by each bin's share of the words (Guo et al. 2017)."""
    conf = np.asarray(confidences, dtype=float)
    right = np.asarray(correct, dtype=float)
    if conf.size == 0:
        return 0.0
    which = np.minimum((conf * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            total += inside.mean() * abs(right[inside].mean() - conf[inside].mean())
    return float(total)


def iou(a: Box, b: Box) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def match_boxes(pred: Sequence[Box], gold: Sequence[Box], threshold: float = 0.5) -> list[tuple[int, int]]:
    """One-to-one matches (pred index, gold index) with IoU >= threshold, best first."""
    pairs = sorted(
        ((iou(p, g), i, j) for i, p in enumerate(pred) for j, g in enumerate(gold)), reverse=True
    )
    used_p, used_g, matches = set(), set(), []
    for value, i, j in pairs:
        if value < threshold:
            break
        if i in used_p or j in used_g:
            continue
        used_p.add(i)
        used_g.add(j)
        matches.append((i, j))
    return matches


@dataclass
class SceneScore:
    """Accumulates detection and end-to-end counts over scenes."""

    predicted: int = 0
    gold: int = 0
    matched: int = 0
    # Per labelled word, in the scenes' order: found (IoU >= 0.5) and read right. Two readers'
    # lists pair up word by word (model.scene_compare).
    words_right: list[bool] = field(default_factory=list)

    @property
    def read_right(self) -> int:
        return sum(self.words_right)

    def add(self, pred: Sequence[tuple[Box, str]], gold: Sequence[tuple[Box, str]]) -> None:
        matches = match_boxes([b for b, _ in pred], [b for b, _ in gold])
        self.predicted += len(pred)
        self.gold += len(gold)
        self.matched += len(matches)
        right = [False] * len(gold)
        for i, j in matches:
            right[j] = normalize_text(pred[i][1]) == normalize_text(gold[j][1])
        self.words_right += right

    def to_dict(self) -> dict:
        p = self.matched / self.predicted if self.predicted else 0.0
        r = self.matched / self.gold if self.gold else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return {
            "scenes_words": self.gold,
            "precision": round(p, 4),
            "recall": round(r, 4),
            "f1": round(f, 4),
            # Gold words both found (IoU >= 0.5) and read right, over all gold words.
            "end_to_end_word_accuracy": round(self.read_right / self.gold, 4) if self.gold else 0.0,
        }


@dataclass
class SceneRun:
    """Scenes read by one engine: the scores, each read scene's time and the unreadable count."""

    score: SceneScore
    ms: list[float]
    unreadable: int

    def report(self) -> dict:
        """What ``ocr eval-scenes --json`` prints."""
        return {"scenes": len(self.ms) + self.unreadable, **self.score.to_dict(), "ms_per_scene": median(self.ms, 1),
                "unreadable": self.unreadable}


def score_scenes(engine: OcrEngine, scenes: Scenes, max_regions: int | None = None, *,
                 progress: bool = False) -> SceneRun:
    """Read every scene as the engine serves it (``max_regions`` words at most) and score its
    words against the labelled ones; a scene that cannot be read counts its words as missed."""
    run = SceneRun(SceneScore(), [], 0)
    for path, gold in tqdm(scenes, desc="scenes", disable=not progress):
        t = time.perf_counter()
        try:
            result = engine.read(read_image_file(path, engine.settings), ReadOptions(max_regions=max_regions))
        except (OSError, OcrError) as exc:
            print(f"{path}: unreadable ({error_reason(exc)}), its words counted as missed", file=sys.stderr)
            run.score.add([], gold)
            run.unreadable += 1
            continue
        run.ms.append((time.perf_counter() - t) * 1000)
        run.score.add([(w.bbox, w.text) for w in result.words], gold)
    return run


def median(values: Sequence[float], digits: int) -> float | None:
    """The median, rounded to ``digits``; None when there is none (nothing was timed: 0 ms
    would read as a measurement)."""
    return round(float(np.median(values)), digits) if len(values) else None


def recognition_report(predictions: Sequence[str], labels: Sequence[str], ms: Sequence[float],
                       confidences: Sequence[float] | None = None) -> dict:
    """The figures ``ocr eval --json`` prints and ``model/artifacts/metrics.json`` records;
    with the words' confidences, their expected calibration error (``ece``) too."""
    score = recognition_score(predictions, labels)
    report = {"n": score.n, "word_accuracy": round(score.word_accuracy, 4), "cer": round(score.cer, 4),
              "ms_per_crop": median(ms, 2)}
    if confidences is not None:
        right = [normalize_text(p) == normalize_text(g) for p, g in zip(predictions, labels, strict=True)]
        report["ece"] = round(expected_calibration_error(confidences, right), 4)
    return report


# -- the evaluator of labelled crops ----------------------------------------------------------
class CropReading(Protocol):
    """What a reader answers for a crop (``ocr_engine.ctc.Decoded`` is one)."""

    text: str
    confidence: float


CropReader = Callable[[Any], "CropReading | str"]
"""One crop (as ``load`` gave it) -> its reading, or only its text (no confidence: no ECE)."""
Rows = Sequence[tuple[Path, str]]


@dataclass(frozen=True)
class EngineReader:
    """Reads a crop as the engine serves word crops (``OcrEngine.read_crops``: the margin, the
    recognizer, every way for a tall crop, beam search with the LM, calibrated confidence);
    ``decoding``'s options left at None take the engine's settings."""

    engine: Any  # an OcrEngine, or anything with its read_crops
    decoding: DecodeOptions = DecodeOptions()

    def __call__(self, crop: np.ndarray) -> CropReading:
        return self.engine.read_crops([crop], decoding=self.decoding)[0]


def error_reason(exc: Exception) -> str:
    """``[Errno 2] No such file or directory: 'x'`` -> ``no such file or directory``; an
    engine error's own message."""
    if isinstance(exc, OSError):
        return (exc.strerror or str(exc)).lower()
    return str(exc)


def _say_unreadable(path: Path, reason: str) -> None:
    print(f"{path}: unreadable ({reason}), counted as wrong", file=sys.stderr)


@dataclass
class CropEvaluation:
    """Each crop's reading, in the labels file's order; ``report()`` is the scores ``ocr eval
    --json`` prints (beside the ``unreadable`` count). An unreadable crop reads "" at
    confidence 0 (wrong) and has no time."""

    rows: list[tuple[Path, str]]
    predictions: list[str] = field(default_factory=list)
    confidences: list[float] | None = field(default_factory=list)
    ms: list[float] = field(default_factory=list)
    unreadable: list[Path] = field(default_factory=list)

    @property
    def labels(self) -> list[str]:
        return [label for _, label in self.rows]

    def score(self) -> RecognitionScore:
        return recognition_score(self.predictions, self.labels)

    def report(self) -> dict:
        return recognition_report(self.predictions, self.labels, self.ms, self.confidences)

    def wrong(self) -> list[tuple[Path, str, str]]:
        """(path, label, reading) of every crop read wrong."""
        return [(path, label, pred) for (path, label), pred in zip(self.rows, self.predictions, strict=True)
                if normalize_text(pred) != normalize_text(label)]


def evaluate_crops(labels: Path | Rows, read: CropReader, *, limit: int | None = None,
                   settings: Settings | None = None, load: Callable[[Path], Any] | None = None,
                   progress: str | None = None,
                   on_unreadable: Callable[[Path, str], None] | None = _say_unreadable) -> CropEvaluation:
    """Reads every labelled crop with ``read`` and keeps its reading, confidence and time.

    ``labels``: a ``path<TAB>label`` file (``labels.read_label_file``, every label required)
    or its rows; ``limit``: the first N only. Each crop is ``load(path)``, by default decoded
    as an upload is (``load_rgb`` at ``settings``); one that cannot be (OSError, OcrError) is
    counted as wrong and reported to ``on_unreadable(path, reason)``. The time is that of
    ``read`` alone, one crop at a time. ``progress``: a progress bar on stderr with this label.
    """
    rows = read_label_file(labels, require_labels=True) if isinstance(labels, Path) else list(labels)
    rows = rows[:limit] if limit else rows
    load = load or functools.partial(load_rgb, settings=settings)
    out = CropEvaluation(rows)
    confidences: list[float] = []
    has_confidence = True
    for path, _ in tqdm(rows, desc=progress, unit="crop", disable=progress is None):
        try:
            crop = load(path)
        except (OSError, OcrError) as exc:
            if on_unreadable is not None:
                on_unreadable(path, error_reason(exc))
            out.unreadable.append(path)
            out.predictions.append("")
            confidences.append(0.0)
            continue
        t = time.perf_counter()
        reading = read(crop)
        out.ms.append((time.perf_counter() - t) * 1000)
        if isinstance(reading, str):
            has_confidence = False
            out.predictions.append(reading)
        else:
            out.predictions.append(reading.text)
            confidences.append(reading.confidence)
    out.confidences = confidences if has_confidence else None
    return out
