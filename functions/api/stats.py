"""Service-wide statistics read from the CloudWatch metrics both functions publish.

Every container only sees its own requests, so counts come from CloudWatch
(GetMetricStatistics over ``OCR_STATS_WINDOW_HOURS``), cached ``OCR_STATS_CACHE_SECONDS``.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime, timedelta

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

FUNCTIONS = ("api", "s3_ocr")
_cache: dict = {"at": 0.0, "value": None}
_lock = threading.Lock()


def _client():
    config = Config(connect_timeout=2, read_timeout=3, retries={"max_attempts": 1})
    return boto3.client("cloudwatch", config=config)


def _sum(cw, namespace: str, metric: str, dims: list[dict], start, end, stat: str) -> tuple[float, float]:
    """-> (sum of the statistic, total sample count) over the window."""
    points = cw.get_metric_statistics(
        Namespace=namespace, MetricName=metric, Dimensions=dims, StartTime=start, EndTime=end,
        Period=3600, Statistics=[stat, "SampleCount"],
    )["Datapoints"]
    return sum(p[stat] for p in points), sum(p["SampleCount"] for p in points)


def read_stats() -> dict:
    window_h = int(os.environ.get("OCR_STATS_WINDOW_HOURS", "24"))
    namespace = os.environ["POWERTOOLS_METRICS_NAMESPACE"]
    service = os.environ["POWERTOOLS_SERVICE_NAME"]
    end = datetime.now(UTC) + timedelta(minutes=1)  # include the current minute
    start = end - timedelta(hours=window_h)
    cw = _client()
    per_function, images, errors, words, ms_total, ms_count = {}, 0.0, 0.0, 0.0, 0.0, 0.0
    for fn in FUNCTIONS:
        dims = [{"Name": "service", "Value": service}, {"Name": "Function", "Value": fn}]
        n, _ = _sum(cw, namespace, "ImagesProcessed", dims, start, end, "Sum")
        e, _ = _sum(cw, namespace, "Errors", dims, start, end, "Sum")
        w, _ = _sum(cw, namespace, "WordsRecognized", dims, start, end, "Sum")
        ms, count = _sum(cw, namespace, "InferenceMs", dims, start, end, "Sum")
        per_function[fn] = {"images": int(n), "errors": int(e)}
        images, errors, words, ms_total, ms_count = images + n, errors + e, words + w, ms_total + ms, ms_count + count
    return {
        "available": True,
        "window_hours": window_h,
        "images_processed": int(images),
        "words_recognized": int(words),
        "errors": int(errors),
        "avg_inference_ms": round(ms_total / ms_count, 1) if ms_count else None,
        "by_function": per_function,
        "source": "cloudwatch",
    }


def cached_stats() -> dict:
    ttl = float(os.environ.get("OCR_STATS_CACHE_SECONDS", "30"))
    with _lock:
        if _cache["value"] is not None and time.monotonic() - _cache["at"] < ttl:
            return {**_cache["value"], "cached": True}
    try:
        value = read_stats()
    except (BotoCoreError, ClientError) as exc:
        # No credentials or no CloudWatch (a laptop): say so instead of inventing numbers.
        return {"available": False, "reason": f"CloudWatch metrics unavailable: {exc}", "source": "cloudwatch"}
    with _lock:
        _cache.update(at=time.monotonic(), value=value)
    return {**value, "cached": False}


def clear_cache() -> None:
    with _lock:
        _cache.update(at=0.0, value=None)
