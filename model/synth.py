"""Synthetic word images for training: many fonts, colours, backgrounds and distortions.

Each sample is rendered with PIL (a font from the Debian packages in ``font-packages.txt``
or a Google Fonts family from ``google-fonts.txt``), then distorted with OpenCV
(perspective, rotation, blur, noise, JPEG artefacts, low resolution, tight or loose crops)
and passed through the engine's own preprocessing. About 4.3 ms per image on one core here
(226-237 images/s, the GPU bundle's fonts; model/checkpoints/README.md, "Fonts that draw no letters").
"""

from __future__ import annotations

import functools
import glob
import os
import string

import cv2
import numpy as np
from ocr_engine.charset import normalize_text
from ocr_engine.orient import stacked_as_row
from PIL import Image, ImageDraw, ImageFont

# Fonts and words come from Debian's font packages and wordfreq; a machine with neither
# (a lent GPU has no network) points these at a bundle made by model/device_bundle.py.
# Google Fonts fetched by ``python -m model.google_fonts`` land in the repository's .cache/fonts.
GOOGLE_FONTS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".cache", "fonts")
FONT_DIRS = tuple(os.environ.get("OCR_FONT_DIRS", os.pathsep.join(("/usr/share/fonts", "/usr/local/share/fonts",
                                                                   GOOGLE_FONTS_DIR))).split(os.pathsep))
FONT_EXTENSIONS = ("ttf", "otf", "woff", "woff2")
WORDS_FILE = os.environ.get("OCR_WORDS_FILE")
MAX_LABEL_LEN = 24  # CTC needs T=32 >= label length + repeats; keep a margin
# Share of words set on an arc, as on round signs, plaques and logos: the phase-2 model's
# IIIT5K test errors on large crops were mostly curved or script lettering (from phase 4).
CURVED = 0.12
# The failure classes of issue 16 (phase 9's misses on the dev and aside sets), each a share
# of the samples: letters stacked one above another (read as the engine reads them, laid
# side by side: ocr_engine.orient), dot-matrix (LED) lettering, wide letter-spacing, text
# set very small, and punctuation the label leaves out (the model must learn to skip it).
STACKED = 0.04
DOT_MATRIX = 0.04
WIDE_SPACING = 0.06
TINY = 0.08
PUNCTUATED = 0.10
RENDER_ATTEMPTS = 5  # fresh draws (a new word and font each) before a FreeType error stops training
# Families that draw no Latin letters at Latin code points, so a sample in them would teach a
# label the image does not show: barcodes, charts (Linefont, Wavefont), ornaments (Yarndings),
# and two symbol-encoded fonts whose "a" is a dingbat (D050000L, URW's Dingbats) or an alpha
# (Standard Symbols PS). ``latin_font_name`` cannot tell these from letters (they draw a distinct
# visible shape for each); the phase-10 model, trained on them, reads the Greek of "Hamburg STREET"
# set in Standard Symbols PS as "haburg street" (model/checkpoints/README.md, "Fonts that draw no
# letters"). Prefixes of family names: "Libre Barcode" stands for its six families.
LEFT_OUT_FAMILIES = ("Libre Barcode", "Linefont", "Wavefont", "Yarndings", "D050000L", "Standard Symbols PS")
# Characters that appear in real words' images but not in the alphabet.
PUNCTUATION = "!?.,:;'\"()-&/#$%*+@"
# Every character a sample may draw (``punctuated`` also brackets words): the GPU bundle's
# fonts are cut down to these (model.device_bundle.compact_font).
DRAWN_CHARACTERS = string.ascii_letters + string.digits + PUNCTUATION + "[] "


def curve(img: np.ndarray, box: np.ndarray, bend: float) -> tuple[np.ndarray, np.ndarray]:
    """Bend the text line in ``box`` into an arc whose middle rises by ``bend`` pixels
    (sinks, when negative) while its ends stay; -> (image, the text's new box).

    The image grows by |bend| above and below so nothing leaves it.
    """
    pad = int(np.ceil(abs(bend))) + 1
    img = cv2.copyMakeBorder(img, pad, pad, 0, 0, cv2.BORDER_REPLICATE)
    h, w = img.shape[:2]
    half = max(1.0, (box[2] - box[0]) / 2)
    u = np.clip((np.arange(w, dtype=np.float32) - (box[0] + box[2]) / 2) / half, -1.0, 1.0)
    rise = bend * (1.0 - u**2)  # 0 at the ends of the text, ``bend`` in its middle
    map_x = np.tile(np.arange(w, dtype=np.float32), (h, 1))
    map_y = np.arange(h, dtype=np.float32)[:, None] + rise[None, :]  # each column moves up by rise
    out = cv2.remap(img, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    top = box[1] + pad - max(bend, 0.0)
    bottom = box[3] + pad + max(-bend, 0.0)
    return out, np.float32([box[0], top, box[2], bottom])


@functools.cache  # find_fonts reads every font once; device_bundle.pick_fonts asks again by path
def latin_font_name(path: str) -> tuple[str, str] | None:
    """(family, style) as a font file names itself, e.g. ("Cabin", "Regular"), when it draws
    Latin letters; None when it does not. Symbol and icon fonts draw boxes, nothing or one
    shape for every letter: a real Latin font draws "Hag0" visibly and four distinct letters.
    Some fonts' hinting fails in FreeType."""
    try:
        font = ImageFont.truetype(path, 24)
        renders = font.getbbox("Hag0")[2] > 10
        distinct = len({bytes(font.getmask(ch)) for ch in "aegx"}) == 4
    except OSError:
        return None
    return font.getname() if renders and distinct else None


@functools.cache
def find_fonts() -> tuple[str, ...]:
    """Latin-capable TrueType, OpenType and WOFF fonts on this machine (``latin_font_name``), but
    for ``LEFT_OUT_FAMILIES``, one file per family and style: 36 families are both a Debian
    package and a Google Fonts family, and would otherwise be drawn twice as often (the first
    path, Debian's, is kept)."""
    paths = []
    for root in FONT_DIRS:
        for ext in FONT_EXTENSIONS + tuple(e.upper() for e in FONT_EXTENSIONS):
            paths.extend(glob.glob(os.path.join(root, "**", f"*.{ext}"), recursive=True))
    usable: dict[tuple[str, str], str] = {}
    for path in sorted(set(paths)):
        if (name := latin_font_name(path)) and not name[0].startswith(LEFT_OUT_FAMILIES):
            usable.setdefault(name, path)
    if not usable:
        raise RuntimeError("no fonts found: apt-get install $(grep -v '^#' model/font-packages.txt); "
                           "python -m model.google_fonts")
    return tuple(sorted(usable.values()))


@functools.lru_cache(maxsize=1024)
def load_font(path: str, size: int) -> ImageFont.FreeTypeFont:
    """Kept across samples: the data loader makes a generator per batch, and opening a WOFF2
    (decompressing it) costs about a millisecond."""
    return ImageFont.truetype(path, size)


@functools.cache
def word_list() -> tuple[str, ...]:
    """English words by frequency (wordfreq, or OCR_WORDS_FILE: one a line), letters and digits only."""
    if WORDS_FILE:
        with open(WORDS_FILE, encoding="utf-8") as f:
            words = [line.strip() for line in f]
    else:
        from wordfreq import top_n_list

        words = top_n_list("en", 60000)
    words = [w for w in words if w.isascii() and w.isalnum()]
    return tuple(w for w in words if 1 <= len(w) <= MAX_LABEL_LEN)


LUMA = np.array([0.299, 0.587, 0.114])
COLOUR_TRIES = 30  # foreground colours drawn to find one far enough from the background


def _luminance(rgb: np.ndarray) -> np.ndarray | float:
    """Of one colour (3,), or of each row of colours (n, 3)."""
    return rgb @ LUMA


class WordSynth:
    """Draws (image uint8 gray-or-colour crop, label) pairs; deterministic for a seed."""

    def __init__(self, seed: int = 0):
        self.rng = np.random.default_rng(seed)
        self.fonts = find_fonts()
        self.words = word_list()

    # -- text -------------------------------------------------------------------
    def random_text(self) -> str:
        r = self.rng.random()
        if r < 0.06:  # one or two characters: 70% right on the aside sets
            text = "".join(self.rng.choice(list(string.ascii_lowercase + string.digits), int(self.rng.integers(1, 3))))
        elif r < 0.12:  # numbers as signs write them: prices, years, times, codes
            text = self.number_text()
        elif r < 0.70:
            # Zipf-ish: favour common words but reach the long tail.
            idx = int(len(self.words) * self.rng.random() ** 2.5)
            text = self.words[idx]
        elif r < 0.82:
            n = int(self.rng.integers(1, 9))
            text = "".join(self.rng.choice(list(string.digits), n))
        elif r < 0.94:
            n = int(self.rng.integers(2, 11))
            text = "".join(self.rng.choice(list(string.ascii_lowercase + string.digits), n))
        else:
            common = min(3000, len(self.words))  # two of the commonest words run together
            a, b = self.words[int(self.rng.integers(0, common))], self.words[int(self.rng.integers(0, common))]
            text = (a + b)[:MAX_LABEL_LEN]
        case = self.rng.random()
        if case < 0.40:
            text = text.upper()
        elif case < 0.70:
            text = text.capitalize()
        if self.rng.random() < PUNCTUATED:
            text = self.punctuated(text)
        return text

    def number_text(self) -> str:
        """A number as shops and signs write it ("20p", "1958", "10:30", "no5", "2.99")."""
        d = lambda n: "".join(self.rng.choice(list(string.digits), n))  # noqa: E731
        forms = (lambda: d(4), lambda: d(int(self.rng.integers(1, 4))) + "p", lambda: d(2) + ":" + d(2),
                 lambda: d(1) + "." + d(2), lambda: "no" + d(int(self.rng.integers(1, 3))),
                 lambda: d(3) + "-" + d(4), lambda: d(int(self.rng.integers(1, 3))) + "th")
        return forms[int(self.rng.integers(0, len(forms)))]()

    def punctuated(self, text: str) -> str:
        """The text with punctuation around or inside it, as in "(1958)", "area!", "it's"."""
        marks = list(PUNCTUATION)
        kind = self.rng.random()
        if kind < 0.35:
            return text + str(self.rng.choice(marks))
        if kind < 0.55:
            pair = ["()", '""', "''", "[]"][int(self.rng.integers(0, 4))]
            return pair[0] + text + pair[1]
        if kind < 0.75 or len(text) < 2:
            return str(self.rng.choice(marks)) + text
        cut = int(self.rng.integers(1, len(text)))
        return text[:cut] + str(self.rng.choice(list("'-.&/"))) + text[cut:]

    # -- rendering --------------------------------------------------------------
    def _font(self, size: int) -> ImageFont.FreeTypeFont:
        return load_font(self.fonts[int(self.rng.integers(0, len(self.fonts)))], size)

    def _colours(self) -> tuple[np.ndarray, np.ndarray]:
        bg = self.rng.integers(0, 256, 3)
        # Enforce some contrast in luminance, as real signs have: the first of the drawn
        # colours that is far enough (drawn at once: the loop cost 7% of a sample).
        min_contrast = self.rng.uniform(45, 110)
        tries = self.rng.integers(0, 256, (COLOUR_TRIES, 3))
        far = np.flatnonzero(np.abs(_luminance(tries) - _luminance(bg)) > min_contrast)
        fg = tries[far[0]] if far.size else np.full(3, 0 if _luminance(bg) > 127 else 255)
        return bg, fg

    def _background(self, h: int, w: int, bg: np.ndarray) -> np.ndarray:
        """-> uint8 (h, w, 3). Float only where a kind needs it: a background is drawn at the
        render's full size, and it took 15% of a sample's time in float."""
        kind = self.rng.random()
        if kind >= 0.75:  # plain
            return np.full((h, w, 3), bg, np.uint8)
        colour = bg.astype(np.float32)
        if kind < 0.35:  # linear gradient
            other = self.rng.integers(0, 256, 3).astype(np.float32)
            t = np.linspace(0, 1, w if self.rng.random() < 0.5 else h, dtype=np.float32)
            t = t[None, :, None] if t.size == w else t[:, None, None]
            img = colour * (1 - 0.5 * t) + other * (0.5 * t)  # already within 0..255
            return np.broadcast_to(img, (h, w, 3)).astype(np.uint8, order="C")  # PIL copies a strided one
        if kind < 0.6:  # smooth blotches (paper, wall, sky)
            small = self.rng.standard_normal((max(2, h // 8), max(2, w // 8), 3), np.float32) * 40
            img = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC) + colour
        else:  # fine texture (brick, fabric, wood grain)
            img = self.rng.standard_normal((h, w, 3), np.float32) * self.rng.uniform(5, 30) + colour
        return np.clip(img, 0, 255, out=img).astype(np.uint8)

    def render(self, text: str) -> np.ndarray:
        size = int(self.rng.integers(24, 64))
        font = self._font(size)
        spacing = int(self.rng.integers(-1, 6)) if self.rng.random() < 0.3 else 0
        if self.rng.random() < WIDE_SPACING:  # letter-spaced signs: gaps up to the letters' size
            spacing = int(size * self.rng.uniform(0.3, 0.9))
        # Measure character by character when letter-spacing is on.
        if spacing:
            widths = [font.getlength(ch) + spacing for ch in text]
            text_w = int(sum(widths)) + 2
        else:
            text_w = int(font.getlength(text)) + 2
        ascent, descent = font.getmetrics()
        text_h = ascent + descent
        pad_x, pad_y = int(size * 0.6), int(size * 0.5)
        W, H = text_w + 2 * pad_x, text_h + 2 * pad_y
        bg, fg = self._colours()
        canvas = Image.fromarray(self._background(H, W, bg))
        draw = ImageDraw.Draw(canvas)
        fg_t = tuple(int(c) for c in fg)
        stroke = int(self.rng.integers(1, 3)) if self.rng.random() < 0.12 else 0
        stroke_fill = tuple(int(c) for c in self.rng.integers(0, 256, 3))
        if self.rng.random() < 0.12:  # drop shadow
            off = int(self.rng.integers(1, max(2, size // 12) + 1))
            shadow = tuple(int(c) for c in (np.array(fg_t) * 0.3 + bg * 0.3))
            self._draw_text(draw, (pad_x + off, pad_y + off), text, font, shadow, spacing, 0, shadow)
        self._draw_text(draw, (pad_x, pad_y), text, font, fg_t, spacing, stroke, stroke_fill)
        img = np.asarray(canvas)
        if self.rng.random() < DOT_MATRIX:
            img = self._dot_matrix(img, self._background(H, W, bg), size)
        box = np.array([pad_x, pad_y, pad_x + text_w, pad_y + text_h], np.float32)
        if self.rng.random() < CURVED:
            bend = self.rng.uniform(0.15, 0.6) * (box[3] - box[1]) * self.rng.choice([-1.0, 1.0])
            img, box = curve(img, box, float(bend))
        img, box = self._geometric(img, box)
        img = self._photometric(self._crop(img, box))
        if self.rng.random() < TINY:  # text a few pixels high, as on far-off signs (after the
            img = self._shrunk(img, self.rng.uniform(10, 18))  # blur: it would blur twice)
        return img

    def render_stacked(self, text: str) -> np.ndarray:
        """Letters stacked upright one above another, each in a square cell, then laid side
        by side as the engine lays out a tall crop (``orient.stacked_as_row``)."""
        size = int(self.rng.integers(24, 56))
        font = self._font(size)
        cell = int(size * 1.25)
        bg, fg = self._colours()
        canvas = Image.fromarray(self._background(cell * len(text), cell, bg))
        draw = ImageDraw.Draw(canvas)
        for i, ch in enumerate(text):
            draw.text((cell / 2, cell * i + cell / 2), ch, font=font, fill=tuple(int(c) for c in fg), anchor="mm")
        return self._photometric(stacked_as_row(np.asarray(canvas)))

    def _dot_matrix(self, img: np.ndarray, background: np.ndarray, size: int) -> np.ndarray:
        """The text as an LED sign draws it: only dots on a grid, the background between."""
        pitch = max(3, size // int(self.rng.integers(4, 8)))
        yy, xx = np.mgrid[0 : img.shape[0], 0 : img.shape[1]]
        cy, cx = (yy % pitch) - pitch / 2 + 0.5, (xx % pitch) - pitch / 2 + 0.5
        dots = (cy**2 + cx**2) <= (pitch * 0.38) ** 2
        return np.where(dots[..., None], img, background)

    @staticmethod
    def _shrunk(img: np.ndarray, height: float) -> np.ndarray:
        h, w = img.shape[:2]
        if h <= height:
            return img
        return cv2.resize(img, (max(2, round(w * height / h)), max(2, round(height))), interpolation=cv2.INTER_AREA)

    @staticmethod
    def _draw_text(draw, xy, text, font, fill, spacing, stroke, stroke_fill) -> None:
        if not spacing:
            draw.text(xy, text, font=font, fill=fill, stroke_width=stroke, stroke_fill=stroke_fill)
            return
        x, y = xy
        for ch in text:
            draw.text((x, y), ch, font=font, fill=fill, stroke_width=stroke, stroke_fill=stroke_fill)
            x += font.getlength(ch) + spacing

    # -- distortions -------------------------------------------------------------
    def _geometric(self, img: np.ndarray, box: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        h, w = img.shape[:2]
        src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
        jitter = self.rng.uniform(-1, 1, (4, 2)).astype(np.float32)
        strength = self.rng.choice([0.0, 0.04, 0.08, 0.14], p=[0.3, 0.35, 0.25, 0.1])
        dst = src + jitter * np.float32([w, h]) * strength
        angle = np.deg2rad(self.rng.normal(0, 3) if self.rng.random() < 0.7 else self.rng.normal(0, 8))
        shear = self.rng.normal(0, 0.15) if self.rng.random() < 0.3 else 0.0
        c, s = np.cos(angle), np.sin(angle)
        rot = np.float32([[c, -s + shear], [s, c]])
        centre = np.float32([w / 2, h / 2])
        dst = (dst - centre) @ rot.T + centre
        dst -= dst.min(axis=0)
        out_w, out_h = int(np.ceil(dst[:, 0].max())) + 1, int(np.ceil(dst[:, 1].max())) + 1
        m = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
        warped = cv2.warpPerspective(img, m, (out_w, out_h), borderMode=cv2.BORDER_REPLICATE)
        corners = np.float32([[box[0], box[1]], [box[2], box[1]], [box[2], box[3]], [box[0], box[3]]])
        moved = cv2.perspectiveTransform(corners[None], m)[0]
        new_box = np.float32([*moved.min(axis=0), *moved.max(axis=0)])
        return warped, new_box

    def _crop(self, img: np.ndarray, box: np.ndarray) -> np.ndarray:
        h, w = img.shape[:2]
        bh = box[3] - box[1]
        # Margins from tight (clipping a little) to loose, as a detector would give.
        mx = self.rng.uniform(-0.05, 0.5, 2) * bh
        my = self.rng.uniform(-0.12, 0.35, 2) * bh
        x1 = int(np.clip(box[0] - mx[0], 0, w - 2))
        x2 = int(np.clip(box[2] + mx[1], x1 + 2, w))
        y1 = int(np.clip(box[1] - my[0], 0, h - 2))
        y2 = int(np.clip(box[3] + my[1], y1 + 2, h))
        return img[y1:y2, x1:x2]

    def _photometric(self, img: np.ndarray) -> np.ndarray:
        r = self.rng
        if r.random() < 0.35:  # low resolution, then back up
            f = r.uniform(0.25, 0.7)
            h, w = img.shape[:2]
            small = cv2.resize(img, (max(4, int(w * f)), max(4, int(h * f))), interpolation=cv2.INTER_AREA)
            img = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
        if r.random() < 0.3:
            k = int(r.choice([3, 5]))
            img = cv2.GaussianBlur(img, (k, k), 0)
        elif r.random() < 0.1:  # motion blur
            k = int(r.integers(3, 8))
            kernel = np.zeros((k, k), np.float32)
            kernel[k // 2, :] = 1.0 / k
            img = cv2.filter2D(img, -1, kernel)
        if r.random() < 0.3:  # in float32: float64 noise took a tenth of a sample
            noisy = r.standard_normal(img.shape, np.float32) * r.uniform(3, 18) + img
            img = np.clip(noisy, 0, 255, out=noisy).astype(np.uint8)
        if r.random() < 0.25:  # uneven lighting
            h, w = img.shape[:2]
            ramp = np.linspace(r.uniform(0.5, 1.0), r.uniform(1.0, 1.4), w, dtype=np.float32)
            img = np.clip(img * ramp[None, :, None], 0, 255).astype(np.uint8)
        if r.random() < 0.3:
            ok, enc = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(r.integers(15, 70))])
            if ok:
                img = cv2.imdecode(enc, cv2.IMREAD_COLOR)
        return img

    def sample(self) -> tuple[np.ndarray, str]:
        # Among 2,600 fonts a few fail in FreeType for some size and stroke ("array allocation
        # size too large" stopped phase 16 at epoch 12): draw the word again, in another font.
        for _ in range(RENDER_ATTEMPTS - 1):
            try:
                return self._sample_once()
            except OSError:
                continue
        return self._sample_once()  # the last try's error stops the run

    def _sample_once(self) -> tuple[np.ndarray, str]:
        text = self.random_text()
        label = normalize_text(text)
        if self.rng.random() < STACKED and 2 <= len(label) <= 8:
            stacked = label.upper() if self.rng.random() < 0.8 else label
            return self.render_stacked(stacked), label
        return self.render(text), label
