"""Byte-mutated images for the mutation fuzzer (tests/integration/test_fuzz.py).

Valid small images of every format the engine reads (PNG, JPEG, WebP, TIFF, GIF, BMP),
drawn here with PIL and OpenCV, some with the metadata decoders trip on (EXIF orientation,
16-bit samples, a palette with transparency, several frames), are mutated the way files
are damaged or crafted: bits flipped, header fields overwritten with extreme values,
truncated, spliced with another file, chunks duplicated or dropped. Deterministic: the
same seed gives the same mutants, so a failure is reproduced from its seed and index.
"""

from __future__ import annotations

import io
import random
import struct
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

DEFAULT_SEED = 20261126
_EXIF_SPAN = 160  # bytes from the EXIF (TIFF) header that mutations aim at: the IFD entries
# Values written over bytes and integers: extremes, and the TIFF field types (ASCII 2,
# SHORT 3, LONG 4, RATIONAL 5, UNDEFINED 7, SRATIONAL 10) that a mistyped tag has.
_INTERESTING = (0, 1, 2, 3, 4, 5, 7, 10, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFF, 0x8000, 20000,
                0xFFFFFFFF, 0x7FFFFFFF, 0x80000000)


@dataclass(frozen=True)
class Mutant:
    index: int
    seed_name: str  # which valid file it came from
    ops: tuple[str, ...]  # what was done to it
    data: bytes
    filename: str

    @property
    def label(self) -> str:
        return f"#{self.index} {self.seed_name} {'+'.join(self.ops)}"


def _enc(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _word(w: int = 96, h: int = 32) -> np.ndarray:
    img = np.full((h, w, 3), (235, 232, 228), np.uint8)
    cv2.putText(img, "OPEN", (6, h - 8), cv2.FONT_HERSHEY_DUPLEX, h / 40, (30, 25, 20), 2, cv2.LINE_AA)
    return img


def seeds() -> dict[str, tuple[bytes, str]]:
    """name -> (valid image bytes, file name)."""
    word = Image.fromarray(_word())
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90°
    exif[0x010F] = "fuzz camera"
    sixteen = Image.fromarray((np.asarray(word.convert("L"), np.uint16) * 257).astype(np.uint16))
    frames = [word, Image.fromarray(_word()[:, ::-1].copy())]
    gif = io.BytesIO()
    frames[0].save(gif, format="GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)
    return {
        "png": (_enc(word, "PNG"), "word.png"),
        "png-16bit": (_enc(sixteen, "PNG"), "deep.png"),
        "png-palette-alpha": (_enc(word.convert("RGBA").quantize(16), "PNG", transparency=0), "pal.png"),
        "jpeg-exif": (_enc(word, "JPEG", exif=exif.tobytes(), quality=80), "photo.jpg"),
        "jpeg-progressive-cv2": (cv2.imencode(".jpg", _word(), [cv2.IMWRITE_JPEG_PROGRESSIVE, 1])[1].tobytes(),
                                 "prog.jpg"),
        "webp-lossy-exif": (_enc(word, "WEBP", quality=70, exif=exif.tobytes()), "photo.webp"),
        "webp-lossless": (_enc(word.convert("RGBA"), "WEBP", lossless=True), "alpha.webp"),
        "tiff-deflate-exif": (_enc(word, "TIFF", compression="tiff_deflate", exif=exif.tobytes()), "scan.tif"),
        "tiff-32bit-float": (_enc(Image.fromarray(np.asarray(word.convert("L"), np.float32) / 255), "TIFF"),
                             "float.tiff"),
        "gif-animated": (gif.getvalue(), "anim.gif"),
        "bmp": (_enc(word, "BMP"), "old.bmp"),
    }


def mutate(rng: random.Random, data: bytes, donors: list[bytes]) -> tuple[bytes, tuple[str, ...]]:
    """One to four damages to ``data``. A third of the positions fall in the first 64 bytes
    (headers: sizes, lengths, offsets), a third in the EXIF block or TIFF directory where
    there is one (tag types and counts: what broke orientation handling), the rest anywhere."""
    buf = bytearray(data)
    ops: list[str] = []
    exif = max(data.find(b"II*\0"), data.find(b"MM\0*"))  # EXIF is a TIFF header and IFD (or the TIFF itself)

    def pos(extra: int = 0) -> int:
        top = max(1, len(buf) - extra)
        where = rng.random()
        if where < 1 / 3:
            return rng.randrange(min(top, 64))
        if where < 2 / 3 and 0 <= exif < top:
            return rng.randrange(exif, min(top, exif + _EXIF_SPAN))
        return rng.randrange(top)

    for _ in range(rng.randint(1, 4)):
        op = rng.choice(("flip", "flip", "byte", "int", "truncate", "splice", "duplicate", "delete"))
        if not buf:
            break
        if op == "flip":
            for _ in range(rng.randint(1, 8)):
                buf[pos()] ^= 1 << rng.randrange(8)
        elif op == "byte":
            buf[pos()] = rng.choice((0x00, 0x01, 0x02, 0x05, 0x7F, 0x80, 0xFE, 0xFF))
        elif op == "int" and len(buf) >= 4:
            at = pos(4)
            value = rng.choice(_INTERESTING)
            fmt = rng.choice(("<H", ">H", "<I", ">I"))
            buf[at:at + struct.calcsize(fmt)] = struct.pack(fmt, value & (0xFFFF if fmt[1] == "H" else 0xFFFFFFFF))
        elif op == "truncate":
            del buf[rng.randrange(1, len(buf) + 1):]
        elif op == "splice":
            donor = rng.choice(donors)
            buf = buf[:rng.randrange(len(buf) + 1)] + donor[rng.randrange(len(donor) + 1):]
        elif op == "duplicate":
            at, size = rng.randrange(len(buf)), rng.randint(1, 256)
            buf[at:at] = buf[at:at + size]
        elif op == "delete":
            at = rng.randrange(len(buf))
            del buf[at:at + rng.randint(1, 256)]
        else:
            continue
        ops.append(op)
    return bytes(buf), tuple(ops)


def mutants(count: int, seed: int = DEFAULT_SEED) -> Iterator[Mutant]:
    """``count`` mutants, the valid files taken in turn."""
    rng = random.Random(seed)
    valid = seeds()
    names = sorted(valid)
    donors = [data for data, _ in valid.values()]
    for i in range(count):
        name = names[i % len(names)]
        data, filename = valid[name]
        mutated, ops = mutate(rng, data, donors)
        yield Mutant(i, name, ops, mutated, filename)
