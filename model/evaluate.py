"""Evaluate the exported models on IIIT5K test and write the shipped metrics.

    python -m model.evaluate [--data ../shared/data] [--limit N]

Runs the serving engine itself (LiteRT, the shared preprocessing, beam search width 10)
on every test crop, for the float32 and int8 models that crnn.json's export wrote (their
sha256 must match its record), through the evaluator ``ocr eval``
uses (``ocr_tools.evaluate.evaluate_crops``), and writes:
- model/artifacts/metrics.json: word accuracy, CER, confidence calibration error (ECE),
  ms per crop, for both;
- the chosen model's metrics into model/artifacts/crnn.json (what /api/health shows);
- model/artifacts/qualitative.png: right and wrong readings side by side.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np
from ocr_engine.charset import normalize_text
from ocr_engine.config import REPO_ARTIFACTS_DIR, Settings
from ocr_engine.imagefile import load_rgb
from ocr_engine.pipeline import OcrEngine
from ocr_tools.evaluate import EngineReader, evaluate_crops
from ocr_tools.labels import read_label_file
from ocr_tools.paths import data_dir

from model.export import check_exported, stale_files

MODELS = ("crnn.tflite", "crnn-int8.tflite")


def evaluate(engine: OcrEngine, rows, images: dict[Path, np.ndarray]) -> dict:
    """``ocr eval``'s report for this engine, and its readings (``predictions``); the crops
    are those of ``images`` (path -> decoded crop), loaded once for every model."""
    evaluation = evaluate_crops(rows, EngineReader(engine), load=images.__getitem__,
                                progress=engine.settings.model_file)
    return {**evaluation.report(), "predictions": evaluation.predictions}


def qualitative_grid(rows, images: dict[Path, np.ndarray], preds, out: Path, per_side: int = 10) -> None:
    right = [i for i, (p, (_, g)) in enumerate(zip(preds, rows, strict=True)) if normalize_text(p) == normalize_text(g)]
    wrong = [i for i, (p, (_, g)) in enumerate(zip(preds, rows, strict=True)) if normalize_text(p) != normalize_text(g)]
    rng = np.random.default_rng(0)

    def tile(i: int, ok: bool) -> np.ndarray:
        img = images[rows[i][0]]
        h, w = img.shape[:2]
        img = cv2.resize(img, (min(300, max(40, round(w * 60 / h))), 60))
        canvas = np.full((100, 320, 3), 255, np.uint8)
        canvas[4:64, 10 : 10 + img.shape[1]] = img
        colour = (40, 140, 40) if ok else (200, 40, 40)  # RGB
        cv2.putText(canvas, f"read: {preds[i]}", (10, 80), cv2.FONT_HERSHEY_SIMPLEX, 0.5, colour, 1, cv2.LINE_AA)
        cv2.putText(canvas, f"true: {normalize_text(rows[i][1])}", (10, 96), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                    (60, 60, 60), 1, cv2.LINE_AA)
        return canvas

    pick = lambda xs: list(rng.choice(xs, min(per_side, len(xs)), replace=False)) if xs else []  # noqa: E731
    cols = [np.vstack([tile(i, ok) for i in pick(xs)] or [np.full((100, 320, 3), 255, np.uint8)])
            for xs, ok in ((right, True), (wrong, False))]
    height = max(c.shape[0] for c in cols)
    cols = [np.vstack([c, np.full((height - c.shape[0], 320, 3), 255, np.uint8)]) for c in cols]
    header = np.full((30, 660, 3), 255, np.uint8)
    cv2.putText(header, "right", (10, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (40, 140, 40), 2)
    cv2.putText(header, "wrong", (340, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (200, 40, 40), 2)
    grid = np.vstack([header, np.hstack([cols[0], np.full((height, 20, 3), 255, np.uint8), cols[1]])])
    cv2.imwrite(str(out), cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))


def models_to_measure(artifacts: Path, meta: dict, ship: str) -> list[str]:
    """The models in ``artifacts`` that crnn.json's export wrote. Another export's file (the
    float32 model is not committed, so an older one can be left on a machine) is skipped with
    a word; if the shipped model is not the recorded one, nothing is measured."""
    check_exported(artifacts, meta, ship)
    present = [name for name in MODELS if (artifacts / name).exists()]
    stale = stale_files(artifacts, meta, present)
    for name in stale:
        print(f"skipped {artifacts / name}: not the file crnn.json's export ({meta.get('version')}) wrote")
    return [name for name in present if name not in stale]


def protocol(engine: OcrEngine, n: int) -> str:
    """How the figures were read, with the decoding in force (it moves with the model and the LM)."""
    return (f"IIIT5K test ({n} crops), case-insensitive over [0-9a-z], "
            f"the engine's settings: {engine.decoding}, one thread")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--data", type=Path, default=data_dir())
    p.add_argument("--limit", type=int, default=0)
    p.add_argument("--artifacts", type=Path, default=REPO_ARTIFACTS_DIR, help="folder with the exported models")
    p.add_argument("--ship", default="crnn-int8.tflite", help="the model whose metrics go into crnn.json")
    args = p.parse_args(argv)
    meta_path = args.artifacts / "crnn.json"
    meta = json.loads(meta_path.read_text())
    names = models_to_measure(args.artifacts, meta, args.ship)
    rows = read_label_file(args.data / "iiit5k" / "test.tsv")[: args.limit or None]
    images = {path: load_rgb(path) for path, _ in rows}
    engines = {name: OcrEngine.from_settings(Settings(model_dir=args.artifacts, model_file=name, num_threads=1))
               for name in names}
    results = {name: {**evaluate(engine, rows, images), "sha256": meta["files"][name]}  # checked above
               for name, engine in engines.items()}
    for name, r in results.items():
        print(f"{name}: n={r['n']} word accuracy {r['word_accuracy']:.2%} CER {r['cer']:.2%} "
              f"ECE {r['ece']:.3f} {r['ms_per_crop']:.1f} ms/crop")
    shipped = results[args.ship]
    qualitative_grid(rows, images, shipped["predictions"], args.artifacts / "qualitative.png")
    summary = {name: {k: v for k, v in r.items() if k != "predictions"} for name, r in results.items()}
    summary["protocol"] = protocol(engines[args.ship], len(rows))
    summary["shipped"] = args.ship
    (args.artifacts / "metrics.json").write_text(json.dumps(summary, indent=2) + "\n")
    meta["metrics"] = {"iiit5k_test_word_accuracy": shipped["word_accuracy"], "iiit5k_test_cer": shipped["cer"],
                       "iiit5k_test_ece": shipped["ece"], "iiit5k_test_n": shipped["n"]}
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    print(f"wrote {args.artifacts / 'metrics.json'}, {args.artifacts / 'qualitative.png'}, updated {meta_path}")


if __name__ == "__main__":
    main()
