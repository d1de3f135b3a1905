"""Export trained weights to TFLite for serving: ``python -m model.export``.

Builds the export copy of the CRNN with unrolled LSTMs (they convert to builtin TFLite
ops), loads the weights, and writes float32 and int8 dynamic-range models, the Keras
weights alone (``crnn.weights.h5``, for ``model.train --init-weights``), the single-crop
model with fused LSTM ops (``model.export_single``) and the metadata file the engine
checks at load (charset, blank index, input size, metrics), with each file's sha256.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
import time
from pathlib import Path

from ocr_engine.charset import ALPHABET, BLANK_INDEX
from ocr_engine.config import REPO_ARTIFACTS_DIR
from ocr_engine.preprocess import INPUT_HEIGHT, INPUT_WIDTH

from model.export_single import SINGLE_MODEL_FILE, convert_single
from model.widths import width_name

DEFAULT_WEIGHTS = Path(__file__).resolve().parent / "checkpoints" / "best.weights.h5"
# What one export writes besides crnn.json, which records their digests.
EXPORTED_FILES = ("crnn.tflite", "crnn-int8.tflite", SINGLE_MODEL_FILE, "crnn.weights.h5")


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fingerprints(folder: Path) -> dict[str, str]:
    """The sha256 of each exported file in ``folder``, by name. crnn.json records them, so that
    a measurement can tell the export's files from another export's left on the machine (the
    float32 model is not committed, and phase 11's once stood in for phase 10's unnoticed)."""
    return {name: file_digest(folder / name) for name in EXPORTED_FILES if (folder / name).exists()}


def stale_files(folder: Path, meta: dict, names) -> list[str]:
    """Those of ``names`` that are not the files crnn.json's export wrote (changed since, or
    never recorded); a missing file is not stale, it is absent."""
    recorded = meta.get("files", {})
    return [name for name in names
            if (folder / name).exists() and recorded.get(name) != file_digest(folder / name)]


def check_exported(folder: Path, meta: dict, name: str) -> None:
    """Stop unless ``folder / name`` is the file crnn.json's export wrote: what is measured or
    fitted on it is written into that card (``model.evaluate``, ``model.calibrate``)."""
    if not (folder / name).exists() or stale_files(folder, meta, [name]):
        raise SystemExit(f"{folder / name} is missing or is not the file that crnn.json's export "
                         f"({meta.get('version')}) wrote: export again (python -m model.export)")


def weights_file(path: Path, scratch: Path) -> Path:
    """A ``.weights.h5`` for ``path``: itself, or the layers' weights of a full training
    checkpoint (``last.keras``: model + optimizer state) written to ``scratch``."""
    if path.suffix != ".keras":
        return path
    import keras

    import model.crnn  # noqa: F401 - registers ctc_loss, which the checkpoint names

    out = scratch / "from-checkpoint.weights.h5"
    keras.saving.load_model(path).save_weights(out)
    return out


def convert(model) -> dict[str, bytes]:
    """The export copy ``model`` (unrolled LSTMs) -> its float32 and int8 TFLite files, by
    name, from one SavedModel export."""
    import tensorflow as tf  # export only; serving never imports TensorFlow

    files = {}
    with tempfile.TemporaryDirectory() as tmp:
        # Keras 3's own SavedModel export freezes the variables into constants.
        model.export(tmp, format="tf_saved_model", verbose=False)
        for name, quantize in (("crnn.tflite", False), ("crnn-int8.tflite", True)):
            converter = tf.lite.TFLiteConverter.from_saved_model(tmp)
            if quantize:
                converter.optimizations = [tf.lite.Optimize.DEFAULT]  # int8 weights, float activations
            files[name] = converter.convert()
    return files


def training_data_description() -> str:
    """What the weights were trained on, with the font count of this machine (export runs
    where training ran; a lent GPU trains on the bundle's subset, which it names itself)."""
    from model.synth import find_fonts

    try:
        return f"synthetic words ({len(find_fonts())} fonts) + IIIT5K train"
    except RuntimeError:  # no fonts installed here: say no more than we know
        return "synthetic words + IIIT5K train"


def write_metadata(out: Path, version: str, width: float | str, metrics: dict | None = None,
                   dataset: str | None = None, files: dict[str, str] | None = None) -> None:
    meta = {
        "name": f"crnn-{width_name(width)}",
        "version": version,
        "dataset": dataset or training_data_description(),
        "alphabet": ALPHABET,
        "blank_index": BLANK_INDEX,
        "input_height": INPUT_HEIGHT,
        "input_width": INPUT_WIDTH,
        "exported_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "metrics": metrics or {},
        "files": files or {},
    }
    out.write_text(json.dumps(meta, indent=2) + "\n")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS,
                   help="a .weights.h5 (best.weights.h5) or a training checkpoint (last.keras)")
    p.add_argument("--out", type=Path, default=REPO_ARTIFACTS_DIR)
    p.add_argument("--width", default="0.5", help="the network's width (model.widths)")
    p.add_argument("--version", default=time.strftime("%Y.%m.%d"))
    p.add_argument("--dataset", help="training data, for crnn.json (default: counts this machine's fonts)")
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        from model.crnn import load_crnn  # Keras: export only; the metadata needs none

        # One build for every file: unrolling changes how the LSTMs run, not their weights.
        model = load_crnn(weights_file(args.weights, Path(scratch)), args.width, unroll=True)
        for name, data in convert(model).items():
            (args.out / name).write_bytes(data)
            print(f"wrote {args.out / name} ({len(data) / 1e6:.2f} MB)")
        # The layers' weights alone (no optimizer state: a third of a checkpoint's size), shipped
        # beside the TFLite models as the start of any later fine-tuning.
        model.save_weights(args.out / "crnn.weights.h5")
        print(f"wrote {args.out / 'crnn.weights.h5'}")
        data = convert_single(model)
        (args.out / SINGLE_MODEL_FILE).write_bytes(data)
        print(f"wrote {args.out / SINGLE_MODEL_FILE} ({len(data) / 1e6:.2f} MB, one crop, fused LSTM ops)")
    write_metadata(args.out / "crnn.json", args.version, args.width, dataset=args.dataset,
                   files=fingerprints(args.out))
    print(f"wrote {args.out / 'crnn.json'}")


if __name__ == "__main__":
    main()
