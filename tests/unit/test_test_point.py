"""model.test_point: reads a labels file with Keras weights and appends one row to the record."""

from __future__ import annotations

import csv

import cv2
import numpy as np
import pytest

from tests.helpers import import_keras

pytestmark = pytest.mark.train  # Keras: requirements/train-ci.txt, which make test installs
import_keras()  # collected without Keras (make test-fast): skipped; a broken one fails

from model.crnn import build_crnn  # noqa: E402
from model.test_point import main  # noqa: E402


def test_a_test_point_is_appended_with_its_phase_epoch_and_count(tmp_path):
    folder = tmp_path / "iiit5k"
    (folder / "test").mkdir(parents=True)
    for i in range(3):
        img = np.full((32, 100, 3), 255, np.uint8)
        cv2.putText(img, "ab", (5, 25), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (0, 0, 0), 2)
        cv2.imwrite(str(folder / "test" / f"{i}.png"), img)
    (folder / "test.tsv").write_text("".join(f"test/{i}.png\tab\n" for i in range(3)))
    weights = tmp_path / "w.weights.h5"
    build_crnn(width=0.25).save_weights(weights)
    out = tmp_path / "points.csv"  # a new record: its header is written first (plot_curves reads by it)
    for epoch in ("4", "5"):
        main(["--weights", str(weights), "--phase", "phase9", "--epoch", epoch, "--width", "0.25",
              "--data", str(tmp_path), "--out", str(out)])

    assert out.read_text().startswith("phase,epoch,n,word_accuracy,decoding\n")
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 2 and rows[1]["epoch"] == "5"
    assert (rows[0]["phase"], rows[0]["epoch"], rows[0]["n"]) == ("phase9", "4", "3")
    assert 0.0 <= float(rows[0]["word_accuracy"]) <= 1.0
    assert "without the LM" in rows[0]["decoding"]
