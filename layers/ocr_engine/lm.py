"""A character n-gram language model of English words, to steer CTC beam search.

Built offline by ``model/charlm.py`` (from wordfreq's word list, never from labelled
data) and shipped as ``model/artifacts/charlm.npz``: every context of up to ORDER-1
characters seen in the word list, with its smoothed distribution over the next
symbol. Index 0 is the end of the word (where the CTC blank sits in the recognizer's
classes), 1..36 the characters of ``charset.ALPHABET``, so a beam can add
``weight * log P(c | prefix)`` using the recognizer's own class index.

Contexts never seen fall back to their longest seen suffix; the empty context is
always there, so every lookup succeeds.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from ocr_engine.charset import NUM_CLASSES, normalize_text, text_to_indices
from ocr_engine.errors import ModelUnavailable

END = 0  # end of word: the index the CTC blank has among the recognizer's classes
START = "^"  # pads the context at the start of a word


class CharLM:
    """``log_probs(prefix)`` -> log P(next symbol | prefix) over the NUM_CLASSES symbols."""

    def __init__(self, contexts: list[str], log_probs: np.ndarray):
        if log_probs.shape != (len(contexts), NUM_CLASSES) or "" not in contexts:
            raise ValueError("a language model needs one distribution per context, the empty one included")
        self.order = max(len(c) for c in contexts) + 1
        self._rows = dict(zip(contexts, range(len(contexts)), strict=True))
        self._log_probs = log_probs.astype(np.float32)

    @classmethod
    def load(cls, path: Path) -> CharLM:
        try:
            with np.load(path, allow_pickle=False) as data:
                # tolist(): an order of magnitude faster than str() per element at cold start
                return cls(data["contexts"].tolist(), data["log_probs"])
        except (OSError, KeyError, ValueError) as exc:
            raise ModelUnavailable(f"language model {path} is missing or unreadable: {exc}") from exc

    def save(self, path: Path) -> None:
        contexts = sorted(self._rows, key=self._rows.get)
        np.savez_compressed(path, contexts=np.array(contexts), log_probs=self._log_probs.astype(np.float16))

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - one LM per process; a scene asks for each word often
    def word_log_prob(self, word: str) -> float:
        """log P(word) as a whole word: each character after the ones before it, then the end.
        Read as the recognizer spells it (``text_to_indices``): a lexicon word may hold capitals,
        accents or punctuation."""
        symbols = [*text_to_indices(word), END]
        spelled = normalize_text(word)
        # Only the last order - 1 letters are context: the cache keeps short keys for a long word.
        contexts = (spelled[max(0, i - self.order + 1) : i] for i in range(len(symbols)))
        return float(sum(self.log_probs(context)[symbol] for context, symbol in zip(contexts, symbols, strict=True)))

    @functools.lru_cache(maxsize=65536)  # noqa: B019 - one LM per process, loaded once
    def log_probs(self, prefix: str) -> np.ndarray:
        context = (START * (self.order - 1) + prefix)[len(prefix) :] if self.order > 1 else ""
        while context not in self._rows:
            context = context[1:]
        return self._log_probs[self._rows[context]]
