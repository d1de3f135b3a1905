"""The HTTP API: the FastAPI app, served by Mangum in Lambda (``handler``) and by uvicorn
locally (``app``). This module only puts the parts together, each with its one job:

* settings.py: the function's own settings (CORS, read concurrency, stats), typed;
* runtime.py: the engine, loaded here at import (Lambda's init phase, once per
  container), and the pool that reads images off the event loop;
* models.py: the request models, and the answers: the engine's result and error shapes
  (ocr_engine/schemas.py) plus ``request_id`` and ``annotated_b64``;
* routes/: reading images (ocr.py, with reading.py doing the work), health and stats
  (service.py), the page and the API docs (pages.py);
* errors.py: engine errors -> HTTP statuses, and every error in one JSON body, never a
  plain-text one; middleware.py: the container's request counters.
"""

from __future__ import annotations

import json

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from mangum import Mangum
from ocr_engine import __version__

from functions.api import errors, middleware
from functions.api.routes import ocr, pages, service
from functions.api.runtime import Runtime
from functions.api.settings import get_settings
from functions.common.observability import API_FUNCTION, event_outline, logger, metrics, tracer

FUNCTION = API_FUNCTION
metrics.set_default_dimensions(Function=FUNCTION)  # the cold-start metric's dimension

settings = get_settings()
runtime = Runtime(settings.read_concurrency)  # the cold start: the model loads here

app = FastAPI(
    title="Serverless OCR",
    version=__version__,
    description="Reads words in photos: word detection, a CRNN recognizer, CTC beam search.",
    # /docs and /redoc are served by routes/pages.py with their scripts from this server, not a CDN.
    docs_url=None,
    redoc_url=None,
)
app.state.runtime = runtime
if settings.cors_origins:
    app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET", "POST"],
                       allow_headers=["*"])
errors.install(app)
middleware.install(app)
for router in (ocr.router, service.router, pages.router):
    app.include_router(router)

_asgi = Mangum(app, lifespan="off")


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict, context) -> dict:
    """Lambda entry point (API Gateway HTTP API v2 or REST v1 events)."""
    # Powertools metrics share state across instances: name the function per invocation.
    metrics.set_default_dimensions(Function=FUNCTION)
    if not _is_http_event(event, context):
        return _not_an_http_event(event, context)
    return _asgi(event, context)


def _is_http_event(event: object, context) -> bool:
    """Whether Mangum can serve ``event`` (it raises for a direct invoke, a warm-up ping...)."""
    try:
        _asgi.infer(event, context)
    except (RuntimeError, TypeError, AttributeError):
        return False
    return True


def _not_an_http_event(event: object, context) -> dict:
    """A 400 in the API's error body, not a Lambda error: the function is API Gateway's."""
    logger.warning("not an API Gateway event", extra={"event_keys": event_outline(event)})
    body = errors.error_body("bad_request", "not an API Gateway HTTP event (this function serves the HTTP API)",
                             getattr(context, "aws_request_id", "local"))
    return {"statusCode": 400, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}
