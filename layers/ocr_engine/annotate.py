"""Draw numbered word boxes and their readings on the image, as PNG bytes."""

from __future__ import annotations

import cv2
import numpy as np

from ocr_engine.schemas import Word

_BOX = (0, 200, 255)  # BGR: amber boxes read on dark and light scenes
_TEXT_BG = (30, 30, 30)


def annotate(rgb: np.ndarray, words: list[Word], max_side: int = 1600) -> bytes:
    """-> PNG bytes of the image (shrunk to ``max_side``) with numbered boxes."""
    h, w = rgb.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    if scale < 1.0:
        bgr = cv2.resize(bgr, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    thick = max(1, round(max(bgr.shape[:2]) / 400))
    font_scale = max(0.4, max(bgr.shape[:2]) / 1200)
    for i, word in enumerate(words, start=1):
        x1, y1, x2, y2 = (round(v * scale) for v in word.bbox)
        cv2.rectangle(bgr, (x1, y1), (x2, y2), _BOX, thick)
        label = f"{i} {word.text}"
        (tw, th), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, font_scale, thick)
        ty = y1 - 4 if y1 - th - base - 4 > 0 else min(bgr.shape[0] - 1, y2 + th + 4)
        cv2.rectangle(bgr, (x1, ty - th - base), (x1 + tw + 4, ty + base), _TEXT_BG, -1)
        cv2.putText(bgr, label, (x1 + 2, ty), cv2.FONT_HERSHEY_SIMPLEX, font_scale, _BOX, thick, cv2.LINE_AA)
    ok, png = cv2.imencode(".png", bgr)
    if not ok:
        raise RuntimeError("PNG encoding failed")
    return png.tobytes()
