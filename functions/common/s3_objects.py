"""One S3 object -> ``<key>.ocr.json`` beside it: what the S3 drop handler
(functions/s3_ocr) and the bulk handler (functions/bulk_ocr, run by the Step Functions
Distributed Map) both do for each object, so a result written by a bulk run and one
written by a drop are the same file.

Per object: skip what is not an image and our own results, fetch the object
(size-limited), run the engine, write the result. Each object stands on its own:

* an image the engine refuses (corrupt, too large, a read stopped at its deadline,
  ``deadline_exceeded``; any failure while reading it) gets a result file with the error:
  retrying cannot help it;
* an object no retry can help is dropped, logged and counted (``RecordsDropped``), with no
  result: the object or its version is gone (``NoSuchKey``, ``NoSuchVersion``, deleted or
  replaced by a newer version before its result was written), or its key is too long for
  ``<key>.ocr.json`` to fit S3's 1,024-byte key limit;
* any other S3 fault (throttling, 5xx, the network, access denied) raises: the caller
  decides how to retry. Retries are safe: results are overwritten.

No AWS client or engine is made here: the callers pass theirs (tests swap them).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from ocr_engine.errors import ImageTooLarge, ModelUnavailable, OcrError
from ocr_engine.pipeline import OcrEngine

from functions.common.observability import logger, record_dropped, record_error, record_reading
from functions.common.payload import result_payload

RESULT_SUFFIX = ".ocr.json"
# Matched case-insensitively. template.yaml's S3 events list each one in both cases.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif")
S3_MAX_KEY_BYTES = 1024  # S3's limit on a key, in UTF-8 bytes
# S3 error codes no retry can fix: the object, its version or the bucket is gone (HEAD
# answers a bare 404), an archived object, a key over the limit.
PERMANENT_S3_ERRORS = frozenset({"NoSuchKey", "NoSuchVersion", "NoSuchBucket", "404", "InvalidObjectState",
                                 "KeyTooLongError"})
# User metadata on a result file: the ETag of the image it was read from. Tells a bulk
# re-run that an image replaced within the same second as its result is not the one read.
SOURCE_ETAG_METADATA = "source-etag"

S3Client = Any  # a boto3 S3 client (botocore builds its class at run time)


class Dropped(Exception):
    """This object can never be processed: log it, count it, write nothing, do not retry."""


def is_candidate(key: str) -> tuple[bool, str]:
    """(whether ``key`` is an image to read, why not)."""
    lower = key.lower()
    if lower.endswith(RESULT_SUFFIX):
        return False, "our own result file"
    if not lower.endswith(IMAGE_SUFFIXES):
        return False, "not an image suffix"
    return True, ""


def result_key(key: str) -> str:
    return key + RESULT_SUFFIX


def is_permanent(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") in PERMANENT_S3_ERRORS


def result_is_current(s3: S3Client, bucket: str, key: str, last_modified: datetime, etag: str | None) -> bool:
    """Whether ``<key>.ocr.json`` exists, is no older than the image (S3 times have whole
    seconds) and, when it says which image it was read from, was read from this one."""
    try:
        head = s3.head_object(Bucket=bucket, Key=result_key(key))
    except ClientError as exc:
        if is_permanent(exc):
            return False
        raise
    if head["LastModified"] < last_modified:
        return False
    source = head.get("Metadata", {}).get(SOURCE_ETAG_METADATA)
    return source is None or not etag or source == etag.strip('"')


def process_object(s3: S3Client, engine: OcrEngine, bucket: str, key: str, version_id: str | None,
                   etag: str | None, request_id: str) -> str:
    """-> 'done', 'refused' (error written), 'skipped' or 'dropped' (nothing written, never
    retried). Raises on transient S3 faults and when the model cannot be loaded."""
    ok, why = is_candidate(key)
    if not ok:
        logger.info("skipped", extra={"bucket": bucket, "key": key, "reason": why})
        return "skipped"
    try:
        return _process(s3, engine, bucket, key, version_id, etag, request_id)
    except Dropped as exc:
        record_dropped()
        logger.warning("record dropped", extra={"bucket": bucket, "key": key, "version_id": version_id,
                                                "reason": str(exc)})
        return "dropped"
    except ClientError as exc:
        if not is_permanent(exc):
            raise
        record_dropped()
        logger.warning("record dropped", extra={"bucket": bucket, "key": key, "version_id": version_id,
                                                "reason": f"S3 answered {exc}"})
        return "dropped"


def _fetch(s3: S3Client, engine: OcrEngine, bucket: str, key: str, version_id: str | None) -> tuple[bytes, dict]:
    limit = engine.settings.max_image_bytes
    args = {"Bucket": bucket, "Key": key, **({"VersionId": version_id} if version_id else {})}
    obj = s3.get_object(**args)
    size = obj["ContentLength"]
    if size > limit:
        obj["Body"].close()
        raise ImageTooLarge(f"the object is {size:,} bytes; the limit is {limit:,}")
    return obj["Body"].read(), obj


def _check_current(s3: S3Client, bucket: str, key: str, version_id: str | None) -> None:
    """Raise Dropped when the object was deleted, or replaced by a newer version, since it
    was read: its result would describe an image that is no longer there."""
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if is_permanent(exc):
            raise Dropped("the object was deleted before its result was written") from exc
        raise
    current = head.get("VersionId")
    if version_id and current not in (None, "null", version_id):
        raise Dropped(f"a newer version ({current}) replaced this one; its own event writes the result")


def _write(s3: S3Client, bucket: str, key: str, body: dict) -> None:
    etag = (body.get("source") or {}).get("etag")
    s3.put_object(
        Bucket=bucket, Key=result_key(key), Body=json.dumps(body, ensure_ascii=False).encode("utf-8"),
        ContentType="application/json; charset=utf-8",
        Metadata={SOURCE_ETAG_METADATA: etag} if etag else {},
    )


def _process(s3: S3Client, engine: OcrEngine, bucket: str, key: str, version_id: str | None, etag: str | None,
             request_id: str) -> str:
    size = len(key.encode("utf-8"))
    if size + len(RESULT_SUFFIX) > S3_MAX_KEY_BYTES:
        raise Dropped(f"the key is {size} bytes: with {RESULT_SUFFIX!r} its result's key would pass "
                      f"S3's {S3_MAX_KEY_BYTES}-byte limit")
    source = {"bucket": bucket, "key": key, "version_id": version_id, "etag": etag}
    processed_at = datetime.now(UTC).isoformat(timespec="seconds")
    filename = key.rsplit("/", 1)[-1]
    error: dict | None = None
    try:
        data, obj = _fetch(s3, engine, bucket, key, version_id)
        source["etag"] = obj.get("ETag", etag or "").strip('"') or etag
        # A listing (the bulk run) names no version: the one read is the one described.
        listed_version = obj.get("VersionId")
        version_id = version_id or (listed_version if listed_version not in (None, "null") else None)
        source["version_id"] = version_id
        result = engine.read(data)
    except (ModelUnavailable, BotoCoreError, ClientError):
        raise
    except OcrError as exc:
        record_error()
        logger.warning("image refused", extra={"key": key, "code": exc.code, "detail": exc.message})
        error = {"code": exc.code, "detail": exc.message}
    except Exception:  # a bug while reading this image: its own error result, the other objects go on
        record_error()
        logger.exception("unexpected error reading the image", extra={"key": key})
        error = {"code": "internal_error", "detail": "an unexpected error occurred; it has been logged"}
    _check_current(s3, bucket, key, version_id)
    if error is not None:
        _write(s3, bucket, key, {"request_id": request_id, "filename": filename, "error": error,
                                 "source": source, "processed_at": processed_at})
        return "refused"
    payload = result_payload(result, request_id, filename)
    payload.update(source=source, processed_at=processed_at)
    _write(s3, bucket, key, payload)
    record_reading(result)
    logger.info("read", extra={"key": key, "words": len(result.words), "ms": result.timings_ms["total"]})
    return "done"
