"""Hostile and broken input through the API (Mangum events and the local-server app) and
the S3 function: each gets its documented 4xx (or a result), never a 5xx or a crash."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from infra.invoke import context
from infra.make_events import BOUNDARY, http_v2, multipart
from tests.hostile_corpus import HOSTILE_KEYS, corpus
from tests.integration.conftest import BUCKET, s3_event

CASES = corpus()
CTX = context("api")


@pytest.fixture(scope="module")
def client(api):
    return TestClient(api.app)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_upload_through_the_local_server_app(client, case):
    r = client.post("/api/ocr", files={"file": (case.filename, case.data, "application/octet-stream")})
    assert r.status_code == case.status, r.text
    if case.code:
        assert r.json()["error"]["code"] == case.code


@pytest.mark.parametrize("case", [c for c in CASES if len(c.data) < 4_000_000], ids=lambda c: c.name)
def test_upload_through_mangum(api, case):
    event = http_v2("POST", "/api/ocr", multipart(case.filename, case.data, "image/png"),
                    f"multipart/form-data; boundary={BOUNDARY}", b64=True)
    resp = api.handler(event, CTX)
    assert resp["statusCode"] == case.status, resp["body"][:500]


@pytest.mark.parametrize("case", [c for c in CASES if len(c.data) < 4_000_000], ids=lambda c: c.name)
def test_base64_route(client, case):
    r = client.post("/api/ocr/base64", json={"image": base64.b64encode(case.data).decode(), "filename": case.filename})
    assert r.status_code == case.status, r.text


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_a_confidence_that_is_no_number_is_told_so(client, value):
    png = next(c for c in CASES if c.name == "palette PNG").data
    r = client.post("/api/ocr", files={"file": ("w.png", png, "image/png")}, params={"min_confidence": value})
    assert r.status_code == 422 and "finite number" in r.json()["error"]["detail"], r.text


@pytest.mark.parametrize("payload,status", [
    ({"image": "%%% not base64 %%%"}, 400),
    ({"image": "data:application/pdf;base64,JVBERi0xLjc="}, 400),
    ({"image": "data:image/png;base64,AAAA"}, 415),
    ({"image": ""}, 400),
    ({}, 422),
    ({"image": 12345}, 422),
    # Strict JSON: no coercion from other types (bools, strings, floats for integers).
    ({"image": "AAAA", "beam_width": True}, 422),
    ({"image": "AAAA", "beam_width": 2.0}, 422),
    ({"image": "AAAA", "max_regions": "3"}, 422),
    ({"image": "AAAA", "detect": "yes"}, 422),
    ({"image": "AAAA", "detect": 1}, 422),
    ({"image": "AAAA", "annotate": "true"}, 422),
    ({"image": "AAAA", "min_confidence": True}, 422),
    ({"image": "AAAA", "lexicon": ["open", 7]}, 422),
    ({"image": "AAAA", "filename": 7}, 422),
])
def test_base64_errors(client, payload, status):
    r = client.post("/api/ocr/base64", json=payload)
    assert r.status_code == status, r.text
    assert r.json()["request_id"]


@pytest.mark.parametrize("encode", [
    lambda data: base64.urlsafe_b64encode(data).decode(),
    lambda data: base64.urlsafe_b64encode(data).decode().rstrip("="),
    lambda data: base64.b64encode(data).decode().rstrip("="),
    lambda data: base64.encodebytes(data).decode(),  # MIME: a line break every 76 characters
], ids=["url-safe", "url-safe unpadded", "unpadded", "line breaks"])
def test_base64_as_other_clients_write_it_is_read(client, encode):
    png = next(c for c in CASES if c.name == "palette PNG").data
    # Bytes after the PNG's end that the standard alphabet writes '+/+/', then '==' padding.
    data = png + b"\0" * (-len(png) % 3) + b"\xfb\xff\xbf" + b"\0"
    assert base64.b64encode(data).decode().endswith("+/+/AA==")
    r = client.post("/api/ocr/base64", json={"image": encode(data), "detect": False})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("image", ["QUJDR", "QU=JDA", "QUJDRA==!", "QUJD*A=="])
def test_base64_that_no_alphabet_or_padding_mends_is_refused(client, image):
    r = client.post("/api/ocr/base64", json={"image": image})
    assert r.status_code == 400 and "not valid base64" in r.json()["error"]["detail"], r.text


def test_json_options_of_the_right_type_are_accepted(client):
    png = next(c for c in CASES if c.name == "palette PNG")
    r = client.post("/api/ocr/base64", json={"image": base64.b64encode(png.data).decode(), "detect": False,
                                             "beam_width": 3, "max_regions": 2, "min_confidence": 0,
                                             "annotate": False, "lexicon": ["open"], "filename": "a.png"})
    assert r.status_code == 200, r.text
    assert r.json()["filename"] == "a.png"


def test_form_and_query_values_are_parsed_from_text_as_before(client):
    png = next(c for c in CASES if c.name == "palette PNG")
    r = client.post("/api/ocr?beam_width=2&annotate=true", files={"file": ("a.png", png.data)},
                    data={"detect": "false", "max_regions": "3", "min_confidence": "0.0"})
    assert r.status_code == 200, r.text
    assert r.json()["annotated_b64"]


def test_several_file_parts_are_refused(client, api):
    png = next(c for c in CASES if c.name == "palette PNG").data
    r = client.post("/api/ocr", files=[("file", ("a.png", png, "image/png")), ("file", ("b.png", png, "image/png"))])
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request"
    assert "one image per request" in r.json()["error"]["detail"]
    closing = f"--{BOUNDARY}--\r\n".encode()
    part = multipart("a.png", png, "image/png")[:-len(closing)]
    body = part + part + closing  # the same file part twice, through API Gateway
    resp = api.handler(http_v2("POST", "/api/ocr", body, f"multipart/form-data; boundary={BOUNDARY}", b64=True), CTX)
    assert resp["statusCode"] == 422 and json.loads(resp["body"])["error"]["code"] == "invalid_request"


def test_an_image_sent_as_a_text_field_is_told_to_send_a_file(client):
    r = client.post("/api/ocr", data={"file": "iVBORw0KGgo="})  # a form field, no filename
    assert r.status_code == 422 and r.json()["error"]["detail"].startswith(
        "body.file: a text field, not a file: send the image as a file part")


def test_malformed_json_and_wrong_content_type(client):
    bad_json = client.post("/api/ocr/base64", content=b"{not json", headers={"content-type": "application/json"})
    assert bad_json.status_code == 422
    assert client.post("/api/ocr", content=b"raw bytes", headers={"content-type": "image/png"}).status_code == 422


def test_unknown_options_are_ignored_and_bad_ones_refused(client):
    png = next(c for c in CASES if c.name == "palette PNG")
    ok = client.post("/api/ocr?colour=blue&turbo=1", files={"file": ("a.png", png.data)})
    assert ok.status_code == 200
    for q in ("beam_width=0", "beam_width=1000", "max_regions=0", "max_regions=9999", "min_confidence=2",
              "beam_width=ten", "detect=maybe"):
        r = client.post(f"/api/ocr?{q}", files={"file": ("a.png", png.data)})
        assert r.status_code == 422, (q, r.text)


def test_a_lexicon_of_100000_words_is_refused(client):
    png = next(c for c in CASES if c.name == "palette PNG")
    words = [f"w{i}" for i in range(100_000)]
    image = base64.b64encode(png.data).decode()
    as_items = client.post("/api/ocr/base64", json={"image": image, "lexicon": words})
    assert as_items.status_code == 422 and "lexicon: List should have at most 10000 items" in as_items.text
    in_ten_items = [" ".join(words[i::10]) for i in range(10)]
    r = client.post("/api/ocr/base64", json={"image": image, "lexicon": in_ten_items})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_option"


def test_a_body_of_many_bad_items_gets_a_short_answer_naming_the_first(client):
    """One error per item used to be listed: 2,000,000 bad items, a 100 MB answer."""
    lexicon = [1] * 10_000  # within the list's cap, every item of the wrong type
    r = client.post("/api/ocr/base64", json={"image": "AAAA", "lexicon": lexicon})
    detail = r.json()["error"]["detail"]
    assert r.status_code == 422 and detail.startswith("body.lexicon.0: Input should be a valid string")
    assert detail.endswith("; and 9,980 more") and len(r.content) < 2000


@pytest.mark.parametrize("lexicon, detail", [
    (["caf\ud800"], "not valid Unicode"),  # a lone surrogate: JSON allows it, UTF-8 cannot write it back
    (["!!!", "&", "--"], "no lexicon word holds a letter or digit"),
])
def test_a_lexicon_that_cannot_be_read_or_answered_is_a_4xx(client, api, lexicon, detail):
    png = next(c for c in CASES if c.name == "palette PNG")
    body = json.dumps({"image": base64.b64encode(png.data).decode(), "lexicon": lexicon, "detect": False})
    r = client.post("/api/ocr/base64", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_option", r.text
    assert detail in r.json()["error"]["detail"]
    event = http_v2("POST", "/api/ocr/base64", body, "application/json")
    response = api.handler(event, CTX)
    assert response["statusCode"] == 422 and detail in json.loads(response["body"])["error"]["detail"]


def test_words_without_a_letter_or_digit_are_left_out_of_a_lexicon(client):
    png = next(c for c in CASES if c.name == "palette PNG")
    body = {"image": base64.b64encode(png.data).decode(), "lexicon": ["!!!", "HELLO"], "detect": False}
    r = client.post("/api/ocr/base64", json=body)
    assert r.status_code == 200 and [w["text"] for w in r.json()["words"]] in ([], ["HELLO"])


@pytest.mark.parametrize("case", [c for c in CASES if len(c.data) < 4_000_000], ids=lambda c: c.name)
def test_s3_function_writes_a_result_or_an_error_for_every_case(s3, case):
    client, module = s3
    key = f"in/{case.filename}"
    client.put_object(Bucket=BUCKET, Key=key, Body=case.data)
    out = module.handler(s3_event(key), CTX)
    result = json.loads(client.get_object(Bucket=BUCKET, Key=key + ".ocr.json")["Body"].read())
    if case.status == 200:
        assert out["outcomes"][key] == "done" and "words" in result
    else:
        assert out["outcomes"][key] == "refused" and result["error"]["code"] == case.code


def test_s3_refuses_objects_over_the_limit_without_reading_them(s3, monkeypatch):
    client, module = s3
    from dataclasses import replace

    monkeypatch.setattr(module.engine, "settings", replace(module.engine.settings, max_image_bytes=1000))
    read, engine_read = [], module.engine.read  # what reached the engine: nothing, its size refuses it first
    monkeypatch.setattr(module.engine, "read", lambda data, *a: read.append(len(data)) or engine_read(data, *a))
    client.put_object(Bucket=BUCKET, Key="big.png", Body=b"\x89PNG\r\n\x1a\n" + b"\0" * 5000)
    assert module.handler(s3_event("big.png"), CTX)["outcomes"]["big.png"] == "refused"
    assert read == []
    error = json.loads(client.get_object(Bucket=BUCKET, Key="big.png.ocr.json")["Body"].read())["error"]
    assert error == {"code": "image_too_large", "detail": "the object is 5,008 bytes; the limit is 1,000"}


@pytest.mark.parametrize("key", HOSTILE_KEYS, ids=range(len(HOSTILE_KEYS)))
def test_hostile_keys_round_trip_to_their_own_result(s3, key):
    client, module = s3
    png = next(c for c in CASES if c.name == "palette PNG").data
    client.put_object(Bucket=BUCKET, Key=key, Body=png)
    assert module.handler(s3_event(key), CTX)["outcomes"] == {key: "done"}
    result = json.loads(client.get_object(Bucket=BUCKET, Key=key + ".ocr.json")["Body"].read())
    assert result["source"]["key"] == key
    listed = {o["Key"] for o in client.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert listed == {key, key + ".ocr.json"}  # written beside the source, nowhere else


def _malformed(path: str, *keys: str, value: object) -> dict:
    """A sample event from events/ with one field (a path of keys) set to ``value``."""
    event = json.loads((Path(__file__).parents[2] / "events" / path).read_text())
    inner = event
    for key in keys[:-1]:
        inner = inner[key]
    inner[keys[-1]] = value
    return event


# Fields a hand-made event (sam local invoke -e, a test console) gets wrong; Mangum raised on
# each (AttributeError, TypeError, KeyError, binascii.Error) or the app answered 500.
MALFORMED_HTTP_EVENTS = {
    "v2 headers null": _malformed("api-ocr-base64.json", "headers", value=None),
    "v2 a header null": _malformed("api-ocr-base64.json", "headers", "content-type", value=None),
    "v2 rawQueryString null": _malformed("api-ocr-base64.json", "rawQueryString", value=None),
    "v2 no http context": _malformed("api-ocr-base64.json", "requestContext", "http", value={}),
    "v2 method a list": _malformed("api-ocr-base64.json", "requestContext", "http", "method", value=[]),
    "v2 requestId a number": _malformed("api-ocr-base64.json", "requestContext", "requestId", value=7),
    # A lone surrogate: every answer names the id, and UTF-8 cannot write it (a plain-text 500).
    "v2 requestId a lone surrogate": _malformed("api-ocr-base64.json", "requestContext", "requestId",
                                                value="r\ud800"),
    "v2 isBase64Encoded a string": _malformed("api-ocr-base64.json", "isBase64Encoded", value="x"),
    "v2 body a number": _malformed("api-ocr-base64.json", "body", value=7),
    "v2 version unknown": _malformed("api-ocr-base64.json", "version", value="x"),
    "v1 headers a string": _malformed("api-rest-v1-health.json", "headers", value="x"),
    "v1 query a number": _malformed("api-rest-v1-health.json", "queryStringParameters", value=7),
    "v1 identity null": _malformed("api-rest-v1-health.json", "requestContext", "identity", value=None),
}


@pytest.mark.parametrize("event", list(MALFORMED_HTTP_EVENTS.values()), ids=list(MALFORMED_HTTP_EVENTS))
def test_a_malformed_http_event_is_a_400_not_a_lambda_error(api, event):
    response = api.handler(event, CTX)
    assert response["statusCode"] == 400
    body = json.loads(response["body"])
    assert body["error"]["code"] == "bad_request" and "well-formed API Gateway" in body["error"]["detail"]


@pytest.mark.parametrize("name", ["api-ocr-base64.json", "api-rest-v1-health.json"])
def test_the_sample_events_the_malformed_ones_come_from_are_served(api, name):
    event = json.loads((Path(__file__).parents[2] / "events" / name).read_text())
    assert api.handler(event, CTX)["statusCode"] == 200


@pytest.mark.parametrize("event", [{}, {"source": "serverless-plugin-warmup"}, [], "ping", s3_event("a.png")],
                         ids=["empty", "warm-up ping", "a list", "a string", "an S3 event"])
def test_an_event_that_is_not_http_is_a_400_not_a_lambda_error(api, event):
    response = api.handler(event, CTX)
    assert response["statusCode"] == 400
    body = json.loads(response["body"])
    assert body["error"]["code"] == "bad_request" and "API Gateway" in body["error"]["detail"]
    assert body["request_id"] == CTX.aws_request_id


# -- a review's findings: answers sized by the input, redirects, JSON the two routes parse alike --
def _lambda_answer(api, event: dict) -> tuple[int, dict, int]:
    """(status, body, bytes of the whole Lambda response, which may be 6,291,456 at most)."""
    response = api.handler(event, CTX)
    return response["statusCode"], json.loads(response["body"] or "{}"), len(json.dumps(response).encode())


def test_a_lexicon_word_that_cannot_be_answered_is_not_echoed_whole(api):
    """A 1 MB word of DEL characters was echoed in repr, escaped twice: a 7 MB answer, which
    Lambda refuses (the caller saw API Gateway's 502)."""
    body = json.dumps({"image": "AAAA", "lexicon": ["\x7f" * 1_000_000 + "\ud800"]})
    status, answer, size = _lambda_answer(api, http_v2("POST", "/api/ocr/base64", body, "application/json"))
    assert status == 422 and answer["error"]["code"] == "invalid_option" and size < 2_000
    assert "not valid Unicode" in answer["error"]["detail"]


def test_a_data_url_media_type_is_not_echoed_whole(api):
    """A 4 MB media type of 'İ' (two bytes, three once lower-cased) made a 6.3 MB answer."""
    png = next(c for c in CASES if c.name == "palette PNG")
    image = "data:" + "\u0130" * 2_000_000 + ";base64," + base64.b64encode(png.data).decode()
    for path, body in (("/api/ocr/base64", {"image": image}), ("/api/ocr/batch", {"images": [{"image": image}]})):
        status, answer, size = _lambda_answer(api, http_v2("POST", path, json.dumps(body), "application/json"))
        assert status in (200, 400) and size < 2_000, (path, status)
        error = answer["results"][0]["error"] if path.endswith("batch") else answer["error"]
        assert error["code"] == "invalid_image"


@pytest.mark.parametrize("path", ["/api/health/", "/api/ocr/base64/", "/api/ocr/batch/"])
def test_a_trailing_slash_is_a_json_404_not_a_redirect(api, path):
    """It was a 307 with no body to a Location built from the Host header (a stage left out)."""
    event = http_v2("GET" if "health" in path else "POST", path, "{}", "application/json")
    event["headers"]["host"] = "evil.example"
    status, answer, _ = _lambda_answer(api, event)
    assert status == 404 and answer["error"]["code"] == "not_found"


@pytest.mark.parametrize("body,said", [
    ("[" * 100_000 + "]" * 100_000, "recursion limit exceeded"),
    ('{"image": "AAAA", "beam_width": ' + "9" * 5000 + "}", "number out of range"),
    (b'{"image": "\xff\xfe"}', "invalid unicode code point"),
])
def test_json_that_python_cannot_parse_is_worded_alike_on_both_routes(client, body, said):
    """The base64 route answered FastAPI's 400 "There was an error parsing the body"; batch a 422."""
    for path in ("/api/ocr/base64", "/api/ocr/batch"):
        r = client.post(path, content=body, headers={"content-type": "application/json"})
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request", (path, r.text)
        assert r.json()["error"]["detail"].startswith("body: Invalid JSON: " + said), (path, r.text)


def test_a_byte_order_mark_before_json_is_read_on_both_routes(client):
    png = next(c for c in CASES if c.name == "palette PNG")
    image = {"image": base64.b64encode(png.data).decode(), "detect": False}
    for path, body in (("/api/ocr/base64", image), ("/api/ocr/batch", {"images": [image]})):
        r = client.post(path, content=b"\xef\xbb\xbf" + json.dumps(body).encode(),
                        headers={"content-type": "application/json"})
        assert r.status_code == 200, (path, r.text)


def test_a_body_flagged_base64_that_is_not_is_refused_not_read_in_part(api):
    """Mangum decodes without validating: "!!@@" inside a base64 body was skipped and the rest read."""
    png = next(c for c in CASES if c.name == "palette PNG")
    good = base64.b64encode(json.dumps({"image": base64.b64encode(png.data).decode(), "detect": False}).encode())
    event = http_v2("POST", "/api/ocr/base64", None, "application/json", b64=True)
    event["body"] = good[:40].decode() + "!!@@" + good[40:].decode()
    status, answer, _ = _lambda_answer(api, event)
    assert status == 400 and answer["error"]["code"] == "bad_request"
    assert "isBase64Encoded is true but the body is not base64" in answer["error"]["detail"]
    assert answer["request_id"] == event["requestContext"]["requestId"]  # API Gateway's, not Lambda's
    event["body"] = good.decode()
    assert api.handler(event, CTX)["statusCode"] == 200
