"""Bytes -> validated RGB array: format sniffing, size limits before decoding, EXIF
orientation, and every pixel mode (16-bit, 32-bit, CMYK, palette, alpha) brought to 8-bit RGB.

What is refused, and why:

* too many bytes, pixels, too long a side, or too many *decoded* bytes: checked from the
  header, before any pixel is decoded. The decoded size counts the bytes a pixel takes in
  the file's own mode (16-bit gray 2, RGBA/CMYK/32-bit 4), so a 32-bit image may have
  fewer pixels than an 8-bit one: ``max_pixels`` of 8-bit RGB is the budget;
* data far too short for the header (a JPEG that claims 19999×1999 pixels in 600 bytes).
  PIL raises for a truncated file (``ImageFile.LOAD_TRUNCATED_IMAGES`` stays False), but
  libjpeg fills a scan that ends early with grey and only warns, so a JPEG must also hold
  at least one byte per ``JPEG_MAX_PIXELS_PER_BYTE`` pixels (see there);
* a TIFF whose tiles or strips, in the file's own samples, are larger than that decoded-size
  budget (``_check_tiff_tiles``);
* a run-length-encoded BMP of more than ``BMP_RLE_MAX_PIXELS`` (its decoder is slow);
* a JPEG of more than ``JPEG_MAX_SCANS`` scans: each scan is a full pass over the image,
  so a small file that repeats one tiny scan thousands of times decodes for minutes (libjpeg
  cannot be interrupted, and the request's deadline is only checked around the decode).
  The scans are counted as libjpeg meets them (``jpeg_scans``), up to the first end of
  image: what follows it (a motion photo's video, a second picture) is never decoded;
* anything else that fails while decoding, whatever the exception (PIL, libjpeg, libtiff,
  a malformed EXIF block...): the bytes are not a decodable image, ``InvalidImage``.

Memory: the work is done in 8-bit. 16- and 32-bit images are scaled to 8-bit a band of
rows at a time (no whole-image float copy), other modes are converted to RGB a band at a
time, EXIF orientation is applied to the 8-bit array, and gray images become RGB only at
the end. Peak memory of a read, in a fresh process: tests/integration/test_memory.py.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageFile, UnidentifiedImageError

from ocr_engine.config import Settings
from ocr_engine.errors import ImageTooLarge, InvalidImage, OcrError, UnsupportedFormat

# A truncated file must raise, never decode with its missing rows filled in. This is
# PIL's default; it is a process-wide switch, so it is set here for every importer.
ImageFile.LOAD_TRUNCATED_IMAGES = False

# Magic numbers of the accepted formats. Of a multi-page TIFF or an animated GIF, WebP or PNG
# the first page or frame is read (img.seek(0)).
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

# A Huffman-coded JPEG (baseline or progressive: what cameras and encoders write) spends
# at least one bit on every 8×8 block of its first component, so it cannot describe more
# than 512 pixels per byte of data. Past 8 times that, the data is far too short for the
# header: libjpeg would fill the rest with grey. (Arithmetic-coded JPEGs can be denser;
# they are rare, and one of a nearly blank picture past this ratio is refused.)
JPEG_MAX_PIXELS_PER_BYTE = 4096

# Real progressive JPEGs have about 10 scans (libjpeg's and mozjpeg's scripts: 6-12); each
# scan costs a pass over the whole image (34 ms at 36 Mpx here), so the count bounds the time.
JPEG_MAX_SCANS = 50
# A marker inside entropy-coded data: 0xFF then a code that is not a stuffed 0x00, a restart
# (0xD0-0xD7) or a fill byte (0xFF). Searched in C: a 10 MB scan is skipped in milliseconds.
_JPEG_NEXT_MARKER = re.compile(rb"\xff(?=[^\x00\xd0-\xd7\xff])")
_JPEG_SOS, _JPEG_EOI = 0xDA, 0xD9
_JPEG_STANDALONE = frozenset({0x01, 0xD8, *range(0xD0, 0xD8)})  # markers without a length

# Run-length-encoded BMPs (RLE4, RLE8: legacy icons and screenshots) are decoded by PIL in
# Python, about 4 Mpx a second here: a 9 KB file of 40 Mpx took 10 s. Past this many pixels
# one is refused from its header (re-saved as PNG it reads at any size).
BMP_RLE_MAX_PIXELS = 8_000_000

# Bytes a pixel takes once decoded, by PIL mode (the decoded-size limit counts these).
_BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 1, "LA": 2, "La": 2, "PA": 2, "I;16": 2, "I;16L": 2, "I;16B": 2,
                    "I;16N": 2, "RGB": 3, "YCbCr": 3, "LAB": 3, "HSV": 3}  # others (RGBA, CMYK, I, F): 4
_HIGH_DEPTH = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")
_BAND_PIXELS = 1 << 20  # pixels converted at a time: bounds the temporary arrays
_DETAIL_CHARS = 300  # of a decoder's own message, in the error


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


def decode_image(data: bytes, settings: Settings,
                 before_decoding: Callable[[int, int], None] | None = None) -> DecodedImage:
    """Validate and decode; raises InvalidImage / UnsupportedFormat / ImageTooLarge, never
    anything else for any input bytes. ``before_decoding(width, height)`` runs once the header
    has passed every check and before any pixel is decoded: a caller's own budget (a batch's
    pixels in all) may refuse the image there by raising an ``OcrError``."""
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
            _check_dimensions(img.size, img.mode, settings)  # header only: nothing decoded yet
            _check_data_length(fmt, img.size, len(data))
            _check_jpeg_scans(fmt, data)
            _check_tiff_tiles(img, settings)
            _check_bmp_rle(img)
            if before_decoding is not None:
                before_decoding(*img.size)
            img.seek(0)
            # As the header gives it (a PNG's eXIf after its pixels is ignored, as browsers do); a
            # TIFF's once loaded, since its decoder may turn the pixels itself and reset the tag.
            orientation = _orientation(img) if fmt != "TIFF" else None
            if fmt == "TIFF":  # Pillow turns a TIFF as it loads, by its XMP too unless that is gone
                img.info.pop("xmp", None)
            pixels = _webp_by_libwebp(data) if fmt == "WEBP" else None
            if pixels is None:
                img.load()
                pixels = _to_uint8(img)
            orientation = _orientation(img) if orientation is None else orientation
            img.close()  # release the decoded (possibly 16/32-bit) image before the copies below
            pixels = _oriented(pixels, orientation)
            rgb = cv2.cvtColor(pixels, cv2.COLOR_GRAY2RGB) if pixels.ndim == 2 else pixels
    except OcrError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooLarge(_bomb_message(exc, settings)) from exc
    except MemoryError as exc:
        raise ImageTooLarge("the image needs more memory to decode than this function has") from exc
    except UnidentifiedImageError as exc:  # its own message names only a Python object
        raise InvalidImage(f"the {fmt} image could not be opened: its header is damaged, or it is a kind of "
                           f"{fmt} this decoder does not read (floating-point colour, say)") from exc
    except Exception as exc:  # whatever a decoder raises, the bytes are not a usable image
        reason = f"{type(exc).__name__}: {exc}"[:_DETAIL_CHARS]
        raise InvalidImage(f"the {fmt} image is corrupt or truncated ({reason})") from exc
    return DecodedImage(rgb=np.ascontiguousarray(rgb), format=fmt)


def _bomb_message(exc: Exception, settings: Settings) -> str:
    """PIL refuses a header of over 89 Mpx while opening it, before ``_check_dimensions``;
    its message quotes its own limit, not ours."""
    declared = re.search(r"\((\d+) pixels\)", str(exc))
    # Under an OCR_MAX_PIXELS above PIL's own limit, PIL's is the one passed.
    limit = min(settings.max_pixels, Image.MAX_IMAGE_PIXELS or settings.max_pixels)
    size = f"is {int(declared[1]):,} pixels" if declared else "has too many pixels"
    return f"the image {size}; the limit is {limit:,}"


def read_image_file(path: Path, settings: Settings) -> bytes:
    """An image file's bytes, read no further than ``settings.max_image_bytes`` + 1: a larger
    file (``/dev/zero``, a video by mistake) is ``ImageTooLarge`` without being held in memory."""
    limit = settings.max_image_bytes
    with open(path, "rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise ImageTooLarge(f"the image is too large: more than the limit of {limit:,} bytes")
    return data


def load_rgb(path: Path, settings: Settings | None = None) -> np.ndarray:
    """An image file -> H×W×3 RGB, decoded exactly as uploaded bytes are (and read bounded).

    Training, evaluation and benchmarks read files through this, so what they measure
    is what the API and the S3 function see (channel order, EXIF, pixel modes).
    """
    settings = settings or Settings()
    return decode_image(read_image_file(Path(path), settings), settings).rgb


def _check_dimensions(size: tuple[int, int], mode: str, settings: Settings) -> None:
    w, h = size
    if w < 1 or h < 1:
        raise InvalidImage(f"the image has no pixels ({w}×{h})")
    if max(w, h) > settings.max_side:
        raise ImageTooLarge(f"the image is {w}×{h}; the longest side may be {settings.max_side}")
    if w * h > settings.max_pixels:
        raise ImageTooLarge(f"the image is {w}×{h} = {w * h:,} pixels; the limit is {settings.max_pixels:,}")
    _check_decoded_bytes("the image is", w, h, mode, settings)


def _check_decoded_bytes(what: str, w: int, h: int, mode: str, settings: Settings,
                         bytes_per_pixel: int | None = None) -> None:
    """``w``×``h`` pixels of ``mode`` (or of ``bytes_per_pixel`` each, when the file's own
    samples are wider than the mode's) against the decoded-size budget: ``max_pixels`` of 8-bit RGB."""
    per_pixel = bytes_per_pixel or _BYTES_PER_PIXEL.get(mode, 4)
    decoded, budget = w * h * per_pixel, settings.max_pixels * 3
    if decoded > budget:
        raise ImageTooLarge(f"{what} {w}×{h} in mode {mode} ({per_pixel} bytes a pixel): {decoded:,} bytes decoded; "
                            f"the limit is {budget:,} ({settings.max_pixels:,} pixels of 8-bit RGB)")


def _check_tiff_tiles(img: Image.Image, settings: Settings) -> None:
    """libtiff allocates a whole tile, or a whole strip, in the file's own samples before
    decoding it. A tile may be far larger than the image it belongs to (a 172-byte file of
    16×16 pixels can declare one 26720×26720 tile and make the decoder touch 2 GB), and a strip
    of 16-bit RGB is twice what the 8-bit RGB image PIL makes of it (a 40 Mpx one-strip file:
    240 MB more), so a tile or strip counts against the decoded-size budget too."""
    tags = getattr(img, "tag_v2", None)
    if tags is None:
        return
    chunk_bytes = _tiff_chunk_bytes_per_pixel(tags)
    tile_w, tile_h = tags.get(322), tags.get(323)  # TileWidth, TileLength
    if isinstance(tile_w, int) and isinstance(tile_h, int):
        _check_decoded_bytes("the TIFF's tiles are", tile_w, tile_h, img.mode, settings, chunk_bytes)
        return
    w, h = img.size
    rows = tags.get(278, h)  # RowsPerStrip: without it, the whole image is one strip
    if isinstance(rows, int) and rows > 0:  # libtiff clamps a strip's rows to the image's height
        _check_decoded_bytes("the TIFF's strips are", w, min(rows, h), img.mode, settings, chunk_bytes)


def _tiff_chunk_bytes_per_pixel(tags) -> int:
    """Bytes a pixel takes in one of a TIFF's strips or tiles, as libtiff holds it: every
    sample (BitsPerSample written once stands for each of SamplesPerPixel, as libtiff reads
    it), or one sample when the samples lie in separate planes (PlanarConfiguration 2)."""
    bits = tags.get(258, (1,))  # BitsPerSample
    bits = [b for b in (bits if isinstance(bits, tuple) else (bits,)) if isinstance(b, int)] or [1]
    samples = tags.get(277, len(bits))  # SamplesPerPixel
    if len(bits) == 1 and isinstance(samples, int) and samples > 1:
        bits = bits * samples
    chunk_bits = max(bits) if tags.get(284) == 2 else sum(bits)
    return max(1, -(-chunk_bits // 8))


def _check_bmp_rle(img: Image.Image) -> None:
    w, h = img.size
    if img.format == "BMP" and img.tile and img.tile[0][0] == "bmp_rle" and w * h > BMP_RLE_MAX_PIXELS:
        raise ImageTooLarge(f"the BMP is run-length encoded at {w}×{h} = {w * h:,} pixels; such a BMP may have at most "
                            f"{BMP_RLE_MAX_PIXELS:,} (its decoder is slow): re-save it as PNG")


def _check_data_length(fmt: str, size: tuple[int, int], n_bytes: int) -> None:
    if fmt == "JPEG" and size[0] * size[1] > n_bytes * JPEG_MAX_PIXELS_PER_BYTE:
        raise InvalidImage(f"the JPEG claims {size[0]}×{size[1]} pixels but holds {n_bytes:,} bytes: "
                           "far too little data for its header (truncated or crafted)")


def jpeg_scans(data: bytes, most: int = JPEG_MAX_SCANS) -> int:
    """The scans libjpeg would decode, counted up to ``most + 1``: segments are skipped by
    their length (an EXIF thumbnail, an ICC profile or a comment may hold any bytes), each
    scan's entropy-coded data up to the next marker, and the count stops at the first end of
    image. Bytes out of place are skipped to the next marker, as libjpeg skips them."""
    i, n, scans = 2, len(data), 0  # after the start-of-image marker
    while i + 1 < n and scans <= most:
        if data[i] != 0xFF or data[i + 1] in (0x00, 0xFF):  # out of place (FF 00 too), or a fill byte
            found = _JPEG_NEXT_MARKER.search(data, i + 1)
            if found is None:
                break
            i = found.start()
            continue
        marker = data[i + 1]
        if marker == _JPEG_EOI:
            break
        if marker in _JPEG_STANDALONE or i + 3 >= n:
            i += 2
            continue
        i += 2 + int.from_bytes(data[i + 2:i + 4], "big")  # the segment's length counts itself
        if marker == _JPEG_SOS:
            scans += 1
            found = _JPEG_NEXT_MARKER.search(data, i)  # past the scan's entropy-coded data
            if found is None:
                break
            i = found.start()
    return scans


def _check_jpeg_scans(fmt: str, data: bytes) -> None:
    if fmt != "JPEG":
        return
    scans = jpeg_scans(data)
    if scans > JPEG_MAX_SCANS:
        raise InvalidImage(f"the JPEG has more than {JPEG_MAX_SCANS} scans; at most {JPEG_MAX_SCANS} are accepted "
                           "(a progressive JPEG has about 10): re-save it as an ordinary JPEG")


def _orientation(img: Image.Image) -> int:
    """The EXIF orientation (1-8) from the file's own EXIF block (a TIFF's tag; JPEG's APP1,
    PNG's eXIf, WebP's EXIF chunk); 1 when there is none or it cannot be parsed: orientation is
    metadata, and a viewer shows such a file unrotated too. Not Pillow's ``getexif()``: it
    also takes an orientation from XMP or from a PNG's "Raw profile type exif" text, which
    browsers ignore, so a picture its user sees upright was read turned a quarter."""
    try:
        if img.format == "TIFF":
            value = img.tag_v2.get(0x0112, 1)
        else:
            raw = img.info.get("exif")
            if not raw:
                return 1
            exif = Image.Exif()
            exif.load(raw)
            value = exif.get(0x0112, 1)
    except Exception:  # a malformed EXIF block leaves the pixels as they are
        return 1
    # A SHORT, as the standard says: a "6" stored as text is ignored, as viewers ignore it.
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _oriented(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation as ``ImageOps.exif_transpose`` does, on the 8-bit array."""
    if orientation == 2:
        return cv2.flip(pixels, 1)
    if orientation == 3:
        return cv2.rotate(pixels, cv2.ROTATE_180)
    if orientation == 4:
        return cv2.flip(pixels, 0)
    if orientation == 5:
        return cv2.transpose(pixels)
    if orientation == 6:
        return cv2.rotate(pixels, cv2.ROTATE_90_CLOCKWISE)
    if orientation == 7:
        return cv2.rotate(cv2.transpose(pixels), cv2.ROTATE_180)
    if orientation == 8:
        return cv2.rotate(pixels, cv2.ROTATE_90_COUNTERCLOCKWISE)
    return pixels


def _bands(w: int, h: int):
    """Row bands of about ``_BAND_PIXELS`` pixels of an image ``w`` wide, ``h`` high: (first row, last row + 1)."""
    step = max(1, _BAND_PIXELS // w)
    for y in range(0, h, step):
        yield y, min(h, y + step)


def _to_uint8(img: Image.Image) -> np.ndarray:
    """Any PIL mode -> H×W uint8 (gray modes) or H×W×3 uint8 RGB; transparency (an alpha
    channel, or a colour key: PNG's tRNS; ``_shows_through``) is flattened onto white, or onto
    black when what is visible is light (``_background_for``). Converted a band of rows at a
    time: only the 8-bit result is ever whole, next to the decoded image."""
    if img.mode in _HIGH_DEPTH:
        return _scaled_gray(img)
    alpha = _shows_through(img)
    if img.mode == "L" and not alpha:
        return np.array(img, dtype=np.uint8)
    if img.mode == "1" and not alpha:
        return np.array(img.convert("L"), dtype=np.uint8)
    w, h = img.size
    out = np.empty((h, w, 3), np.uint8)
    # Two passes over the bands: the ground is chosen from the whole image, and keeping its
    # RGBA bands for the second pass would cost a third more than the result itself.
    rgba_bands = (_rgba(img.crop((0, y0, w, y1))) for y0, y1 in _bands(*img.size))
    background = _background_for(rgba_bands) if alpha else WHITE
    for y0, y1 in _bands(*img.size):
        band = img.crop((0, y0, w, y1))
        if alpha:
            rgba = _rgba(band)
            out[y0:y1] = _flattened(rgba[..., :3], rgba[..., 3:], background)
        else:
            out[y0:y1] = np.asarray(band if band.mode == "RGB" else band.convert("RGB"), dtype=np.uint8)
    return out


def _shows_through(img: Image.Image) -> bool:
    """Whether anything of the image is transparent: a colour key (PNG's tRNS in a palette,
    grey or RGB image), or an alpha band not 255 everywhere (an opaque RGBA screenshot has
    nothing to flatten), but for a BMP's alpha left all 0, which viewers show opaque, as
    browsers do."""
    if img.mode in ("P", "1", "L", "RGB"):
        return "transparency" in img.info
    if img.mode not in ("RGBA", "RGBa", "LA", "La", "PA"):
        return False
    if "A" not in img.getbands():  # premultiplied (La, RGBa): flattened as it is
        return True
    w, _ = img.size

    def alphas() -> Iterator[np.ndarray]:
        return (np.asarray(img.crop((0, y0, w, y1)).getchannel("A")) for y0, y1 in _bands(*img.size))

    if img.format == "BMP" and not any(alpha.max() for alpha in alphas()):
        return False
    return not _opaque(alphas())


def _opaque(alpha_bands: Iterable[np.ndarray]) -> bool:
    """Whether an alpha band is 255 everywhere, read a band of rows at a time and stopped at
    the first band where it is not."""
    return all(alpha.min() == 255 for alpha in alpha_bands)


def _rgba(band: Image.Image) -> np.ndarray:
    band = band.convert("LA") if band.mode == "La" else band  # PIL converts La to nothing else
    return np.asarray(band.convert("RGBA"))


WHITE, BLACK = 255, 0
LIGHT_INK = 128  # visible pixels lighter than this on average are light ink: flattened onto black


def _background_for(rgba_bands: Iterable[np.ndarray]) -> int:
    """What transparency is flattened onto: white, unless what is visible is light on average
    (BT.601 luma weighted by alpha squared), as white text on a transparent background is (a
    dark-mode logo, an overlay): on white it would vanish. Bands of RGBA rows (uint8), read once."""
    weighted = weight = 0.0
    for band in rgba_bands:
        rgba = band[:, ::2]  # every other column (bands are whole rows: alike however banded)
        a = rgba[..., 3].astype(np.float32)
        a *= a  # alpha squared: opaque ink outweighs a faint panel, glow or shadow around it
        luma = rgba[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
        weighted += float(np.vdot(luma, a))  # the transparent weigh nothing
        weight += float(a.sum())
    return BLACK if weight and weighted / weight >= LIGHT_INK else WHITE


def _flattened(colour: np.ndarray, alpha: np.ndarray, background: int) -> np.ndarray:
    """Colour (…×3) with its alpha (…×1) composited onto an opaque grey level, rounded as
    PIL's ``alpha_composite`` rounds: (c·a + bg·(255 − a) + 127) / 255."""
    a = alpha.astype(np.uint16)
    return ((colour.astype(np.uint16) * a + background * (255 - a) + 127) // 255).astype(np.uint8)


def _webp_by_libwebp(data: bytes) -> np.ndarray | None:
    """A WebP decoded by libwebp through OpenCV into one 8-bit array (an animated one: its
    first frame, composed on its canvas as PIL composes it), transparency flattened as
    ``_to_uint8`` flattens it: PIL's WebP plugin holds the picture in several 32-bit
    canvases (40 Mpx: 850 MB of memory, against 270 MB here; an animated 39.7 Mpx one peaked at
    768 MB in the engine). None when OpenCV does not read it: PIL then decodes it (or says
    what is wrong with it)."""
    pixels = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION)
    if pixels is None or pixels.ndim != 3 or pixels.shape[2] not in (3, 4):
        return None
    if pixels.shape[2] == 3:
        return cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB, dst=pixels)
    h, w = pixels.shape[:2]
    if _opaque(pixels[y0:y1, :, 3] for y0, y1 in _bands(w, h)):  # nothing to flatten
        return cv2.cvtColor(pixels, cv2.COLOR_BGRA2RGB)
    out = np.empty((h, w, 3), np.uint8)
    background = _background_for(pixels[y0:y1, :, [2, 1, 0, 3]] for y0, y1 in _bands(w, h))  # BGRA -> RGBA
    for y0, y1 in _bands(w, h):
        out[y0:y1] = _flattened(pixels[y0:y1, :, 2::-1], pixels[y0:y1, :, 3:], background)  # BGRA -> RGB
    return out


def _scaled_gray(img: Image.Image) -> np.ndarray:
    """16-bit and 32-bit gray -> 8-bit: integers scaled by their maximum (0 stays black),
    floats stretched from their smallest to their largest finite value; NaN is black."""
    w, h = img.size
    is_float = img.mode == "F"
    lo, hi = np.inf, -np.inf
    for y0, y1 in _bands(*img.size):
        band = np.asarray(img.crop((0, y0, w, y1)))
        if is_float:
            band = band[np.isfinite(band)]
        if band.size:
            lo, hi = min(lo, float(band.min())), max(hi, float(band.max()))
    if not is_float or not np.isfinite(lo):
        lo = 0.0
    hi = hi if np.isfinite(hi) and hi > lo else lo + 1.0
    scale = 255.0 / (hi - lo)
    out = np.empty((h, w), np.uint8)
    for y0, y1 in _bands(*img.size):
        with np.errstate(invalid="ignore"):  # a signalling NaN warns when cast; it is replaced below
            band = np.asarray(img.crop((0, y0, w, y1))).astype(np.float64)  # one band: 8 MB at most
        if is_float:
            np.nan_to_num(band, copy=False, nan=lo, posinf=hi, neginf=lo)
        band -= lo
        band *= scale
        np.clip(band, 0, 255, out=band)
        out[y0:y1] = np.rint(band)
    return out
