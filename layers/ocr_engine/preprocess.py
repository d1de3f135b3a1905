"""The one definition of how a word crop becomes the recognizer's input.

Training (``model/``), evaluation and serving all call :func:`crop_to_input`, so the
three cannot drift apart. Crops are RGB (as ``imagefile.decode_image`` and ``load_rgb``
return them, and as the synthetic generator draws them). The crop is converted to
grayscale, resized to the model's height keeping its aspect ratio (squeezed only when
wider than the input), padded on the right by repeating its last column, and scaled to
[0, 1].
"""

from __future__ import annotations

import cv2
import numpy as np

INPUT_HEIGHT = 32
INPUT_WIDTH = 128
# Border added around an image that *is* one word (an upload, a labelled crop): such crops
# are cut tight to the letters, and the recognizer (trained on crops with room around the
# word) reads them better with some. Detected regions get theirs from the scene instead.
WORD_MARGIN = 0.1  # share of the crop's height, on every side


def to_gray(image: np.ndarray) -> np.ndarray:
    """Any uint8 image (H×W, H×W×3 RGB, H×W×4 RGBA) -> H×W uint8 luminance (BT.601)."""
    if image.ndim == 2:
        return image
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_RGBA2GRAY)
    if image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return image[:, :, 0]


# Grey levels a crop must span to hold anything to read: a blank or flat image (all black,
# one pixel, a uniform colour) otherwise comes out as a short confident "word".
MIN_CONTRAST = 16


def has_ink(crop: np.ndarray) -> bool:
    """Whether the crop's grey levels span at least ``MIN_CONTRAST`` (anything drawn on it)."""
    if crop.size == 0:
        return False
    gray = to_gray(crop)
    return int(gray.max()) - int(gray.min()) >= MIN_CONTRAST


def with_margin(crop: np.ndarray, share: float = WORD_MARGIN) -> np.ndarray:
    """A tight word crop with ``share`` of its height added on every side (edge pixels
    repeated: the background continues, no new edge appears)."""
    pad = round(crop.shape[0] * share)
    if pad < 1 or crop.size == 0:
        return crop
    return cv2.copyMakeBorder(crop, pad, pad, pad, pad, cv2.BORDER_REPLICATE)


def stretched(crop: np.ndarray, factor: float) -> np.ndarray:
    """The crop ``factor`` times as wide, as high as it was."""
    h, w = crop.shape[:2]
    if crop.size == 0:
        return crop
    return cv2.resize(crop, (max(1, round(w * factor)), h), interpolation=cv2.INTER_LINEAR)


def cut(image: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """The pixels inside ``box`` (x1, y1, x2, y2), a view of ``image``."""
    x1, y1, x2, y2 = box
    return image[y1:y2, x1:x2]


def crop_to_input(
    crop: np.ndarray, height: int = INPUT_HEIGHT, width: int = INPUT_WIDTH
) -> np.ndarray:
    """Word crop (uint8, gray or colour) -> float32 array of shape (height, width, 1)."""
    gray = to_gray(crop)
    h, w = gray.shape[:2]
    if h == 0 or w == 0:
        raise ValueError("empty crop")
    new_w = max(1, min(width, round(w * height / h)))
    interp = cv2.INTER_AREA if h > height else cv2.INTER_CUBIC
    resized = cv2.resize(gray, (new_w, height), interpolation=interp)
    if new_w < width:
        resized = cv2.copyMakeBorder(
            resized, 0, 0, 0, width - new_w, cv2.BORDER_REPLICATE
        )
    return (resized.astype(np.float32) / 255.0)[:, :, None]


def batch_to_input(crops: list[np.ndarray]) -> np.ndarray:
    """A list of crops -> float32 batch (N, H, W, 1)."""
    if not crops:
        return np.zeros((0, INPUT_HEIGHT, INPUT_WIDTH, 1), np.float32)
    return np.stack([crop_to_input(c) for c in crops])
