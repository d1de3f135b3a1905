"""Writes events/*.json: realistic API Gateway, S3 and bulk-batch events for every route and case.

The upload events carry a small word image rendered here (no dataset image is committed).
Run: ``.venv/bin/python infra/make_events.py``.
"""

from __future__ import annotations

import base64
import json
import urllib.parse
from pathlib import Path

import cv2
import numpy as np

EVENTS = Path(__file__).resolve().parents[1] / "events"
BOUNDARY = "----ocrformboundary7MA4YWxkTrZu0gW"


def word_png(text: str = "OPEN") -> bytes:
    img = np.full((64, 220, 3), (235, 240, 245), np.uint8)
    cv2.putText(img, text, (12, 48), cv2.FONT_HERSHEY_DUPLEX, 1.6, (40, 30, 20), 3, cv2.LINE_AA)
    return cv2.imencode(".png", img)[1].tobytes()


def http_v2(method: str, path: str, body: bytes | str | None = None, content_type: str | None = None,
            query: str = "", b64: bool = False) -> dict:
    headers = {"host": "abc123.execute-api.us-east-1.amazonaws.com", "user-agent": "curl/8.5.0",
               "accept": "*/*"}
    if content_type:
        headers["content-type"] = content_type
    event = {
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012", "apiId": "abc123", "domainName": headers["host"],
            "domainPrefix": "abc123", "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                                                 "sourceIp": "203.0.113.7", "userAgent": "curl/8.5.0"},
            "requestId": f"evt-{method.lower()}-{path.strip('/').replace('/', '-') or 'root'}",
            "routeKey": "$default", "stage": "$default", "time": "25/Nov/2026:10:00:00 +0000",
            "timeEpoch": 1795600800000,
        },
        "isBase64Encoded": b64,
    }
    if query:
        event["queryStringParameters"] = dict(urllib.parse.parse_qsl(query))
    if body is not None:
        event["body"] = base64.b64encode(body).decode() if b64 else body
    return event


def multipart(filename: str, data: bytes, mime: str, fields: dict[str, str] | None = None) -> bytes:
    parts = []
    for name, value in (fields or {}).items():
        parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                 f"Content-Type: {mime}\r\n\r\n".encode() + data + b"\r\n")
    parts.append(f"--{BOUNDARY}--\r\n".encode())
    return b"".join(parts)


def rest_v1(method: str, path: str, body: str | None = None, content_type: str | None = None) -> dict:
    headers = {"Host": "abc123.execute-api.us-east-1.amazonaws.com", "Accept": "*/*"}
    if content_type:
        headers["Content-Type"] = content_type
    return {
        "resource": "/{proxy+}", "path": path, "httpMethod": method, "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None, "multiValueQueryStringParameters": None,
        "pathParameters": {"proxy": path.lstrip("/")}, "stageVariables": None,
        "requestContext": {"accountId": "123456789012", "apiId": "abc123", "httpMethod": method,
                           "path": f"/prod{path}", "stage": "prod", "requestId": "evt-rest-v1",
                           "resourcePath": "/{proxy+}", "identity": {"sourceIp": "203.0.113.7"}},
        "body": body, "isBase64Encoded": False,
    }


def s3_put(key: str, size: int = 12345, bucket: str = "ocr-drop-123456789012") -> dict:
    # S3 URL-encodes keys in events: spaces as '+', unicode percent-encoded.
    encoded = urllib.parse.quote_plus(key, safe="/")
    return {"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2026-11-25T10:00:00.000Z", "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"},
        "requestParameters": {"sourceIPAddress": "203.0.113.7"},
        "responseElements": {"x-amz-request-id": "EXAMPLE123", "x-amz-id-2": "EXAMPLE456"},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "ocr-images",
               "bucket": {"name": bucket, "ownerIdentity": {"principalId": "EXAMPLE"},
                          "arn": f"arn:aws:s3:::{bucket}"},
               "object": {"key": encoded, "size": size, "eTag": "0123456789abcdef0123456789abcdef",
                          "sequencer": "0A1B2C3D4E5F678901"}},
    }]}


def bulk_batch(objects: dict[str, int], bucket: str = "ocr-drop-123456789012", account: str = "123456789012") -> dict:
    """A batch as the bulk state machine's ItemBatcher hands it to the bulk function: each listed
    object (key -> size) through infra/bulk_ocr.asl.json's ItemSelector, with S3's listing
    fields as Step Functions gives them (the ETag in quotes, LastModified in epoch seconds)."""
    run = f"arn:aws:states:us-east-1:{account}:execution:ocr-bulk:sample-run"
    items = [{"key": key, "etag": '"0123456789abcdef0123456789abcdef"', "last_modified": 1795600800, "size": size,
              "run": run} for key, size in objects.items()]
    return {"BatchInput": {"bucket": bucket}, "Items": items}


def main() -> None:
    EVENTS.mkdir(exist_ok=True)
    png = word_png()
    form = multipart("open-sign.png", png, "image/png", {"beam_width": "10", "annotate": "true"})
    events = {
        "api-health.json": http_v2("GET", "/api/health"),
        "api-stats.json": http_v2("GET", "/api/stats"),
        "api-index.json": http_v2("GET", "/"),
        "api-openapi.json": http_v2("GET", "/openapi.json"),
        "api-ocr-upload.json": http_v2("POST", "/api/ocr", form, f"multipart/form-data; boundary={BOUNDARY}",
                                       query="detect=false", b64=True),
        "api-ocr-base64.json": http_v2("POST", "/api/ocr/base64", json.dumps(
            {"image": "data:image/png;base64," + base64.b64encode(png).decode(), "filename": "open-sign.png",
             "detect": False}), "application/json"),
        "api-ocr-not-an-image.json": http_v2("POST", "/api/ocr", multipart("notes.png", b"just some text", "image/png"),
                                             f"multipart/form-data; boundary={BOUNDARY}", b64=True),
        "api-ocr-bad-base64.json": http_v2("POST", "/api/ocr/base64", json.dumps({"image": "%%%not base64%%%"}),
                                           "application/json"),
        "api-rest-v1-health.json": rest_v1("GET", "/api/health"),
        "s3-put-image.json": s3_put("incoming/storefront.jpg"),
        "s3-put-unicode-key.json": s3_put("incoming/Shop Sign é.JPG"),
        "s3-put-non-image.json": s3_put("incoming/readme.txt", 120),
        "s3-put-result-json.json": s3_put("incoming/storefront.jpg.ocr.json", 900),
        "bulk-batch.json": bulk_batch({"scans/storefront.jpg": 12345, "scans/readme.txt": 120}),
    }
    for name, event in events.items():
        (EVENTS / name).write_text(json.dumps(event, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {len(events)} events to {EVENTS}")


if __name__ == "__main__":
    main()
