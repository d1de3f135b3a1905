"""How the engine chooses among the words its candidate regions read."""

from __future__ import annotations

import pytest
from ocr_engine.pipeline import _without_fragments
from ocr_engine.schemas import Word


def test_a_fragment_inside_a_surer_word_that_contains_its_text_is_dropped():
    theaters = Word("theaters", 0.9, (10, 10, 110, 40))
    ea = Word("ea", 0.8, (35, 12, 55, 38))
    ters = Word("ters", 0.7, (60, 10, 110, 40))
    assert _without_fragments([ea, theaters, ters]) == [theaters]


def test_words_that_are_not_fragments_stay():
    theaters = Word("theaters", 0.9, (10, 10, 110, 40))
    other_text = Word("xy", 0.8, (35, 12, 55, 38))  # inside, but a different reading
    elsewhere = Word("the", 0.8, (200, 10, 240, 40))  # its text is contained, its box is not
    surer = Word("ters", 0.95, (60, 10, 110, 40))  # surer than the word around it
    words = [theaters, other_text, elsewhere, surer]
    assert _without_fragments(words) == words


def test_of_two_identical_readings_in_one_place_one_stays():
    a = Word("open", 0.9, (0, 0, 50, 20))
    b = Word("open", 0.9, (0, 0, 50, 20))
    assert len(_without_fragments([a, b])) == 1


def test_the_whole_image_stands_alone_only_when_it_is_surer_than_every_detected_word():
    from ocr_engine.pipeline import _whole_image_stands_alone

    sure, junk = Word("coffee", 0.9, (10, 10, 60, 30)), Word("bl", 0.2, (70, 10, 90, 30))
    whole_unsure, whole_sure = Word("cofee", 0.3, (0, 0, 100, 40)), Word("coffee", 0.95, (0, 0, 100, 40))
    assert not _whole_image_stands_alone([sure, junk, whole_unsure])  # the detected words stand
    assert _whole_image_stands_alone([junk, whole_sure])


def test_a_short_scene_reading_needs_more_confidence_than_a_long_one():
    from ocr_engine.pipeline import scene_word_kept

    assert scene_word_kept("coffee", 0.5, 0.4, 0.9)
    assert not scene_word_kept("bl", 0.5, 0.4, 0.9)
    assert scene_word_kept("24", 0.95, 0.4, 0.9)
    assert not scene_word_kept("24", 0.3, 0.4, 0.0)  # the general floor holds for short words too


def test_pieces_of_a_letter_spaced_word_are_paired_only_side_by_side_on_one_line():
    from ocr_engine.pipeline import _side_by_side

    livi, ng = Word("livi", 0.6, (100, 50, 180, 80)), Word("ng", 0.5, (200, 52, 240, 80))
    far = Word("shop", 0.9, (400, 50, 480, 80))  # too far to the right
    below = Word("open", 0.9, (190, 120, 260, 150))  # another line
    assert _side_by_side([ng, livi, far, below]) == [(livi, ng)]


def test_the_best_words_keep_two_readings_of_one_box_in_reading_order():
    # A joined box can equal a detector's box: both words are kept, not one of them twice.
    from ocr_engine.pipeline import _best_in_reading_order

    box = (10, 10, 90, 30)
    words = [Word("living", 0.9, box), Word("lvng", 0.5, box), Word("open", 0.8, (10, 50, 60, 70))]
    three = [w.text for w in _best_in_reading_order(words, 3)]
    assert sorted(three[:2]) == ["living", "lvng"] and three[2] == "open"
    assert [w.text for w in _best_in_reading_order(words, 2)] == ["living", "open"]


@pytest.fixture(scope="module")
def shipped_lm():
    from ocr_engine.config import Settings
    from ocr_engine.lm import CharLM

    return CharLM.load(Settings().lm_path)


def always(_: Word) -> bool:
    return True


def test_a_line_the_words_inside_it_spell_gives_way_to_them(shipped_lm):
    from ocr_engine.pipeline import _without_lines_of_words

    line = Word("livingroomlounge", 0.95, (0, 0, 360, 40))
    words = [Word("living", 0.92, (0, 0, 120, 40)), Word("room", 0.98, (118, 0, 225, 40)),
             Word("lounge", 1.0, (224, 0, 360, 40))]
    assert _without_lines_of_words([line, *words], shipped_lm, always) == words
    # Spelled left to right whatever order the detector gave them in.
    assert _without_lines_of_words([line, *words[::-1]], shipped_lm, always) == words[::-1]


def test_a_word_its_pieces_spell_stays_whole(shipped_lm):
    from ocr_engine.pipeline import _without_lines_of_words

    antique = Word("antique", 1.0, (0, 0, 170, 40))
    pieces = [Word("ant", 0.99, (2, 5, 75, 40)), Word("ique", 0.85, (74, 0, 162, 40))]
    assert _without_lines_of_words([antique, *pieces], shipped_lm, always) == [antique, *pieces]


def test_a_line_stays_when_its_words_are_not_kept_or_do_not_spell_it(shipped_lm):
    from ocr_engine.pipeline import _without_lines_of_words

    line = Word("comfortinn", 0.98, (0, 0, 250, 45))
    comfort, inn = Word("comfort", 0.9, (0, 0, 160, 45)), Word("inn", 0.96, (160, 0, 250, 45))
    assert line in _without_lines_of_words([line, comfort, inn], shipped_lm, lambda w: w is not comfort)
    assert line in _without_lines_of_words([line, inn], shipped_lm, always)  # one word spells nothing
    assert line not in _without_lines_of_words([line, comfort, inn], shipped_lm, always)


def test_lexicon_words_with_capitals_and_punctuation_are_weighed_as_spelled(shipped_lm):
    # A reading held to a lexicon is the word as the list wrote it.
    from ocr_engine.pipeline import _without_lines_of_words

    line = Word("Anno-Domini", 0.9, (0, 0, 250, 45))
    anno, domini = Word("Anno!", 0.97, (0, 0, 100, 45)), Word("Domini", 0.97, (100, 0, 250, 45))
    assert _without_lines_of_words([line, anno, domini], shipped_lm, always) == [line, anno, domini]
