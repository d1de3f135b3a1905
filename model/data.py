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
from ocr_engine.preprocess import INPUT_HEIGHT, batch_to_input

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
                 real_weights: dict[str, float], strong_real: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.strong_real = strong_real
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
                img = augment_real(synth, img, strong=self.strong_real)
            else:
                img, label = synth.sample()
                if not label:
                    continue
            images.append(img)
            labels.append(label)
        return batch_to_input(images), pad_labels(labels)


def augment_real(synth: WordSynth, img: np.ndarray, strong: bool = False) -> np.ndarray:
    """Geometric + photometric jitter for real crops (a margin so nothing is cut).

    ``strong``: every crop warped, its shape and colours changed and its degradations
    stacked. Meant against learning the real crops by heart (the networks read 97-99% of the
    IC13 and IIIT5K crops they train on, 86-94% of the held-out ones); in phase 22 it did not
    stop that, and tied on dev (model/checkpoints/README.md)."""
    h, w = img.shape[:2]
    pad = max(2, h // 6)
    big = cv2.copyMakeBorder(img, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    box = np.float32([pad, pad, pad + w, pad + h])
    if strong or synth.rng.random() < 0.7:
        big, box = synth._geometric(big, box)
    out = synth._crop(big, box)
    if strong:
        out = _reshaped(synth.rng, _recoloured(synth.rng, _at_input_height(out)))
    if synth.rng.random() < 0.15:
        out = 255 - out
    out = synth._photometric(out)
    if strong and synth.rng.random() < 0.2:  # IC15's crops are often blurred and small and noisy at once
        out = synth._photometric(out)
    return out


def _at_input_height(img: np.ndarray) -> np.ndarray:
    """Small crops brought up to the network's input height first, so that the blur and the
    shrinking below act on the scale the network sees (a 12 px crop blurred at 5 px is gone)."""
    h, w = img.shape[:2]
    if h >= INPUT_HEIGHT:
        return img
    return cv2.resize(img, (max(2, round(w * INPUT_HEIGHT / h)), INPUT_HEIGHT), interpolation=cv2.INTER_CUBIC)


def _recoloured(rng: np.random.Generator, img: np.ndarray) -> np.ndarray:
    """Channels swapped, grey, a gamma and a contrast squeeze, each now and then."""
    if rng.random() < 0.3:
        img = img[..., rng.permutation(3)]
    if rng.random() < 0.1:
        img = np.repeat(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
    out = img.astype(np.float32)
    if rng.random() < 0.3:
        out = 255.0 * (out / 255.0) ** rng.uniform(0.6, 1.6)
    if rng.random() < 0.2:
        mean = out.mean()
        out = mean + (out - mean) * rng.uniform(0.55, 0.85)
    return np.clip(out, 0, 255).astype(np.uint8)


def _reshaped(rng: np.random.Generator, img: np.ndarray) -> np.ndarray:
    """The word squeezed or stretched sideways (fonts and perspective vary the aspect)."""
    if rng.random() >= 0.3:
        return img
    h, w = img.shape[:2]
    new_w = max(4, int(round(w * rng.uniform(0.7, 1.4))))
    return cv2.resize(img, (new_w, h), interpolation=cv2.INTER_AREA if new_w < w else cv2.INTER_LINEAR)


def holdout_arrays(hold) -> tuple[np.ndarray, list[str]]:
    return batch_to_input([img for img, _ in hold]), [label for _, label in hold]
