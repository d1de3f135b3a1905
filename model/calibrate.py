"""Fit the word confidence's calibration on the dev crops: ``python -m model.calibrate``.

Reads every dev crop of ``model.tune_decoding`` (svt_train's words and the real training
sets' image hold-outs; never a test split) as the engine serves, with the raw confidence,
fits Platt scaling (``ocr_engine.calibration``: two numbers, a logistic regression of
"read right" on the raw confidence's logit), and writes them into ``crnn.json``
(``confidence_calibration``), with the dev ECE before and after and a reliability
diagram (``reliability_diagram.png``) beside the model.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np
from ocr_engine.calibration import Calibration, fit_platt
from ocr_engine.config import REPO_ARTIFACTS_DIR, load_settings
from ocr_engine.ctc import Decoded
from ocr_engine.pipeline import OcrEngine
from ocr_tools.evaluate import expected_calibration_error
from ocr_tools.paths import data_dir

from model.export import check_exported
from model.tune_decoding import dev_sets, words_right


def reliability_diagram(curves: dict[str, tuple[np.ndarray, np.ndarray]], out: Path, bins: int = 10) -> None:
    """Accuracy against confidence per bin, one line per curve, with the diagonal."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=0.8, label="calibrated")
    for label, (conf, right) in curves.items():
        which = np.minimum((conf * bins).astype(int), bins - 1)
        xs, ys = zip(*[(conf[which == b].mean(), right[which == b].mean())
                       for b in range(bins) if (which == b).sum() >= 5], strict=True)
        ece = expected_calibration_error(conf, right, bins)
        ax.plot(xs, ys, marker="o", label=f"{label} (ECE {ece:.3f})")
    ax.set(xlabel="word confidence", ylabel="share of words read right", xlim=(0, 1), ylim=(0, 1),
           title="reliability on the dev crops")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def engine_to_fit(out: Path) -> OcrEngine:
    """The engine of the export in ``out``, its confidence raw (the shipped metadata may
    already carry a calibration); refused when ``out``'s model is not the one its card describes."""
    settings = dataclasses.replace(load_settings(), model_dir=out)
    # The fit goes into crnn.json: it must be fitted on the model that card describes.
    check_exported(settings.model_dir, json.loads(settings.metadata_path.read_text()), settings.model_file)
    engine = OcrEngine.from_settings(settings)
    engine.recognizer.metadata = dataclasses.replace(engine.recognizer.metadata, calibration=Calibration())
    return engine


def fit(engine: OcrEngine, out: Path, crop_sets: dict) -> dict[str, list[Decoded]]:
    """Read ``crop_sets`` (``model.tune_decoding.dev_sets``) with ``engine_to_fit(out)``, fit
    the calibration and write it into ``out``'s card, with the reliability diagram; -> the
    readings per set (texts as served: the calibration moves only the confidence)."""
    reads, raw, right = {}, [], []
    for name, (crops, labels) in crop_sets.items():
        reads[name] = engine.read_crops(crops)
        raw += [r.confidence for r in reads[name]]
        right += list(words_right(reads[name], labels))
        print(f"{name}: {len(labels)} crops read", flush=True)
    raw_a, right_a = np.asarray(raw), np.asarray(right)
    calibration = fit_platt(raw_a, right_a)
    calibrated = np.array([calibration(float(c)) for c in raw_a])
    before, after = expected_calibration_error(raw_a, right_a), expected_calibration_error(calibrated, right_a)
    print(f"dev crops {len(raw_a)}, {right_a.mean():.1%} right: ECE {before:.3f} raw -> {after:.3f} calibrated "
          f"(scale {calibration.scale:.3f}, shift {calibration.shift:.3f})")
    meta_path = out / "crnn.json"
    meta = json.loads(meta_path.read_text())
    meta["confidence_calibration"] = {
        "scale": round(calibration.scale, 4), "shift": round(calibration.shift, 4),
        "fitted_on": f"{len(raw_a)} dev crops (svt_train words, real training sets' image hold-outs)",
        "dev_ece_raw": round(before, 4), "dev_ece": round(after, 4),
    }
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    reliability_diagram({"raw": (raw_a, right_a), "calibrated": (calibrated, right_a)},
                        out / "reliability_diagram.png")
    print(f"wrote {meta_path} and {out / 'reliability_diagram.png'}")
    return reads


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=data_dir())
    p.add_argument("--out", type=Path, default=REPO_ARTIFACTS_DIR,
                   help="the export folder whose model is fitted and whose crnn.json is written")
    args = p.parse_args(argv)
    # The model read is the one in --out: the fit is written into that folder's card.
    engine = engine_to_fit(args.out)
    fit(engine, args.out, dev_sets(args.data))


if __name__ == "__main__":
    main()
