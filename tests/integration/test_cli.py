"""``ocr`` with the shipped model, as a user runs it: no LiteRT INFO line unless asked for,
and an unreadable image is one line on stderr while the others are still read."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

from ocr_engine.config import Settings

from tests.conftest import REPO

INFO_LINE = "INFO: Created TensorFlow Lite XNNPACK delegate for CPU."


def run_ocr(*argv: str, cwd: Path, memory_limit: int | None = None) -> subprocess.CompletedProcess:
    """``ocr ARGV`` in a process of its own; ``memory_limit``: its address space, in bytes."""
    exe = Path(sys.executable).with_name("ocr")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "ocr_tools.cli"]

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))

    return subprocess.run([*cmd, *argv], capture_output=True, text=True, cwd=cwd, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(REPO / "layers")},
                          preexec_fn=limit_memory if memory_limit else None)


def test_read_is_quiet_and_reports_a_missing_image_in_one_line(data_dir, tmp_path):
    crop = data_dir / "iiit5k" / "test" / "1002_1.png"
    proc = run_ocr("read", "--no-detect", str(crop), "missing.png", cwd=tmp_path)
    assert proc.returncode == 1  # one of the two images could not be read
    assert proc.stdout.startswith(f"{crop}: ") and "(no words)" not in proc.stdout
    assert proc.stderr.splitlines() == ["missing.png: error: no such file or directory"]


def test_verbose_shows_the_runtime_log(data_dir, tmp_path):
    crop = data_dir / "iiit5k" / "test" / "1002_1.png"
    proc = run_ocr("read", "--verbose", "--no-detect", "--json", str(crop), cwd=tmp_path)
    assert proc.returncode == 0
    assert INFO_LINE in proc.stderr.splitlines()
    assert '"words"' in proc.stdout and "Traceback" not in proc.stderr
    assert json.loads(proc.stdout)["filename"] == str(crop)  # the input, named as the API names it


def test_an_endless_file_is_one_too_large_image_not_a_memory_error(data_dir, tmp_path):
    """``/dev/zero`` is read no further than the engine's byte limit: under a memory limit a
    whole read would end in a MemoryError traceback."""
    crop = data_dir / "iiit5k" / "test" / "1002_1.png"
    proc = run_ocr("read", "--no-detect", "/dev/zero", str(crop), cwd=tmp_path, memory_limit=2 << 30)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    limit = Settings().max_image_bytes
    assert proc.stderr.splitlines() == [f"/dev/zero: error: the image is too large: more than the limit of "
                                        f"{limit:,} bytes"]
    assert proc.stdout.startswith(f"{crop}: ")  # the next image is still read
