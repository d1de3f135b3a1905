"""The result of reading an image, typed once: what ``ocr read --json`` prints, what the API
answers and what the S3 function writes beside an image, and the one error shape.

Result, ``schema_version`` "1" (``OcrResult``)::

    {"schema_version": "1",
     "filename": "open-sign.png",                        # the input's name, left out when unknown
     "image_size": {"width": 1280, "height": 880},       # after EXIF rotation
     "words": [{"text": "open", "confidence": 0.9731,    # calibrated: ~N% of words at N are right
                "bbox": [412, 300, 655, 371]}],          # x1, y1, x2, y2 in pixels of that image
     "full_text": "open",                                # the words' texts joined by spaces, in reading order
     "timings_ms": {"decode": 3.1, "detect": 20.4, "recognize": 41.0, "ctc": 7.9, "total": 72.4},
     "model": {"name": "crnn", "version": "...", "dataset": "...", "metrics": {...}}}

Each entry point adds only its own keys: the API ``request_id`` and ``annotated_b64`` (the
image with numbered boxes, a base64 JPEG; null unless asked for and it fits the
response), the S3 result ``source`` (bucket, key, version_id, etag, request_id,
processed_at); the CLI adds nothing.

Error, the same version (``ErrorResult``)::

    {"schema_version": "1", "filename": "notes.png",     # left out when unknown
     "error": {"code": "unsupported_format", "detail": "..."}}

with the same additions: the API's ``request_id`` (and a batch item's ``status``), the S3
error result's ``source``. ``code`` is an ``OcrError.code`` (errors.py) or one of the API's
own (``invalid_request``, ``not_found``, ``internal_error``...).

A change that removes or renames a key, or changes its meaning, raises ``SCHEMA_VERSION``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal, NamedTuple, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    field_serializer,
    model_validator,
)

SCHEMA_VERSION = "1"

_M = TypeVar("_M", bound=BaseModel)


class _Model(BaseModel):
    """Frozen; also built positionally, in the order ``_positional`` names (the engine builds
    words by the hundred: ``Word("open", 0.97, (0, 0, 50, 20))``)."""

    model_config = ConfigDict(frozen=True)
    _positional: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *args: Any, **data: Any) -> None:
        if args:
            names = type(self)._positional
            if len(args) > len(names):
                raise TypeError(f"{type(self).__name__} takes at most {len(names)} positional arguments")
            data.update(zip(names, args, strict=False))
        super().__init__(**data)

    def to_dict(self) -> dict:
        """The JSON shape as Python values (what ``json.dumps`` prints as the JSON itself)."""
        return self.model_dump(mode="json")

    def extended(self, cls: type[_M], **fields: Any) -> _M:
        """This as ``cls``, a subclass that adds an entry point's own keys, with ``fields`` set."""
        return cls.model_validate({**dict(self), **fields})


class Word(_Model):
    """A word read in the image."""

    _positional = ("text", "confidence", "bbox")

    text: str
    confidence: float = Field(description="calibrated: about N% of the words read at confidence N are right")
    bbox: tuple[int, int, int, int] = Field(description="x1, y1, x2, y2 in pixels of the (EXIF-rotated) image")

    @field_serializer("confidence")
    def _rounded(self, value: float) -> float:
        return round(value, 4)


class ImageSize(NamedTuple):
    """(width, height) in Python; ``{"width", "height"}`` in JSON."""

    width: int
    height: int


def _size_in(value: Any) -> Any:
    return (value["width"], value["height"]) if isinstance(value, Mapping) else value


_IMAGE_SIZE_JSON = {"type": "object", "title": "ImageSize", "required": ["width", "height"],
                    "properties": {"width": {"type": "integer"}, "height": {"type": "integer"}},
                    "description": "in pixels, after EXIF rotation"}
ImageSizeField = Annotated[
    ImageSize,
    BeforeValidator(_size_in),
    PlainSerializer(lambda s: {"width": s[0], "height": s[1]}, return_type=dict),
    WithJsonSchema(_IMAGE_SIZE_JSON),
]


class ModelInfo(_Model):
    """The recognizer that read the words (its ``crnn.json``)."""

    _positional = ("name", "version", "dataset", "metrics")

    name: str
    version: str
    dataset: str
    metrics: dict[str, Any] = Field(default_factory=dict)


class OcrResult(_Model):
    """One image read: its words in reading order, and how it was read. The fields are the
    JSON keys, in order; ``OcrResult(words, (w, h), timings_ms, model)`` builds one."""

    _positional = ("words", "image_size", "timings_ms", "model")

    schema_version: Literal["1"] = SCHEMA_VERSION
    filename: str | None = Field(None, exclude_if=lambda v: v is None,
                                 description="the input's name; left out when unknown")
    image_size: ImageSizeField
    words: list[Word]
    full_text: str = Field("", description="the words' texts joined by spaces (made from them, never given)")
    timings_ms: dict[str, float] = Field(description="milliseconds per step, and their total")
    model: ModelInfo

    @model_validator(mode="before")
    @classmethod
    def _full_text_from_words(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            words = data.get("words") or ()
            texts = (w.text if isinstance(w, Word) else w.get("text") if isinstance(w, Mapping) else None
                     for w in words)
            data = {**data, "full_text": " ".join(t for t in texts if isinstance(t, str) and t)}
        return data

    @field_serializer("timings_ms")
    def _rounded(self, value: dict[str, float]) -> dict[str, float]:
        return {k: round(v, 2) for k, v in value.items()}

    def named(self, filename: str | None) -> OcrResult:
        """The same result for an input called ``filename``."""
        return self.model_copy(update={"filename": filename})


class ErrorInfo(_Model):
    _positional = ("code", "detail")

    code: str = Field(description="stable and machine-readable: invalid_image, image_too_large, ...")
    detail: str = Field(description="what was wrong, in words")


class ErrorResult(_Model):
    """An input that could not be read, in every entry point's error shape."""

    schema_version: Literal["1"] = SCHEMA_VERSION
    filename: str | None = Field(None, exclude_if=lambda v: v is None,
                                 description="the input's name; left out when unknown")
    error: ErrorInfo

    @classmethod
    def of(cls: type[_M], code: str, detail: str, **fields: Any) -> _M:
        return cls(error=ErrorInfo(code, detail), **fields)


@dataclass(frozen=True)
class ReadOptions:
    """Per-request options; ``None`` means the configured default."""

    detect: bool = True
    beam_width: int | None = None
    max_regions: int | None = None
    min_confidence: float | None = None
    lexicon: tuple[str, ...] | None = None
