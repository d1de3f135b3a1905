"""``POST /api/ocr/batch``: several images in one request, multipart or JSON, through the
test client and through the Lambda handler with API Gateway events. Each item is the
reading ``/api/ocr`` gives for that image, or that image's error body, in the order sent;
the batch's count and total bytes are bounded by the same 6 MB event as one image."""

from __future__ import annotations

import base64
import dataclasses
import json

import pytest
from fastapi.testclient import TestClient
from ocr_engine.config import DEFAULT_MAX_IMAGE_BYTES, LAMBDA_PAYLOAD_LIMIT

from infra.invoke import context
from infra.make_events import BOUNDARY, http_v2, word_png
from tests.integration.test_limits import HEADROOM, event_size, gateway_event, png_of_size

CONTEXT = context("api")
NOT_AN_IMAGE = b"name,amount\nrent,1200\n"
TIMING_FIELDS = ("request_id", "timings_ms")


@pytest.fixture(scope="module")
def client(api) -> TestClient:
    return TestClient(api.app)


@pytest.fixture(scope="module")
def three(data_dir) -> list[tuple[str, bytes]]:
    """A real word crop, something that is not an image, a rendered word: in that order."""
    return [("crop.png", (data_dir / "iiit5k" / "test" / "1002_1.png").read_bytes()),
            ("notes.csv", NOT_AN_IMAGE), ("open.png", word_png("OPEN"))]


def multipart_many(files: list[tuple[str, bytes]], fields: dict[str, str] | None = None) -> bytes:
    """A multipart body with one ``file`` part per image (as a browser sends several files)."""
    parts = [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in (fields or {}).items()]
    parts += [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
              f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n" for name, data in files]
    return b"".join([*parts, f"--{BOUNDARY}--\r\n".encode()])


def json_body(files: list[tuple[str, bytes]], **options) -> dict:
    images = [{"image": ("data:image/png;base64," if i % 2 else "") + base64.b64encode(data).decode(),
               "filename": name} for i, (name, data) in enumerate(files)]
    return {"images": images, **options}


def reading(body: dict) -> dict:
    """A reading without what differs from request to request (its id, its timings)."""
    return {k: v for k, v in body.items() if k not in TIMING_FIELDS}


def singles(client: TestClient, files: list[tuple[str, bytes]], params: dict | None = None) -> list[dict]:
    """What ``/api/ocr`` answers for each image alone."""
    return [client.post("/api/ocr", files={"file": (name, data)}, params=params or {}).json() for name, data in files]


def assert_three_in_order(results: list[dict], alone: list[dict], request_id: str | None = None) -> None:
    assert len(results) == 3
    first, bad, last = results
    assert reading(first) == reading(alone[0]) and first["full_text"]
    assert reading(last) == reading(alone[2]) and last["full_text"] == "open"
    assert bad["error"] == alone[1]["error"] and bad["error"]["code"] == "unsupported_format" and bad["status"] == 415
    assert bad["filename"] == alone[1]["filename"] == "notes.csv" and bad["error"]["detail"] and bad["request_id"]
    if request_id:
        assert {r["request_id"] for r in results} == {request_id}


def lambda_call(api, event: dict) -> tuple[int, dict]:
    resp = api.handler(event, CONTEXT)
    body = base64.b64decode(resp["body"]) if resp.get("isBase64Encoded") else resp["body"]
    ctype = {k.lower(): v for k, v in resp.get("headers", {}).items()}.get("content-type", "")
    assert "application/json" in ctype, (resp["statusCode"], body[:200])
    return resp["statusCode"], json.loads(body)


def test_three_images_one_not_an_image_multipart(client, three):
    r = client.post("/api/ocr/batch", files=[("file", f) for f in three])
    assert r.status_code == 200, r.text
    assert_three_in_order(r.json()["results"], singles(client, three))


def test_three_images_one_not_an_image_json_body(client, three):
    r = client.post("/api/ocr/batch", json=json_body(three, detect=False))
    assert r.status_code == 200, r.text
    assert_three_in_order(r.json()["results"], singles(client, three, {"detect": "false"}))


@pytest.mark.parametrize("form,query", [
    ({"detect": "false", "annotate": "true"}, {"beam_width": "1"}),
    ({"detect": "false"}, {"beam_width": "1", "annotate": "true"}),
    ({"detect": "false", "annotate": "true"}, {"beam_width": "1", "annotate": "false"}),  # a form field wins
], ids=["annotate-as-a-form-field", "annotate-in-the-query", "the-form-field-wins"])
def test_options_as_form_fields_or_query_as_api_ocr_takes_them(client, three, form, query):
    # annotate shows in the answer; detect and beam_width do not change how these crops read,
    # so a batch that ignored the options passed when they were all this test sent.
    alone = singles(client, three, {"detect": "false", "beam_width": "1", "annotate": "true"})
    assert alone[0]["annotated_b64"] and alone[2]["annotated_b64"]
    r = client.post("/api/ocr/batch", files=[("file", f) for f in three], data=form, params=query)
    assert r.status_code == 200, r.text
    assert_three_in_order(r.json()["results"], alone)


def test_through_mangum_with_api_gateway_events(api, client, three):
    alone = singles(client, three, {"detect": "false"})
    event = http_v2("POST", "/api/ocr/batch", multipart_many(three, {"detect": "false"}),
                    f"multipart/form-data; boundary={BOUNDARY}", b64=True)
    status, body = lambda_call(api, event)
    assert status == 200, body
    assert_three_in_order(body["results"], alone, event["requestContext"]["requestId"])

    event = http_v2("POST", "/api/ocr/batch", json.dumps(json_body(three, detect=False)), "application/json")
    status, body = lambda_call(api, event)
    assert status == 200, body
    assert_three_in_order(body["results"], alone, event["requestContext"]["requestId"])


def test_annotated_images_share_one_images_budget(client, api, three):
    r = client.post("/api/ocr/batch", json=json_body([three[0], three[2]], detect=False, annotate=True))
    results = r.json()["results"]
    assert all(x["annotated_b64"] for x in results)
    budget = api.runtime.ready_engine().settings.max_annotated_bytes
    assert sum(len(base64.b64decode(x["annotated_b64"])) for x in results) <= budget


@pytest.mark.parametrize("route", ["multipart", "json"])
def test_more_images_than_the_limit_is_422(api, client, route):
    limit = api.runtime.ready_engine().settings.max_batch_images
    files = [(f"{i}.png", word_png("OPEN")) for i in range(limit + 1)]
    if route == "multipart":
        r = client.post("/api/ocr/batch", files=[("file", f) for f in files])
    else:
        r = client.post("/api/ocr/batch", json=json_body(files))
    assert r.status_code == 422
    body = r.json()
    assert body["error"]["code"] == "invalid_option" and f"at most {limit} images" in body["error"]["detail"]
    assert body["request_id"]


@pytest.mark.parametrize("item", ['{"image":""}', "1"])
def test_a_body_of_a_huge_list_is_refused_by_its_count_in_a_short_answer(client, item):
    """Each item used to be made a model (hundreds of MB), then answered with an error each."""
    body = '{"images":[' + ",".join([item] * 300_000) + "]}"
    r = client.post("/api/ocr/batch", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_option"
    assert "at most 16 images" in r.json()["error"]["detail"] and len(r.content) < 400


@pytest.mark.parametrize("body, detail", [
    (b"[1, 2]", "body: Input should be an object"),
    (b"null", "body: Input should be an object"),
    (b'{"images": {}}', "body.images: Input should be a valid array"),
    (b'{"images": [1]}', "body.images.0: Input should be an object"),
])
def test_a_json_value_of_the_wrong_type_is_named_in_json_words(client, body, detail):
    """The batch body is parsed before it is validated: pydantic's messages then named classes."""
    r = client.post("/api/ocr/batch", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["error"]["detail"] == detail


def test_a_batch_at_the_count_limit_is_read(api, client):
    limit = api.runtime.ready_engine().settings.max_batch_images
    r = client.post("/api/ocr/batch", files=[("file", (f"{i}.png", word_png("EXIT"))) for i in range(limit)],
                    params={"detect": "false"})
    assert r.status_code == 200
    assert [x["full_text"] for x in r.json()["results"]] == ["exit"] * limit


@pytest.mark.parametrize("payload", [{"json": {"images": []}}, {"data": {"detect": "false"}, "files": {}},
                                     {"content": b""}], ids=["json", "multipart", "no-body"])
def test_an_empty_batch_is_422(client, payload):
    if "files" in payload:  # a multipart body with a field and no file part
        r = client.post("/api/ocr/batch", content=multipart_many([], payload["data"]),
                        headers={"content-type": f"multipart/form-data; boundary={BOUNDARY}"})
    else:
        r = client.post("/api/ocr/batch", **payload)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "invalid_request" and r.json()["request_id"]


def test_bad_options_and_bodies_are_422(client, three):
    r = client.post("/api/ocr/batch", json={**json_body(three), "beam_width": 0})
    assert r.status_code == 422 and "beam_width" in r.json()["error"]["detail"]
    r = client.post("/api/ocr/batch", json={**json_body(three), "detect": "yes"})  # JSON is not coerced
    assert r.status_code == 422 and "detect" in r.json()["error"]["detail"]
    r = client.post("/api/ocr/batch", files=[("file", three[0])], data={"max_regions": "99"})
    assert r.status_code == 422 and "max_regions" in r.json()["error"]["detail"]
    r = client.post("/api/ocr/batch", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request"
    r = client.post("/api/ocr/batch", content=b"abc", headers={"content-type": "text/plain"})
    assert r.status_code == 422 and "content-type" in r.json()["error"]["detail"]


# -- the total of a batch against Lambda's 6 MB event, as test_limits.py checks one image ---
LIMIT = DEFAULT_MAX_IMAGE_BYTES
HALF = LIMIT // 2


def upload_event(images: list[bytes]) -> dict:
    form = multipart_many([(f"photo-{i}.png", d) for i, d in enumerate(images)], {"detect": "false"})
    return gateway_event("/api/ocr/batch", form, f"multipart/form-data; boundary={BOUNDARY}")


def json_event(images: list[bytes]) -> dict:
    """The worst case: data URLs in JSON, base64-encoded again by API Gateway."""
    body = json_body([("photo-" + "x" * 1000 + ".png", d) for d in images], detect=False)
    body["images"] = [{**i, "image": "data:image/png;base64," + i["image"].split(",")[-1]} for i in body["images"]]
    return gateway_event("/api/ocr/batch", json.dumps(body).encode(), "application/json", b64=True)


@pytest.fixture(scope="module")
def halves() -> tuple[bytes, bytes]:
    return png_of_size(HALF, seed=1), png_of_size(LIMIT - HALF, seed=2)


def test_the_default_total_is_the_one_image_limit(api):
    settings = api.runtime.ready_engine().settings
    assert settings.max_batch_bytes == LIMIT == settings.max_image_bytes


@pytest.mark.parametrize("make", [upload_event, json_event], ids=["multipart", "json"])
def test_a_batch_at_the_total_limit_fits_a_lambda_event_and_is_read(api, halves, make):
    event = make(list(halves))
    assert event_size(event) <= LAMBDA_PAYLOAD_LIMIT - HEADROOM
    status, body = lambda_call(api, event)
    assert status == 200, body
    assert [x["image_size"]["width"] for x in body["results"]] == [1000, 1000]


@pytest.mark.parametrize("make", [upload_event, json_event], ids=["multipart", "json"])
def test_a_batch_a_byte_over_the_total_limit_gets_the_apps_413(api, halves, make):
    event = make([halves[0], halves[1] + b"\0"])  # a byte after IEND: still a PNG, one byte more
    assert event_size(event) <= LAMBDA_PAYLOAD_LIMIT  # so it reaches the app, not a gateway error
    status, body = lambda_call(api, event)
    assert status == 413
    assert body["error"]["code"] == "image_too_large" and f"{LIMIT:,}" in body["error"]["detail"]
    assert body["request_id"] == event["requestContext"]["requestId"]


def test_the_deadline_covers_the_batch_and_fails_each_image_it_stops(api, client, three, monkeypatch):
    engine = api.runtime.engine
    monkeypatch.setattr(engine, "settings", dataclasses.replace(engine.settings, request_deadline_s=1e-9))
    r = client.post("/api/ocr/batch", files=[("file", three[0]), ("file", three[2])])
    assert r.status_code == 200
    assert [(x["error"]["code"], x["status"]) for x in r.json()["results"]] == [("deadline_exceeded", 503)] * 2


def test_the_route_documents_both_bodies_and_its_answer(client):
    op = client.get("/openapi.json").json()["paths"]["/api/ocr/batch"]["post"]
    content = op["requestBody"]["content"]
    assert content["multipart/form-data"]["schema"]["properties"]["file"]["type"] == "array"
    assert "images" in content["application/json"]["schema"]["properties"]
    assert {"200", "413", "422"} <= set(op["responses"])
