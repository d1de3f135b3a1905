"""How a scene's words are chosen once read. Letter-spaced words: two pieces read apart on one
line are read again as one box, and the joined reading replaces them when it is clearly surer.
The scene's floors are known before the best words are taken."""

from __future__ import annotations

import io

import numpy as np
from ocr_engine import pipeline
from ocr_engine.charset import BLANK_INDEX, NUM_CLASSES, text_to_indices
from ocr_engine.config import Settings
from ocr_engine.detect import Region
from ocr_engine.lm import CharLM
from ocr_engine.pipeline import OcrEngine
from ocr_engine.recognize import ModelMetadata
from ocr_engine.schemas import ReadOptions
from PIL import Image

LIVI, NG = (100, 50, 180, 80), (200, 50, 240, 80)  # a 40 px gap on a 30 px line


def peaked(text: str, sure: float) -> np.ndarray:
    path = [c for i in text_to_indices(text) for c in (i, BLANK_INDEX)]
    path += [BLANK_INDEX] * (32 - len(path))
    probs = np.full((32, NUM_CLASSES), (1 - sure) / (NUM_CLASSES - 1), np.float32)
    probs[np.arange(32), path] = sure
    return probs


class ReadsByWidth:
    """The pieces ("livi" and "ng" unless named) unsure, the joined box sure of ``joined``,
    anything else nothing."""

    def __init__(self, joined: str, joined_sure: float, pieces: tuple[str, str] = ("livi", "ng"),
                 pieces_sure: tuple[float, float] = (0.8, 0.6)) -> None:
        self.metadata = ModelMetadata.read(Settings().metadata_path)
        self.joined, self.joined_sure, self.pieces, self.pieces_sure = joined, joined_sure, pieces, pieces_sure

    def predict_crops(self, crops: list[np.ndarray], batch_size: int = 16) -> np.ndarray:
        by_width = {80: peaked(self.pieces[0], self.pieces_sure[0]), 40: peaked(self.pieces[1], self.pieces_sure[1]),
                    140: peaked(self.joined, self.joined_sure)}
        return np.stack([by_width.get(c.shape[1], peaked("", 0.99)) for c in crops])


def read_scene(monkeypatch, joined: str, joined_sure: float, lm: CharLM | None = None, **pieces) -> list[str]:
    monkeypatch.setattr(pipeline, "detect_candidates", lambda *a, **k: [Region(LIVI, 1.0), Region(NG, 1.0)])
    engine = OcrEngine(Settings(lm_file="", read_tall=False, read_stretch=1.0),
                       ReadsByWidth(joined, joined_sure, **pieces), lm)
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 400, 3), dtype=np.uint8)).save(buf, "PNG")
    return [w.text for w in engine.read(buf.getvalue(), ReadOptions(min_confidence=0.0)).words]


def test_a_surer_joined_reading_replaces_its_pieces(monkeypatch):
    assert read_scene(monkeypatch, "living", 0.99) == ["living"]


def test_pieces_stay_apart_when_the_joined_reading_is_no_surer(monkeypatch):
    assert read_scene(monkeypatch, "living", 0.6) == ["livi"]  # "ng" alone is short and unsure: dropped


def test_a_joined_reading_that_loses_letters_is_not_taken(monkeypatch):
    assert read_scene(monkeypatch, "lng", 0.99) == ["livi"]


def test_pieces_read_surely_still_join_when_the_whole_is_surer_yet(monkeypatch):
    # With the LM, "1.2 times as sure" is measured in odds: 1.2 times a 0.9 probability is no probability.
    lm = CharLM.load(Settings().lm_path)
    assert read_scene(monkeypatch, "living", 0.999, lm, pieces_sure=(0.97, 0.97)) == ["living"]
    # Without it, in probability, as before odds: odds alone would run two words together.
    assert read_scene(monkeypatch, "living", 0.999, pieces_sure=(0.97, 0.97)) == ["livi"]  # "ng": short, unsure


def test_two_words_side_by_side_are_not_run_together(monkeypatch):
    lm = CharLM.load(Settings().lm_path)  # the language model knows "anno" and "domini" apart
    words = read_scene(monkeypatch, "annodomini", 0.999, lm, pieces=("anno", "domini"), pieces_sure=(0.97, 0.97))
    assert words == ["anno", "domini"]
    assert read_scene(monkeypatch, "living", 0.999, lm, pieces_sure=(0.97, 0.97)) == ["living"]



class ReadsStrayDigitAndWord:
    """A scene of two candidates: a stray "4" read surely, "pacific" read less surely."""

    def __init__(self) -> None:
        self.metadata = ModelMetadata.read(Settings().metadata_path)

    def predict_crops(self, crops: list[np.ndarray], batch_size: int = 16) -> np.ndarray:
        by_width = {80: peaked("4", 0.9), 40: peaked("pacific", 0.6)}
        return np.stack([by_width.get(c.shape[1], peaked("", 0.99)) for c in crops])


def read_digit_and_word(monkeypatch, short_floor: float, max_regions: int) -> list:
    monkeypatch.setattr(pipeline, "detect_candidates", lambda *a, **k: [Region(LIVI, 1.0), Region(NG, 1.0)])
    settings = Settings(lm_file="", read_tall=False, read_stretch=1.0, scene_min_confidence=0.05,
                        scene_short_min_confidence=short_floor)
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 400, 3), dtype=np.uint8)).save(buf, "PNG")
    engine = OcrEngine(settings, ReadsStrayDigitAndWord())
    return engine.read(buf.getvalue(), ReadOptions(max_regions=max_regions)).words


def test_a_word_the_floors_drop_does_not_take_the_slot_of_one_they_keep(monkeypatch):
    four, pacific = sorted(read_digit_and_word(monkeypatch, 0.0, 2), key=lambda w: w.text)
    assert pacific.confidence < four.confidence < 0.99  # the premise: the "4" surer, under a 0.99 floor
    assert [w.text for w in read_digit_and_word(monkeypatch, 0.99, 1)] == ["pacific"]


class ReadsBusyScene(ReadsByWidth):
    """"livi" + "ng" on one line (the "ng" short and under its floor) among two sure words."""

    def predict_crops(self, crops: list[np.ndarray], batch_size: int = 16) -> np.ndarray:
        by_width = {80: peaked("livi", 0.8), 40: peaked("ng", 0.75), 140: peaked("living", 0.99),
                    100: peaked("open", 0.65), 60: peaked("shop", 0.65)}
        return np.stack([by_width.get(c.shape[1], peaked("", 0.99)) for c in crops])


def test_a_piece_under_the_floors_still_joins_the_word_beside_it_in_a_busy_scene(monkeypatch):
    boxes = [LIVI, NG, (10, 120, 110, 150), (200, 120, 260, 150)]
    monkeypatch.setattr(pipeline, "detect_candidates", lambda *a, **k: [Region(b, 1.0) for b in boxes])
    engine = OcrEngine(Settings(lm_file="", read_tall=False, read_stretch=1.0), ReadsBusyScene("living", 0.99))
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 400, 3), dtype=np.uint8)).save(buf, "PNG")
    words = [w.text for w in engine.read(buf.getvalue(), ReadOptions(max_regions=3)).words]
    assert "living" in words and "livi" not in words



class ReadsLineAndWords(ReadsByWidth):
    """A line boxed whole ("livingroom", surest) and its two words boxed inside it."""

    def predict_crops(self, crops: list[np.ndarray], batch_size: int = 16) -> np.ndarray:
        by_width = {200: peaked("livingroom", 0.97), 100: peaked("living", 0.9), 90: peaked("room", 0.9)}
        return np.stack([by_width.get(c.shape[1], peaked("", 0.99)) for c in crops])


def read_line(monkeypatch, options: ReadOptions) -> list[str]:
    boxes = [(100, 50, 300, 80), (100, 50, 200, 80), (205, 50, 295, 80)]
    monkeypatch.setattr(pipeline, "detect_candidates", lambda *a, **k: [Region(b, 1.0) for b in boxes])
    engine = OcrEngine(Settings(lm_file="", read_tall=False, read_stretch=1.0), ReadsLineAndWords("", 0.0),
                       CharLM.load(Settings().lm_path))
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 400, 3), dtype=np.uint8)).save(buf, "PNG")
    return [w.text for w in engine.read(buf.getvalue(), options).words]


def test_a_line_read_whole_gives_way_to_its_words_when_the_lm_reads(monkeypatch):
    assert read_line(monkeypatch, ReadOptions()) == ["living", "room"]
    # A greedy read is without the LM ("codes, serial numbers"): the surer line stays, its words
    # inside it are its fragments.
    assert read_line(monkeypatch, ReadOptions(beam_width=1)) == ["livingroom"]
