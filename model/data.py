"""Training and validation data: synthetic words mixed with augmented real word crops.

The real sets (``REAL_SETS``): IIIT5K ``train``, ICDAR 2015 incidental-scene crops and
ICDAR 2013 born-digital crops. Each is split deterministically: a hold-out (for
validation and, with svt_train's words, the dev crops that choose weights and decoding)
and the rest, mixed into training. No ``test`` split is ever read here. Two splits:

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
import os
from pathlib import Path

import cv2
import keras
import numpy as np
from ocr_engine.charset import normalize_text, text_to_indices
from ocr_engine.imagefile import load_rgb
from ocr_engine.preprocess import batch_to_input
from ocr_tools.labels import read_label_file

from model.synth import WordSynth

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


def load_real_set(data_dir: Path, real_set: str, split: str = "image") -> tuple[list, list]:
    """-> (train [(image, label)], holdout [(image, label)]) of one real set's training split;
    labels normalized ([0-9a-z]; punctuation dropped, so the model learns to skip it)."""
    rows = read_label_file(data_dir / REAL_SETS[real_set] / "train.tsv")
    train, hold = [], []
    for i, (path, label) in enumerate(rows):
        label = normalize_text(label)
        if not label or len(label) > MAX_LABEL:
            continue
        img = load_rgb(path)
        (hold if is_held_out(i, path, split, real_set) else train).append((img, label))
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


def pad_labels(labels: list[str], max_len: int = MAX_LABEL) -> np.ndarray:
    out = np.zeros((len(labels), max_len), np.int32)  # 0 = blank = padding
    for i, text in enumerate(labels):
        idx = text_to_indices(text)[:max_len]
        out[i, : len(idx)] = idx
    return out


class MixedWords(keras.utils.PyDataset):
    """Endless batches: synthetic words, with a fraction of augmented real crops.

    ``real`` is one list of (image, label) or {set name: list}. A real crop's set is drawn
    in proportion to its size times its ``real_weights`` entry (default 1: every real crop
    equally often; 2: that set's crops twice as often as the others')."""

    def __init__(self, real, batch_size=32, real_fraction=0.25, steps=500, seed=0,
                 real_weights: dict[str, float] | None = None, **kwargs):
        super().__init__(**kwargs)
        sets = real if isinstance(real, dict) else {"real": real}
        self.real_sets = [crops for crops in sets.values() if crops]
        weights = [len(crops) * (real_weights or {}).get(name, 1.0) for name, crops in sets.items() if crops]
        self.set_p = np.asarray(weights, float) / sum(weights) if weights else np.zeros(0)
        self.batch_size = batch_size
        self.real_fraction = real_fraction if self.real_sets else 0.0
        self.steps = steps
        self.seed = seed

    def __len__(self) -> int:
        return self.steps

    def __getitem__(self, index: int):
        # A fresh generator per batch: workers in other processes stay independent.
        synth = WordSynth(seed=hash((self.seed, index, os.getpid())) % (2**32))
        rng = synth.rng
        images, labels = [], []
        for _ in range(self.batch_size):
            if rng.random() < self.real_fraction:
                crops = self.real_sets[int(rng.choice(len(self.real_sets), p=self.set_p))]
                img, label = crops[int(rng.integers(0, len(crops)))]
                img = augment_real(synth, img)
            else:
                img, label = synth.sample()
                if not label:
                    continue
            images.append(img)
            labels.append(label)
        return batch_to_input(images), pad_labels(labels)


def augment_real(synth: WordSynth, img: np.ndarray) -> np.ndarray:
    """Mild geometric + photometric jitter for real crops (a margin so nothing is cut)."""
    h, w = img.shape[:2]
    pad = max(2, h // 6)
    big = cv2.copyMakeBorder(img, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    box = np.float32([pad, pad, pad + w, pad + h])
    if synth.rng.random() < 0.7:
        big, box = synth._geometric(big, box)
    out = synth._crop(big, box)
    if synth.rng.random() < 0.15:
        out = 255 - out
    return synth._photometric(out)


def holdout_arrays(hold) -> tuple[np.ndarray, list[str]]:
    return batch_to_input([img for img, _ in hold]), [label for _, label in hold]
