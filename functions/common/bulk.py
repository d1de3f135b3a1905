"""Bulk OCR of objects already in the bucket: a batch of listed objects, each read exactly
as an S3 drop reads it, and the summary of a whole run.

The Step Functions Distributed Map in infra/bulk_ocr.asl.json lists the objects under a
prefix (S3 ListObjectsV2), shapes each listed object with its ItemSelector, groups them
with its ItemBatcher and hands each batch to the bulk function
(functions/bulk_ocr/app.py); after the map, the same function writes the run's summary.
infra/bulk_local.py runs the same definition against a local bucket and ends here too.

A batch event::

    {"BatchInput": {"bucket": "B"},
     "Items": [{"key": "p/a.jpg", "etag": "\\"...\\"", "last_modified": 1700000000, "size": 1234,
                "run": "arn:aws:states:...:execution:..."}, ...]}

Each item is filtered with the S3 handler's own test (``is_candidate``: image suffixes, any
case, never our results), skipped when its result is already current (no older than the
image: a re-run resumes where a stopped run left off; a bug's result is not current), else read and its
result written beside it by ``process_object``, as a drop would, marked with the run
(the execution's id). A result this run wrote counts as what it was then ('done' or
'refused'), not 'current': the state machine retries a batch that met a transient fault, and
the retry meets the results of the first attempt. An image a bug refused (internal_error) is
read again by a later run.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from datetime import UTC, datetime
from typing import Any

from ocr_engine.pipeline import OcrEngine

from functions.common.observability import logger
from functions.common.s3_objects import BUG, S3Object, current_result, is_candidate, outcome_of, process_object
from functions.common.s3_store import S3Store

# What can become of a listed object. 'current': its result is newer than the image.
OUTCOMES = ("done", "refused", "current", "skipped", "dropped", "error")
SUMMARY_NAME = "summary.json"  # written beside the ResultWriter's manifest.json
MAX_LISTED_KEYS = 100  # refused/dropped/error keys a summary names (all of them are counted)
NAMED = ("refused", "dropped", "error")  # the outcomes whose keys a batch's answer names
_NAME_CHARS = 300  # of an item that has no key, in the answer


class BatchFailed(Exception):
    """Some objects of the batch met a transient fault: the state machine retries the batch
    (objects this run already read count as what they were then), then counts it as failed."""


class MalformedBatch(ValueError):
    """The event is not one the state machine builds (a batch with no bucket or no list of
    items, a summary with no manifest): no retry can mend it, so the state machine counts
    the state as failed at once."""


def batch_bucket_and_items(event: Any) -> tuple[str, list]:
    """The bucket and the items of a batch event, checked before any object is touched."""
    batch_input = event.get("BatchInput") if isinstance(event, dict) else None
    bucket = batch_input.get("bucket") if isinstance(batch_input, dict) else None
    if not isinstance(bucket, str) or not bucket:
        raise MalformedBatch('a batch needs "BatchInput": {"bucket": "<name>"}')
    items = event.get("Items")
    if not isinstance(items, list):
        raise MalformedBatch(f'a batch needs "Items" as a list, not {type(items).__name__}')
    return bucket, items


def summary_request(event: dict) -> tuple[str, str, str]:
    """The bucket, the ResultWriter's manifest key and the run's prefix of a summary event."""
    details = event.get("summarize")
    bucket, key = (details.get("Bucket"), details.get("Key")) if isinstance(details, dict) else (None, None)
    prefix = event.get("prefix", "")
    if not (isinstance(bucket, str) and bucket and isinstance(key, str) and key and isinstance(prefix, str)):
        raise MalformedBatch('a summary needs "summarize": {"Bucket": "<name>", "Key": "<manifest key>"} '
                             'and "prefix" as a string')
    return bucket, key, prefix


def item_key(item: Any) -> str | None:
    key = item.get("key") if isinstance(item, dict) else None
    return key if isinstance(key, str) and key else None


def item_run(item: dict) -> str | None:
    """The mark of the run an item belongs to (the ItemSelector's ``$$.Execution.Id``) on the
    results it writes: the id itself when S3 metadata can carry it (ASCII, printable, short),
    else its SHA-256 (an execution may be named "relecture-été"); None for a hand-made batch."""
    run = item.get("run")
    if run is None:
        return None
    if isinstance(run, str) and run:
        if run.isascii() and run.isprintable() and " " not in run and len(run) <= 256:
            return run
        return "sha256:" + hashlib.sha256(run.encode("utf-8", "surrogatepass")).hexdigest()
    # Its results are still written, unmarked: a retry of the batch counts them 'current' (a bug's
    # result is read again by every attempt: it is marked, but not as this run's).
    logger.warning("a batch item's run cannot mark a result", extra={"run": str(run)[:_NAME_CHARS]})
    return None


def last_modified(value: Any) -> datetime:
    """A listed object's LastModified: epoch seconds (Step Functions' S3 item reader), an
    ISO 8601 string or a datetime (boto3's listing)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000 if value > 1e11 else value, UTC)  # seconds (or ms)
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def process_item(store: S3Store, engine: OcrEngine, bucket: str, item: dict, request_id: str) -> str:
    """One listed object -> its outcome (one of OUTCOMES but 'error'). Raises on transient faults."""
    key = item["key"]
    if not is_candidate(key)[0]:
        return "skipped"  # not logged: a re-run lists every result file beside its image
    # A listing's ETag keeps its quotes (an event's has none); a result records it without.
    listed_etag = item.get("etag")
    etag = listed_etag.strip('"') if isinstance(listed_etag, str) else None
    run = item_run(item)
    result = current_result(store, bucket, key, last_modified(item["last_modified"]), etag)
    this_run = result is not None and run is not None and result.run == run
    if result is None or (result.outcome == BUG and not this_run):  # a bug's result: it may be fixed since
        return process_object(store, engine, S3Object(bucket, key, None, etag), request_id, run)
    if this_run and result.outcome in ("done", "refused", BUG):
        # Read by this run, in an attempt at this batch that then failed: counted as it was then.
        return "done" if result.outcome == "done" else "refused"
    return "current"


def process_batch(store: S3Store, engine: OcrEngine, event: dict, request_id: str) -> dict:
    """A batch from the ItemBatcher -> {"counts": {outcome: n}, "refused": [keys], "dropped": [keys],
    "error": [keys]}. Every object has its turn (an item without a key is an 'error', the others
    still read); then BatchFailed if any met a transient fault. MalformedBatch, before any
    object is touched, for an event that is not a batch."""
    bucket, items = batch_bucket_and_items(event)
    counts = dict.fromkeys(OUTCOMES, 0)
    named: dict[str, list[str]] = {outcome: [] for outcome in NAMED}
    failures: list[str] = []
    for item in items:
        key = item_key(item)
        if key is None:
            logger.error("batch item without a key", extra={"item": str(item)[:_NAME_CHARS]})
            outcome, key = "error", str(item)[:_NAME_CHARS]
        else:
            outcome = outcome_of(bucket, key, failures, process_item, store, engine, bucket, item, request_id)
        if outcome == "failed":  # transient: not counted, the batch is retried
            continue
        counts[outcome] += 1
        if outcome in named:
            named[outcome].append(key)
    if failures:
        raise BatchFailed(f"{len(failures)} of {len(items)} object(s) failed: " + "; ".join(failures))
    return {"counts": counts, **named}


def _as_json(value: Any) -> Any:
    """Execution inputs and outputs in the ResultWriter's files are JSON text."""
    return json.loads(value) if isinstance(value, str) else (value or {})


def summarize(store: S3Store, bucket: str, manifest_key: str, prefix: str) -> dict:
    """Add up the batches the ResultWriter exported (manifest.json and the SUCCEEDED_n /
    FAILED_n files it lists) and write summary.json beside the manifest. -> the summary."""
    manifest = store.read_json(bucket, manifest_key)
    images = dict.fromkeys(OUTCOMES, 0)
    batches = {"succeeded": 0, "failed": 0}
    failed_objects = 0
    named: dict[str, list[str]] = {outcome: [] for outcome in NAMED}
    for status, files in manifest.get("ResultFiles", {}).items():
        for entry in (e for f in files for e in store.json_array_items(bucket, f["Key"])):
            if status == "SUCCEEDED":
                batches["succeeded"] += 1
                output = _as_json(entry.get("Output"))
                for outcome, n in output.get("counts", {}).items():
                    images[outcome] = images.get(outcome, 0) + n
                for outcome, keys in named.items():
                    keys.extend(output.get(outcome, [])[: MAX_LISTED_KEYS - len(keys)])
            elif status == "FAILED":
                batches["failed"] += 1
                failed_objects += len(_as_json(entry.get("Input")).get("Items", []))
    summary = {"bucket": bucket, "prefix": prefix, "map_run_arn": manifest.get("MapRunArn"),
               "listed": sum(images.values()) + failed_objects, "images": images,
               "batches": batches, "objects_in_failed_batches": failed_objects, **named,
               "written_at": datetime.now(UTC).isoformat(timespec="seconds")}
    key = posixpath.join(posixpath.dirname(manifest_key), SUMMARY_NAME)
    store.write_json(bucket, key, summary)
    logger.info("bulk run summarized", extra={"summary": key, "images": images, "batches": batches})
    return {**summary, "summary_key": key}
