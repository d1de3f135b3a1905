"""Net2Net widening: the wider CRNN reads exactly as the narrow one it grew from."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers import import_keras

pytestmark = pytest.mark.train  # Keras: requirements/train-ci.txt, which make test installs
keras = import_keras()  # collected without Keras (make test-fast): skipped; a broken one fails

from model.crnn import build_crnn  # noqa: E402
from model.widen import grow_mapping, split_fractions, widen_model, widened  # noqa: E402


def trained_looking(model, seed: int):
    """Random weights with non-trivial BatchNorm statistics (a fresh model's are 0 and 1)."""
    rng = np.random.default_rng(seed)
    weights = []
    for w in model.get_weights():
        noise = rng.normal(0, 0.3, w.shape).astype(np.float32)
        weights.append(np.abs(w + noise) + 0.5 if w.ndim == 1 and np.all(w == 1) else w + noise)
    model.set_weights(weights)


def test_the_widened_model_computes_what_the_narrow_one_computes(tmp_path):
    keras.utils.set_random_seed(0)  # random initial weights, the same each run (unseeded: 1 run in 8 past 2e-4)
    narrow = build_crnn(width=0.25)
    trained_looking(narrow, seed=1)
    wide = build_crnn(width=0.5)
    widen_model(narrow, wide, seed=3)
    x = np.random.default_rng(2).random((4, 32, 128, 1), dtype=np.float32)
    # The same function, up to float32 sums taken in another order.
    np.testing.assert_allclose(wide.predict(x, verbose=0), narrow.predict(x, verbose=0), atol=2e-4)
    assert wide.count_params() > 3 * narrow.count_params()

    narrow.save_weights(tmp_path / "narrow.weights.h5")
    again = widened(tmp_path / "narrow.weights.h5", 0.25, 0.5, seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(again.get_weights(), wide.get_weights(), strict=True))


def test_the_copies_of_a_unit_split_its_weight_unevenly_but_exactly():
    rng = np.random.default_rng(0)
    mapping = grow_mapping(4, 10, rng)
    assert list(mapping[:4]) == [0, 1, 2, 3] and mapping.max() < 4
    shares = split_fractions(mapping, rng, jitter=0.1)
    for unit in range(4):
        copies = shares[mapping == unit]
        assert copies.sum() == pytest.approx(1.0)
        assert len(copies) == 1 or np.ptp(copies) > 0  # uneven: the copies can grow apart


def test_a_model_cannot_be_narrowed():
    with pytest.raises(ValueError):
        grow_mapping(8, 4, np.random.default_rng(0))


def test_the_command_line_takes_a_width_of_seven_numbers(tmp_path, capsys):
    from model.widen import main

    keras.utils.set_random_seed(0)
    narrow = build_crnn(width=0.25)
    trained_looking(narrow, seed=1)
    narrow.save_weights(tmp_path / "narrow.weights.h5")
    main([str(tmp_path / "narrow.weights.h5"), "--from-width", "0.25", "--to-width", "16-32-64-64-128-192-64",
          "--out", str(tmp_path / "wide.weights.h5")])
    assert "width 0.25 -> 16-32-64-64-128-192-64" in capsys.readouterr().out
    wide = build_crnn(width="16-32-64-64-128-192-64")
    wide.load_weights(tmp_path / "wide.weights.h5")
    x = np.random.default_rng(2).random((2, 32, 128, 1), dtype=np.float32)
    np.testing.assert_allclose(wide.predict(x, verbose=0), narrow.predict(x, verbose=0), atol=2e-4)


def test_training_from_narrower_weights_starts_from_the_widened_model(tmp_path):
    import argparse

    from model.train import make_model

    build_crnn(width=0.25).save_weights(tmp_path / "narrow.weights.h5")
    args = argparse.Namespace(width="0.5", init_width="0.25", init_weights=tmp_path / "narrow.weights.h5",
                              total_steps=10, lr=1e-3)
    model = make_model(args)
    again = widened(tmp_path / "narrow.weights.h5", "0.25", "0.5", dropout=0.1)
    assert model.get_layer("enc_dropout").rate == 0.1
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), again.get_weights(), strict=True))


@pytest.mark.parametrize(("from_width", "to_width"), [
    ("0.25", "32-64-128-128-256-256r64-128"),  # into a low-rank block
    ("16-32-64-64-128-128r32-64", "0.5"),  # out of one
])
def test_low_rank_blocks_are_not_widened(tmp_path, from_width, to_width):
    """Their channels are projections (model.factorize), not units a copy could stand for."""
    with pytest.raises(ValueError, match="low-rank"):
        widened(tmp_path / "unread.weights.h5", from_width, to_width)


def test_training_refuses_to_widen_into_a_low_rank_width_before_reading_data(tmp_path, capsys):
    from model.train import main

    with pytest.raises(SystemExit) as stop:
        main(["--out", str(tmp_path / "run"), "--init-weights", str(tmp_path / "unread.weights.h5"),
              "--init-width", "0.25", "--width", "32-64-128-128-256-256r64-128", "--data", str(tmp_path / "no-data")])
    assert stop.value.code == 2
    assert "model.factorize" in capsys.readouterr().err
