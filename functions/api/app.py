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
  plain-text one; middleware.py: the container's request counters, and HEAD as GET.
"""

from __future__ import annotations

import json

from fastapi import FastAPI
from mangum import Mangum
from ocr_engine import __version__

from functions.api import errors, middleware
from functions.api.routes import ocr, pages, service
from functions.api.runtime import Runtime
from functions.api.settings import get_settings
from functions.common.observability import API_FUNCTION, event_outline, logger, metrics, tracer

FUNCTION = API_FUNCTION
metrics.set_default_dimensions(Function=FUNCTION)  # ColdStart's is function_name (template.yaml)

settings = get_settings()
runtime = Runtime(settings.read_concurrency)  # the cold start: the model loads here

app = FastAPI(
    title="Serverless OCR",
    version=__version__,
    description="Reads words in photos: word detection, a CRNN recognizer, CTC beam search.",
    # /docs and /redoc are served by routes/pages.py with their scripts from this server, not a CDN.
    docs_url=None,
    redoc_url=None,
    # Relative to where openapi.json is served: "Try it out" stays under an API Gateway stage
    # (/prod/docs calls /prod/api/...), which Mangum strips without telling the app.
    servers=[{"url": ".", "description": "this API, where these docs are served"}],
    # /api/health/ is a 404 in the error body, not a 307 to a Location built from the Host
    # header (a stage's path left out of it behind API Gateway's REST API).
    redirect_slashes=False,
)
app.state.runtime = runtime
app.state.cors_origins = settings.cors_origins  # errors.py: a bug's 500 carries them too
if settings.cors_origins:
    app.add_middleware(middleware.JsonCORSMiddleware, allow_origins=list(settings.cors_origins),
                       allow_methods=["GET", "HEAD", "POST"], allow_headers=["*"])
errors.install(app)
middleware.install(app)
for router in (ocr.router, service.router, pages.router):
    app.include_router(router)

# HeadAsGet inside the app serves uvicorn; around it too for Lambda, where nothing else drops
# a HEAD's body and an unexpected error's 500 is sent from outside the app's middleware.
_asgi = Mangum(middleware.HeadAsGet(app), lifespan="off")


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
@tracer.capture_lambda_handler(capture_response=False)  # see reading.py: no answers in traces
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict, context) -> dict:
    """Lambda entry point (API Gateway HTTP API v2 or REST v1 events)."""
    # Powertools metrics share state across instances: name the function per invocation.
    metrics.set_default_dimensions(Function=FUNCTION)
    fault = _http_event_fault(event, context)
    if fault:
        return _not_an_http_event(event, context, fault)
    return _asgi(event, context)


# What Mangum's parsing raises on a malformed event: KeyError, TypeError, AttributeError,
# binascii.Error and UnicodeEncodeError (ValueErrors), RuntimeError for an unknown kind.
_PARSE_ERRORS = (RuntimeError, LookupError, TypeError, AttributeError, ValueError)


def _http_event_fault(event: object, context) -> str | None:
    """Why Mangum cannot serve ``event`` (None: it can). It must know the event's kind (not
    a direct invoke or a warm-up ping) and read a request out of it; a hand-made event
    (``sam local invoke -e``, a test console) can have any field null or mistyped."""
    try:
        request = _asgi.infer(event, context)
        scope, body = request.scope, request.body  # the same parsing Mangum does before the app runs
    except _PARSE_ERRORS as exc:
        return f"{type(exc).__name__}: {exc}"[:200]
    if not isinstance(scope.get("method"), str):
        return "the method is not a string"
    if not isinstance(event.get("isBase64Encoded", False), bool):
        return "isBase64Encoded is not true or false"
    if event.get("isBase64Encoded") and not _decoded_whole(event.get("body") or "", body):
        return "isBase64Encoded is true but the body is not base64"
    if _request_id(event) is None:
        return "requestContext.requestId is not a string of Unicode text"
    return None


def _request_id(event: dict) -> str | None:
    """API Gateway's request id (the logs' correlation id and the error bodies' request_id):
    '' when the event has none, None when it is not a string or holds what UTF-8 cannot write
    (a lone surrogate: every answer names the id)."""
    request_context = event.get("requestContext")
    request_id = request_context.get("requestId", "") if isinstance(request_context, dict) else ""
    return request_id if isinstance(request_id, str) and _encodes(request_id) else None


def _decoded_whole(text: str, decoded: bytes) -> bool:
    """Whether Mangum's decoding of a base64 body used every character of it: it skips what
    is not base64, and its bytes are then fewer than 3 for each 4 characters, less the padding.
    Checked on the bytes Mangum decoded, not by decoding again (19 ms for a 4 MB upload)."""
    padding = len(text) - len(text.rstrip("="))
    return len(text) % 4 == 0 and len(decoded) == len(text) // 4 * 3 - padding


def _encodes(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _not_an_http_event(event: object, context, fault: str) -> dict:
    """A 400 in the API's error body, not a Lambda error: the function is API Gateway's."""
    logger.warning("not an API Gateway event", extra={"event_keys": event_outline(event), "fault": fault})
    request_id = _request_id(event) if isinstance(event, dict) else None
    body = errors.error_body("bad_request", f"not a well-formed API Gateway HTTP event ({fault}; this function "
                             "serves the HTTP API)", request_id or getattr(context, "aws_request_id", "local"))
    return {"statusCode": 400, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}
