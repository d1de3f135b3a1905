"""S3 ObjectCreated -> ``<key>.ocr.json`` next to the source image.

Per record: decode the key, skip what is not an image and our own results, fetch the
object (size-limited), run the engine, write the result. Each record stands on its own:

* an image the engine refuses (corrupt, too large, a read stopped at its deadline,
  ``deadline_exceeded``; any failure while reading it) gets a result file with the error:
  retrying cannot help it;
* a record no retry can help is dropped, logged and counted (``RecordsDropped``), with no
  result: the object or its version is gone (``NoSuchKey``, ``NoSuchVersion``, deleted or
  replaced by a newer version before its result was written), or its key is too long for
  ``<key>.ocr.json`` to fit S3's 1,024-byte key limit;
* any other S3 fault (throttling, 5xx, the network, access denied) is taken as transient:
  the other records are still processed, then the invocation fails so Lambda's retries
  and the failure destination see it. Retries are safe: results are overwritten.
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

from functions.common.observability import logger, metrics, record_dropped, record_error, record_reading, tracer
from functions.common.payload import result_payload

FUNCTION = "s3_ocr"
RESULT_SUFFIX = ".ocr.json"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif")
S3_MAX_KEY_BYTES = 1024  # S3's limit on a key, in UTF-8 bytes
# S3 error codes no retry can fix: the object, its version or the bucket is gone (HEAD
# answers a bare 404), an archived object, a key over the limit.
PERMANENT_S3_ERRORS = frozenset({"NoSuchKey", "NoSuchVersion", "NoSuchBucket", "404", "InvalidObjectState",
                                 "KeyTooLongError"})
metrics.set_default_dimensions(Function=FUNCTION)

_s3 = boto3.client("s3", config=Config(retries={"max_attempts": 5, "mode": "adaptive"}))
_ENGINE = get_engine()  # cold start: a missing model fails the init loudly


class RecordFailed(Exception):
    """At least one record could not be processed; Lambda retries the invocation."""


class _Dropped(Exception):
    """This record can never be processed: log it, count it, write nothing, do not retry."""


def is_candidate(key: str) -> tuple[bool, str]:
    lower = key.lower()
    if lower.endswith(RESULT_SUFFIX):
        return False, "our own result file"
    if not lower.endswith(IMAGE_SUFFIXES):
        return False, "not an image suffix"
    return True, ""


def result_key(key: str) -> str:
    return key + RESULT_SUFFIX


def _is_permanent(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") in PERMANENT_S3_ERRORS


def _fetch(bucket: str, key: str, version_id: str | None) -> tuple[bytes, dict]:
    limit = _ENGINE.settings.max_image_bytes
    args = {"Bucket": bucket, "Key": key, **({"VersionId": version_id} if version_id else {})}
    obj = _s3.get_object(**args)
    size = obj["ContentLength"]
    if size > limit:
        obj["Body"].close()
        raise ImageTooLarge(f"the object is {size:,} bytes; the limit is {limit:,}")
    return obj["Body"].read(), obj


def _check_current(bucket: str, key: str, version_id: str | None) -> None:
    """Raise _Dropped when the object was deleted, or replaced by a newer version, since
    the event: its result would describe an image that is no longer there."""
    try:
        head = _s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if _is_permanent(exc):
            raise _Dropped("the object was deleted before its result was written") from exc
        raise
    current = head.get("VersionId")
    if version_id and current not in (None, "null", version_id):
        raise _Dropped(f"a newer version ({current}) replaced this one; its own event writes the result")


def _write(bucket: str, key: str, body: dict) -> None:
    _s3.put_object(
        Bucket=bucket, Key=result_key(key), Body=json.dumps(body, ensure_ascii=False).encode("utf-8"),
        ContentType="application/json; charset=utf-8",
    )


@tracer.capture_method
def process_record(bucket: str, key: str, version_id: str | None, etag: str | None, request_id: str) -> str:
    """-> 'done', 'refused' (error written), 'skipped' or 'dropped' (nothing written, never
    retried). Raises on transient S3 faults."""
    ok, why = is_candidate(key)
    if not ok:
        logger.info("skipped", extra={"bucket": bucket, "key": key, "reason": why})
        return "skipped"
    try:
        return _process(bucket, key, version_id, etag, request_id)
    except _Dropped as exc:
        record_dropped()
        logger.warning("record dropped", extra={"bucket": bucket, "key": key, "version_id": version_id,
                                                "reason": str(exc)})
        return "dropped"
    except ClientError as exc:
        if not _is_permanent(exc):
            raise
        record_dropped()
        logger.warning("record dropped", extra={"bucket": bucket, "key": key, "version_id": version_id,
                                                "reason": f"S3 answered {exc}"})
        return "dropped"


def _process(bucket: str, key: str, version_id: str | None, etag: str | None, request_id: str) -> str:
    size = len(key.encode("utf-8"))
    if size + len(RESULT_SUFFIX) > S3_MAX_KEY_BYTES:
        raise _Dropped(f"the key is {size} bytes: with {RESULT_SUFFIX!r} its result's key would pass "
                       f"S3's {S3_MAX_KEY_BYTES}-byte limit")
    source = {"bucket": bucket, "key": key, "version_id": version_id, "etag": etag}
    processed_at = datetime.now(UTC).isoformat(timespec="seconds")
    filename = key.rsplit("/", 1)[-1]
    error: dict | None = None
    try:
        data, obj = _fetch(bucket, key, version_id)
        source["etag"] = obj.get("ETag", etag or "").strip('"') or etag
        result = _ENGINE.read(data)
    except (ModelUnavailable, BotoCoreError, ClientError):
        raise
    except OcrError as exc:
        record_error()
        logger.warning("image refused", extra={"key": key, "code": exc.code, "detail": exc.message})
        error = {"code": exc.code, "detail": exc.message}
    except Exception:  # a bug while reading this image: its own error result, the other records go on
        record_error()
        logger.exception("unexpected error reading the image", extra={"key": key})
        error = {"code": "internal_error", "detail": "an unexpected error occurred; it has been logged"}
    _check_current(bucket, key, version_id)
    if error is not None:
        _write(bucket, key, {"request_id": request_id, "filename": filename, "error": error,
                             "source": source, "processed_at": processed_at})
        return "refused"
    payload = result_payload(result, request_id, filename)
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
