"""The one result model (ocr_engine/schemas.py): how it is built, and the JSON it becomes."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ocr_engine.schemas import SCHEMA_VERSION, ErrorResult, ImageSize, ModelInfo, OcrResult, Word
from pydantic import ValidationError

MODEL = ModelInfo("crnn", "2026.11.26", "synthetic", {"iiit5k_test_word_accuracy": 0.843})


def _result(**fields) -> OcrResult:
    words = [Word("open", 0.973149, (10, 20, 110, 60)), Word("", 0.0, (0, 0, 1, 1)), Word("shop", 0.5, (5, 5, 9, 9))]
    return OcrResult(words, (200, 600), {"decode": 1.23456, "total": 7.891}, MODEL).model_copy(update=fields)


def test_built_positionally_as_the_engine_builds_them():
    result = _result()
    assert result.image_size == (200, 600) and result.image_size.width == 200 and result.image_size[1] == 600
    assert result.words[0] == Word(text="open", confidence=0.973149, bbox=(10, 20, 110, 60))
    assert result.full_text == "open shop"  # made from the words, the empty reading left out
    with pytest.raises(TypeError, match="at most 3 positional"):
        Word("a", 0.5, (0, 0, 1, 1), "extra")


def test_numpy_values_become_plain_python_ones():
    word = Word("a", np.float32(0.5), tuple(np.int64(v) for v in (1, 2, 3, 4)))
    assert type(word.confidence) is float and all(type(v) is int for v in word.bbox)
    json.dumps(word.to_dict())


def test_the_json_shape():
    assert _result().to_dict() == {
        "schema_version": SCHEMA_VERSION,
        "image_size": {"width": 200, "height": 600},
        "words": [{"text": "open", "confidence": 0.9731, "bbox": [10, 20, 110, 60]},
                  {"text": "", "confidence": 0.0, "bbox": [0, 0, 1, 1]},
                  {"text": "shop", "confidence": 0.5, "bbox": [5, 5, 9, 9]}],
        "full_text": "open shop",
        "timings_ms": {"decode": 1.23, "total": 7.89},
        "model": {"name": "crnn", "version": "2026.11.26", "dataset": "synthetic",
                  "metrics": {"iiit5k_test_word_accuracy": 0.843}},
    }
    named = _result().named("a.png").to_dict()
    assert list(named)[:3] == ["schema_version", "filename", "image_size"] and named["filename"] == "a.png"


def test_a_result_reads_back_from_its_json():
    text = _result().named("a.png").model_dump_json()
    again = OcrResult.model_validate_json(text)
    assert again.image_size == (200, 600) and isinstance(again.image_size, ImageSize)
    assert again.model_dump_json() == text
    with pytest.raises(ValidationError):
        OcrResult.model_validate({**json.loads(text), "schema_version": "2"})


def test_full_text_is_never_taken_from_the_input():
    data = {**_result().to_dict(), "full_text": "something else"}
    assert OcrResult.model_validate(data).full_text == "open shop"


def test_an_entry_point_adds_its_keys_by_extending_the_model():
    class Answer(OcrResult):
        request_id: str

    answer = _result().extended(Answer, filename="a.png", request_id="r-1")
    assert isinstance(answer, OcrResult) and answer.words == _result().words
    assert list(answer.to_dict())[-1] == "request_id" and answer.to_dict()["filename"] == "a.png"


def test_the_error_shape():
    assert ErrorResult.of("invalid_image", "truncated").to_dict() == {
        "schema_version": SCHEMA_VERSION, "error": {"code": "invalid_image", "detail": "truncated"}}
    assert ErrorResult.of("invalid_image", "truncated", filename="a.png").to_dict()["filename"] == "a.png"


def test_the_json_schema_says_what_the_json_holds():
    schema = OcrResult.model_json_schema(mode="serialization")
    assert schema["properties"]["image_size"]["type"] == "object"
    assert set(schema["properties"]["image_size"]["required"]) == {"width", "height"}
    assert set(schema["properties"]) == {"schema_version", "filename", "image_size", "words", "full_text",
                                         "timings_ms", "model"}
