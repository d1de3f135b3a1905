"""S3 ObjectCreated -> ``<key>.ocr.json`` next to the source image: the handler.

Thin, as the handler cookbook's are: parse the event, hand its records to the per-object
logic (functions/common/s3_objects.py, shared with the bulk handler), answer. S3 is reached
through one ``S3Store`` (functions/common/s3_store.py) and images read by one engine, both
made once per container, at its cold start.

Each record stands on its own: a refused image gets an error result, an object that is gone
or whose key cannot take a result is dropped and counted (``RecordsDropped``), and any other
S3 fault (throttling, 5xx, the network, access denied) is taken as transient: the other
records are still processed, then the invocation fails so Lambda's retries and the failure
destination see it. Retries are safe: results are overwritten.
"""

from __future__ import annotations

import time
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes import S3Event
from ocr_engine.pipeline import get_engine

from functions.common.observability import logger, metrics, tracer
from functions.common.s3_objects import S3Object, process_records
from functions.common.s3_store import S3Store

__all__ = ["RecordFailed", "handler", "objects_of"]

FUNCTION = "s3_ocr"
metrics.set_default_dimensions(Function=FUNCTION)  # the cold-start metric's dimension

# The cold start: one client and one engine per container (a missing model fails the init loudly).
store = S3Store.create()
engine = get_engine()


class RecordFailed(Exception):
    """At least one record could not be processed; Lambda retries the invocation."""


def objects_of(event: dict) -> list[S3Object]:
    """The event's objects. Keys arrive URL-encoded ('+' for spaces, %XX for unicode) in every record."""
    return [S3Object(r.s3.bucket.name, unquote_plus(r.s3.get_object.key), r.s3.get_object.version_id,
                     r.s3.get_object.etag) for r in S3Event(event).records]


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict, context) -> dict:
    # Powertools metrics share state across instances: name the function per invocation.
    metrics.set_default_dimensions(Function=FUNCTION)
    started = time.perf_counter()
    out = process_records(store, engine, objects_of(event), getattr(context, "aws_request_id", "local"))
    if out.failures:
        # Fail the invocation after every record had its turn: Lambda retries, then the
        # failure destination receives the event. Retries are safe: results are overwritten.
        raise RecordFailed(f"{len(out.failures)} record(s) failed: " + "; ".join(out.failures))
    return {"outcomes": out.outcomes, "ms": round((time.perf_counter() - started) * 1000, 1)}
