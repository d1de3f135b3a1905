"""``ocr``: read images, evaluate on labelled crops or scenes, benchmark.

    ocr read IMAGE... [--json] [--no-detect] [--beam N] [--max-regions N] [--lexicon W...]
    ocr eval LABELS.tsv [--json] [--lexicon W... | --lexicon-file F] [--limit N]
    ocr eval-scenes DIR [--json] [--max-regions N]
    ocr bench [--json] [--data DIR]

Every command takes ``--verbose`` (also ``ocr --verbose COMMAND``): without it, the
``INFO:`` lines LiteRT's native code writes to stderr while the model loads are dropped.

A mistake on the command line or in its files (a missing or malformed labels file, a
folder without boxes.json, an option out of range) is one line on stderr and exit status
2, found before the model loads; ``ocr read``, ``ocr eval`` and ``ocr eval-scenes`` go on
past an unreadable image (or one over the engine's size limit) and exit 1.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn

from ocr_engine.charset import normalize_text
from ocr_engine.config import Settings, load_settings
from ocr_engine.errors import InvalidOption, OcrError
from ocr_engine.imagefile import read_image_file
from ocr_engine.pipeline import DecodeOptions, OcrEngine, checked_lexicon, get_engine
from ocr_engine.schemas import ReadOptions

from ocr_tools.evaluate import EngineReader, error_reason, evaluate_crops, score_scenes
from ocr_tools.labels import Scenes, read_label_file, read_scenes
from ocr_tools.paths import data_dir

USAGE_ERROR = 2  # a mistake in the command line or its files (argparse's status too)
SOME_IMAGES_FAILED = 1  # `ocr read`, `eval`, `eval-scenes`: at least one image could not be read
INTERRUPTED = 130  # Ctrl+C, as a shell reports SIGINT

BENCH_MIN_CROPS = 8  # the batch-8 figure needs a batch of eight
LEXICON_FILE_MAX_BYTES = 4 << 20  # 10,000 words of 400 bytes: far past any real word list


class UsageError(Exception):
    """A user's mistake: reported as one line on stderr, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line (with where to look) rather than the
    whole usage block followed by the message."""

    _argv: tuple[str, ...] = ()

    def parse_known_args(self, args=None, namespace=None):  # a subcommand's parser gets its own arguments
        self._argv = tuple(sys.argv[1:] if args is None else args)
        return super().parse_known_args(args, namespace)

    def error(self, message: str) -> NoReturn:
        if "arguments are required" in message and "--lexicon" in self._argv:
            # `ocr read --lexicon a b word.png`: the lexicon took the image as a word too.
            message += "; --lexicon takes every word up to the next option: put it after the images (or labels file)"
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


# -- reporting -----------------------------------------------------------------------------
def _os_error(exc: OSError, what: str = "") -> str:
    """-> ``labels file x: no such file or directory`` (``what``, the file, the reason)."""
    name = f"{exc.filename}:" if exc.filename is not None else ""
    return " ".join(p for p in (what, name, error_reason(exc)) if p)


@contextlib.contextmanager
def _native_log_filtered(verbose: bool) -> Iterator[None]:
    """Drop the ``INFO:`` lines native code writes to file descriptor 2 inside the block
    (LiteRT's ``Created TensorFlow Lite XNNPACK delegate for CPU.`` when the interpreter
    is built; it has no switch for that from Python). Everything else written to stderr
    meanwhile (warnings, errors, Python's own) is passed on when the block ends."""
    if verbose:
        yield
        return
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no fd 2 to redirect: nothing to filter
        yield
        return
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            kept = [line for line in caught.read().decode("utf-8", "replace").splitlines(keepends=True)
                    if not line.startswith("INFO: ")]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


def _load_engine(args: argparse.Namespace) -> OcrEngine:
    """The model, loaded once (after every option and input file has been checked)."""
    with _native_log_filtered(args.verbose):
        return get_engine()


# -- checks made before the model loads -------------------------------------------------------
def _settings() -> Settings:
    try:
        return load_settings()
    except ValueError as exc:
        raise UsageError(f"an OCR_* environment variable is wrong: {exc}") from exc


def _in_range(flag: str, value: int | None, low: int, high: int | None = None) -> None:
    if value is None:
        return
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"{low} or more"
        raise UsageError(f"{flag} must be {bounds} (got {value})")


def _finite(flag: str, value: float | None, low: float | None = None) -> None:
    """argparse's float takes ``nan`` and ``inf``: either would silently change every score."""
    if value is None:
        return
    if not math.isfinite(value):
        raise UsageError(f"{flag} must be a finite number (got {value:g})")
    if low is not None and value < low:
        raise UsageError(f"{flag} must be {low:g} or more (got {value:g})")


def _lexicon_file_words(name: str) -> list[str]:
    """The words of a lexicon file, one a line; at least one (an empty file is a mistake,
    not "no lexicon")."""
    path = Path(name)
    try:
        with open(path, "rb") as f:  # read bounded: /dev/zero or a video by mistake is not held whole
            data = f.read(LEXICON_FILE_MAX_BYTES + 1)
        text = data.decode("utf-8-sig")  # a BOM is not part of the first word
    except OSError as exc:
        raise UsageError(_os_error(exc, "lexicon file")) from exc
    except UnicodeDecodeError as exc:
        raise UsageError(f"lexicon file {path} is not UTF-8 text") from exc
    if len(data) > LEXICON_FILE_MAX_BYTES:
        raise UsageError(f"lexicon file {path} is over {LEXICON_FILE_MAX_BYTES:,} bytes; "
                         "expected one word a line (at most the engine's lexicon limit of words)")
    words = [w.strip() for w in text.splitlines() if w.strip()]
    if not words:
        raise UsageError(f"lexicon file {path} has no words; expected one word a line")
    return words


def _lexicon(args: argparse.Namespace, settings: Settings) -> list[str] | None:
    """The lexicon of ``--lexicon`` or ``--lexicon-file``, checked as the engine checks it
    (``checked_lexicon``) so that a mistake is one usage error up front rather than one
    failure per image after the model loads."""
    lexicon_file = getattr(args, "lexicon_file", None)
    flag = "--lexicon-file" if lexicon_file is not None else "--lexicon"
    if args.lexicon is not None and not any(w.strip() for w in args.lexicon):
        raise UsageError("--lexicon was given no words")
    words = [w.strip() for w in args.lexicon or [] if w.strip()]
    if lexicon_file is not None:  # "" too: an empty name is a mistake, not "no lexicon"
        words += _lexicon_file_words(lexicon_file)
    try:
        checked = checked_lexicon(words, settings.max_lexicon)
    except InvalidOption as exc:
        raise UsageError(f"{flag}: {exc.message}") from None
    return list(checked) if checked else None


def _label_rows(path: Path, limit: int | None = None) -> list[tuple[Path, str]]:
    """The ``path<TAB>label`` lines of ``path`` (the first ``limit``); at least one."""
    if path.is_dir():
        raise UsageError(f"labels file {path} is a folder; expected a path<TAB>label file")
    try:
        rows = read_label_file(path, require_labels=True)
    except OSError as exc:
        raise UsageError(_os_error(exc, "labels file")) from exc
    except ValueError as exc:  # a line without a tab or a label, or not UTF-8 text
        raise UsageError(str(exc)) from exc
    if not rows:
        raise UsageError(f"labels file {path} has no 'path<TAB>label' lines")
    return rows[:limit] if limit else rows


def _scenes(folder: Path) -> Scenes:
    """The scenes of a folder with boxes.json and images/; at least one."""
    if not folder.is_dir():
        raise UsageError(f"scene folder {folder} does not exist" if not folder.exists()
                         else f"{folder} is not a folder; expected one with boxes.json and images/")
    if not (folder / "boxes.json").is_file():
        raise UsageError(f"{folder} is not a scene folder: it has no boxes.json")
    try:
        scenes = read_scenes(folder)
    except OSError as exc:
        raise UsageError(_os_error(exc)) from exc
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    if not scenes:
        raise UsageError(f"{folder / 'boxes.json'} lists no scenes")
    if not any(words for _, words in scenes):  # recall and accuracy over no words mean nothing
        raise UsageError(f"{folder / 'boxes.json'} labels no words in its scenes")
    return scenes


def check_read(args: argparse.Namespace, settings: Settings) -> None:
    _in_range("--beam", args.beam, 1, settings.max_beam_width)
    _in_range("--max-regions", args.max_regions, 1, settings.max_regions_limit)
    args.lexicon_words = _lexicon(args, settings)


def check_eval(args: argparse.Namespace, settings: Settings) -> None:
    _in_range("--beam", args.beam, 1, settings.max_beam_width)
    _in_range("--limit", args.limit, 1)
    _finite("--lm-weight", args.lm_weight, 0)
    _finite("--lm-bonus", args.lm_bonus)  # below 0 is a per-character penalty: allowed
    if args.lexicon_file is not None and args.lexicon is not None:
        raise UsageError("give --lexicon or --lexicon-file, not both")
    if args.lm_weight and settings.lm_path is None:  # the engine loads no LM for it to weigh
        why = "OCR_LM_FILE is empty" if not settings.lm_file else f"OCR_LM_WEIGHT is {settings.lm_weight:g}"
        raise UsageError(f"--lm-weight {args.lm_weight:g} needs the language model, which is off ({why})")
    args.lexicon_words = _lexicon(args, settings)
    args.rows, args.skipped = _scored_rows(_label_rows(Path(args.labels)), args.limit, Path(args.labels))


def _scored_rows(rows: list[tuple[Path, str]], limit: int | None,
                 path: Path) -> tuple[list[tuple[Path, str]], int]:
    """The rows that can be scored (the first ``limit``) and how many were left out: a label
    with no letter or digit (IC13's "!" and "&") normalizes to "" under the case-insensitive
    [0-9a-z] protocol, and a crop read as nothing would count as right, over no characters."""
    scored = [(p, label) for p, label in rows if normalize_text(label)]
    if not scored:
        raise UsageError(f"labels file {path}: no label holds a letter or digit (a-z, 0-9) to score")
    return (scored[:limit] if limit else scored), len(rows) - len(scored)


def check_eval_scenes(args: argparse.Namespace, settings: Settings) -> None:
    _in_range("--max-regions", args.max_regions, 1, settings.max_regions_limit)
    args.scenes = _scenes(Path(args.folder))


def check_bench(args: argparse.Namespace, settings: Settings) -> None:
    _in_range("--crops", args.crops, BENCH_MIN_CROPS)
    _in_range("--scenes", args.scenes, 0)
    data = data_dir(args.data)
    where = "--data" if args.data else "OCR_DATA_DIR" if os.environ.get("OCR_DATA_DIR") else "the default"
    hint = "put the data in shared/data beside the repository, or pass --data DIR (or set OCR_DATA_DIR)"
    if not data.is_dir():
        raise UsageError(f"no data folder at {data} ({where}); {hint}")
    tsv = data / "iiit5k" / "test.tsv"
    if not tsv.is_file():
        raise UsageError(f"{data} has no iiit5k/test.tsv (IIIT5K test crops to time); {hint}")
    if (n := len(_label_rows(tsv))) < BENCH_MIN_CROPS:
        raise UsageError(f"{tsv} has only {n} of the {BENCH_MIN_CROPS} crops the bench needs (a batch of eight)")
    if args.scenes:  # --scenes 0: no scenes, svt_train is not read
        _scenes(data / "svt_train")


# -- commands ------------------------------------------------------------------------------
def _unreadable_note(out: dict) -> str:
    """The summary line's tail when images were missed (the JSON report always has the count)."""
    return f"  ({out['unreadable']} unreadable)" if out["unreadable"] else ""


def cmd_read(args: argparse.Namespace) -> int:
    engine = _load_engine(args)
    options = ReadOptions(detect=not args.no_detect, beam_width=args.beam, max_regions=args.max_regions,
                          lexicon=tuple(args.lexicon_words or ()) or None)
    status = 0
    for path in args.images:
        try:
            if not path:  # Path("") is the current folder: it was told "is a directory"
                raise FileNotFoundError(2, "no such file (an empty path)")
            result = engine.read(read_image_file(Path(path), engine.settings), options)
        except OSError as exc:
            print(f"{path or repr(path)}: error: {error_reason(exc)}", file=sys.stderr)
            status = SOME_IMAGES_FAILED
            continue
        except OcrError as exc:
            print(f"{path}: error: {exc}", file=sys.stderr)
            status = SOME_IMAGES_FAILED
            continue
        if args.json:
            print(json.dumps(result.named(str(path)).to_dict()))
        else:
            words = ", ".join(f"{w.text} ({w.confidence:.2f})" for w in result.words) or "(no words)"
            print(f"{path}: {words}  [{result.timings_ms['total']:.0f} ms]")
    return status


def cmd_eval(args: argparse.Namespace) -> int:
    engine = _load_engine(args)
    lexicon = tuple(args.lexicon_words) if args.lexicon_words else None
    read = EngineReader(engine, DecodeOptions(beam_width=args.beam, lexicon=lexicon,
                                              lm_weight=args.lm_weight, lm_bonus=args.lm_bonus))
    progress = None if args.json or not sys.stderr.isatty() else "eval"
    evaluation = evaluate_crops(args.rows, read, settings=engine.settings, progress=progress)
    if args.show_errors:
        for path, label, text in evaluation.wrong():
            if path not in evaluation.unreadable:
                print(f"{path}\t{label}\t{text}", file=sys.stderr)
    out = {**evaluation.report(), "unreadable": len(evaluation.unreadable), "skipped": args.skipped}
    if args.json:
        print(json.dumps(out))
    else:
        ms = "n/a" if out["ms_per_crop"] is None else f"{out['ms_per_crop']:.1f} ms/crop"
        skipped = f"  ({args.skipped} without a letter or digit, not scored)" if args.skipped else ""
        print(f"n={out['n']}  word accuracy {out['word_accuracy']:.2%}  CER {out['cer']:.2%}  "
              f"ECE {out['ece']:.3f}  median {ms}{_unreadable_note(out)}{skipped}")
    # Scores with crops missing are not the labels file's: say so in the status, as `read` does.
    return SOME_IMAGES_FAILED if evaluation.unreadable else 0


def cmd_eval_scenes(args: argparse.Namespace) -> int:
    engine = _load_engine(args)
    run = score_scenes(engine, args.scenes, args.max_regions, progress=not args.json and sys.stderr.isatty())
    out = run.report()
    if args.json:
        print(json.dumps(out))
    else:
        time_taken = "n/a" if out["ms_per_scene"] is None else f"{out['ms_per_scene']:.0f} ms/scene"
        print(f"{out['scenes']} scenes, {out['scenes_words']} labelled words: precision {out['precision']:.2%}  "
              f"recall {out['recall']:.2%}  F {out['f1']:.2%}  end-to-end word accuracy "
              f"{out['end_to_end_word_accuracy']:.2%}  median {time_taken}{_unreadable_note(out)}")
    return SOME_IMAGES_FAILED if run.unreadable else 0


def cmd_bench(args: argparse.Namespace) -> int:
    from ocr_tools.bench import run_bench

    # The bench builds its own engines; LiteRT logs its INFO line once per process, at the
    # first, so the whole run is filtered (its report goes to stdout, live).
    with _native_log_filtered(args.verbose):
        return run_bench(args)


# -- parser --------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="ocr", description="Read words in photos.")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="also show the LiteRT runtime's own INFO lines (hidden by default)")
    # On each command too (`ocr read --verbose x.png`); SUPPRESS keeps `ocr --verbose read` working.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="also show the LiteRT runtime's own INFO lines (hidden by default)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, run: Callable[[argparse.Namespace], int],
                check: Callable[[argparse.Namespace, Settings], None], **kw: str) -> argparse.ArgumentParser:
        parser = sub.add_parser(name, parents=[common], **kw)
        parser.set_defaults(func=run, check=check)
        return parser

    r = command("read", cmd_read, check_read, help="read images")
    r.add_argument("images", nargs="+")
    r.add_argument("--json", action="store_true", help="one JSON object per image")
    r.add_argument("--no-detect", action="store_true", help="each image is one word crop")
    r.add_argument("--beam", type=int, default=None, help="CTC beam width (1 = greedy)")
    r.add_argument("--max-regions", type=int, default=None)
    r.add_argument("--lexicon", nargs="*", help="allowed words")

    e = command("eval", cmd_eval, check_eval, help="word accuracy on a path<TAB>label file")
    e.add_argument("labels")
    e.add_argument("--json", action="store_true", help="a single JSON object on the last line")
    e.add_argument("--beam", type=int, default=None, help="CTC beam width (1 = greedy)")
    e.add_argument("--lm-weight", type=float, default=None,
                   help="weight of the character language model in the beam (default OCR_LM_WEIGHT; 0: off)")
    e.add_argument("--lm-bonus", type=float, default=None,
                   help="log-score per character while the language model steers (default OCR_LM_BONUS)")
    e.add_argument("--lexicon", nargs="*", help="allowed words")
    e.add_argument("--lexicon-file", help="allowed words, one a line")
    e.add_argument("--limit", type=int, default=None, help="only the first N lines")
    e.add_argument("--show-errors", action="store_true", help="print wrong readings to stderr")

    s = command("eval-scenes", cmd_eval_scenes, check_eval_scenes,
                help="detection and end-to-end accuracy on a scene folder")
    s.add_argument("folder")
    s.add_argument("--json", action="store_true")
    s.add_argument("--max-regions", type=int, default=None)

    b = command("bench", cmd_bench, check_bench, help="latency, cold start and memory, with peers when installed")
    b.add_argument("--json", action="store_true")
    b.add_argument("--data", default=None,
                   help="data folder (default $OCR_DATA_DIR, else shared/data beside the repository)")
    b.add_argument("--crops", type=int, default=200, help="IIIT5K test crops to time (8 or more)")
    b.add_argument("--scenes", type=int, default=20, help="svt_train scenes to time (0: none)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    where = f"ocr {args.command}"
    try:
        args.check(args, _settings())  # every option and input file, before the model loads
        return args.func(args)
    except UsageError as exc:
        print(f"{where}: error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except OcrError as exc:
        print(f"{where}: error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except BrokenPipeError:  # `ocr read *.jpg | head`: the reader left; not an error of ours
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:  # a file that went away or could not be read mid-run
        print(f"{where}: error: {_os_error(exc)}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        print(f"{where}: interrupted", file=sys.stderr)
        return INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
