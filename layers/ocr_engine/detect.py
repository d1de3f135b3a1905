"""Word-region candidates, classical: morphological gradient, Otsu, horizontal closing.

Measured on svt_train (model/README.md, "Detection"): this finds about half of the labelled
words among its candidates in ~50 ms a scene, where MSER character grouping found a
quarter in ~260 ms. The candidates are many (windows and railings look like text to
any classical detector), so the pipeline recognizes them all in one batch and keeps
the ``max_regions`` most confident readings: the recognizer is the text verifier.

1. Shrink the scene so its longest side is at most ``max_side`` (a strip longer than 4:1, a
   panorama, to the pixels of a 4:1 image instead: ``detection_scale``).
2. Morphological gradient (edges of strokes), binarised with Otsu.
3. Close with short horizontal bars so letters of one word merge (several bar
   lengths, since letter spacing varies with the text size).
4. Connected components with a word's geometry become candidates.
5. Steps 2-4 again on the scene at half that size, where a large word's letters close up
   (svt_train: 139 labelled words among 24 candidates instead of 129, 13 ms more a scene);
   near-duplicates across all the passes are suppressed; reading order sorts the final boxes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, TypeVar

import cv2
import numpy as np

from ocr_engine.preprocess import WORD_MARGIN

Box = tuple[int, int, int, int]  # x1, y1, x2, y2

GRADIENT_KERNELS = (3, 5)
CLOSING_WIDTHS = (5, 9, 15)
MIN_FILL = 0.25  # share of the box covered by edge pixels
NMS_IOU = 0.5
MIN_EDGE = 40  # weakest gradient counted as a stroke edge (0-255)
# The scene at the detection scale, then at half of it: the letters of a large word can stand
# further apart than the widest closing bar, and merge into one word only at half the size.
PASSES = (1.0, 0.5)
STRIP_ASPECT = 4.0  # longer than this, an image is shrunk by its pixel count, not its long side


@dataclass(frozen=True)
class Region:
    bbox: Box
    score: float


def _components(gray: np.ndarray) -> list[tuple[Box, float]]:
    """Candidate boxes (in the shrunken image) with a classical 'textness' score."""
    h, w = gray.shape
    found = []
    for k in GRADIENT_KERNELS:
        ellipse = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
        grad = cv2.morphologyEx(gray, cv2.MORPH_GRADIENT, ellipse)
        otsu, _ = cv2.threshold(grad, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
        # Otsu always splits the histogram, even one of pure noise: floor it.
        _, edges = cv2.threshold(grad, max(otsu, MIN_EDGE), 255, cv2.THRESH_BINARY)
        for bar in CLOSING_WIDTHS:
            closed = cv2.morphologyEx(edges, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (bar, 1)))
            _, _, stats, _ = cv2.connectedComponentsWithStats(closed, connectivity=8)
            for x, y, bw, bh, area in stats[1:]:
                if bh < 8 or bw < 0.8 * bh or bh > 0.4 * h or bw > 0.9 * w:
                    continue
                fill = area / (bw * bh)
                if fill < MIN_FILL:
                    continue
                found.append(((int(x), int(y), int(x + bw), int(y + bh)), float(fill * np.sqrt(bw * bh))))
    return found


def _components_at(gray: np.ndarray, scale: float, factor: float) -> list[tuple[Box, float]]:
    """``_components`` of ``gray`` shrunk to ``scale``, boxes given at ``scale / factor`` (the
    detection scale), where the passes' candidates compete for the same slots."""
    h, w = gray.shape
    if scale < 1.0:
        gray = cv2.resize(gray, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    # The score (fill times the box's side) stays as found: at half the size a word's side
    # halves, but its edges, as thick as before against thinner strokes, fill twice as much.
    return [((round(x1 / factor), round(y1 / factor), round(x2 / factor), round(y2 / factor)), score)
            for (x1, y1, x2, y2), score in _components(gray)]


def _suppress(cands: list[tuple[Box, float]], iou_limit: float = NMS_IOU) -> list[tuple[Box, float]]:
    """Non-maximum suppression: the passes find the same word several times."""
    if not cands:
        return []
    boxes = np.array([b for b, _ in cands], np.float32)
    scores = np.array([s for _, s in cands], np.float32)
    idx = cv2.dnn.NMSBoxes(
        [[b[0], b[1], b[2] - b[0], b[3] - b[1]] for b in boxes.tolist()], scores.tolist(), 0.0, iou_limit
    )
    return [cands[int(i)] for i in np.array(idx).reshape(-1)]


class Boxed(Protocol):
    bbox: tuple[int, int, int, int]


_B = TypeVar("_B", bound=Boxed)


def reading_order(regions: list[_B]) -> list[_B]:
    """Regions, words or anything with a ``bbox``: lines top to bottom (a box joins a line
    when its centre is inside it), then x."""
    lines: list[list[_B]] = []
    for r in sorted(regions, key=lambda r: (r.bbox[1] + r.bbox[3]) / 2):
        cy = (r.bbox[1] + r.bbox[3]) / 2
        for line in lines:
            if min(x.bbox[1] for x in line) <= cy <= max(x.bbox[3] for x in line):
                line.append(r)
                break
        else:
            lines.append([r])
    return [r for line in lines for r in sorted(line, key=lambda r: r.bbox[0])]


def detection_scale(h: int, w: int, max_side: int) -> float:
    """The shrinking the detector works at: the long side to ``max_side``, but a strip longer
    than 4:1 keeps the pixels of a 4:1 image (its long side past ``max_side``). A 20000 x 200
    panorama at a 1600 px long side would leave its words 1-7 px high, under any stroke."""
    long_side, short_side = max(h, w), max(1, min(h, w))
    scale = max_side / long_side
    aspect = long_side / short_side
    if aspect > STRIP_ASPECT:
        scale *= (aspect / STRIP_ASPECT) ** 0.5
    return min(1.0, scale)


def detect_candidates(rgb: np.ndarray, max_candidates: int = 48, max_side: int = 1000) -> list[Region]:
    """Up to ``max_candidates`` word boxes in image coordinates, best classical score first."""
    h, w = rgb.shape[:2]
    scale = detection_scale(h, w, max_side)
    gray = rgb if rgb.ndim == 2 else cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    found = []
    for factor in PASSES:
        found += _components_at(gray, scale * factor, factor)
    kept = _suppress(found)
    kept.sort(key=lambda c: -c[1])
    regions = []
    for (x1, y1, x2, y2), score in kept[:max_candidates]:
        pad = int(WORD_MARGIN * (y2 - y1)) + 1  # the closing hugs the strokes; give the recognizer margin
        regions.append(Region(
            (max(0, int((x1 - pad) / scale)), max(0, int((y1 - pad) / scale)),
             min(w, int((x2 + pad) / scale)), min(h, int((y2 + pad) / scale))),
            score,
        ))
    return regions


def whole_image_region(rgb: np.ndarray) -> Region:
    h, w = rgb.shape[:2]
    return Region((0, 0, w, h), 1.0)
