"""Low-rank conv blocks (model.factorize): exact where the responses have that rank, and
ready to train on."""

from __future__ import annotations

import argparse

import numpy as np
import pytest

from tests.helpers import import_keras

pytestmark = pytest.mark.train  # Keras: requirements/train-ci.txt, which make test installs
keras = import_keras()  # collected without Keras (make test-fast): skipped; a broken one fails

from model.crnn import build_crnn  # noqa: E402
from model.factorize import factorize, parse_ranks  # noqa: E402
from model.widen import widen_model  # noqa: E402
from tests.unit.test_widen import trained_looking  # noqa: E402


def images(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random((n, 32, 128, 1), dtype=np.float32)


@pytest.fixture(scope="module")
def copied_channels():
    """A width-0.5 CRNN grown from a width-0.25 one: blocks 5 and 6 have 256 channels, 128 of
    them copies, so their responses have rank 128."""
    keras.utils.set_random_seed(0)
    narrow = build_crnn(width=0.25)
    trained_looking(narrow, seed=1)
    wide = build_crnn(width=0.5)
    widen_model(narrow, wide, seed=3)
    return wide


def test_blocks_of_copied_channels_factorize_exactly_at_their_rank(copied_channels):
    """Block 4 too: it follows a block without pooling."""
    low, width, kept = factorize(copied_channels, "0.5", {4: 64, 5: 128, 6: 128}, images(8, 0))
    assert width == "32-64-128-128r64-256r128-256r128-128"
    assert kept == {4: pytest.approx(1.0), 5: pytest.approx(1.0), 6: pytest.approx(1.0)}
    assert low.count_params() < copied_channels.count_params()
    x = images(4, 1)  # not the crops the directions came from
    np.testing.assert_allclose(low.predict(x, verbose=0), copied_channels.predict(x, verbose=0), atol=2e-4)


def test_below_their_rank_the_blocks_keep_less_and_read_differently(copied_channels):
    kept = [factorize(copied_channels, "0.5", {6: rank}, images(8, 0))[2][6] for rank in (16, 64, 127)]
    assert 0 < kept[0] < kept[1] < kept[2] < 1
    low = factorize(copied_channels, "0.5", {6: 16}, images(8, 0))[0]
    x = images(4, 1)
    assert np.abs(low.predict(x, verbose=0) - copied_channels.predict(x, verbose=0)).max() > 1e-3


def bn_output(model, x) -> np.ndarray:
    return keras.Model(model.input, model.get_layer("block6_bn").output).predict(x, verbose=0)


def test_below_its_rank_a_block_keeps_its_responses_mean(copied_channels):
    """The projection is about the responses' mean (mean + P P^T (z - mean)), so on the crops
    the directions came from the block's mean response is unchanged at any rank."""
    x = images(8, 0)
    low = factorize(copied_channels, "0.5", {6: 16}, x)[0]
    full_mean = bn_output(copied_channels, x).mean(axis=(0, 1, 2))
    np.testing.assert_allclose(bn_output(low, x).mean(axis=(0, 1, 2)), full_mean,
                               atol=1e-4 * np.abs(full_mean).max())


def test_blocks_are_factorized_on_what_the_blocks_before_them_now_produce(copied_channels):
    """Block 6's directions and mean come from its responses to block 5 as factorized, not as
    it was: its mean response is the full block 6's on the factorized block 5's output."""
    x = images(8, 0)
    low = factorize(copied_channels, "0.5", {5: 8, 6: 16}, x)[0]
    into_6 = keras.Model(low.input, low.get_layer("block5_pool").output).predict(x, verbose=0)
    full_6 = copied_channels.get_layer("block6_bn")(copied_channels.get_layer("block6_conv")(into_6), training=False)
    expected = np.asarray(full_6).mean(axis=(0, 1, 2))
    as_it_was = bn_output(copied_channels, x).mean(axis=(0, 1, 2))
    scale = np.abs(expected).max()
    assert np.abs(expected - as_it_was).max() > 1e-2 * scale  # the two differ: the test can tell them apart
    np.testing.assert_allclose(bn_output(low, x).mean(axis=(0, 1, 2)), expected, atol=1e-4 * scale)


def test_the_new_batchnorm_holds_the_statistics_of_what_it_normalises():
    """So training from the factorized weights starts where inference is: on the crops the
    directions came from, BatchNorm in training mode (batch statistics) gives what it gives
    in inference mode (its moving statistics)."""
    keras.utils.set_random_seed(0)
    full = build_crnn(width=0.25)
    trained_looking(full, seed=1)
    x = images(16, 0)
    low = factorize(full, "0.25", {6: 32}, x)[0]
    expand = keras.Model(low.input, low.get_layer("block6_conv").output)
    projected = expand.predict(x, verbose=0)
    bn = low.get_layer("block6_bn")
    inference = np.asarray(bn(projected, training=False))
    # Random weights make responses in the thousands: float32 statistics agree to a part in 10^4.
    np.testing.assert_allclose(np.asarray(bn(projected, training=True)), inference,
                               atol=1e-3 * np.abs(inference).max())


def test_a_block_is_factorized_once():
    full = build_crnn(width="32-64-128-128-256-256r64-128")
    with pytest.raises(ValueError, match="low-rank already"):
        factorize(full, "32-64-128-128-256-256r64-128", {6: 32}, images(2, 0))


@pytest.mark.parametrize("text", ["6", "6:x", "7:64", "0:64", "6:64;5:64"])
def test_ranks_are_blocks_one_to_six_with_a_rank_each(text):
    with pytest.raises(argparse.ArgumentTypeError):
        parse_ranks(text)


def test_ranks_are_read_per_block():
    assert parse_ranks("5:256,6:160") == {5: 256, 6: 160}


def test_the_command_line_refuses_a_rank_its_block_cannot_take(tmp_path, capsys):
    """Before any weights or crops are read: a rank as wide as block 6 saves nothing."""
    from model.factorize import main

    with pytest.raises(SystemExit) as stop:
        main([str(tmp_path / "unread.weights.h5"), "--width", "0.25", "--ranks", "6:128",
              "--out", str(tmp_path / "low.weights.h5")])
    assert stop.value.code == 2
    assert "below its block's filters" in capsys.readouterr().err
