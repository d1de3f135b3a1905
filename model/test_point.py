"""Record an IIIT5K *test* point for training weights: ``python -m model.test_point --weights W
--phase P --epoch E`` appends a row to ``checkpoints/test_points.csv`` (plotted by
``model.plot_curves``).

For the record only, never to choose weights or decoding (``model.tune_decoding`` does that
on dev crops). Reads as the engine serves, with the margin and the beam steered by the
character LM at the engine's settings, and once without the LM for the learning curve.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from ocr_engine.config import load_settings
from ocr_engine.imagefile import load_rgb
from ocr_engine.pipeline import DecodeOptions, OcrEngine
from ocr_tools.evaluate import recognition_score
from ocr_tools.labels import read_label_file
from ocr_tools.paths import data_dir

from model.plot_curves import CHECKPOINTS
from model.tune_decoding import keras_probs

TEST_POINTS_HEADER = ["phase", "epoch", "n", "word_accuracy", "decoding"]


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", type=Path, required=True, help="a .weights.h5 or a .keras training checkpoint")
    p.add_argument("--phase", required=True, help="the phase folder's name, e.g. phase6")
    p.add_argument("--epoch", type=int, required=True, help="epochs done in that phase")
    p.add_argument("--note", default="float32 Keras", help="what else the row should say")
    p.add_argument("--data", type=Path, default=data_dir())
    p.add_argument("--width", default="0.5", help="the network's width (model.widths)")
    p.add_argument("--out", type=Path, default=CHECKPOINTS / "test_points.csv")
    args = p.parse_args(argv)

    settings = load_settings()
    engine = OcrEngine.from_settings(settings)  # for its LM only: the network is --weights
    rows = read_label_file(args.data / "iiit5k" / "test.tsv")
    # The network reads every crop once (the one crop step: the margin, every way for a tall
    # crop), in one batch; each decoding below starts from its output.
    crops = [load_rgb(path) for path, _ in rows]
    probs = engine.crop_probs(crops, predict=keras_probs(args.weights, args.width))
    labels = [label for _, label in rows]

    def score(weight: float, bonus: float):
        reads = engine.decode_readings(probs, DecodeOptions(lm_weight=weight, lm_bonus=bonus))
        return recognition_score([r.text for r in reads], labels)

    plain, fused = score(0.0, 0.0), score(settings.lm_weight, settings.lm_bonus)
    print(f"IIIT5K test, n={fused.n}: without the LM {plain.word_accuracy:.2%} (CER {plain.cer:.2%}); "
          f"with it {fused.word_accuracy:.2%} (CER {fused.cer:.2%})")
    decoding = f"{engine.decoding} ({args.note}; without the LM {plain.word_accuracy:.4f})"
    new_file = not args.out.exists() or args.out.stat().st_size == 0
    with args.out.open("a", newline="") as f:
        if new_file:  # model.plot_curves reads it by its header
            csv.writer(f).writerow(TEST_POINTS_HEADER)
        csv.writer(f).writerow([args.phase, args.epoch, fused.n, f"{fused.word_accuracy:.4f}", decoding])
    print(f"appended to {args.out}")


if __name__ == "__main__":
    main()
