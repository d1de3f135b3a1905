"""``ocr``: read images, evaluate on labelled crops or scenes, benchmark.

    ocr read IMAGE... [--json] [--no-detect] [--beam N] [--lexicon W...]
    ocr eval LABELS.tsv [--json] [--lexicon W... | --lexicon-file F] [--limit N]
    ocr eval-scenes DIR [--json]
    ocr bench [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from tqdm import tqdm

from ocr_engine.charset import normalize_text
from ocr_engine.decode import load_rgb
from ocr_engine.errors import OcrError
from ocr_engine.evaluate import SceneScore, median, recognition_report
from ocr_engine.labels import read_label_file, read_scenes
from ocr_engine.pipeline import get_engine
from ocr_engine.schemas import ReadOptions


def _lexicon(args) -> list[str] | None:
    words = list(args.lexicon or [])
    if getattr(args, "lexicon_file", None):
        words += [w.strip() for w in Path(args.lexicon_file).read_text().splitlines() if w.strip()]
    return words or None


def cmd_read(args) -> int:
    engine = get_engine()
    options = ReadOptions(detect=not args.no_detect, beam_width=args.beam, max_regions=args.max_regions,
                          lexicon=tuple(_lexicon(args) or ()) or None)
    status = 0
    for path in args.images:
        try:
            result = engine.read(Path(path).read_bytes(), options)
        except (OcrError, OSError) as exc:
            print(f"{path}: error: {exc}", file=sys.stderr)
            status = 1
            continue
        if args.json:
            print(json.dumps({"file": str(path), **result.to_dict()}))
        else:
            words = ", ".join(f"{w.text} ({w.confidence:.2f})" for w in result.words) or "(no words)"
            print(f"{path}: {words}  [{result.timings_ms['total']:.0f} ms]")
    return status


def cmd_eval(args) -> int:
    engine = get_engine()
    rows = read_label_file(Path(args.labels))[: args.limit or None]
    lexicon = _lexicon(args)
    preds, labels, ms = [], [], []
    for path, label in tqdm(rows, desc="eval", unit="crop", disable=args.json or not sys.stderr.isatty()):
        try:
            img = load_rgb(path, engine.settings)
        except (OSError, OcrError) as exc:
            print(f"{path}: unreadable ({exc}), counted as wrong", file=sys.stderr)
            preds.append("")
            labels.append(label)
            continue
        t = time.perf_counter()
        decoded = engine.read_crops([img], beam_width=args.beam, lexicon=lexicon,
                                     lm_weight=args.lm_weight, lm_bonus=args.lm_bonus)[0]
        ms.append((time.perf_counter() - t) * 1000)
        preds.append(decoded.text)
        labels.append(label)
        if args.show_errors and normalize_text(decoded.text) != normalize_text(label):
            print(f"{path}\t{label}\t{decoded.text}", file=sys.stderr)
    out = recognition_report(preds, labels, ms)
    if args.json:
        print(json.dumps(out))
    else:
        print(f"n={out['n']}  word accuracy {out['word_accuracy']:.2%}  CER {out['cer']:.2%}  "
              f"median {out['ms_per_crop']:.1f} ms/crop")
    return 0


def cmd_eval_scenes(args) -> int:
    engine = get_engine()
    score, ms = SceneScore(), []
    scenes = read_scenes(Path(args.folder))
    for path, gold in tqdm(scenes, desc="scenes", disable=args.json or not sys.stderr.isatty()):
        t = time.perf_counter()
        result = engine.read(path.read_bytes(), ReadOptions(max_regions=args.max_regions))
        ms.append((time.perf_counter() - t) * 1000)
        score.add([(w.bbox, w.text) for w in result.words], gold)
    out = {"scenes": len(scenes), **score.to_dict(), "ms_per_scene": round(median(ms), 1)}
    if args.json:
        print(json.dumps(out))
    else:
        print(f"{out['scenes']} scenes, {out['scenes_words']} labelled words: precision {out['precision']:.2%}  "
              f"recall {out['recall']:.2%}  F {out['f1']:.2%}  end-to-end word accuracy "
              f"{out['end_to_end_word_accuracy']:.2%}  median {out['ms_per_scene']:.0f} ms/scene")
    return 0


def cmd_bench(args) -> int:
    from ocr_engine.bench import run_bench

    return run_bench(args)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ocr", description="Read words in photos.")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("read", help="read images")
    r.add_argument("images", nargs="+")
    r.add_argument("--json", action="store_true", help="one JSON object per image")
    r.add_argument("--no-detect", action="store_true", help="each image is one word crop")
    r.add_argument("--beam", type=int, default=None, help="CTC beam width (1 = greedy)")
    r.add_argument("--max-regions", type=int, default=None)
    r.add_argument("--lexicon", nargs="*", help="allowed words")
    r.set_defaults(func=cmd_read)

    e = sub.add_parser("eval", help="word accuracy on a path<TAB>label file")
    e.add_argument("labels")
    e.add_argument("--json", action="store_true", help="a single JSON object on the last line")
    e.add_argument("--beam", type=int, default=None)
    e.add_argument("--lm-weight", type=float, default=None,
                   help="weight of the character language model in the beam (default OCR_LM_WEIGHT; 0: off)")
    e.add_argument("--lm-bonus", type=float, default=None,
                   help="log-score per character while the language model steers (default OCR_LM_BONUS)")
    e.add_argument("--lexicon", nargs="*", help="allowed words")
    e.add_argument("--lexicon-file", help="allowed words, one a line")
    e.add_argument("--limit", type=int, default=0, help="only the first N lines")
    e.add_argument("--show-errors", action="store_true", help="print wrong readings to stderr")
    e.set_defaults(func=cmd_eval)

    s = sub.add_parser("eval-scenes", help="detection and end-to-end accuracy on a scene folder")
    s.add_argument("folder")
    s.add_argument("--json", action="store_true")
    s.add_argument("--max-regions", type=int, default=None)
    s.set_defaults(func=cmd_eval_scenes)

    b = sub.add_parser("bench", help="latency, cold start and memory, with peers when installed")
    b.add_argument("--json", action="store_true")
    b.add_argument("--data", default=None, help="data folder (default $OCR_DATA_DIR or ../shared/data)")
    b.add_argument("--crops", type=int, default=200, help="IIIT5K test crops to time")
    b.add_argument("--scenes", type=int, default=20, help="svt_train scenes to time")
    b.set_defaults(func=cmd_bench)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except OcrError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
