"""Which of the generator's fonts draw no readable letters: ``python -m model.font_sheet``.

Sets a few words in each font ``model.synth.find_fonts`` returns, black on white, reads them
with the shipped recognizer (greedy, no LM) and prints the fonts it reads worst, with what it
read; ``--sheet`` draws those fonts' words one a row, for a person to look at. A font that
draws barcodes, charts or ornaments where letters should be is a label the image does not
show: such families go into ``model.synth.LEFT_OUT_FAMILIES``. Script, stencil and display
faces read badly too and stay: they are what the generator is for.

A font the model was trained on can read well and still draw no letters: the phase-10 model
had learned URW's Dingbats and Symbol as ciphers (0.75 and 0.97 here; model/checkpoints/README.md,
"Fonts that draw no letters"). So look at the sheet, and at symbol fonts by name, not at the score alone.
Whether new weights still read those two: ``python -m model.font_sheet --weights W@WIDTH
/usr/share/fonts/opentype/urw-base35/StandardSymbolsPS.otf /usr/share/fonts/opentype/urw-base35/D050000L.otf``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from ocr_engine.config import load_settings
from ocr_engine.ctc import greedy_decode_batch
from ocr_engine.recognize import Recognizer
from ocr_tools.evaluate import recognition_score
from PIL import Image, ImageDraw, ImageFont
from tqdm import tqdm

WORDS = ("Hamburg", "STREET", "pharmacy", "2024", "Welcome", "OPEN")
SIZE = 40


def set_in(path: str, text: str, size: int = SIZE) -> np.ndarray:
    """``text`` in the font at ``path``, black on white, with half its size to each side and a
    quarter above and below."""
    font = ImageFont.truetype(path, size)
    ascent, descent = font.getmetrics()
    margin = size // 2
    image = Image.new("RGB", (max(1, int(font.getlength(text))) + 2 * margin, ascent + descent + margin), "white")
    ImageDraw.Draw(image).text((margin, margin // 2), text, font=font, fill="black")
    return np.asarray(image)


def screen(fonts: Sequence[str], predict: Callable[[list[np.ndarray]], np.ndarray],
           words: tuple[str, ...] = WORDS) -> list[tuple[float, str, str]]:
    """[(1 - the readings' character error rate, at least 0; font path, the readings)], worst first.
    ``predict``: crops -> the network's probabilities (``Recognizer.predict_crops``, or Keras
    weights' through ``model.tune_decoding.keras_probs``)."""
    rows = []
    for path in tqdm(fonts, desc="fonts", unit="font"):
        probs = predict([set_in(path, w) for w in words])
        read = [d.text for d in greedy_decode_batch(probs)]
        rows.append((max(0.0, 1.0 - recognition_score(read, words).cer), path, " ".join(read)))
    return sorted(rows)


def draw_sheet(rows: list[tuple[float, str, str]], out: Path, text: str = " ".join(WORDS)) -> None:
    row_h, label_w = 44, 360
    sheet = Image.new("RGB", (1500, row_h * len(rows)), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (score, path, _) in enumerate(rows):
        draw.text((4, i * row_h + 14), f"{score:.2f}  {Path(path).name[:44]}", fill="blue")
        draw.text((label_w, i * row_h + 4), text, font=ImageFont.truetype(path, 30), fill="black")
    sheet.save(out)


def main(argv=None) -> None:
    from model.synth import find_fonts

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("fonts", nargs="*", help="font files to read (default: the generator's, find_fonts)")
    p.add_argument("--weights", help="Keras weights to read with, WEIGHTS[@WIDTH] (default: the shipped model)")
    p.add_argument("--worst", type=int, default=40, help="how many of the worst-read fonts to print and draw")
    p.add_argument("--sheet", type=Path, help="PNG to draw them in")
    args = p.parse_args(argv)
    if args.weights:
        from model.crnn import SHIPPED_WIDTH
        from model.tune_decoding import keras_probs

        weights, _, width = args.weights.partition("@")
        predict = keras_probs(Path(weights), width or SHIPPED_WIDTH)
    else:
        settings = load_settings()
        predict = Recognizer(settings.model_path, settings.metadata_path).predict_crops
    rows = screen(args.fonts or find_fonts(), predict)[: args.worst]
    for score, path, read in rows:
        print(f"{score:.2f}  {path}  read: {read}")
    if args.sheet:
        draw_sheet(rows, args.sheet)
        print(f"wrote {args.sheet}")


if __name__ == "__main__":
    main()
