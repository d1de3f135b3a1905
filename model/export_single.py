"""The single-crop model: the same weights with TFLite's fused LSTM op, for one crop at a time.

``model.export`` writes it beside the batch models as ``crnn-int8-single.tflite``.
Keras 3's LSTM converts to TFLite only unrolled (32 steps x 4 directions: 1,853 small ops,
whose per-op cost dominates a single crop); tf_keras's LSTM converts to
UNIDIRECTIONAL_SEQUENCE_LSTM (27 ops in all), read about a quarter faster at batch 1. The
fused op needs a static batch, so this model reads exactly one crop, and it keeps its LSTM
state in variable tensors between invocations: the engine resets them before each crop
(``recognize.SingleCrop``). Batches stay on the unrolled model, which is faster per crop there.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from ocr_engine.config import single_twin
from ocr_engine.preprocess import INPUT_HEIGHT, INPUT_WIDTH

SINGLE_MODEL_FILE = single_twin(Path("crnn-int8.tflite")).name
TWIN_TOLERANCE = 1e-4  # float32 Keras 3 against its tf_keras twin (measured: about 1e-6)


def _twin_layer(tl, layer):
    """The tf_keras layer doing what the Keras 3 ``layer`` of the CRNN does."""
    kind = type(layer).__name__
    if kind == "Conv2D":
        return tl.Conv2D(layer.filters, layer.kernel_size, padding=layer.padding, use_bias=layer.use_bias,
                         name=layer.name)
    if kind == "BatchNormalization":
        return tl.BatchNormalization(epsilon=layer.epsilon, name=layer.name)
    if kind == "ReLU":
        return tl.ReLU(name=layer.name)
    if kind == "MaxPooling2D":
        return tl.MaxPooling2D(layer.pool_size, layer.strides, name=layer.name)
    if kind == "Reshape":
        return tl.Reshape(layer.target_shape, name=layer.name)
    if kind == "Bidirectional":
        return tl.Bidirectional(tl.LSTM(layer.forward_layer.units, return_sequences=True), name=layer.name)
    if kind == "Dense":
        return tl.Dense(layer.units, activation=layer.activation.__name__, name=layer.name)
    raise ValueError(f"no tf_keras twin for the layer {layer.name} ({kind})")


def tf_keras_twin(model):
    """The CRNN ``model`` (Keras 3, a chain of layers) rebuilt in tf_keras with its weights,
    checked to compute the same probabilities."""
    import tf_keras

    inputs = x = tf_keras.Input(model.input_shape[1:], name="image")
    for layer in model.layers[1:]:
        twin = _twin_layer(tf_keras.layers, layer)
        x = twin(x)
        twin.set_weights(layer.get_weights())
    twin_model = tf_keras.Model(inputs, x)
    probe = np.random.default_rng(0).random((2, INPUT_HEIGHT, INPUT_WIDTH, 1), np.float32)
    gap = float(np.abs(model.predict(probe, verbose=0) - twin_model.predict(probe, verbose=0)).max())
    if gap > TWIN_TOLERANCE:
        raise RuntimeError(f"the tf_keras twin differs from the model by {gap:.2g}")
    return twin_model


def convert_single(model) -> bytes:
    """int8 dynamic-range TFLite of ``model`` for one crop, with fused LSTM ops."""
    import tensorflow as tf

    twin = tf_keras_twin(model)
    one_crop = tf.TensorSpec([1, INPUT_HEIGHT, INPUT_WIDTH, 1], tf.float32)
    concrete = tf.function(lambda image: twin(image, training=False)).get_concrete_function(one_crop)
    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete], twin)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    return converter.convert()
