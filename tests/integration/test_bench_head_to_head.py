"""``ocr bench``'s head-to-head section: the speed budget's two ratios, timed in turns
with RapidOCR (installed by ``make setup``, so it is always there to compare with)."""

from __future__ import annotations

import pytest
from ocr_engine.imagefile import load_rgb
from ocr_tools import bench
from ocr_tools.labels import read_label_file


@pytest.fixture(scope="module")
def engine():
    return bench.one_thread_engine()


@pytest.fixture(scope="module")
def crops(data_dir):
    return [load_rgb(p) for p, _ in read_label_file(data_dir / "iiit5k" / "test.tsv")[:8]]


def test_head_to_head_runs_both_readers_in_turns_on_the_same_crops(engine, crops, monkeypatch):
    ran: list[tuple[str, int]] = []
    timed = bench._time_pair_ms

    def spy(first, second, repeat):
        ran.append(("pair", repeat))
        return timed(first, second, repeat)

    monkeypatch.setattr(bench, "_time_pair_ms", spy)
    duel = bench.head_to_head(engine, crops, passes=1)
    assert ran == [("pair", 1), ("pair", 1)]  # reading a crop, then batch 8: each pair in turns
    assert duel["crops"] == 8 and duel["passes"] == 1
    for key in ("ours_read_crop_ms", "rapidocr_recognize_ms", "ours_recognize_ms_per_crop_batch8",
                "rapidocr_recognize_ms_per_crop_batch8"):
        assert duel[key] > 0, key


def test_head_to_head_ratios_are_rapidocr_time_over_ours(engine, crops, monkeypatch):
    # Fixed times for (ours, RapidOCR): reading 8 crops 80 against 200 ms, one batch of 8
    # 40 against 240 ms. RapidOCR slower -> ratios above 1.
    times = iter([(80.0, 200.0), (40.0, 240.0)])
    monkeypatch.setattr(bench, "_time_pair_ms", lambda first, second, repeat: next(times))
    duel = bench.head_to_head(engine, crops, passes=1)
    assert duel["ours_read_crop_ms"] == 10.0 and duel["rapidocr_recognize_ms"] == 25.0
    assert duel["ours_recognize_ms_per_crop_batch8"] == 5.0 and duel["rapidocr_recognize_ms_per_crop_batch8"] == 30.0
    assert duel["rapidocr_over_ours_read_crop"] == 2.5
    assert duel["rapidocr_over_ours_batch8"] == 6.0


def test_head_to_head_is_left_out_without_rapidocr_or_eight_crops(engine, crops, monkeypatch):
    assert bench.head_to_head(engine, crops[:7]) is None  # no batch of 8 to time
    assert bench.head_to_head(engine, []) is None
    monkeypatch.setattr(bench, "_rapidocr_engine", lambda: None)
    assert bench.head_to_head(engine, crops) is None
