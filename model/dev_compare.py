"""Compare candidate weights on the dev crops: ``python -m model.dev_compare LABEL=W[@WIDTH] ...``.

    python -m model.dev_compare shipped=model/artifacts/crnn.weights.h5@32-64-128-128-384-384r160-192 \\
        p23=model/checkpoints/phase23/mean3.weights.h5@32-64-128-128-384-384-192 --record "Phase 23"

(``@WIDTH`` is the network's width, ``model.widths``; without it 0.5, not the shipped width.)

Each candidate reads every dev set of ``model.tune_decoding`` (svt_train's words and the
real training sets' image hold-outs; never a test split) as the engine serves (margin,
the engine's beam, LM weight, bonus and gate; tall crops read every way unless
OCR_READ_TALL=0; OCR_READ_STRETCH times as wide), then with the LM ungated (its reading always kept: the decoding before
the gate) and without the language model. Prints word accuracy per set as served, the
totals, CER, and against the first candidate the crops each reads that the other does not,
with the sign test's p (McNemar's exact test: how often two readers as good as each other
would split that unevenly; the dev crops cannot tell apart a few words' difference), and the
same test over characters: the crops where each makes fewer character errors than the other
(a crop read with one wrong letter fewer counts, so it tells smaller leads apart);
``--record TITLE`` appends the table to the training record's dev log
(``model/checkpoints/dev_log.md``), where each lever's gain is kept.

The network here is each candidate's float32 Keras weights, a first look without an export.
What ships is the int8 model, which rounds differently: phase 10's full network read 1114 dev
crops int8 and 1107 as float32 weights, so a lead here over the shipped weights is not a lead
over what is served. ``model.scene_compare`` exports each candidate and pairs the dev crops
and the scenes as served; the shipping rule reads that.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
from ocr_engine.charset import normalize_text
from ocr_engine.config import load_settings
from ocr_engine.pipeline import DecodeOptions, OcrEngine
from ocr_tools.evaluate import recognition_score
from ocr_tools.paths import data_dir
from rapidfuzz.distance import Levenshtein

from model.tune_decoding import dev_sets, keras_probs, record, words_right

DEV_LOG = Path(__file__).resolve().parent / "checkpoints" / "dev_log.md"


def parse_candidate(spec: str) -> tuple[str, Path, str]:
    """``label=path[@width]`` -> (label, path, width)."""
    label, sep, rest = spec.partition("=")
    if not sep or not rest:
        raise argparse.ArgumentTypeError(f"{spec!r}: expected LABEL=WEIGHTS[@WIDTH]")
    path, _, width = rest.partition("@")
    return label, Path(path), width or "0.5"


def score_candidate(engine: OcrEngine, weights: Path, width: str, sets: dict) -> dict[str, dict]:
    """-> {set: {"lm", "ungated", "plain": RecognitionScore; "right": per crop, read right as
    served; "errors": per crop, its character errors as served}} for one candidate."""
    predict = keras_probs(weights, width)
    out = {}
    for name, (crops, labels) in sets.items():
        probs = engine.crop_probs(crops, predict=predict)
        gated = engine.decode_readings(probs)
        ungated = engine.decode_readings(probs, DecodeOptions(lm_support=math.inf, keep_digits=False))
        plain = engine.decode_readings(probs, DecodeOptions(lm_weight=0.0, lm_bonus=0.0))
        out[name] = {"lm": recognition_score([r.text for r in gated], labels),
                     "ungated": recognition_score([r.text for r in ungated], labels),
                     "plain": recognition_score([r.text for r in plain], labels),
                     "right": words_right(gated, labels),
                     "errors": character_errors(gated, labels)}
    return out


def character_errors(reads, labels) -> np.ndarray:
    """Per crop, the edits from its reading to its label (the protocol's [0-9a-z], as ``words_right``)."""
    return np.array([Levenshtein.distance(normalize_text(r.text), label)
                     for r, label in zip(reads, labels, strict=True)], int)


def sign_test(won: int, lost: int) -> str:
    """"+won / -lost (p ..)": the two-sided sign test over the crops that tell the two apart
    (the others say nothing about which is better)."""
    from scipy.stats import binomtest  # a training package: importing this module needs only the engine's

    p = binomtest(won, won + lost).pvalue if won + lost else 1.0
    # Three decimals near the rule's 0.05, where two would print 0.048 and 0.053 alike.
    return f"+{won} / -{lost} (p {p:.2f})" if p >= 0.1 else f"+{won} / -{lost} (p {p:.3f})"


def paired(reference: np.ndarray, candidate: np.ndarray) -> str:
    """Crops only ``candidate`` reads right / only ``reference`` does, with the sign test."""
    return sign_test(int(np.sum(candidate & ~reference)), int(np.sum(reference & ~candidate)))


def paired_characters(reference: np.ndarray, candidate: np.ndarray) -> str:
    """Crops where ``candidate`` makes fewer character errors / more than ``reference``, with
    the sign test."""
    return sign_test(int(np.sum(candidate < reference)), int(np.sum(candidate > reference)))


def words_read(scores: dict[str, dict], kind: str = "lm") -> int:
    """Dev crops one candidate reads right over all sets: ``kind`` "lm" as served, "ungated"
    or "plain" (without the LM)."""
    return sum(round(by_kind[kind].word_accuracy * by_kind[kind].n) for by_kind in scores.values())


def table(results: dict[str, dict[str, dict]], sets: dict) -> list[str]:
    names = list(sets)
    n = sum(len(labels) for _, labels in sets.values())
    first = next(iter(results))
    lines = ["| candidate | " + " | ".join(f"{s} ({len(sets[s][1])})" for s in names)
             + f" | all {n}, as served | CER | LM ungated | without the LM | against {first}"
             + f" | characters against {first} |",
             "|---" * (len(names) + 7) + "|"]

    def per_crop(scores: dict[str, dict], key: str) -> np.ndarray:
        return np.concatenate([scores[s][key] for s in names])

    for label, scores in results.items():
        right, ungated, plain = (words_read(scores, k) for k in ("lm", "ungated", "plain"))
        cer = sum(scores[s]["lm"].cer * scores[s]["lm"].n for s in names) / n
        words, chars = ("", "") if label == first else (
            paired(per_crop(results[first], "right"), per_crop(scores, "right")),
            paired_characters(per_crop(results[first], "errors"), per_crop(scores, "errors")))
        lines.append(f"| {label} | " + " | ".join(f"{scores[s]['lm'].word_accuracy:.1%}" for s in names)
                     + f" | {right} ({right / n:.1%}) | {cer:.2%} | {ungated} ({ungated / n:.1%})"
                     + f" | {plain} ({plain / n:.1%}) | {words} | {chars} |")
    return lines


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("candidates", nargs="+", type=parse_candidate, help="LABEL=WEIGHTS[@WIDTH]")
    p.add_argument("--data", type=Path, default=data_dir())
    p.add_argument("--record", metavar="TITLE", help=f"append the table to {DEV_LOG.name} under this title")
    args = p.parse_args(argv)
    labels = [label for label, _, _ in args.candidates]
    if len(set(labels)) != len(labels):
        p.error("each candidate needs its own label (a repeated one would replace the first in the table)")
    engine = OcrEngine.from_settings(load_settings())  # its LM and decoding settings
    sets = dev_sets(args.data)
    results = {}
    for label, weights, width in args.candidates:
        results[label] = score_candidate(engine, weights, width, sets)
        print(table({label: results[label]}, sets)[-1], flush=True)
    lines = table(results, sets)
    print("\n".join(lines))
    if args.record:
        record(DEV_LOG, args.record, sys.argv[1:] if argv is None else argv, lines, module="model.dev_compare",
               note=engine.decoding, markdown=True)


if __name__ == "__main__":
    main()
