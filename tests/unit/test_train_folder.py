"""A fresh training run refuses a folder whose earlier run cannot be resumed."""

from __future__ import annotations

import pytest

from tests.helpers import import_keras

pytestmark = pytest.mark.train  # Keras: requirements/train-ci.txt, which make test installs
import_keras()  # collected without Keras (make test-fast): skipped; a broken one fails

from model.train import main, unresumable_run  # noqa: E402

HISTORY = "epoch,loss,val_word_acc\n0,1.7,0.90\n1,1.6,0.93\n"


def test_an_empty_folder_or_a_header_only_history_is_free(tmp_path):
    assert unresumable_run(tmp_path) is None
    (tmp_path / "history.csv").write_text("epoch,loss,val_word_acc\n")
    assert unresumable_run(tmp_path) is None


def test_a_history_without_its_checkpoint_is_refused_and_with_it_resumes(tmp_path):
    (tmp_path / "history.csv").write_text(HISTORY)
    assert "no last.keras" in unresumable_run(tmp_path)
    (tmp_path / "last.keras").write_bytes(b"")
    assert unresumable_run(tmp_path) is None


def test_training_stops_before_loading_data_when_the_folder_is_unresumable(tmp_path):
    (tmp_path / "history.csv").write_text(HISTORY)
    with pytest.raises(SystemExit, match="no last.keras"):
        main(["--out", str(tmp_path), "--resume", "--data", str(tmp_path / "no-data")])
    assert (tmp_path / "history.csv").read_text() == HISTORY


def test_a_fresh_run_refuses_a_folder_holding_an_earlier_one(tmp_path):
    """It started over there: rows 0, 1, 0 in history.csv, the old best figure to beat, and its
    own epoch001 deleted at once because the old epoch002 sorts after it."""
    from model.train import earlier_run

    assert earlier_run(tmp_path) is None
    (tmp_path / "history.csv").write_text(HISTORY)
    assert "no last.keras" in earlier_run(tmp_path)  # nothing to resume either
    (tmp_path / "last.keras").write_bytes(b"")
    with pytest.raises(SystemExit, match="holds an earlier run: pass --resume"):
        main(["--out", str(tmp_path), "--data", str(tmp_path / "no-data")])
    assert (tmp_path / "history.csv").read_text() == HISTORY


def test_resuming_a_run_past_its_epochs_is_refused(tmp_path):
    (tmp_path / "history.csv").write_text(HISTORY)
    (tmp_path / "last.keras").write_bytes(b"")
    (tmp_path / "state.json").write_text('{"epoch": 2}')
    with pytest.raises(SystemExit, match="at epoch 2 already: --epochs 2"):
        main(["--out", str(tmp_path), "--resume", "--epochs", "2", "--data", str(tmp_path / "no-data")])
