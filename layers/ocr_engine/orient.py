"""Tall word crops: other ways to read them.

The recognizer reads one horizontal line, left to right. A crop much taller than wide is
a single character, a word turned on its side (a spine, a vertical banner) or letters
stacked upright one above another (a hotel sign); the last two read as junk as they are.
So a tall crop is also read turned a quarter either way and with its letters laid side
by side, and the surest reading wins (:meth:`ocr_engine.pipeline.OcrEngine` picks it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import cv2
import numpy as np

# Taller than this share of the width: a word laid out left to right is rarely this tall.
TALL_ASPECT = 1.5


def is_tall(crop: np.ndarray) -> bool:
    h, w = crop.shape[:2]
    return w > 0 and h > TALL_ASPECT * w


def stacked_as_row(crop: np.ndarray) -> np.ndarray:
    """Cut a crop of upright stacked letters into about-square pieces, top to bottom, and
    lay them side by side, left to right."""
    h, w = crop.shape[:2]
    pieces = max(1, round(h / w))
    edges = np.linspace(0, h, pieces + 1).round().astype(int)
    rows = [crop[a:b] for a, b in zip(edges[:-1], edges[1:], strict=True) if b > a]
    height = min(r.shape[0] for r in rows)
    return np.hstack([r[:height] for r in rows])


def readings_of(crop: np.ndarray) -> list[np.ndarray]:
    """The crop itself, and for a tall crop also its other readings (turned clockwise,
    turned anticlockwise, stacked letters side by side)."""
    if not is_tall(crop):
        return [crop]
    return [crop, cv2.rotate(crop, cv2.ROTATE_90_CLOCKWISE), cv2.rotate(crop, cv2.ROTATE_90_COUNTERCLOCKWISE),
            stacked_as_row(crop)]


def read_every_way(predict: Callable[[list[np.ndarray]], np.ndarray], crops: Sequence[np.ndarray],
                   read_tall: bool = True) -> list[np.ndarray]:
    """Crops -> per crop, ``predict``'s probabilities for each way of reading it (one, or
    four for a tall crop), stacked (k, T, C); every reading of every crop in one call."""
    variants = [readings_of(c) if read_tall else [c] for c in crops]
    flat = predict([v for vs in variants for v in vs])
    ends = np.cumsum([len(vs) for vs in variants])
    return [flat[end - len(vs) : end] for vs, end in zip(variants, ends, strict=True)]
