"""Step Functions Distributed Map -> a batch of objects already in the bucket, each read
exactly as an S3 drop reads it (functions/common/bulk.py, over the S3 handler's own
per-object logic), and, after the map, the run's summary: the handler.

Events (infra/bulk_ocr.asl.json builds both):

* a batch from the ItemBatcher: ``{"BatchInput": {"bucket": B}, "Items": [...]}`` ->
  ``{"counts": {outcome: n}, "refused": [...], "dropped": [...], "error": [...]}``; raises ``BatchFailed``
  after every object had its turn when some met a transient S3 fault (the state machine
  retries the batch; what this run already read or refused counts as such again, not re-read);
* the summary: ``{"summarize": {"Bucket": B, "Key": ".../manifest.json"}, "prefix": P}``
  -> writes ``summary.json`` beside the ResultWriter's manifest and returns it.
"""

from __future__ import annotations

from ocr_engine.pipeline import get_engine

from functions.common.bulk import BatchFailed, process_batch, summarize, summary_request
from functions.common.observability import BULK_FUNCTION, logger, metrics, tracer
from functions.common.s3_store import S3Store

__all__ = ["BatchFailed", "handler"]

FUNCTION = BULK_FUNCTION
metrics.set_default_dimensions(Function=FUNCTION)  # ColdStart's is function_name (template.yaml)

# The cold start: one client and one engine per container (a missing model fails the init loudly).
store = S3Store.create()
engine = get_engine()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict, context) -> dict:
    metrics.set_default_dimensions(Function=FUNCTION)
    if isinstance(event, dict) and "summarize" in event:
        return summarize(store, *summary_request(event))
    return process_batch(store, engine, event, getattr(context, "aws_request_id", "local"))
