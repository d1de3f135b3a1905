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
