"""Every request's work is bounded: the words a lexicon read scores, and its time.

The engine runs with a stand-in recognizer (per-step probabilities made up per crop) and a
stand-in detector that returns as many candidates as a request may ask for, all of them
tall (each read four ways: orient.readings_of): the most readings a request can have, with
no model and no timing in the test.
"""

from __future__ import annotations

import dataclasses
import io

import numpy as np
import pytest
from ocr_engine import ctc, pipeline
from ocr_engine.charset import ALPHABET, BLANK_INDEX, NUM_CLASSES, text_to_indices
from ocr_engine.config import Settings
from ocr_engine.detect import Region
from ocr_engine.errors import DeadlineExceeded, OcrError
from ocr_engine.orient import readings_of
from ocr_engine.pipeline import CANDIDATES_PER_REGION, OcrEngine
from ocr_engine.recognize import ModelMetadata
from ocr_engine.schemas import ReadOptions
from PIL import Image

STEPS = 32
SHORT_READINGS = ("", "ab", "open", "hello")  # within 3 edits of many short words


def _peaked(text: str) -> np.ndarray:
    path = [c for i in text_to_indices(text) for c in (i, BLANK_INDEX)]
    path += [BLANK_INDEX] * (STEPS - len(path))
    probs = np.full((STEPS, NUM_CLASSES), 0.03 / (NUM_CLASSES - 1), np.float32)
    probs[np.arange(STEPS), path] = 0.97
    return probs


class StubRecognizer:
    """Junk (random probabilities, long readings) for two crops in three, a short word for the third."""

    def __init__(self) -> None:
        self.metadata = ModelMetadata.read(Settings().metadata_path)  # the shipped model's, as served
        self.rng = np.random.default_rng(0)

    def predict_crops(self, crops: list[np.ndarray], batch_size: int = 16) -> np.ndarray:
        out = []
        for i in range(len(crops)):
            if i % 3 == 2:
                out.append(_peaked(SHORT_READINGS[i % len(SHORT_READINGS)]))
            else:
                logits = self.rng.normal(size=(STEPS, NUM_CLASSES)) * 3
                out.append((np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)).astype(np.float32))
        return np.stack(out)


def _tall_candidates(rgb: np.ndarray, max_candidates: int = 48, max_side: int = 1000) -> list[Region]:
    """As many tall boxes as asked for: every one is read four ways."""
    return [Region((i % 20 * 10, i // 20 * 50, i % 20 * 10 + 8, i // 20 * 50 + 40), 1.0)
            for i in range(max_candidates)]


def _tall_png() -> bytes:
    """Noise (ink in every crop), taller than wide: the whole image is read four ways too."""
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (600, 200, 3), np.uint8)).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def engine(monkeypatch) -> OcrEngine:
    monkeypatch.setattr(pipeline, "detect_candidates", _tall_candidates)
    return OcrEngine(Settings(), StubRecognizer(), lm=None)


@pytest.fixture
def scored(monkeypatch) -> list[int]:
    """Words scored exactly, one entry per reading decoded against the lexicon."""
    counts: list[int] = []
    score = ctc.sequence_log_probs

    def counting(log_probs: np.ndarray, label_seqs: list[list[int]]) -> np.ndarray:
        counts.append(len(label_seqs))
        return score(log_probs, label_seqs)

    monkeypatch.setattr(ctc, "sequence_log_probs", counting)
    return counts


def _words(n: int, low: int, high: int, seed: int) -> tuple[str, ...]:
    rng = np.random.default_rng(seed)
    words: dict[str, None] = {}
    while len(words) < n:
        words["".join(rng.choice(list(ALPHABET), int(rng.integers(low, high + 1))))] = None
    return tuple(words)


LEXICONS = {
    # No word within 3 edits of any reading: all 10,000 used to be scored for every reading.
    "10000 far words": _words(10_000, 24, 32, seed=1),
    "10000 short words near every short reading": _words(10_000, 1, 4, seed=2),
    "500 far words, all scored": _words(500, 24, 32, seed=3),
    "far words and words too long to spell": (*_words(3_000, 24, 32, seed=4), *("z" * n for n in range(33, 1033))),
}


@pytest.mark.parametrize("name", LEXICONS)
def test_the_words_scored_per_request_stay_under_the_cap_whatever_the_lexicon(engine, scored, name):
    # 4 regions keep the test fast; the cap is per reading, so it holds at 64 as at 4
    # (tests/benchmarks/reliability.py measures a busy scene at 64 with a real model).
    lexicon, max_regions = LEXICONS[name], 4
    assert max_regions <= engine.settings.max_regions_limit and len(lexicon) <= engine.settings.max_lexicon
    result = engine.read(_tall_png(), ReadOptions(max_regions=max_regions, lexicon=lexicon))
    assert result.image_size == (200, 600) and all(w.text in lexicon for w in result.words)
    ways = len(readings_of(np.zeros((40, 8, 3), np.uint8)))
    candidates = (max_regions * CANDIDATES_PER_REGION + 1) * ways  # the detected candidates and the whole image
    # and at most one join per word kept and per piece beside one (letter-spaced pieces)
    readings = candidates + 2 * max_regions * ways
    assert ways == 4 and candidates <= len(scored) <= readings  # the most readings such a request can have
    # The cap on a request's lexicon work: per reading, the words kept and the network's own reading.
    assert sum(scored) <= readings * ctc.MOST_SEQUENCES
    if len(lexicon) > ctc.SHORTLIST_ABOVE:
        assert max(scored) <= ctc.SHORTLIST_MOST + 1  # a long lexicon: its nearest words only, never all of it


def test_a_read_past_its_deadline_stops_with_a_typed_error(engine, monkeypatch):
    monkeypatch.setattr(engine, "settings", dataclasses.replace(engine.settings, request_deadline_s=1e-9))
    with pytest.raises(DeadlineExceeded) as caught:
        engine.read(_tall_png(), ReadOptions(lexicon=LEXICONS["10000 far words"]))
    assert isinstance(caught.value, OcrError) and caught.value.code == "deadline_exceeded"
    assert "1e-09 s deadline" in caught.value.message and "max_regions" in caught.value.message


class FakeClock:
    """``time`` for the pipeline: it moves only when a region is decoded, a second each
    (every region here is tall: read four ways, decoded as one (4, T, C) call)."""

    def __init__(self) -> None:
        self.now = 0.0

    def perf_counter(self) -> float:
        return self.now


@pytest.fixture
def clock(engine, monkeypatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(pipeline, "time", fake)
    decode_one = engine._decode_one

    def slow_decode_one(probs: np.ndarray, *args, **kwargs) -> ctc.Decoded:
        if probs.ndim == 3:  # a region's call; its four readings call again, one by one
            fake.now += 1.0
        return decode_one(probs, *args, **kwargs)

    monkeypatch.setattr(engine, "_decode_one", slow_decode_one)
    return fake


def test_the_deadline_is_checked_between_regions(engine, clock, monkeypatch):
    monkeypatch.setattr(engine, "settings", dataclasses.replace(engine.settings, request_deadline_s=5.5))
    with pytest.raises(DeadlineExceeded) as caught:
        engine.read(_tall_png(), ReadOptions(max_regions=4))
    # Six regions decoded (6 s on the clock), then stopped before the seventh of 13.
    assert caught.value.step == "decoding region 7 of 13" and clock.now == 6.0


def test_a_deadline_of_zero_is_no_deadline(engine, clock, monkeypatch):
    monkeypatch.setattr(engine, "settings", dataclasses.replace(engine.settings, request_deadline_s=0.0))
    result = engine.read(_tall_png(), ReadOptions(max_regions=4))
    # 13 regions and up to one join for each of the 4 words kept and the 4 pieces beside them,
    # all decoded: nothing stopped.
    assert 13.0 < clock.now <= 21.0 and result.image_size == (200, 600)
