"""How a CRNN width is written: a share of the seed's widths, or each layer's own.

No Keras here: the export's metadata (``crnn.json`` names the width) is written and
tested where Keras is not installed.
"""

from __future__ import annotations

SEED_CONV_FILTERS = (64, 128, 256, 256, 512, 512)
SEED_LSTM_UNITS = 256


def layer_widths(width: float | str) -> tuple[list[int], int]:
    """-> (the six conv blocks' filters, the LSTM units) for a width: a share of the seed's
    widths (0.5, "0.5"), or the seven numbers themselves ("32-64-128-128-384-384-192"),
    for a network widened only where it is cheap to serve."""
    if isinstance(width, str) and "-" in width:
        numbers = [int(n) for n in width.split("-")]
        if len(numbers) != len(SEED_CONV_FILTERS) + 1 or min(numbers) < 8:
            raise ValueError(f"width {width!r}: six conv widths and the LSTM units, each >= 8")
        return numbers[:-1], numbers[-1]
    share = float(width)
    return [max(8, int(f * share)) for f in SEED_CONV_FILTERS], max(16, int(SEED_LSTM_UNITS * share))


def width_name(width: float | str) -> str:
    """The model's name part for a width: ``w0.5`` or ``w32-64-128-128-384-384-192``."""
    return f"w{float(width):g}" if not (isinstance(width, str) and "-" in width) else f"w{width}"
