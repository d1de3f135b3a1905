"""A resume checkpoint at half the bytes: float16 arrays that Keras reads back into float32."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers import import_keras

pytestmark = pytest.mark.train  # Keras: requirements/train-ci.txt, which make test installs
import_keras()  # collected without Keras (make test-fast): skipped; a broken one fails

from model.compact import compact  # noqa: E402
from model.crnn import build_crnn  # noqa: E402


def test_a_compacted_checkpoint_is_half_the_bytes_and_reads_as_the_original(tmp_path):
    model = build_crnn(width=0.25)
    rng = np.random.default_rng(0)
    model.set_weights([w + rng.normal(scale=0.05, size=w.shape).astype(np.float32) for w in model.get_weights()])
    full, half = tmp_path / "full.weights.h5", tmp_path / "half.weights.h5"
    model.save_weights(full)
    compact(full, half)
    assert half.stat().st_size < 0.6 * full.stat().st_size

    again = build_crnn(width=0.25)
    again.load_weights(half)
    assert all(w.dtype == "float32" for w in again.weights)
    for original, read in zip(model.get_weights(), again.get_weights(), strict=True):
        assert np.allclose(original, read, rtol=1e-3, atol=1e-4)
    crops = rng.random((3, 32, 128, 1)).astype(np.float32)
    assert np.abs(model.predict(crops, verbose=0) - again.predict(crops, verbose=0)).max() < 0.01
