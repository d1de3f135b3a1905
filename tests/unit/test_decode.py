import io
import struct
import zlib

import numpy as np
import pytest
from ocr_engine.config import Settings
from ocr_engine.decode import decode_image, sniff_format
from ocr_engine.errors import ImageTooLarge, InvalidImage, UnsupportedFormat
from PIL import Image

from tests.helpers import encode

SETTINGS = Settings()


def rgb_image(w=40, h=20, colour=(200, 30, 30)) -> Image.Image:
    return Image.new("RGB", (w, h), colour)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "BMP", "TIFF", "WEBP", "GIF"])
def test_every_supported_format_decodes_to_rgb(fmt):
    data = encode(rgb_image(), fmt)
    out = decode_image(data, SETTINGS)
    assert out.rgb.shape == (20, 40, 3) and out.rgb.dtype == np.uint8
    assert out.format == fmt


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
