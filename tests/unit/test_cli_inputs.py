"""Bad input to ``ocr`` found by a review: each a usage error (one line, status 2) before the
model loads, or a per-image failure (status 1) that is counted, never a traceback, a
silently changed score or a whole file read into memory."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from ocr_engine.config import Settings
from ocr_tools import bench, cli
from ocr_tools.labels import read_label_file, read_scenes

from tests.helpers import write_crop
from tests.unit.test_cli import FakeEngine, ModelLoaded, ocr, one_line_error


@pytest.fixture(autouse=True)
def no_model(monkeypatch):
    """A command that loads the model here fails the test: checks must come first."""

    def refuse():
        raise ModelLoaded

    monkeypatch.setattr(cli, "get_engine", refuse)
    monkeypatch.setattr(bench, "one_thread_engine", refuse)


class ReadingEngine(FakeEngine):
    """Also reads whole images (no words), keeping the size of each one it was given."""

    def __init__(self):
        super().__init__()
        self.sizes: list[int] = []
        self.lexicons: list = []

    def read(self, data: bytes, options=None):
        self.sizes.append(len(data))
        return SimpleNamespace(words=[], timings_ms={"total": 1.0})

    def read_crops(self, crops, **kw):
        self.lexicons.append(kw["decoding"].lexicon)
        return super().read_crops(crops, **kw)


def with_engine(monkeypatch) -> ReadingEngine:
    engine = ReadingEngine()  # after any monkeypatched OCR_* variable: it loads the settings
    monkeypatch.setattr(cli, "get_engine", lambda: engine)
    return engine


# -- 1. an image file is read no further than the engine's limit ------------------------------
def test_read_stops_at_the_size_limit_and_reports_too_large(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("OCR_MAX_IMAGE_BYTES", "1000")
    engine = with_engine(monkeypatch)
    big, small = tmp_path / "big.png", tmp_path / "small.png"
    big.write_bytes(b"\0" * 5000)
    small.write_bytes(b"\0" * 1000)
    status, out, err = ocr(["read", str(big), str(small)], capsys)
    assert status == cli.SOME_IMAGES_FAILED
    assert err.splitlines() == [f"{big}: error: the image is too large: more than the limit of 1,000 bytes"]
    assert engine.sizes == [1000]  # the big one never reached the engine, the next one was still read
    assert out.startswith(f"{small}: (no words)")


def test_eval_counts_a_crop_over_the_limit_as_unreadable(labels, capsys, monkeypatch):
    monkeypatch.setenv("OCR_MAX_IMAGE_BYTES", "100")
    (labels.parent / "crops" / "b.png").write_bytes(b"\0" * 500)
    with_engine(monkeypatch)
    status, out, err = ocr(["eval", str(labels), "--json"], capsys)
    assert status == cli.SOME_IMAGES_FAILED and json.loads(out)["unreadable"] >= 1
    assert f"{labels.parent / 'crops' / 'b.png'}: unreadable (the image is too large: more than the limit" in err


# -- 2. --lm-weight and --lm-bonus are finite numbers -----------------------------------------
@pytest.mark.parametrize("flag,value,message", [
    ("--lm-weight", "nan", "--lm-weight must be a finite number (got nan)"),
    ("--lm-weight", "inf", "--lm-weight must be a finite number (got inf)"),
    ("--lm-weight", "-inf", "--lm-weight must be a finite number (got -inf)"),
    ("--lm-weight", "-0.5", "--lm-weight must be 0 or more (got -0.5)"),
    ("--lm-bonus", "nan", "--lm-bonus must be a finite number (got nan)"),
    ("--lm-bonus", "inf", "--lm-bonus must be a finite number (got inf)"),
    ("--lm-bonus", "-inf", "--lm-bonus must be a finite number (got -inf)"),
])
def test_lm_options_must_be_finite(labels, capsys, flag, value, message):
    status, out, err = ocr(["eval", str(labels), f"{flag}={value}"], capsys)  # "=": argparse takes -inf for a flag
    assert one_line_error(status, err) == f"ocr eval: error: {message}" and out == ""


def test_a_negative_lm_bonus_is_a_length_penalty_and_allowed(labels):
    with pytest.raises(ModelLoaded):
        cli.main(["eval", str(labels), "--lm-bonus", "-0.5", "--lm-weight", "0"])


# -- 3. labels files: blank labels, a BOM, crops that could not be read -----------------------
@pytest.mark.parametrize("line", ["crops/a.png\t", "crops/a.png\t   "])
def test_a_blank_label_is_an_error_with_its_line(labels, capsys, line):
    labels.write_text(f"# header\ncrops/b.png\ttwo\n{line}\n", encoding="utf-8")
    err_line = one_line_error(*ocr(["eval", str(labels)], capsys)[::2])
    assert err_line == f"ocr eval: error: {labels}:3: the label of 'crops/a.png' is empty; expected 'path<TAB>label'"


def test_training_readers_still_get_unlabelled_rows_in_place(tmp_path):
    """model.real_sets skips a blank label itself, keeping every row's index for its hold-out."""
    tsv = tmp_path / "train.tsv"
    tsv.write_text("a.png\tone\nb.png\t\nc.png\tthree\n", encoding="utf-8")
    assert [label for _, label in read_label_file(tsv)] == ["one", "", "three"]
    with pytest.raises(ValueError, match=f"{tsv}:2: the label of 'b.png' is empty"):
        read_label_file(tsv, require_labels=True)


def test_a_line_without_a_path_is_an_error(labels, capsys):
    labels.write_text("\tword\n", encoding="utf-8")
    assert one_line_error(*ocr(["eval", str(labels)], capsys)[::2]).startswith(
        f"ocr eval: error: {labels}:1: no path before the tab")


def test_a_byte_order_mark_is_not_part_of_the_first_path(labels, capsys, monkeypatch):
    labels.write_bytes(b"\xef\xbb\xbf" + labels.read_bytes())
    assert read_label_file(labels)[0] == (labels.parent / "crops" / "a.png", "one")
    with_engine(monkeypatch)
    status, out, err = ocr(["eval", str(labels), "--json"], capsys)
    assert status == 0 and err == ""
    assert json.loads(out)["unreadable"] == 0


def test_eval_reports_and_fails_on_missing_crops(labels, capsys, monkeypatch):
    for name in ("a", "b", "c"):
        (labels.parent / "crops" / f"{name}.png").unlink()
    with_engine(monkeypatch)
    status, out, err = ocr(["eval", str(labels), "--json"], capsys)
    assert status == cli.SOME_IMAGES_FAILED
    report = json.loads(out)
    assert {"n", "word_accuracy", "cer", "ms_per_crop", "ece"} <= set(report)  # the keys it always had
    assert report["n"] == 3 and report["unreadable"] == 3 and report["word_accuracy"] == 0
    assert len(err.splitlines()) == 3 and all("unreadable (no such file or directory)" in e for e in err.splitlines())


def test_eval_text_summary_says_how_many_were_unreadable(labels, capsys, monkeypatch):
    (labels.parent / "crops" / "b.png").unlink()
    with_engine(monkeypatch)
    status, out, _ = ocr(["eval", str(labels)], capsys)
    assert status == cli.SOME_IMAGES_FAILED and out.rstrip().endswith("(1 unreadable)")


def test_eval_of_readable_crops_exits_0_with_no_unreadable(labels, capsys, monkeypatch):
    with_engine(monkeypatch)
    status, out, _ = ocr(["eval", str(labels), "--json"], capsys)
    assert status == 0 and json.loads(out)["unreadable"] == 0


def test_every_dataset_labels_file_still_loads_whole(data_dir):
    """read_label_file is shared with model/ (training sets, model.evaluate): the stricter
    reading must keep every row of the real files."""
    files = sorted(data_dir.glob("*/*.tsv"))
    assert files
    for tsv in files:
        lines = [line for line in tsv.read_text(encoding="utf-8-sig").splitlines()
                 if line.strip() and not line.startswith("#")]
        rows = read_label_file(tsv)
        assert len(rows) == len(lines), tsv
        assert all(path.is_file() for path, _ in rows[:20]), tsv
        if tsv.name == "test.tsv":  # what `ocr eval` and model.evaluate score: every row labelled
            assert read_label_file(tsv, require_labels=True) == rows



def test_an_endless_labels_file_is_read_only_to_its_limit(capsys):
    line = one_line_error(*ocr(["eval", "/dev/zero"], capsys)[::2])
    assert line == "ocr eval: error: /dev/zero is larger than 64 MiB; is it the right file?"


def test_a_path_with_a_nul_byte_is_an_error_with_its_line(labels, capsys):
    labels.write_text("crops/b.png\ttwo\ncrops/a\0.png\tone\n", encoding="utf-8")
    assert one_line_error(*ocr(["eval", str(labels)], capsys)[::2]).startswith(
        f"ocr eval: error: {labels}:2: the path holds a NUL byte")


def test_a_scene_name_with_a_nul_byte_is_an_error(tmp_path, capsys):
    (tmp_path / "boxes.json").write_text('{"a\\u0000b.png": []}')
    line = one_line_error(*ocr(["eval-scenes", str(tmp_path)], capsys)[::2])
    assert line == (f"ocr eval-scenes: error: {tmp_path / 'boxes.json'}: "
                    "an image name holds a NUL byte, which no file name can")


@pytest.mark.parametrize("content", ["[]", '"w.png"', "7", '["a", "b"]'])
def test_scenes_that_are_not_an_object_of_images_are_an_error(tmp_path, capsys, content):
    (tmp_path / "boxes.json").write_text(content)
    line = one_line_error(*ocr(["eval-scenes", str(tmp_path)], capsys)[::2])
    assert line.startswith(f"ocr eval-scenes: error: {tmp_path / 'boxes.json'}: expected {{image name:")

# -- 4. a scene's bbox is four finite numbers -------------------------------------------------
@pytest.mark.parametrize("bbox", ["[0, 0]", "[0, 0, 10, 10, 5]", '["a", "b", "c", "d"]', "[0, 0, 10, NaN]",
                                  "[0, 0, 10, Infinity]", "[true, 0, 10, 10]", "null", "7",
                                  "[226, 55, 0, 0]", "[0, 0, 10, 0]"])  # inside out: never matched
def test_a_bbox_that_is_not_four_numbers_names_the_image(tmp_path, capsys, bbox):
    (tmp_path / "boxes.json").write_text(f'{{"ok.png": [], "w.png": [{{"bbox": {bbox}, "text": "hi"}}]}}')
    line = one_line_error(*ocr(["eval-scenes", str(tmp_path)], capsys)[::2])
    assert line.startswith(f"ocr eval-scenes: error: {tmp_path / 'boxes.json'}: w.png: word 0: "
                           "bbox must be four numbers [x1, y1, x2, y2]")


def test_a_word_whose_text_is_not_a_string_names_the_image(tmp_path, capsys):
    (tmp_path / "boxes.json").write_text('{"w.png": [{"bbox": [0, 0, 1, 1], "text": 5}]}')
    line = one_line_error(*ocr(["eval-scenes", str(tmp_path)], capsys)[::2])
    assert line == f"ocr eval-scenes: error: {tmp_path / 'boxes.json'}: w.png: word 0: text must be a string (got 5)"


def test_good_scenes_keep_their_boxes_as_written(tmp_path):
    (tmp_path / "boxes.json").write_text('\ufeff{"w.png": [{"bbox": [0, 1.5, 10, 20], "text": "hi"}]}',
                                         encoding="utf-8")
    assert read_scenes(tmp_path) == [(tmp_path / "images" / "w.png", [([0, 1.5, 10, 20], "hi")])]


def test_eval_scenes_counts_and_fails_on_an_unreadable_scene(tmp_path, capsys, monkeypatch):
    (tmp_path / "images").mkdir()
    (tmp_path / "boxes.json").write_text('{"w.png": [{"bbox": [0, 0, 10, 10], "text": "hi"}]}')
    with_engine(monkeypatch)
    status, out, err = ocr(["eval-scenes", str(tmp_path), "--json"], capsys)
    assert status == cli.SOME_IMAGES_FAILED and json.loads(out)["unreadable"] == 1
    assert err.splitlines() == [f"{tmp_path / 'images' / 'w.png'}: unreadable (no such file or directory), "
                                "its words counted as missed"]


# -- 5. bench: --scenes 0 needs no scenes, and the test set needs a batch of eight ------------
def bench_data(root: Path, crops: int) -> Path:
    for i in range(crops):
        write_crop(root / "iiit5k" / "crops" / f"{i}.png")
    (root / "iiit5k" / "test.tsv").write_text("".join(f"crops/{i}.png\tword\n" for i in range(crops)))
    return root


def test_bench_without_scenes_does_not_read_svt_train(tmp_path):
    bench_data(tmp_path, 8)  # no svt_train
    with pytest.raises(ModelLoaded):  # got as far as building the engine
        cli.main(["bench", "--data", str(tmp_path), "--scenes", "0"])


def test_bench_needs_eight_crops(tmp_path, capsys):
    tsv = bench_data(tmp_path, 7) / "iiit5k" / "test.tsv"
    line = one_line_error(*ocr(["bench", "--data", str(tmp_path), "--scenes", "0"], capsys)[::2])
    assert line == f"ocr bench: error: {tsv} has only 7 of the 8 crops the bench needs (a batch of eight)"


# -- 6. lexicons: checked as the engine checks them, before the model loads -------------------
@pytest.mark.parametrize("words", [["!!!"], ["!!!", "...", "-"]])
def test_a_lexicon_with_nothing_to_read_is_a_usage_error(capsys, words):
    line = one_line_error(*ocr(["read", "w.png", "--lexicon", *words], capsys)[::2])
    assert line == "ocr read: error: --lexicon: no lexicon word holds a letter or digit (a-z, 0-9) to read"


def test_a_lexicon_with_some_word_to_read_is_accepted():
    with pytest.raises(ModelLoaded):
        cli.main(["read", "w.png", "--lexicon", "!!!", "Hello"])


def test_a_lexicon_word_that_is_not_unicode_is_a_usage_error(capsys):
    line = one_line_error(*ocr(["read", "w.png", "--lexicon", "ok", "\udcff"], capsys)[::2])
    assert line == ("ocr read: error: --lexicon: lexicon word '\\udcff' is not valid Unicode text "
                    "(surrogates not allowed)")


def test_lexicon_without_words_is_a_usage_error(capsys):
    line = one_line_error(*ocr(["read", "w.png", "--lexicon"], capsys)[::2])
    assert line == "ocr read: error: --lexicon was given no words"


def test_lexicon_file_over_the_engine_limit(labels, tmp_path, capsys):
    most = Settings().max_lexicon
    words = tmp_path / "words.txt"
    words.write_text("\n".join(f"w{i}" for i in range(most + 1)) + "\nw0\n", encoding="utf-8")  # w0 twice
    line = one_line_error(*ocr(["eval", str(labels), "--lexicon-file", str(words)], capsys)[::2])
    assert line == f"ocr eval: error: --lexicon-file: the lexicon may hold at most {most} words (got {most + 1})"


def test_lexicon_file_at_the_engine_limit_is_accepted(labels, tmp_path):
    words = tmp_path / "words.txt"
    words.write_text("\n".join(f"w{i}" for i in range(Settings().max_lexicon)), encoding="utf-8")
    with pytest.raises(ModelLoaded):
        cli.main(["eval", str(labels), "--lexicon-file", str(words)])


@pytest.mark.parametrize("content", ["", "\n  \n\t\n"])
def test_an_empty_lexicon_file_is_a_usage_error(labels, tmp_path, capsys, content):
    words = tmp_path / "words.txt"
    words.write_text(content, encoding="utf-8")
    line = one_line_error(*ocr(["eval", str(labels), "--lexicon-file", str(words)], capsys)[::2])
    assert line == f"ocr eval: error: lexicon file {words} has no words; expected one word a line"


def test_an_endless_lexicon_file_is_read_only_to_its_limit(labels, capsys):
    line = one_line_error(*ocr(["eval", str(labels), "--lexicon-file", "/dev/zero"], capsys)[::2])
    assert line == (f"ocr eval: error: lexicon file /dev/zero is over {cli.LEXICON_FILE_MAX_BYTES:,} bytes; "
                    "expected one word a line (at most the engine's lexicon limit of words)")


def test_a_lexicon_file_with_nothing_to_read_is_a_usage_error(labels, tmp_path, capsys):
    words = tmp_path / "words.txt"
    words.write_text("!!!\n???\n", encoding="utf-8")
    line = one_line_error(*ocr(["eval", str(labels), "--lexicon-file", str(words)], capsys)[::2])
    assert line == "ocr eval: error: --lexicon-file: no lexicon word holds a letter or digit (a-z, 0-9) to read"


def test_a_lexicon_file_is_read_without_its_byte_order_mark(labels, tmp_path, capsys, monkeypatch):
    words = tmp_path / "words.txt"
    words.write_bytes(b"\xef\xbb\xbfone\ntwo\none\n")
    engine = with_engine(monkeypatch)
    status, _, _ = ocr(["eval", str(labels), "--lexicon-file", str(words), "--json"], capsys)
    assert status == 0 and engine.lexicons[0] == ("one", "two")


@pytest.mark.parametrize("variable,value,said", [
    ("OCR_BEAM_WIDTH", "0", "OCR_BEAM_WIDTH must be at least 1 (got 0)"),
    ("OCR_MAX_PIXELS", "-5", "OCR_MAX_PIXELS must be at least 1 (got -5)"),
    ("OCR_BEAM_WIDTH", "60", "OCR_BEAM_WIDTH must be at most 50 (got 60)"),
    ("OCR_MIN_CONFIDENCE", "nan", "OCR_MIN_CONFIDENCE must be a finite number (got nan)"),
    ("OCR_READ_STRETCH", "inf", "OCR_READ_STRETCH must be a finite number (got inf)"),
    ("OCR_LM_BONUS", "-inf", "OCR_LM_BONUS must be a finite number (got -inf)"),
    ("OCR_MAX_PIXELS", "abc", "OCR_MAX_PIXELS must be a whole number (got 'abc')"),
    # These three crashed the read (an OverflowError, a resize past what cv2 takes) or the process.
    ("OCR_MAX_IMAGE_BYTES", str(10**20), f"OCR_MAX_IMAGE_BYTES must be at most {2**30} (got {10**20})"),
    ("OCR_READ_STRETCH", "1e300", "OCR_READ_STRETCH must be at most 4 (got 1e+300)"),
    ("OCR_NUM_THREADS", "100000", "OCR_NUM_THREADS must be at most 64 (got 100000)"),
])
def test_a_bad_setting_is_a_usage_error_naming_it_before_any_image(tmp_path, capsys, monkeypatch,
                                                                    variable, value, said):
    """These failed each image in turn (status 1), blaming the image for the deployment's setting."""
    monkeypatch.setenv(variable, value)
    status, _, err = ocr(["read", str(write_crop(tmp_path / "word.png"))], capsys)
    assert one_line_error(status, err) == f"ocr read: error: an OCR_* environment variable is wrong: {said}"


def test_an_empty_image_path_is_no_file_not_the_current_folder(tmp_path, capsys, monkeypatch):
    engine = with_engine(monkeypatch)
    status, out, err = ocr(["read", "", str(write_crop(tmp_path / "word.png"))], capsys)
    assert status == cli.SOME_IMAGES_FAILED and engine.sizes and out.count("word.png") == 1
    assert err.splitlines() == ["'': error: no such file (an empty path)"]


# -- a review's second pass: options and labels that quietly changed what was scored ----------
def test_an_empty_lexicon_file_name_is_refused_not_read_as_no_lexicon(labels, capsys):
    line = one_line_error(*ocr(["eval", str(labels), "--lexicon-file", ""], capsys)[::2])
    assert line.startswith("ocr eval: error: ") and "lexicon file" in line


def test_an_empty_lexicon_file_name_still_conflicts_with_lexicon(labels, capsys):
    line = one_line_error(*ocr(["eval", str(labels), "--lexicon-file", "", "--lexicon", "one"], capsys)[::2])
    assert line == "ocr eval: error: give --lexicon or --lexicon-file, not both"


@pytest.mark.parametrize("variable,value,why", [("OCR_LM_WEIGHT", "0", "OCR_LM_WEIGHT is 0"),
                                                ("OCR_LM_FILE", "", "OCR_LM_FILE is empty")])
def test_an_lm_weight_with_the_language_model_off_is_refused(labels, capsys, monkeypatch, variable, value, why):
    """The engine loads no LM then, so the weight changed nothing while the scores looked steered."""
    monkeypatch.setenv(variable, value)
    line = one_line_error(*ocr(["eval", str(labels), "--lm-weight", "5"], capsys)[::2])
    assert line == f"ocr eval: error: --lm-weight 5 needs the language model, which is off ({why})"


def test_an_lm_weight_of_zero_with_the_language_model_off_is_allowed(labels, capsys, monkeypatch):
    monkeypatch.setenv("OCR_LM_WEIGHT", "0")
    with_engine(monkeypatch)
    status, out, _ = ocr(["eval", str(labels), "--lm-weight", "0", "--json"], capsys)
    assert status == 0 and json.loads(out)["n"] == 3


def test_a_labels_line_with_a_second_tab_is_refused_not_glued_onto_the_label(labels, capsys):
    labels.write_text("crops/a.png\tone\textra\n", encoding="utf-8")
    line = one_line_error(*ocr(["eval", str(labels)], capsys)[::2])
    assert line == (f"ocr eval: error: {labels}:1: expected 'path<TAB>label', found more than one tab in "
                    f"{'crops/a.png' + chr(9) + 'one' + chr(9) + 'extra'!r}")


def test_labels_with_no_letter_or_digit_are_left_out_and_counted(labels, capsys, monkeypatch):
    """IC13 has 77 such crops ("!", "&"): read as nothing, each scored right over no characters."""
    labels.write_text("crops/a.png\tone\ncrops/b.png\t!!!\ncrops/c.png\t\u00e9\u00e9\n", encoding="utf-8")
    engine = with_engine(monkeypatch)
    status, out, _ = ocr(["eval", str(labels), "--json"], capsys)
    report = json.loads(out)
    assert status == 0 and engine.crops == 1
    assert report["n"] == 1 and report["skipped"] == 2 and report["word_accuracy"] == 1.0
    status, out, _ = ocr(["eval", str(labels)], capsys)
    assert "(2 without a letter or digit, not scored)" in out


def test_a_labels_file_with_nothing_to_score_is_a_usage_error(labels, capsys):
    labels.write_text("crops/a.png\t!!!\n", encoding="utf-8")
    line = one_line_error(*ocr(["eval", str(labels)], capsys)[::2])
    assert line == f"ocr eval: error: labels file {labels}: no label holds a letter or digit (a-z, 0-9) to score"


def test_limit_counts_the_scored_crops(labels, capsys, monkeypatch):
    labels.write_text("crops/a.png\t?\ncrops/b.png\ttwo\ncrops/c.png\tthree\n", encoding="utf-8")
    engine = with_engine(monkeypatch)
    status, out, _ = ocr(["eval", str(labels), "--limit", "2", "--json"], capsys)
    assert status == 0 and engine.crops == 2 and json.loads(out)["n"] == 2


def test_no_time_is_given_when_no_crop_was_read(labels, capsys, monkeypatch):
    for name in ("a", "b", "c"):
        (labels.parent / "crops" / f"{name}.png").unlink()
    with_engine(monkeypatch)
    status, out, _ = ocr(["eval", str(labels), "--json"], capsys)
    assert status == cli.SOME_IMAGES_FAILED and json.loads(out)["ms_per_crop"] is None
    status, out, _ = ocr(["eval", str(labels)], capsys)
    assert "median n/a" in out and "0.0 ms" not in out


def test_scenes_that_label_no_words_are_a_usage_error(tmp_path, capsys):
    (tmp_path / "boxes.json").write_text('{"a.png": [], "b.png": []}')
    line = one_line_error(*ocr(["eval-scenes", str(tmp_path)], capsys)[::2])
    assert line == f"ocr eval-scenes: error: {tmp_path / 'boxes.json'} labels no words in its scenes"


def test_no_time_is_given_when_no_scene_was_read(tmp_path, capsys, monkeypatch):
    (tmp_path / "boxes.json").write_text('{"gone.png": [{"bbox": [0, 0, 10, 10], "text": "hi"}]}')
    with_engine(monkeypatch)
    status, out, _ = ocr(["eval-scenes", str(tmp_path), "--json"], capsys)
    assert status == cli.SOME_IMAGES_FAILED and json.loads(out)["ms_per_scene"] is None
    status, out, _ = ocr(["eval-scenes", str(tmp_path)], capsys)
    assert "median n/a" in out
