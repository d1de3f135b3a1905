"""Builders for tests: encoded images of every kind, scenes with known word boxes, and a
stand-in HTTP body for botocore responses faked in tests."""

from __future__ import annotations

import importlib.util
import io
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image


def encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def word_image(text: str, height: int = 64, dark_on_light: bool = True) -> np.ndarray:
    """A clean grey word crop (so channel order does not matter) in OpenCV's Hershey font."""
    scale = height / 40
    (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_DUPLEX, scale, 2)
    bg, fg = ((240, 240, 240), (20, 20, 20)) if dark_on_light else ((20, 20, 20), (240, 240, 240))
    img = np.full((h + base + 24, w + 24, 3), bg, np.uint8)
    cv2.putText(img, text, (12, h + 12), cv2.FONT_HERSHEY_DUPLEX, scale, fg, 2, cv2.LINE_AA)
    return img


def scene_with_words(words: list[tuple[str, int, int, float]], size=(900, 1200), seed=0):
    """A noisy scene with words at known places -> (RGB image, [(x1, y1, x2, y2)])."""
    rng = np.random.default_rng(seed)
    h, w = size
    img = np.clip(rng.normal(150, 12, (h, w, 3)), 0, 255).astype(np.uint8)
    img = cv2.GaussianBlur(img, (5, 5), 0)
    boxes = []
    for text, x, y, scale in words:
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_DUPLEX, scale, 3)
        cv2.putText(img, text, (x, y), cv2.FONT_HERSHEY_DUPLEX, scale, (20, 20, 20), 3, cv2.LINE_AA)
        boxes.append((x, y - th, x + tw, y + base))
    return img, boxes


class RawBody:
    """A body for a faked ``botocore.awsrequest.AWSResponse`` (an S3 error answered in a
    ``before-send`` hook): streamed once, then empty."""

    def __init__(self, body: bytes):
        self._body = body

    def stream(self, **_):
        yield self._body

    def read(self, *_args, **_kwargs):
        body, self._body = self._body, b""
        return body


def write_crop(path: Path) -> Path:
    """A plain 100x32 crop file (the ocr command's tests need files that exist)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.full((32, 100, 3), 200, np.uint8))
    return path


def _tiff(body: bytes, entries: list[tuple[int, int, int, int]]) -> bytes:
    """A little-endian TIFF: ``body`` from offset 8 (the offsets in ``entries`` point into it),
    then one directory of ``entries`` (tag, type 3 SHORT or 4 LONG, count, value or offset)."""
    ifd_at = 8 + len(body) + len(body) % 2
    out = bytearray(b"II*\x00" + struct.pack("<I", ifd_at) + body + b"\0" * (len(body) % 2))
    out += struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        packed = struct.pack("<HH", value, 0) if kind == 3 and count == 1 else struct.pack("<I", value)
        out += struct.pack("<HHI", tag, kind, count) + packed
    return bytes(out + b"\0\0\0\0")


def tiled_tiff(pixels: np.ndarray, tile: int, crafted: bool = False) -> bytes:
    """A deflate TIFF of ``pixels`` (H×W×3 uint8, neither side over ``tile``) stored as one
    ``tile``×``tile`` tile, the image in its top-left corner (TIFF allows a tile larger than the
    image; Pillow cannot write tiles).
    ``crafted``: the tile's data is 1,000 zero bytes whatever its size, as an attacker's file."""
    h, w, _ = pixels.shape
    if crafted:
        data = zlib.compress(bytes(1000))
    else:
        padded = np.zeros((tile, tile, 3), np.uint8)
        padded[:h, :w] = pixels
        data = zlib.compress(padded.tobytes())
    bits_at, data_at = 8, 16
    short, long_ = 3, 4
    entries = [(256, short, 1, w), (257, short, 1, h), (258, short, 3, bits_at), (259, short, 1, 8),
               (262, short, 1, 2), (277, short, 1, 3), (284, short, 1, 1), (322, long_, 1, tile),
               (323, long_, 1, tile), (324, long_, 1, data_at), (325, long_, 1, len(data))]
    return _tiff(struct.pack("<HHH", 8, 8, 8) + b"\0\0" + data, entries)


def rle8_bmp(width: int, height: int, rows: list[bytes] | None = None) -> bytes:
    """An 8-bit run-length-encoded BMP (compression 1), palette entry i grey i. ``rows``: each
    row's RLE8 codes, bottom row first, without its end-of-line; by default one black pixel a
    row, the rest left to the end-of-line (a few bytes for any width)."""
    rows = rows if rows is not None else [b"\x01\x00"] * height
    codes = b"".join(row + b"\x00\x00" for row in rows) + b"\x00\x01"  # end of line; end of bitmap
    palette = b"".join(bytes((i, i, i, 0)) for i in range(256))
    offset = 14 + 40 + len(palette)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 8, 1, len(codes), 2835, 2835, 256, 0)
    return b"BM" + struct.pack("<IHHI", offset + len(codes), 0, 0, offset) + info + palette + codes


def rgb16_tiff(pixels: np.ndarray, rows_per_strip: int, *, planar: bool = False, bits_once: bool = False,
               rows_tag: bool = True) -> bytes:
    """A 16-bit RGB TIFF (uncompressed) of ``pixels`` (H×W×3 uint16) in strips
    of ``rows_per_strip`` rows: PIL writes no such file, and libtiff holds a whole strip in
    16-bit samples while PIL's image of it is 8-bit. ``planar``: each sample in its own
    plane of strips (PlanarConfiguration 2); ``bits_once``: BitsPerSample written once for
    the three samples; ``rows_tag`` False: no RowsPerStrip (the image is then one strip)."""
    h, w = pixels.shape[:2]
    planes = [pixels[..., c] for c in range(3)] if planar else [pixels]
    strips = [plane[y:y + rows_per_strip].astype("<u2").tobytes() for plane in planes
              for y in range(0, h, rows_per_strip)]
    n = len(strips)
    bits_at, offsets_at = 8, 14
    counts_at = offsets_at + 4 * n
    starts = np.cumsum([counts_at + 4 * n] + [len(s) for s in strips[:-1]]).tolist()
    short, long_ = 3, 4
    entries = [(256, long_, 1, w), (257, long_, 1, h), (258, short, 1, 16) if bits_once else (258, short, 3, bits_at),
               (259, short, 1, 1), (262, short, 1, 2), (273, long_, n, offsets_at if n > 1 else starts[0]),
               (277, short, 1, 3), *([(278, long_, 1, rows_per_strip)] if rows_tag else []),
               (279, long_, n, counts_at if n > 1 else len(strips[0])), (284, short, 1, 2 if planar else 1)]
    body = struct.pack("<HHH", 16, 16, 16) + struct.pack(f"<{n}I", *starts)
    return _tiff(body + struct.pack(f"<{n}I", *(len(s) for s in strips)) + b"".join(strips), entries)


def import_keras():
    """Keras, for a training test module. Not installed (``make test-fast``): the module is
    skipped. Installed but failing to import (its JAX backend missing or broken): an error, not
    a skip, as ``pytest.importorskip`` made it, and CI's training tests silently did not run."""
    return import_training_package("keras")


def import_training_package(name: str):
    """``import_keras`` for any package of requirements/train-ci.txt (scipy: the sign test)."""
    if importlib.util.find_spec(name) is None:
        pytest.skip(f"{name} is not installed (requirements/train-ci.txt, which make test installs)",
                    allow_module_level=True)
    return importlib.import_module(name)
