"""Engine errors -> HTTP statuses, in one place."""

from __future__ import annotations

from ocr_engine.errors import (
    DeadlineExceeded,
    ImageTooLarge,
    InvalidImage,
    InvalidOption,
    ModelUnavailable,
    OcrError,
    UnsupportedFormat,
)

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


def status_for(error: OcrError) -> int:
    for cls, status in STATUS_BY_ERROR:
        if isinstance(error, cls):
            return status
    return 400


def error_body(code: str, detail: str, request_id: str) -> dict:
    return {"error": code, "detail": detail, "request_id": request_id}


ERROR_RESPONSES = {
    400: {"description": "Not a decodable image, or a malformed request"},
    413: {"description": "Image too large (bytes, pixels or side)"},
    415: {"description": "Not a supported image type"},
    422: {"description": "An option is out of range or malformed"},
    500: {"description": "An unexpected error (a bug: logged with its traceback)"},
    503: {"description": "The model is not loaded, or the read passed its deadline (OCR_REQUEST_DEADLINE_S)"},
}
