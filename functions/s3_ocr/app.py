"""S3 ObjectCreated -> ``<key>.ocr.json`` next to the source image.

Per record: decode the key, skip what is not an image and our own results, fetch the
object (size-limited), run the engine, write the result. A record that fails does not
hide the others: all are processed, then the invocation fails so Lambda's retries and
the failure destination see it. Images the engine refuses (corrupt, too large) get a
result file with the error instead: retrying them cannot help.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from urllib.parse import unquote_plus

import boto3
from aws_lambda_powertools.utilities.data_classes import S3Event
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from ocr_engine.errors import ImageTooLarge, ModelUnavailable, OcrError
from ocr_engine.pipeline import get_engine

from functions.common.observability import logger, metrics, record_error, record_reading, tracer
from functions.common.payload import result_payload

FUNCTION = "s3_ocr"
RESULT_SUFFIX = ".ocr.json"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif")
metrics.set_default_dimensions(Function=FUNCTION)

_s3 = boto3.client("s3", config=Config(retries={"max_attempts": 5, "mode": "adaptive"}))
_ENGINE = get_engine()  # cold start: a missing model fails the init loudly


class RecordFailed(Exception):
    """At least one record could not be processed; Lambda retries the invocation."""


def is_candidate(key: str) -> tuple[bool, str]:
    lower = key.lower()
    if lower.endswith(RESULT_SUFFIX):
        return False, "our own result file"
    if not lower.endswith(IMAGE_SUFFIXES):
        return False, "not an image suffix"
    return True, ""


def result_key(key: str) -> str:
    return key + RESULT_SUFFIX


def _fetch(bucket: str, key: str, version_id: str | None) -> tuple[bytes, dict]:
    limit = _ENGINE.settings.max_image_bytes
    args = {"Bucket": bucket, "Key": key, **({"VersionId": version_id} if version_id else {})}
    obj = _s3.get_object(**args)
    size = obj["ContentLength"]
    if size > limit:
        obj["Body"].close()
        raise ImageTooLarge(f"the object is {size:,} bytes; the limit is {limit:,}")
    return obj["Body"].read(), obj


def _write(bucket: str, key: str, body: dict) -> None:
    _s3.put_object(
        Bucket=bucket, Key=result_key(key), Body=json.dumps(body, ensure_ascii=False).encode("utf-8"),
        ContentType="application/json; charset=utf-8",
    )


@tracer.capture_method
def process_record(bucket: str, key: str, version_id: str | None, etag: str | None, request_id: str) -> str:
    """-> 'done', 'refused' (error written), or 'skipped'. Raises on S3 faults."""
    ok, why = is_candidate(key)
    if not ok:
        logger.info("skipped", extra={"bucket": bucket, "key": key, "reason": why})
        return "skipped"
    source = {"bucket": bucket, "key": key, "version_id": version_id, "etag": etag}
    processed_at = datetime.now(UTC).isoformat(timespec="seconds")
    try:
        data, obj = _fetch(bucket, key, version_id)
        source["etag"] = obj.get("ETag", etag or "").strip('"') or etag
        result = _ENGINE.read(data)
    except ModelUnavailable:
        raise
    except OcrError as exc:
        record_error()
        logger.warning("image refused", extra={"key": key, "code": exc.code, "detail": exc.message})
        _write(bucket, key, {"request_id": request_id, "filename": key.rsplit("/", 1)[-1],
                             "error": {"code": exc.code, "detail": exc.message},
                             "source": source, "processed_at": processed_at})
        return "refused"
    payload = result_payload(result, request_id, key.rsplit("/", 1)[-1])
    payload.update(source=source, processed_at=processed_at)
    _write(bucket, key, payload)
    record_reading(result)
    logger.info("read", extra={"key": key, "words": len(result.words), "ms": result.timings_ms["total"]})
    return "done"


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
        except (BotoCoreError, ClientError) as exc:
            record_error()
            logger.exception("S3 failure", extra={"bucket": bucket, "key": key})
            outcomes[key] = "failed"
            failures.append(f"{key}: {exc}")
    summary = {"outcomes": outcomes, "ms": round((time.perf_counter() - started) * 1000, 1)}
    if failures:
        # Fail the invocation after every record had its turn: Lambda retries, then the
        # failure destination receives the event. Retries are safe: results are overwritten.
        raise RecordFailed(f"{len(failures)} record(s) failed: " + "; ".join(failures))
    return summary
