"""S3 access for the OCR functions: the calls they make, on one boto3 client, in their terms.

``S3Store`` fetches an image (size-limited), says which version of an object is current,
describes and writes a result file, and reads and writes the bulk run's JSON files. S3's
answers that no retry can change (the object, its version or the bucket is gone, an
archived object, a key over S3's limit) come out as ``ObjectGone``; every other S3 fault
(throttling, 5xx, the network, access denied) is raised as botocore raised it, for the
caller to retry. Nothing here decides what an object's outcome is: that is the logic's
(s3_objects.py, bulk.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3
import ijson
from botocore.config import Config
from botocore.exceptions import ClientError, ResponseStreamingError
from ocr_engine.errors import ImageTooLarge
from urllib3.exceptions import HTTPError as Urllib3Error

# S3 error codes no retry can fix: the object, its version or the bucket is gone (HEAD
# answers a bare 404), an archived object, a key over the limit, an object encrypted with the
# uploader's own key (SSE-C: GET answers InvalidRequest, HEAD a bare 400; the drop bucket's
# policy refuses such uploads, a bulk run may still meet them in a bucket written before).
PERMANENT_S3_ERRORS = frozenset({"NoSuchKey", "NoSuchVersion", "NoSuchBucket", "404", "InvalidObjectState",
                                 "KeyTooLongError", "InvalidRequest", "400"})
# User metadata on a result file: the ETag of the image it was read from. Tells a bulk
# re-run that an image replaced within the same second as its result is not the one read.
SOURCE_ETAG_METADATA = "source-etag"
# ... and the bulk run (its execution id) that wrote it, with what that run made of the image
# ('done', 'refused', or 'bug': an internal error): a retried batch counts what its first attempt
# read as read, not as current, and a later run reads again what a bug refused.
BULK_RUN_METADATA = "bulk-run"
OUTCOME_METADATA = "outcome"
# The client the functions make at their cold start: throttling (SlowDown) and 5xx are
# retried by botocore, 5 retries with adaptive client-side rate limiting.
CLIENT_CONFIG = Config(retries={"max_attempts": 5, "mode": "adaptive"})

S3Client = Any  # a boto3 S3 client (botocore builds its class at run time)


class ObjectGone(Exception):
    """S3 answered that the object (or its version, or its bucket) cannot be had, for good."""


@dataclass(frozen=True)
class FetchedObject:
    data: bytes
    etag: str | None  # without its quotes
    version_id: str | None  # None for an unversioned object ('null' to S3)


@dataclass(frozen=True)
class ResultFile:
    """What S3 says of an existing result file, without reading it."""

    last_modified: datetime
    source_etag: str | None  # the ETag of the image it was read from, when it says
    run: str | None = None  # the bulk run that wrote it (None: an S3 drop, or written before 2026-11-27)
    outcome: str | None = None  # 'done', 'refused' or 'bug'


def is_permanent(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") in PERMANENT_S3_ERRORS


@contextmanager
def _gone_for_good(what: str) -> Iterator[None]:
    try:
        yield
    except ClientError as exc:
        if is_permanent(exc):
            raise ObjectGone(f"{what}: S3 answered {exc}") from exc
        raise


def _whole_body(body: Any) -> bytes:
    """An object's bytes. A connection fault while they stream in (a reset, a TLS record
    error) may come from urllib3 or ssl unwrapped: it is raised as botocore's transient
    ResponseStreamingError, so that it is retried, not taken for a bug in the image's reading."""
    try:
        return body.read()
    except (Urllib3Error, OSError) as exc:
        raise ResponseStreamingError(error=exc) from exc


def _version(value: str | None) -> str | None:
    return None if value in (None, "null") else value


class S3Store:
    """The OCR functions' S3 calls on ``client`` (tests hand in a moto one)."""

    def __init__(self, client: S3Client) -> None:
        self.client = client

    @classmethod
    def create(cls) -> S3Store:
        """A store on a new client (a function's cold start); AWS_ENDPOINT_URL is honoured."""
        return cls(boto3.client("s3", config=CLIENT_CONFIG))

    def fetch(self, bucket: str, key: str, version_id: str | None, max_bytes: int) -> FetchedObject:
        """The object's bytes; ImageTooLarge, without reading them, when it has more than ``max_bytes``."""
        args = {"Bucket": bucket, "Key": key, **({"VersionId": version_id} if version_id else {})}
        with _gone_for_good("the object could not be fetched"):
            obj = self.client.get_object(**args)
        size = obj["ContentLength"]
        if size > max_bytes:
            obj["Body"].close()
            raise ImageTooLarge(f"the object is {size:,} bytes; the limit is {max_bytes:,}")
        etag = (obj.get("ETag") or "").strip('"') or None
        return FetchedObject(_whole_body(obj["Body"]), etag, _version(obj.get("VersionId")))

    def current_version(self, bucket: str, key: str) -> str | None:
        """The version the key names now (None: unversioned); ObjectGone when it names none (deleted)."""
        with _gone_for_good("the object was deleted"):
            return _version(self.client.head_object(Bucket=bucket, Key=key).get("VersionId"))

    def result_file(self, bucket: str, key: str) -> ResultFile | None:
        """The result file at ``key``, or None when there is none."""
        try:
            with _gone_for_good("no result file"):
                head = self.client.head_object(Bucket=bucket, Key=key)
        except ObjectGone:
            return None
        marks = head.get("Metadata", {})
        return ResultFile(head["LastModified"], marks.get(SOURCE_ETAG_METADATA), marks.get(BULK_RUN_METADATA),
                          marks.get(OUTCOME_METADATA))

    def write_result(self, bucket: str, key: str, body: bytes, source_etag: str | None, outcome: str,
                     run: str | None = None) -> None:
        """A result file (UTF-8 JSON), marked with the ETag of the image it was read from, the
        outcome, and the bulk run that wrote it."""
        marks = {SOURCE_ETAG_METADATA: source_etag, OUTCOME_METADATA: outcome, BULK_RUN_METADATA: run}
        with _gone_for_good("the result could not be written"):
            self.client.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json; charset=utf-8",
                                   Metadata={name: value for name, value in marks.items() if value})

    def read_json(self, bucket: str, key: str) -> Any:
        return json.loads(self.client.get_object(Bucket=bucket, Key=key)["Body"].read())

    def json_array_items(self, bucket: str, key: str) -> Iterator[Any]:
        """The items of a JSON array file, parsed one at a time as its body streams in: a
        Distributed Map's result file holds every batch's input and output and may reach
        5 GB, which ``read_json`` would hold whole (and about twice that once parsed)."""
        body = self.client.get_object(Bucket=bucket, Key=key)["Body"]
        try:
            yield from ijson.items(body, "item", use_float=True)
        finally:
            body.close()

    def write_json(self, bucket: str, key: str, value: Any) -> None:
        self.client.put_object(Bucket=bucket, Key=key, Body=json.dumps(value, indent=1, ensure_ascii=False).encode(),
                               ContentType="application/json; charset=utf-8")
