"""One S3 object -> ``<key>.ocr.json`` beside it: what the S3 drop handler
(functions/s3_ocr) and the bulk handler (functions/bulk_ocr, run by the Step Functions
Distributed Map) both do for each object, so a result written by a bulk run and one
written by a drop are the same file. S3 itself is reached through ``S3Store`` (s3_store.py).

Per object: skip what is not an image and our own results, fetch the object
(size-limited), run the engine, write the result. Each object stands on its own:

* an image the engine refuses (corrupt, too large, a read stopped at its deadline,
  ``deadline_exceeded``; any failure while reading it) gets a result file with the error:
  retrying cannot help it;
* an object no retry can help is dropped, logged and counted (``RecordsDropped``), with no
  result: the object or its version is gone (``NoSuchKey``, ``NoSuchVersion``, deleted or
  replaced by a newer version before its result was written), its key is too long for
  ``<key>.ocr.json`` to fit S3's 1,024-byte key limit, or the record names a bucket that no
  bucket can be called (botocore refuses it before sending: ``ParamValidationError``);
* any other S3 fault (throttling, 5xx, the network, access denied) raises: the caller
  decides how to retry. Retries are safe: results are overwritten.

The result file is the engine's result (ocr_engine/schemas.py) plus ``source``; an error
result is the engine's error shape plus ``source``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes.s3_event import S3EventRecord
from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError
from ocr_engine.errors import ModelUnavailable, OcrError
from ocr_engine.pipeline import OcrEngine
from ocr_engine.schemas import ErrorResult, OcrResult
from pydantic import BaseModel, ConfigDict, Field

from functions.common.observability import (
    INTERNAL_ERROR,
    event_outline,
    logger,
    record_dropped,
    record_error,
    record_internal_error,
    record_reading,
    tracer,
)
from functions.common.s3_store import ObjectGone, ResultFile, S3Store

RESULT_SUFFIX = ".ocr.json"
# A result's outcome mark when a bug, not the image, refused it: a later bulk run reads the image again.
BUG = "bug"
# Matched case-insensitively (a bulk run reads any spelling); template.yaml's S3 events list each
# in lower and upper case only: S3 suffix filters are case-sensitive.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif")
S3_MAX_KEY_BYTES = 1024  # S3's limit on a key, in UTF-8 bytes


class Source(BaseModel):
    """Where a result file's image came from, and when and by which invocation it was read."""

    model_config = ConfigDict(frozen=True)

    bucket: str
    key: str
    version_id: str | None = Field(description="the version read; null for an unversioned bucket")
    etag: str | None = Field(description="the ETag of the bytes read, without quotes")
    request_id: str = Field(description="the Lambda invocation that read it")
    processed_at: str = Field(description="when it was read, ISO 8601 in UTC to the second")


class S3Result(OcrResult):
    """``<key>.ocr.json`` of an image read: the engine's result and its ``source``."""

    source: Source


class S3ErrorResult(ErrorResult):
    """``<key>.ocr.json`` of an image refused: the engine's error shape and its ``source``."""

    source: Source


@dataclass(frozen=True)
class S3Object:
    """An object to read, as an event or a listing names it."""

    bucket: str
    key: str
    version_id: str | None = None
    etag: str | None = None


@dataclass
class RecordOutcomes:
    """What became of each record of an event (``outcomes``: key -> outcome), and the
    transient faults that make it fail after every record had its turn (``failures``)."""

    outcomes: dict[str, str] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


def objects_of(event: Any) -> list[S3Object]:
    """An S3 event's objects. Keys arrive URL-encoded ('+' for spaces, %XX for unicode) in every record.

    An event with no records (S3's ``s3:TestEvent``, another service's event) names nothing to
    read; a record without a bucket name or key is dropped and counted (``RecordsDropped``),
    and the event's other records are still read: no retry can mend a malformed record."""
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list):
        logger.warning("not an S3 object event: nothing to read", extra={"event_keys": event_outline(event)})
        return []
    objects = []
    for raw in records:
        obj = _object_of(raw)
        if obj is None:
            record_dropped()
            logger.warning("malformed S3 record dropped", extra={"record": str(raw)[:500]})
        else:
            objects.append(obj)
    return objects


def _object_of(raw: Any) -> S3Object | None:
    """One record's object, or None when the record does not name one."""
    try:
        detail = S3EventRecord(raw).s3
        bucket, key = detail.bucket.name, detail.get_object.key
        version_id, etag = detail.get_object.version_id, detail.get_object.etag
    except (KeyError, TypeError, AttributeError):
        return None
    if not (isinstance(bucket, str) and bucket and isinstance(key, str) and key):
        return None
    return S3Object(bucket, unquote_plus(key), version_id if isinstance(version_id, str) else None,
                    etag if isinstance(etag, str) else None)


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


def result_key_fits(key: str) -> bool:
    """Whether S3 can hold ``key``'s result: its key is within S3's limit."""
    return len(result_key(key).encode("utf-8")) <= S3_MAX_KEY_BYTES


def current_result(store: S3Store, bucket: str, key: str, last_modified: datetime,
                   etag: str | None) -> ResultFile | None:
    """``<key>.ocr.json`` when it exists, is no older than the image (S3 times have whole
    seconds) and, when it says which image it was read from, was read from this one; else None."""
    if not result_key_fits(key):
        # No such result can exist, and S3 answers a HEAD of a key past its limit 400 with no
        # body, not 404: a transient fault that would fail the bulk run's batch on every run.
        return None
    result = store.result_file(bucket, result_key(key))
    if result is None or result.last_modified < last_modified:
        return None
    # Quotes on either side: results written before 2026-11-26 kept a listing's quoted ETag.
    same_image = result.source_etag is None or not etag or result.source_etag.strip('"') == etag.strip('"')
    return result if same_image else None


def outcome_of(bucket: str, key: str, failures: list[str], step: Callable[..., str], *args: Any) -> str:
    """``step(*args)``, one object's turn -> its outcome; every object of an event or a
    batch has its turn through here. A transient fault (S3, the model) is recorded, logged
    and added to ``failures`` (the caller fails the invocation after the other objects, so
    that it is retried) -> 'failed'; a bug outside the image's reading is recorded and
    logged, not retried -> 'error'."""
    try:
        return step(*args)
    except (BotoCoreError, ClientError, ModelUnavailable) as exc:  # transient: retry the event
        record_error()
        logger.exception("S3 failure", extra={"bucket": bucket, "key": key})
        failures.append(f"{key}: {exc}")
        return "failed"
    except Exception:  # a bug outside the image's reading: logged and counted, not retried
        record_internal_error()
        logger.exception("unexpected error", extra={"bucket": bucket, "key": key})
        return "error"


def process_records(store: S3Store, engine: OcrEngine, objects: list[S3Object], request_id: str) -> RecordOutcomes:
    """Each object of an event in turn (``process_object``). A transient fault (S3, the
    model) is noted as 'failed' and in ``failures``, a bug outside the image's reading as
    'error'; either way the other objects still have their turn (``outcome_of``)."""
    out = RecordOutcomes()
    for obj in objects:
        out.outcomes[obj.key] = outcome_of(obj.bucket, obj.key, out.failures, process_object, store, engine, obj,
                                           request_id)
    return out


@tracer.capture_method
def process_object(store: S3Store, engine: OcrEngine, obj: S3Object, request_id: str, run: str | None = None) -> str:
    """-> 'done', 'refused' (error written), 'skipped' or 'dropped' (nothing written, never
    retried). Raises on transient S3 faults and when the model cannot be loaded. ``run``: the
    bulk run reading it, marked on the result."""
    ok, why = is_candidate(obj.key)
    if not ok:
        logger.info("skipped", extra={"bucket": obj.bucket, "key": obj.key, "reason": why})
        return "skipped"
    try:
        return _process(store, engine, obj, request_id, run)
    except (Dropped, ObjectGone, ParamValidationError) as exc:  # the last: a bucket name S3 cannot have
        record_dropped()
        logger.warning("record dropped", extra={"bucket": obj.bucket, "key": obj.key, "version_id": obj.version_id,
                                                "reason": str(exc)})
        return "dropped"


def _process(store: S3Store, engine: OcrEngine, obj: S3Object, request_id: str, run: str | None) -> str:
    if not result_key_fits(obj.key):
        raise Dropped(f"the key is {len(obj.key.encode('utf-8'))} bytes: with {RESULT_SUFFIX!r} its result's key "
                      f"would pass S3's {S3_MAX_KEY_BYTES}-byte limit")
    processed_at = datetime.now(UTC).isoformat(timespec="seconds")
    version_id, etag = obj.version_id, obj.etag
    result: OcrResult | None = None
    error: tuple[str, str] | None = None
    try:
        fetched = store.fetch(obj.bucket, obj.key, obj.version_id, engine.settings.max_image_bytes)
        etag = fetched.etag or etag
        # A listing (the bulk run) names no version: the one read is the one described.
        version_id = version_id or fetched.version_id
        result = engine.read(fetched.data)
    except (ModelUnavailable, BotoCoreError, ClientError, ObjectGone):
        raise
    except OcrError as exc:
        record_error()
        logger.warning("image refused", extra={"key": obj.key, "code": exc.code, "detail": exc.message})
        error = (exc.code, exc.message)
    except Exception:  # a bug while reading this image: its own error result, the other objects go on
        record_internal_error()
        logger.exception("unexpected error reading the image", extra={"key": obj.key})
        error = INTERNAL_ERROR
    _check_current(store, obj, version_id)
    source = Source(bucket=obj.bucket, key=obj.key, version_id=version_id, etag=etag, request_id=request_id,
                    processed_at=processed_at)
    filename = obj.key.rsplit("/", 1)[-1]
    body = (S3ErrorResult.of(*error, filename=filename, source=source) if result is None
            else result.extended(S3Result, filename=filename, source=source))
    mark = "done" if result is not None else BUG if error == INTERNAL_ERROR else "refused"
    store.write_result(obj.bucket, result_key(obj.key), body.model_dump_json().encode(), etag, mark, run)
    if result is None:
        return "refused"
    record_reading(result)
    logger.info("read", extra={"key": obj.key, "words": len(result.words), "ms": result.timings_ms["total"]})
    return "done"


def _check_current(store: S3Store, obj: S3Object, version_id: str | None) -> None:
    """Raise ObjectGone when the object was deleted, Dropped when a newer version replaced
    it, since it was read: its result would describe an image that is no longer there."""
    current = store.current_version(obj.bucket, obj.key)  # ObjectGone when it was deleted: dropped too
    if version_id and current not in (None, version_id):
        raise Dropped(f"a newer version ({current}) replaced this one; its own event writes the result")
