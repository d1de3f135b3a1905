"""The API's request models, and its answers as the engine's result and error shapes
(``ocr_engine.schemas``) with the API's own keys added: ``request_id`` and ``annotated_b64``.

The options' limits are the engine's settings (``OCR_MAX_BEAM_WIDTH``, ``OCR_MAX_REGIONS_LIMIT``,
``OCR_MAX_BATCH_IMAGES``, ``OCR_MAX_BATCH_BYTES``), read when the app is made; the engine
checks them again on every read.
"""

from __future__ import annotations

import re

from ocr_engine.config import load_settings
from ocr_engine.schemas import ErrorResult, OcrResult, ReadOptions
from pydantic import BaseModel, ConfigDict, Field

LIMITS = load_settings()


# -- requests --------------------------------------------------------------------------------------
class _Options(BaseModel):
    beam_width: int | None = Field(None, ge=1, le=LIMITS.max_beam_width,
                                   description=f"CTC beam width, 1 (greedy) to {LIMITS.max_beam_width}; "
                                               f"default {LIMITS.beam_width}")
    max_regions: int | None = Field(None, ge=1, le=LIMITS.max_regions_limit,
                                    description=f"most words to read, 1 to {LIMITS.max_regions_limit}; "
                                                f"default {LIMITS.max_regions}")
    min_confidence: float | None = Field(None, ge=0, le=1, allow_inf_nan=False,  # nan was told "<= 1"
                                         description="words read with less are left out")
    # The list's own cap stops a huge body at its first item past it, not one error per item.
    lexicon: list[str] | None = Field(None, max_length=LIMITS.max_lexicon,
                                      description=f"at most {LIMITS.max_lexicon:,} words the reading is held to; "
                                                  "each item may hold several, comma or space separated")


class ReadOptionsIn(_Options):
    """The reading options every OCR route takes. A multipart request's come from its form
    fields or the query, as strings converted as FastAPI converts them; a JSON body's are
    strict (its subclasses)."""

    detect: bool = Field(True, description="find the words in a scene; false: the image is one word")
    annotate: bool = Field(False, description="answer the image with numbered boxes too (annotated_b64)")

    def read_options(self) -> ReadOptions:
        words = None
        if self.lexicon:
            # Accept repeated fields and comma/space separated lists alike.
            words = tuple(w for item in self.lexicon for w in re.split(r"[,\s]+", item) if w)
        return ReadOptions(detect=self.detect, beam_width=self.beam_width, max_regions=self.max_regions,
                           min_confidence=self.min_confidence, lexicon=words)


class OptionFields(_Options):
    """The options as query parameters or form fields, each optional: a form field wins
    over the same query parameter."""

    detect: bool | None = None
    annotate: bool | None = None

    @staticmethod
    def merged(query: OptionFields, form: OptionFields) -> ReadOptionsIn:
        return ReadOptionsIn.model_validate({**query.model_dump(exclude_none=True),
                                             **form.model_dump(exclude_none=True)})


class BatchImage(BaseModel):
    model_config = ConfigDict(strict=True)

    image: str = Field(description="base64 image bytes (standard or URL-safe alphabet, padding optional), "
                       "or a data URL (data:image/png;base64,...)")
    filename: str | None = Field(None, max_length=1024)


class Base64Request(ReadOptionsIn, BatchImage):
    # Strict: JSON types are taken as they are (``beam_width: true`` or ``detect: "yes"``
    # is a 422, not coerced); a number is still accepted for ``min_confidence``.
    model_config = ConfigDict(strict=True)


class BatchRequest(ReadOptionsIn):
    """Several images and the options for all of them; strict, as ``Base64Request``."""

    model_config = ConfigDict(strict=True)

    images: list[BatchImage] = Field(
        min_length=1, max_length=LIMITS.max_batch_images,
        description=f"at most OCR_MAX_BATCH_IMAGES ({LIMITS.max_batch_images}) images, "
                    f"OCR_MAX_BATCH_BYTES ({LIMITS.max_batch_bytes:,}) bytes in all")


# -- answers: the engine's shapes plus the API's keys ----------------------------------------------
class ApiResult(OcrResult):
    """An image read: the engine's result (``ocr_engine.schemas.OcrResult``) and the API's keys."""

    request_id: str
    annotated_b64: str | None = Field(None, description="the image with numbered boxes, a base64 JPEG; null unless "
                                                        "annotate was asked for and it fits the response")


class ApiError(ErrorResult):
    """The error body of every route: the engine's error shape and the request's id."""

    request_id: str


class BatchItemError(ApiError):
    status: int = Field(description="the HTTP status this image alone would have been answered with")


class BatchResponse(BaseModel):
    results: list[ApiResult | BatchItemError] = Field(
        description="per image, in the order sent: its reading (as /api/ocr answers) or its error body")
