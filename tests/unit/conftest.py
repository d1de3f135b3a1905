from pathlib import Path

import pytest
from pytest_socket import disable_socket, enable_socket

from tests.helpers import write_crop


@pytest.fixture(autouse=True)
def _no_network():
    """Unit tests are pure: any socket use fails the test."""
    disable_socket()
    yield
    enable_socket()


@pytest.fixture
def labels(tmp_path) -> Path:
    """A labels file of three crops that exist (the ocr command's tests)."""
    for name in ("a", "b", "c"):
        write_crop(tmp_path / "crops" / f"{name}.png")
    tsv = tmp_path / "labels.tsv"
    tsv.write_text("crops/a.png\tone\ncrops/b.png\ttwo\ncrops/c.png\tthree\n", encoding="utf-8")
    return tsv
