"""Tall crops: read as they are, turned a quarter either way, and as stacked letters."""

from __future__ import annotations

import numpy as np
from ocr_engine.orient import is_tall, readings_of, stacked_as_row


def test_a_word_laid_out_left_to_right_has_one_reading():
    crop = np.zeros((32, 100, 3), np.uint8)
    assert not is_tall(crop)
    assert len(readings_of(crop)) == 1 and readings_of(crop)[0] is crop


def test_a_tall_crop_is_also_read_turned_both_ways_and_as_a_row():
    crop = np.arange(90 * 30, dtype=np.uint8).reshape(90, 30)
    assert is_tall(crop)
    same, clockwise, anticlockwise, row = readings_of(crop)
    assert same is crop
    assert clockwise.shape == anticlockwise.shape == (30, 90)
    assert np.array_equal(clockwise, np.rot90(crop, -1)) and np.array_equal(anticlockwise, np.rot90(crop, 1))
    assert row.shape == (30, 90)


def test_stacked_letters_are_laid_side_by_side_in_reading_order():
    top, middle, bottom = (np.full((20, 20), v, np.uint8) for v in (10, 20, 30))
    row = stacked_as_row(np.vstack([top, middle, bottom]))
    assert row.shape == (20, 60)
    assert [int(row[0, x]) for x in (5, 25, 45)] == [10, 20, 30]
