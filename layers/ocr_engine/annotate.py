"""Draw numbered word boxes and their readings on the image, compressed to fit a response.

A Lambda response carries at most 6,291,456 bytes and the annotated image travels in it
base64-encoded, so the image is a JPEG, shrunk to ``annotate_max_side`` and then, quality
and size step by step, until it fits ``max_annotated_bytes`` (config.py), both given by the
caller (the API passes its engine's settings). When even the smallest step does not fit, there
is no image (``annotated_b64`` is null) and ``Annotation.note`` says why; the caller logs it.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

import cv2
import numpy as np

from ocr_engine.schemas import Word

_BOX = (0, 200, 255)  # BGR: amber boxes read on dark and light scenes
_TEXT_BG = (30, 30, 30)
# Labels are sized for the page, which shows the image 270 (phone) to 580 (desktop) CSS
# px wide and never larger than it is: a label's capitals are _LABEL_PX tall at
# _DISPLAY_WIDTH, so their height in the image grows with its width past that (9 px on a
# phone, 20 on a desktop for a 1280-wide photo; 14 at its own size for a small image).
_LABEL_PX = 14
_DISPLAY_WIDTH = 400
_FONT = cv2.FONT_HERSHEY_SIMPLEX
_CAP, _DESCENT = 22, 7  # the font's capital height and descent, in pixels at scale 1
_QUALITIES = (85, 70, 50)  # JPEG quality ladder, tried at each size before shrinking
_SHRINK = 0.75  # each further size step, times the longest side
MIN_SIDE = 160  # below this the boxes and labels are unreadable: drop the image instead


@dataclass(frozen=True)
class Annotation:
    """The annotated image (None when it could not fit) and what was done to it."""

    data: bytes | None = field(repr=False)
    mime: str | None
    width: int = 0
    height: int = 0
    note: str | None = None

    @property
    def b64(self) -> str | None:
        """The image as a response's ``annotated_b64`` (a JPEG: its first bytes say so), or
        None when it did not fit (``note`` says why)."""
        return None if self.data is None else base64.b64encode(self.data).decode("ascii")


def _draw(src: np.ndarray, words: list[Word], side: int) -> np.ndarray:
    """-> the BGR image with its boxes, its longest side at most ``side``."""
    h, w = src.shape[:2]
    scale = min(1.0, side / max(h, w))
    img = cv2.cvtColor(src[..., :3], cv2.COLOR_RGB2BGR)
    if scale < 1.0:
        img = cv2.resize(img, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    thick = max(1, round(max(img.shape[:2]) / 400))
    boxes = [tuple(round(v * scale) for v in word.bbox) for word in words]
    for b in boxes:
        cv2.rectangle(img, b[:2], b[2:], _BOX, thick)
    _draw_labels(img, words, boxes, _BOX, _TEXT_BG)
    return img


def _draw_labels(img: np.ndarray, words: list[Word], boxes: list[tuple[int, ...]], color: tuple, bg: tuple) -> None:
    """Each box's label, ``"3 coffee"`` where that fits beside the box without covering
    another label or word, else its number alone where it covers least."""
    h, w = img.shape[:2]
    text_px = _LABEL_PX * max(1.0, w / _DISPLAY_WIDTH)
    font_scale = text_px / _CAP
    weight = max(1, round(text_px / 9))
    pad = max(2, round(text_px / 6))
    all_boxes = np.array(boxes, np.int64).reshape(-1, 4)
    placed = np.zeros((0, 4), np.int64)
    for i, (word, own) in enumerate(zip(words, boxes, strict=True), start=1):
        others = np.delete(all_boxes, i - 1, axis=0)
        best = None
        for label in (f"{i} {word.text}", str(i)):
            tw = cv2.getTextSize(label, _FONT, font_scale, weight)[0][0]
            spots = _label_spots(own, (tw + 2 * pad, round((_CAP + _DESCENT) * font_scale) + 2 * pad), w, h)
            cost = (10 * _overlap(spots, placed) + 3 * _overlap(spots, others)
                    + _overlap(spots, np.array([own])))
            k = int(np.argmin(cost))  # the first of the least covering spots
            if best is None or cost[k] < best[0]:
                best = (cost[k], label, tuple(int(v) for v in spots[k]))
            if best[0] == 0:  # the whole label fits in the clear: no need to shorten it
                break
        _, label, (lx1, ly1, lx2, ly2) = best
        cv2.rectangle(img, (lx1, ly1), (lx2 - 1, ly2 - 1), bg, -1)
        cv2.putText(img, label, (lx1 + pad, ly1 + pad + round(_CAP * font_scale)), _FONT, font_scale, color,
                    weight, cv2.LINE_AA)
        placed = np.vstack([placed, [(lx1, ly1, lx2, ly2)]])


def _label_spots(own: tuple[int, ...], size: tuple[int, int], w: int, h: int) -> np.ndarray:
    """Where a label of ``size`` may go, best first, as (x1, y1, x2, y2) rows: above the
    box, below it, at its right end above and below, beside it, inside its corner; each
    moved inside the image."""
    x1, y1, x2, y2 = own
    lw, lh = size
    spots = np.array([(x1, y1 - lh), (x1, y2 + 1), (x2 - lw, y1 - lh), (x2 - lw, y2 + 1), (x2 + 1, y1),
                      (x1 - lw, y1), (x1, y1)], np.int64)
    spots[:, 0] = np.clip(spots[:, 0], 0, max(0, w - lw))
    spots[:, 1] = np.clip(spots[:, 1], 0, max(0, h - lh))
    return np.hstack([spots, spots + (lw, lh)])


def _overlap(spots: np.ndarray, rects: np.ndarray) -> np.ndarray:
    """For each spot, the pixels it shares with ``rects`` (all (x1, y1, x2, y2) rows), summed."""
    if len(rects) == 0:
        return np.zeros(len(spots), np.int64)
    a, b = spots[:, None, :], rects[None, :, :]
    dx = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    dy = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    return (dx * dy).sum(axis=1)


def _encode(img: np.ndarray, quality: int) -> bytes:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality, cv2.IMWRITE_JPEG_OPTIMIZE, 1])
    if not ok:
        raise RuntimeError("encoding the annotated image failed")
    return buf.tobytes()


def render(rgb: np.ndarray, words: list[Word], max_side: int, max_bytes: int) -> Annotation:
    """The image with numbered boxes as a JPEG, at most ``max_side`` long and ``max_bytes``
    big (the settings' ``annotate_max_side`` and ``max_annotated_bytes``).

    ``rgb`` is H×W×3 RGB, as the engine decodes every image (``DecodedImage.rgb``: a
    transparent PNG is flattened there, so the JPEG loses nothing of it).
    """
    longest = max(rgb.shape[:2])
    side = min(max_side, longest)
    smallest = 0
    while True:
        img = _draw(rgb, words, side)
        for quality in _QUALITIES:
            data = _encode(img, quality)
            if len(data) <= max_bytes:
                h, w = img.shape[:2]
                shrunk = max(h, w) < min(max_side, longest)
                note = (f"the annotated image was shrunk to {w}x{h} to fit {max_bytes:,} bytes"
                        if shrunk else None)
                return Annotation(data, "image/jpeg", w, h, note)
            smallest = len(data)
        if side <= MIN_SIDE:
            break
        # Bytes grow about with the area: aim straight at the budget, but shrink at least a step.
        side = max(MIN_SIDE, min(round(side * _SHRINK), round(side * (max_bytes / smallest) ** 0.5)))
    return Annotation(None, None, note=(
        f"annotation dropped: even at {side} px on its longest side the annotated image takes "
        f"{smallest:,} bytes, over the {max_bytes:,}-byte budget of a response"))

