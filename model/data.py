"""Training and validation data: synthetic words mixed with augmented IIIT5K train crops.

IIIT5K ``train`` is split deterministically for validation, the rest is mixed into
training. The ``test`` split is never read here. Two splits:

- ``image`` (new runs): about one source image in ten (by a hash of its name), with all
  its word crops, is held out.
  Crops of one photo share lighting, font and often words, so this is the honest one.
- ``line`` (runs started before it existed): every tenth line. 181 of its 200 crops
  share a photo with training crops, so it reads well above IIIT5K test.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import cv2
import keras
import numpy as np
from ocr_engine.charset import encode, normalize_text
from ocr_engine.decode import load_rgb
from ocr_engine.labels import read_label_file
from ocr_engine.preprocess import batch_to_input

from model.synth import WordSynth

DEFAULT_DATA_DIR = Path(os.environ.get("OCR_DATA_DIR", Path(__file__).resolve().parents[2] / "shared" / "data"))
MAX_LABEL = 24
HOLDOUT_EVERY = 10


def source_image(path: Path) -> str:
    """IIIT5K crops are named <image>_<word>.png."""
    return path.stem.split("_")[0]


def is_held_out(index: int, path: Path, split: str) -> bool:
    if split == "line":
        return index % HOLDOUT_EVERY == 0
    if split == "image":
        return int(hashlib.sha1(source_image(path).encode()).hexdigest(), 16) % HOLDOUT_EVERY == 0
    raise ValueError(f"unknown hold-out split {split!r}")


def load_iiit5k_train(data_dir: Path = DEFAULT_DATA_DIR, split: str = "image") -> tuple[list, list]:
    """-> (train [(image, label)], holdout [(image, label)]) from IIIT5K train only."""
    rows = read_label_file(data_dir / "iiit5k" / "train.tsv")
    train, hold = [], []
    for i, (path, label) in enumerate(rows):
        label = normalize_text(label)
        if not label or len(label) > MAX_LABEL:
            continue
        img = load_rgb(path)
        (hold if is_held_out(i, path, split) else train).append((img, label))
    return train, hold


def pad_labels(labels: list[str], max_len: int = MAX_LABEL) -> np.ndarray:
    out = np.zeros((len(labels), max_len), np.int32)  # 0 = blank = padding
    for i, text in enumerate(labels):
        idx = encode(text)[:max_len]
        out[i, : len(idx)] = idx
    return out


class MixedWords(keras.utils.PyDataset):
    """Endless batches: synthetic words, with a fraction of augmented real crops."""

    def __init__(self, real, batch_size=32, real_fraction=0.25, steps=500, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.real = real
        self.batch_size = batch_size
        self.real_fraction = real_fraction if real else 0.0
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
                img, label = self.real[int(rng.integers(0, len(self.real)))]
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
