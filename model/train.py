"""Train the CRNN: ``python -m model.train [--epochs N] [--resume]``.

Synthetic words mixed with augmented real crops (``--real-sets``: IIIT5K train, IC15,
IC13 born-digital); validation (word accuracy on those sets' hold-outs, never a test
split) after every epoch of ``--steps`` steps. ``--init-weights`` of a narrower network
(``--init-width``) are widened function-preserving first (``model.widen``). The
full state (weights + optimizer) is saved to ``--out/last.keras`` after each epoch and
training resumes from it; the best weights by validation accuracy go to
``--out/best.weights.h5``; the history goes to ``--out/history.csv``.
Backend-agnostic: ``KERAS_BACKEND=jax`` trains on a GPU with the same code.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

import keras
import numpy as np
from ocr_engine.ctc import greedy_decode_batch
from ocr_tools.paths import data_dir

from model.crnn import build_crnn, ctc_loss, load_crnn
from model.data import MixedWords, holdout_arrays
from model.real_sets import load_real_set, parse_real_sets
from model.widen import widened
from model.widths import block_ranks

DEFAULT_OUT = Path(__file__).resolve().parent / "checkpoints"


class HoldoutAccuracy(keras.callbacks.Callback):
    """Greedy word accuracy on the hold-out; keeps the best weights."""

    def __init__(self, x, labels, best_path: Path, best_so_far: float = -1.0):
        super().__init__()
        self.x, self.labels, self.best_path = x, labels, best_path
        self.best = best_so_far

    def on_epoch_end(self, epoch, logs=None):
        probs = self.model.predict(self.x, batch_size=64, verbose=0)
        texts = [d.text for d in greedy_decode_batch(probs)]
        acc = float(np.mean([t == g for t, g in zip(texts, self.labels, strict=True)]))
        logs["val_word_acc"] = acc
        if acc > self.best:
            self.best = acc
            self.model.save_weights(self.best_path)
        print(f"\nepoch {epoch + 1}: hold-out word accuracy {acc:.3f} (best {self.best:.3f})", flush=True)


class SaveState(keras.callbacks.Callback):
    """Full state for resuming, plus the epoch counter beside it, and the weights of the
    last ``keep`` epochs in ``epochs/`` (for ``model.average``)."""

    def __init__(self, out: Path, holdout: str, keep: int = 5, real_sets: str = "iiit5k", images_per_epoch: int = 0,
                 real_augment: str = "mild"):
        super().__init__()
        self.out, self.holdout, self.keep, self.real_sets = out, holdout, keep, real_sets
        self.images_per_epoch, self.real_augment = images_per_epoch, real_augment

    def on_epoch_end(self, epoch, logs=None):
        tmp = self.out / "last.tmp.keras"
        self.model.save(tmp)
        tmp.replace(self.out / "last.keras")
        self._keep_epoch_weights(epoch + 1)
        meta = {"epoch": epoch + 1, "holdout": self.holdout, "real_sets": self.real_sets,
                "images_per_epoch": self.images_per_epoch, "real_augment": self.real_augment,
                "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
        (self.out / "state.json").write_text(json.dumps(meta))

    def _keep_epoch_weights(self, epoch: int) -> None:
        if self.keep <= 0:
            return
        folder = self.out / "epochs"
        folder.mkdir(exist_ok=True)
        # Written whole, then named: a run stopped mid-save (device_train.sh's timeout) leaves
        # no truncated epoch file for model.average to fail on.
        partial = folder / f".partial-epoch{epoch:03d}.weights.h5"
        self.model.save_weights(partial)
        partial.replace(folder / f"epoch{epoch:03d}.weights.h5")
        for old in sorted(folder.glob("epoch*.weights.h5"))[: -self.keep]:
            old.unlink()


def best_accuracy(out: Path) -> float:
    """Best hold-out accuracy in an earlier run's history (-1 when there is none)."""
    history = out / "history.csv"
    if not history.exists():
        return -1.0
    with history.open() as f:
        values = [float(row["val_word_acc"]) for row in csv.DictReader(f) if row.get("val_word_acc")]
    return max(values, default=-1.0)


def unresumable_run(out: Path) -> str | None:
    """Why a fresh run must not start in ``out``: an earlier run's epochs are recorded there
    but its ``last.keras`` is gone (a cut-off session), so a new run would append to that
    history and take its best hold-out figure as the one to beat. None when ``out`` is free."""
    if (out / "last.keras").exists() or best_accuracy(out) < 0:
        return None
    return (f"{out} holds an earlier run's history.csv but no last.keras to resume from: "
            "train into a fresh --out folder, or remove history.csv and state.json there")


def earlier_run(out: Path) -> str | None:
    """Why a fresh run (no ``--resume``) must not start in ``out``: an earlier run is there,
    whose history it would append to, whose best figure it would have to beat, and whose
    epoch files would outlast its own (epoch002 sorts after epoch001). None when ``out`` is free."""
    if not (out / "last.keras").exists():
        return unresumable_run(out)
    return f"{out} holds an earlier run: pass --resume to continue it, or train into a fresh --out folder"


def make_model(args) -> keras.Model:
    if args.init_weights and args.init_width not in (None, args.width):
        model = widened(args.init_weights, args.init_width, args.width, dropout=0.1)
    elif args.init_weights:
        model = load_crnn(args.init_weights, args.width, dropout=0.1)
    else:
        model = build_crnn(width=args.width, dropout=0.1)
    lr = keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps=args.total_steps, alpha=0.03, warmup_target=args.lr, warmup_steps=300
    )
    model.compile(optimizer=keras.optimizers.Adam(lr, clipnorm=5.0), loss=ctc_loss)
    return model


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=data_dir())
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--epochs", type=int, default=40, help="total epochs, counting resumed ones")
    p.add_argument("--steps", type=int, default=300, help="steps per epoch (validation after each)")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--width", default="0.5",
                   help="a share of the seed's widths (0.5) or the seven layer widths (32-64-128-128-384-384-192)")
    p.add_argument("--init-width", help="the width of --init-weights when it differs (they are widened)")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--real-fraction", type=float, default=0.25)
    p.add_argument("--real-sets", default="iiit5k,ic15,ic13",
                   help="real training sets and sampling weights per crop, e.g. iiit5k:1,ic15:2,ic13 (model.real_sets)")
    p.add_argument("--real-augment", choices=["mild", "strong"], default="mild",
                   help="how hard real crops are jittered (model.data.augment_real); a resumed run keeps its own")
    p.add_argument("--resume", action="store_true", help="continue from --out/last.keras")
    p.add_argument("--init-weights", type=Path, help="start from these weights (fine-tuning)")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--keep-epochs", type=int, default=5,
                   help="keep the weights of the last N epochs in --out/epochs (model.average)")
    p.add_argument("--holdout", choices=["image", "line"], default="image",
                   help="hold out whole source images (default) or every tenth line; a resumed run keeps its own")
    args = p.parse_args(argv)
    if args.init_weights and args.init_width not in (None, args.width) and \
            (any(block_ranks(args.init_width)) or any(block_ranks(args.width))):
        p.error("--init-width: low-rank blocks are not widened; train the full width, then model.factorize")
    args.total_steps = args.epochs * args.steps
    args.out.mkdir(parents=True, exist_ok=True)

    last = args.out / "last.keras"
    resuming = args.resume and last.exists()
    if not resuming and (why := unresumable_run(args.out) if args.resume else earlier_run(args.out)):
        raise SystemExit(why)
    state = json.loads((args.out / "state.json").read_text()) if resuming else {}
    if resuming and args.epochs <= state["epoch"]:
        raise SystemExit(f"{args.out} is at epoch {state['epoch']} already: --epochs {args.epochs} (the total, "
                         "counting the resumed ones) leaves nothing to train")
    holdout = state.get("holdout", "line") if resuming else args.holdout  # runs before the option used "line"
    real_spec = state.get("real_sets", "iiit5k") if resuming else args.real_sets  # earlier runs: IIIT5K only
    augment = state.get("real_augment", "mild") if resuming else args.real_augment
    real_weights = parse_real_sets(real_spec)
    real, hold = {}, []
    for name in real_weights:
        real[name], held = load_real_set(args.data, name, holdout)
        hold += held
        print(f"{name}: {len(real[name])} for training, {len(held)} held out (by {holdout})", flush=True)
    x_val, y_val = holdout_arrays(hold)

    initial_epoch = 0
    if resuming:
        model = keras.saving.load_model(last)
        initial_epoch = state["epoch"]
        print(f"resumed from {last} at epoch {initial_epoch}", flush=True)
    else:
        model = make_model(args)
    model.summary(print_fn=lambda s, **_: print(s, flush=True))

    data = MixedWords(real, args.batch, args.real_fraction, args.steps, seed=initial_epoch,
                      real_weights=real_weights, strong_real=augment == "strong",
                      workers=args.workers, use_multiprocessing=args.workers > 0)
    callbacks = [
        HoldoutAccuracy(x_val, y_val, args.out / "best.weights.h5", best_accuracy(args.out)),
        SaveState(args.out, holdout, args.keep_epochs, real_spec, args.steps * args.batch, augment),
        keras.callbacks.CSVLogger(str(args.out / "history.csv"), append=True),
    ]
    model.fit(data, epochs=args.epochs, initial_epoch=initial_epoch, callbacks=callbacks, verbose=1)


if __name__ == "__main__":
    main()
