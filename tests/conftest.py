"""Shared fixtures. Environment first: powertools and boto3 read it at import."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from ocr_tools import paths

os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "ocr")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "ServerlessOCR")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
    os.environ[var] = "testing"  # never real credentials in tests
# The training tests' Keras runs on JAX's CPU build (requirements/train-ci.txt), in CI and
# in a .venv that also has TensorFlow alike, so both give the same results.
os.environ.setdefault("KERAS_BACKEND", "jax")

REPO = Path(__file__).resolve().parents[1]
DATA = paths.data_dir()  # $OCR_DATA_DIR, else ../shared/data
EVENTS = REPO / "events"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not (DATA / "iiit5k").exists():
        pytest.fail(f"test data missing at {DATA} (set OCR_DATA_DIR)")
    return DATA


# Markers (registered in pyproject.toml): unit, integration or e2e by the test's folder,
# data for a test that reads ../shared/data through the data_dir fixture; each Keras test
# module sets train itself.
FOLDER_MARKERS = ("unit", "integration", "e2e")


@pytest.hookimpl(tryfirst=True)  # before -m deselects by these markers
def pytest_collection_modifyitems(config, items):
    tests = Path(__file__).resolve().parent
    for item in items:
        where = item.path.resolve().relative_to(tests).parts
        if where[0] in FOLDER_MARKERS:
            item.add_marker(where[0])
        if "data_dir" in getattr(item, "fixturenames", ()):
            item.add_marker("data")
