"""Real training crops, jittered: the strong setting works at the scale the network reads."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers import import_keras

pytestmark = pytest.mark.train  # model.data imports Keras (requirements/train-ci.txt)
import_keras()  # collected without Keras (make test-fast): skipped; a broken one fails

from ocr_engine.preprocess import INPUT_HEIGHT  # noqa: E402

from model.data import _reshaped, augment_real  # noqa: E402


def small_word() -> np.ndarray:
    """A dark bar on a light ground, 12 px high: a far-away word, as IC15 has many."""
    img = np.full((12, 48, 3), 220, np.uint8)
    img[3:9, 4:44] = 30
    return img


def test_strong_jitter_brings_a_small_crop_up_to_the_input_height_first(synth):
    mild = [augment_real(synth, small_word()).shape[0] for _ in range(20)]
    strong = [augment_real(synth, small_word(), strong=True).shape[0] for _ in range(20)]
    assert max(mild) < INPUT_HEIGHT  # mild jitter blurs and shrinks the 12 px crop itself
    assert min(strong) >= INPUT_HEIGHT


def test_strong_jitter_keeps_a_light_word_on_dark_apart_from_its_ground(synth):
    """Recolouring and stacked degradations may not wash the word out: across many draws
    the bar's rows stay far from the ground's in most of them (an inverted draw counts too)."""
    apart = 0
    for _ in range(40):
        out = augment_real(synth, small_word(), strong=True).mean(axis=2)
        h = out.shape[0]
        middle, edge = out[h // 2 - 1 : h // 2 + 2].mean(), np.r_[out[:2], out[-2:]].mean()
        apart += abs(middle - edge) > 25
    assert apart >= 30


@pytest.mark.parametrize("seed", range(5))
def test_a_reshaped_word_keeps_its_height_and_changes_its_width_by_at_most_40_percent(seed):
    rng = np.random.default_rng(seed)
    img = np.zeros((32, 100, 3), np.uint8)
    for _ in range(10):
        out = _reshaped(rng, img)
        assert out.shape[0] == 32 and 70 <= out.shape[1] <= 140
