"""Low-rank conv blocks from trained ones: ``python -m model.factorize``.

    python -m model.factorize model/artifacts/crnn.weights.h5 --width 32-64-128-128-384-384-192 \\
        --ranks 6:160 --out factored.weights.h5

A block's 3x3 convolution (BatchNorm folded in) is replaced by a 3x3 convolution into ``rank``
channels and a 1x1 convolution back to the block's width: the first projects each position's
responses onto their ``rank`` principal directions, the second spreads them back. The
directions come from the responses themselves (before ReLU) on real training crops, not from
the kernel alone, as in Zhang et al., "Accelerating Very Deep Convolutional Networks" (2015):
what the network is shown, not every input the kernel could see, decides what a direction is
worth. The widest blocks are the compressible ones here: Net2Net grew them by copying
channels (``model.widen``), and the copies still largely agree.

Blocks are factorized in order, each on the responses the blocks before it (factorized
already) produce. The BatchNorm after the 1x1 convolution is set so that inference computes
the projection exactly and its statistics are the responses' own, so training can go on from
the factorized weights. The crops are the real sets' training parts, never a hold-out or a
test split. The width printed and written beside the weights (``model.widths``: ``384r160``)
is what ``model.export``, ``model.scene_compare`` and ``model.train`` take with them.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import keras
import numpy as np
from ocr_engine.config import load_settings
from ocr_engine.preprocess import batch_to_input, stretched, with_margin
from ocr_tools.paths import data_dir

from model.crnn import POOLS, build_crnn, load_crnn
from model.real_sets import REAL_SETS, load_real_set
from model.widths import block_ranks, with_ranks

CROPS_PER_SET = 1000


def parse_ranks(text: str) -> dict[int, int]:
    """``"5:256,6:160"`` -> {5: 256, 6: 160} (conv blocks numbered from 1)."""
    try:
        ranks = {int(block): int(rank) for block, rank in (item.split(":") for item in text.split(","))}
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected BLOCK:RANK[,BLOCK:RANK...], e.g. 6:160") from None
    if not all(1 <= block <= len(POOLS) for block in ranks):
        raise argparse.ArgumentTypeError(f"{text!r}: conv blocks are numbered 1 to {len(POOLS)}")
    return ranks


def folded_conv(model: keras.Model, block: int) -> tuple[np.ndarray, np.ndarray]:
    """A full block's 3x3 kernel with its BatchNorm's scale folded in, and the BatchNorm's shift:
    the block's response before ReLU is conv(x, kernel) + shift."""
    (kernel,) = model.get_layer(f"block{block}_conv").get_weights()
    bn = model.get_layer(f"block{block}_bn")
    gamma, beta, mean, var = bn.get_weights()
    scale = gamma / np.sqrt(var + bn.epsilon)
    return kernel * scale, beta - mean * scale


def block_input(model: keras.Model, block: int, images: np.ndarray) -> np.ndarray:
    """What ``model``'s conv block number ``block`` reads for ``images``."""
    if block == 1:
        return images
    last = f"block{block - 1}_pool" if POOLS[block - 2] else f"block{block - 1}_relu"
    return np.asarray(keras.Model(model.input, model.get_layer(last).output).predict(images, batch_size=128, verbose=0))


def principal_directions(responses: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Responses (..., channels) -> their mean, the covariance's eigenvalues (largest first) and
    eigenvectors (columns, in that order)."""
    flat = responses.reshape(-1, responses.shape[-1]).astype(np.float64)  # one copy, centred in place
    mean = flat.mean(0)
    flat -= mean
    values, vectors = np.linalg.eigh(flat.T @ flat / max(1, len(flat) - 1))
    order = np.argsort(values)[::-1]
    return mean, np.clip(values[order], 0.0, None), vectors[:, order]


def factorize_block(full: keras.Model, low: keras.Model, block: int, rank: int, images: np.ndarray) -> float:
    """Set ``low``'s block ``block`` (of rank ``rank``) from ``full``'s, on the responses to
    ``images`` of the blocks before it in ``low``; -> the share of the responses' variance kept."""
    kernel, shift = folded_conv(full, block)
    x = block_input(low, block, images)
    responses = np.asarray(keras.ops.conv(x, kernel, padding="same")) + shift
    mean, values, vectors = principal_directions(responses)
    basis = vectors[:, :rank]  # (filters, rank)
    projector = basis @ basis.T
    low.get_layer(f"block{block}_reduce").set_weights([np.tensordot(kernel, basis, axes=([3], [0])).astype(np.float32)])
    low.get_layer(f"block{block}_conv").set_weights([basis.T[None, None].astype(np.float32)])
    # After the 1x1 convolution: projector @ (response - shift). Wanted: mean + projector @ (response - mean),
    # i.e. that plus `offset`; the BatchNorm adds it, normalising by the projected responses' own statistics.
    offset = projector @ (shift - mean) + mean
    proj_mean = projector @ (mean - shift)
    proj_var = (basis**2) @ values[:rank]
    bn = low.get_layer(f"block{block}_bn")
    bn.set_weights([w.astype(np.float32) for w in
                    (np.sqrt(proj_var + bn.epsilon), proj_mean + offset, proj_mean, proj_var)])
    return float(values[:rank].sum() / values.sum()) if values.sum() > 0 else 1.0


def factorize(full: keras.Model, width: float | str, ranks: dict[int, int],
              images: np.ndarray) -> tuple[keras.Model, str, dict]:
    """``full`` (a CRNN of ``width``) with the conv blocks of ``ranks`` made low-rank;
    -> (that model, its width, {block: share of its responses' variance kept})."""
    low_width = with_ranks(width, ranks)  # first: it checks the block numbers
    if any(block_ranks(width)[block - 1] is not None for block in ranks):
        raise ValueError(f"width {width}: a block of {sorted(ranks)} is low-rank already")
    low = build_crnn(width=low_width)
    for layer in low.layers:  # every layer but the new blocks' convolutions and BatchNorms
        block = re.match(r"block(\d+)_", layer.name)
        if layer.weights and (block is None or int(block[1]) not in ranks):
            layer.set_weights(full.get_layer(layer.name).get_weights())
    kept = {block: factorize_block(full, low, block, ranks[block], images) for block in sorted(ranks)}
    return low, low_width, kept


def training_crops(data: Path, per_set: int, seed: int = 0) -> np.ndarray:
    """``per_set`` crops drawn from each real set's training part, as the engine reads them
    (its word margin and stretch), batched for the network."""
    rng = np.random.default_rng(seed)
    stretch = load_settings().read_stretch
    crops = []
    for name in REAL_SETS:
        train, _ = load_real_set(data, name)
        for i in rng.choice(len(train), min(per_set, len(train)), replace=False):
            crops.append(stretched(with_margin(train[i][0]), stretch))
    return batch_to_input(crops)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("weights", type=Path, help="a .weights.h5 of --width")
    p.add_argument("--width", required=True, help="the weights' width (model.widths)")
    p.add_argument("--ranks", required=True, type=parse_ranks, help="BLOCK:RANK,...: e.g. 6:160")
    p.add_argument("--out", type=Path, required=True, help="a .weights.h5 file")
    p.add_argument("--data", type=Path, default=data_dir())
    p.add_argument("--crops-per-set", type=int, default=CROPS_PER_SET)
    args = p.parse_args(argv)
    try:
        with_ranks(args.width, args.ranks)
    except ValueError as exc:
        p.error(str(exc))
    full = load_crnn(args.weights, args.width)
    images = training_crops(args.data, args.crops_per_set)
    low, low_width, kept = factorize(full, args.width, args.ranks, images)
    low.save_weights(args.out)
    shares = ", ".join(f"block {b}: {share:.2%}" for b, share in kept.items())
    print(f"wrote {args.out}: width {low_width}, {low.count_params():,} parameters "
          f"(from {full.count_params():,}); responses' variance kept on {len(images)} training crops: {shares}")


if __name__ == "__main__":
    main()
