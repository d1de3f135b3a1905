"""The ``ocr`` command's answers to a user's mistakes: one line on stderr, a non-zero exit,
no traceback, and all of it before the model loads. (Reading with the real model, and the
LiteRT INFO line, are in tests/integration/test_cli.py.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from ocr_tools import cli, paths

from tests.conftest import REPO
from tests.helpers import write_crop


class ModelLoaded(Exception):
    """Raised by the stand-in for get_engine: the command got as far as loading the model."""


@pytest.fixture(autouse=True)
def no_model(monkeypatch):
    """A command that loads the model here fails the test: checks must come first."""

    def refuse():
        raise ModelLoaded

    monkeypatch.setattr(cli, "get_engine", refuse)


def ocr(argv: list[str], capsys) -> tuple[int, str, str]:
    """``ocr ARGV`` in this process -> (exit status, stdout, stderr)."""
    try:
        status = cli.main(argv)
    except SystemExit as exc:  # argparse's own errors
        status = exc.code
    out, err = capsys.readouterr()
    return status, out, err


def one_line_error(status: int, err: str) -> str:
    assert status == cli.USAGE_ERROR
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def test_missing_labels_file(tmp_path, capsys):
    status, out, err = ocr(["eval", str(tmp_path / "nope.tsv")], capsys)
    line = one_line_error(status, err)
    assert line == f"ocr eval: error: labels file {tmp_path / 'nope.tsv'}: no such file or directory"
    assert out == ""


def test_labels_path_that_is_a_folder(tmp_path, capsys):
    line = one_line_error(*ocr(["eval", str(tmp_path)], capsys)[::2])
    assert "is a folder" in line


def test_label_line_without_a_tab(tmp_path, capsys):
    tsv = tmp_path / "labels.tsv"
    tsv.write_text("# a comment\nimg/1.png   hello\n", encoding="utf-8")
    line = one_line_error(*ocr(["eval", str(tsv)], capsys)[::2])
    assert line.startswith(f"ocr eval: error: {tsv}:2: expected 'path<TAB>label'")
    assert "no tab" in line


def test_labels_file_that_is_not_text(tmp_path, capsys):
    tsv = tmp_path / "labels.tsv"
    tsv.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00")
    line = one_line_error(*ocr(["eval", str(tsv)], capsys)[::2])
    assert "not UTF-8 text" in line


@pytest.mark.parametrize("content", ["", "\n\n", "# only a comment\n"])
def test_empty_labels_file_is_an_error_not_zero_percent(tmp_path, capsys, content):
    tsv = tmp_path / "labels.tsv"
    tsv.write_text(content, encoding="utf-8")
    status, out, err = ocr(["eval", str(tsv)], capsys)
    assert one_line_error(status, err) == f"ocr eval: error: labels file {tsv} has no 'path<TAB>label' lines"
    assert out == ""  # no "n=0 word accuracy 0.00%"


def test_scene_folder_without_boxes_json(tmp_path, capsys):
    (tmp_path / "images").mkdir()
    line = one_line_error(*ocr(["eval-scenes", str(tmp_path)], capsys)[::2])
    assert line == f"ocr eval-scenes: error: {tmp_path} is not a scene folder: it has no boxes.json"


def test_scene_folder_that_does_not_exist(tmp_path, capsys):
    line = one_line_error(*ocr(["eval-scenes", str(tmp_path / "nope")], capsys)[::2])
    assert line == f"ocr eval-scenes: error: scene folder {tmp_path / 'nope'} does not exist"


@pytest.mark.parametrize("boxes,expected", [("{", "not valid JSON"), ('{"a.jpg": [{"box": 1}]}', "expected {"),
                                            ("[1, 2]", "expected {"), ("{}", "lists no scenes")])
def test_malformed_boxes_json(tmp_path, capsys, boxes, expected):
    (tmp_path / "boxes.json").write_text(boxes, encoding="utf-8")
    line = one_line_error(*ocr(["eval-scenes", str(tmp_path)], capsys)[::2])
    assert line.startswith("ocr eval-scenes: error: ") and expected in line


@pytest.mark.parametrize("where", ["OCR_DATA_DIR", "the default"])
def test_bench_without_its_data_folder(tmp_path, capsys, monkeypatch, where):
    missing = tmp_path / "nope"
    if where == "OCR_DATA_DIR":
        monkeypatch.setenv("OCR_DATA_DIR", str(missing))
    else:
        monkeypatch.delenv("OCR_DATA_DIR", raising=False)
        monkeypatch.setattr(paths, "DEFAULT_DATA_DIR", missing)
    line = one_line_error(*ocr(["bench"], capsys)[::2])
    assert line.startswith(f"ocr bench: error: no data folder at {missing} ({where}); ")
    assert "--data" in line and "OCR_DATA_DIR" in line


def test_the_default_data_folder_does_not_depend_on_where_ocr_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OCR_DATA_DIR", raising=False)
    assert paths.data_dir() == REPO.parent / "shared" / "data"
    monkeypatch.setenv("OCR_DATA_DIR", "")  # set but empty: as unset
    assert paths.data_dir() == REPO.parent / "shared" / "data"
    monkeypatch.setenv("OCR_DATA_DIR", str(tmp_path))
    assert paths.data_dir() == tmp_path


def test_bench_with_a_data_folder_without_the_test_set(tmp_path, capsys):
    line = one_line_error(*ocr(["bench", "--data", str(tmp_path)], capsys)[::2])
    assert line.startswith(f"ocr bench: error: {tmp_path} has no iiit5k/test.tsv")


def test_bench_with_data_but_no_scenes(tmp_path, capsys):
    (tmp_path / "iiit5k").mkdir()
    for i in range(8):  # the bench needs a batch of eight
        write_crop(tmp_path / "iiit5k" / "crops" / f"{i}.png")
    (tmp_path / "iiit5k" / "test.tsv").write_text("".join(f"crops/{i}.png\tword\n" for i in range(8)))
    line = one_line_error(*ocr(["bench", "--data", str(tmp_path)], capsys)[::2])
    assert "svt_train" in line and "does not exist" in line


@pytest.mark.parametrize("argv,message", [
    (["read", "x.png", "--beam", "0"], "--beam must be between 1 and 50 (got 0)"),
    (["read", "x.png", "--beam", "51"], "--beam must be between 1 and 50 (got 51)"),
    (["read", "x.png", "--max-regions", "0"], "--max-regions must be between 1 and 64 (got 0)"),
    (["eval", "{labels}", "--beam", "0"], "--beam must be between 1 and 50 (got 0)"),
    (["eval", "{labels}", "--limit", "-1"], "--limit must be 1 or more (got -1)"),
    (["eval", "{labels}", "--limit", "0"], "--limit must be 1 or more (got 0)"),
    (["eval", "{labels}", "--lm-weight", "-1"], "--lm-weight must be 0 or more (got -1)"),
    (["eval", "{labels}", "--lexicon-file", "{missing}"], "lexicon file {missing}: no such file or directory"),
    (["eval-scenes", "{folder}", "--max-regions", "0"], "--max-regions must be between 1 and 64 (got 0)"),
    (["bench", "--crops", "3"], "--crops must be 8 or more (got 3)"),
])
def test_options_are_checked_once_before_the_model_loads(argv, message, capsys, labels, tmp_path):
    fill = {"labels": str(labels), "missing": str(tmp_path / "words.txt"), "folder": str(tmp_path)}
    argv = [a.format(**fill) for a in argv]
    status, out, err = ocr(argv, capsys)  # the no_model fixture fails the test if the model loads
    assert one_line_error(status, err) == f"ocr {argv[0]}: error: {message.format(**fill)}"


def test_beam_limit_comes_from_the_settings(monkeypatch, capsys):
    monkeypatch.setenv("OCR_MAX_BEAM_WIDTH", "5")
    monkeypatch.setenv("OCR_BEAM_WIDTH", "3")  # the default (10) would pass the limit: a settings error
    assert one_line_error(*ocr(["read", "x.png", "--beam", "6"], capsys)[::2]).endswith("between 1 and 5 (got 6)")


@pytest.mark.parametrize("argv", [["eval", "x.tsv", "--limit", "x"], ["read"], [], ["frobnicate"],
                                  ["read", "x.png", "--bogus"]])
def test_argument_mistakes_are_one_line_too(argv, capsys):
    line = one_line_error(*ocr(argv, capsys)[::2])
    assert line.startswith("ocr") and "error: " in line and "--help" in line


@pytest.mark.parametrize("argv", [["read", "--lexicon", "private", "word.png"],
                                  ["eval", "--lexicon", "private", "x.tsv"]])
def test_a_lexicon_before_the_images_is_told_why_they_are_missing(argv, capsys):
    """--lexicon's words run to the next option, so it took the image (or labels file) too."""
    line = one_line_error(*ocr(argv, capsys)[::2])
    assert "arguments are required" in line and "put it after the images" in line


def test_a_missing_image_without_a_lexicon_gets_no_lexicon_hint(capsys):
    assert "--lexicon" not in one_line_error(*ocr(["read"], capsys)[::2])


def test_good_input_passes_the_checks_and_then_loads_the_model(labels, capsys):
    with pytest.raises(ModelLoaded):
        cli.main(["eval", str(labels), "--limit", "2", "--beam", "1"])


class FakeEngine:
    """Reads every crop as "one" with confidence 0.9: the CLI's own logic, without the model."""

    def __init__(self):
        from ocr_engine.config import load_settings

        self.settings = load_settings()
        self.crops = 0

    def read_crops(self, crops, **_kw):
        self.crops += len(crops)
        return [SimpleNamespace(text="one", confidence=0.9) for _ in crops]


@pytest.mark.parametrize("limit,n", [(None, 3), (2, 2), (3, 3), (10, 3)])
def test_limit_keeps_exactly_the_first_n_lines(labels, capsys, monkeypatch, limit, n):
    engine = FakeEngine()
    monkeypatch.setattr(cli, "get_engine", lambda: engine)
    argv = ["eval", str(labels), "--json"] + ([] if limit is None else ["--limit", str(limit)])
    status, out, err = ocr(argv, capsys)
    assert status == 0 and err == ""
    report = json.loads(out.strip().splitlines()[-1])
    assert report["n"] == n == engine.crops
    assert report["word_accuracy"] == round(1 / n, 4)  # only the first line says "one"
    assert "ece" in report


def test_an_unreadable_crop_is_counted_as_wrong_on_one_line(labels, capsys, monkeypatch):
    (labels.parent / "crops" / "b.png").write_bytes(b"not an image")
    monkeypatch.setattr(cli, "get_engine", FakeEngine)
    status, out, err = ocr(["eval", str(labels), "--json"], capsys)
    assert status == cli.SOME_IMAGES_FAILED and "Traceback" not in err
    assert err.strip().splitlines() == [f"{labels.parent / 'crops' / 'b.png'}: unreadable "
                                        "(not a supported image (expected PNG, JPEG, BMP, TIFF, WEBP, GIF)), "
                                        "counted as wrong"]
    assert json.loads(out)["n"] == 3 and json.loads(out)["unreadable"] == 1


def test_native_info_lines_are_dropped_unless_verbose(capfd):
    """What LiteRT writes to fd 2 while the model loads: INFO lines go, anything else stays."""
    with cli._native_log_filtered(verbose=False):
        os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n")
        os.write(2, b"ERROR: something the user must see\n")
    assert capfd.readouterr().err == "ERROR: something the user must see\n"
    with cli._native_log_filtered(verbose=True):
        os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n")
    assert capfd.readouterr().err == "INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n"


def test_native_log_is_restored_when_loading_fails(capfd):
    with pytest.raises(RuntimeError), cli._native_log_filtered(verbose=False):
        os.write(2, b"ERROR: model file is corrupt\n")
        raise RuntimeError("load failed")
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "ERROR: model file is corrupt\nafter\n"


def test_the_installed_command_answers_in_one_line(tmp_path):
    """As a user runs it: a real process, its real stderr."""
    exe = Path(sys.executable).with_name("ocr")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "ocr_tools.cli"]
    proc = subprocess.run([*cmd, "eval", str(tmp_path / "nope.tsv")], capture_output=True, text=True,
                          cwd=tmp_path, timeout=60, env={**os.environ, "PYTHONPATH": str(REPO / "layers")})
    assert proc.returncode == cli.USAGE_ERROR and proc.stdout == ""
    assert proc.stderr.splitlines() == [f"ocr eval: error: labels file {tmp_path / 'nope.tsv'}: "
                                        "no such file or directory"]


def test_show_errors_lists_the_wrong_readings_after_the_unreadable(labels, capsys, monkeypatch):
    (labels.parent / "crops" / "b.png").write_bytes(b"not an image")
    monkeypatch.setattr(cli, "get_engine", FakeEngine)
    status, out, err = ocr(["eval", str(labels), "--json", "--show-errors"], capsys)
    assert status == cli.SOME_IMAGES_FAILED
    lines = err.strip().splitlines()
    assert lines[0].startswith(f"{labels.parent / 'crops' / 'b.png'}: unreadable (")
    assert lines[1:] == [f"{labels.parent / 'crops' / 'c.png'}\tthree\tone"]  # b is not listed again
