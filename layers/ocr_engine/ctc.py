"""CTC decoding in NumPy: greedy (fast path), prefix beam search, lexicon-constrained.

Input is the recognizer's per-step probabilities, shape (T, C), with the blank at
``charset.BLANK_INDEX``. Every decoder returns the text and a confidence in [0, 1].
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from ocr_engine.charset import BLANK_INDEX, decode_indices, encode

_NEG_INF = -np.inf


@dataclass(frozen=True)
class Decoded:
    text: str
    confidence: float


def greedy_decode(probs: np.ndarray) -> Decoded:
    """Best path: argmax per step, collapse repeats, drop blanks.

    Confidence is per character, not per step: the geometric mean of each emitted
    character's peak probability. (Averaging over all 32 steps would let the blank
    frames around a single dubious character make it look certain.)
    """
    best = probs.argmax(axis=-1)
    step_p = probs[np.arange(len(best)), best]
    peaks, chars = [], []
    for t, c in enumerate(best):
        if c == BLANK_INDEX:
            continue
        if t > 0 and best[t - 1] == c:
            peaks[-1] = max(peaks[-1], float(step_p[t]))  # same character, still
        else:
            chars.append(int(c))
            peaks.append(float(step_p[t]))
    if not chars:
        return Decoded("", 0.0)
    conf = float(np.exp(np.mean(np.log(np.clip(peaks, 1e-12, 1.0)))))
    return Decoded(decode_indices(chars), conf)


def greedy_decode_batch(probs: np.ndarray) -> list[Decoded]:
    return [greedy_decode(p) for p in probs]


def _logsumexp(a: float, b: float) -> float:
    # Plain floats and math: the beam loop calls this ~10^4 times per word, and NumPy
    # scalar arithmetic costs ten times more per call.
    if a == _NEG_INF:
        return b
    if b == _NEG_INF:
        return a
    if a < b:
        a, b = b, a
    return a + math.log1p(math.exp(b - a))


def beam_search(probs: np.ndarray, beam_width: int = 10, prune: float = 1e-4) -> Decoded:
    """CTC prefix beam search (Hannun et al. 2014) without a language model.

    Confidence: as greedy's when both agree, else P(text)^(1/characters).
    """
    if beam_width <= 1:
        return greedy_decode(probs)
    log_probs = np.log(np.clip(probs, 1e-12, 1.0))
    # Per step, only the characters above the pruning floor, as plain (index, log p) pairs.
    steps = [
        [(int(c), float(log_probs[t, c])) for c in np.flatnonzero(probs[t] >= prune)]
        for t in range(log_probs.shape[0])
    ]
    # prefix -> (log P ending in blank, log P ending in non-blank)
    beams: dict[tuple[int, ...], tuple[float, float]] = {(): (0.0, _NEG_INF)}
    for candidates in steps:
        nxt: dict[tuple[int, ...], list[float]] = defaultdict(lambda: [_NEG_INF, _NEG_INF])
        for prefix, (pb, pnb) in beams.items():
            total = _logsumexp(pb, pnb)
            for c, p in candidates:
                if c == BLANK_INDEX:
                    entry = nxt[prefix]
                    entry[0] = _logsumexp(entry[0], total + p)
                    continue
                last = prefix[-1] if prefix else None
                extended = (*prefix, c)
                entry = nxt[extended]
                if c == last:
                    # A repeat needs a blank between: only the blank-ending mass extends.
                    entry[1] = _logsumexp(entry[1], pb + p)
                    same = nxt[prefix]
                    same[1] = _logsumexp(same[1], pnb + p)
                else:
                    entry[1] = _logsumexp(entry[1], total + p)
        ranked = sorted(nxt.items(), key=lambda kv: _logsumexp(*kv[1]), reverse=True)
        beams = {k: (v[0], v[1]) for k, v in ranked[:beam_width]}
    best, (pb, pnb) = max(beams.items(), key=lambda kv: _logsumexp(*kv[1]))
    text = decode_indices(list(best))
    if not text:
        return Decoded("", 0.0)
    greedy = greedy_decode(probs)
    if greedy.text == text:
        return greedy  # the same per-character confidence as the fast path
    # P(text) over all alignments, per character: comparable with the greedy figure.
    return Decoded(text, float(np.exp(_logsumexp(pb, pnb) / len(best))))


def sequence_log_prob(log_probs: np.ndarray, labels: list[int]) -> float:
    """log P(labels | probs) summed over all CTC alignments (the forward algorithm)."""
    steps = log_probs.shape[0]
    ext = [BLANK_INDEX]
    for c in labels:
        ext += [c, BLANK_INDEX]
    s = len(ext)
    if len(labels) > steps:
        return _NEG_INF
    alpha = np.full(s, _NEG_INF)
    alpha[0] = log_probs[0, ext[0]]
    if s > 1:
        alpha[1] = log_probs[0, ext[1]]
    ext_arr = np.array(ext)
    # skip[i]: alpha[i] may also come from alpha[i-2] (a non-blank differing from i-2)
    skip = np.zeros(s, dtype=bool)
    skip[2:] = (ext_arr[2:] != BLANK_INDEX) & (ext_arr[2:] != ext_arr[:-2])
    for t in range(1, steps):
        prev = alpha
        a1 = np.concatenate([[_NEG_INF], prev[:-1]])
        a2 = np.where(skip, np.concatenate([[_NEG_INF, _NEG_INF], prev[:-2]]), _NEG_INF)
        alpha = np.logaddexp(np.logaddexp(prev, a1), a2) + log_probs[t, ext_arr]
    return float(np.logaddexp(alpha[-1], alpha[-2]) if s > 1 else alpha[-1])


def lexicon_decode(probs: np.ndarray, lexicon: list[str]) -> Decoded:
    """Pick the lexicon word with the highest CTC probability.

    Each word is scored exactly (forward algorithm over all alignments); words whose
    characters fall outside the alphabet are compared in their normalised form.
    Confidence is the chosen word's share of the probability among the lexicon words.
    """
    if not lexicon:
        raise ValueError("empty lexicon")
    log_probs = np.log(np.clip(probs, 1e-12, 1.0))
    scores = np.array([sequence_log_prob(log_probs, encode(word)) for word in lexicon])
    i = int(np.argmax(scores))
    share = float(np.exp(scores[i] - np.logaddexp.reduce(scores)))
    return Decoded(lexicon[i], share)


