"""The figures ``GET /api/stats`` answers with: this container's own counters since its
cold start (always there) and the service-wide ones from CloudWatch (when reachable).

Every container only sees its own requests, so service-wide counts come from the metrics
every function publishes to CloudWatch (GetMetricStatistics over ``OCR_STATS_WINDOW_HOURS``),
cached ``OCR_STATS_CACHE_SECONDS``, a failure too (settings.py). When CloudWatch cannot be read (a laptop
with no AWS region or credentials, no network route, no permission) the answer says why in
plain words and the raw error goes to the log.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ReadTimeoutError,
)

from functions.api.settings import get_settings
from functions.common.counters import COUNTERS
from functions.common.observability import FUNCTIONS, logger

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
    settings = get_settings()
    window_h, namespace, service = settings.stats_window_hours, settings.metrics_namespace, settings.service_name
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


_UNREACHABLE = "CloudWatch is not reachable from here"
_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}
_BAD_CREDENTIALS = {"InvalidClientTokenId", "UnrecognizedClientException", "SignatureDoesNotMatch", "ExpiredToken",
                    "ExpiredTokenException", "InvalidAccessKeyId", "AuthFailure", "InvalidSignatureException"}
_THROTTLED = {"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException"}


def unavailable_reason(exc: Exception) -> str:
    """Why CloudWatch could not be read, in words for the page's reader (no AWS jargon)."""
    if isinstance(exc, NoRegionError):
        return f"{_UNREACHABLE} (no AWS region or credentials configured)"
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return f"{_UNREACHABLE} (no AWS credentials configured)"
    if isinstance(exc, EndpointConnectionError | ConnectTimeoutError | ReadTimeoutError | ConnectionClosedError):
        return f"{_UNREACHABLE} (no network route to it, or it did not answer in time)"
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        if code in _DENIED:
            return "This service is not allowed to read its CloudWatch metrics (permission denied)"
        if code in _BAD_CREDENTIALS:
            return "CloudWatch refused the AWS credentials configured here (invalid or expired)"
        if code in _THROTTLED:
            return "CloudWatch is busy right now (too many requests); the figures come back shortly"
    return "CloudWatch could not be read just now; the server's log has the details"


def cached_stats() -> dict:
    """The service-wide figures (CloudWatch), or ``available: false`` and the reason."""
    ttl = get_settings().stats_cache_seconds
    with _lock:
        if _cache["value"] is not None and time.monotonic() - _cache["at"] < ttl:
            return {**_cache["value"], "cached": True}
    try:
        value = read_stats()
    except (BotoCoreError, ClientError) as exc:
        # No credentials or no CloudWatch (a laptop): say so instead of inventing numbers.
        # Expected on a laptop (no region or credentials); anything else is worth a warning.
        log = logger.info if isinstance(exc, NoRegionError | NoCredentialsError) else logger.warning
        log("CloudWatch metrics unavailable", extra={"error": repr(exc)})
        value = {"available": False, "reason": unavailable_reason(exc), "source": "cloudwatch"}
    with _lock:
        _cache.update(at=time.monotonic(), value=value)
    return {**value, "cached": False}


def current_stats() -> dict:
    """What ``GET /api/stats`` answers: the service-wide figures at the top level (as
    before), and ``container``: this container's counters since its cold start."""
    return {**cached_stats(), "container": COUNTERS.snapshot()}


def clear_cache() -> None:
    with _lock:
        _cache.update(at=0.0, value=None)
