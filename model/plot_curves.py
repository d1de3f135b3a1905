"""Training curves of every phase, end to end -> PNG: ``python -m model.plot_curves``.

Phase 1 is ``checkpoints/history.csv``, later phases ``checkpoints/phase*/history.csv``
(in name order). Phase boundaries are marked, with the hold-out split each validated on.
``checkpoints/test_points.csv`` (phase, epoch, n, word_accuracy), where present, adds
the IIIT5K *test* accuracy measured at a few points: for the record only, never used
to choose weights.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHECKPOINTS = HERE / "checkpoints"


def phase_histories(root: Path = CHECKPOINTS) -> list[tuple[str, Path]]:
    """(phase name, history.csv) of the phases in training order."""
    phases = [("phase1", root / "history.csv")]
    phases += [(d.name, d / "history.csv") for d in sorted(root.glob("phase*")) if d.is_dir()]
    return [(name, path) for name, path in phases if path.exists()]


def holdout_of(history: Path) -> str:
    """The hold-out split a phase validated on (runs before the option used lines)."""
    state = history.parent / "state.json"
    return json.loads(state.read_text()).get("holdout", "line") if state.exists() else "line"


def read_rows(path: Path) -> list[dict]:
    with path.open() as f:
        return list(csv.DictReader(f))


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--root", type=Path, default=CHECKPOINTS)
    p.add_argument("--out", type=Path, default=HERE / "artifacts" / "training_curves.png")
    p.add_argument("--steps", type=int, default=300, help="steps per epoch, for the x axis")
    args = p.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows, starts, labels = [], {}, {}
    for name, path in phase_histories(args.root):
        starts[name] = len(rows)
        labels[name] = f"{name}\n{holdout_of(path)} hold-out"
        rows += read_rows(path)
    steps = [(i + 1) * args.steps for i in range(len(rows))]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.8))
    ax1.plot(steps, [float(r["loss"]) for r in rows], marker=".")
    ax1.set(xlabel="training steps (batch 32)", ylabel="CTC loss", title="training loss", yscale="log")
    ax2.plot(steps, [float(r["val_word_acc"]) for r in rows], marker=".", color="tab:green",
             label="IIIT5K train hold-out (greedy)")
    tests = args.root / "test_points.csv"
    if tests.exists():
        points = [r for r in read_rows(tests) if r["phase"] in starts]
        ax2.plot([(starts[r["phase"]] + int(r["epoch"])) * args.steps for r in points],
                 [float(r["word_accuracy"]) for r in points], marker="s", color="tab:red",
                 label="IIIT5K test (decoding of the day: test_points.csv)")
    ax2.set(xlabel="training steps (batch 32)", ylabel="word accuracy", ylim=(0, 1), title="word accuracy")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
        for name, start in starts.items():
            ax.axvline(start * args.steps, color="grey", linestyle="--", linewidth=0.8)
            ax.annotate(labels[name] if ax is ax2 else name, (start * args.steps, 1),
                        xycoords=("data", "axes fraction"), xytext=(3, -22), textcoords="offset points",
                        fontsize=8, color="grey")
    ax2.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
