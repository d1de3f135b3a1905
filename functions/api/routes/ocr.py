"""The OCR routes: parse the request, hand the work to the reader pool (reading.py), answer
with the engine's result plus the API's keys (models.py). Engine errors raised on the way
become statuses in errors.py."""

from __future__ import annotations

from typing import Annotated, Any

import pydantic_core
from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from ocr_engine.errors import ImageTooLarge
from ocr_engine.pipeline import OcrEngine
from pydantic import BaseModel, ValidationError
from starlette.datastructures import UploadFile as StarletteUploadFile

from functions.api.errors import DOCUMENTED_ERRORS, json_body_error, request_id
from functions.api.models import (
    LIMITS,
    ApiResult,
    Base64Request,
    BatchRequest,
    BatchResponse,
    OptionFields,
    ReadOptionsIn,
)
from functions.api.reading import decoded_size_bound, read_batch, read_one
from functions.api.runtime import RuntimeDep

router = APIRouter(responses=DOCUMENTED_ERRORS)
IMAGE_FORMATS = "PNG, JPEG, BMP, TIFF, WebP or GIF (of several pages or frames, the first is read)"


@router.post("/api/ocr", response_model=ApiResult, summary="Read an uploaded image (multipart/form-data)")
async def ocr_upload(
    request: Request,
    runtime: RuntimeDep,
    file: Annotated[UploadFile, File(description=IMAGE_FORMATS)],
    query: Annotated[OptionFields, Query()],
    form: Annotated[OptionFields, Form()],
) -> ApiResult:
    """The options as query parameters or form fields (a form field wins)."""
    parts = (await request.form()).getlist("file")  # the form FastAPI has parsed already
    if len(parts) > 1:
        raise RequestValidationError([{"loc": ("body", "file"), "type": "too_many_files",
                                       "msg": f"send one image per request, not {len(parts)} file parts"}])
    filename = file.filename or None  # `filename=""` names no file: the field is left out, as for none
    request.state.filename = filename  # named in an error body too
    limit = runtime.ready_engine().settings.max_image_bytes
    data = await file.read(limit + 1)  # never hold more than the limit + 1 byte
    if len(data) > limit:  # its size is not known, only that it is over: say so, not limit + 1
        raise ImageTooLarge(f"the image is over the {limit:,}-byte limit (OCR_MAX_IMAGE_BYTES)")
    options = OptionFields.merged(query, form)
    return await runtime.off_loop(read_one, runtime, data, filename, options.read_options(), options.annotate,
                                  request_id(request))


@router.post("/api/ocr/base64", response_model=ApiResult, summary="Read a base64 image or data URL (JSON body)")
async def ocr_base64(request: Request, runtime: RuntimeDep, body: Base64Request) -> ApiResult:
    """The options in the JSON body, beside the image."""
    refuse_query_options(request)
    request.state.filename = body.filename
    limit = runtime.ready_engine().settings.max_image_bytes
    if decoded_size_bound(body.image) > limit:
        raise ImageTooLarge(f"the base64 image is over the {limit:,}-byte limit")
    return await runtime.off_loop(read_one, runtime, body.image, body.filename, body.read_options(), body.annotate,
                                  request_id(request))


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
                            "description": f"one part per image: {IMAGE_FORMATS}"},
                   **_inline_schema(ReadOptionsIn)["properties"]},
}
_BATCH_BODY = {"requestBody": {"required": True, "content": {
    "multipart/form-data": {"schema": _BATCH_UPLOAD_SCHEMA},
    "application/json": {"schema": _inline_schema(BatchRequest)},
}}}


def _invalid_request(exc: ValidationError, where: str = "body") -> RequestValidationError:
    return RequestValidationError([{**e, "loc": (where, *e["loc"])} for e in exc.errors(include_url=False)])


def refuse_query_options(request: Request) -> None:
    """A JSON body carries its own options: one given in the query instead was silently
    ignored (``?annotate=true`` answered no image). Name it, and say where it goes."""
    named = [name for name in OptionFields.model_fields if name in request.query_params]
    if named:
        raise RequestValidationError([{"loc": ("query", name), "type": "option_in_query",
                                       "msg": "a JSON body's options go in the body, beside the image"}
                                      for name in named])


def _option_fields(values: Any, where: str) -> OptionFields:
    """The options a multidict (the form, or the query) gives, as ``/api/ocr`` takes them:
    a repeated field's last value (every value of ``lexicon``); a form's empty field is
    not given."""
    given: dict[str, Any] = {}
    for name in OptionFields.model_fields:
        found = [v for v in values.getlist(name) if not (where == "body" and v == "")]
        if found:
            given[name] = found if name == "lexicon" else found[-1]
    try:
        return OptionFields.model_validate(given)
    except ValidationError as exc:
        raise _invalid_request(exc, where) from None


@router.post("/api/ocr/batch", response_model=BatchResponse, openapi_extra=_BATCH_BODY,
             summary="Read several images in one request (multipart or JSON body)",
             description=f"""Multipart with repeated ``file`` parts (options as form fields or in the query, as
``/api/ocr`` takes them), or a JSON body ``{{"images": [{{"image", "filename"}}, ...], ...options}}`` (as
``/api/ocr/base64``'s). ``results`` holds, in the order sent, each image's reading or its own error body
(with the ``status`` it alone would get); a bad image does not fail the others. At most
``OCR_MAX_BATCH_IMAGES`` ({LIMITS.max_batch_images}) images (422 beyond) of ``OCR_MAX_BATCH_BYTES``
({LIMITS.max_batch_bytes:,}) bytes in all (413 beyond); an empty batch is a 422. One
``OCR_REQUEST_DEADLINE_S`` covers the batch: an image it stops is that image's ``deadline_exceeded``.""")
async def ocr_batch(request: Request, runtime: RuntimeDep) -> BatchResponse:
    engine = runtime.ready_engine()
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media in ("multipart/form-data", "application/x-www-form-urlencoded"):
        items, options = await _batch_from_form(request, engine)
    elif media in ("", "application/json") or media.endswith("+json"):
        refuse_query_options(request)
        body = _batch_request(await request.body(), engine)
        engine.check_batch(len(body.images), decoded_size_bound(*(i.image for i in body.images)))
        items, options = [(i.image, i.filename) for i in body.images], body
    else:
        raise RequestValidationError([{"loc": ("header", "content-type"), "type": "content_type",
                                       "msg": "send multipart/form-data with `file` parts, or a JSON body"}])
    return await runtime.off_loop(read_batch, runtime, items, options.read_options(), options.annotate,
                                  request_id(request))


def _batch_request(raw: bytes, engine: OcrEngine) -> BatchRequest:
    """A JSON batch body, parsed, its images counted, then validated: validating JSON text,
    pydantic makes a model of every item of an array before it checks the array's length
    (400,000 tiny items: 370 MB); parsed and counted first, the same body costs 90 MB."""
    try:
        # A UTF-8 byte-order mark (Notepad writes one) is skipped, as the base64 route's parser does.
        data = pydantic_core.from_json(raw.removeprefix(b"\xef\xbb\xbf"))
    except ValueError as exc:
        raise RequestValidationError([json_body_error(exc, raw)]) from None
    images = data.get("images") if isinstance(data, dict) else None
    if isinstance(images, list):
        engine.check_batch(len(images), 0)  # too many: the same 422 as a multipart batch's
    try:
        return BatchRequest.model_validate(data)
    except ValidationError as exc:
        raise _invalid_request(exc) from None


async def _batch_from_form(request: Request, engine: OcrEngine
                           ) -> tuple[list[tuple[bytes | str, str | None]], ReadOptionsIn]:
    """A multipart batch -> (image bytes and filenames, options); the bytes are read no
    further than the batch's limit."""
    form = await request.form()
    parts = form.getlist("file")
    if not parts:
        raise RequestValidationError([{"loc": ("body", "file"), "type": "missing",
                                       "msg": "send at least one image as a `file` part"}])
    if not all(isinstance(p, StarletteUploadFile) for p in parts):
        raise RequestValidationError([{"loc": ("body", "file"), "type": "not_a_file",
                                       "msg": "every `file` part must be an uploaded file"}])
    engine.check_batch(len(parts), 0)
    options = OptionFields.merged(_option_fields(request.query_params, "query"), _option_fields(form, "body"))
    limit, total, items = engine.settings.max_batch_bytes, 0, []
    for part in parts:
        data = await part.read(limit - total + 1)  # never hold more than the batch's limit + 1 byte
        total += len(data)
        engine.check_batch(len(parts), total)
        items.append((data, part.filename or None))
    return items, options


# The paths whose requests count as OCR requests (middleware): every route above, never a copy of them.
OCR_PATHS = frozenset(route.path for route in router.routes)
