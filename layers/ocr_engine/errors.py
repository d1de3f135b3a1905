"""Domain errors. The engine raises them; each entry point maps ``code`` to its outcome
(an HTTP status in the API, a logged skip in the S3 function) in one place."""

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
