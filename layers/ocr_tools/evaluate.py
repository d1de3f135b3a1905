"""Accuracy measures shared by ``ocr eval``, ``ocr eval-scenes`` and the model reports.

Recognition follows the standard protocol: case-insensitive over [0-9a-z]. Detection
is matched one-to-one at IoU >= 0.5 (greedy by IoU).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz.distance import Levenshtein

from ocr_engine.charset import normalize_text

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
    read_right: int = 0

    def add(self, pred: Sequence[tuple[Box, str]], gold: Sequence[tuple[Box, str]]) -> None:
        matches = match_boxes([b for b, _ in pred], [b for b, _ in gold])
        self.predicted += len(pred)
        self.gold += len(gold)
        self.matched += len(matches)
        self.read_right += sum(
            normalize_text(pred[i][1]) == normalize_text(gold[j][1]) for i, j in matches
        )

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


def median(values: Sequence[float]) -> float:
    return float(np.median(values)) if len(values) else 0.0


def recognition_report(predictions: Sequence[str], labels: Sequence[str], ms: Sequence[float],
                       confidences: Sequence[float] | None = None) -> dict:
    """The figures ``ocr eval --json`` prints and ``model/artifacts/metrics.json`` records;
    with the words' confidences, their expected calibration error (``ece``) too."""
    score = recognition_score(predictions, labels)
    report = {"n": score.n, "word_accuracy": round(score.word_accuracy, 4), "cer": round(score.cer, 4),
              "ms_per_crop": round(median(ms), 2)}
    if confidences is not None:
        right = [normalize_text(p) == normalize_text(g) for p, g in zip(predictions, labels, strict=True)]
        report["ece"] = round(expected_calibration_error(confidences, right), 4)
    return report
