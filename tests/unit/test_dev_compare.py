"""model.dev_compare's paired comparison: which crops each candidate alone reads, and whether
that split could be chance."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers import import_training_package

pytestmark = pytest.mark.train
import_training_package("scipy")  # the sign test; collected without it (make test-fast): skipped

from model.dev_compare import character_errors, main, paired, paired_characters, table  # noqa: E402

T, F = True, False


def test_only_the_crops_one_reads_and_the_other_does_not_count():
    reference = np.array([T, T, F, F, T, F])
    candidate = np.array([T, F, T, T, T, F])
    assert paired(reference, candidate) == "+2 / -1 (p 1.00)"


def test_a_lopsided_split_is_unlikely_by_chance():
    reference = np.zeros(12, bool)
    assert paired(reference, np.array([T] * 10 + [F] * 2)) == "+10 / -0 (p 0.002)"  # 2 / 1024
    # 7 against 1: both tails of eight coin flips, 2 * (1 + 8) / 256 = 0.07.
    assert paired(np.array([F] * 7 + [T]), np.array([T] * 7 + [F])) == "+7 / -1 (p 0.070)"


def test_identical_readers_are_no_evidence_either_way():
    same = np.array([T, F, T])
    assert paired(same, same) == "+0 / -0 (p 1.00)"


def test_characters_count_the_crops_read_with_fewer_errors_whether_or_not_the_word_is_right():
    # Crop 0 stays wrong but loses an error; crop 1 gains one; crop 2 is read as well either way.
    reference = np.array([3, 0, 1])
    candidate = np.array([1, 1, 1])
    assert paired_characters(reference, candidate) == "+1 / -1 (p 1.00)"
    assert paired_characters(np.full(10, 2), np.zeros(10, int)) == "+10 / -0 (p 0.002)"


def test_character_errors_are_edits_from_the_normalized_reading_to_the_label():
    class Read:
        def __init__(self, text: str):
            self.text = text

    # The protocol is case-insensitive over [0-9a-z]: "Café!" is "caf" (one edit from "cafe").
    errors = character_errors([Read("Café!"), Read("STOP"), Read("")], ["cafe", "stop", "exit"])
    assert errors.tolist() == [1, 0, 4]


def test_near_the_rules_005_the_p_value_shows_three_decimals():
    # +62 / -41 is under 0.05 and +53 / -34 is not: two decimals would print both as 0.05.
    assert paired_characters(np.ones(103, int), np.array([0] * 62 + [2] * 41)) == "+62 / -41 (p 0.048)"
    assert paired_characters(np.ones(87, int), np.array([0] * 53 + [2] * 34)) == "+53 / -34 (p 0.053)"


def test_the_table_pairs_words_and_characters_with_the_first_candidate():
    from ocr_tools.evaluate import RecognitionScore

    def scores(right, errors):
        score = RecognitionScore(3, sum(right) / 3, sum(errors) / 12)
        return {"dev": {"lm": score, "ungated": score, "plain": score, "right": np.array(right),
                        "errors": np.array(errors)}}

    sets = {"dev": ([None] * 3, ["sign", "open", "shop"])}
    # The candidate reads the second crop right; it reads the third, still wrong, with one error more.
    lines = table({"shipped": scores([T, F, F], [0, 2, 1]), "cand": scores([T, T, F], [0, 0, 2])}, sets)
    assert lines[0].endswith("| against shipped | characters against shipped |")
    assert lines[2].endswith("|  |  |")
    assert lines[3].endswith("| +1 / -0 (p 1.00) | +1 / -1 (p 1.00) |")


def test_a_repeated_label_is_refused_not_dropped_from_the_table(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main([f"x={tmp_path / 'a.weights.h5'}@0.25", f"x={tmp_path / 'b.weights.h5'}@0.5", "--data", str(tmp_path)])
    assert "each candidate needs its own label" in capsys.readouterr().err
