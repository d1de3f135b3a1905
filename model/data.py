"""Training and validation data: synthetic words mixed with augmented real word crops.

The real sets, their hold-outs and how they are split live in ``model.real_sets`` (no
Keras there: the LiteRT tools read the hold-outs too); this module batches them for Keras.
"""

from __future__ import annotations

import os

import cv2
import keras
import numpy as np
from ocr_engine.charset import text_to_indices
from ocr_engine.preprocess import batch_to_input

from model.real_sets import MAX_LABEL
from model.synth import WordSynth


def pad_labels(labels: list[str]) -> np.ndarray:
    out = np.zeros((len(labels), MAX_LABEL), np.int32)  # 0 = blank = padding
    for i, text in enumerate(labels):
        idx = text_to_indices(text)[:MAX_LABEL]
        out[i, : len(idx)] = idx
    return out


class MixedWords(keras.utils.PyDataset):
    """Endless batches: synthetic words, with a fraction of augmented real crops.

    ``real`` is {set name: [(image, label)]}. A real crop's set is drawn in proportion to
    its size times its ``real_weights`` entry (1, or absent: every real crop equally often;
    2: that set's crops twice as often as the others')."""

    def __init__(self, real: dict[str, list], batch_size: int, real_fraction: float, steps: int, seed: int,
                 real_weights: dict[str, float], **kwargs):
        super().__init__(**kwargs)
        self.real_sets = [crops for crops in real.values() if crops]
        weights = [len(crops) * real_weights.get(name, 1.0) for name, crops in real.items() if crops]
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
