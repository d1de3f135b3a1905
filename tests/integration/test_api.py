"""The API function through Mangum, with the committed events, as Lambda calls it."""

from __future__ import annotations

import base64
import json

import boto3
import pytest
from moto import mock_aws

from infra.invoke import context
from tests.conftest import EVENTS
from tests.integration.conftest import dashboard_sees

CONTEXT = context("api")


def invoke(api, name: str) -> tuple[int, dict | str]:
    event = json.loads((EVENTS / name).read_text())
    resp = api.handler(event, CONTEXT)
    body = resp["body"]
    if resp.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    ctype = {k.lower(): v for k, v in resp.get("headers", {}).items()}.get("content-type", "")
    return resp["statusCode"], json.loads(body) if "json" in ctype else body


EXPECTED = {
    "api-health.json": 200,
    "api-rest-v1-health.json": 200,
    "api-index.json": 200,
    "api-openapi.json": 200,
    "api-ocr-upload.json": 200,
    "api-ocr-base64.json": 200,
    "api-ocr-not-an-image.json": 415,
    "api-ocr-bad-base64.json": 400,
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_api_event_gets_its_documented_status(api, name):
    status, body = invoke(api, name)
    assert status == EXPECTED[name], body
    if status >= 400:
        assert body["error"]["code"] and body["error"]["detail"] and body["request_id"]


def test_every_api_event_is_covered():
    assert {p.name for p in EVENTS.glob("api-*.json")} == set(EXPECTED) | {"api-stats.json"}


def test_upload_response_has_the_documented_fields(api):
    status, body = invoke(api, "api-ocr-upload.json")
    assert status == 200
    assert set(body) == {"schema_version", "filename", "image_size", "words", "full_text", "timings_ms", "model",
                         "request_id", "annotated_b64"}
    assert body["schema_version"] == "1" and body["timings_ms"]["total"] > 0
    assert body["filename"] == "open-sign.png" and body["request_id"] == "evt-post-api-ocr"
    assert base64.b64decode(body["annotated_b64"]).startswith(b"\xff\xd8\xff")  # a JPEG
    assert body["model"]["name"].startswith("crnn")


def test_health_reports_the_model(api):
    status, body = invoke(api, "api-health.json")
    assert body["model_loaded"] is True and body["model"]["version"]


def test_health_reports_the_upload_limit(api):
    """The page refuses a file over the limit before sending it: health says what the limit is."""
    status, body = invoke(api, "api-health.json")
    assert status == 200
    assert body["max_image_bytes"] == api.runtime.engine.settings.max_image_bytes > 0


def test_emf_metrics_are_printed(api, capsys):
    invoke(api, "api-ocr-base64.json")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    names = {m["Name"] for line in lines for d in line["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
    assert {"ImagesProcessed", "WordsRecognized", "InferenceMs"} <= names
    assert all(line["Function"] == "api" for line in lines if "ImagesProcessed" in line)
    for metric in ("ImagesProcessed", "InferenceMs"):  # charted by the dimensions they carry
        assert any(dashboard_sees(line, metric) for line in lines if metric in line), metric


def test_stats_come_from_cloudwatch(api):
    from functions.api import stats

    stats.clear_cache()
    with mock_aws():
        cw = boto3.client("cloudwatch")
        dims = [{"Name": "service", "Value": "ocr"}, {"Name": "Function", "Value": "s3_ocr"}]
        cw.put_metric_data(Namespace="ServerlessOCR", MetricData=[
            {"MetricName": "ImagesProcessed", "Dimensions": dims, "Value": 3, "Unit": "Count"},
            {"MetricName": "InferenceMs", "Dimensions": dims, "Value": 120, "Unit": "Milliseconds"},
            {"MetricName": "InferenceMs", "Dimensions": dims, "Value": 80, "Unit": "Milliseconds"},
        ])
        status, body = invoke(api, "api-stats.json")
    assert status == 200 and body["available"] is True
    assert body["images_processed"] == 3 and body["avg_inference_ms"] == 100.0
    assert body["by_function"]["s3_ocr"]["images"] == 3
    stats.clear_cache()


def test_stats_add_up_every_function_bulk_ocr_too(api):
    from functions.api import stats

    stats.clear_cache()
    with mock_aws():
        cw = boto3.client("cloudwatch")
        for function, images, errors, ms in (("api", 1, 0, 40), ("s3_ocr", 2, 1, 80), ("bulk_ocr", 4, 2, 180)):
            dims = [{"Name": "service", "Value": "ocr"}, {"Name": "Function", "Value": function}]
            cw.put_metric_data(Namespace="ServerlessOCR", MetricData=[
                {"MetricName": "ImagesProcessed", "Dimensions": dims, "Value": images, "Unit": "Count"},
                {"MetricName": "Errors", "Dimensions": dims, "Value": errors, "Unit": "Count"},
                {"MetricName": "WordsRecognized", "Dimensions": dims, "Value": 10 * images, "Unit": "Count"},
                {"MetricName": "InferenceMs", "Dimensions": dims, "Value": ms, "Unit": "Milliseconds"},
            ])
        status, body = invoke(api, "api-stats.json")
    stats.clear_cache()
    assert status == 200 and body["available"] is True
    assert body["by_function"] == {"api": {"images": 1, "errors": 0}, "s3_ocr": {"images": 2, "errors": 1},
                                   "bulk_ocr": {"images": 4, "errors": 2}}
    assert body["images_processed"] == 7 and body["errors"] == 3 and body["words_recognized"] == 70
    assert body["avg_inference_ms"] == 100.0  # (40 + 80 + 180) / 3 samples


def test_bad_options_are_422(api):
    from fastapi.testclient import TestClient

    client = TestClient(api.app)
    png = base64.b64encode((EVENTS.parent / "tests" / "helpers.py").read_bytes()).decode()
    r = client.post("/api/ocr/base64", json={"image": png, "beam_width": 0})
    assert r.status_code == 422 and "beam_width" in r.json()["error"]["detail"]  # refused by the schema's range
    r = client.post("/api/ocr/base64", json={"image": png, "lexicon": [f"w{i}" for i in range(10001)]})
    assert r.status_code == 422


def _scene_jpeg(seed: int = 0) -> bytes:
    import cv2

    from tests.helpers import scene_with_words

    rgb, _ = scene_with_words([("OPEN", 120, 300, 3.0), ("SHOP", 500, 600, 2.5), ("EXIT", 200, 800, 2.0)], seed=seed)
    return cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))[1].tobytes()


def test_health_answers_while_uploads_are_read_and_reads_are_bounded(api, monkeypatch):
    """Uploads held inside the engine until health has answered: were the reading done on
    the event loop, health could not answer (and the test would fail after 20 s)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from fastapi.testclient import TestClient

    engine = api.runtime.ready_engine()
    read = engine.read
    entered, release, lock = threading.Semaphore(0), threading.Event(), threading.Lock()
    inside = {"now": 0, "most": 0}

    def held(data, options=None, **kwargs):
        with lock:
            inside["now"] += 1
            inside["most"] = max(inside["most"], inside["now"])
        entered.release()
        release.wait(timeout=20)
        try:
            return read(data, options, **kwargs)
        finally:
            with lock:
                inside["now"] -= 1

    monkeypatch.setattr(engine, "read", held)
    scene = _scene_jpeg()
    with TestClient(api.app) as client, ThreadPoolExecutor(6) as pool:  # one event loop, as uvicorn has
        uploads = [pool.submit(client.post, "/api/ocr", files={"file": ("scene.jpg", scene, "image/jpeg")})
                   for _ in range(6)]
        for _ in range(api.runtime.read_concurrency):
            assert entered.acquire(timeout=20), "the uploads never reached the engine"
        health = client.get("/api/health")
        answered_while_reading = not any(u.done() for u in uploads)
        release.set()
        statuses = [u.result(timeout=120).status_code for u in uploads]
    assert health.status_code == 200 and answered_while_reading
    assert statuses == [200] * 6
    assert inside["most"] == api.runtime.read_concurrency  # the others waited their turn, without a thread each


def test_health_is_prompt_while_scene_uploads_run(api):
    """The same with real reading (CPU-bound, no hold): health answers before the uploads
    are done. No wall-clock bound: on a loaded CI machine any number of seconds is a guess, and
    the order alone is what an event loop blocked by the reading would break."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    from fastapi.testclient import TestClient

    scenes = [_scene_jpeg(seed) for seed in range(8)]
    done: list[float] = []
    with TestClient(api.app) as client, ThreadPoolExecutor(8) as pool:
        client.post("/api/ocr", files={"file": ("warm.jpg", scenes[0], "image/jpeg")})

        def upload(data: bytes) -> int:
            status = client.post("/api/ocr", files={"file": ("scene.jpg", data, "image/jpeg")}).status_code
            done.append(time.perf_counter())
            return status

        uploads = [pool.submit(upload, data) for data in scenes]
        time.sleep(0.05)  # let the uploads reach the server first
        health = client.get("/api/health")
        health_done = time.perf_counter()
        statuses = [u.result(timeout=300) for u in uploads]
    assert health.status_code == 200 and statuses == [200] * 8
    assert health_done < max(done), "health waited for every upload to finish"


def _word_png() -> bytes:
    import cv2
    import numpy as np

    img = np.full((40, 120, 3), 255, np.uint8)
    cv2.putText(img, "OPEN", (5, 30), cv2.FONT_HERSHEY_SIMPLEX, 1, (0, 0, 0), 2)
    return cv2.imencode(".png", img)[1].tobytes()


@pytest.mark.parametrize("prefix", [
    "data:image/png;name=scan.png;base64,",  # RFC 2397 allows any parameter value, a file name too
    "data:image/jpeg;name=IMG%201.jpg;base64,",
    "\n  data:image/png;base64,",  # whitespace is read anywhere else in the text
])
def test_base64_reads_every_well_formed_data_url(api, prefix):
    from fastapi.testclient import TestClient

    r = TestClient(api.app).post("/api/ocr/base64", json={"image": prefix + base64.b64encode(_word_png()).decode()})
    assert r.status_code == 200, r.json()
    assert r.json()["image_size"] == {"width": 120, "height": 40}


@pytest.mark.parametrize("headers", [{"content-type": "application/x-www-form-urlencoded"},  # curl -d's
                                     {"content-type": "text/plain"}, {}])
def test_base64_body_not_sent_as_json_is_told_so(api, headers):
    """A JSON object sent without a JSON content type: FastAPI does not parse it, and its
    422 said "Input should be an object" of what is one."""
    from fastapi.testclient import TestClient

    body = json.dumps({"image": base64.b64encode(_word_png()).decode()}).encode()
    r = TestClient(api.app).post("/api/ocr/base64", content=body, headers=headers)
    assert r.status_code == 422
    detail = r.json()["error"]["detail"]
    assert "Content-Type: application/json" in detail and "should be an object" not in detail, detail


def test_traces_get_no_answers(api, monkeypatch):
    """X-Ray gets no answer bodies as metadata: they hold the words read off users' photos and
    may hold the annotated image (megabytes: X-Ray drops a segment over 64 KB with its trace)."""
    from functions.common.observability import tracer

    captured = []
    monkeypatch.setattr(tracer, "_add_response_as_metadata",
                        lambda **kw: captured.append((kw["method_name"], kw["capture_response"])))
    status, _ = invoke(api, "api-ocr-upload.json")
    assert status == 200
    names = {name.rsplit(".", 1)[-1] for name, _ in captured}
    assert {"handler", "read_one"} <= names, captured
    assert all(capture is False for _, capture in captured), captured


@pytest.mark.parametrize("body,where", [(b"{not json", "at line 1 column 2"),
                                        (b'{"image": "eA==",\n "beam_width": }', "at line 2 column 16")])
def test_base64_body_not_valid_json_is_told_so_where(api, body, where):
    """FastAPI's own 422 read "body.1: JSON decode error", as if about a field named 1: it
    says the body is not valid JSON, where, as the batch route says it of the same body."""
    from fastapi.testclient import TestClient

    client = TestClient(api.app)
    headers = {"content-type": "application/json"}
    r = client.post("/api/ocr/base64", content=body, headers=headers)
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request"
    detail = r.json()["error"]["detail"]
    assert detail.startswith("body: Invalid JSON: ") and detail.endswith(where), detail
    assert detail == client.post("/api/ocr/batch", content=body, headers=headers).json()["error"]["detail"]


@pytest.mark.parametrize("route", ["/api/ocr/base64", "/api/ocr/batch"])
@pytest.mark.parametrize("body,headers", [(b"", {"content-type": "application/json"}), (b"", {}),
                                          (b" \r\n\t", {"content-type": "application/json"})])
def test_an_empty_json_body_is_told_so_alike_on_both_routes(api, route, body, headers):
    """Base64 said "body: Field required" of an empty body and batch "Invalid JSON: EOF while
    parsing a value at line 1 column 0": both now say the body is empty and what to send."""
    from fastapi.testclient import TestClient

    r = TestClient(api.app).post(route, content=body, headers=headers)
    assert r.status_code == 422 and r.json()["error"] == {
        "code": "invalid_request",
        "detail": "body: empty: send a JSON object, with Content-Type: application/json"}


@pytest.mark.parametrize(("route", "body"), [
    ("/api/ocr/base64", {"image": "eA=="}),
    ("/api/ocr/batch", {"images": [{"image": "eA=="}]}),
])
def test_options_in_the_query_of_a_json_body_are_refused_by_name(api, route, body):
    """``?annotate=true`` on a JSON body was ignored: the answer came back without the
    image asked for, and no word of why. The options go in the body."""
    from fastapi.testclient import TestClient

    client = TestClient(api.app)
    r = client.post(f"{route}?annotate=true&detect=false&cache=1", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["detail"] == (
        "query.detect: a JSON body's options go in the body, beside the image; "
        "query.annotate: a JSON body's options go in the body, beside the image")
    assert client.post(f"{route}?cache=1", json=body).status_code != 422  # another parameter is not an option


@pytest.mark.parametrize("route", ["/api/ocr", "/api/ocr/batch"])
def test_an_empty_part_filename_names_no_file(api, data_dir, route):
    """curl's ``-F "file=@word.png;filename="`` sends ``filename=""``: the answer said
    ``"filename": ""``; a file with no name is answered as one sent without a name."""
    from fastapi.testclient import TestClient

    png = (data_dir / "iiit5k" / "test" / "1002_1.png").read_bytes()
    body = (b'--XX\r\nContent-Disposition: form-data; name="file"; filename=""\r\nContent-Type: image/png\r\n\r\n'
            + png + b"\r\n--XX--\r\n")
    r = TestClient(api.app).post(f"{route}?detect=false", content=body,
                                 headers={"content-type": "multipart/form-data; boundary=XX"})
    assert r.status_code == 200, r.text
    answer = r.json()["results"][0] if route.endswith("batch") else r.json()
    assert "filename" not in answer and answer["words"]
