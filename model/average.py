"""Average the weights of several checkpoints of one run: ``python -m model.average``.

    python -m model.average CKPT... --out model/checkpoints/phase5/averaged.weights.h5

Checkpoints from the low-learning-rate tail of one run lie in one basin; their mean
often reads better than any of them (stochastic weight averaging, Izmailov et al. 2018).
BatchNorm's moving statistics are averaged too: the checkpoints are close enough that
recomputing them changes little. Each input is a ``.weights.h5`` or a ``.keras``
training checkpoint; the output is a ``.weights.h5`` that ``model.export`` takes.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import keras
import numpy as np

from model.crnn import build_crnn, load_weights_into
from model.export import weights_file


def average_weights(checkpoints: list[Path], width: float | str = 0.5) -> keras.Model:
    """The CRNN holding the element-wise mean of every variable (trainable or not) over
    ``checkpoints``."""
    if not checkpoints:
        raise ValueError("nothing to average")
    model = build_crnn(width=width)
    total: list[np.ndarray] | None = None
    with tempfile.TemporaryDirectory() as scratch:
        for path in checkpoints:
            if not path.exists():  # before weights_file, which would read a missing .keras
                raise SystemExit(f"{path}: no such weights file")
            load_weights_into(model, weights_file(path, Path(scratch)), width)
            weights = [w.astype(np.float64) for w in model.get_weights()]
            total = weights if total is None else [t + w for t, w in zip(total, weights, strict=True)]
    model.set_weights([(t / len(checkpoints)).astype(np.float32) for t in total])
    return model


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoints", nargs="+", type=Path)
    p.add_argument("--out", type=Path, required=True, help="a .weights.h5 file")
    p.add_argument("--width", default="0.5", help="the network's width (model.widths)")
    args = p.parse_args(argv)
    if args.out.resolve() in {c.resolve() for c in args.checkpoints}:
        p.error(f"--out {args.out} is one of the checkpoints: it would be overwritten")
    average_weights(args.checkpoints, args.width).save_weights(args.out)
    print(f"wrote {args.out}: the mean of {len(args.checkpoints)} checkpoints")


if __name__ == "__main__":
    main()
