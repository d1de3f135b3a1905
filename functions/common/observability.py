"""Powertools logger, tracer and metrics, made once per process.

Configured by POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_LOG_LEVEL
(set in template.yaml); the defaults below let the local server and tests run without.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics, Tracer, single_metric
from ocr_engine.schemas import OcrResult

from functions.common.counters import COUNTERS

os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "ocr")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "ServerlessOCR")

logger = Logger()
tracer = Tracer()
metrics = Metrics()

IN_LAMBDA = bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))

# The functions that publish the metrics below, each under its own ``Function`` dimension
# (its handler sets it): stats.py adds up every one of them.
API_FUNCTION, S3_FUNCTION, BULK_FUNCTION = "api", "s3_ocr", "bulk_ocr"
FUNCTIONS = (API_FUNCTION, S3_FUNCTION, BULK_FUNCTION)
# A bug while reading: logged with its traceback, and answered (API) or written (S3 result) in these words.
INTERNAL_ERROR = ("internal_error", "an unexpected error occurred; it has been logged")


def record_reading(result: OcrResult) -> None:
    """The metrics of one image read, the same from every function (stats.py reads them),
    and this container's own counters (counters.py)."""
    metrics.add_metric(name="ImagesProcessed", unit="Count", value=1)
    metrics.add_metric(name="WordsRecognized", unit="Count", value=len(result.words))
    metrics.add_metric(name="InferenceMs", unit="Milliseconds", value=result.timings_ms["total"])
    COUNTERS.record_reading(len(result.words))


def record_error() -> None:
    """An image refused or an S3 fault."""
    metrics.add_metric(name="Errors", unit="Count", value=1)
    COUNTERS.record_error()


def record_internal_error() -> None:
    """A bug met by an API request or while reading an S3 image (its answer or result says
    internal_error): counted in Errors, and once more in InternalErrors, which InternalErrorsAlarm watches. The
    invocation succeeds, so Lambda's own error count never shows it. Dimension ``service``
    only: one alarm for every function (the log names which, with the traceback)."""
    record_error()
    with single_metric(name="InternalErrors", unit="Count", value=1, namespace=metrics.namespace) as metric:
        metric.add_dimension(name="service", value=str(metrics.service))


def record_dropped() -> None:
    """An S3 record given up for good (the object is gone, or its key cannot take a
    result): counted apart from Errors, since no retry or alarm can help it."""
    metrics.add_metric(name="RecordsDropped", unit="Count", value=1)


def event_outline(event: object) -> list[str] | str:
    """What to log of an event a handler cannot serve: its first keys, or its type (never
    its contents, which may be large or private)."""
    return sorted(map(str, event))[:10] if isinstance(event, dict) else type(event).__name__
