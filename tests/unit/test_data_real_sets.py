"""model.real_sets: the hold-out alone is the same crops, in the same order, as the full split's."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from model import real_sets
from model.real_sets import load_real_set


@pytest.mark.parametrize("split", ["image", "line"])
def test_the_holdout_alone_is_the_full_splits_holdout_without_decoding_the_rest(tmp_path, monkeypatch, split):
    folder = tmp_path / "ic13_born_digital"
    (folder / "train").mkdir(parents=True)
    lines = []
    for i in range(60):
        img = np.full((20, 40 + i, 3), 4 * i, np.uint8)
        cv2.imwrite(str(folder / "train" / f"img_{i // 3}_{i % 3}.png"), img)
        label = "" if i % 17 == 5 else f"w{i}"  # unlabelled rows are skipped, their index kept
        lines.append(f"train/img_{i // 3}_{i % 3}.png\t{label}\n")
    (folder / "train.tsv").write_text("".join(lines))

    train, hold = load_real_set(tmp_path, "ic13", split)
    decoded = []
    load_rgb = real_sets.load_rgb
    monkeypatch.setattr(real_sets, "load_rgb", lambda path: decoded.append(path) or load_rgb(path))
    nothing, alone = load_real_set(tmp_path, "ic13", split, holdout_only=True)

    assert train and hold and nothing == []
    assert [label for _, label in alone] == [label for _, label in hold]
    assert all(np.array_equal(a, b) for (a, _), (b, _) in zip(alone, hold, strict=True))
    assert len(decoded) == len(hold)
