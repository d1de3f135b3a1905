"""``ocr bench``'s head-to-head section: the speed budget's two ratios, timed in turns
with RapidOCR (installed by ``make setup``, so it is always there to compare with)."""

from __future__ import annotations

from ocr_engine.imagefile import load_rgb
from ocr_tools import bench
from ocr_tools.labels import read_label_file


def test_head_to_head_times_both_readers_on_the_same_crops(data_dir, monkeypatch):
    crops = [load_rgb(p) for p, _ in read_label_file(data_dir / "iiit5k" / "test.tsv")[:8]]
    calls: list[str] = []
    timed = bench._time_pair_ms

    def spy(first, second, repeat):
        calls.append(f"pair x{repeat}")
        return timed(first, second, repeat)

    monkeypatch.setattr(bench, "_time_pair_ms", spy)
    duel = bench.head_to_head(crops, passes=1)
    assert calls == ["pair x1", "pair x1"]  # reading a crop, then batch 8: each pair in turns
    assert duel["crops"] == 8 and duel["passes"] == 1
    for key in ("ours_read_crop_ms", "rapidocr_recognize_ms", "ours_recognize_ms_per_crop_batch8",
                "rapidocr_recognize_ms_per_crop_batch8"):
        assert duel[key] > 0, key
    assert abs(duel["rapidocr_over_ours_read_crop"]
               - duel["rapidocr_recognize_ms"] / duel["ours_read_crop_ms"]) < 0.05
    assert abs(duel["rapidocr_over_ours_batch8"]
               - duel["rapidocr_recognize_ms_per_crop_batch8"] / duel["ours_recognize_ms_per_crop_batch8"]) < 0.05


def test_head_to_head_is_left_out_without_rapidocr(monkeypatch):
    monkeypatch.setattr(bench, "_rapidocr_engine", lambda: None)
    assert bench.head_to_head([]) is None
