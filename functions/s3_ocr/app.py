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

from ocr_engine.pipeline import get_engine

from functions.common.observability import S3_FUNCTION, logger, metrics, tracer
from functions.common.s3_objects import objects_of, process_records
from functions.common.s3_store import S3Store

__all__ = ["RecordFailed", "handler", "objects_of"]

FUNCTION = S3_FUNCTION
metrics.set_default_dimensions(Function=FUNCTION)  # ColdStart's is function_name (template.yaml)

# The cold start: one client and one engine per container (a missing model fails the init loudly).
store = S3Store.create()
engine = get_engine()


class RecordFailed(Exception):
    """At least one record could not be processed; Lambda retries the invocation."""


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
