"""Compare candidate weights on the dev crops: ``python -m model.dev_compare LABEL=W[@WIDTH] ...``.

    python -m model.dev_compare shipped=model/artifacts/crnn.weights.h5@32-64-128-128-384-384-192 \\
        p23=model/checkpoints/phase23/mean3.weights.h5@32-64-128-128-384-384-192 --record "Phase 23"

(``@WIDTH`` is the network's width, ``model.widths``; without it 0.5, not the shipped width.)

Each candidate reads every dev set of ``model.tune_decoding`` (svt_train's words and the
real training sets' image hold-outs; never a test split) as the engine serves (margin,
the engine's beam, LM weight, bonus and gate; tall crops read every way unless
OCR_READ_TALL=0; OCR_READ_STRETCH times as wide), then with the LM ungated (its reading always kept: the decoding before
the gate) and without the language model. Prints word accuracy per set as served, the
totals, CER, and against the first candidate the crops each reads that the other does not,
with the sign test's p (McNemar's exact test: how often two readers as good as each other
would split that unevenly; the dev crops cannot tell apart a few words' difference);
``--record TITLE`` appends the table to the training record's dev log
(``model/checkpoints/dev_log.md``), where each lever's gain is kept.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
from ocr_engine.config import load_settings
from ocr_engine.pipeline import DecodeOptions, OcrEngine
from ocr_tools.evaluate import recognition_score
from ocr_tools.paths import data_dir

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
    served}} for one candidate."""
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
                     "right": words_right(gated, labels)}
    return out


def paired(reference: np.ndarray, candidate: np.ndarray) -> str:
    """Crops only ``candidate`` reads right / only ``reference`` does, and the two-sided sign
    test's p over those crops (the crops both or neither read say nothing about which is better)."""
    won, lost = int(np.sum(candidate & ~reference)), int(np.sum(reference & ~candidate))
    from scipy.stats import binomtest  # a training package: importing this module needs only the engine's

    p = binomtest(won, won + lost).pvalue if won + lost else 1.0
    return f"+{won} / -{lost} (p {p:.2f})"


def words_read(scores: dict[str, dict], kind: str = "lm") -> int:
    """Dev crops one candidate reads right over all sets: ``kind`` "lm" as served, "ungated"
    or "plain" (without the LM)."""
    return sum(round(by_kind[kind].word_accuracy * by_kind[kind].n) for by_kind in scores.values())


def table(results: dict[str, dict[str, dict]], sets: dict) -> list[str]:
    names = list(sets)
    n = sum(len(labels) for _, labels in sets.values())
    first = next(iter(results))
    lines = ["| candidate | " + " | ".join(f"{s} ({len(sets[s][1])})" for s in names)
             + f" | all {n}, as served | CER | LM ungated | without the LM | against {first} |",
             "|---" * (len(names) + 6) + "|"]
    reference = np.concatenate([results[first][s]["right"] for s in names])
    for label, scores in results.items():
        right, ungated, plain = (words_read(scores, k) for k in ("lm", "ungated", "plain"))
        cer = sum(scores[s]["lm"].cer * scores[s]["lm"].n for s in names) / n
        versus = "" if label == first else paired(reference, np.concatenate([scores[s]["right"] for s in names]))
        lines.append(f"| {label} | " + " | ".join(f"{scores[s]['lm'].word_accuracy:.1%}" for s in names)
                     + f" | {right} ({right / n:.1%}) | {cer:.2%} | {ungated} ({ungated / n:.1%})"
                     + f" | {plain} ({plain / n:.1%}) | {versus} |")
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
