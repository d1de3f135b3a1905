"""A read past its deadline (OCR_REQUEST_DEADLINE_S) stops with ``deadline_exceeded``: the
API answers 503 with the JSON error body on every path, the S3 function writes it as the
image's error result and goes on with the other records. The deadline is made tiny here, so
every read passes it; no test waits on the clock."""

from __future__ import annotations

import base64
import dataclasses
import json

import pytest
from fastapi.testclient import TestClient

from infra.invoke import context
from tests.conftest import EVENTS
from tests.integration.conftest import BUCKET, s3_event

WORD = "iiit5k/test/1002_1.png"


@pytest.fixture
def tiny_deadline(api, monkeypatch) -> None:
    """Every read passes its deadline: the engine stops at its first check."""
    engine = api.runtime.engine
    monkeypatch.setattr(engine, "settings", dataclasses.replace(engine.settings, request_deadline_s=1e-9))


def _is_deadline_error(status: int, body: dict) -> bool:
    return (status == 503 and body["error"]["code"] == "deadline_exceeded" and "deadline" in body["error"]["detail"]
            and bool(body["request_id"]))


def test_the_api_answers_503_with_the_error_body_on_both_routes(api, tiny_deadline, data_dir):
    client = TestClient(api.app)
    image = (data_dir / WORD).read_bytes()
    r = client.post("/api/ocr", files={"file": ("w.png", image)}, params={"detect": "false"})
    assert _is_deadline_error(r.status_code, r.json()), r.text
    r = client.post("/api/ocr/base64", json={"image": base64.b64encode(image).decode(), "lexicon": ["open"]})
    assert _is_deadline_error(r.status_code, r.json()), r.text
    assert client.get("/api/health").status_code == 200  # the service itself is fine


def test_through_mangum_as_lambda_calls_it(api, tiny_deadline):
    event = json.loads((EVENTS / "api-ocr-upload.json").read_text())
    resp = api.handler(event, context("api"))
    body = json.loads(resp["body"])
    assert _is_deadline_error(resp["statusCode"], body), body
    assert body["request_id"] == event["requestContext"]["requestId"]


def test_the_s3_function_writes_it_as_the_images_error_result(api, s3, tiny_deadline, data_dir):
    client, module = s3
    assert module.engine is api.runtime.engine  # one engine per process: the tiny deadline applies here too
    client.put_object(Bucket=BUCKET, Key="slow.png", Body=(data_dir / WORD).read_bytes())
    out = module.handler(s3_event("slow.png"), context("s3_ocr"))  # not raised: no retry
    assert out["outcomes"] == {"slow.png": "refused"}
    result = json.loads(client.get_object(Bucket=BUCKET, Key="slow.png.ocr.json")["Body"].read())
    assert result["error"]["code"] == "deadline_exceeded" and "words" not in result
