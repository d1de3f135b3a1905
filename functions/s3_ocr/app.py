"""S3 ObjectCreated -> ``<key>.ocr.json`` next to the source image.

Per record: decode the key, then the per-object logic shared with the bulk handler
(functions/common/s3_objects.py: skip non-images and our own results, fetch, read, write).
Each record stands on its own: a refused image gets an error result, an object that is gone
or whose key cannot take a result is dropped and counted (``RecordsDropped``), and any other
S3 fault (throttling, 5xx, the network, access denied) is taken as transient: the other
records are still processed, then the invocation fails so Lambda's retries and the failure
destination see it. Retries are safe: results are overwritten.
"""

from __future__ import annotations

import time
from urllib.parse import unquote_plus

import boto3
from aws_lambda_powertools.utilities.data_classes import S3Event
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from ocr_engine.errors import ModelUnavailable
from ocr_engine.pipeline import get_engine

from functions.common.observability import logger, metrics, record_error, tracer
from functions.common.s3_objects import IMAGE_SUFFIXES, RESULT_SUFFIX, is_candidate, process_object, result_key

__all__ = ["IMAGE_SUFFIXES", "RESULT_SUFFIX", "RecordFailed", "handler", "is_candidate", "process_record",
           "result_key"]

FUNCTION = "s3_ocr"
metrics.set_default_dimensions(Function=FUNCTION)

_s3 = boto3.client("s3", config=Config(retries={"max_attempts": 5, "mode": "adaptive"}))
_ENGINE = get_engine()  # cold start: a missing model fails the init loudly


class RecordFailed(Exception):
    """At least one record could not be processed; Lambda retries the invocation."""


@tracer.capture_method
def process_record(bucket: str, key: str, version_id: str | None, etag: str | None, request_id: str) -> str:
    """-> 'done', 'refused' (error written), 'skipped' or 'dropped' (nothing written, never
    retried). Raises on transient S3 faults."""
    return process_object(_s3, _ENGINE, bucket, key, version_id, etag, request_id)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict, context) -> dict:
    # Powertools metrics share state across instances: name the function per invocation.
    metrics.set_default_dimensions(Function=FUNCTION)
    started = time.perf_counter()
    request_id = getattr(context, "aws_request_id", "local")
    outcomes: dict[str, str] = {}
    failures = []
    for record in S3Event(event).records:
        # Keys arrive URL-encoded ('+' for spaces, %XX for unicode) in every record.
        bucket, key = record.s3.bucket.name, unquote_plus(record.s3.get_object.key)
        try:
            outcomes[key] = process_record(bucket, key, record.s3.get_object.version_id,
                                           record.s3.get_object.etag, request_id)
        except (BotoCoreError, ClientError, ModelUnavailable) as exc:  # transient: retry the event
            record_error()
            logger.exception("S3 failure", extra={"bucket": bucket, "key": key})
            outcomes[key] = "failed"
            failures.append(f"{key}: {exc}")
        except Exception:  # a bug outside the image's reading: logged and counted, not retried
            record_error()
            logger.exception("unexpected error", extra={"bucket": bucket, "key": key})
            outcomes[key] = "error"
    summary = {"outcomes": outcomes, "ms": round((time.perf_counter() - started) * 1000, 1)}
    if failures:
        # Fail the invocation after every record had its turn: Lambda retries, then the
        # failure destination receives the event. Retries are safe: results are overwritten.
        raise RecordFailed(f"{len(failures)} record(s) failed: " + "; ".join(failures))
    return summary
