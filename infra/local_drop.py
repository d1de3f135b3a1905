"""Drop an image into a local bucket and read its OCR result back, as the deployed stack
does, with no AWS account and no Docker:

    python -m infra.local_drop photo.jpg [--key "incoming/Shop Sign.jpg"] [--endpoint URL]

A moto server on 127.0.0.1 stands in for S3 and CloudWatch (started here for the run,
unless --endpoint names one already running); the image is put in the bucket; the
ObjectCreated event S3 would send for that key is handed to the S3 handler in a fresh
process (infra/invoke.py, as Lambda runs it); then ``<key>.ocr.json`` is read back.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import boto3
from moto.server import ThreadedMotoServer

from infra.make_events import s3_put

REPO = Path(__file__).resolve().parents[1]
BUCKET = "ocr-drop-local"


def invoke_s3_handler(endpoint: str, event: dict) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as tmp:
        event_file = Path(tmp) / "event.json"
        event_file.write_text(json.dumps(event))
        env = {**os.environ, "AWS_ENDPOINT_URL": endpoint, "PYTHONPATH": str(REPO)}
        env.setdefault("AWS_ACCESS_KEY_ID", "local")
        env.setdefault("AWS_SECRET_ACCESS_KEY", "local")
        env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
        return subprocess.run([sys.executable, str(REPO / "infra" / "invoke.py"), "s3_ocr", str(event_file)],
                              capture_output=True, text=True, env=env, timeout=300, check=False)


def drop(image: Path, key: str, endpoint: str) -> dict:
    """Put the image, run the handler on the notification, return the result JSON."""
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                      aws_access_key_id="local", aws_secret_access_key="local")
    if BUCKET not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket=BUCKET)
    data = image.read_bytes()
    s3.put_object(Bucket=BUCKET, Key=key, Body=data)
    run = invoke_s3_handler(endpoint, s3_put(key, size=len(data), bucket=BUCKET))
    sys.stderr.write(run.stderr[-3000:])
    if run.returncode != 0:
        raise SystemExit(f"the S3 handler failed (exit {run.returncode})")
    try:
        return json.loads(s3.get_object(Bucket=BUCKET, Key=key + ".ocr.json")["Body"].read())
    except s3.exceptions.NoSuchKey:
        # The handler drops what can never have a result (a key too long for ``.ocr.json``):
        # it says why in its log above.
        raise SystemExit(f"no result was written for {key!r}: the S3 handler dropped it (see its log)") from None


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("image", type=Path)
    p.add_argument("--key", help="object key (default: incoming/<file name>)")
    p.add_argument("--endpoint", help="a running moto server, e.g. http://127.0.0.1:5000")
    args = p.parse_args(argv)
    key = args.key or f"incoming/{args.image.name}"
    server = None
    if not args.endpoint:
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        args.endpoint = f"http://{host}:{port}"
    try:
        result = drop(args.image, key, args.endpoint)
    finally:
        if server:
            server.stop()
    print(f"s3://{BUCKET}/{key}.ocr.json:", file=sys.stderr)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
