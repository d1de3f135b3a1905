"""Build the character language model the engine's beam search uses:
``python -m model.charlm`` -> ``model/artifacts/charlm.npz``.

Word types (each word once, not weighted by frequency: a sign says "pharmacy" as
often as "the") from wordfreq's English list, normalised to [0-9a-z]. Interpolated
absolute discounting (Ney, Essen and Kneser 1994) down to a uniform distribution, so
no symbol ever gets zero probability: names, codes and numbers stay readable, only
less favoured. No labelled data (IIIT5K or other) goes into it.

The order (6: five characters of context) and the word list (the 20,000 most frequent
words) were chosen with the beam's weight and bonus on dev crops no model here trained
on: ``python -m model.tune_decoding --lm-words … --lm-orders …`` (model/README.md). A deeper model
of fewer, commoner words beat a long list at a shallower order: six characters hold most
of a common word, where four hold only its pieces; the smoothing still leaves names and
codes readable.
"""

from __future__ import annotations

import argparse
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from ocr_engine.charset import ALPHABET, NUM_CLASSES, normalize_text
from ocr_engine.config import REPO_ARTIFACTS_DIR
from ocr_engine.lm import END, START, CharLM

DISCOUNT = 0.75
DEFAULT_WORDS = 20_000
DEFAULT_ORDER = 6


def english_words(n: int) -> list[str]:
    from wordfreq import top_n_list

    words = (normalize_text(w) for w in top_n_list("en", n) if w.isascii())
    return [w for w in dict.fromkeys(words) if w]


def count_ngrams(words: list[str], order: int) -> dict[str, Counter]:
    """context (0..order-1 characters, START-padded) -> counts of the next symbol."""
    symbol = {ch: i + 1 for i, ch in enumerate(ALPHABET)}
    counts: dict[str, Counter] = defaultdict(Counter)
    pad = START * (order - 1)
    for word in words:
        text = pad + word
        for i in range(len(pad), len(text) + 1):
            nxt = symbol[text[i]] if i < len(text) else END
            for k in range(order):
                counts[text[i - k : i]][nxt] += 1
    return counts


def smoothed(counts: dict[str, Counter]) -> dict[str, np.ndarray]:
    """Each context's distribution, interpolated with its one-shorter suffix's."""
    dists: dict[str, np.ndarray] = {}
    for context in sorted(counts, key=len):  # shorter contexts first: their suffixes are ready
        lower = dists[context[1:]] if context else np.full(NUM_CLASSES, 1.0 / NUM_CLASSES)
        seen = counts[context]
        total = sum(seen.values())
        p = (DISCOUNT * len(seen) / total) * lower
        for symbol, n in seen.items():
            p[symbol] += (n - DISCOUNT) / total
        dists[context] = p
    return dists


def build(words: list[str], order: int = DEFAULT_ORDER) -> CharLM:
    dists = smoothed(count_ngrams(words, order))
    contexts = sorted(dists)
    return CharLM(contexts, np.log(np.stack([dists[c] for c in contexts])))


def candidates(word_counts: list[int], orders: list[int]) -> Iterator[tuple[str, CharLM]]:
    """(description, LM) for each word count and order, built as ``main`` would build it."""
    for count in word_counts:
        words = english_words(count)
        for order in orders:
            yield f"LM of order {order} from the top {count} words ({len(words)} types)", build(words, order)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--words", type=int, default=DEFAULT_WORDS, help="most frequent English words to learn from")
    p.add_argument("--order", type=int, default=DEFAULT_ORDER)
    p.add_argument("--out", type=Path, default=REPO_ARTIFACTS_DIR / "charlm.npz")
    args = p.parse_args(argv)
    words = english_words(args.words)
    lm = build(words, args.order)
    lm.save(args.out)
    print(f"wrote {args.out}: order {args.order}, {len(words)} words, {args.out.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
