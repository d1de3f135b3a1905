import io
import struct
import zlib
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
from ocr_engine.config import Settings
from ocr_engine.errors import ImageTooLarge, InvalidImage, UnsupportedFormat
from ocr_engine.imagefile import BMP_RLE_MAX_PIXELS, _webp_by_libwebp, decode_image, jpeg_scans, sniff_format
from PIL import Image

from tests.helpers import _tiff, encode, rgb16_tiff, rle8_bmp, tiled_tiff

SETTINGS = Settings()


def rgb_image(w=40, h=20, colour=(200, 30, 30)) -> Image.Image:
    return Image.new("RGB", (w, h), colour)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "BMP", "TIFF", "WEBP", "GIF"])
def test_every_supported_format_decodes_to_rgb(fmt):
    data = encode(rgb_image(), fmt)
    out = decode_image(data, SETTINGS)
    assert out.rgb.shape == (20, 40, 3) and out.rgb.dtype == np.uint8
    assert out.format == fmt


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
@pytest.mark.parametrize("lossless", [True, False])
def test_a_webp_by_libwebp_reads_as_pil_would_read_it_transparency_on_white(mode, lossless):
    """Still WebPs are decoded by libwebp through OpenCV (a fraction of PIL's memory): the
    same pixels as PIL's decoder and ``_to_uint8``, EXIF rotation applied the same way."""
    rng = np.random.default_rng(7)
    pixels = rng.integers(0, 256, (37, 53, len(mode)), np.uint8)
    pixels[:5, ..., -1] = 0 if mode == "RGBA" else pixels[:5, ..., -1]  # fully transparent rows: white
    img = Image.fromarray(pixels, mode)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90° clockwise to show
    buf = io.BytesIO()
    img.save(buf, "WEBP", lossless=lossless, exif=exif.tobytes())
    decoded = Image.open(io.BytesIO(buf.getvalue())).convert("RGBA")
    expected = Image.alpha_composite(Image.new("RGBA", decoded.size, (255, 255, 255, 255)), decoded).convert("RGB")
    assert np.array_equal(_webp_by_libwebp(buf.getvalue()), np.asarray(expected))  # the path decode_image takes
    out = decode_image(buf.getvalue(), SETTINGS).rgb
    assert np.array_equal(out, cv2.rotate(np.asarray(expected), cv2.ROTATE_90_CLOCKWISE))
    if mode == "RGBA":
        assert (out[:, -5:] == 255).all()


def test_empty_bytes_are_refused():
    with pytest.raises(InvalidImage, match="empty"):
        decode_image(b"", SETTINGS)


def test_text_with_an_image_name_is_unsupported():
    with pytest.raises(UnsupportedFormat):
        decode_image(b"this is not a picture", SETTINGS)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_images_are_invalid(fmt):
    data = encode(Image.effect_noise((200, 200), 60).convert("RGB"), fmt)
    with pytest.raises(InvalidImage):
        decode_image(data[: len(data) // 2], SETTINGS)


def test_byte_limit_is_enforced_before_decoding():
    data = encode(rgb_image(), "PNG")
    with pytest.raises(ImageTooLarge, match="bytes"):
        decode_image(data, Settings(max_image_bytes=len(data) - 1))


def _png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that claims huge dimensions: a decompression bomb's header."""
    def chunk(kind, payload):
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 10)) + chunk(b"IEND", b"")


def test_decompression_bomb_is_refused_from_the_header():
    with pytest.raises(ImageTooLarge, match="pixels|side"):
        decode_image(_png_header_only(15000, 15000), SETTINGS)


@pytest.mark.parametrize("side", [10_000, 19_000])  # PIL's warning (over 89 Mpx), then its error (179 Mpx)
def test_a_bomb_pil_refuses_first_is_told_our_limit_not_pils(side):
    """PIL refuses these while opening them, and its message quoted its own 178,956,970."""
    with pytest.raises(ImageTooLarge) as refused:
        decode_image(_png_header_only(side, side), SETTINGS)
    assert str(refused.value) == f"the image is {side * side:,} pixels; the limit is {SETTINGS.max_pixels:,}"


def test_a_bomb_under_a_pixel_limit_above_pils_is_told_the_limit_it_passed():
    with pytest.raises(ImageTooLarge) as refused:
        decode_image(_png_header_only(10_000, 10_000), Settings(max_pixels=200_000_000))
    assert str(refused.value) == f"the image is 100,000,000 pixels; the limit is {Image.MAX_IMAGE_PIXELS:,}"


def test_side_limit():
    data = encode(rgb_image(w=300, h=2), "PNG")
    with pytest.raises(ImageTooLarge, match="longest side"):
        decode_image(data, Settings(max_side=200))


def test_one_pixel_image_decodes():
    assert decode_image(encode(rgb_image(1, 1), "PNG"), SETTINGS).rgb.shape == (1, 1, 3)


def test_sixteen_bit_grayscale_is_scaled_to_eight_bits():
    arr = (np.arange(64 * 32, dtype=np.uint16).reshape(32, 64) * 30).astype(np.uint16)
    data = encode(Image.fromarray(arr), "PNG")  # uint16 -> mode I;16
    out = decode_image(data, SETTINGS).rgb
    assert out.dtype == np.uint8 and out.max() == 255 and out.min() == 0


def test_cmyk_jpeg_becomes_rgb():
    out = decode_image(encode(rgb_image().convert("CMYK"), "JPEG"), SETTINGS).rgb
    r, g, b = out[10, 20]
    assert r > 150 and g < 90 and b < 90  # still red


def test_palette_and_alpha_are_flattened_on_white():
    rgba = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    out = decode_image(encode(rgba, "PNG"), SETTINGS).rgb
    assert (out == 255).all()
    pal = rgb_image().convert("P")
    assert decode_image(encode(pal, "PNG"), SETTINGS).rgb.shape == (20, 40, 3)


def test_exif_orientation_is_applied():
    img = rgb_image(w=60, h=20)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    out = decode_image(encode(img, "JPEG", exif=exif.tobytes()), SETTINGS)
    assert (out.width, out.height) == (20, 60)


def test_animated_gif_uses_the_first_frame():
    frames = [rgb_image(colour=(255, 0, 0)), rgb_image(colour=(0, 0, 255))]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    out = decode_image(buf.getvalue(), SETTINGS).rgb
    assert out[5, 5, 0] > 200 and out[5, 5, 2] < 50


def test_sniffing():
    assert sniff_format(b"RIFF\0\0\0\0WEBPVP8 ") == "WEBP"
    assert sniff_format(b"%PDF-1.7") is None


# -- any decoder failure is InvalidImage -------------------------------------------------
@pytest.mark.parametrize("exc", [TypeError("bad operand type for abs(): 'str'"), KeyError(7),
                                 struct.error("required argument is not an integer"), RuntimeError("libfoo"),
                                 IndexError("tuple index out of range"), ZeroDivisionError("division by zero")])
def test_whatever_a_decoder_raises_becomes_invalid_image(monkeypatch, exc):
    from ocr_engine import imagefile

    def broken(img):
        raise exc

    monkeypatch.setattr(imagefile, "_to_uint8", broken)
    with pytest.raises(InvalidImage, match=type(exc).__name__) as info:
        decode_image(encode(rgb_image(), "PNG"), SETTINGS)
    assert info.value.code == "invalid_image" and info.value.__cause__ is exc


def test_running_out_of_memory_while_decoding_is_too_large(monkeypatch):
    from ocr_engine import imagefile

    def hungry(img):
        raise MemoryError

    monkeypatch.setattr(imagefile, "_to_uint8", hungry)
    with pytest.raises(ImageTooLarge, match="memory"):
        decode_image(encode(rgb_image(), "PNG"), SETTINGS)


def _jpeg_with_exif(img: Image.Image, entries: list[tuple[int, int, int, bytes]]) -> bytes:
    """A JPEG whose EXIF block holds exactly ``entries`` (tag, type, count, 4-byte value)."""
    ifd = struct.pack("<H", len(entries)) + b"".join(
        struct.pack("<HHI", tag, kind, count) + value for tag, kind, count, value in entries) + b"\0\0\0\0"
    return encode(img, "JPEG", exif=b"Exif\0\0II*\x00" + struct.pack("<I", 8) + ifd)


def test_a_malformed_exif_tag_does_not_stop_the_orientation():
    # The outside test's file: orientation 6, and XResolution (a RATIONAL) stored as ASCII,
    # which made ImageOps.exif_transpose raise TypeError (a 500). The orientation is still
    # read and applied; the rest of the EXIF block is not needed.
    data = _jpeg_with_exif(rgb_image(w=60, h=20), [(0x0112, 3, 1, struct.pack("<HH", 6, 0)),
                                                   (0x011A, 2, 4, b"abc\0")])
    out = decode_image(data, SETTINGS)
    assert (out.width, out.height) == (20, 60)


def test_an_unparseable_exif_block_leaves_the_image_unrotated():
    data = encode(rgb_image(w=60, h=20), "JPEG", exif=b"Exif\0\0II*\x00\xff\xff\xff\x7f garbage")
    assert decode_image(data, SETTINGS).rgb.shape == (20, 60, 3)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_matches_pil(orientation):
    from PIL import ImageOps

    rng = np.random.default_rng(orientation)
    img = Image.fromarray(rng.integers(0, 256, (7, 11, 3), dtype=np.uint8))
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encode(img, "PNG", exif=exif.tobytes())
    expected = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB"))
    assert np.array_equal(decode_image(data, SETTINGS).rgb, expected)


XMP_ORIENTATION_6 = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-'
                     b'syntax-ns#"><rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="6"/>'
                     b"</rdf:RDF></x:xmpmeta>")


def _png_with_raw_exif_profile(img: Image.Image, orientation: int) -> bytes:
    """ImageMagick's way to keep EXIF in a PNG: hex in a "Raw profile type exif" text chunk."""
    from PIL.PngImagePlugin import PngInfo

    exif = Image.Exif()
    exif[0x0112] = orientation
    raw = b"Exif\x00\x00" + exif.tobytes()
    text = f"\nexif\n{len(raw):8d}\n{raw.hex()}\n"
    info = PngInfo()
    info.add_text("Raw profile type exif", text, zip=True)
    return encode(img, "PNG", pnginfo=info)


def _png_with_exif_after_its_pixels(img: Image.Image, orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    payload = exif.tobytes()
    data = encode(img, "PNG")
    chunk = struct.pack(">I", len(payload)) + b"eXIf" + payload
    chunk += struct.pack(">I", zlib.crc32(b"eXIf" + payload))
    end = data.rindex(b"IEND") - 4
    return data[:end] + chunk + data[end:]


@pytest.mark.parametrize("make", [
    lambda img: encode(img, "JPEG", xmp=XMP_ORIENTATION_6),
    lambda img: _png_with_raw_exif_profile(img, 6),
    lambda img: _png_with_exif_after_its_pixels(img, 6),
], ids=["jpeg-xmp", "png-raw-profile", "png-exif-after-pixels"])
def test_an_orientation_browsers_ignore_is_ignored(make):
    """Pillow's getexif() also takes an orientation from XMP and from ImageMagick's PNG text,
    and a PNG's eXIf after its pixels once loaded; browsers show all three upright, and a
    street scene read turned a quarter came back as one junk word in a 880x1280 frame."""
    out = decode_image(make(rgb_image(w=60, h=20)), SETTINGS)
    assert (out.width, out.height) == (60, 20)


def test_a_tiffs_own_orientation_tag_is_applied():
    out = decode_image(encode(rgb_image(w=60, h=20), "TIFF", tiffinfo={0x0112: 6}), SETTINGS)
    assert (out.width, out.height) == (20, 60)


# -- data far too short for the header ---------------------------------------------------
def _jpeg_claiming(width: int, height: int) -> bytes:
    """A tiny valid JPEG whose frame header is rewritten to claim ``width``×``height``: libjpeg
    decodes its one scan, finds the end marker, and fills the rest with grey."""
    data = bytearray(encode(Image.new("L", (64, 64), 128), "JPEG"))
    sof = data.find(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


def test_a_jpeg_far_too_short_for_its_header_is_refused():
    data = _jpeg_claiming(19999, 1999)
    assert len(data) < 1000
    with pytest.raises(InvalidImage, match="far too little data"):
        decode_image(data, SETTINGS)


def test_a_nearly_blank_but_real_jpeg_is_not_taken_for_a_short_one():
    # The densest JPEGs an encoder writes (one colour, quality 1) hold ~256 pixels a byte,
    # well inside the 4096 allowed.
    data = encode(Image.new("RGB", (4000, 3000), (10, 200, 30)), "JPEG", quality=1, optimize=True)
    assert decode_image(data, SETTINGS).rgb.shape == (3000, 4000, 3)


def _gif_claiming(width: int, height: int) -> bytes:
    data = bytearray(encode(Image.new("L", (64, 64), 100), "GIF"))
    struct.pack_into("<HH", data, 6, width, height)  # logical screen
    frame = data.find(b"\x2c")
    struct.pack_into("<HH", data, frame + 5, width, height)  # image descriptor
    return bytes(data)


def _bmp_claiming(width: int, height: int) -> bytes:
    data = bytearray(encode(rgb_image(64, 64), "BMP"))
    struct.pack_into("<ii", data, 18, width, height)
    return bytes(data)


@pytest.mark.parametrize("data", [_png_header_only(6000, 6000), _gif_claiming(6000, 6000), _bmp_claiming(3000, 3000)],
                         ids=["PNG", "GIF", "BMP"])
def test_other_formats_short_for_their_header_are_refused_by_pil(data):
    from PIL import ImageFile

    assert ImageFile.LOAD_TRUNCATED_IMAGES is False  # set by imagefile.py; a truncated file must raise
    with pytest.raises(InvalidImage, match="truncated"):
        decode_image(data, SETTINGS)


# -- memory: decoded bytes, 8-bit work ---------------------------------------------------
@pytest.mark.parametrize("img,accepted", [
    (Image.new("RGB", (100, 100)), True),  # 3 bytes a pixel: the budget exactly
    (Image.new("L", (100, 100)), True),
    (Image.fromarray(np.zeros((100, 100), np.uint16)), True),  # 16-bit: 2 bytes a pixel
    (Image.new("RGBA", (100, 100)), False),  # 4 bytes a pixel
    (Image.new("RGBA", (86, 86)), True),
    (Image.fromarray(np.zeros((100, 100), np.float32)), False),  # 32-bit float
    (Image.fromarray(np.zeros((100, 100), np.int32)), False),  # 32-bit integer
    (Image.fromarray(np.zeros((86, 86), np.int32)), True),
], ids=["RGB", "L", "16-bit", "RGBA", "RGBA-smaller", "float32", "int32", "int32-smaller"])
def test_the_pixel_limit_counts_decoded_bytes(img, accepted):
    settings = Settings(max_pixels=10_000)  # 30,000 bytes of 8-bit RGB
    data = encode(img, "TIFF")
    if accepted:
        assert decode_image(data, settings).rgb.dtype == np.uint8
    else:
        with pytest.raises(ImageTooLarge, match="bytes decoded"):
            decode_image(data, settings)


def test_thirty_two_bit_images_are_stretched_to_eight_bits():
    ints = np.array([[0, 1000, 2000], [-5, 4000, 4000]], np.int32)
    out = decode_image(encode(Image.fromarray(ints), "TIFF"), SETTINGS).rgb[:, :, 0]
    assert out.tolist() == [[0, 64, 128], [0, 255, 255]]  # scaled by the maximum; negatives are black
    floats = np.array([[-1.0, 0.0, 1.0], [np.nan, np.inf, -np.inf]], np.float32)
    out = decode_image(encode(Image.fromarray(floats), "TIFF"), SETTINGS).rgb[:, :, 0]
    assert out.tolist() == [[0, 128, 255], [0, 255, 0]]  # from the smallest to the largest finite value


@pytest.mark.parametrize("img", [
    Image.effect_noise((300, 200), 80).convert("RGB").convert("RGBA"),
    Image.effect_noise((300, 200), 80).convert("RGB").quantize(64),
    Image.effect_noise((300, 200), 80).convert("RGB").convert("CMYK"),
    Image.effect_noise((300, 200), 80).convert("LA"),
    Image.fromarray((np.random.default_rng(1).random((200, 300)) * 65535).astype(np.uint16)),
    Image.fromarray(np.random.default_rng(2).random((200, 300)).astype(np.float32)),
], ids=["RGBA", "palette", "CMYK", "LA", "16-bit", "float32"])
def test_converting_in_bands_equals_converting_whole(monkeypatch, img):
    from ocr_engine import imagefile

    if img.mode == "RGBA":
        img.putalpha(Image.effect_noise(img.size, 90).convert("L"))
    data = encode(img, "TIFF" if img.mode in ("CMYK", "F", "I;16") else "PNG")
    whole = decode_image(data, SETTINGS).rgb
    monkeypatch.setattr(imagefile, "_BAND_PIXELS", 1000)  # 3 rows a band
    assert np.array_equal(decode_image(data, SETTINGS).rgb, whole)


def _progressive_jpeg_repeating_its_last_scan(copies: int) -> bytes:
    """A valid JPEG that a decoder reads pass after pass: the last scan written again and
    again (the shape of a small file that decodes for minutes when the image is large)."""
    data = encode(Image.new("RGB", (64, 48), (90, 140, 200)), "JPEG", progressive=True, quality=90)
    last_scan, end = data.rfind(b"\xff\xda"), data.rfind(b"\xff\xd9")
    return data[:end] + data[last_scan:end] * copies + data[end:]


def test_a_jpeg_of_thousands_of_scans_is_refused_before_decoding():
    data = _progressive_jpeg_repeating_its_last_scan(2000)
    Image.open(io.BytesIO(data)).load()  # a valid file: the scan limit, not the decoder, refuses it
    with pytest.raises(InvalidImage, match="more than 50 scans"):
        decode_image(data, SETTINGS)


def _noise_jpeg(**kw) -> bytes:
    return encode(Image.effect_noise((320, 240), 60).convert("RGB"), "JPEG", **kw)


def test_bytes_out_of_place_do_not_hide_scans():
    """libjpeg skips bytes that are not a marker to the next marker: so must the count (read as
    a segment, FF 00 FF FF would jump 64 KB past the scans libjpeg still decodes)."""
    data = _progressive_jpeg_repeating_its_last_scan(2000)
    hidden = data[:2] + b"\xff\x00\xff\xff" + data[2:]
    Image.open(io.BytesIO(hidden)).load()
    with pytest.raises(InvalidImage, match="more than 50 scans"):
        decode_image(hidden, SETTINGS)


def test_ordinary_progressive_jpegs_are_read():
    for img in (Image.effect_noise((640, 480), 60).convert("RGB"), Image.new("L", (640, 480), 90)):
        data = encode(img, "JPEG", progressive=True, optimize=True)
        assert 2 < jpeg_scans(data) <= 12
        assert decode_image(data, SETTINGS).rgb.shape == (480, 640, 3)


@pytest.mark.parametrize("after", [
    np.random.default_rng(0).bytes(6 << 20),  # a motion photo's video: ~16 chance 0xFFDA pairs a MiB
    _noise_jpeg(progressive=True),  # a second picture (MPF), never decoded
], ids=["video after the image", "second picture"])
def test_what_follows_the_end_of_the_image_is_not_counted(after):
    data = _noise_jpeg(progressive=True)
    assert (data + after).count(b"\xff\xda") > 15  # a count of the bytes would pass 50 with the video
    assert jpeg_scans(data + after) == jpeg_scans(data) == 10
    s3_limits = replace(SETTINGS, max_image_bytes=10 << 20)  # the S3 and bulk functions' 10 MiB
    assert decode_image(data + after, s3_limits).rgb.shape == (240, 320, 3)


def test_start_of_scan_bytes_inside_a_segment_are_not_scans():
    data = _noise_jpeg(progressive=True)
    payload = b"\xff\xda" * 200  # a comment (or an EXIF block, an ICC profile) may hold any bytes
    with_comment = data[:2] + b"\xff\xfe" + (len(payload) + 2).to_bytes(2, "big") + payload + data[2:]
    assert jpeg_scans(with_comment) == 10
    assert decode_image(with_comment, SETTINGS).rgb.shape == (240, 320, 3)


def test_a_baseline_jpeg_of_many_megabytes_is_one_scan():
    assert jpeg_scans(encode(Image.effect_noise((2000, 1500), 80).convert("RGB"), "JPEG", quality=95)) == 1


def test_load_rgb_reads_a_file_no_further_than_the_byte_limit(tmp_path):
    """Training, evaluation and ``ocr`` read files through load_rgb: an endless file is
    refused after max_image_bytes + 1 bytes, not held in memory."""
    from ocr_engine.imagefile import load_rgb

    with pytest.raises(ImageTooLarge, match="more than the limit of 1,000 bytes"):
        load_rgb(Path("/dev/zero"), replace(SETTINGS, max_image_bytes=1000))
    small = tmp_path / "w.png"
    small.write_bytes(encode(rgb_image(), "PNG"))
    assert load_rgb(small).shape == (20, 40, 3)


def test_a_tiled_tiff_decodes():
    pixels = np.random.default_rng(0).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    assert np.array_equal(decode_image(tiled_tiff(pixels, tile=32), SETTINGS).rgb, pixels)


def test_a_tiff_tile_beyond_the_decoded_budget_is_refused_before_decoding():
    # 16×16 pixels but a 2,400×2,400 tile: 17 MB the decoder would allocate for 768 bytes of image.
    settings = Settings(max_pixels=1_000_000)  # 3 MB of 8-bit RGB
    data = tiled_tiff(np.zeros((16, 16, 3), np.uint8), tile=2400)
    assert len(data) < 40_000
    with pytest.raises(ImageTooLarge, match="tiles are 2400×2400"):
        decode_image(data, settings)
    assert decode_image(tiled_tiff(np.zeros((16, 16, 3), np.uint8), tile=992), settings).rgb.shape == (16, 16, 3)


@pytest.mark.parametrize("pixels", [np.full((20, 40, 3), 0.5, np.float32), np.full((20, 40), 0.5, np.float64)],
                         ids=["float32 RGB", "float64 gray"])
def test_a_tiff_kind_the_decoder_cannot_open_is_explained_without_python_internals(pixels):
    with pytest.raises(InvalidImage) as raised:
        decode_image(cv2.imencode(".tiff", pixels)[1].tobytes(), SETTINGS)
    assert "this decoder does not read" in str(raised.value) and "0x" not in str(raised.value)


def test_a_small_run_length_encoded_bmp_reads_pixel_for_pixel():
    # Two rows, bottom first: a run of 3 of grey 200 then 2 of grey 10; then 5 of grey 90.
    data = rle8_bmp(5, 2, [b"\x03\xc8\x02\x0a", b"\x05\x5a"])
    assert decode_image(data, SETTINGS).rgb[..., 0].tolist() == [[90] * 5, [200, 200, 200, 10, 10]]


def test_a_large_run_length_encoded_bmp_is_refused_from_its_header():
    """PIL decodes RLE in Python: this 9 KB file of 40 Mpx took 10 s to decode."""
    data = rle8_bmp(20000, 2000)
    assert len(data) < 10_000 and BMP_RLE_MAX_PIXELS < 20000 * 2000
    with pytest.raises(ImageTooLarge, match="run-length encoded .* re-save it as PNG"):
        decode_image(data, SETTINGS)


@pytest.mark.parametrize("layout", [{}, {"bits_once": True}, {"rows_tag": False}],
                         ids=["as written by libtiff", "BitsPerSample written once", "no RowsPerStrip"])
def test_a_16_bit_tiff_in_one_strip_past_the_budget_is_refused_and_in_strips_is_read(layout):
    """libtiff holds a whole strip in the file's 16-bit samples: a 40 Mpx one-strip file cost 240 MB
    more than the 8-bit RGB image PIL makes of it. The same pixels in smaller strips read."""
    pixels = (np.random.default_rng(3).integers(0, 256, (100, 100, 3)) * 257).astype(np.uint16)
    small_budget = replace(SETTINGS, max_pixels=15_000)  # the image fits (30,000 bytes of RGB); one strip does not
    with pytest.raises(ImageTooLarge, match=r"strips are 100×100 in mode RGB \(6 bytes a pixel\): 60,000 bytes"):
        decode_image(rgb16_tiff(pixels, rows_per_strip=100, **layout), small_budget)
    if layout.get("rows_tag", True):
        out = decode_image(rgb16_tiff(pixels, rows_per_strip=10, **layout), small_budget).rgb
        assert np.array_equal(out, (pixels >> 8).astype(np.uint8))


def test_a_planar_16_bit_tiff_counts_one_sample_a_strip():
    """Each of its strips holds one sample: 20,000 bytes here, within the budget, as it was."""
    pixels = (np.random.default_rng(4).integers(0, 256, (100, 100, 3)) * 257).astype(np.uint16)
    out = decode_image(rgb16_tiff(pixels, rows_per_strip=100, planar=True), replace(SETTINGS, max_pixels=15_000))
    assert out.rgb.shape == (100, 100, 3)  # read, not refused (PIL's own reading of planar 16-bit aside)


def _shown_on(img: Image.Image, grey: int = 255) -> np.ndarray:
    """What a viewer shows: ``img`` (its transparency as PIL reads it) over an opaque grey level."""
    rgba = img.convert("RGBA")
    return np.asarray(Image.alpha_composite(Image.new("RGBA", rgba.size, (grey, grey, grey, 255)), rgba).convert("RGB"))


@pytest.mark.parametrize("mode, key", [("L", 0), ("RGB", (0, 0, 0)), ("1", 0)])
def test_a_png_with_a_transparent_colour_is_flattened_on_white(mode, key):
    """A grey or RGB PNG can mark one colour transparent (a tRNS chunk, as PNG optimisers store
    a logo's binary alpha): the transparent background was read as its stored colour (black
    here, under dark text), not as the white a viewer shows. White ink (the 1-bit image) goes
    on black, or it would vanish."""
    ink = 255 if mode == "1" else 40  # the key is black: the ink is any other colour
    pixels = np.zeros((20, 40), np.uint8)
    pixels[8:12, 5:35] = ink
    img = Image.fromarray(pixels).convert(mode)
    data = encode(img, "PNG", transparency=key)
    img = Image.open(io.BytesIO(data))
    assert img.mode == mode and "transparency" in img.info
    out = decode_image(data, SETTINGS).rgb
    background = 0 if ink == 255 else 255
    assert np.array_equal(out, _shown_on(img, background))
    assert (out[0, 0] == background).all() and (out[10, 20] == ink).all()  # the ink as it is, on a ground it shows on


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "TIFF"])
@pytest.mark.parametrize(("ink", "ground"), [(255, 0), (230, 0), (20, 255), (0, 255)])
def test_ink_on_a_transparent_background_stays_visible(fmt, ink, ground):
    """Light text drawn on a transparent background (a dark-mode logo) was flattened onto white,
    where it vanished: the page showed the words and the API read none."""
    alpha = np.zeros((20, 40), np.uint8)
    alpha[8:12, 5:35] = 255
    rgba = np.dstack([np.full((20, 40, 3), ink, np.uint8), alpha])
    kw = {"lossless": True} if fmt == "WEBP" else {}
    out = decode_image(encode(Image.fromarray(rgba, "RGBA"), fmt, **kw), SETTINGS).rgb
    assert (out[0, 0] == ground).all() and (out[10, 20] == ink).all()


def test_a_tiff_of_grey_and_premultiplied_alpha_is_read():
    """Grey with associated (premultiplied) alpha, ExtraSamples 1: PIL's mode La, which PIL
    converts to nothing but LA; it was refused as 'corrupt or truncated'."""
    grey, alpha = np.array([[0, 100, 200, 50]], np.uint8), np.array([[255, 255, 200, 0]], np.uint8)
    premultiplied = (grey.astype(np.uint16) * alpha // 255).astype(np.uint8)
    body = np.stack([premultiplied, alpha], -1).tobytes()
    short, long_ = 3, 4
    entries = [(256, short, 1, 4), (257, short, 1, 1), (258, short, 2, 8 | 8 << 16), (259, short, 1, 1),
               (262, short, 1, 1), (273, long_, 1, 8), (277, short, 1, 2), (278, short, 1, 1),
               (279, long_, 1, len(body)), (338, short, 1, 1)]
    data = _tiff(body, entries)
    img = Image.open(io.BytesIO(data))
    assert img.mode == "La"
    out = decode_image(data, SETTINGS).rgb
    assert np.array_equal(out, _shown_on(img.convert("LA")))
    assert out[0, :, 0].tolist()[:2] == [0, 100] and (out[0, 3] == 255).all()  # opaque as they are; clear: white


def test_an_animated_webp_is_decoded_by_libwebp_not_pils_canvases(monkeypatch):
    """PIL's WebP decoder holds a picture in several 32-bit canvases: a 40 Mpx animated WebP
    of 262 KB peaked at 768 MB. Its first frame is read through OpenCV as a still one is."""
    from PIL import WebPImagePlugin

    rng = np.random.default_rng(5)
    frames = [Image.fromarray(rng.integers(0, 256, (30, 50, 4), np.uint8), "RGBA") for _ in range(2)]
    buf = io.BytesIO()
    frames[0].save(buf, "WEBP", save_all=True, append_images=frames[1:], lossless=True)
    first = Image.open(io.BytesIO(buf.getvalue()))
    assert first.n_frames == 2
    expected = _shown_on(first)  # PIL's reading of the first frame, on white

    def no_pil_decoding(self):
        raise AssertionError("PIL's WebP decoder was used")

    monkeypatch.setattr(WebPImagePlugin.WebPImageFile, "load", no_pil_decoding)
    assert np.array_equal(decode_image(buf.getvalue(), SETTINGS).rgb, expected)


def test_a_bmp_whose_alpha_channel_is_all_zero_is_read_opaque():
    """A 32-bit BMP may declare an alpha mask and leave it unused (all 0): browsers show it opaque
    (Chromium's BMP reader: 'decode as if fully opaque until we see a non-zero alpha value'). It
    read as blank white. A BMP that does use its alpha is still flattened onto white."""
    rng = np.random.default_rng(6)
    bgr = rng.integers(0, 256, (20, 30, 3), np.uint8)
    unused = cv2.imencode(".bmp", np.dstack([bgr, np.zeros((20, 30), np.uint8)]))[1].tobytes()
    assert Image.open(io.BytesIO(unused)).mode == "RGBA"
    assert np.array_equal(decode_image(unused, SETTINGS).rgb, bgr[..., ::-1])
    alpha = np.zeros((20, 30), np.uint8)
    alpha[:, 15:] = 255  # the left half transparent
    dark = bgr // 2  # what shows is dark on average: white is the ground it shows on
    used = cv2.imencode(".bmp", np.dstack([dark, alpha]))[1].tobytes()
    out = decode_image(used, SETTINGS).rgb
    assert (out[:, :15] == 255).all() and np.array_equal(out[:, 15:], dark[:, 15:, ::-1])


def test_a_tiff_of_several_pages_is_read_by_its_first():
    """As the README and the upload field say: the first page or frame."""
    pages = [rgb_image(colour=(255, 0, 0)), rgb_image(colour=(0, 0, 255))]
    buf = io.BytesIO()
    pages[0].save(buf, "TIFF", save_all=True, append_images=pages[1:])
    assert Image.open(io.BytesIO(buf.getvalue())).n_frames == 2
    assert (decode_image(buf.getvalue(), SETTINGS).rgb[0, 0] == (255, 0, 0)).all()


def test_dark_ink_on_a_faint_light_panel_is_not_flattened_onto_black():
    """A "frosted" panel (white at 20% opacity) under dark text: weighed by alpha, the panel
    made the image light, it went onto black, and panel and text both became grey 51."""
    rgba = np.zeros((40, 120, 4), np.uint8)
    rgba[...] = (255, 255, 255, 51)
    rgba[15:25, 10:110] = (51, 51, 51, 255)  # the ink, opaque
    out = decode_image(encode(Image.fromarray(rgba, "RGBA"), "PNG"), SETTINGS).rgb
    assert out[0, 0, 0] > 200 and out[20, 50, 0] == 51  # the panel on white, the ink apart from it


def test_an_opaque_alpha_band_is_read_as_the_colours_it_holds():
    colours = np.random.default_rng(8).integers(0, 256, (20, 30, 3), np.uint8)
    rgba = np.dstack([colours, np.full((20, 30), 255, np.uint8)])
    for fmt, kw in (("PNG", {}), ("WEBP", {"lossless": True})):
        out = decode_image(encode(Image.fromarray(rgba, "RGBA"), fmt, **kw), SETTINGS).rgb
        assert np.array_equal(out, rgba[..., :3])


def test_a_tiffs_xmp_orientation_is_ignored_as_other_formats_ignore_it():
    from PIL import TiffImagePlugin

    info = TiffImagePlugin.ImageFileDirectory_v2()
    info[700] = XMP_ORIENTATION_6
    info.tagtype[700] = 1
    out = decode_image(encode(rgb_image(w=60, h=20), "TIFF", tiffinfo=info), SETTINGS)
    assert (out.width, out.height) == (60, 20)


def test_an_orientation_stored_as_text_is_ignored():
    """The tag is a SHORT; a "6" stored as ASCII is ignored, as Pillow's exif_transpose ignores it."""
    data = _jpeg_with_exif(rgb_image(w=60, h=20), [(0x0112, 2, 2, b"6\0\0\0")])
    out = decode_image(data, SETTINGS)
    assert (out.width, out.height) == (60, 20)
