"""Errors -> HTTP answers, in one place: the status of each engine error, the one error body
(the engine's error shape, ``ocr_engine.schemas.ErrorResult``, plus ``request_id``), and the
app's exception handlers, so that every error, FastAPI's own and a bug's included, is
answered in that body and never as plain text."""

from __future__ import annotations

import uuid

import pydantic_core
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from ocr_engine.errors import (
    DeadlineExceeded,
    ImageTooLarge,
    InvalidImage,
    InvalidOption,
    ModelUnavailable,
    OcrError,
    UnsupportedFormat,
)
from starlette.exceptions import HTTPException as StarletteHTTPException

from functions.api.models import ApiError
from functions.common.observability import INTERNAL_ERROR, logger, record_error, record_internal_error

# Most specific first: UnsupportedFormat is an InvalidImage.
STATUS_BY_ERROR: tuple[tuple[type[OcrError], int], ...] = (
    (UnsupportedFormat, 415),
    (InvalidImage, 400),
    (ImageTooLarge, 413),
    (InvalidOption, 422),
    (ModelUnavailable, 503),
    # The service's time limit, not a fault in the request: the same request may pass on a
    # less busy server, and API Gateway would otherwise answer its own 504 at 29 s.
    (DeadlineExceeded, 503),
)

ERROR_RESPONSES = {
    400: {"description": "Not a decodable image, or a malformed request"},
    413: {"description": "Image too large (bytes, pixels or side)"},
    415: {"description": "Not a supported image type"},
    422: {"description": "An option is out of range or malformed"},
    500: {"description": "An unexpected error (a bug: logged with its traceback)"},
    503: {"description": "The model is not loaded, or the read passed its deadline (OCR_REQUEST_DEADLINE_S)"},
}
# For the routes' ``responses=``: each status with the error body's schema.
DOCUMENTED_ERRORS = {code: {"model": ApiError, **desc} for code, desc in ERROR_RESPONSES.items()}
_HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}
MAX_ERRORS_LISTED = 20  # of a 422's validation errors, in its detail


def status_for(error: OcrError) -> int:
    for cls, status in STATUS_BY_ERROR:
        if isinstance(error, cls):
            return status
    return 400


def request_id(request: Request) -> str:
    """API Gateway's request id (through Mangum), or a fresh one on the local server."""
    event = request.scope.get("aws.event") or {}
    ctx = event.get("requestContext") or {}
    return ctx.get("requestId") or str(uuid.uuid4())


def error_body(code: str, detail: str, request_id: str, filename: str | None = None) -> dict:
    """The API's error body: ``{"schema_version", "filename"?, "error": {"code", "detail"}, "request_id"}``."""
    return ApiError.of(code, detail, filename=filename, request_id=request_id).to_dict()


def error_response(request: Request, code: str, detail: str, status: int, headers: dict | None = None) -> JSONResponse:
    """The error body for ``request``; its filename when a route has named the image (``request.state.filename``)."""
    body = error_body(code, detail, request_id(request), getattr(request.state, "filename", None))
    return JSONResponse(body, status_code=status, headers=headers)


async def _ocr_error(request: Request, exc: OcrError) -> JSONResponse:
    record_error()
    status = status_for(exc)
    # A 5xx (the model not loaded, a read past its deadline) is the service's trouble: a warning.
    log = logger.warning if status >= 500 else logger.info
    log("request refused", extra={"code": exc.code, "detail": exc.message})
    return error_response(request, exc.code, exc.message, status)


# pydantic's messages for a wrong JSON type, as it words them reading JSON text (a JSON batch is
# parsed first: its Python-side messages name classes, "a valid dictionary or instance of BatchImage").
_JSON_TYPE_MESSAGES = {"model_type": "Input should be an object", "model_attributes_type": "Input should be an object",
                       "dict_type": "Input should be an object",
                       "list_type": "Input should be a valid array"}


def _validation_message(error: dict) -> str:
    """pydantic's message, but in words for a text field sent where a file was expected,
    for a JSON body sent as another type, and for a JSON value of the wrong type (its own
    messages name Python classes)."""
    if "Expected UploadFile" in error["msg"]:
        return ("a text field, not a file: send the image as a file part "
                "(with a filename, as curl -F file=@word.png does)")
    if tuple(error["loc"]) == ("body",) and error.get("type") == "missing":  # FastAPI's word for no body
        return EMPTY_BODY
    if tuple(error["loc"]) == ("body",) and isinstance(error.get("input"), bytes):
        # FastAPI reads a body as JSON only when its Content-Type says so (curl -d sends a form's).
        return "the body was not read as JSON: send it with Content-Type: application/json"
    return _JSON_TYPE_MESSAGES.get(error.get("type", ""), error["msg"])


EMPTY_BODY = "empty: send a JSON object, with Content-Type: application/json"


def json_body_error(exc: ValueError, body: bytes | str) -> dict:
    """A JSON body that does not parse, as one validation error, worded alike on every route:
    ``body: Invalid JSON: <what> at line L column C`` (pydantic_core's words), or for a body
    of nothing (or only blanks) ``body: empty: …``, not an end of file at column 0."""
    if not body.strip():
        return {"loc": ("body",), "type": "missing", "msg": EMPTY_BODY}
    return {"loc": ("body",), "type": "json_invalid", "msg": f"Invalid JSON: {exc}"}


def _is_json_decode_error(error: dict) -> bool:
    """FastAPI's own error for a JSON body it could not parse: ``body.<position>``, as if the
    position were a field."""
    loc = error["loc"]
    return error.get("type") == "json_invalid" and len(loc) == 2 and loc[0] == "body" and isinstance(loc[1], int)


def _reworded_json_error(error: dict, body: object) -> dict:
    """FastAPI's JSON decode error in ``json_body_error``'s words (the body parsed again, by
    pydantic_core, as the batch route parses it)."""
    text = body if isinstance(body, (str, bytes)) else ""
    try:
        pydantic_core.from_json(text)
    except ValueError as exc:
        return json_body_error(exc, text)
    return {**error, "loc": ("body",)}  # what Python's json refused and pydantic reads: FastAPI's words


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [_reworded_json_error(e, exc.body) if _is_json_decode_error(e) else e for e in exc.errors()]
    # A body of many bad items has as many errors: the first few say what is wrong.
    listed = [f"{'.'.join(str(p) for p in e['loc'])}: {_validation_message(e)}" for e in errors[:MAX_ERRORS_LISTED]]
    if len(errors) > MAX_ERRORS_LISTED:
        listed.append(f"and {len(errors) - MAX_ERRORS_LISTED:,} more")
    return error_response(request, "invalid_request", "; ".join(listed), 422)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    """A bug, not the caller's fault: logged with its traceback, answered in the error shape."""
    logger.exception("unexpected error", extra={"path": request.url.path})
    record_internal_error()  # Lambda's error count never sees it: Mangum answers the 500
    return error_response(request, *INTERNAL_ERROR, 500, _cors_headers(request))


def _cors_headers(request: Request) -> dict[str, str]:
    """The CORS headers of an allowed origin's request. Starlette answers a bug's 500 from
    outside the CORS middleware: without them a browser shows a CORS failure, not the error."""
    allowed = getattr(request.app.state, "cors_origins", ())
    origin = request.headers.get("origin")
    if not origin or not allowed:
        return {}
    if "*" in allowed:
        return {"access-control-allow-origin": "*"}
    return {"access-control-allow-origin": origin, "vary": "Origin"} if origin in allowed else {}


# FastAPI's words when Python's json raises other than a JSONDecodeError: nesting past the
# recursion limit, an integer of over 4,300 digits, bytes that are not UTF-8.
_FASTAPI_BODY_PARSE_ERROR = "There was an error parsing the body"


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    """FastAPI's own errors (unparseable body, 404, 405) in the documented error shape; a
    JSON body it could not parse as a 422 in ``json_body_error``'s words, as every route
    answers one."""
    if exc.status_code == 400 and exc.detail == _FASTAPI_BODY_PARSE_ERROR:
        body = await request.body()
        try:
            pydantic_core.from_json(body)
        except ValueError as parse_error:
            error = json_body_error(parse_error, body)
            return error_response(request, "invalid_request", f"body: {error['msg']}", 422)
    return error_response(request, _HTTP_CODES.get(exc.status_code, "http_error"), str(exc.detail), exc.status_code,
                          getattr(exc, "headers", None))


def install(app: FastAPI) -> None:
    """Answer every error of ``app`` in the error body."""
    app.add_exception_handler(OcrError, _ocr_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
