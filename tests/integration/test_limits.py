"""The upload limit and the response size against Lambda's 6 MB, through API Gateway events.

A synchronous Lambda invocation carries at most 6,291,456 bytes each way, and an HTTP API
hands the body over base64-encoded. An image the app would accept but whose event is over
that never reaches the app: the caller gets a gateway 500 instead of the app's 413. These
tests build the events API Gateway would send, with a worst case of headers, and run them
through the handler as Lambda does.
"""

from __future__ import annotations

import base64
import json
import struct
import zlib

import cv2
import numpy as np
import pytest
from ocr_engine.config import DEFAULT_MAX_IMAGE_BYTES, LAMBDA_PAYLOAD_LIMIT

from infra.invoke import context
from infra.make_events import BOUNDARY, http_v2, multipart

CONTEXT = context("api")
LIMIT = DEFAULT_MAX_IMAGE_BYTES
HEADROOM = 256 * 1024  # what "fits" must leave over, for what these events do not hold
HEADER_QUOTA = 10_240  # API Gateway HTTP API: request line and header values together


@pytest.fixture(scope="module")
def api():
    from functions.api import app as module

    # The defaults are what is deployed: the template sets no OCR_MAX_IMAGE_BYTES for the API.
    assert module.runtime.ready_engine().settings.max_image_bytes == LIMIT
    return module


def _heavy_headers() -> dict[str, str]:
    """Headers as a signed-in browser sends them, padded to API Gateway's quota."""
    headers = {
        "authorization": "Bearer " + "eyJhbGciOiJSUzI1NiJ9." + "A" * 1100 + ".sig" + "B" * 340,
        "user-agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0",
        "accept": "application/json", "accept-language": "en-GB,en;q=0.9,de;q=0.8",
        "origin": "https://example.org", "referer": "https://example.org/ocr/upload?lang=en",
        "x-forwarded-for": "203.0.113.7, 198.51.100.20", "x-forwarded-port": "443", "x-forwarded-proto": "https",
        "x-amzn-trace-id": "Root=1-67a1b2c3-0123456789abcdef01234567",
    }
    used = sum(len(k) + len(v) + 4 for k, v in headers.items()) + 64  # request line
    headers["cookie"] = "session=" + "c" * max(0, HEADER_QUOTA - used - 200)
    return headers


def gateway_event(path: str, body: bytes, content_type: str, query: str = "", b64: bool = True) -> dict:
    """An HTTP API (payload 2.0) event with a JWT authorizer's claims and full headers."""
    event = http_v2("POST", path, body if b64 else body.decode(), content_type, query=query, b64=b64)
    event["headers"].update(_heavy_headers())
    event["headers"]["content-length"] = str(len(body))
    event["cookies"] = [event["headers"]["cookie"]]
    event["requestContext"]["authorizer"] = {"jwt": {
        "claims": {"sub": "0" * 36, "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_EXAMPLE",
                   "aud": "1" * 26, "email": "someone@example.org", "scope": "openid email profile",
                   "auth_time": "1795600000", "exp": "1795603600", "iat": "1795600000"},
        "scopes": None}}
    return event


def event_size(event: dict) -> int:
    return len(json.dumps(event).encode())


def png_of_size(size: int, seed: int = 0) -> bytes:
    """A valid PNG of exactly ``size`` bytes: noise (incompressible) padded by a private chunk."""
    width = 1000
    rows = (size - 100_000) // (width * 3)
    noise = np.random.default_rng(seed).integers(0, 256, (rows, width, 3), dtype=np.uint8)
    png = cv2.imencode(".png", noise, [cv2.IMWRITE_PNG_COMPRESSION, 1])[1].tobytes()
    pad = size - len(png) - 12  # a chunk is length, type, data, CRC
    assert pad >= 0
    chunk = struct.pack(">I", pad) + b"prVt" + bytes(pad)
    chunk += struct.pack(">I", zlib.crc32(chunk[4:]) & 0xFFFFFFFF)
    out = png[:-12] + chunk + png[-12:]  # before IEND
    assert len(out) == size and out.endswith(b"IEND\xaeB`\x82")
    return out


def upload_event(image: bytes, query: str = "detect=false&annotate=true") -> dict:
    form = multipart("photo.png", image, "image/png", {"beam_width": "10"})
    return gateway_event("/api/ocr", form, f"multipart/form-data; boundary={BOUNDARY}", query=query)


def base64_event(image: bytes) -> dict:
    """The JSON route at its worst: a data URL in JSON, which API Gateway base64-encodes again
    (as it does for a body whose Content-Type it does not take for text)."""
    body = json.dumps({"image": "data:image/png;base64," + base64.b64encode(image).decode(),
                       "filename": "photo-" + "x" * 1000 + ".png", "detect": False, "annotate": True})
    return gateway_event("/api/ocr/base64", body.encode(), "application/json", b64=True)


def invoke(api, event: dict) -> tuple[int, dict, int]:
    """-> (status, JSON body, bytes of the response as Lambda returns it)."""
    resp = api.handler(event, CONTEXT)
    body = base64.b64decode(resp["body"]) if resp.get("isBase64Encoded") else resp["body"]
    ctype = {k.lower(): v for k, v in resp.get("headers", {}).items()}.get("content-type", "")
    assert "application/json" in ctype, (resp["statusCode"], body[:200])
    return resp["statusCode"], json.loads(body), len(json.dumps(resp).encode())


@pytest.fixture(scope="module")
def at_limit() -> bytes:
    return png_of_size(LIMIT)


@pytest.fixture(scope="module")
def over_limit() -> bytes:
    return png_of_size(LIMIT + 1)


def test_the_limit_leaves_headroom_in_the_worst_case_arithmetic():
    # base64 inside JSON inside a base64 body: 16/9 of the image, plus keys and headers.
    assert LIMIT * 16 / 9 + HEADER_QUOTA + 64 * 1024 <= LAMBDA_PAYLOAD_LIMIT - HEADROOM


def test_the_old_limit_did_not_fit_a_lambda_event():
    """5,000,000 bytes, as the template set before: its upload event is over 6 MB."""
    assert event_size(upload_event(bytes(5_000_000))) > LAMBDA_PAYLOAD_LIMIT


def test_upload_at_the_limit_fits_a_lambda_event_and_is_read(api, at_limit):
    event = upload_event(at_limit)
    assert event_size(event) <= LAMBDA_PAYLOAD_LIMIT - HEADROOM
    status, body, response_bytes = invoke(api, event)
    assert status == 200, body
    assert response_bytes <= LAMBDA_PAYLOAD_LIMIT
    assert body["image_size"]["width"] == 1000


def test_upload_a_byte_over_the_limit_gets_the_apps_413(api, over_limit):
    event = upload_event(over_limit)
    assert event_size(event) <= LAMBDA_PAYLOAD_LIMIT  # so it reaches the app, not a gateway error
    status, body, _ = invoke(api, event)
    assert status == 413
    assert body["error"]["code"] == "image_too_large" and f"{LIMIT:,}" in body["error"]["detail"]
    assert body["request_id"] == event["requestContext"]["requestId"]


def test_an_upload_far_over_the_limit_is_not_told_it_is_a_byte_over(api, at_limit):
    """Only the limit + 1 byte is read: the answer used to give that as the image's size."""
    status, body, _ = invoke(api, upload_event(at_limit + bytes(500_000)))
    assert status == 413 and f"{LIMIT + 1:,}" not in body["error"]["detail"]
    assert body["error"]["detail"].startswith(f"the image is over the {LIMIT:,}-byte limit")


def test_base64_json_at_the_limit_fits_even_encoded_twice(api, at_limit):
    event = base64_event(at_limit)
    assert event["isBase64Encoded"] is True
    assert event_size(event) <= LAMBDA_PAYLOAD_LIMIT - HEADROOM
    status, body, response_bytes = invoke(api, event)
    assert status == 200, body
    assert response_bytes <= LAMBDA_PAYLOAD_LIMIT
    assert body["image_size"]["width"] == 1000


def test_base64_json_a_byte_over_the_limit_gets_the_apps_413(api, over_limit):
    event = base64_event(over_limit)
    assert event_size(event) <= LAMBDA_PAYLOAD_LIMIT
    status, body, _ = invoke(api, event)
    assert status == 413 and body["error"]["code"] == "image_too_large"


def test_annotated_response_for_a_large_noisy_photo_fits_six_mb(api):
    """The case that made a 7.6 MB response: a noisy photo of about 1.7 MB, annotated."""
    noise = np.random.default_rng(7).integers(0, 256, (1200, 1600, 3), dtype=np.uint8)
    photo = cv2.imencode(".jpg", noise, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()
    assert 1_500_000 < len(photo) <= LIMIT
    form = multipart("noisy.jpg", photo, "image/jpeg")
    event = gateway_event("/api/ocr", form, f"multipart/form-data; boundary={BOUNDARY}",
                          query="detect=false&annotate=true")
    status, body, response_bytes = invoke(api, event)
    assert status == 200, body
    assert response_bytes <= LAMBDA_PAYLOAD_LIMIT - HEADROOM
    # It fits the default annotation budget, so it is there (null would mean it was dropped).
    assert body["annotated_b64"], "the annotation was dropped"
    data = base64.b64decode(body["annotated_b64"])
    assert data.startswith(b"\xff\xd8\xff")  # JPEG: the source has no transparency
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert img is not None and max(img.shape[:2]) <= 1600
