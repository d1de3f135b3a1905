"""The recognizer's alphabet and the CTC label convention.

One pinned convention, shared by training, export and serving: index 0 is the CTC
blank, characters take indices 1..N in the order of ``ALPHABET``. The same values are
written into the model's metadata (``model/artifacts/crnn.json``) and checked at load.
"""

from __future__ import annotations

import re

ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
BLANK_INDEX = 0
NUM_CLASSES = len(ALPHABET) + 1  # + the CTC blank

_CHAR_TO_INDEX = {ch: i + 1 for i, ch in enumerate(ALPHABET)}
_OUT_OF_ALPHABET = re.compile(f"[^{ALPHABET}]")


def normalize_text(text: str) -> str:
    """The evaluation protocol's form of a label: lower case, only [0-9a-z]."""
    return _OUT_OF_ALPHABET.sub("", text.lower())


def text_to_indices(text: str) -> list[int]:
    """Label string -> class indices (characters outside the alphabet are dropped)."""
    return [_CHAR_TO_INDEX[ch] for ch in normalize_text(text)]


def indices_to_text(indices: list[int]) -> str:
    """Class indices (already collapsed, blanks removed) -> string."""
    return "".join(ALPHABET[i - 1] for i in indices if i != BLANK_INDEX)
