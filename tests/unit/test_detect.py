from ocr_engine.detect import Region, detect_candidates, reading_order
from ocr_tools.evaluate import match_boxes

from tests.helpers import scene_with_words

WORDS = [("OPEN", 100, 200, 2.5), ("BAKERY", 500, 220, 2.5), ("SALE", 150, 600, 3.0), ("2026", 700, 650, 2.0)]


def test_finds_the_words_of_a_generated_scene():
    rgb, gold = scene_with_words(WORDS)
    found = detect_candidates(rgb, max_candidates=24)
    matches = match_boxes([r.bbox for r in found], gold, threshold=0.5)
    assert len(matches) == len(gold)


def test_blank_scene_gives_no_candidates():
    rgb, _ = scene_with_words([])
    assert detect_candidates(rgb) == []


def test_candidate_cap_is_respected():
    rgb, _ = scene_with_words(WORDS)
    assert len(detect_candidates(rgb)) > 2  # the scene has more words than the cap below
    assert len(detect_candidates(rgb, max_candidates=2)) == 2


def test_boxes_are_in_image_coordinates_after_shrinking():
    rgb, gold = scene_with_words(WORDS, size=(1800, 2400))
    found = detect_candidates(rgb, max_candidates=24, max_side=800)
    assert len(match_boxes([r.bbox for r in found], gold, threshold=0.5)) >= 3


def test_reading_order_is_lines_then_left_to_right():
    regions = [Region((500, 100, 600, 140), 1), Region((50, 300, 150, 340), 1),
               Region((50, 105, 150, 135), 1), Region((400, 310, 480, 335), 1)]
    assert [r.bbox[:2] for r in reading_order(regions)] == [(50, 105), (500, 100), (50, 300), (400, 310)]
