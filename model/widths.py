"""How a CRNN width is written: a share of the seed's widths, or each layer's own.

Each layer's own: the six conv blocks' filters and the LSTM units, joined by "-"
("32-64-128-128-384-384-192"). A conv block may be written ``FILTERSrRANK`` ("384r160"):
its 3x3 convolution makes RANK channels and a 1x1 convolution spreads them to FILTERS,
a low-rank block that ``model.factorize`` makes from a full one (fewer multiply-adds).

No Keras here: the export's metadata (``crnn.json`` names the width) is written and
tested where Keras is not installed.
"""

from __future__ import annotations

import re

SEED_CONV_FILTERS = (64, 128, 256, 256, 512, 512)
SEED_LSTM_UNITS = 256
MIN_WIDTH = 8
_TOKEN = re.compile(r"[0-9]+(r[0-9]+)?", re.ASCII)


def _is_layer_list(width: float | str) -> bool:
    return isinstance(width, str) and "-" in width


def _blocks(width: str) -> list[tuple[int, int | None]]:
    """Each conv block's (filters, rank or None) and, last, (LSTM units, None)."""
    tokens = width.split("-")
    # Digits only: int() would also take " 384", "+384" and "3_84", one network under several names.
    if len(tokens) != len(SEED_CONV_FILTERS) + 1 or not all(_TOKEN.fullmatch(t) for t in tokens) or "r" in tokens[-1]:
        raise ValueError(f"width {width!r}: six conv widths (each may be FILTERSrRANK) and the LSTM units")
    parts = [tuple(int(n) for n in token.split("r")) for token in tokens]
    blocks = [(p[0], p[1] if len(p) == 2 else None) for p in parts]
    for filters, rank in blocks:
        if filters < MIN_WIDTH or (rank is not None and not MIN_WIDTH <= rank < filters):
            raise ValueError(f"width {width!r}: each width >= {MIN_WIDTH}, each rank >= {MIN_WIDTH} "
                             "and below its block's filters")
    return blocks


def layer_widths(width: float | str) -> tuple[list[int], int]:
    """-> (the six conv blocks' filters, the LSTM units) for a width: a share of the seed's
    widths (0.5, "0.5"), or the seven numbers themselves ("32-64-128-128-384-384-192"),
    for a network widened only where it is cheap to serve."""
    if _is_layer_list(width):
        blocks = _blocks(width)
        return [filters for filters, _ in blocks[:-1]], blocks[-1][0]
    share = float(width)
    return [max(MIN_WIDTH, int(f * share)) for f in SEED_CONV_FILTERS], max(16, int(SEED_LSTM_UNITS * share))


def block_ranks(width: float | str) -> list[int | None]:
    """Each conv block's rank (``FILTERSrRANK``), None for a full block."""
    if _is_layer_list(width):
        return [rank for _, rank in _blocks(width)[:-1]]
    float(width)  # a share: every block full
    return [None] * len(SEED_CONV_FILTERS)


def with_ranks(width: float | str, ranks: dict[int, int]) -> str:
    """``width`` written as seven layers with ``ranks`` ({block number from 1: rank}) set."""
    filters, units = layer_widths(width)
    if not all(1 <= block <= len(filters) for block in ranks):
        raise ValueError(f"ranks {ranks}: conv blocks are numbered 1 to {len(filters)}")
    old = block_ranks(width)
    tokens = []
    for block, (f, rank) in enumerate(zip(filters, old, strict=True), start=1):
        rank = ranks.get(block, rank)
        tokens.append(f"{f}r{rank}" if rank is not None else str(f))
    written = "-".join([*tokens, str(units)])
    _blocks(written)  # each rank in range
    return written


def width_name(width: float | str) -> str:
    """The model's name part for a width: ``w0.5`` or ``w32-64-128-128-384-384-192``."""
    return f"w{float(width):g}" if not _is_layer_list(width) else f"w{width}"
