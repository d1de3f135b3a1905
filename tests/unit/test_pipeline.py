"""How the engine chooses among the words its candidate regions read."""

from __future__ import annotations

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
