"""Precision and recall of scene reading over the confidence threshold: ``python -m model.scene_curve``.

svt_train is the dev set for detection: each scene is read once as the engine serves it,
keeping every word (``min_confidence=0``), and the words at or above each threshold are
scored as ``ocr eval-scenes`` scores them (IoU >= 0.5; end to end: found and read right),
once with the threshold alone and once with the engine's floor for short words too
(``OCR_SCENE_SHORT_MIN_CONFIDENCE``). The floors apply here after the engine has chosen its
words with none; serving applies them while it chooses (the best 8 among the words they keep,
lines split by the words they keep), so the marked row differs a little from what ``ocr
eval-scenes`` measures (2026-11-27, block 6 low-rank: 38.9% precision marked, 38.8% served).
Prints the tables, marks the engine's
``OCR_SCENE_MIN_CONFIDENCE``, and draws the curves (``model/artifacts/scene_curve.png``).
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np
from ocr_engine.config import REPO_ARTIFACTS_DIR, load_settings
from ocr_engine.pipeline import OcrEngine, scene_word_kept
from ocr_engine.schemas import ReadOptions
from ocr_tools.evaluate import SceneScore
from ocr_tools.labels import read_scenes
from ocr_tools.paths import data_dir
from tqdm import tqdm

THRESHOLDS = tuple(np.round(np.arange(0.0, 0.96, 0.05), 2))


def read_every_word(engine: OcrEngine, folder: Path) -> list[tuple[list, list]]:
    """[(words [(bbox, text, confidence)], gold [(bbox, text)])] per scene, no threshold."""
    scenes = []
    for path, gold in tqdm(read_scenes(folder), desc="scenes", unit="scene"):
        result = engine.read(path.read_bytes(), ReadOptions(min_confidence=0.0))
        scenes.append(([(w.bbox, w.text, w.confidence) for w in result.words], gold))
    return scenes


def curve(scenes: list[tuple[list, list]], thresholds=THRESHOLDS, short_min: float = 0.0) -> list[dict]:
    rows = []
    for t in thresholds:
        score = SceneScore()
        for words, gold in scenes:
            score.add([(b, text) for b, text, conf in words if scene_word_kept(text, conf, t, short_min)], gold)
        rows.append({"threshold": float(t), "words": score.predicted, **score.to_dict()})
    return rows


def plot(curves: dict[str, list[dict]], chosen: float, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.6, 4.2))
    for (name, rows), style in zip(curves.items(), ("--", "-"), strict=False):
        ts = [r["threshold"] for r in rows]
        for (key, label), colour in zip((("precision", "precision"), ("recall", "detection recall"),
                                         ("end_to_end_word_accuracy", "found and read right")),
                                        ("tab:blue", "tab:orange", "tab:green"), strict=True):
            ax.plot(ts, [r[key] for r in rows], style, marker=".", color=colour, label=f"{label} ({name})")
    ax.axvline(chosen, color="grey", linestyle="--", linewidth=0.8, label=f"default {chosen:g}")
    ax.set(xlabel="minimum word confidence in a scene", ylabel="share", ylim=(0, 1),
           title="svt_train scenes (dev), 8 words a scene")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=data_dir())
    p.add_argument("--out", type=Path, default=REPO_ARTIFACTS_DIR / "scene_curve.png")
    args = p.parse_args(argv)
    served = load_settings()
    settings = dataclasses.replace(served, scene_min_confidence=0.0, scene_short_min_confidence=0.0)
    scenes = read_every_word(OcrEngine.from_settings(settings), args.data / "svt_train")
    curves = {"threshold alone": curve(scenes),
              f"short words >= {served.scene_short_min_confidence:g}": curve(
                  scenes, short_min=served.scene_short_min_confidence)}
    for name, rows in curves.items():
        print(f"\n{name}\n{'threshold':>9} {'words':>6} {'precision':>9} {'recall':>7} {'end to end':>10}")
        for r in rows:
            mark = "  <- default" if abs(r["threshold"] - served.scene_min_confidence) < 1e-9 else ""
            print(f"{r['threshold']:9.2f} {r['words']:6d} {r['precision']:9.1%} {r['recall']:7.1%} "
                  f"{r['end_to_end_word_accuracy']:10.1%}{mark}")
    plot(curves, served.scene_min_confidence, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
