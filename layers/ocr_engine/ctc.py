"""CTC decoding in NumPy: greedy (fast path), prefix beam search, lexicon-constrained.

Input is the recognizer's per-step probabilities, shape (T, C), with the blank at
``charset.BLANK_INDEX``. Every decoder returns the text and a confidence in [0, 1].
"""

from __future__ import annotations

import functools
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ocr_engine.charset import BLANK_INDEX, indices_to_text, text_to_indices
from ocr_engine.lm import END, CharLM

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
    return Decoded(indices_to_text(chars), conf)


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


def beam_search(probs: np.ndarray, beam_width: int = 10, prune: float = 1e-2, per_step: int = 8,
                lm: CharLM | None = None, lm_weight: float = 0.0, lm_bonus: float = 0.0) -> Decoded:
    """CTC prefix beam search (Hannun et al. 2014), optionally steered by a character LM.

    With ``lm``, beams are ranked by log P_ctc(prefix) + lm_weight * log P_lm(prefix)
    + lm_bonus * characters, the end of the word included (shallow fusion). Every
    character costs LM probability, so without the bonus the fusion favours readings
    that drop a letter; the bonus pays that back. The CTC probabilities themselves stay
    pure, so the confidence is the recognizer's alone: as greedy's when both agree, else
    P_ctc(text)^(1/characters).
    """
    if beam_width <= 1:
        return greedy_decode(probs)
    use_lm = lm is not None and lm_weight > 0
    log_probs = np.log(np.clip(probs, 1e-12, 1.0))
    # Per step, only the ``per_step`` likeliest symbols above the pruning floor, as plain
    # (index, log p) pairs: a region with no text in it has flat outputs, and extending
    # every beam by all 37 symbols at every step made such a region cost ~100 ms.
    likeliest = np.argsort(-probs, axis=1)[:, :per_step]
    steps = [
        [(int(c), float(log_probs[t, c])) for c in likeliest[t] if probs[t, c] >= prune]
        for t in range(log_probs.shape[0])
    ]
    # prefix -> (log P ending in blank, log P ending in non-blank), and the prefix's LM score
    beams: dict[tuple[int, ...], tuple[float, float]] = {(): (0.0, _NEG_INF)}
    lm_score: dict[tuple[int, ...], float] = {(): 0.0}

    def extend(prefix: tuple[int, ...], c: int) -> tuple[int, ...]:
        extended = (*prefix, c)
        if extended not in lm_score:
            fused = lm_weight * float(lm.log_probs(indices_to_text(list(prefix)))[c]) + lm_bonus if use_lm else 0.0
            lm_score[extended] = lm_score[prefix] + fused
        return extended

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
                entry = nxt[extend(prefix, c)]
                if c == last:
                    # A repeat needs a blank between: only the blank-ending mass extends.
                    entry[1] = _logsumexp(entry[1], pb + p)
                    same = nxt[prefix]
                    same[1] = _logsumexp(same[1], pnb + p)
                else:
                    entry[1] = _logsumexp(entry[1], total + p)
        ranked = sorted(nxt.items(), key=lambda kv: _logsumexp(*kv[1]) + lm_score[kv[0]], reverse=True)
        beams = {k: (v[0], v[1]) for k, v in ranked[:beam_width]}

    def final_score(prefix: tuple[int, ...]) -> float:
        score = _logsumexp(*beams[prefix]) + lm_score[prefix]
        if use_lm:
            score += lm_weight * float(lm.log_probs(indices_to_text(list(prefix)))[END])
        return score

    best = max(beams, key=final_score)
    pb, pnb = beams[best]
    text = indices_to_text(list(best))
    if not text:
        return Decoded("", 0.0)
    greedy = greedy_decode(probs)
    if greedy.text == text:
        return greedy  # the same per-character confidence as the fast path
    # P(text) over all alignments, per character: comparable with the greedy figure.
    return Decoded(text, float(np.exp(_logsumexp(pb, pnb) / len(best))))


def digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


# The letters each digit is mistaken for: a "5" inside a word of letters is nearly always an S.
LOOK_ALIKE_LETTERS = {"0": "o", "1": "il", "2": "z", "3": "b", "4": "a", "5": "s", "6": "bg", "7": "t",
                      "8": "b", "9": "gq"}


def stray_digits_read_as_letters(network: str, fused: str) -> bool:
    """Whether ``fused`` only reads as letters the odd digit in a word of letters: the
    network's reading is mostly letters ("5tar", "3ooks", "70uch"), and ``fused`` is the
    same word with each digit turned into a letter it looks like, every letter kept
    ("2nd" never becomes "and", "mp3" never "mps")."""
    n_digits = len(digits(network))
    if len(fused) != len(network) or len(network) - n_digits <= n_digits or not fused.isalpha():
        return False
    return all(f == n or f in LOOK_ALIKE_LETTERS.get(n, "") for n, f in zip(network, fused, strict=True))


def lm_may_overrule(network: str, network_logp: float, fused: str, fused_logp: float, support: float,
                    keep_digits: bool = True) -> bool:
    """Whether the LM-steered reading ``fused`` may replace the network's own ``network``.

    The LM only chooses among readings the network nearly supports: ``fused`` must lie
    within ``support`` nats of the network's reading under the network's own CTC
    probabilities (the LM invented "immigrant" from an unreadable "MICHOACANA"), and it
    may not add, drop or change a digit (an English LM pulls "2002" to "22" and "20p" to
    "2op": it knows words, not numbers), except a stray digit in a word of letters
    (:func:`stray_digits_read_as_letters`; chosen on the dev crops, 5 words won, none lost).
    """
    if fused == network:
        return True
    if keep_digits and digits(fused) != digits(network) and not stray_digits_read_as_letters(network, fused):
        return False
    return fused_logp >= network_logp - support


def gated_beam_search(probs: np.ndarray, beam_width: int, lm: CharLM | None, lm_weight: float,
                      lm_bonus: float, support: float = math.inf, keep_digits: bool = True) -> Decoded:
    """Beam search steered by the LM, kept only where :func:`lm_may_overrule` allows;
    otherwise the network's own beam-search reading."""
    fused = beam_search(probs, beam_width, lm=lm, lm_weight=lm_weight, lm_bonus=lm_bonus)
    if lm is None or lm_weight <= 0 or beam_width <= 1:
        return fused
    if fused.text == greedy_decode(probs).text:
        return fused  # the network's best path reads the same: nothing to overrule (most crops)
    network = beam_search(probs, beam_width)
    if fused.text == network.text:
        return fused
    log_probs = np.log(np.clip(probs, 1e-12, 1.0))
    fused_logp, network_logp = sequence_log_probs(log_probs,
                                                  [text_to_indices(fused.text), text_to_indices(network.text)])
    if lm_may_overrule(network.text, float(network_logp), fused.text, float(fused_logp), support, keep_digits):
        return fused
    return network


def sequence_log_probs(log_probs: np.ndarray, label_seqs: list[list[int]]) -> np.ndarray:
    """log P(labels | probs) over all CTC alignments, for many label sequences at once.

    The forward algorithm, vectorised over the sequences: each is extended with blanks
    (b c1 b c2 ... b) and padded with blanks to the longest. Padding sits after a word's
    last position and the recursion only flows forward, so it never reaches a word's
    own end positions. It runs in probability space, rescaled every step (Graves 2006,
    section 7.3), so each step is products and sums rather than log-add-exps: a
    10,000-word lexicon takes a few hundred milliseconds instead of seconds.
    """
    steps = log_probs.shape[0]
    # A sequence longer than the steps has no alignment: -inf, and it never widens the
    # arrays (a hostile 10,000-character "word" costs nothing).
    fits = np.array([len(seq) <= steps for seq in label_seqs], dtype=bool)
    scores = np.full(len(label_seqs), _NEG_INF)
    if fits.any():
        scores[fits] = _forward_scores(np.exp(log_probs), [s for s, ok in zip(label_seqs, fits, strict=True) if ok])
    return scores


def _forward_scores(probs: np.ndarray, label_seqs: list[list[int]]) -> np.ndarray:
    """The rescaled forward pass of :func:`sequence_log_probs` over sequences that fit."""
    steps = probs.shape[0]
    n = len(label_seqs)
    lengths = np.array([2 * len(seq) + 1 for seq in label_seqs])
    width = max(int(lengths.max(initial=1)), 2)
    ext = np.full((n, width), BLANK_INDEX, dtype=np.int64)
    for i, seq in enumerate(label_seqs):
        ext[i, 1 : 2 * len(seq) : 2] = seq
    # skip[i, s]: alpha[s] may also come from alpha[s-2] (a character unlike the one before)
    skip = np.zeros((n, width), dtype=bool)
    skip[:, 2:] = (ext[:, 2:] != BLANK_INDEX) & (ext[:, 2:] != ext[:, :-2])
    alpha = np.zeros((n, width))
    alpha[:, :2] = probs[0][ext[:, :2]]
    log_scale = np.zeros(n)
    for t in range(steps):
        if t:
            summed = alpha.copy()
            summed[:, 1:] += alpha[:, :-1]
            summed[:, 2:] += np.where(skip[:, 2:], alpha[:, :-2], 0.0)
            alpha = summed * probs[t][ext]
        scale = alpha.sum(axis=1)
        alive = scale > 0
        alpha[alive] /= scale[alive, None]
        with np.errstate(divide="ignore"):  # a word no path can spell scores -inf
            log_scale += np.log(scale)
    rows = np.arange(n)
    end = alpha[rows, lengths - 1] + np.where(lengths > 1, alpha[rows, np.maximum(lengths - 2, 0)], 0.0)
    with np.errstate(divide="ignore"):
        return log_scale + np.log(end)


def sequence_log_prob(log_probs: np.ndarray, labels: list[int]) -> float:
    """log P(labels | probs) summed over all CTC alignments (the forward algorithm)."""
    return float(sequence_log_probs(log_probs, [labels])[0])


# Lexicons larger than this are narrowed before the exact scoring: to the words within
# SHORTLIST_EDITS edits of the lexicon-free reading (the CRNN paper's search, Shi et al.
# 2017, section 2.4), at most SHORTLIST_MOST of them; when none is that close, to the
# SHORTLIST_MOST nearest all the same. Scoring all of 10,000 words costs ~100-300 ms a
# reading, and a request may hold 193 readings: 10,000 words far from every reading
# once took 57 s a scene. The edit distances to every word cost ~2 ms a reading.
SHORTLIST_ABOVE = 500
SHORTLIST_EDITS = 3
SHORTLIST_MOST = 200  # a short reading is within 3 edits of thousands of words: the nearest
MOST_SCORED = max(SHORTLIST_ABOVE, SHORTLIST_MOST)
"""Most words :func:`lexicon_decode` scores exactly for one reading, whatever the lexicon."""
MOST_SEQUENCES = MOST_SCORED + 1
"""...and with the network's own reading (the confidence's rival), the most sequences it
scores for one reading: a request's lexicon work is at most this times its readings."""


@functools.lru_cache(maxsize=4)
def _encoded(lexicon: tuple[str, ...]) -> list[list[int]]:
    # A request's lexicon is scored once per reading (193 in a busy scene at max_regions
    # 64), and encoding 10,000 words costs ~20 ms: once per lexicon is enough.
    return [text_to_indices(word) for word in lexicon]


@functools.lru_cache(maxsize=4)
def _spellings(lexicon: tuple[str, ...]) -> list[str]:
    """The words as the recognizer spells them (normalised), for the shortlist only."""
    return [indices_to_text(label) for label in _encoded(lexicon)]


def shortlist(probs: np.ndarray, lexicon: tuple[str, ...], max_edits: int = SHORTLIST_EDITS,
              most: int = SHORTLIST_MOST) -> list[int]:
    """Indices of the lexicon words nearest the greedy reading (compared as the recognizer
    spells them): those within ``max_edits`` edits, at most ``most`` of them, the nearest
    kept; when none is that close, the ``most`` nearest all the same. Never more than
    ``most``, however long the lexicon and however far its words from the reading."""
    # Imported here: 30-70 ms and 5 MB that every cold start would pay for a path only
    # long lexicons take.
    from rapidfuzz import process
    from rapidfuzz.distance import Levenshtein

    reading = greedy_decode(probs).text
    nearest = process.extract(reading, _spellings(lexicon), scorer=Levenshtein.distance, limit=most)
    close = [index for _, distance, index in nearest if distance <= max_edits]
    return sorted(close or (index for _, _, index in nearest))


NEAR_EDITS = 0.25  # edits per character within which a reading is the list word misread


def _near(reading: str, word: str) -> bool:
    """Whether ``reading`` is ``word`` with a letter or so misread ("livng" for "living"):
    then the list is correcting the network, and its reading is no rival to the word."""
    from rapidfuzz.distance import Levenshtein  # as shortlist's: only a lexicon's reads load it

    # Nothing read is never a word misread, however short the word ("a", "1").
    return bool(reading) and Levenshtein.distance(reading, word) <= max(1, round(NEAR_EDITS * len(word)))


def lexicon_decode(probs: np.ndarray, lexicon: Sequence[str], shortlist_above: int = SHORTLIST_ABOVE) -> Decoded:
    """Pick the lexicon word with the highest CTC probability.

    Each word is scored exactly (forward algorithm over all alignments); words whose
    characters fall outside the alphabet are compared in their normalised form. A
    lexicon of more than ``shortlist_above`` words is first narrowed to the words nearest
    the lexicon-free reading (:func:`shortlist`), so at most ``max(shortlist_above,
    SHORTLIST_MOST)`` words are scored (:data:`MOST_SCORED` with the defaults). Confidence
    is the chosen word's share of the probability among the words scored and the network's
    own best-path reading, when that is none of them: a crop whose word is not in the list
    gets a list word at a low confidence, not at the whole share of a list that holds no
    better one ("GABBANA" read as "bank" at 1.00 against a list of 355 other words).
    """
    if not lexicon:
        raise ValueError("empty lexicon")
    lexicon = tuple(lexicon)
    labels = _encoded(lexicon)
    scored = shortlist(probs, lexicon) if len(lexicon) > shortlist_above else range(len(lexicon))
    log_probs = np.log(np.clip(probs, 1e-12, 1.0))
    words = [labels[i] for i in scored]
    # The network's own reading is scored in the same pass: the chosen word's rival. Reading
    # nothing at all (a crop of texture) is a rival too, the furthest from any word.
    reading = greedy_decode(probs).text
    rival = text_to_indices(reading)
    both = sequence_log_probs(log_probs, [*words, rival])
    scores = both[: len(words)]
    best = int(np.argmax(scores))
    word = lexicon[scored[best]]
    if scores[best] == _NEG_INF:  # no word can be spelled in the steps there are
        return Decoded(word, 0.0)
    competitors = scores
    if rival not in words and not _near(reading, indices_to_text(words[best])):
        competitors = both
    share = float(np.exp(scores[best] - np.logaddexp.reduce(competitors)))
    return Decoded(word, share)
