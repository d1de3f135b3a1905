"""The real training sets and their hold-outs, without Keras (the LiteRT tools read them too).

The real sets (``REAL_SETS``): IIIT5K ``train``, ICDAR 2015 incidental-scene crops and
ICDAR 2013 born-digital crops. Each is split deterministically: a hold-out (for
validation and, with svt_train's words, the dev crops that choose weights and decoding)
and the rest, mixed into training (``model.data``). No ``test`` split is ever read here.
Two splits:

- ``image`` (new runs): about one source image in ten (by a hash of its name), with all
  its word crops, is held out.
  Crops of one photo share lighting, font and often words, so this is the honest one.
  IC15's crops (``word_N``) do not name their photo, but its ground truth lists a photo's
  words one after another, so blocks of ``IC15_BLOCK`` consecutive crops stand in for
  photos (a photo that straddles two blocks can fall on both sides: a small leak).
- ``line`` (IIIT5K runs started before it existed): every tenth line. 181 of its 200
  crops share a photo with training crops, so it reads well above IIIT5K test.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from ocr_engine.charset import normalize_text
from ocr_engine.imagefile import load_rgb
from ocr_tools.labels import read_label_file

MAX_LABEL = 24
HOLDOUT_EVERY = 10
IC15_BLOCK = 10
# name -> the folder under the data directory holding its train.tsv (training splits only).
REAL_SETS = {"iiit5k": "iiit5k", "ic15": "ic15_train", "ic13": "ic13_born_digital"}


def source_image(path: Path, real_set: str = "iiit5k") -> str:
    """The photo a crop was cut from: IIIT5K names crops <image>_<word>, IC13 img_<image>_<word>;
    IC15's word_<n> are numbered photo by photo (module docstring)."""
    if real_set == "ic15":
        return f"block{int(path.stem.split('_')[-1]) // IC15_BLOCK}"
    if real_set == "ic13":
        return path.stem.rsplit("_", 1)[0]
    return path.stem.split("_")[0]


def is_held_out(index: int, path: Path, split: str, real_set: str = "iiit5k") -> bool:
    if split == "line":
        return index % HOLDOUT_EVERY == 0
    if split == "image":
        key = source_image(path, real_set)
        if real_set != "iiit5k":  # IIIT5K's hash stays as it was: earlier runs held out by it
            key = f"{real_set}/{key}"
        return int(hashlib.sha1(key.encode()).hexdigest(), 16) % HOLDOUT_EVERY == 0
    raise ValueError(f"unknown hold-out split {split!r}")


def load_real_set(data_dir: Path, real_set: str, split: str = "image",
                  holdout_only: bool = False) -> tuple[list, list]:
    """-> (train [(image, label)], holdout [(image, label)]) of one real set's training split;
    labels normalized ([0-9a-z]; punctuation dropped, so the model learns to skip it).
    ``holdout_only``: the training crops are not decoded at all (train comes back empty)."""
    rows = read_label_file(data_dir / REAL_SETS[real_set] / "train.tsv")
    train, hold = [], []
    for i, (path, label) in enumerate(rows):
        label = normalize_text(label)
        if not label or len(label) > MAX_LABEL:
            continue
        held = is_held_out(i, path, split, real_set)
        if held or not holdout_only:
            (hold if held else train).append((load_rgb(path), label))
    return train, hold


def parse_real_sets(spec: str) -> dict[str, float]:
    """``iiit5k:1,ic15:2`` -> {set: sampling weight}; a bare name weighs 1."""
    weights = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, _, weight = part.partition(":")
        if name not in REAL_SETS:
            raise ValueError(f"unknown real set {name!r} (known: {', '.join(REAL_SETS)})")
        weights[name] = float(weight or 1.0)
        if weights[name] <= 0:
            raise ValueError(f"real set {name!r}: the weight must be positive")
    return weights
