"""Shared fixtures. Environment first: powertools and boto3 read it at import."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "ocr")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "ServerlessOCR")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
    os.environ[var] = "testing"  # never real credentials in tests

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("OCR_DATA_DIR", REPO.parent / "shared" / "data"))
EVENTS = REPO / "events"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not (DATA / "iiit5k").exists():
        pytest.fail(f"test data missing at {DATA} (set OCR_DATA_DIR)")
    return DATA
