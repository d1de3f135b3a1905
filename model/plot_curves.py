"""Training curves from history.csv -> PNG: ``python -m model.plot_curves``."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--history", type=Path, nargs="+",
                   default=[HERE / "checkpoints" / "history.csv", HERE / "checkpoints" / "phase2" / "history.csv"],
                   help="histories of consecutive phases, plotted end to end")
    p.add_argument("--out", type=Path, default=HERE / "artifacts" / "training_curves.png")
    p.add_argument("--steps", type=int, default=300, help="steps per epoch, for the x axis")
    args = p.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = []
    for history in args.history:
        if history.exists():
            with history.open() as f:
                rows += list(csv.DictReader(f))
    steps = [(i + 1) * args.steps for i in range(len(rows))]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.5))
    ax1.plot(steps, [float(r["loss"]) for r in rows], marker="o")
    ax1.set(xlabel="training steps (batch 32)", ylabel="CTC loss", title="training loss")
    ax2.plot(steps, [float(r["val_word_acc"]) for r in rows], marker="o", color="tab:green")
    ax2.set(xlabel="training steps (batch 32)", ylabel="word accuracy", ylim=(0, 1),
            title="IIIT5K train hold-out (greedy)")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
