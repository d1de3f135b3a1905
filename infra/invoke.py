"""Run a handler as Lambda would: a fresh process, an event file, a context object.

    python infra/invoke.py api events/api-health.json
    python infra/invoke.py s3_ocr events/s3-put-image.json [--image photo.jpg]
    python infra/invoke.py bulk_ocr events/bulk-batch.json [--image photo.jpg]

The S3 and bulk functions need a bucket with the event's objects in it. Without AWS_ENDPOINT_URL
this script brings its own, as ``make drop`` does (infra/local_drop.py): a moto server on
127.0.0.1 for the run, each record's (or batch item's) bucket, and an object at its key: for an
image key the ``--image`` file (by default a photo from the data folder, or a word image
made here when there is none), for any other key a few bytes of text. The handler then
runs on the event in a fresh process, and each ``<key>.ocr.json`` it wrote is printed.
With AWS_ENDPOINT_URL set (a moto server of your own) the handler runs against it as it
is: the objects must be there already.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

from ocr_tools.paths import data_dir

REPO = Path(__file__).resolve().parents[1]
# A real photo for the S3 events (the one `make drop` reads by default).
DEFAULT_PHOTO = Path("svt_train") / "images" / "14_03.jpg"


def context(function: str) -> SimpleNamespace:
    return SimpleNamespace(
        function_name=f"ocr-{function}", function_version="$LATEST", memory_limit_in_mb=2048,
        aws_request_id=str(uuid.uuid4()), log_group_name=f"/aws/lambda/ocr-{function}",
        invoked_function_arn=f"arn:aws:lambda:us-east-1:123456789012:function:ocr-{function}",
        get_remaining_time_in_millis=lambda: 30_000,
    )


def invoke(function: str, event: dict) -> int:
    """Import the handler's module (its cold start) and call it once; print what it returns."""
    started = time.perf_counter()
    module = importlib.import_module(f"functions.{function}.app")
    init_ms = (time.perf_counter() - started) * 1000
    t = time.perf_counter()
    result = module.handler(event, context(function))
    print(json.dumps(result, indent=2, ensure_ascii=False)[:4000])
    print(f"init {init_ms:.0f} ms, invoke {(time.perf_counter() - t) * 1000:.0f} ms", file=sys.stderr)
    return 0


def image_for_the_event(image: Path | None) -> tuple[bytes, str]:
    """-> (bytes, where they came from): ``image``, else the data folder's photo, else a
    word image rendered here (a fresh clone without the data folder)."""
    if image is not None:
        return image.read_bytes(), str(image)
    photo = data_dir() / DEFAULT_PHOTO
    if photo.is_file():
        return photo.read_bytes(), str(photo)
    from infra.make_events import word_png

    return word_png("OPEN"), "a word image made here (OPEN)"


def objects_named(function: str, event: dict) -> list[tuple[str, str]]:
    """(bucket, key) of each object the event names: an S3 event's records, their keys decoded
    as the handler decodes them, or a bulk batch's items. An event that names none (a
    malformed one) gets none: the handler says what is wrong with it."""
    from functions.common.bulk import MalformedBatch, batch_bucket_and_items, item_key
    from functions.common.s3_objects import objects_of

    if function == "s3_ocr":
        return [(obj.bucket, obj.key) for obj in objects_of(event)] if event.get("Records") else []
    try:
        bucket, items = batch_bucket_and_items(event)
    except MalformedBatch:
        return []
    return [(bucket, key) for key in map(item_key, items) if key]


def invoke_locally(function: str, event: dict, image: Path | None) -> int:
    """The S3 or bulk handler on ``event`` against a moto server of its own (infra/local_drop.py)."""
    from functions.common.s3_objects import is_candidate, result_key
    from infra import local_drop  # moto: a dev dependency, not the Lambda image's

    data, origin = image_for_the_event(image)
    objects = objects_named(function, event)
    with local_drop.local_moto() as endpoint:
        s3 = local_drop.s3_client(endpoint)
        for bucket, key in objects:
            # An image where the handler reads one (is_candidate), a few bytes of text elsewhere.
            body, what = (data, origin) if is_candidate(key)[0] else (b"not an image\n", "a few bytes of text")
            local_drop.put_object(s3, bucket, key, body)
            print(f"local S3 ({endpoint}): s3://{bucket}/{key} <- {what} ({len(body):,} bytes)", file=sys.stderr)
        run = local_drop.invoke_bucket_handler(endpoint, event, function)
        sys.stdout.write(run.stdout)
        sys.stderr.write(run.stderr[-3000:])
        if run.returncode != 0:
            print(f"the {function} handler failed (exit {run.returncode})", file=sys.stderr)
            return run.returncode
        for bucket, key in objects:
            result = local_drop.read_result(s3, bucket, key)
            if result is not None:
                print(f"s3://{bucket}/{result_key(key)}:", file=sys.stderr)
                print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("function", help="api, s3_ocr or bulk_ocr (a folder under functions/)")
    p.add_argument("event", type=Path, help="an event file, e.g. events/api-health.json")
    p.add_argument("--image", type=Path, help="the object put at each image key an S3 or bulk event names")
    args = p.parse_args(argv)
    if not args.event.is_file():
        p.error(f"no event file at {args.event}")
    if args.image is not None and not args.image.is_file():
        p.error(f"no image at {args.image}")
    if not (REPO / "functions" / args.function / "app.py").is_file():
        p.error(f"no function {args.function!r} (functions/<name>/app.py)")
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    event = json.loads(args.event.read_text())
    if args.function in ("s3_ocr", "bulk_ocr") and not os.environ.get("AWS_ENDPOINT_URL"):
        return invoke_locally(args.function, event, args.image)
    return invoke(args.function, event)


if __name__ == "__main__":
    sys.exit(main())
