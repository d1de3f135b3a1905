"""The CRNN at serving time: a LiteRT interpreter over the exported .tflite file.

No TensorFlow here: ``ai_edge_litert`` alone (about 0.4 s and 90 MB with OpenCV and
NumPy). The model's metadata (crnn.json) must agree with the engine's charset.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ocr_engine.calibration import Calibration
from ocr_engine.charset import ALPHABET, BLANK_INDEX
from ocr_engine.errors import ModelUnavailable
from ocr_engine.orient import read_every_way
from ocr_engine.preprocess import INPUT_HEIGHT, INPUT_WIDTH, WORD_MARGIN, batch_to_input, stretched, with_margin
from ocr_engine.schemas import ModelInfo


@dataclass(frozen=True)
class ModelMetadata:
    name: str
    version: str
    dataset: str
    alphabet: str
    blank_index: int
    input_height: int
    input_width: int
    metrics: dict
    calibration: Calibration = Calibration()

    @classmethod
    def read(cls, path: Path) -> ModelMetadata:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            meta = cls(
                name=raw["name"], version=raw["version"], dataset=raw.get("dataset", ""),
                alphabet=raw["alphabet"], blank_index=int(raw["blank_index"]),
                input_height=int(raw["input_height"]), input_width=int(raw["input_width"]),
                metrics=raw.get("metrics", {}),
                calibration=Calibration.from_metadata(raw.get("confidence_calibration")),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelUnavailable(f"model metadata {path} is missing or unreadable: {exc}") from exc
        if (meta.alphabet, meta.blank_index) != (ALPHABET, BLANK_INDEX):
            raise ModelUnavailable(f"model {path} was trained for another charset or blank index")
        if (meta.input_height, meta.input_width) != (INPUT_HEIGHT, INPUT_WIDTH):
            raise ModelUnavailable(f"model {path} expects {meta.input_height}×{meta.input_width} input")
        return meta

    def info(self) -> ModelInfo:
        return ModelInfo(self.name, self.version, self.dataset, dict(self.metrics))


class _LiteModel:
    """One LiteRT interpreter, its input and output tensors, and the lock around it: an
    interpreter is not re-entrant, and the local server may call from threads."""

    def __init__(self, model_path: Path, num_threads: int):
        from ai_edge_litert.interpreter import Interpreter

        try:
            self._interpreter = Interpreter(model_path=str(model_path), num_threads=num_threads)
            self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelUnavailable(f"model file {model_path} is missing or corrupt: {exc}") from exc
        self._input_shape = tuple(self._interpreter.get_input_details()[0]["shape"])
        self._input = self._interpreter.get_input_details()[0]["index"]
        self._output = self._interpreter.get_output_details()[0]["index"]
        self._lock = threading.Lock()

    def _invoke(self, batch: np.ndarray) -> np.ndarray:
        """One run on ``batch`` (the caller holds the lock)."""
        self._interpreter.set_tensor(self._input, np.ascontiguousarray(batch, np.float32))
        self._interpreter.invoke()
        return self._interpreter.get_tensor(self._output).copy()


class SingleCrop(_LiteModel):
    """The single-crop model (``model/export_single.py``): batch 1, fused LSTM ops, whose
    state lives in variable tensors that would carry one crop's end into the next crop's
    start; they are reset before each crop."""

    def __init__(self, model_path: Path, num_threads: int = 1):
        super().__init__(model_path, num_threads)
        if self._input_shape != (1, INPUT_HEIGHT, INPUT_WIDTH, 1):
            raise ModelUnavailable(f"model file {model_path} does not read one {INPUT_HEIGHT}×{INPUT_WIDTH} crop")

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """float32 (1, 32, 128, 1) -> float32 (1, T, C)."""
        with self._lock:
            self._interpreter.reset_all_variables()
            return self._invoke(batch)


class Recognizer(_LiteModel):
    """Batched recognition: word crops -> per-step class probabilities (N, T, C). A lone
    crop goes to ``single_path``'s model when there is one (``predict_crops``)."""

    def __init__(self, model_path: Path, metadata_path: Path, num_threads: int = 1, single_path: Path | None = None):
        self.metadata = ModelMetadata.read(metadata_path)
        super().__init__(model_path, num_threads)
        self._batch = 1
        self.single = SingleCrop(single_path, num_threads) if single_path else None

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """float32 (N, 32, 128, 1) in [0, 1] -> float32 (N, T, C) probabilities."""
        if len(batch) == 0:
            return np.zeros((0, INPUT_WIDTH // 4, len(ALPHABET) + 1), np.float32)
        with self._lock:
            if len(batch) != self._batch:
                self._interpreter.resize_tensor_input(self._input, list(batch.shape))
                self._interpreter.allocate_tensors()
                self._batch = len(batch)
            return self._invoke(batch)

    def predict_crops(self, crops: list[np.ndarray], batch_size: int = 16) -> np.ndarray:
        """Word crops -> (N, T, C). A lone crop goes to the single-crop model when there is
        one; any more, the last chunk of a long list included, to the batch model."""
        if len(crops) == 1 and self.single is not None:
            return self.single.predict(batch_to_input(crops))
        parts = [self.predict(batch_to_input(crops[i : i + batch_size])) for i in range(0, len(crops), batch_size)]
        return np.concatenate(parts) if parts else self.predict(np.zeros((0,)))


def crop_probs(predict: Callable[[list[np.ndarray]], np.ndarray], crops: Sequence[np.ndarray],
               read_tall: bool = True, margin: float = WORD_MARGIN, stretch: float = 1.0) -> list[np.ndarray]:
    """The one recognition step for word crops: each crop given ``margin`` of its height on
    every side (``preprocess.with_margin``; 0: none), then every way of reading it
    (``orient.read_every_way``: one, or four for a tall crop when ``read_tall``), each made
    ``stretch`` times as wide, through ``predict``, which normalizes the crops
    (``preprocess.batch_to_input``) and runs a network on them: ``Recognizer.predict_crops``,
    or Keras weights in the training tools. -> per crop, its probabilities (k, T, C).
    ``OcrEngine.crop_probs`` calls it with the engine's settings."""
    read = predict if stretch == 1.0 else (lambda cs: predict([stretched(c, stretch) for c in cs]))
    return read_every_way(read, [with_margin(c, margin) for c in crops], read_tall)
