"""model.dev_compare's paired comparison: which crops each candidate alone reads, and whether
that split could be chance."""

from __future__ import annotations

import numpy as np

from model.dev_compare import paired

T, F = True, False


def test_only_the_crops_one_reads_and_the_other_does_not_count():
    reference = np.array([T, T, F, F, T, F])
    candidate = np.array([T, F, T, T, T, F])
    assert paired(reference, candidate) == "+2 / -1 (p 1.00)"


def test_a_lopsided_split_is_unlikely_by_chance():
    reference = np.zeros(12, bool)
    assert paired(reference, np.array([T] * 10 + [F] * 2)) == "+10 / -0 (p 0.00)"  # 2 / 1024
    # 7 against 1: both tails of eight coin flips, 2 * (1 + 8) / 256 = 0.07.
    assert paired(np.array([F] * 7 + [T]), np.array([T] * 7 + [F])) == "+7 / -1 (p 0.07)"


def test_identical_readers_are_no_evidence_either_way():
    same = np.array([T, F, T])
    assert paired(same, same) == "+0 / -0 (p 1.00)"
