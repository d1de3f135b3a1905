"""Hostile and broken inputs, with the outcome each must get.

Shared by the tests (which assert the outcomes) and tests/benchmarks/reliability.py
(which writes the table in tests/reports/reliability.md).
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass

import numpy as np
from PIL import Image

from tests.helpers import rle8_bmp, tiled_tiff


@dataclass(frozen=True)
class Case:
    name: str
    data: bytes
    filename: str
    status: int  # what the API must answer
    code: str | None = None  # the error code, for refusals


def _enc(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _word(w: int = 200, h: int = 60) -> Image.Image:
    img = Image.new("RGB", (w, h), (235, 235, 235))
    arr = np.asarray(img).copy()
    arr[h // 3 : 2 * h // 3, w // 8 : 7 * w // 8] = 30  # a dark bar: something to detect
    return Image.fromarray(arr)


def _bomb_png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def _animated(fmt: str) -> bytes:
    frames = [_word(), Image.new("RGB", (200, 60), (0, 0, 255))]
    buf = io.BytesIO()
    frames[0].save(buf, format=fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buf.getvalue()


def _exif_rotated() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6
    return _enc(_word(200, 60), "JPEG", exif=exif.tobytes())


def _exif_with_a_mistyped_tag() -> bytes:
    """The outside test's 700-byte JPEG: EXIF orientation 6, and XResolution (a RATIONAL)
    stored as ASCII. ``ImageOps.exif_transpose`` raised TypeError on it (a 500)."""
    entries = [(0x0112, 3, 1, struct.pack("<HH", 6, 0)), (0x011A, 2, 4, b"abc\0")]
    ifd = struct.pack("<H", len(entries)) + b"".join(
        struct.pack("<HHI", tag, kind, count) + value for tag, kind, count, value in entries) + b"\0\0\0\0"
    return _enc(_word(60, 20), "JPEG", exif=b"Exif\0\0II*\x00" + struct.pack("<I", 8) + ifd)


def _jpeg_claiming(width: int, height: int) -> bytes:
    """A few hundred bytes of JPEG whose header claims ``width``×``height`` (libjpeg would
    fill all but the first blocks with grey)."""
    data = bytearray(_enc(Image.new("L", (64, 64), 128), "JPEG"))
    sof = data.find(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


def _jpeg_of_repeated_scans(copies: int, side: int = 2000) -> bytes:
    """A valid progressive JPEG whose last scan is written ``copies`` times: each is a pass
    over the whole image, so ~200 KB decodes for minutes at 6000x6000 (the outside review's
    file took 51 s through the API and 197 s in the S3 function before the scan limit)."""
    data = _enc(Image.new("L", (side, side), 128), "JPEG", progressive=True)
    last_scan, end = data.rfind(b"\xff\xda"), data.rfind(b"\xff\xd9")
    return data[:end] + data[last_scan:end] * copies + data[end:]


def corpus(max_bytes: int = 10 * 1024 * 1024) -> list[Case]:
    png = _enc(_word(), "PNG")
    jpeg = _enc(Image.effect_noise((300, 200), 50).convert("RGB"), "JPEG")
    sixteen = (np.arange(60 * 200, dtype=np.uint16).reshape(60, 200) * 5).astype(np.uint16)
    return [
        Case("empty body", b"", "empty.png", 400, "invalid_image"),
        Case("text with an image name", b"hello, this is text" * 10, "photo.jpg", 415, "unsupported_format"),
        Case("PDF with an image name", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "scan.png", 415, "unsupported_format"),
        Case("truncated PNG", png[: len(png) // 2], "cut.png", 400, "invalid_image"),
        Case("truncated JPEG", jpeg[: len(jpeg) // 2], "cut.jpg", 400, "invalid_image"),
        Case("PNG signature only", png[:8], "sig.png", 400, "invalid_image"),
        Case("decompression bomb (tiny file, 15000x15000)", _bomb_png(15000, 15000), "bomb.png", 413,
             "image_too_large"),
        Case("bomb, one huge side (100000x10)", _bomb_png(100000, 10), "strip.png", 413, "image_too_large"),
        Case("oversized payload", b"\x89PNG\r\n\x1a\n" + b"\0" * max_bytes, "big.png", 413, "image_too_large"),
        Case("1x1 image", _enc(Image.new("RGB", (1, 1)), "PNG"), "dot.png", 200),
        Case("20000x20 image", _enc(Image.new("L", (20000, 20), 200), "PNG"), "wide.png", 200),
        Case("16-bit grayscale PNG", _enc(Image.fromarray(sixteen), "PNG"), "deep.png", 200),
        Case("CMYK JPEG", _enc(_word().convert("CMYK"), "JPEG"), "print.jpg", 200),
        Case("palette PNG", _enc(_word().convert("P"), "PNG"), "pal.png", 200),
        Case("alpha PNG", _enc(_word().convert("RGBA"), "PNG"), "alpha.png", 200),
        Case("animated GIF", _animated("GIF"), "anim.gif", 200),
        Case("animated WebP", _animated("WEBP"), "anim.webp", 200),
        Case("EXIF-rotated JPEG", _exif_rotated(), "rotated.jpg", 200),
        Case("EXIF with a RATIONAL tag stored as ASCII", _exif_with_a_mistyped_tag(), "crafted.jpg", 200),
        Case("JPEG claiming 19999x1999 in a few hundred bytes", _jpeg_claiming(19999, 1999), "short.jpg", 400,
             "invalid_image"),
        Case("progressive JPEG repeating one scan 3000 times", _jpeg_of_repeated_scans(3000), "scans.jpg", 400,
             "invalid_image"),
        Case("TIFF", _enc(_word(), "TIFF"), "scan.tiff", 200),
        Case("TIFF of 16x16 pixels declaring one 26720x26720 tile",
             tiled_tiff(np.zeros((16, 16, 3), np.uint8), tile=26720, crafted=True), "tiles.tif", 413,
             "image_too_large"),
        Case("BMP", _enc(_word(), "BMP"), "old.bmp", 200),
        Case("run-length-encoded BMP of 40 Mpx in 9 KB (10 s in PIL's Python decoder)", rle8_bmp(20000, 2000),
             "rle.bmp", 413, "image_too_large"),
    ]


HOSTILE_KEYS = [
    "incoming/Shop Sign é.JPG",
    "incoming/a+b=c.png",
    "incoming/100% real.png",
    "incoming/../../etc/passwd.png",
    "incoming/" + "x" * 900 + ".png",
    "incoming/日本語 テキスト.jpeg",
    "incoming/tab\tand;semicolon.png",
]
