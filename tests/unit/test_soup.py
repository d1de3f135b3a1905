"""model.soup's greedy rule: ingredients tried from the best alone down, each kept only if the
soup with it reads at least as many dev crops."""

from __future__ import annotations

import pytest

from tests.helpers import import_keras

pytestmark = pytest.mark.train  # model.soup averages with Keras: requirements/train-ci.txt
import_keras()  # collected without Keras (make test-fast): skipped; a broken one fails

from model.soup import greedy_soup, parse_ingredient  # noqa: E402

# Dev crops read by each soup (its members in any order).
READS = {
    ("a",): 100, ("b",): 104, ("c",): 90, ("d",): 95,
    ("a", "b"): 106, ("a", "b", "d"): 101, ("a", "b", "c"): 106,
}


def score(members: tuple[str, ...]) -> int:
    return READS[tuple(sorted(members))]


def test_ingredients_are_tried_best_first_and_kept_only_when_the_soup_does_not_lose():
    soup, steps = greedy_soup(["a", "b", "c", "d"], score)
    assert [members for members, _, _ in steps] == [("b",), ("b", "a"), ("b", "a", "d"), ("b", "a", "c")]
    assert [kept for _, _, kept in steps] == [True, True, False, True]  # d loses 5; c ties, so it stays
    assert soup == ("b", "a", "c")


def test_a_lone_best_ingredient_is_its_own_soup():
    soup, steps = greedy_soup(["c", "b"], lambda m: {("b",): 104, ("c",): 90, ("b", "c"): 80}[tuple(sorted(m))])
    assert soup == ("b",)
    assert steps[-1] == (("b", "c"), 80, False)


def test_nothing_to_mix_is_an_error():
    with pytest.raises(ValueError):
        greedy_soup([], score)


def test_an_ingredient_needs_a_label_and_a_path():
    assert parse_ingredient("p10=model/artifacts/crnn.weights.h5")[0] == "p10"
    with pytest.raises(Exception, match="LABEL=WEIGHTS"):
        parse_ingredient("model/artifacts/crnn.weights.h5")


def test_the_soup_may_not_be_written_over_an_ingredient(tmp_path, capsys):
    from model.soup import main

    ingredient = tmp_path / "a.weights.h5"
    ingredient.write_bytes(b"a")
    with pytest.raises(SystemExit):
        main([f"a={ingredient}", f"b={tmp_path / 'b.weights.h5'}", "--out", str(ingredient)])
    assert "is one of the ingredients" in capsys.readouterr().err
    assert ingredient.read_bytes() == b"a"
