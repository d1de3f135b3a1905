"""This container's own figures since its cold start: requests, images, words, errors and
latency percentiles, kept in memory.

CloudWatch holds the service-wide figures (stats.py), but it is out of reach on a laptop
and lags a minute in AWS; these are always there and exact for this process. They are
updated from the event loop (requests) and from worker threads (readings), so every
update and every read holds one lock.

Latencies: every sample is kept up to ``MAX_SAMPLES``; past that a uniform sample of all
of them since the cold start (reservoir sampling), so memory stays bounded in a
long-lived container and the percentiles still describe its whole life.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime

MAX_SAMPLES = 10_000
PERCENTILES = (50, 90, 99)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation between the closest ranks
    (numpy's default method); ``values`` need not be sorted and must not be empty."""
    if not values:
        raise ValueError("no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is outside 0-100")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


class Counters:
    """Thread-safe counters for one process."""

    def __init__(self, max_samples: int = MAX_SAMPLES, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._max_samples = max_samples
        self._random = random.Random(seed)
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._started_wall = datetime.now(UTC)
            self._started = time.monotonic()
            self._requests = 0
            self._by_status: dict[str, int] = {}
            self._images = 0
            self._words = 0
            self._errors = 0
            self._latency_count = 0
            self._latencies: list[float] = []

    def record_request(self, status: int, latency_ms: float) -> None:
        """One OCR request answered (any status), with its time in the server."""
        with self._lock:
            self._requests += 1
            key = str(status)
            self._by_status[key] = self._by_status.get(key, 0) + 1
            self._latency_count += 1
            if len(self._latencies) < self._max_samples:
                self._latencies.append(latency_ms)
            else:  # reservoir sampling: each of the n samples so far is kept with probability max/n
                slot = self._random.randrange(self._latency_count)
                if slot < self._max_samples:
                    self._latencies[slot] = latency_ms

    def record_reading(self, words: int) -> None:
        """One image read, with the number of words found."""
        with self._lock:
            self._images += 1
            self._words += words

    def record_error(self) -> None:
        """One image refused or failed (as the ``Errors`` metric counts)."""
        with self._lock:
            self._errors += 1

    def snapshot(self) -> dict:
        with self._lock:
            latencies = list(self._latencies)
            body = {
                "since": self._started_wall.isoformat(timespec="seconds"),
                "uptime_s": round(time.monotonic() - self._started, 1),
                "requests": self._requests,
                "requests_by_status": dict(sorted(self._by_status.items())),
                "images_processed": self._images,
                "words_recognized": self._words,
                "errors": self._errors,
            }
            count = self._latency_count
        latency: dict = {"count": count, "samples": len(latencies)}
        for q in PERCENTILES:
            latency[f"p{q}"] = round(percentile(latencies, q), 1) if latencies else None
        body["latency_ms"] = latency
        return body


# The one instance of this process (a Lambda container, the local server).
COUNTERS = Counters()
