"""Scenes scored word by word, and model.scene_compare's table: which labelled words each
model alone finds and reads right, and the refusals made before anything is exported."""

from __future__ import annotations

import numpy as np
import pytest
from ocr_tools.evaluate import SceneRun, SceneScore

from tests.helpers import import_training_package

SIGN = (10, 10, 110, 40)
OPEN = (200, 10, 260, 40)


def scored(*scenes) -> SceneScore:
    score = SceneScore()
    for pred, gold in scenes:
        score.add(pred, gold)
    return score


def test_each_labelled_word_is_found_and_read_right_or_not_in_the_scenes_order():
    score = scored(([(SIGN, "Sign"), (OPEN, "opem")], [(SIGN, "SIGN"), (OPEN, "open")]),  # case is ignored
                   ([], [(SIGN, "shop")]))  # nothing read: missed
    assert score.words_right == [True, False, False]
    assert score.read_right == 1 and score.matched == 2
    assert score.to_dict()["end_to_end_word_accuracy"] == round(1 / 3, 4)


def test_a_reading_off_its_word_is_not_found():
    score = scored(([((300, 300, 400, 330), "sign")], [(SIGN, "sign")]))
    assert score.words_right == [False] and score.matched == 0 and score.predicted == 1


def served(scenes: SceneRun, right=(True, False, False), errors=(0, 2, 1)):
    from model.scene_compare import ServedRun

    return ServedRun(np.array(right), np.array(errors), scenes)


@pytest.mark.train
def test_the_table_pairs_each_model_with_the_shipped_one_crop_by_crop_and_word_by_word():
    import_training_package("scipy")
    from model.scene_compare import table

    gold = [(SIGN, "sign"), (OPEN, "open")]
    shipped = served(SceneRun(scored(([(SIGN, "sign")], gold)), [5.0], 0))
    # The candidate reads the second dev crop right; the third as the shipped model does.
    candidate = served(SceneRun(scored(([(SIGN, "sign"), (OPEN, "open")], gold)), [5.0], 0),
                       right=(True, True, False), errors=(0, 0, 1))
    lines = table({"shipped": shipped, "soup": candidate})
    assert lines[0].startswith("| model | dev crops (3) | against shipped | characters against shipped |")
    assert lines[2] == "| shipped | 1 (33.3%) |  |  | 100.0% | 50.0% | 1 of 2 (50.0%) |  |"
    assert lines[3] == ("| soup | 2 (66.7%) | +1 / -0 (p 1.00) | +1 / -0 (p 1.00) "
                        "| 100.0% | 100.0% | 2 of 2 (100.0%) | +1 / -0 (p 1.00) |")


@pytest.mark.train
@pytest.mark.parametrize("labels,expected", [(["a", "a"], "each candidate needs its own label"),
                                             (["shipped"], "not 'shipped'"),
                                             (["../up"], "a label is letters"), ([".."], "a label is letters")])
def test_labels_that_would_share_a_row_are_refused(tmp_path, capsys, labels, expected):
    import_training_package("scipy")
    from model.scene_compare import main

    weights = tmp_path / "w.weights.h5"
    weights.write_bytes(b"")
    with pytest.raises(SystemExit):
        main([f"{label}={weights}" for label in labels] + ["--data", str(tmp_path)])
    assert expected in capsys.readouterr().err


@pytest.mark.train
def test_missing_scenes_or_weights_stop_before_any_export(tmp_path, capsys):
    import_training_package("scipy")
    from model.scene_compare import main

    with pytest.raises(SystemExit):
        main([f"soup={tmp_path / 'w.weights.h5'}", "--data", str(tmp_path)])
    assert "holds no scenes" in capsys.readouterr().err
    (tmp_path / "svt_train").mkdir()
    (tmp_path / "svt_train" / "boxes.json").write_text("{}")
    with pytest.raises(SystemExit):
        main([f"soup={tmp_path / 'w.weights.h5'}", "--root", str(tmp_path / "out"), "--data", str(tmp_path)])
    assert "no such weights" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.train
def test_unreadable_scenes_are_named_beside_the_figure_they_lower():
    import_training_package("scipy")
    from model.scene_compare import table

    gold = [(SIGN, "sign")]
    lines = table({"shipped": served(SceneRun(scored(([(SIGN, "sign")], gold)), [5.0], 0)),
                   "slow": served(SceneRun(scored(([], gold)), [], 1))})
    assert lines[3].endswith("| 0.0% | 0.0% | 0 of 1 (0.0%), 1 scenes unreadable | +0 / -1 (p 1.00) |")
