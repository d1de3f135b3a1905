"""The OCR routes' work, run in the runtime's reader threads: image bytes (or base64) ->
the engine -> the answer (``ApiResult``, or per image of a batch its ``BatchItemError``)."""

from __future__ import annotations

import base64
import binascii
import re

from ocr_engine.annotate import render
from ocr_engine.errors import InvalidImage, OcrError
from ocr_engine.imagefile import DecodedImage
from ocr_engine.schemas import OcrResult, ReadOptions

from functions.api.errors import status_for
from functions.api.models import ApiResult, BatchItemError, BatchResponse
from functions.api.runtime import Runtime
from functions.common.observability import logger, record_error, record_reading, tracer

# A parameter's value may hold any character but ; and , (RFC 2397: ``;name=scan.png``, ``%20``).
# A media type is at most 127 characters (RFC 6838): a longer one is not a data URL's, and one
# echoed in the error whatever its length made a 4 MB request's answer pass Lambda's 6 MB.
_DATA_URL = re.compile(r"^\s*data:(?P<mime>[\w/+.-]{1,127})?(?:;[^;,]*)*;base64,", re.IGNORECASE)
# Characters of a base64 image that may decode to nothing: a data URL's prefix, line breaks.
_BASE64_SLACK = 1024
# The URL-safe alphabet (RFC 4648, section 5: JavaScript's and Python's urlsafe encoders) to the standard one.
_URLSAFE_TO_STANDARD = str.maketrans("-_", "+/")


def decoded_size_bound(*texts: str) -> int:
    """The fewest bytes base64 ``texts`` (each maybe a data URL) decode to, all together:
    base64 is 4/3 the bytes, less ``_BASE64_SLACK`` characters each. What is surely over a
    limit is refused with it before decoding; the engine checks the decoded bytes exactly."""
    return sum(max(0, len(text) - _BASE64_SLACK) for text in texts) * 3 // 4


def image_bytes(text: str) -> bytes:
    """Base64 text or a data URL -> the image's bytes; InvalidImage when it is neither."""
    match = _DATA_URL.match(text)
    if match:
        mime = (match.group("mime") or "").lower()
        if mime and not mime.startswith("image/"):
            raise InvalidImage(f"the data URL says {mime}, not an image type")
        text = text[match.end():]
    # Clients differ: line breaks, the URL-safe alphabet and dropped '=' padding are all
    # read; any other character is refused rather than skipped.
    compact = "".join(text.split()).translate(_URLSAFE_TO_STANDARD)
    try:
        return base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidImage(f"the image is not valid base64 (standard or URL-safe): {exc}") from exc


def _answer(image: DecodedImage, result: OcrResult, filename: str | None, annotate: bool, request_id: str,
            max_side: int, max_bytes: int) -> ApiResult:
    """The answer; with ``annotate``, the annotated image at most ``max_side`` long and
    ``max_bytes`` big (the engine's settings; a batch's images share the budget)."""
    annotated = None
    if annotate:
        annotation = render(image.rgb, result.words, max_side, max_bytes)
        if annotation.note:  # shrunk to fit, or dropped (annotated_b64 null)
            logger.info("annotated image", extra={"note": annotation.note})
        annotated = annotation.b64
    record_reading(result)
    return result.extended(ApiResult, filename=filename, request_id=request_id, annotated_b64=annotated)


# An answer is no trace metadata: it holds the words read off a user's photo and may hold the
# annotated image (megabytes; X-Ray drops a segment over 64 KB, and the trace with it).
@tracer.capture_method(capture_response=False)
def read_one(runtime: Runtime, data: bytes | str, filename: str | None, options: ReadOptions, annotate: bool,
             request_id: str) -> ApiResult:
    """One image (bytes, or base64 text still to decode) -> its answer. Raises the engine's errors."""
    engine = runtime.ready_engine()
    image, result = engine.read(image_bytes(data) if isinstance(data, str) else data, options, with_image=True)
    answer = _answer(image, result, filename, annotate, request_id, engine.settings.annotate_max_side,
                     engine.settings.max_annotated_bytes)
    runtime.cold = False
    return answer


def _batch_item(raw: bytes | str) -> bytes | OcrError:
    """An image of a batch as bytes (a JSON item decoded from base64), or why it is not one."""
    if isinstance(raw, bytes):
        return raw
    try:
        return image_bytes(raw)
    except OcrError as exc:
        return exc


def _batch_error(exc: OcrError, index: int, filename: str | None, request_id: str) -> BatchItemError:
    record_error()
    logger.info("batch image refused", extra={"index": index, "code": exc.code, "detail": exc.message})
    return BatchItemError.of(exc.code, exc.message, filename=filename, request_id=request_id,
                             status=status_for(exc))


@tracer.capture_method(capture_response=False)
def read_batch(runtime: Runtime, items: list[tuple[bytes | str, str | None]], options: ReadOptions,
               annotate: bool, request_id: str) -> BatchResponse:
    """Several images (bytes or base64, and filenames) -> per image, in order, its answer or
    its error; their word crops share the recognizer's batches (``OcrEngine.read_many``)."""
    engine = runtime.ready_engine()
    data = [_batch_item(raw) for raw, _ in items]
    read = iter(engine.read_many([d for d in data if isinstance(d, bytes)], options, with_image=True))
    # The annotated images share one image's budget: the response must fit Lambda's 6 MB.
    max_bytes = engine.settings.max_annotated_bytes // len(items)
    results: list[ApiResult | BatchItemError] = []
    for index, ((_, filename), item) in enumerate(zip(items, data, strict=True)):
        outcome = next(read) if isinstance(item, bytes) else item
        if isinstance(outcome, OcrError):
            results.append(_batch_error(outcome, index, filename, request_id))
        else:
            results.append(_answer(*outcome, filename, annotate, request_id, engine.settings.annotate_max_side,
                                   max_bytes))
    runtime.cold = False
    return BatchResponse(results=results)
