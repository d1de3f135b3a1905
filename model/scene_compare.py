"""Compare candidate weights end to end on svt_train's scenes, as the product serves them:
``python -m model.scene_compare LABEL=WEIGHTS[@WIDTH] ...``.

    python -m model.scene_compare soup=model/checkpoints/soup-p23.weights.h5@32-64-128-128-384-384-192

``model.dev_compare`` reads the dev crops with float32 Keras; a scene also needs the
detector's candidates, the served int8 model and the confidence the scene floors read.
So each candidate is exported as the shipped model is (``model.export`` into
``.cache/candidates/LABEL``, the shipped LM beside it), its confidence calibrated on the dev
crops (``model.calibrate``: the floors read calibrated confidence), and every svt_train
scene read as ``ocr eval-scenes`` reads it; the shipped model is read the same way in the
same run. Prints precision, recall and end to end for each, and against the shipped model
the labelled words each finds and reads right that the other does not, with the sign
test's p. ``--record TITLE`` appends the table to ``checkpoints/dev_log.md``.

svt_train is the dev set for detection (never trained on), so this may choose weights.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import shutil
import sys
from pathlib import Path

import numpy as np
from ocr_engine.config import REPO_ARTIFACTS_DIR, load_settings
from ocr_engine.pipeline import OcrEngine
from ocr_tools.evaluate import SceneRun, score_scenes
from ocr_tools.labels import read_scenes
from ocr_tools.paths import data_dir

from model.dev_compare import DEV_LOG, paired, parse_candidate
from model.tune_decoding import record

CANDIDATES_DIR = Path(__file__).resolve().parent.parent / ".cache" / "candidates"
SHIPPED = "shipped"
LABEL = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")


def exported_candidate(label: str, weights: Path, width: str, root: Path, data: Path) -> Path:
    """Export ``weights`` into ``root/label`` as the shipped model is, with the shipped LM and
    a calibration fitted on the dev crops; -> that folder."""
    from model import calibrate, export  # TensorFlow: the export only

    out = root / label
    export.main(["--weights", str(weights), "--out", str(out), "--width", width,
                 "--version", f"candidate-{label}", "--dataset", f"candidate {label}: {weights}"])
    lm = REPO_ARTIFACTS_DIR / load_settings().lm_file
    if lm.is_file():
        shutil.copy2(lm, out / lm.name)
    calibrate.main(["--out", str(out), "--data", str(data)])
    return out


def read_scenes_with(model_dir: Path, data: Path) -> SceneRun:
    engine = OcrEngine.from_settings(dataclasses.replace(load_settings(), model_dir=model_dir))
    return score_scenes(engine, read_scenes(data / "svt_train"), progress=sys.stderr.isatty())


def table(runs: dict[str, SceneRun]) -> list[str]:
    """One row per reader; the first is the reference of the paired column."""
    first = next(iter(runs))
    reference = np.asarray(runs[first].score.words_right, dtype=bool)
    lines = [f"| model | precision | recall | end to end | against {first} |", "|---|---|---|---|---|"]
    for label, run in runs.items():
        s = run.score.to_dict()
        versus = "" if label == first else paired(reference, np.asarray(run.score.words_right, dtype=bool))
        end_to_end = f"{run.score.read_right} of {s['scenes_words']} ({s['end_to_end_word_accuracy']:.1%})"
        if run.unreadable:  # their words count as missed: say so beside the figure they lower
            end_to_end += f", {run.unreadable} scenes unreadable"
        lines.append(f"| {label} | {s['precision']:.1%} | {s['recall']:.1%} | {end_to_end} | {versus} |")
    return lines


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("candidates", nargs="+", type=parse_candidate, help="LABEL=WEIGHTS[@WIDTH]")
    p.add_argument("--data", type=Path, default=data_dir())
    p.add_argument("--root", type=Path, default=CANDIDATES_DIR, help="where the candidates are exported")
    p.add_argument("--record", metavar="TITLE", help=f"append the table to {DEV_LOG.name} under this title")
    args = p.parse_args(argv)
    labels = [label for label, _, _ in args.candidates]
    if len(set(labels)) != len(labels) or SHIPPED in labels:
        p.error(f"each candidate needs its own label, not {SHIPPED!r} (the shipped model's row)")
    if not all(LABEL.fullmatch(label) for label in labels):  # each names a folder under --root
        p.error("a label is letters, digits, '.', '_' and '-', not starting with '.'")
    if not (args.data / "svt_train" / "boxes.json").is_file():
        p.error(f"{args.data / 'svt_train'} holds no scenes (boxes.json)")
    missing = [str(w) for _, w, _ in args.candidates if not w.is_file()]
    if missing:
        p.error(f"no such weights: {', '.join(missing)}")
    runs = {SHIPPED: read_scenes_with(REPO_ARTIFACTS_DIR, args.data)}
    print(table(runs)[-1], flush=True)
    for label, weights, width in args.candidates:
        folder = exported_candidate(label, weights, width, args.root, args.data)
        runs[label] = read_scenes_with(folder, args.data)
        print(table(runs)[-1], flush=True)
    lines = table(runs)
    print("\n".join(lines))
    if args.record:
        record(DEV_LOG, args.record, sys.argv[1:] if argv is None else argv, lines, module="model.scene_compare",
               markdown=True)


if __name__ == "__main__":
    main()
