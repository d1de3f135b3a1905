"""Compare candidate weights with the shipped model as the product serves them, on the dev
crops and end to end on svt_train's scenes: ``python -m model.scene_compare LABEL=WEIGHTS[@WIDTH] ...``.

    python -m model.factorize model/checkpoints/phase25/anneal-mean.f16.weights.h5 \\
        --width 32-64-128-128-384-384-192 --ranks 6:160 --out p25.weights.h5
    python -m model.scene_compare p25=p25.weights.h5@32-64-128-128-384-384r160-192

(Block 6 made low-rank first, as the shipped model's is: ``model.factorize``.)

``model.dev_compare`` reads the dev crops with float32 Keras, a cheap first look; what ships
is the int8 model, which rounds differently (phase 10's full network read 1114 dev crops int8
and 1107 float32), and a scene also needs the detector's candidates and the confidence the
scene floors read. So each candidate is exported as the shipped model is (``model.export``
into ``.cache/candidates/LABEL``, the shipped LM beside it), its confidence calibrated on the
dev crops (``model.calibrate``: the floors read calibrated confidence), then the dev crops
(``model.tune_decoding``'s sets) read as an upload of each is served and every svt_train
scene as ``ocr eval-scenes`` reads it; the shipped model is read the same way in the same
run. Prints, for each, the dev crops read right, the scenes' precision, recall and end to
end, and against the shipped model the sign test's p over the dev crops each alone reads
right, over the crops where each makes fewer character errors, and over the labelled scene
words each alone finds and reads right. ``--record TITLE`` appends the table to
``checkpoints/dev_log.md``.

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

from model.dev_compare import DEV_LOG, character_errors, paired, paired_characters, parse_candidate
from model.tune_decoding import dev_sets, record, words_right

CANDIDATES_DIR = Path(__file__).resolve().parent.parent / ".cache" / "candidates"
SHIPPED = "shipped"
LABEL = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")


def exported_candidate(label: str, weights: Path, width: str, root: Path, crop_sets: dict) -> tuple[Path, dict]:
    """Export ``weights`` into ``root/label`` as the shipped model is, with the shipped LM and
    a calibration fitted on the dev crops; -> that folder, and the dev crops' readings the fit
    made (their texts as served)."""
    from model import calibrate, export  # TensorFlow: the export only

    out = root / label
    export.main(["--weights", str(weights), "--out", str(out), "--width", width,
                 "--version", f"candidate-{label}", "--dataset", f"candidate {label}: {weights}"])
    lm = REPO_ARTIFACTS_DIR / load_settings().lm_file
    if lm.is_file():
        shutil.copy2(lm, out / lm.name)
    return out, calibrate.fit(calibrate.engine_to_fit(out), out, crop_sets)


@dataclasses.dataclass
class ServedRun:
    """One model read as served: per dev crop, read right and its character errors; the scenes."""

    crops_right: np.ndarray
    crop_errors: np.ndarray
    scenes: SceneRun


def read_with(model_dir: Path, data: Path, crop_sets: dict, reads: dict | None = None) -> ServedRun:
    """The dev crops (``reads``: their readings, when already made) and the scenes, as served
    with the model in ``model_dir``."""
    engine = OcrEngine.from_settings(dataclasses.replace(load_settings(), model_dir=model_dir))
    reads = reads or {name: engine.read_crops(crops) for name, (crops, _) in crop_sets.items()}
    right = np.concatenate([words_right(reads[name], labels) for name, (_, labels) in crop_sets.items()])
    errors = np.concatenate([character_errors(reads[name], labels) for name, (_, labels) in crop_sets.items()])
    scenes = score_scenes(engine, read_scenes(data / "svt_train"), progress=sys.stderr.isatty())
    return ServedRun(right, errors, scenes)


def table(runs: dict[str, ServedRun]) -> list[str]:
    """One row per reader; the first is the reference of the paired columns."""
    first = next(iter(runs))
    ref = runs[first]
    n = len(ref.crops_right)
    lines = [f"| model | dev crops ({n}) | against {first} | characters against {first} | precision | recall "
             f"| end to end | against {first} |", "|---" * 8 + "|"]
    for label, run in runs.items():
        s = run.scenes.score.to_dict()
        versus = ("", "", "") if label == first else (
            paired(ref.crops_right, run.crops_right), paired_characters(ref.crop_errors, run.crop_errors),
            paired(np.asarray(ref.scenes.score.words_right, dtype=bool),
                   np.asarray(run.scenes.score.words_right, dtype=bool)))
        end_to_end = f"{run.scenes.score.read_right} of {s['scenes_words']} ({s['end_to_end_word_accuracy']:.1%})"
        if run.scenes.unreadable:  # their words count as missed: say so beside the figure they lower
            end_to_end += f", {run.scenes.unreadable} scenes unreadable"
        right = int(run.crops_right.sum())
        lines.append(f"| {label} | {right} ({right / n:.1%}) | {versus[0]} | {versus[1]} | {s['precision']:.1%} "
                     f"| {s['recall']:.1%} | {end_to_end} | {versus[2]} |")
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
    crop_sets = dev_sets(args.data)
    runs = {SHIPPED: read_with(REPO_ARTIFACTS_DIR, args.data, crop_sets)}
    print(table(runs)[-1], flush=True)
    for label, weights, width in args.candidates:
        folder, reads = exported_candidate(label, weights, width, args.root, crop_sets)
        runs[label] = read_with(folder, args.data, crop_sets, reads)
        print(table(runs)[-1], flush=True)
    lines = table(runs)
    print("\n".join(lines))
    if args.record:
        record(DEV_LOG, args.record, sys.argv[1:] if argv is None else argv, lines, module="model.scene_compare",
               markdown=True)


if __name__ == "__main__":
    main()
