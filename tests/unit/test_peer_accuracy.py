"""The peers' accuracy script: a peer missing here is skipped with what to install."""

from __future__ import annotations

from tests.benchmarks import peer_accuracy


def test_a_missing_peer_is_named_and_the_run_fails_without_a_traceback(monkeypatch, capsys):
    """It stopped at Tesseract, which `make setup` does not install, before RapidOCR ran."""
    monkeypatch.setattr(peer_accuracy.shutil, "which", lambda name: None)
    assert peer_accuracy.main(["--peers", "tesseract"]) == 1
    out = capsys.readouterr()
    assert out.err == "tesseract: skipped, tesseract is not installed (Debian: apt-get install tesseract-ocr)\n"
    assert out.out == ""
