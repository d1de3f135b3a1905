"""Domain errors. The engine raises them; each entry point maps ``code`` to its outcome
(an HTTP status in the API, an error result beside the object in the S3 function) in one place."""

from __future__ import annotations


class OcrError(Exception):
    """Base class; ``code`` is a stable machine-readable name."""

    code = "ocr_error"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidImage(OcrError):
    """Bytes that are not a decodable image (empty, truncated, wrong type)."""

    code = "invalid_image"


class UnsupportedFormat(InvalidImage):
    code = "unsupported_format"


class ImageTooLarge(OcrError):
    """Too many bytes, pixels, or too long a side."""

    code = "image_too_large"


class InvalidOption(OcrError):
    """A request option out of range (beam width, regions, lexicon size...)."""

    code = "invalid_option"


class ModelUnavailable(OcrError):
    """The model file is missing or corrupt: a deployment fault, not the caller's."""

    code = "model_unavailable"


class DeadlineExceeded(OcrError):
    """The request passed its deadline (``OCR_REQUEST_DEADLINE_S``) and was stopped between
    steps: the service's time limit, not a fault in the image (the API answers 503)."""

    code = "deadline_exceeded"

    def __init__(self, limit_s: float, step: str):
        super().__init__(f"the request was stopped at its {limit_s:g} s deadline, before {step}; "
                         "ask for fewer regions (max_regions), a shorter lexicon or a smaller image")
        self.limit_s = limit_s
        self.step = step
