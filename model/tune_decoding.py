"""Choose the language model's weight and per-character bonus on held-out real crops.

    python -m model.tune_decoding [--weights W.weights.h5] [--data ../shared/data]
                                  [--lm-words 20000 50000 --lm-orders 5 6]

Never on a test split. The dev crops are the labelled word boxes of svt_train (street
scenes no model here has trained on) and the crops each real training set's image
hold-out keeps out of training (IIIT5K train, IC15, IC13 born-digital: ``model.real_sets``).
Each (weight, bonus) pair of the grid is scored on each set, and
against the engine's current settings (OCR_LM_WEIGHT, OCR_LM_BONUS) word by word.
Without ``--weights`` it reads with the shipped TFLite model, as the engine serves.
With ``--lm-words``/``--lm-orders`` it builds each such language model (``model.charlm``)
and scores the grid with each in turn, against the shipped one: how its order and word
list were chosen. ``--record TITLE`` appends the table, under that title and the command
line, to ``model/artifacts/decoding_choice.txt``, the record of every such choice.
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import shlex
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from ocr_engine.charset import normalize_text
from ocr_engine.config import REPO_ARTIFACTS_DIR, load_settings
from ocr_engine.imagefile import load_rgb
from ocr_engine.lm import CharLM
from ocr_engine.pipeline import DecodeOptions, OcrEngine
from ocr_engine.preprocess import batch_to_input
from ocr_tools.labels import read_scenes
from ocr_tools.paths import data_dir

from model import charlm
from model.real_sets import REAL_SETS, load_real_set

RECORD = REPO_ARTIFACTS_DIR / "decoding_choice.txt"
WEIGHTS = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8)
BONUSES = (0.0, 0.5, 1.0, 1.5)


def svt_word_crops(folder: Path) -> tuple[list[np.ndarray], list[str]]:
    crops, labels = [], []
    for image_path, words in read_scenes(folder):
        img = load_rgb(image_path)
        for (x1, y1, x2, y2), text in words:
            crop = img[max(0, int(y1)) : int(y2), max(0, int(x1)) : int(x2)]
            if crop.size and normalize_text(text):
                crops.append(crop)
                labels.append(normalize_text(text))
    return crops, labels


def dev_sets(data: Path) -> dict[str, tuple[list[np.ndarray], list[str]]]:
    sets = {"svt_words": svt_word_crops(data / "svt_train")}
    for name in REAL_SETS:
        _, hold = load_real_set(data, name, "image", holdout_only=True)
        sets[f"{name}_holdout"] = ([img for img, _ in hold], [label for _, label in hold])
    return sets


def keras_probs(weights: Path, width: float | str):
    """Reads with Keras weights: a ``.weights.h5`` or a ``.keras`` training checkpoint."""
    from model.crnn import load_crnn
    from model.export import weights_file

    with tempfile.TemporaryDirectory() as scratch:
        model = load_crnn(weights_file(weights, Path(scratch)), width)
    return lambda crops: np.asarray(model.predict(batch_to_input(crops), batch_size=64, verbose=0))


def words_right(reads, labels: Sequence[str]) -> np.ndarray:
    """Per crop, whether its reading is its label (the protocol's case-insensitive [0-9a-z])."""
    return np.array([normalize_text(r.text) == label for r, label in zip(reads, labels, strict=True)], bool)


def correct(probs: list[np.ndarray], labels: list[str], engine: OcrEngine, weight: float, bonus: float,
            support: float | None = None, keep_digits: bool = True) -> np.ndarray:
    return words_right(engine.decode_readings(probs, DecodeOptions(lm_weight=weight, lm_bonus=bonus,
                                                                   lm_support=support, keep_digits=keep_digits)),
                       labels)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=data_dir())
    p.add_argument("--weights", type=Path, help="Keras weights to read with (default: the shipped TFLite model)")
    p.add_argument("--width", default="0.5", help="the network's width (model.widths)")
    p.add_argument("--lm-words", type=int, nargs="+", help="build LMs from this many top English words")
    p.add_argument("--lm-orders", type=int, nargs="+", help=f"... of these orders (default {charlm.DEFAULT_ORDER})")
    p.add_argument("--lm-weights", type=float, nargs="+", default=WEIGHTS, help="the grid's LM weights")
    p.add_argument("--lm-bonuses", type=float, nargs="+", default=BONUSES, help="the grid's per-character bonuses")
    p.add_argument("--supports", type=float, nargs="+",
                   help="the grid's LM gates in nats ('inf': no gate; default: OCR_LM_SUPPORT)")
    p.add_argument("--free-digits", action="store_true", help="also score each cell letting the LM change digits")
    p.add_argument("--record", metavar="TITLE", help=f"append the table to {RECORD.name} under this title")
    args = p.parse_args(argv)
    if args.lm_orders and not args.lm_words:
        p.error("--lm-orders needs --lm-words")
    lines: list[str] = []

    def emit(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    settings = load_settings()
    engine = OcrEngine.from_settings(settings)  # its LM, and its recognizer unless --weights
    predict = keras_probs(args.weights, args.width) if args.weights else None  # None: the engine's network
    sets = dev_sets(args.data)
    # The one crop step, as the engine serves crops: the margin, the stretch, every way for a tall crop.
    probs = {name: engine.crop_probs(crops, predict=predict) for name, (crops, _) in sets.items()}

    def score(lm: CharLM | None, weight: float, bonus: float, support: float | None = None,
              keep_digits: bool = True) -> dict[str, np.ndarray]:
        reader = OcrEngine(settings, engine.recognizer, lm)  # decodes as the engine would with this LM
        return {name: correct(probs[name], labels, reader, weight, bonus, support, keep_digits)
                for name, (_, labels) in sets.items()}

    current = score(engine.lm, settings.lm_weight, settings.lm_bonus)
    n = sum(len(labels) for _, labels in sets.values())
    emit(f"dev crops: {', '.join(f'{k} {len(v[1])}' for k, v in sets.items())}; against the shipped LM "
         f"at weight {settings.lm_weight}, bonus {settings.lm_bonus}, support {settings.lm_support}: "
         f"{sum(int(v.sum()) for v in current.values())}")
    supports = args.supports or [settings.lm_support]
    digit_rules = (True, False) if args.free_digits else (True,)
    lms = ([("the shipped LM", engine.lm)] if not args.lm_words
           else charlm.candidates(args.lm_words, args.lm_orders or [charlm.DEFAULT_ORDER]))
    for label, lm in lms:
        emit(f"\n{label}")
        emit(f"{'weight':>6} {'bonus':>5} {'support':>7} {'digits':>6} " + " ".join(f"{k:>15}" for k in sets)
             + "  combined  won lost")
        for weight, bonus, support, keep in itertools.product(args.lm_weights, args.lm_bonuses, supports, digit_rules):
            if weight == 0 and (bonus or support != supports[0] or not keep):
                continue  # the bonus and the gate only act with the LM
            got = score(lm, weight, bonus, support, keep)
            won = sum(int((got[k] & ~current[k]).sum()) for k in got)
            lost = sum(int((~got[k] & current[k]).sum()) for k in got)
            total = sum(int(v.sum()) for v in got.values())
            emit(f"{weight:6.1f} {bonus:5.1f} {support:7.1f} {'kept' if keep else 'free':>6} "
                 + " ".join(f"{v.mean():15.3f}" for v in got.values()) + f"  {total / n:8.3f}  {won:3d} {lost:4d}")
    if args.record:
        record(RECORD, args.record, sys.argv[1:] if argv is None else argv, lines)


def record(path: Path, title: str, argv: list[str], lines: list[str], module: str = "model.tune_decoding",
           note: str | None = None, markdown: bool = False) -> None:
    """Appends ``lines`` to ``path`` under ``## title`` and the command line that made them
    (``python -m module argv``), today's date and ``note``; ``markdown``: the command line in
    backticks and a blank line before the table (a Markdown log), else after ``#``."""
    command = shlex.join(["python", "-m", module, *argv])
    stamp = ", ".join(filter(None, [f"`{command}`" if markdown else f"# {command}",
                                    datetime.date.today().isoformat(), note]))
    with path.open("a", encoding="utf-8") as f:
        f.write(f"\n## {title}\n{stamp}\n" + ("\n" if markdown else "") + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
