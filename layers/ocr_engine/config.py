"""Every setting of the engine, read from environment variables in one place.

| variable | default | meaning |
|---|---|---|
| OCR_MODEL_DIR | model/artifacts of the repo (/opt/model in the image) | folder with crnn.tflite and crnn.json |
| OCR_MODEL_FILE | crnn-int8.tflite | model file in OCR_MODEL_DIR (int8 weights: same accuracy, less memory; README) |
| OCR_MAX_IMAGE_BYTES | 10485760 (10 MiB) | larger uploads are refused |
| OCR_MAX_PIXELS | 40000000 | width × height limit, checked before decoding (bombs) |
| OCR_MAX_SIDE | 20000 | longest side limit, checked before decoding |
| OCR_MAX_REGIONS | 8 | default cap on word regions per image |
| OCR_MAX_REGIONS_LIMIT | 64 | largest cap a request may ask for |
| OCR_BEAM_WIDTH | 10 | default CTC beam width (1 = greedy) |
| OCR_MAX_BEAM_WIDTH | 50 | largest beam a request may ask for |
| OCR_MIN_CONFIDENCE | 0.0 | default floor under which words are dropped |
| OCR_MAX_LEXICON | 10000 | most words a lexicon may hold |
| OCR_LM_FILE | charlm.npz | character language model in OCR_MODEL_DIR that steers beam search (empty: none) |
| OCR_LM_WEIGHT | 0.4 | its weight in the beam (0: off; beam width 1 never uses it) |
| OCR_LM_BONUS | 1.0 | log-score added per character read while the LM steers (offsets its cost per letter) |
| OCR_NUM_THREADS | 1 | LiteRT interpreter threads |
| OCR_DETECT_MAX_SIDE | 1600 | scenes are shrunk to this before detection |
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

_REPO_MODEL_DIR = Path(__file__).resolve().parents[2] / "model" / "artifacts"


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


@dataclass(frozen=True)
class Settings:
    model_dir: Path = field(default_factory=lambda: Path(os.environ.get("OCR_MODEL_DIR", _REPO_MODEL_DIR)))
    model_file: str = field(default_factory=lambda: os.environ.get("OCR_MODEL_FILE", "crnn-int8.tflite"))
    max_image_bytes: int = field(default_factory=lambda: _int("OCR_MAX_IMAGE_BYTES", 10 * 1024 * 1024))
    max_pixels: int = field(default_factory=lambda: _int("OCR_MAX_PIXELS", 40_000_000))
    max_side: int = field(default_factory=lambda: _int("OCR_MAX_SIDE", 20_000))
    max_regions: int = field(default_factory=lambda: _int("OCR_MAX_REGIONS", 8))
    max_regions_limit: int = field(default_factory=lambda: _int("OCR_MAX_REGIONS_LIMIT", 64))
    beam_width: int = field(default_factory=lambda: _int("OCR_BEAM_WIDTH", 10))
    max_beam_width: int = field(default_factory=lambda: _int("OCR_MAX_BEAM_WIDTH", 50))
    min_confidence: float = field(default_factory=lambda: _float("OCR_MIN_CONFIDENCE", 0.0))
    max_lexicon: int = field(default_factory=lambda: _int("OCR_MAX_LEXICON", 10_000))
    lm_file: str = field(default_factory=lambda: os.environ.get("OCR_LM_FILE", "charlm.npz"))
    lm_weight: float = field(default_factory=lambda: _float("OCR_LM_WEIGHT", 0.4))
    lm_bonus: float = field(default_factory=lambda: _float("OCR_LM_BONUS", 1.0))
    num_threads: int = field(default_factory=lambda: _int("OCR_NUM_THREADS", 1))
    detect_max_side: int = field(default_factory=lambda: _int("OCR_DETECT_MAX_SIDE", 1600))

    @property
    def model_path(self) -> Path:
        return self.model_dir / self.model_file

    @property
    def metadata_path(self) -> Path:
        return self.model_dir / "crnn.json"

    @property
    def lm_path(self) -> Path | None:
        """The language model to load, or None when it is switched off."""
        return self.model_dir / self.lm_file if self.lm_file and self.lm_weight > 0 else None


def load_settings() -> Settings:
    return Settings()
