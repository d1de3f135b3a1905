"""Training curves of every phase, end to end -> PNG: ``python -m model.plot_curves``.

Phase 1 is ``checkpoints/history.csv``, later phases ``checkpoints/phase*/history.csv``
(in phase order). Phase boundaries are marked, with the hold-out split each validated on.
``checkpoints/test_points.csv`` (phase, epoch, n, word_accuracy), where present, adds
the IIIT5K *test* accuracy measured at a few points: for the record only, never used
to choose weights.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

from ocr_engine.config import REPO_ARTIFACTS_DIR

HERE = Path(__file__).resolve().parent
CHECKPOINTS = HERE / "checkpoints"


def phase_histories(root: Path = CHECKPOINTS) -> list[tuple[str, Path]]:
    """(phase name, history.csv) of the phases in training order."""
    phases = [("phase1", root / "history.csv")]
    # Phase order is numeric: phase10 comes after phase9, not after phase1.
    folders = sorted((d for d in root.glob("phase*") if d.is_dir()), key=lambda d: int(d.name.removeprefix("phase")))
    phases += [(d.name, d / "history.csv") for d in folders]
    return [(name, path) for name, path in phases if path.exists()]


CPU_EPOCH_IMAGES = 300 * 32  # phases 1-7: 300 steps of 32 an epoch


def state_of(history: Path) -> dict:
    state = history.parent / "state.json"
    return json.loads(state.read_text()) if state.exists() else {}


def holdout_of(history: Path) -> str:
    """The hold-out a phase validated on (runs before the option used lines; runs before
    the real sets' option, IIIT5K's alone)."""
    state = state_of(history)
    sets = state.get("real_sets", "iiit5k").replace(",", "+")
    return f"{state.get('holdout', 'line')} hold-out" + ("" if sets == "iiit5k" else f", {sets}")


def read_rows(path: Path) -> list[dict]:
    with path.open() as f:
        return list(csv.DictReader(f))


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--root", type=Path, default=CHECKPOINTS)
    p.add_argument("--out", type=Path, default=REPO_ARTIFACTS_DIR / "training_curves.png")
    args = p.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # x: millions of training images seen, phase after phase (an epoch's size per phase).
    rows, seen, starts, per_epoch = [], [], {}, {}
    for name, path in phase_histories(args.root):
        start = seen[-1] if seen else 0.0
        starts[name] = start
        print(f"{name}: validated on the {holdout_of(path)}")
        per_epoch[name] = state_of(path).get("images_per_epoch") or CPU_EPOCH_IMAGES
        for i, row in enumerate(read_rows(path)):
            rows.append(row)
            seen.append(start + (i + 1) * per_epoch[name] / 1e6)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.8))
    ax1.plot(seen, [float(r["loss"]) for r in rows], marker=".")
    xlabel = "training images (millions)"
    ax1.set(xlabel=xlabel, ylabel="CTC loss", title="training loss", yscale="log")
    ax2.plot(seen, [float(r["val_word_acc"]) for r in rows], marker=".", color="tab:green",
             label="real hold-out (greedy; the sets under each phase)")
    tests = args.root / "test_points.csv"
    if tests.exists():
        points = [r for r in read_rows(tests) if r["phase"] in starts]
        ax2.plot([starts[r["phase"]] + int(r["epoch"]) * per_epoch[r["phase"]] / 1e6 for r in points],
                 [float(r["word_accuracy"]) for r in points], marker="s", color="tab:red",
                 label="IIIT5K test (decoding of the day: test_points.csv)")
    ax2.set(xlabel=xlabel, ylabel="word accuracy", ylim=(0, 1), title="word accuracy")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
        for name, start in starts.items():
            ax.axvline(start, color="grey", linestyle="--", linewidth=0.8)
            ax.annotate(name, (start, 1), xycoords=("data", "axes fraction"), xytext=(2, -4),
                        textcoords="offset points", fontsize=7, color="grey", rotation=90, va="top")
    ax2.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
