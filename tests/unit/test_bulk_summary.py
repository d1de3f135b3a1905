"""The bulk run's summary of a large export, read as S3 streams it: memory stays flat.

A Distributed Map's ResultWriter puts every batch (its whole input and output) in files of
up to 5 GB. Read whole and parsed at once, a run of 2 M listed objects (a 740 MB file) took
1.6 GB and the Summarize step ran out of memory after the Map had succeeded.
"""

from __future__ import annotations

import io
import json
import tracemalloc
from pathlib import Path

from functions.common.bulk import summarize
from functions.common.s3_store import S3Store

BATCHES = 3_000  # 10 items each: a 9 MB result file
ITEM = {"key": "scans/2024/page-000000.png", "etag": '"0123456789abcdef0123456789abcdef"',
        "last_modified": 1764000000, "size": 123456,
        "run": "arn:aws:states:us-east-1:123456789012:execution:ocr-bulk:0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"}


class FilesClient:
    """The two calls ``summarize`` makes, on files: ``get_object`` answers a body that
    streams from disk, as botocore's does from the network."""

    def __init__(self, root: Path):
        self.root, self.written = root, {}

    def get_object(self, Bucket: str, Key: str) -> dict:  # noqa: N803 (boto3's names)
        return {"Body": io.BufferedReader(io.FileIO(self.root / Key))}

    def put_object(self, Bucket: str, Key: str, Body: bytes, ContentType: str) -> None:  # noqa: N803
        self.written[Key] = json.loads(Body)


def _write_export(root: Path) -> int:
    """manifest.json and one SUCCEEDED file of ``BATCHES`` batches, shaped as Step Functions
    writes them (Input and Output are JSON text). -> the result file's size in bytes."""
    output = json.dumps({"counts": {"done": 9, "refused": 1, "current": 0, "skipped": 0, "dropped": 0, "error": 0},
                         "refused": ["scans/bad.png"], "dropped": [], "error": []})
    entry = json.dumps({"ExecutionArn": ITEM["run"], "Status": "SUCCEEDED", "Output": output,
                        "Input": json.dumps({"BatchInput": {"bucket": "b"}, "Items": [ITEM] * 10})})
    (root / "run").mkdir()
    with open(root / "run" / "SUCCEEDED_0.json", "w") as f:
        f.write("[" + ",".join([entry] * BATCHES) + "]")
    manifest = {"MapRunArn": "arn:aws:states:::mapRun:m/r",
                "ResultFiles": {"SUCCEEDED": [{"Key": "run/SUCCEEDED_0.json"}], "FAILED": [], "PENDING": []}}
    (root / "run" / "manifest.json").write_text(json.dumps(manifest))
    return (root / "run" / "SUCCEEDED_0.json").stat().st_size


def test_a_large_export_is_summed_in_little_memory(tmp_path):
    size = _write_export(tmp_path)
    client = FilesClient(tmp_path)
    tracemalloc.start()
    try:
        summary = summarize(S3Store(client), "b", "run/manifest.json", "scans/")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert summary["images"]["done"] == 9 * BATCHES and summary["listed"] == 10 * BATCHES
    assert summary["batches"] == {"succeeded": BATCHES, "failed": 0}
    assert summary["refused"] == ["scans/bad.png"] * 100  # the first MAX_LISTED_KEYS
    assert client.written["run/summary.json"]["images"]["refused"] == BATCHES
    assert peak < size / 8, f"peak {peak:,} bytes for a {size:,}-byte export"  # read whole: several times it
