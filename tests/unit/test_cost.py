"""infra/cost.py: the arithmetic from milliseconds and memory to dollars per 1,000 images."""

from __future__ import annotations

import json

import pytest

from infra import cost


def test_lambda_cost_is_gb_seconds_plus_requests():
    # 1,000 images of 1 s at 1,024 MB: 1,000 GB-s and 1,000 requests.
    assert cost.lambda_cost(1000, 1024, "x86_64") == pytest.approx(1000 * 0.0000166667 + 1000 * 0.20 / 1e6)
    assert cost.lambda_cost(1000, 1024, "arm64") == pytest.approx(1000 * 0.0000133334 + 1000 * 0.20 / 1e6)
    # Twice the memory, twice the GB-seconds; ten images a request, a tenth of the requests.
    assert cost.lambda_cost(500, 2048, "x86_64", 10) == pytest.approx(1000 * 0.0000166667 + 100 * 0.20 / 1e6)
    assert cost.LAMBDA_GB_SECOND["arm64"] / cost.LAMBDA_GB_SECOND["x86_64"] == pytest.approx(0.8, abs=1e-4)


def test_report_uses_the_template_memory_and_sets_the_managed_services_beside_it():
    defaults = cost.template_defaults()
    r = cost.report({"scene": 250.0}, int(defaults["MemorySize"]), int(defaults["BulkBatchSize"]))
    row = r["per_1000_images_usd"]["scene"]
    # 0.25 s at 2 GB is 0.5 GB-s an image: 500 GB-s and 1,000 requests per 1,000 images.
    assert r["memory_mb"] == 2048 and row["lambda_x86_64"] == 0.0085
    assert row["bulk_x86_64"] > row["lambda_x86_64"] > row["lambda_arm64"]  # the bulk run adds S3 and transitions
    assert row["images_per_second_at_1000"] == 4000  # 1,000 containers at 4 images/s each
    assert (r["rekognition_detect_text"], r["textract_detect_document_text"]) == (1.0, 1.5)


def test_the_milliseconds_can_come_from_ocr_bench(tmp_path):
    bench = tmp_path / "bench.json"
    bench.write_text(json.dumps({"ours": {"full_image_ms": 310.5, "read_crop_ms_beam10": 14.3}}))
    assert cost.from_bench(bench) == {"scene": 310.5, "crop": 14.3}
