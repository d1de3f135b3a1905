"""The HTTP API: FastAPI routes, served by Mangum in Lambda and by uvicorn locally.

Routes stay thin: parse the request, call the engine, shape the response. Engine errors
become HTTP statuses in one place (``errors.py``); anything unexpected is a JSON 500, never
a plain-text one.

The OCR routes read images off the event loop, in one process-wide pool of
``OCR_API_CONCURRENCY`` (default 2) worker threads: the server keeps answering
(``/api/health``, the page) while images are read, and a burst of uploads queues instead of
decoding all at once (each read may take a few hundred MB at the pixel limits). In Lambda
a container serves one request at a time, so the bound only matters for the local server.
A batch (``POST /api/ocr/batch``) is read in one worker thread, its images' word crops in
shared recognizer batches (``OcrEngine.read_many``).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import importlib.util
import os
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Annotated, Any, TypeVar

from fastapi import FastAPI, File, Form, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from mangum import Mangum
from ocr_engine import __version__
from ocr_engine.annotate import render
from ocr_engine.errors import ImageTooLarge, InvalidImage, ModelUnavailable, OcrError
from ocr_engine.pipeline import OcrEngine, get_engine
from ocr_engine.schemas import ReadOptions
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.datastructures import UploadFile as StarletteUploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from functions.api import stats
from functions.api.errors import ERROR_RESPONSES, error_body, status_for
from functions.common.counters import COUNTERS
from functions.common.observability import IN_LAMBDA, logger, metrics, record_error, record_reading, tracer
from functions.common.payload import result_payload

STATIC = Path(__file__).resolve().parent / "static"
FUNCTION = "api"
metrics.set_default_dimensions(Function=FUNCTION)

# Load the model at import: Lambda's init phase (cold start), once per container.
_load_started = time.perf_counter()
try:
    _ENGINE: OcrEngine | None = get_engine()
    _LOAD_ERROR: str | None = None
except OcrError as exc:  # a deployment fault: log loudly, answer 503 until fixed
    _ENGINE, _LOAD_ERROR = None, str(exc)
    logger.error("model failed to load at cold start", extra={"error": str(exc)})
_LOAD_MS = (time.perf_counter() - _load_started) * 1000
_state = {"cold": True}
READ_CONCURRENCY = max(1, int(os.environ.get("OCR_API_CONCURRENCY", "2")))

app = FastAPI(
    title="Serverless OCR",
    version=__version__,
    description="Reads words in photos: word detection, a CRNN recognizer, CTC beam search.",
    # /docs and /redoc are served below with their scripts from this server, not a CDN.
    docs_url=None,
    redoc_url=None,
)
_origins = [o for o in os.environ.get("OCR_CORS_ORIGINS", "").split(",") if o]
if _origins:
    app.add_middleware(CORSMiddleware, allow_origins=_origins, allow_methods=["GET", "POST"], allow_headers=["*"])


# -- models ------------------------------------------------------------------------------
class Region(BaseModel):
    text: str
    bbox: list[int] = Field(description="x1, y1, x2, y2 in pixels")
    confidence: float


class ModelInfoOut(BaseModel):
    name: str
    version: str
    dataset: str
    metrics: dict


class ImageSize(BaseModel):
    width: int
    height: int


class OcrResponse(BaseModel):
    request_id: str
    filename: str | None
    image_size: ImageSize
    regions: list[Region]
    full_text: str
    region_count: int
    inference_ms: float
    timings_ms: dict[str, float]
    model_info: ModelInfoOut
    annotated_b64: str | None = None
    annotated_mime: str | None = None
    annotation_note: str | None = None


class ErrorResponse(BaseModel):
    error: str
    detail: str
    request_id: str


class ReadOptionsIn(BaseModel):
    """The reading options every OCR route takes. A multipart request's come from its form
    fields or the query, as strings converted as FastAPI converts them; a JSON body's are
    strict (its subclasses)."""

    detect: bool = True
    beam_width: int | None = Field(None, ge=1, le=50)
    max_regions: int | None = Field(None, ge=1, le=64)
    min_confidence: float | None = Field(None, ge=0, le=1)
    annotate: bool = False
    lexicon: list[str] | None = None


class BatchImage(BaseModel):
    model_config = ConfigDict(strict=True)

    image: str = Field(description="base64 image bytes, or a data URL (data:image/png;base64,...)")
    filename: str | None = Field(None, max_length=1024)


class Base64Request(ReadOptionsIn, BatchImage):
    # Strict: JSON types are taken as they are (``beam_width: true`` or ``detect: "yes"``
    # is a 422, not coerced); a number is still accepted for ``min_confidence``.
    model_config = ConfigDict(strict=True)


class BatchRequest(ReadOptionsIn):
    """Several images and the options for all of them; strict, as ``Base64Request``."""

    model_config = ConfigDict(strict=True)

    images: list[BatchImage] = Field(min_length=1, description="at most OCR_MAX_BATCH_IMAGES (16) images, "
                                     "OCR_MAX_BATCH_BYTES (3,000,000) bytes in all")


class BatchItemError(ErrorResponse):
    status: int = Field(description="the HTTP status this image alone would have been answered with")


class BatchResponse(BaseModel):
    results: list[OcrResponse | BatchItemError] = Field(
        description="per image, in the order sent: its reading (as /api/ocr answers) or its error body")


_responses = {code: {"model": ErrorResponse, **desc} for code, desc in ERROR_RESPONSES.items()}


# -- errors ------------------------------------------------------------------------------
def _request_id(request: Request) -> str:
    event = request.scope.get("aws.event") or {}
    ctx = event.get("requestContext") or {}
    return ctx.get("requestId") or str(uuid.uuid4())


@app.exception_handler(OcrError)
async def _ocr_error(request: Request, exc: OcrError) -> JSONResponse:
    record_error()
    status = status_for(exc)
    # A 5xx (the model not loaded, a read past its deadline) is the service's trouble: a warning.
    log = logger.warning if status >= 500 else logger.info
    log("request refused", extra={"code": exc.code, "detail": exc.message})
    return JSONResponse(error_body(exc.code, exc.message, _request_id(request)), status_code=status)


@app.exception_handler(RequestValidationError)
async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    detail = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
    return JSONResponse(error_body("invalid_request", detail, _request_id(request)), status_code=422)


@app.exception_handler(Exception)
async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    """A bug, not the caller's fault: logged with its traceback, answered in the error shape."""
    logger.exception("unexpected error", extra={"path": request.url.path})
    return JSONResponse(error_body("internal_error", "an unexpected error occurred; it has been logged",
                                   _request_id(request)), status_code=500)


@app.exception_handler(StarletteHTTPException)
async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    """FastAPI's own errors (unparseable body, 404, 405) in the documented error shape."""
    code = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return JSONResponse(error_body(code, str(exc.detail), _request_id(request)), status_code=exc.status_code,
                        headers=getattr(exc, "headers", None))


OCR_PATHS = frozenset({"/api/ocr", "/api/ocr/base64", "/api/ocr/batch"})


@app.middleware("http")
async def _count_ocr_requests(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """This container's request count and latency (counters.py), for every OCR request
    whatever its answer; an exception that escapes is a 500."""
    if request.method != "POST" or request.scope["path"] not in OCR_PATHS:
        return await call_next(request)
    started, status = time.perf_counter(), 500
    try:
        response = await call_next(request)
        status = response.status_code
        return response
    finally:
        COUNTERS.record_request(status, (time.perf_counter() - started) * 1000)


@app.middleware("http")
async def _flush_metrics_outside_lambda(request: Request, call_next):
    """In Lambda the handler's decorator flushes; the local server flushes per request."""
    response = await call_next(request)
    if not IN_LAMBDA and metrics.metric_set:
        metrics.flush_metrics()
    return response


# -- OCR ---------------------------------------------------------------------------------
def _engine() -> OcrEngine:
    if _ENGINE is None:
        raise ModelUnavailable(f"the model is not loaded: {_LOAD_ERROR}")
    return _ENGINE


_T = TypeVar("_T")
# One pool for the process: its READ_CONCURRENCY threads live as long as the container.
# (anyio's per-event-loop workers cost ~30 ms a request under Mangum, which runs each
# invocation on the loop afresh: 55 against 25 ms for one word, measured 2026-11-26.)
_READERS = ThreadPoolExecutor(max_workers=READ_CONCURRENCY, thread_name_prefix="ocr-read")


async def _off_loop(fn: Callable[..., _T], *args) -> _T:
    """Run CPU work in a worker thread, at most READ_CONCURRENCY at once; the others wait
    in the pool's queue without holding a thread, and the event loop keeps answering."""
    return await asyncio.get_running_loop().run_in_executor(_READERS, functools.partial(fn, *args))


@tracer.capture_method
def _read(data: bytes, filename: str | None, options: ReadOptions, want_annotated: bool, request_id: str) -> dict:
    image, result = _engine().read_with_image(data, options)
    annotation = render(image.rgb, result.words) if want_annotated else None
    record_reading(result)
    _state["cold"] = False
    return result_payload(result, request_id, filename, annotation)


def _options(detect, beam_width, max_regions, min_confidence, lexicon) -> ReadOptions:
    words = None
    if lexicon:
        # Accept repeated fields and comma/space separated lists alike.
        words = tuple(w for item in lexicon for w in re.split(r"[,\s]+", item) if w)
    return ReadOptions(detect=detect, beam_width=beam_width, max_regions=max_regions,
                       min_confidence=min_confidence, lexicon=words)


def _first(*values):
    return next((v for v in values if v is not None), None)


@app.post("/api/ocr", response_model=OcrResponse, response_model_exclude_none=True, responses=_responses,
          summary="Read an uploaded image (multipart/form-data)")
async def ocr_upload(
    request: Request,
    file: Annotated[UploadFile, File(description="PNG, JPEG, BMP, TIFF, WebP or GIF")],
    detect: Annotated[bool | None, Query()] = None,
    beam_width: Annotated[int | None, Query(ge=1, le=50)] = None,
    max_regions: Annotated[int | None, Query(ge=1, le=64)] = None,
    min_confidence: Annotated[float | None, Query(ge=0, le=1)] = None,
    annotate_q: Annotated[bool | None, Query(alias="annotate")] = None,
    lexicon: Annotated[list[str] | None, Query()] = None,
    detect_f: Annotated[bool | None, Form(alias="detect")] = None,
    beam_width_f: Annotated[int | None, Form(alias="beam_width")] = None,
    max_regions_f: Annotated[int | None, Form(alias="max_regions")] = None,
    min_confidence_f: Annotated[float | None, Form(alias="min_confidence")] = None,
    annotate_f: Annotated[bool | None, Form(alias="annotate")] = None,
    lexicon_f: Annotated[list[str] | None, Form(alias="lexicon")] = None,
) -> dict:
    parts = (await request.form()).getlist("file")  # the form FastAPI has parsed already
    if len(parts) > 1:
        raise RequestValidationError([{"loc": ("body", "file"), "type": "too_many_files",
                                       "msg": f"send one image per request, not {len(parts)} file parts"}])
    limit = _engine().settings.max_image_bytes
    data = await file.read(limit + 1)  # never hold more than the limit + 1 byte
    options = _options(_first(detect_f, detect, True), _first(beam_width_f, beam_width),
                       _first(max_regions_f, max_regions), _first(min_confidence_f, min_confidence),
                       _first(lexicon_f, lexicon))
    return await _off_loop(_read, data, file.filename, options, bool(_first(annotate_f, annotate_q, False)),
                           _request_id(request))


_DATA_URL = re.compile(r"^data:(?P<mime>[\w/+.-]+)?(?:;[\w=-]+)*;base64,", re.IGNORECASE)


def _b64_bytes(text: str) -> bytes:
    match = _DATA_URL.match(text)
    if match:
        mime = (match.group("mime") or "").lower()
        if mime and not mime.startswith("image/"):
            raise InvalidImage(f"the data URL says {mime}, not an image type")
        text = text[match.end():]
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidImage(f"the image is not valid base64: {exc}") from exc


@app.post("/api/ocr/base64", response_model=OcrResponse, response_model_exclude_none=True, responses=_responses,
          summary="Read a base64 image or data URL (JSON body)")
async def ocr_base64(request: Request, body: Base64Request) -> dict:
    limit = _engine().settings.max_image_bytes
    if len(body.image) > limit * 4 // 3 + 1024:  # base64 is 4/3 the bytes
        raise ImageTooLarge(f"the base64 image is over the {limit:,}-byte limit")
    options = _options(body.detect, body.beam_width, body.max_regions, body.min_confidence, body.lexicon)
    return await _off_loop(_read_base64, body.image, body.filename, options, body.annotate, _request_id(request))


def _read_base64(text: str, filename: str | None, options: ReadOptions, want_annotated: bool,
                 request_id: str) -> dict:
    return _read(_b64_bytes(text), filename, options, want_annotated, request_id)


def _inline_schema(model: type[BaseModel]) -> dict:
    """A model's JSON schema with its nested models written in place (no ``$defs``), to
    document a request body that FastAPI does not parse itself."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return inline(defs[node["$ref"].rsplit("/", 1)[-1]])
            return {k: inline(v) for k, v in node.items()}
        return [inline(v) for v in node] if isinstance(node, list) else node

    return inline(schema)


_BATCH_UPLOAD_SCHEMA = {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "array", "minItems": 1, "items": {"type": "string", "format": "binary"},
                            "description": "one part per image: PNG, JPEG, BMP, TIFF, WebP or GIF"},
                   **_inline_schema(ReadOptionsIn)["properties"]},
}
_BATCH_BODY = {"requestBody": {"required": True, "content": {
    "multipart/form-data": {"schema": _BATCH_UPLOAD_SCHEMA},
    "application/json": {"schema": _inline_schema(BatchRequest)},
}}}


def _invalid_request(exc: ValidationError) -> RequestValidationError:
    return RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)])


@app.post("/api/ocr/batch", response_model=BatchResponse, response_model_exclude_none=True, responses=_responses,
          openapi_extra=_BATCH_BODY, summary="Read several images in one request (multipart or JSON body)")
async def ocr_batch(request: Request) -> dict:
    """Multipart with repeated ``file`` parts (options as form fields or in the query, as
    ``/api/ocr`` takes them), or a JSON body ``{"images": [{"image", "filename"}, ...],
    ...options}`` (as ``/api/ocr/base64``'s). ``results`` holds, in the order sent, each
    image's reading or its own error body (with the ``status`` it alone would get); a bad
    image does not fail the others. At most ``OCR_MAX_BATCH_IMAGES`` (16) images (422
    beyond) of ``OCR_MAX_BATCH_BYTES`` (3,000,000) bytes in all (413 beyond); an empty
    batch is a 422. One ``OCR_REQUEST_DEADLINE_S`` covers the batch: an image it stops is
    that image's ``deadline_exceeded``."""
    engine = _engine()
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media in ("multipart/form-data", "application/x-www-form-urlencoded"):
        items, options, annotate = await _batch_from_form(request, engine)
    elif media in ("", "application/json") or media.endswith("+json"):
        try:
            body = BatchRequest.model_validate_json(await request.body())
        except ValidationError as exc:
            raise _invalid_request(exc) from None
        # base64 is 4/3 the bytes: refuse what is surely over before decoding (the engine
        # checks the decoded bytes exactly).
        chars = sum(max(0, len(i.image) - 1024) for i in body.images)
        engine.check_batch(len(body.images), chars * 3 // 4)
        items = [(i.image, i.filename) for i in body.images]
        options = _options(body.detect, body.beam_width, body.max_regions, body.min_confidence, body.lexicon)
        annotate = body.annotate
    else:
        raise RequestValidationError([{"loc": ("header", "content-type"), "type": "content_type",
                                       "msg": "send multipart/form-data with `file` parts, or a JSON body"}])
    return await _off_loop(_read_batch, items, options, annotate, _request_id(request))


async def _batch_from_form(request: Request, engine: OcrEngine
                           ) -> tuple[list[tuple[bytes | str, str | None]], ReadOptions, bool]:
    """A multipart batch -> (image bytes and filenames, options, annotate); the bytes are
    read no further than the batch's limit."""
    form = await request.form()
    parts = form.getlist("file")
    if not parts:
        raise RequestValidationError([{"loc": ("body", "file"), "type": "missing",
                                       "msg": "send at least one image as a `file` part"}])
    if not all(isinstance(p, StarletteUploadFile) for p in parts):
        raise RequestValidationError([{"loc": ("body", "file"), "type": "not_a_file",
                                       "msg": "every `file` part must be an uploaded file"}])
    engine.check_batch(len(parts), 0)
    values: dict[str, Any] = {}
    for name in ReadOptionsIn.model_fields:
        given = [v for v in form.getlist(name) if v != ""] or request.query_params.getlist(name)
        if given:
            values[name] = given if name == "lexicon" else given[-1]
    try:
        opts = ReadOptionsIn.model_validate(values)
    except ValidationError as exc:
        raise _invalid_request(exc) from None
    limit, total, items = engine.settings.max_batch_bytes, 0, []
    for part in parts:
        data = await part.read(limit - total + 1)  # never hold more than the batch's limit + 1 byte
        total += len(data)
        engine.check_batch(len(parts), total)
        items.append((data, part.filename))
    options = _options(opts.detect, opts.beam_width, opts.max_regions, opts.min_confidence, opts.lexicon)
    return items, options, opts.annotate


def _batch_item(raw: bytes | str) -> bytes | OcrError:
    """An image of a batch as bytes (a JSON item decoded from base64), or why it is not one."""
    if isinstance(raw, bytes):
        return raw
    try:
        return _b64_bytes(raw)
    except OcrError as exc:
        return exc


def _batch_error(exc: OcrError, index: int, request_id: str) -> dict:
    record_error()
    logger.info("batch image refused", extra={"index": index, "code": exc.code, "detail": exc.message})
    return {**error_body(exc.code, exc.message, request_id), "status": status_for(exc)}


@tracer.capture_method
def _read_batch(items: list[tuple[bytes | str, str | None]], options: ReadOptions, want_annotated: bool,
                request_id: str) -> dict:
    engine = _engine()
    data = [_batch_item(raw) for raw, _ in items]
    read = iter(engine.read_many_with_images([d for d in data if isinstance(d, bytes)], options))
    # The annotated images share one image's budget: the response must fit Lambda's 6 MB.
    max_bytes = engine.settings.max_annotated_bytes // len(items)
    results = []
    for index, ((_, filename), item) in enumerate(zip(items, data, strict=True)):
        outcome = next(read) if isinstance(item, bytes) else item
        if isinstance(outcome, OcrError):
            results.append(_batch_error(outcome, index, request_id))
            continue
        image, result = outcome
        annotation = render(image.rgb, result.words, max_bytes=max_bytes) if want_annotated else None
        record_reading(result)
        results.append(result_payload(result, request_id, filename, annotation))
    _state["cold"] = False
    return {"results": results}


# -- service -----------------------------------------------------------------------------
@app.get("/api/health", summary="Model loaded? Version, cold or warm container")
def health() -> JSONResponse:
    body = {
        "status": "ok" if _ENGINE else "error",
        "model_loaded": _ENGINE is not None,
        "engine_version": __version__,
        "cold_start": _state["cold"],
        "model_load_ms": round(_LOAD_MS, 1),
    }
    if _ENGINE:
        body["model"] = _ENGINE.model_info.to_dict()
    else:
        body["error"] = _LOAD_ERROR
    return JSONResponse(body, status_code=200 if _ENGINE else 503)


@app.get("/api/stats", summary="This container's counts and latency since its cold start; the service's from "
                                "CloudWatch when reachable")
def get_stats() -> dict:
    """``container``: OCR requests (by status), images read, words, errors and request
    latency percentiles (p50, p90, p99 in ms) of this container since its cold start,
    always present. At the top level, the service-wide figures from CloudWatch metrics
    (``available: true``), or ``available: false`` and the ``reason`` in words."""
    return stats.current_stats()


# -- API docs: Swagger UI and ReDoc from files installed with the function ----------------
# fastapi-offline (requirements/serving.txt) ships swagger-ui-dist's and ReDoc's bundles;
# only its folder is used (found without importing it). Every URL in the two pages is
# relative, so they work at / and under an API Gateway stage (/prod/docs) alike.
_DOCS_SPEC = importlib.util.find_spec("fastapi_offline")
DOCS_ASSETS = Path(next(iter(_DOCS_SPEC.submodule_search_locations))) / "static" if _DOCS_SPEC else None
if DOCS_ASSETS is None:  # /docs and /redoc would be blank pages: say so at the cold start
    logger.error("fastapi-offline is not installed: /docs and /redoc have no scripts to serve")
_DOCS_TYPES = {"swagger-ui-bundle.js": "text/javascript; charset=utf-8", "swagger-ui.css": "text/css; charset=utf-8",
               "redoc.standalone.js": "text/javascript; charset=utf-8", "favicon.png": "image/png"}


# ReDoc's sidebar draws Redocly's logo from their CDN, whatever its options: the bundle is
# served with that one URL replaced by an empty inline image (the link text stays).
_REDOC_CDN_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"
_EMPTY_SVG = b"data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='1' height='1'/%3E"


@functools.cache
def _redoc_js() -> bytes:
    return (DOCS_ASSETS / "redoc.standalone.js").read_bytes().replace(_REDOC_CDN_LOGO, _EMPTY_SVG)


@app.get("/docs", include_in_schema=False)
def swagger_ui() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="openapi.json", title=f"{app.title} - Swagger UI",
        swagger_js_url="docs-assets/swagger-ui-bundle.js", swagger_css_url="docs-assets/swagger-ui.css",
        swagger_favicon_url="docs-assets/favicon.png",
        # No badge that sends the schema to validator.swagger.io.
        swagger_ui_parameters={"validatorUrl": None},
    )


@app.get("/redoc", include_in_schema=False)
def redoc() -> HTMLResponse:
    return get_redoc_html(openapi_url="openapi.json", title=f"{app.title} - ReDoc",
                          redoc_js_url="docs-assets/redoc.standalone.js", redoc_favicon_url="docs-assets/favicon.png",
                          with_google_fonts=False)


@app.get("/docs-assets/{name}", include_in_schema=False)
def docs_asset(name: str) -> Response:
    if name not in _DOCS_TYPES or DOCS_ASSETS is None or not (DOCS_ASSETS / name).is_file():
        return JSONResponse(error_body("not_found", "no such file", "-"), status_code=404)
    headers = {"Cache-Control": "public, max-age=86400"}
    if name == "redoc.standalone.js":
        return Response(_redoc_js(), media_type=_DOCS_TYPES[name], headers=headers)
    return FileResponse(DOCS_ASSETS / name, media_type=_DOCS_TYPES[name], headers=headers)


@app.get("/", include_in_schema=False)
def index() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html")


@app.get("/static/{name}", include_in_schema=False)
def static_file(name: str) -> FileResponse:
    path = (STATIC / name).resolve()
    if path.parent != STATIC or not path.is_file():
        return JSONResponse(error_body("not_found", "no such file", "-"), status_code=404)
    return FileResponse(path)


_asgi = Mangum(app, lifespan="off")


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict, context) -> dict:
    """Lambda entry point (API Gateway HTTP API v2 or REST v1 events)."""
    # Powertools metrics share state across instances: name the function per invocation.
    metrics.set_default_dimensions(Function=FUNCTION)
    return _asgi(event, context)
