"""Word confidence: Platt scaling fitted on readings, and the calibration error that measures it."""

from __future__ import annotations

import numpy as np
import pytest
from ocr_engine.calibration import Calibration, fit_platt
from ocr_engine.preprocess import has_ink
from ocr_tools.evaluate import expected_calibration_error, recognition_report


def test_the_identity_changes_nothing_and_nothing_read_stays_at_zero():
    identity = Calibration()
    for c in (0.01, 0.3, 0.9, 0.999):
        assert identity(c) == pytest.approx(c, abs=1e-6)
    assert Calibration(0.7, -1.0)(0.0) == 0.0


def test_calibration_never_reorders_two_readings():
    squeeze = Calibration(0.75, -1.0)
    raw = np.linspace(0.01, 0.99, 50)
    assert np.all(np.diff([squeeze(float(c)) for c in raw]) > 0)


def test_platt_scaling_turns_overconfident_scores_into_probabilities():
    # Words read right with probability sigmoid(0.5 * logit(raw) - 1): raw 0.9 means ~0.43.
    rng = np.random.default_rng(0)
    raw = rng.uniform(0.05, 0.999, 20000)
    truth = Calibration(0.5, -1.0)
    right = rng.random(raw.size) < np.array([truth(float(c)) for c in raw])
    fitted = fit_platt(raw, right)
    assert fitted.scale == pytest.approx(0.5, abs=0.05) and fitted.shift == pytest.approx(-1.0, abs=0.1)
    calibrated = np.array([fitted(float(c)) for c in raw])
    assert expected_calibration_error(calibrated, right) < 0.02 < expected_calibration_error(raw, right)


def test_expected_calibration_error_weighs_each_bin_by_its_words():
    assert expected_calibration_error([0.95] * 10, [True] * 10) == pytest.approx(0.05)
    # Half the words at 0.95 all wrong, half at 0.15 all right: |0-0.95|/2 + |1-0.15|/2.
    assert expected_calibration_error([0.95, 0.95, 0.15, 0.15], [False, False, True, True]) == pytest.approx(0.9)
    assert expected_calibration_error([], []) == 0.0


def test_the_eval_report_adds_the_calibration_error_when_given_confidences():
    report = recognition_report(["cat", "dog"], ["CAT", "cow"], [1.0, 2.0], [0.9, 0.9])
    assert report["ece"] == pytest.approx(0.4)
    assert "ece" not in recognition_report(["cat"], ["cat"], [1.0])


def test_a_flat_image_holds_nothing_to_read():
    assert not has_ink(np.zeros((1, 1, 3), np.uint8))
    assert not has_ink(np.full((40, 120, 3), 200, np.uint8))
    assert not has_ink(np.zeros((0, 5), np.uint8))
    word = np.full((40, 120), 230, np.uint8)
    word[10:30, 20:25] = 20
    assert has_ink(word)


def test_the_fit_converges_where_a_full_newton_step_overshoots():
    # Confident readings (logits near 9) with a sure-but-wrong tail: from the identity, plain
    # Newton steps diverge on this (seed 1: scale ~1e10); the line search keeps them down.
    import numpy as np
    from ocr_engine.calibration import fit_platt

    rng = np.random.default_rng(1)
    x = np.concatenate([rng.normal(9, 3, 1100), rng.normal(0.5, 1.5, 218)])
    right = rng.random(len(x)) < 1 / (1 + np.exp(-(0.75 * x - 1.1)))
    fitted = fit_platt(1 / (1 + np.exp(-x)), right)
    assert abs(fitted.scale - 0.75) < 0.15 and abs(fitted.shift + 1.1) < 0.5
