"""This container's counters (functions/common/counters.py): exact percentiles, every
update counted under concurrency, bounded memory."""

from __future__ import annotations

import random
import threading

import numpy as np
import pytest

from functions.common.counters import Counters, percentile


@pytest.mark.parametrize("n", [1, 2, 3, 10, 101, 1000])
@pytest.mark.parametrize("q", [0, 50, 90, 99, 100])
def test_percentile_matches_numpy_linear_interpolation(n, q):
    rng = random.Random(n)
    values = [rng.uniform(1, 500) for _ in range(n)]
    assert len(set(values)) == n  # distinct values: interpolation between them is what is checked
    assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))


def test_percentile_of_known_values():
    values = list(range(1, 101))  # 1..100, unsorted below
    random.Random(0).shuffle(values)
    assert percentile(values, 50) == 50.5
    assert percentile(values, 90) == pytest.approx(90.1)
    assert percentile(values, 99) == pytest.approx(99.01)
    assert percentile([7.0], 99) == 7.0
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_a_fresh_container_has_zeros_and_no_percentiles():
    snap = Counters().snapshot()
    assert (snap["requests"], snap["images_processed"], snap["words_recognized"], snap["errors"]) == (0, 0, 0, 0)
    assert snap["latency_ms"] == {"count": 0, "samples": 0, "p50": None, "p90": None, "p99": None}
    assert snap["since"].endswith("+00:00") and snap["uptime_s"] >= 0


def test_counts_and_percentiles_follow_what_was_recorded():
    c = Counters()
    for ms in range(1, 101):
        c.record_request(200, float(ms))
    c.record_request(415, 5.0)
    c.record_reading(words=3)
    c.record_reading(words=0)
    c.record_error()
    snap = c.snapshot()
    assert snap["requests"] == 101 and snap["requests_by_status"] == {"200": 100, "415": 1}
    assert snap["images_processed"] == 2 and snap["words_recognized"] == 3 and snap["errors"] == 1
    latencies = [float(ms) for ms in range(1, 101)] + [5.0]
    lat = snap["latency_ms"]
    assert lat["count"] == lat["samples"] == 101
    for q in (50, 90, 99):
        assert lat[f"p{q}"] == round(float(np.percentile(latencies, q)), 1)


def test_updates_from_many_threads_are_all_counted():
    c = Counters()
    threads, per_thread = 8, 2000

    def work() -> None:
        for i in range(per_thread):
            c.record_request(200, float(i % 50))
            c.record_reading(words=2)
            if i % 10 == 0:
                c.record_error()
            if i % 100 == 0:
                c.snapshot()  # reads interleave with the writes

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    snap = c.snapshot()
    total = threads * per_thread
    assert snap["requests"] == total == snap["latency_ms"]["count"]
    assert snap["images_processed"] == total and snap["words_recognized"] == 2 * total
    assert snap["errors"] == threads * (per_thread // 10)


def test_latency_memory_is_bounded_and_still_describes_the_whole_life():
    c = Counters(max_samples=500)
    # 5,000 fast requests then 5,000 slow ones: a window of the latest would see only slow ones.
    for _ in range(5000):
        c.record_request(200, 10.0)
    for _ in range(5000):
        c.record_request(200, 1000.0)
    lat = c.snapshot()["latency_ms"]
    assert lat["count"] == 10_000 and lat["samples"] == 500
    assert lat["p99"] == 1000.0
    slow_share = sum(ms == 1000.0 for ms in c._latencies) / 500
    assert 0.4 < slow_share < 0.6  # a uniform sample of both halves
