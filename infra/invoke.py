"""Run a handler as Lambda would: a fresh process, an event file, a context object.

    python infra/invoke.py api events/api-health.json
    python infra/invoke.py s3_ocr events/s3-put-image.json

Set AWS_ENDPOINT_URL (e.g. a moto server on 127.0.0.1) for S3 and CloudWatch calls.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

REPO = Path(__file__).resolve().parents[1]


def context(function: str) -> SimpleNamespace:
    return SimpleNamespace(
        function_name=f"ocr-{function}", function_version="$LATEST", memory_limit_in_mb=2048,
        aws_request_id=str(uuid.uuid4()), log_group_name=f"/aws/lambda/ocr-{function}",
        invoked_function_arn=f"arn:aws:lambda:us-east-1:123456789012:function:ocr-{function}",
        get_remaining_time_in_millis=lambda: 30_000,
    )


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    function, event_file = sys.argv[1], Path(sys.argv[2])
    sys.path.insert(0, str(REPO))
    started = time.perf_counter()
    module = importlib.import_module(f"functions.{function}.app")
    init_ms = (time.perf_counter() - started) * 1000
    event = json.loads(event_file.read_text())
    t = time.perf_counter()
    result = module.handler(event, context(function))
    print(json.dumps(result, indent=2, ensure_ascii=False)[:4000])
    print(f"init {init_ms:.0f} ms, invoke {(time.perf_counter() - t) * 1000:.0f} ms", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
