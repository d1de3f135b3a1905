"""model/device_join.sh: the parts device_train.sh returns come back as the file, or not at all."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

JOIN = Path(__file__).resolve().parents[2] / "model" / "device_join.sh"


def returned_in_parts(folder: Path, name: str, data: bytes, part_bytes: int) -> None:
    """What device_train.sh leaves in $OUT: NAME.sha256 and NAME.part.aa, .ab, ..."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.sha256").write_text(f"{hashlib.sha256(data).hexdigest()}  {name}\n")
    for i in range(0, len(data), part_bytes):
        suffix = "a" + "abcdefghijklmnopqrstuvwxyz"[i // part_bytes]
        (folder / f"{name}.part.{suffix}").write_bytes(data[i:i + part_bytes])


def join(src: Path, dest: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(JOIN), str(src), str(dest)], capture_output=True, text=True)


def test_parts_join_into_the_file_with_the_run_record(tmp_path: Path) -> None:
    data = bytes(range(256)) * 1000
    src = tmp_path / "files_at"
    returned_in_parts(src, "mean3.weights.h5", data, part_bytes=100_000)
    (src / "history.csv").write_text("epoch,loss\n0,2.1\n")
    done = join(src, tmp_path / "phase")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "phase" / "mean3.weights.h5").read_bytes() == data
    assert (tmp_path / "phase" / "history.csv").exists()


def test_a_missing_part_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "files_at"
    returned_in_parts(src, "last.weights.h5", b"x" * 250_000, part_bytes=100_000)
    (src / "last.weights.h5.part.ab").unlink()
    done = join(src, tmp_path / "phase")
    assert done.returncode != 0
    assert "does not match" in done.stderr
    assert list((tmp_path / "phase").iterdir()) == []  # no corrupt weights left to load


def test_a_folder_without_checksums_is_refused(tmp_path: Path) -> None:
    (tmp_path / "files_at").mkdir()
    done = join(tmp_path / "files_at", tmp_path / "phase")
    assert done.returncode != 0 and "holds no *.sha256" in done.stderr


def test_every_returned_file_is_joined(tmp_path: Path) -> None:
    src = tmp_path / "files_at"
    for k in range(2):
        returned_in_parts(src, f"w{k}.weights.h5", bytes([k]) * 150_000, part_bytes=100_000)
    done = join(src, tmp_path / "phase")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "phase").iterdir()) == ["w0.weights.h5", "w1.weights.h5"]


def test_parts_no_checksum_covers_are_refused_not_left_behind(tmp_path: Path) -> None:
    src = tmp_path / "files_at"
    returned_in_parts(src, "last.weights.h5", b"x" * 250_000, part_bytes=100_000)
    returned_in_parts(src, "mean3.weights.h5", b"y" * 250_000, part_bytes=100_000)
    (src / "mean3.weights.h5.sha256").unlink()
    done = join(src, tmp_path / "phase")
    assert done.returncode != 0 and "has no mean3.weights.h5.sha256" in done.stderr
    assert not (tmp_path / "phase").exists()
