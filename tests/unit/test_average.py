"""Weight averaging: the mean of checkpoints, variable by variable."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers import import_keras

pytestmark = pytest.mark.train  # Keras: requirements/train-ci.txt, which make test installs
import_keras()  # collected without Keras (make test-fast): skipped; a broken one fails

from model.average import average_weights  # noqa: E402
from model.crnn import build_crnn  # noqa: E402


def test_the_average_of_two_checkpoints_is_their_mean_and_of_one_is_itself(tmp_path):
    a, b = build_crnn(width=0.25), build_crnn(width=0.25)
    rng = np.random.default_rng(0)
    b.set_weights([w + rng.normal(size=w.shape).astype(np.float32) for w in b.get_weights()])
    a.save_weights(tmp_path / "a.weights.h5")
    b.save_weights(tmp_path / "b.weights.h5")

    mean = average_weights([tmp_path / "a.weights.h5", tmp_path / "b.weights.h5"], width=0.25).get_weights()
    for m, wa, wb in zip(mean, a.get_weights(), b.get_weights(), strict=True):
        assert np.allclose(m, (wa + wb) / 2, atol=1e-6)
    one = average_weights([tmp_path / "a.weights.h5"], width=0.25).get_weights()
    assert all(np.array_equal(m, w) for m, w in zip(one, a.get_weights(), strict=True))


def test_nothing_to_average_is_an_error():
    with pytest.raises(ValueError):
        average_weights([])


def test_training_keeps_the_weights_of_its_last_epochs_for_averaging(tmp_path):
    import json

    import keras

    from model.train import SaveState

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    saver = SaveState(tmp_path, "image", keep=3)
    saver.set_model(model)
    for epoch in range(7):
        saver.on_epoch_end(epoch)
    kept = sorted(p.name for p in (tmp_path / "epochs").iterdir())
    assert kept == ["epoch005.weights.h5", "epoch006.weights.h5", "epoch007.weights.h5"]
    assert json.loads((tmp_path / "state.json").read_text())["epoch"] == 7
    assert (tmp_path / "last.keras").exists()


def test_the_output_may_not_be_one_of_the_inputs(tmp_path, capsys):
    from model.average import main

    first, second = tmp_path / "a.weights.h5", tmp_path / "b.weights.h5"
    first.write_bytes(b"a")
    second.write_bytes(b"b")
    with pytest.raises(SystemExit):
        main([str(first), str(second), "--out", str(tmp_path / "." / "b.weights.h5")])
    assert "is one of the checkpoints" in capsys.readouterr().err
    assert second.read_bytes() == b"b"


def test_weights_of_another_width_are_named_in_one_line(tmp_path):
    from model.crnn import load_crnn

    narrow = tmp_path / "narrow.weights.h5"
    build_crnn(width=0.25).save_weights(narrow)
    with pytest.raises(SystemExit, match="does not fit a network of width 0.5: give the width"):
        average_weights([narrow], width=0.5)
    with pytest.raises(SystemExit, match="does not fit a network of width 0.5"):
        load_crnn(narrow, 0.5)
    with pytest.raises(SystemExit, match="no such weights file"):
        average_weights([tmp_path / "gone.weights.h5"], width=0.25)
    (tmp_path / "text.weights.h5").write_text("not HDF5")
    with pytest.raises(SystemExit, match="is not a .weights.h5 file"):
        load_crnn(tmp_path / "text.weights.h5", 0.25)
