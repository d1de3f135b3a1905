"""The CRNN: VGG-style convolutional encoder, two bidirectional LSTMs, CTC softmax.

Backend-agnostic Keras 3 (only ``keras.layers`` and ``keras.ops``), so the same code
trains with TensorFlow on a CPU and with JAX on a lent GPU.

Width (``model.widths``): the shipped model is 32-64-128-128-384-384 with 192-unit LSTMs
(3.8M parameters; 3.1M with block 6 made low-rank after training, ``model.factorize``, as
shipped), widened from the half width where extra width costs least to serve:
as int8 on this CPU it reads a crop 1.6× slower than width 0.5, where the seed's widths
(7.7M) read 3.3× and a uniform 0.75 2.1× slower (training record, phase 9).
"""

from __future__ import annotations

from pathlib import Path

import keras
from keras import layers, ops
from ocr_engine.charset import BLANK_INDEX, NUM_CLASSES
from ocr_engine.preprocess import INPUT_HEIGHT, INPUT_WIDTH

from model.widths import block_ranks, layer_widths, width_name

SHIPPED_WIDTH = "32-64-128-128-384-384r160-192"  # model/artifacts/crnn.json's name says it too

# Pooling after each conv block: height 32 -> 1, width 128 -> 32 time steps.
POOLS = ((2, 2), (2, 2), None, (2, 1), (2, 1), (2, 1))


def conv_block(x, filters: int, pool: tuple[int, int] | None, name: str, rank: int | None = None):
    """conv 3x3 -> BatchNorm -> ReLU (-> max pool). With a ``rank``, the 3x3 convolution makes
    ``rank`` channels and a 1x1 convolution spreads them to ``filters`` (``model.factorize``)."""
    if rank is not None:
        x = layers.Conv2D(rank, 3, padding="same", use_bias=False, name=f"{name}_reduce")(x)
        x = layers.Conv2D(filters, 1, use_bias=False, name=f"{name}_conv")(x)
    else:
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    x = layers.ReLU(name=f"{name}_relu")(x)
    if pool is not None:
        x = layers.MaxPooling2D(pool_size=pool, strides=pool, name=f"{name}_pool")(x)
    return x


def build_crnn(width: float | str = 0.5, unroll: bool = False, dropout: float = 0.0) -> keras.Model:
    """Image (N, 32, 128, 1) in [0, 1] -> per-step class probabilities (N, 32, 37).

    ``width``: see :func:`layer_widths`. ``unroll=True`` is for the export copy: unrolled
    LSTMs convert to builtin TFLite ops.
    """
    filters, units = layer_widths(width)
    inputs = keras.Input((INPUT_HEIGHT, INPUT_WIDTH, 1), name="image")
    x = inputs
    for i, (f, pool, rank) in enumerate(zip(filters, POOLS, block_ranks(width), strict=True)):
        x = conv_block(x, f, pool, name=f"block{i + 1}", rank=rank)
    # Height is 1 now: (N, 1, T, C) -> (N, T, C).
    x = layers.Reshape((INPUT_WIDTH // 4, filters[-1]), name="to_sequence")(x)
    if dropout:
        x = layers.Dropout(dropout, name="enc_dropout")(x)
    for i in range(2):
        x = layers.Bidirectional(
            layers.LSTM(units, return_sequences=True, unroll=unroll), name=f"bilstm{i + 1}"
        )(x)
    if dropout:
        x = layers.Dropout(dropout, name="rnn_dropout")(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", name="char_probs")(x)
    return keras.Model(inputs, outputs, name=f"crnn_{width_name(width)}".replace("-", "_"))


def load_crnn(weights, width: float | str, **build) -> keras.Model:
    """The CRNN of ``width`` (and ``build_crnn``'s other options) with ``weights`` loaded."""
    model = build_crnn(width=width, **build)
    load_weights_into(model, weights, width)
    return model


def load_weights_into(model: keras.Model, weights, width: float | str) -> None:
    """``model.load_weights(weights)``, stopping with a line that names the file and the width
    when it cannot: Keras's own message is 9 kB about "17 objects" that "could not be loaded"."""
    path = Path(weights)
    if not path.is_file():
        raise SystemExit(f"{path}: no such weights file")
    try:
        model.load_weights(path)
    except ValueError as exc:
        raise SystemExit(f"{path} does not fit a network of width {width}: give the width its weights were "
                         f"trained at (--width, or LABEL=WEIGHTS@WIDTH; the shipped model's is "
                         f"{SHIPPED_WIDTH})") from exc
    except OSError as exc:  # not HDF5
        raise SystemExit(f"{path} is not a .weights.h5 file ({exc})") from exc


@keras.saving.register_keras_serializable(package="ocr")
def ctc_loss(y_true, y_pred):
    """CTC loss for labels padded with the blank index (0): lengths are the non-zero count."""
    y_true = ops.cast(y_true, "int32")
    label_len = ops.sum(ops.cast(ops.not_equal(y_true, BLANK_INDEX), "int32"), axis=-1)
    batch = ops.shape(y_pred)[0]
    steps = ops.shape(y_pred)[1]
    pred_len = ops.full((batch,), steps, dtype="int32")
    log_probs = ops.log(ops.clip(y_pred, 1e-8, 1.0))
    return ops.ctc_loss(y_true, log_probs, label_len, pred_len, mask_index=BLANK_INDEX)
