"""Drop an image into a local bucket and read its OCR result back, as the deployed stack
does, with no AWS account and no Docker:

    python -m infra.local_drop photo.jpg [--key "incoming/Shop Sign.jpg"] [--endpoint URL]

A moto server on 127.0.0.1 stands in for S3 and CloudWatch (started here for the run,
unless --endpoint names one already running); the image is put in the bucket; the
ObjectCreated event S3 would send for that key is handed to the S3 handler in a fresh
process (infra/invoke.py, as Lambda runs it); then ``<key>.ocr.json`` is read back.

``make invoke FUNCTION=s3_ocr`` and ``FUNCTION=bulk_ocr`` (infra/invoke.py) use the same
pieces: ``local_moto``, ``put_object``, ``invoke_bucket_handler`` and ``read_result``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from functions.common.s3_objects import result_key
from infra.make_events import s3_put
from infra.template_env import function_environment

REPO = Path(__file__).resolve().parents[1]
BUCKET = "ocr-drop-local"


@contextmanager
def local_moto(endpoint: str | None = None) -> Iterator[str]:
    """-> the endpoint URL of a moto server on 127.0.0.1 started for the block (stopped
    after it), or ``endpoint`` itself when one is given (a server already running)."""
    if endpoint:
        yield endpoint
        return
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access-log line per S3 call
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def s3_client(endpoint: str) -> Any:
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="local", aws_secret_access_key="local")


def put_object(s3: Any, bucket: str, key: str, data: bytes) -> None:
    """Put ``data`` at ``key``, creating the bucket first if it is not there."""
    if bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key=key, Body=data)


def read_result(s3: Any, bucket: str, key: str) -> dict | None:
    """``<key>.ocr.json`` (``result_key``) as the S3 handler wrote it, or None when it wrote none."""
    try:
        return json.loads(s3.get_object(Bucket=bucket, Key=result_key(key))["Body"].read())
    except s3.exceptions.NoSuchKey:
        return None


# The template's logical ID of each function that reads the bucket (its environment variables).
LOGICAL_IDS = {"s3_ocr": "S3OcrFunction", "bulk_ocr": "BulkOcrFunction"}


def invoke_bucket_handler(endpoint: str, event: dict, function: str = "s3_ocr") -> subprocess.CompletedProcess:
    """A handler that reads the bucket (``s3_ocr`` or ``bulk_ocr``) on ``event`` in a fresh
    process, against the moto server at ``endpoint``, with its deployed environment."""
    with tempfile.TemporaryDirectory() as tmp:
        event_file = Path(tmp) / "event.json"
        event_file.write_text(json.dumps(event))
        # The deployed function's variables (its 10 MiB image limit...); the shell's win.
        env = {**function_environment(LOGICAL_IDS[function]), **os.environ, "AWS_ENDPOINT_URL": endpoint,
               "PYTHONPATH": str(REPO)}
        env.setdefault("AWS_ACCESS_KEY_ID", "local")
        env.setdefault("AWS_SECRET_ACCESS_KEY", "local")
        env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
        return subprocess.run([sys.executable, str(REPO / "infra" / "invoke.py"), function, str(event_file)],
                              capture_output=True, text=True, env=env, timeout=300, check=False)


def drop(image: Path, key: str, endpoint: str) -> dict:
    """Put the image, run the handler on the notification, return the result JSON."""
    s3 = s3_client(endpoint)
    data = image.read_bytes()
    put_object(s3, BUCKET, key, data)
    run = invoke_bucket_handler(endpoint, s3_put(key, size=len(data), bucket=BUCKET))
    # What the handler returned and logged (stdout), then the runtime's own lines (stderr).
    sys.stderr.write(run.stdout[-3000:] + run.stderr[-3000:])
    if run.returncode != 0:
        raise SystemExit(f"the S3 handler failed (exit {run.returncode})")
    result = read_result(s3, BUCKET, key)
    if result is None:
        # The handler drops what can never have a result (a key too long for ``.ocr.json``):
        # it says why in its log above.
        raise SystemExit(f"no result was written for {key!r}: the S3 handler dropped it (see its log)")
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("image", type=Path)
    p.add_argument("--key", help="object key (default: incoming/<file name>)")
    p.add_argument("--endpoint", help="a running moto server, e.g. http://127.0.0.1:5000")
    args = p.parse_args(argv)
    if not args.image.is_file():
        p.error(f"no image at {args.image} (make drop IMAGE=photo.jpg)")
    key = args.key or f"incoming/{args.image.name}"
    with local_moto(args.endpoint) as endpoint:
        result = drop(args.image, key, endpoint)
    print(f"s3://{BUCKET}/{result_key(key)}:", file=sys.stderr)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
