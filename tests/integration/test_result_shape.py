"""One result shape (ocr_engine/schemas.py): ``ocr read --json``, the API's ``/api/ocr``
answer (through Mangum, as Lambda calls it) and the S3 function's ``<key>.ocr.json`` for the
same photo have the same top-level keys but for each entry point's own additions (the API:
``request_id`` and ``annotated_b64``; the S3 result: ``source``), the same keys for each word,
and the same words. Their errors share one shape the same way."""

from __future__ import annotations

import json

from ocr_engine.schemas import SCHEMA_VERSION, ErrorResult, OcrResult

from infra.invoke import context
from infra.make_events import BOUNDARY, http_v2, multipart
from tests.conftest import REPO
from tests.integration.conftest import BUCKET, s3_event
from tests.integration.test_cli import run_ocr
from tests.integration.test_limits import invoke

SCENE = "svt_train/images/14_03.jpg"
SHARED = {"schema_version", "filename", "image_size", "words", "full_text", "timings_ms", "model"}
WORD = {"text", "confidence", "bbox"}
API_EXTRA = {"request_id", "annotated_b64"}
S3_EXTRA = {"source"}
ERROR = {"schema_version", "filename", "error"}


def _api(api, name: str, data: bytes, query: str = "") -> tuple[int, dict]:
    event = http_v2("POST", "/api/ocr", multipart(name, data, "image/jpeg"),
                    f"multipart/form-data; boundary={BOUNDARY}", query=query, b64=True)
    return invoke(api, event)[:2]


def _s3(s3, key: str, data: bytes) -> dict:
    client, module = s3
    client.put_object(Bucket=BUCKET, Key=key, Body=data)
    module.handler(s3_event(key), context("s3_ocr"))
    return json.loads(client.get_object(Bucket=BUCKET, Key=key + ".ocr.json")["Body"].read())


def _words(result: dict) -> list[tuple[str, list[int]]]:
    return [(w["text"], w["bbox"]) for w in result["words"]]


def test_the_model_declares_the_shared_keys():
    assert set(OcrResult.model_fields) == SHARED and set(ErrorResult.model_fields) == ERROR


def test_cli_api_and_s3_give_one_shape_for_one_photo(api, s3, data_dir):
    photo = data_dir / SCENE
    out = run_ocr("read", str(photo), "--json", cwd=REPO)
    assert out.returncode == 0, out.stderr[-2000:]
    cli = json.loads(out.stdout.strip().splitlines()[-1])
    status, answer = _api(api, photo.name, photo.read_bytes(), query="annotate=true")
    assert status == 200, answer
    written = _s3(s3, f"in/{photo.name}", photo.read_bytes())

    assert set(cli) == SHARED
    assert set(answer) == SHARED | API_EXTRA and answer["annotated_b64"]
    assert set(written) == SHARED | S3_EXTRA
    assert set(written["source"]) == {"bucket", "key", "version_id", "etag", "request_id", "processed_at"}
    for result in (cli, answer, written):
        assert result["schema_version"] == SCHEMA_VERSION
        assert result["words"] and all(set(w) == WORD for w in result["words"])
        assert set(result["image_size"]) == {"width", "height"}
    assert _words(cli) == _words(answer) == _words(written)  # the same reading, word for word
    assert cli["full_text"] == answer["full_text"] == written["full_text"] != ""
    assert cli["model"] == answer["model"] == written["model"]
    assert cli["filename"] == str(photo) and answer["filename"] == written["filename"] == photo.name


def test_the_api_and_s3_errors_share_one_shape(api, s3):
    status, answer = _api(api, "notes.jpg", b"not a picture")
    written = _s3(s3, "in/notes.jpg", b"not a picture")
    assert status == 415
    assert set(answer) == ERROR | {"request_id"} and set(written) == ERROR | S3_EXTRA
    assert answer["error"] == written["error"] and set(answer["error"]) == {"code", "detail"}
    assert answer["error"]["code"] == "unsupported_format" and answer["filename"] == written["filename"] == "notes.jpg"
    assert answer["schema_version"] == written["schema_version"] == SCHEMA_VERSION


def test_batch_items_are_the_same_answers(api, data_dir):
    from fastapi.testclient import TestClient

    photo = data_dir / SCENE
    r = TestClient(api.app).post("/api/ocr/batch", files=[("file", (photo.name, photo.read_bytes())),
                                                          ("file", ("notes.jpg", b"not a picture"))])
    read, refused = r.json()["results"]
    assert set(read) == SHARED | API_EXTRA
    assert set(refused) == ERROR | {"request_id", "status"} and refused["status"] == 415
