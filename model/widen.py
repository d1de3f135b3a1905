"""Function-preserving widening of the CRNN (Net2Net's Net2WiderNet, Chen et al. 2016).

A wider CRNN starts from a trained narrower one reading exactly as it does, so training
spends its steps on what the extra width can learn, not on learning to read again:

- every new conv channel copies a channel of the narrow layer (kernel and BatchNorm), so
  its activation after BatchNorm and ReLU equals that channel's;
- every new LSTM unit copies a unit of the narrow LSTM (its four gates' columns), so its
  cell and hidden state equal that unit's at every step;
- the layer that reads copied units splits the original unit's weights among the copies.
  The split is uneven (fractions that sum to one), so the copies' gradients differ and
  they can grow apart; the sum, and so the function, is unchanged.

    python -m model.widen NARROW.weights.h5 --from-width 0.5 --to-width 32-64-128-128-384-384-192 \\
        --out WIDE.weights.h5
"""

from __future__ import annotations

import argparse
from pathlib import Path

import keras
import numpy as np

from model.crnn import POOLS, build_crnn, load_crnn
from model.widths import block_ranks

GATES = 4  # Keras LSTM gate blocks in the kernels' columns: input, forget, cell, output


def grow_mapping(narrow: int, wide: int, rng: np.random.Generator) -> np.ndarray:
    """Which narrow unit each wide unit copies: the first ``narrow`` are themselves, the
    rest are drawn at random (Net2Net's random mapping)."""
    if wide < narrow:
        raise ValueError(f"cannot narrow {narrow} units to {wide}")
    return np.concatenate([np.arange(narrow), rng.integers(0, narrow, wide - narrow)])


def split_fractions(mapping: np.ndarray, rng: np.random.Generator, jitter: float) -> np.ndarray:
    """For each wide unit, the share of its narrow unit's outgoing weights it carries:
    the copies of one unit get shares summing to exactly one (uneven by ``jitter``)."""
    shares = np.empty(len(mapping))
    for unit in np.unique(mapping):
        copies = np.flatnonzero(mapping == unit)
        noise = rng.normal(0.0, jitter, len(copies))
        shares[copies] = (1.0 + noise - noise.mean()) / len(copies)
    return shares


def widen_rows(kernel: np.ndarray, mapping: np.ndarray, shares: np.ndarray, axis: int) -> np.ndarray:
    """Input side of a layer: take the rows of the copied units, scaled by their shares."""
    taken = np.take(kernel, mapping, axis=axis)
    shape = [1] * kernel.ndim
    shape[axis] = len(mapping)
    return taken * shares.reshape(shape).astype(kernel.dtype)


def gate_columns(mapping: np.ndarray, narrow_units: int) -> np.ndarray:
    """Column indices of an LSTM kernel's four gate blocks for widened units."""
    return np.concatenate([g * narrow_units + mapping for g in range(GATES)])


def widen_lstm(weights: list[np.ndarray], in_map: np.ndarray, in_shares: np.ndarray,
               unit_map: np.ndarray, unit_shares: np.ndarray, narrow_units: int) -> list[np.ndarray]:
    """One direction of an LSTM: [kernel, recurrent_kernel, bias] widened."""
    kernel, recurrent, bias = weights
    cols = gate_columns(unit_map, narrow_units)
    kernel = widen_rows(kernel, in_map, in_shares, axis=0)[:, cols]
    recurrent = widen_rows(recurrent, unit_map, unit_shares, axis=0)[:, cols]
    return [kernel, recurrent, bias[cols]]


def concat_mapping(unit_map: np.ndarray, unit_shares: np.ndarray, narrow_units: int):
    """A bidirectional layer's output is [forward units, backward units]; both directions
    share one unit mapping, so the concatenation maps as the units do, twice."""
    return (np.concatenate([unit_map, narrow_units + unit_map]),
            np.concatenate([unit_shares, unit_shares]))


def widen_model(narrow: keras.Model, wide: keras.Model, seed: int = 0, jitter: float = 0.1) -> None:
    """Set ``wide``'s weights so that it computes what ``narrow`` computes."""
    rng = np.random.default_rng(seed)
    in_map, in_shares = np.zeros(1, int), np.ones(1)  # one grey input channel
    for i in range(1, len(POOLS) + 1):
        conv_n, conv_w = narrow.get_layer(f"block{i}_conv"), wide.get_layer(f"block{i}_conv")
        (kernel,) = conv_n.get_weights()
        out_map = grow_mapping(kernel.shape[-1], conv_w.filters, rng)
        kernel = widen_rows(kernel, in_map, in_shares, axis=2)[..., out_map]
        conv_w.set_weights([kernel])
        bn = narrow.get_layer(f"block{i}_bn").get_weights()  # gamma, beta, moving mean, var
        wide.get_layer(f"block{i}_bn").set_weights([w[out_map] for w in bn])
        in_map, in_shares = out_map, split_fractions(out_map, rng, jitter)

    for i in (1, 2):
        layer_n, layer_w = narrow.get_layer(f"bilstm{i}"), wide.get_layer(f"bilstm{i}")
        narrow_units = layer_n.forward_layer.units
        unit_map = grow_mapping(narrow_units, layer_w.forward_layer.units, rng)
        unit_shares = split_fractions(unit_map, rng, jitter)
        weights = layer_n.get_weights()  # forward [k, rk, b], then backward [k, rk, b]
        widened = (widen_lstm(weights[:3], in_map, in_shares, unit_map, unit_shares, narrow_units)
                   + widen_lstm(weights[3:], in_map, in_shares, unit_map, unit_shares, narrow_units))
        layer_w.set_weights(widened)
        in_map, in_shares = concat_mapping(unit_map, unit_shares, narrow_units)

    kernel, bias = narrow.get_layer("char_probs").get_weights()
    wide.get_layer("char_probs").set_weights([widen_rows(kernel, in_map, in_shares, axis=0), bias])


def widened(weights: Path, from_width: float | str, to_width: float | str, seed: int = 0, **build) -> keras.Model:
    """A CRNN of ``to_width`` that reads as the ``from_width`` weights do."""
    if any(block_ranks(from_width)) or any(block_ranks(to_width)):
        # A low-rank block's channels are projections, not units a copy could stand for.
        raise ValueError(f"{from_width} -> {to_width}: low-rank blocks are not widened; "
                         "widen the full network, then make blocks low-rank (model.factorize)")
    narrow = load_crnn(weights, from_width)
    wide = build_crnn(width=to_width, **build)
    widen_model(narrow, wide, seed=seed)
    return wide


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("weights", type=Path)
    p.add_argument("--from-width", default="0.5", help="the narrow weights' width (model.widths)")
    p.add_argument("--to-width", default="1.0", help="the width to grow to (model.widths)")
    p.add_argument("--out", type=Path, required=True, help="a .weights.h5 file")
    args = p.parse_args(argv)
    try:
        model = widened(args.weights, args.from_width, args.to_width)
    except ValueError as exc:
        p.error(str(exc))
    model.save_weights(args.out)
    print(f"wrote {args.out}: width {args.from_width} -> {args.to_width}, {model.count_params():,} parameters")


if __name__ == "__main__":
    main()
