"""``GET /api/stats`` (this container's counters, CloudWatch's figures or the reason in
words) and the API docs pages served with their own scripts, through the ASGI app."""

from __future__ import annotations

import re

import boto3
import pytest
from botocore.exceptions import ClientError
from fastapi.testclient import TestClient
from moto import mock_aws

from tests.local_server import free_port

NOT_REACHABLE = "CloudWatch is not reachable from here"


@pytest.fixture(scope="module")
def client():
    from functions.api.app import app

    return TestClient(app)


@pytest.fixture(autouse=True)
def fresh_stats_cache():
    from functions.api import stats

    stats.clear_cache()
    yield
    stats.clear_cache()


@pytest.fixture
def no_region(monkeypatch, tmp_path):
    """A laptop with no AWS set-up: no region (nor a config file that names one)."""
    for var in ("AWS_DEFAULT_REGION", "AWS_REGION", "AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))


def _container(client: TestClient) -> dict:
    r = client.get("/api/stats")
    assert r.status_code == 200
    return r.json()["container"]


def test_the_container_counters_move_with_each_request(client, data_dir, no_region):
    before = _container(client)
    crop = (data_dir / "iiit5k" / "test" / "1002_1.png").read_bytes()
    read = client.post("/api/ocr", params={"detect": "false"}, files={"file": ("w.png", crop)})
    assert read.status_code == 200
    words = len(read.json()["words"])
    refused = client.post("/api/ocr", files={"file": ("notes.png", b"not a picture")})
    assert refused.status_code == 415
    bad_option = client.post("/api/ocr/base64", json={"image": "aGk=", "beam_width": 0})
    assert bad_option.status_code == 422
    client.get("/api/health")  # not an OCR request: not counted
    after = _container(client)
    assert after["requests"] - before["requests"] == 3
    assert after["images_processed"] - before["images_processed"] == 1
    assert after["words_recognized"] - before["words_recognized"] == words >= 1
    assert after["errors"] - before["errors"] == 1  # the refused image, as the Errors metric counts
    for status in ("200", "415", "422"):
        assert after["requests_by_status"].get(status, 0) - before["requests_by_status"].get(status, 0) == 1
    lat = after["latency_ms"]
    assert lat["count"] - before["latency_ms"]["count"] == 3
    assert 0 < lat["p50"] <= lat["p90"] <= lat["p99"]


def test_without_aws_the_reason_is_plain_words(client, no_region):
    body = client.get("/api/stats").json()
    assert body["available"] is False
    assert body["reason"] == f"{NOT_REACHABLE} (no AWS region or credentials configured)"
    assert "specify a region" not in body["reason"]  # botocore's own words stay in the log
    assert isinstance(body["container"]["requests"], int)
    again = client.get("/api/stats").json()  # a failure is cached too: no AWS call every poll
    assert again["cached"] is True and again["reason"] == body["reason"]


def test_an_endpoint_that_does_not_answer_is_said_in_words(client, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    body = client.get("/api/stats").json()
    assert body["available"] is False
    assert body["reason"].startswith(NOT_REACHABLE) and "127.0.0.1" not in body["reason"]


def test_a_permission_error_is_said_in_words(client, monkeypatch):
    from functions.api import stats

    class DeniedCloudWatch:
        def get_metric_statistics(self, **_kwargs):
            message = ("User: arn:aws:sts::123456789012:assumed-role/x is not authorized to perform: "
                       "cloudwatch:GetMetricStatistics")
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": message}}, "GetMetricStatistics")

    monkeypatch.setattr(stats, "_client", DeniedCloudWatch)
    body = client.get("/api/stats").json()
    assert body["available"] is False
    assert body["reason"] == "This service is not allowed to read its CloudWatch metrics (permission denied)"
    assert "arn:" not in body["reason"] and "GetMetricStatistics" not in body["reason"]


def test_with_cloudwatch_both_parts_are_there(client):
    with mock_aws():
        dims = [{"Name": "service", "Value": "ocr"}, {"Name": "Function", "Value": "api"}]
        boto3.client("cloudwatch").put_metric_data(Namespace="ServerlessOCR", MetricData=[
            {"MetricName": "ImagesProcessed", "Dimensions": dims, "Value": 2, "Unit": "Count"}])
        body = client.get("/api/stats").json()
    assert body["available"] is True and body["images_processed"] == 2
    assert {"requests", "images_processed", "words_recognized", "errors", "latency_ms"} <= body["container"].keys()


@pytest.mark.parametrize("page,assets", [
    ("/docs", {"docs-assets/swagger-ui-bundle.js", "docs-assets/swagger-ui.css", "docs-assets/favicon.png"}),
    ("/redoc", {"docs-assets/redoc.standalone.js", "docs-assets/favicon.png"}),
])
def test_docs_pages_load_everything_from_this_server_by_relative_urls(client, page, assets):
    r = client.get(page)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert not re.search(r"https?://", html), "a URL to another host"
    urls = set(re.findall(r'(?:src|href)="([^"]+)"', html))
    assert urls == assets  # relative (no leading /): they work under an API Gateway stage too
    assert "openapi.json" in html and "/openapi.json" not in html
    for url in urls:
        asset = client.get(f"/{url}")
        assert asset.status_code == 200 and len(asset.content) > 1000, url
        kind = {"js": "text/javascript", "css": "text/css", "png": "image/png"}[url.rsplit(".", 1)[1]]
        assert asset.headers["content-type"].startswith(kind)
        assert b"cdn.redoc.ly" not in asset.content  # ReDoc's sidebar logo, the one URL it fetched


def test_only_the_bundled_files_are_served(client):
    for name in ("core.py", "..%2Fcore.py", "..%2F..%2Fapp.py", "swagger-ui-bundle.js.map"):
        assert client.get(f"/docs-assets/{name}").status_code == 404
    assert not {"/docs", "/redoc", "/docs-assets/{name}"} & client.get("/openapi.json").json()["paths"].keys()


def test_the_page_files_are_served_and_no_other_name_reaches_the_disk(client):
    assert client.get("/static/app.js").status_code == 200
    # A NUL byte and a name too long for the file system once raised from Path (a 500).
    for name in ("..%2Fapp.py", "..%2F..%2Froutes%2Fpages.py", "a%00b", "a" * 300, "index.html%00.js"):
        r = client.get(f"/static/{name}")
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", name


def test_docs_through_lambda_as_api_gateway_calls_it():
    """The pages and a bundle through Mangum: JavaScript as text, well under Lambda's 6 MB."""
    from functions.api.app import handler
    from infra.invoke import context
    from infra.make_events import http_v2

    for path, kind in (("/docs", "text/html"), ("/redoc", "text/html"),
                       ("/docs-assets/swagger-ui-bundle.js", "text/javascript")):
        resp = handler(http_v2("GET", path), context("api"))
        assert resp["statusCode"] == 200 and resp["headers"]["content-type"].startswith(kind), path
        assert resp["isBase64Encoded"] is False and len(resp["body"]) < 6_000_000


@pytest.mark.parametrize("path", ["/", "/api/health", "/api/stats", "/docs", "/static/app.js", "/openapi.json"])
def test_head_answers_as_get_without_the_body(client, path):
    """Uptime checks and ``curl -I`` send HEAD: GET's status and headers, no body (was a 405)."""
    get, head = client.get(path), client.head(path)
    assert head.status_code == get.status_code == 200, path
    assert head.content == b"" and head.headers["content-type"] == get.headers["content-type"]


def test_head_of_a_post_route_is_still_not_allowed(client):
    r = client.head("/api/ocr")
    assert r.status_code == 405 and "POST" in r.headers["allow"]


def test_head_through_lambda_as_api_gateway_calls_it():
    from functions.api.app import handler
    from infra.invoke import context
    from infra.make_events import http_v2

    resp = handler(http_v2("HEAD", "/api/health"), context("api"))
    assert resp["statusCode"] == 200 and resp["body"] == ""


def test_a_head_that_meets_a_bug_through_lambda_has_no_body(monkeypatch):
    """A 500 is sent from outside the app's middleware: Mangum's wrapper drops its body too."""
    from functions.api import app as api
    from infra.invoke import context
    from infra.make_events import http_v2

    class Broken:
        @property
        def model_info(self):
            raise TypeError("a bug")

    monkeypatch.setattr(api.runtime, "engine", Broken())
    resp = api.handler(http_v2("HEAD", "/api/health"), context("api"))
    assert resp["statusCode"] == 500 and resp["body"] == ""


def test_a_cors_preflight_for_head_is_allowed():
    import os
    import subprocess
    import sys

    from tests.conftest import REPO

    code = ("from fastapi.testclient import TestClient\nimport functions.api.app as m\n"
            "r = TestClient(m.app).options('/api/health', headers={'Origin': 'https://a.example', "
            "'Access-Control-Request-Method': 'HEAD'})\nprint('PREFLIGHT', r.status_code)")
    env = {**os.environ, "OCR_CORS_ORIGINS": "https://a.example", "PYTHONPATH": f"{REPO}:{REPO / 'layers'}"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO,
                         timeout=120, check=False)
    assert "PREFLIGHT 200" in out.stdout, out.stdout[-500:] + out.stderr[-1500:]


def test_cors_refusals_and_a_bugs_500_are_answered_for_the_browser():
    """A refused preflight was plain text, and a bug's 500 came without CORS headers (Starlette
    answers it outside the CORS middleware): a browser showed a CORS failure, not the error."""
    import os
    import subprocess
    import sys

    from tests.conftest import REPO

    code = """
from fastapi.testclient import TestClient
import functions.api.app as m
client = TestClient(m.app, raise_server_exceptions=False)
for origin, method in (("https://evil.example", "POST"), ("https://a.example", "PUT")):
    r = client.options('/api/ocr', headers={'Origin': origin, 'Access-Control-Request-Method': method})
    print('PREFLIGHT', r.status_code, r.headers['content-type'], r.json()['error']['code'], r.json()['error']['detail'])
class Broken:
    @property
    def model_info(self):
        raise TypeError('a bug')
m.runtime.engine = Broken()
for origin in ('https://a.example', 'https://evil.example'):
    r = client.get('/api/health', headers={'Origin': origin})
    print('BUG', origin, r.status_code, r.json()['error']['code'], r.headers.get('access-control-allow-origin'))
"""
    env = {**os.environ, "OCR_CORS_ORIGINS": "https://a.example", "PYTHONPATH": f"{REPO}:{REPO / 'layers'}"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO,
                         timeout=120, check=False)
    lines = [line for line in out.stdout.splitlines() if line.startswith(("PREFLIGHT", "BUG"))]
    assert lines == [
        "PREFLIGHT 400 application/json bad_request CORS preflight refused: Disallowed CORS origin",
        "PREFLIGHT 400 application/json bad_request CORS preflight refused: Disallowed CORS method",
        "BUG https://a.example 500 internal_error https://a.example",
        "BUG https://evil.example 500 internal_error None",
    ], out.stdout[-800:] + out.stderr[-1500:]


@pytest.mark.parametrize("path", ["/", "/docs", "/redoc", "/api/health", "/openapi.json", "/static/app.js", "/nowhere"])
def test_every_answer_forbids_sniffing_and_pages_forbid_framing(path):
    from fastapi.testclient import TestClient

    from functions.api import app as api

    r = TestClient(api.app).get(path)
    assert r.headers["x-content-type-options"] == "nosniff"
    html = r.headers["content-type"].startswith("text/html")
    assert html == (path in ("/", "/docs", "/redoc"))
    assert (r.headers.get("x-frame-options"), r.headers.get("content-security-policy")) == (
        ("DENY", "frame-ancestors 'none'") if html else (None, None))
