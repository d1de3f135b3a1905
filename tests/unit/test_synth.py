"""Synthetic training words: the arc distortion moves the text where its box says."""

from __future__ import annotations

import numpy as np
import pytest

from model.synth import curve


def ink_rows(img: np.ndarray, column: int) -> tuple[int, int]:
    rows = np.flatnonzero(img[:, column] < 128)
    return int(rows.min()), int(rows.max())


@pytest.mark.parametrize("bend", [12.0, -12.0])
def test_an_arc_lifts_or_sinks_the_middle_and_keeps_the_ends(bend):
    img = np.full((60, 200), 255, np.uint8)
    img[20:40, 20:180] = 0  # a "text line" 20 px high, 160 px long
    box = np.float32([20, 20, 180, 40])
    out, new_box = curve(img, box, bend)
    pad = (out.shape[0] - img.shape[0]) // 2
    assert pad >= abs(bend)
    end_top, _ = ink_rows(out, 22)
    mid_top, mid_bottom = ink_rows(out, 100)
    assert abs(end_top - (20 + pad)) <= 2  # the ends stay
    assert abs((20 + pad) - mid_top - bend) <= 2  # the middle moves by the bend
    # The new box holds all of the ink.
    ys, xs = np.nonzero(out < 128)
    assert new_box[1] - 1 <= ys.min() and ys.max() <= new_box[3] + 1
