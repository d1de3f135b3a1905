"""Faults: S3 errors and throttling, concurrent events, a missing or corrupt model."""

from __future__ import annotations

import io
import json
import os
import ssl
import subprocess
import sys

import boto3
import botocore.awsrequest
import pytest
from botocore.config import Config
from botocore.exceptions import EndpointConnectionError
from botocore.response import StreamingBody
from moto import mock_aws
from moto.server import ThreadedMotoServer
from ocr_engine.config import REPO_ARTIFACTS_DIR
from urllib3.response import HTTPResponse

from infra.invoke import context
from tests.conftest import REPO
from tests.helpers import RawBody
from tests.integration.conftest import BUCKET, alarm_sees, emf_lines, s3_event

CTX = context("s3_ocr")


def _inject(client, operation: str, failures: int, code: str = "SlowDown", status: int = 503,
            unreachable: bool = False) -> dict:
    """Fail the first ``failures`` calls of ``operation``: with an S3 error answer (S3 under load;
    moto's stub still runs, as S3 may have acted before answering 5xx), or, with
    ``unreachable``, a connection error raised before the request leaves (nothing happens)."""
    seen = {"calls": 0}

    def before_send(request, **_):
        seen["calls"] += 1
        if seen["calls"] <= failures and unreachable:
            raise EndpointConnectionError(endpoint_url=request.url)
        if seen["calls"] <= failures:
            body = f"<Error><Code>{code}</Code><Message>injected</Message></Error>".encode()
            return botocore.awsrequest.AWSResponse(request.url, status, {}, RawBody(body))
        return None

    client.meta.events.register(f"before-send.s3.{operation}", before_send)
    return seen


@pytest.fixture
def s3(monkeypatch, data_dir):
    with mock_aws():
        # The handler's retry budget (5 retries; standard mode, so no client-side rate waits), on a
        # client we can inject faults into.
        client = boto3.client("s3", config=Config(retries={"max_attempts": 5, "mode": "standard"}))
        client.create_bucket(Bucket=BUCKET)
        client.put_object(Bucket=BUCKET, Key="in/word.png", Body=(data_dir / "iiit5k/test/1002_1.png").read_bytes())
        from functions.common.s3_store import S3Store
        from functions.s3_ocr import app as module

        monkeypatch.setattr(module, "store", S3Store(client))
        yield client, module


def _keys(client) -> set[str]:
    return {o["Key"] for o in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


def test_throttled_get_is_retried_and_succeeds(s3):
    client, module = s3
    seen = _inject(client, "GetObject", failures=2)
    assert module.handler(s3_event("in/word.png"), CTX)["outcomes"] == {"in/word.png": "done"}
    assert seen["calls"] == 3 and "in/word.png.ocr.json" in _keys(client)


def test_throttled_put_is_retried_and_succeeds(s3):
    client, module = s3
    seen = _inject(client, "PutObject", failures=2, code="InternalError", status=500)
    assert module.handler(s3_event("in/word.png"), CTX)["outcomes"] == {"in/word.png": "done"}
    assert seen["calls"] == 3


def test_persistent_put_failure_fails_the_invocation_and_writes_nothing(s3):
    client, module = s3
    seen = _inject(client, "PutObject", failures=100, unreachable=True)
    with pytest.raises(module.RecordFailed, match="in/word.png"):
        module.handler(s3_event("in/word.png"), CTX)
    assert seen["calls"] == 6  # the first call and 5 retries (botocore max_attempts counts retries)
    assert _keys(client) == {"in/word.png"}  # the image is intact, no half-written result


def test_access_denied_on_get_fails_the_invocation(s3):
    client, module = s3
    _inject(client, "GetObject", failures=100, code="AccessDenied", status=403)
    with pytest.raises(module.RecordFailed):
        module.handler(s3_event("in/word.png"), CTX)


def test_concurrent_events_for_one_key_write_the_same_reading(data_dir, tmp_path):
    """Four containers (processes, as Lambda runs them) handle events for one key at once."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        client = boto3.client("s3", endpoint_url=endpoint)
        client.create_bucket(Bucket=BUCKET)
        client.put_object(Bucket=BUCKET, Key="in/word.png", Body=(data_dir / "iiit5k/test/1002_1.png").read_bytes())
        event = tmp_path / "event.json"
        event.write_text(json.dumps(s3_event("in/word.png")))
        env = {**os.environ, "AWS_ENDPOINT_URL": endpoint, "PYTHONPATH": str(REPO)}
        procs = [subprocess.Popen([sys.executable, str(REPO / "infra/invoke.py"), "s3_ocr", str(event)], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
        results = []
        for proc in procs:
            out, err = proc.communicate(timeout=180)
            assert proc.returncode == 0, err[-1500:]
            assert '"done"' in out
            results.append(json.loads(client.get_object(Bucket=BUCKET, Key="in/word.png.ocr.json")["Body"].read()))
        stable = [{k: r[k] for k in ("words", "full_text", "image_size")} for r in results]
        assert all(s == stable[0] for s in stable)
        assert {o["Key"] for o in client.list_objects_v2(Bucket=BUCKET)["Contents"]} == {
            "in/word.png", "in/word.png.ocr.json"}
    finally:
        server.stop()


def _cold_start(module: str, model_dir) -> subprocess.CompletedProcess:
    code = (f"import {module} as m\n"
            "if hasattr(m, 'app'):\n"
            "    from fastapi.testclient import TestClient\n"
            "    r = TestClient(m.app).get('/api/health')\n"
            "    print('HEALTH', r.status_code, r.content.decode())")
    env = {**os.environ, "OCR_MODEL_DIR": str(model_dir), "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120,
                          cwd=REPO, check=False)


def test_missing_model_fails_health_and_logs_loudly(tmp_path):
    out = _cold_start("functions.api.app", tmp_path)
    log, health = out.stdout.split("HEALTH ", 1)
    assert "model failed to load at cold start" in log and str(tmp_path) in log  # the operator's cause
    assert health.startswith("503") and '"model_loaded":false' in health
    assert str(tmp_path) not in health and "log names the cause" in health  # no server paths to callers


def test_corrupt_model_fails_the_s3_cold_start(tmp_path):
    (tmp_path / "crnn-int8.tflite").write_bytes(b"not a flatbuffer" * 100)
    (tmp_path / "crnn.json").write_text((REPO_ARTIFACTS_DIR / "crnn.json").read_text())
    out = _cold_start("functions.s3_ocr.app", tmp_path)
    assert out.returncode != 0 and "ModelUnavailable" in out.stderr and "corrupt" in out.stderr


def test_api_answers_503_not_500_without_a_model(tmp_path):
    code = ("import base64\nfrom fastapi.testclient import TestClient\nimport functions.api.app as m\n"
            "r = TestClient(m.app).post('/api/ocr/base64', json={'image': base64.b64encode(b'x').decode()})\n"
            "print('STATUS', r.status_code, r.json()['error']['code'])")
    env = {**os.environ, "OCR_MODEL_DIR": str(tmp_path), "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120,
                         cwd=REPO, check=False)
    assert "STATUS 503 model_unavailable" in out.stdout, out.stderr[-1500:]


# InvalidRequest (400): S3's answer to a GET of an object encrypted with the uploader's own key
# (SSE-C), which no retry can read; it was retried until the failure queue, and failed bulk runs.
@pytest.mark.parametrize("code,status", [("NoSuchKey", 404), ("NoSuchVersion", 404), ("InvalidRequest", 400)])
def test_a_permanent_s3_error_is_dropped_not_retried(s3, code, status, capsys):
    client, module = s3
    seen = _inject(client, "GetObject", failures=100, code=code, status=status)
    assert module.handler(s3_event("in/word.png"), CTX)["outcomes"] == {"in/word.png": "dropped"}
    assert seen["calls"] == 1 and _keys(client) == {"in/word.png"}
    assert '"RecordsDropped":[1.0]' in capsys.readouterr().out


def test_a_failing_check_before_the_write_fails_the_invocation_and_writes_nothing(s3):
    client, module = s3
    _inject(client, "HeadObject", failures=100, code="AccessDenied", status=403)
    with pytest.raises(module.RecordFailed, match="in/word.png"):
        module.handler(s3_event("in/word.png"), CTX)
    assert _keys(client) == {"in/word.png"}


@pytest.fixture
def broken_engine(monkeypatch):
    """The API module with an engine whose reading raises an unexpected exception (a bug)."""
    from functions.api import app as api

    def bug(*_args, **_kwargs):
        raise TypeError("a bug in the engine")

    monkeypatch.setattr(api.runtime.ready_engine(), "read", bug)
    return api


def test_an_unexpected_error_in_the_api_is_a_json_500(broken_engine, capsys):
    import base64

    from fastapi.testclient import TestClient

    from infra.make_events import BOUNDARY, http_v2, multipart

    png = (REPO / "tests" / "helpers.py").read_bytes()  # never decoded: the bug comes first
    event = http_v2("POST", "/api/ocr", multipart("a.png", png, "image/png"),
                    f"multipart/form-data; boundary={BOUNDARY}", b64=True)
    resp = broken_engine.handler(event, context("api"))
    assert resp["statusCode"] == 500 and resp["headers"]["content-type"] == "application/json"
    assert json.loads(resp["body"]) == {
        "schema_version": "1", "filename": "a.png", "request_id": "evt-post-api-ocr",
        "error": {"code": "internal_error", "detail": "an unexpected error occurred; it has been logged"}}
    # Mangum answers the 500, so Lambda counts no error: the bug's own metric is what alarms.
    (bug,) = emf_lines(capsys.readouterr().out, "InternalErrors")
    assert alarm_sees(bug, "InternalErrorsAlarm")
    client = TestClient(broken_engine.app, raise_server_exceptions=False)
    r = client.post("/api/ocr/base64", json={"image": base64.b64encode(png).decode()})
    assert r.status_code == 500 and r.json()["error"]["code"] == "internal_error"


class _BrokenStream(io.RawIOBase):
    """A connection whose TLS record fails while the body streams in (urllib3 hands ssl's error on unwrapped)."""

    def readable(self) -> bool:
        return True

    def readinto(self, _buffer) -> int:
        raise ssl.SSLError(1, "[SSL: DECRYPTION_FAILED_OR_BAD_RECORD_MAC] decryption failed or bad record mac")


def test_a_tls_error_while_the_image_streams_in_is_retried_not_written_as_a_bug(s3, capsys):
    """It was caught as a bug in the reading: an internal_error result, the invocation a
    success, so Lambda never retried a passing network fault."""
    client, module = s3
    calls = {"n": 0}

    def break_first_body(parsed, **_):
        calls["n"] += 1
        if calls["n"] == 1:
            size = parsed["ContentLength"]
            raw = HTTPResponse(body=io.BufferedReader(_BrokenStream()), preload_content=False,
                               headers={"content-length": str(size)})
            parsed["Body"] = StreamingBody(raw, size)

    client.meta.events.register("after-call.s3.GetObject", break_first_body)
    with pytest.raises(module.RecordFailed, match="reading from response stream"):
        module.handler(s3_event("in/word.png"), CTX)
    assert _keys(client) == {"in/word.png"}
    assert "InternalErrors" not in capsys.readouterr().out
    assert module.handler(s3_event("in/word.png"), CTX)["outcomes"] == {"in/word.png": "done"}  # Lambda's retry
