"""Bytes -> validated RGB array: format sniffing, size limits before decoding, EXIF
orientation, and every pixel mode (16-bit, CMYK, palette, alpha) brought to 8-bit RGB."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ocr_engine.config import Settings
from ocr_engine.errors import ImageTooLarge, InvalidImage, UnsupportedFormat

# Magic numbers of the accepted formats (GIF: first frame only).
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
)
SUPPORTED_FORMATS = ("PNG", "JPEG", "BMP", "TIFF", "WEBP", "GIF")


@dataclass(frozen=True)
class DecodedImage:
    rgb: np.ndarray  # H×W×3 uint8
    format: str

    @property
    def width(self) -> int:
        return int(self.rgb.shape[1])

    @property
    def height(self) -> int:
        return int(self.rgb.shape[0])


def sniff_format(data: bytes) -> str | None:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    for magic, name in _SIGNATURES:
        if data.startswith(magic):
            return name
    return None


def decode_image(data: bytes, settings: Settings) -> DecodedImage:
    """Validate and decode; raises InvalidImage / UnsupportedFormat / ImageTooLarge."""
    if not data:
        raise InvalidImage("the image is empty (0 bytes)")
    if len(data) > settings.max_image_bytes:
        raise ImageTooLarge(
            f"the image is {len(data):,} bytes; the limit is {settings.max_image_bytes:,}"
        )
    fmt = sniff_format(data)
    if fmt is None:
        raise UnsupportedFormat(
            "not a supported image (expected " + ", ".join(SUPPORTED_FORMATS) + ")"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=[fmt])
            _check_dimensions(img.size, settings)  # header only: nothing decoded yet
            img.seek(0)
            img.load()
            img = ImageOps.exif_transpose(img)
            rgb = _to_rgb8(img)
    except (ImageTooLarge, InvalidImage):
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooLarge(f"the image has too many pixels: {exc}") from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        raise InvalidImage(f"the {fmt} image is corrupt or truncated: {exc}") from exc
    return DecodedImage(rgb=rgb, format=fmt)


def load_rgb(path: Path, settings: Settings | None = None) -> np.ndarray:
    """An image file -> H×W×3 RGB, decoded exactly as uploaded bytes are.

    Training, evaluation and benchmarks read files through this, so what they measure
    is what the API and the S3 function see (channel order, EXIF, pixel modes).
    """
    return decode_image(Path(path).read_bytes(), settings or Settings()).rgb


def _check_dimensions(size: tuple[int, int], settings: Settings) -> None:
    w, h = size
    if w < 1 or h < 1:
        raise InvalidImage(f"the image has no pixels ({w}×{h})")
    if max(w, h) > settings.max_side:
        raise ImageTooLarge(f"the image is {w}×{h}; the longest side may be {settings.max_side}")
    if w * h > settings.max_pixels:
        raise ImageTooLarge(f"the image is {w}×{h} = {w * h:,} pixels; the limit is {settings.max_pixels:,}")


def _to_rgb8(img: Image.Image) -> np.ndarray:
    """Any PIL mode -> H×W×3 uint8; transparency is flattened onto white."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float64)
        hi = arr.max() or 1.0
        gray = (arr * (255.0 / hi)).clip(0, 255).astype(np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2)
    if img.mode == "F":
        arr = np.asarray(img, dtype=np.float64)
        lo, hi = float(np.nanmin(arr)), float(np.nanmax(arr))
        gray = ((arr - lo) * (255.0 / ((hi - lo) or 1.0))).clip(0, 255).astype(np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2)
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    return np.ascontiguousarray(np.asarray(img.convert("RGB"), dtype=np.uint8))
