"""A greedy model soup chosen on the dev crops: ``python -m model.soup``.

    python -m model.soup p10=model/artifacts/crnn.weights.h5 p15=model/checkpoints/phase15/last.weights.h5 \
        p17=model/checkpoints/phase17/mean3.weights.h5 --width 32-64-128-128-384-384-192 \
        --out model/checkpoints/soup.weights.h5 --record "Greedy soup"

Fine-tunes of one network from the same start lie in one basin, so the mean of their weights
often reads better than any of them at no cost in serving (Wortsman et al. 2022, "Model soups").
The greedy recipe: score each ingredient alone on dev, then, from the best down, keep an
ingredient only if the mean with it reads at least as many dev crops as the soup without it.
Every score is the dev crops read as the engine serves (``model.dev_compare``: svt_train's words
and the real sets' image hold-outs, never a test split). The soup is written to ``--out`` as a
``.weights.h5`` that ``model.export`` takes.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from ocr_engine.config import load_settings
from ocr_engine.pipeline import OcrEngine
from ocr_tools.paths import data_dir

from model.average import average_weights
from model.dev_compare import DEV_LOG, score_candidate, table, words_read
from model.tune_decoding import dev_sets, record


def greedy_soup(ingredients: Sequence[str], score: Callable[[tuple[str, ...]], int]) -> tuple[tuple[str, ...], list]:
    """Wortsman et al.'s greedy soup: ``score(members)`` is the dev crops the mean of
    ``members`` reads. -> (the soup's members, the steps: (members tried, score, kept))."""
    if not ingredients:
        raise ValueError("no ingredients")
    alone = sorted(ingredients, key=lambda name: score((name,)), reverse=True)  # stable: ties keep the given order
    soup, best = (alone[0],), score((alone[0],))
    steps = [(soup, best, True)]
    for name in alone[1:]:
        trial = (*soup, name)
        result = score(trial)
        kept = result >= best  # "at least as good", the paper's rule: on a tie the soup grows
        steps.append((trial, result, kept))
        if kept:
            soup, best = trial, result
    return soup, steps


class DevScorer:
    """Calling it with some ingredients' labels -> the dev crops the mean of their weights
    reads as served; each mean is built and read once (``results``, by sorted labels)."""

    def __init__(self, paths: dict[str, Path], width: str, data: Path):
        self.paths, self.width = paths, width
        self.engine = OcrEngine.from_settings(load_settings())  # its LM and decoding settings
        self.sets = dev_sets(data)
        self.results: dict[tuple[str, ...], dict] = {}

    def __call__(self, members: tuple[str, ...]) -> int:
        key = tuple(sorted(members))
        if key not in self.results:
            with tempfile.TemporaryDirectory() as scratch:
                weights = Path(scratch) / "soup.weights.h5"
                average_weights([self.paths[m] for m in key], self.width).save_weights(weights)
                self.results[key] = score_candidate(self.engine, weights, self.width, self.sets)
            print(table({"+".join(key): self.results[key]}, self.sets)[-1], flush=True)
        return words_read(self.results[key])


def parse_ingredient(spec: str) -> tuple[str, Path]:
    label, sep, path = spec.partition("=")
    if not sep or not label or not path:
        raise argparse.ArgumentTypeError(f"{spec!r}: expected LABEL=WEIGHTS")
    return label, Path(path)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("ingredients", nargs="+", type=parse_ingredient, help="LABEL=WEIGHTS, all of one width")
    p.add_argument("--width", default="0.5", help="the network's width (model.widths)")
    p.add_argument("--out", type=Path, required=True, help="the soup, a .weights.h5 file")
    p.add_argument("--data", type=Path, default=data_dir())
    p.add_argument("--record", metavar="TITLE", help=f"append the steps to {DEV_LOG.name} under this title")
    args = p.parse_args(argv)
    paths = dict(args.ingredients)
    if len(paths) != len(args.ingredients):
        p.error("each ingredient needs its own label")
    if args.out.resolve() in {Path(w).resolve() for w in paths.values()}:
        p.error(f"--out {args.out} is one of the ingredients: it would be overwritten")
    score = DevScorer(paths, args.width, args.data)
    soup, steps = greedy_soup(list(paths), score)
    average_weights([paths[m] for m in soup], args.width).save_weights(args.out)
    lines = ["| step | members | all, as served | kept |", "|---|---|---|---|"]
    lines += [f"| {i} | {' + '.join(members)} | {total} | {'yes' if kept else 'no'} |"
              for i, (members, total, kept) in enumerate(steps)]
    scored = {"+".join(k): v for k, v in score.results.items()}
    lines += ["", *table(scored, score.sets)]
    print("\n".join(lines))
    print(f"wrote {args.out}: the mean of {' + '.join(soup)}")
    if args.record:
        record(DEV_LOG, args.record, sys.argv[1:] if argv is None else argv, lines, module="model.soup",
               note=score.engine.decoding, markdown=True)


if __name__ == "__main__":
    main()
