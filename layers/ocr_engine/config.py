"""Every setting of the engine, read from environment variables in one place.

| variable | default | meaning |
|---|---|---|
| OCR_MODEL_DIR | the repo's model/artifacts (/opt/model in the image) | OCR_MODEL_FILE, its twin, crnn.json, the LM |
| OCR_MODEL_FILE | crnn-int8.tflite | model file in OCR_MODEL_DIR (int8: float32's accuracy, less memory) |
| OCR_SINGLE_CROP_MODEL | 0 | 1: a lone crop goes to the model file's `-single` twin (fused LSTMs; model/README.md) |
| OCR_MAX_IMAGE_BYTES | 3000000 | larger images are refused (fits a Lambda event; below); 1 GiB at most |
| OCR_MAX_PIXELS | 40000000 | width × height limit, checked before decoding (bombs); decoded bytes: 3 × this at most |
| OCR_MAX_SIDE | 20000 | longest side limit, checked before decoding |
| OCR_MAX_REGIONS | 8 | default cap on word regions per image |
| OCR_MAX_REGIONS_LIMIT | 64 | largest cap a request may ask for |
| OCR_BEAM_WIDTH | 10 | default CTC beam width (1 = greedy) |
| OCR_MAX_BEAM_WIDTH | 50 | largest beam a request may ask for |
| OCR_MIN_CONFIDENCE | 0.0 | default floor under which words are dropped |
| OCR_SCENE_MIN_CONFIDENCE | 0.4 | in a scene (detection on), words read with less confidence are dropped as junk |
| OCR_SCENE_SHORT_MIN_CONFIDENCE | 0.9 | ... and words of one or two characters with less than this |
| OCR_MAX_LEXICON | 10000 | most words a lexicon may hold |
| OCR_LM_FILE | charlm.npz | character language model in OCR_MODEL_DIR that steers beam search (empty: none) |
| OCR_LM_WEIGHT | 0.8 | its weight in the beam (0: off; beam width 1 never uses it) |
| OCR_LM_BONUS | 1.0 | log-score added per character read while the LM steers (offsets its cost per letter) |
| OCR_READ_TALL | 1 | tall crops are also read turned ±90° and as stacked letters, the surest reading kept (0: off) |
| OCR_READ_STRETCH | 1.15 | a word crop is read this many times as wide as it is (chosen on the dev crops; 0.1 to 4) |
| OCR_LM_SUPPORT | 6.0 | the LM's reading lies within this many nats of the network's; digits kept (ctc.py) |
| OCR_NUM_THREADS | 1 | LiteRT interpreter threads (at most 64) |
| OCR_DETECT_MAX_SIDE | 1600 | scenes shrink to this long side to detect (a strip past 4:1: to a 4:1 image's pixels) |
| OCR_ANNOTATE_MAX_SIDE | 1600 | the annotated image is at most this long on its longest side |
| OCR_MAX_ANNOTATED_BYTES | 3000000 | most bytes of the annotated image (it is shrunk, then dropped, to fit) |
| OCR_REQUEST_DEADLINE_S | 20 | a read still running after this many seconds stops: deadline_exceeded, 503 (0: none) |
| OCR_MAX_BATCH_IMAGES | 16 | most images in one batch (`OcrEngine.read_many`, `POST /api/ocr/batch`); more: 422 |
| OCR_MAX_BATCH_BYTES | 3000000 | most bytes of a batch's images in all (1 GiB at most; below); more: 413 |

A variable that is not a number, or out of range (a beam of 0, a default beam past
OCR_MAX_BEAM_WIDTH, a confidence past 1), stops ``load_settings`` with a ValueError naming
it: ``ocr`` exits 2, and a function fails its cold start, not every request.

Why 3,000,000 bytes: a synchronous Lambda invocation carries at most 6,291,456 bytes
(``LAMBDA_PAYLOAD_LIMIT``), request and response alike, and API Gateway hands the body over
base64-encoded (4/3). The worst case is the JSON route: the image is base64 inside JSON
(4,000,000 characters), and API Gateway may base64 that body again (a request without a
text Content-Type): 4/3 x 4/3 = 16/9, 5,333,334 bytes, plus the JSON keys, headers (API
Gateway allows 10,240 bytes of them) and the request context: about 5.35 MB, 0.94 MB
(15%) under the limit. A multipart upload is 4/3 x (image + envelope) = about 4.0 MB.
The headroom is there for form fields such as a lexicon. The S3 function fetches its
objects itself, so template.yaml gives it a larger limit.

A batch (``POST /api/ocr/batch``) is one request, so its images *together* stay under the
same 3,000,000 bytes (``OCR_MAX_BATCH_BYTES``): the arithmetic above holds for their sum,
plus at most a kB of JSON keys and filename per image (16 kB at 16 images, 16/9 of that
once encoded twice). It also decodes at most ``OCR_MAX_PIXELS`` pixels in all, as one image
may, and shares the annotated-image budget below among its images.

The annotated image in a response: 3,000,000 bytes are 4,000,000 base64 characters,
which leaves 2.29 MB of the 6,291,456 for the rest of the JSON (at most a few kB).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, fields
from pathlib import Path

REPO_ARTIFACTS_DIR = Path(__file__).resolve().parents[2] / "model" / "artifacts"
"""The repository's ``model/artifacts``: the exported model, its metadata and the LM (the default
OCR_MODEL_DIR), and where the model tools write their outputs. Not in the image: OCR_MODEL_DIR is set there."""

LAMBDA_PAYLOAD_LIMIT = 6_291_456
"""Bytes of a synchronous Lambda invocation's event, and of its response."""
DEFAULT_MAX_IMAGE_BYTES = 3_000_000
DEFAULT_MAX_ANNOTATED_BYTES = 3_000_000
MOST_BYTES = 2**30
"""The largest byte limit a setting may hold (1 GiB)."""


def _int(name: str, default: int) -> int:
    return _number(name, default, int)


def _float(name: str, default: float) -> float:
    return _number(name, default, float)


def _number(name: str, default: float, kind: type) -> float:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        return kind(raw)
    except ValueError:
        raise ValueError(f"{name} must be {'a whole' if kind is int else 'a'} number (got {raw!r})") from None


@dataclass(frozen=True)
class Settings:
    model_dir: Path = field(default_factory=lambda: Path(os.environ.get("OCR_MODEL_DIR", REPO_ARTIFACTS_DIR)))
    model_file: str = field(default_factory=lambda: os.environ.get("OCR_MODEL_FILE", "crnn-int8.tflite"))
    single_crop_model: bool = field(default_factory=lambda: _int("OCR_SINGLE_CROP_MODEL", 0) != 0)
    max_image_bytes: int = field(default_factory=lambda: _int("OCR_MAX_IMAGE_BYTES", DEFAULT_MAX_IMAGE_BYTES))
    max_pixels: int = field(default_factory=lambda: _int("OCR_MAX_PIXELS", 40_000_000))
    max_side: int = field(default_factory=lambda: _int("OCR_MAX_SIDE", 20_000))
    max_regions: int = field(default_factory=lambda: _int("OCR_MAX_REGIONS", 8))
    max_regions_limit: int = field(default_factory=lambda: _int("OCR_MAX_REGIONS_LIMIT", 64))
    beam_width: int = field(default_factory=lambda: _int("OCR_BEAM_WIDTH", 10))
    max_beam_width: int = field(default_factory=lambda: _int("OCR_MAX_BEAM_WIDTH", 50))
    min_confidence: float = field(default_factory=lambda: _float("OCR_MIN_CONFIDENCE", 0.0))
    max_lexicon: int = field(default_factory=lambda: _int("OCR_MAX_LEXICON", 10_000))
    lm_file: str = field(default_factory=lambda: os.environ.get("OCR_LM_FILE", "charlm.npz"))
    lm_weight: float = field(default_factory=lambda: _float("OCR_LM_WEIGHT", 0.8))
    lm_bonus: float = field(default_factory=lambda: _float("OCR_LM_BONUS", 1.0))
    lm_support: float = field(default_factory=lambda: _float("OCR_LM_SUPPORT", 6.0))
    scene_min_confidence: float = field(default_factory=lambda: _float("OCR_SCENE_MIN_CONFIDENCE", 0.4))
    scene_short_min_confidence: float = field(default_factory=lambda: _float("OCR_SCENE_SHORT_MIN_CONFIDENCE", 0.9))
    read_tall: bool = field(default_factory=lambda: _int("OCR_READ_TALL", 1) != 0)
    read_stretch: float = field(default_factory=lambda: _float("OCR_READ_STRETCH", 1.15))
    num_threads: int = field(default_factory=lambda: _int("OCR_NUM_THREADS", 1))
    detect_max_side: int = field(default_factory=lambda: _int("OCR_DETECT_MAX_SIDE", 1600))
    annotate_max_side: int = field(default_factory=lambda: _int("OCR_ANNOTATE_MAX_SIDE", 1600))
    max_annotated_bytes: int = field(
        default_factory=lambda: _int("OCR_MAX_ANNOTATED_BYTES", DEFAULT_MAX_ANNOTATED_BYTES))
    request_deadline_s: float = field(default_factory=lambda: _float("OCR_REQUEST_DEADLINE_S", 20.0))
    max_batch_images: int = field(default_factory=lambda: _int("OCR_MAX_BATCH_IMAGES", 16))
    max_batch_bytes: int = field(default_factory=lambda: _int("OCR_MAX_BATCH_BYTES", DEFAULT_MAX_IMAGE_BYTES))

    @property
    def model_path(self) -> Path:
        return self.model_dir / self.model_file

    @property
    def single_model_path(self) -> Path | None:
        """The model file's single-crop twin (``model/export_single.py``) when it is switched
        on and there, else None (the batch model then reads lone crops too). Off by default:
        a lone crop and the same crop in a batch would then read through different kernels,
        which disagree on near ties (3 of 400 IIIT5K words), and ``read_many`` promises
        ``read``'s words."""
        path = single_twin(self.model_path)
        return path if self.single_crop_model and path.is_file() else None

    @property
    def metadata_path(self) -> Path:
        return self.model_dir / "crnn.json"

    @property
    def lm_path(self) -> Path | None:
        """The language model to load, or None when it is switched off."""
        return self.model_dir / self.lm_file if self.lm_file and self.lm_weight > 0 else None


def single_twin(model_path: Path) -> Path:
    """Where a model file's single-crop twin lives (``crnn-int8.tflite`` -> ``crnn-int8-single.tflite``)."""
    return model_path.with_name(f"{model_path.stem}-single{model_path.suffix}")


# Every setting is read from OCR_<NAME> (``_variable``). inf and nan mean nothing in any float
# one (a stretch of inf crashed each read).
_FLOAT_FIELDS = tuple(f.name for f in fields(Settings) if f.type == "float")
# The least each setting may be: below it, every request would fail (a beam of 0, a pixel
# limit of -5) with an error that blames the caller's image, not the deployment.
_LEAST = {
    "max_image_bytes": 1, "max_pixels": 1, "max_side": 1, "max_regions": 1, "max_regions_limit": 1,
    "beam_width": 1, "max_beam_width": 1, "min_confidence": 0, "max_lexicon": 0, "lm_weight": 0,
    "lm_support": 0, "scene_min_confidence": 0, "scene_short_min_confidence": 0, "read_stretch": 0.1,
    "num_threads": 1, "detect_max_side": 32, "annotate_max_side": 1, "max_annotated_bytes": 0,
    "request_deadline_s": 0, "max_batch_images": 1, "max_batch_bytes": 1,
}
# The most: a default may not pass the largest a request may ask for; a confidence is at most 1.
# Past the others, a read fails in a way that blames the image or crashes the process: a byte
# limit past what a read may ask for (OverflowError), a stretch that resizes a crop to gigabytes,
# a hundred thousand interpreter threads (the process is killed). A Lambda holds 10 GB at most.
_AT_MOST = {"max_regions": "max_regions_limit", "beam_width": "max_beam_width", "min_confidence": 1,
            "scene_min_confidence": 1, "scene_short_min_confidence": 1, "max_image_bytes": MOST_BYTES,
            "max_batch_bytes": MOST_BYTES, "read_stretch": 4, "num_threads": 64}


def _variable(name: str) -> str:
    return f"OCR_{name.upper()}"


def out_of_range(settings: Settings) -> list[str]:
    """What is wrong with the settings, a line per variable (none: they are usable)."""
    infinite = [name for name in _FLOAT_FIELDS if not math.isfinite(getattr(settings, name))]
    wrong = [f"{_variable(name)} must be a finite number (got {getattr(settings, name)})" for name in infinite]
    for name, least in _LEAST.items():
        value = getattr(settings, name)
        if name not in infinite and value < least:
            wrong.append(f"{_variable(name)} must be at least {least} (got {value})")
    for name, most in _AT_MOST.items():
        value, limit = getattr(settings, name), getattr(settings, most) if isinstance(most, str) else most
        if name not in infinite and value > limit:
            wrong.append(f"{_variable(name)} must be at most {limit} (got {value})")
    return wrong


def load_settings() -> Settings:
    """The settings from the environment; a ValueError naming each variable that is not a
    number or out of range, so a misconfigured deployment fails at start-up, not per request."""
    settings = Settings()
    wrong = out_of_range(settings)
    if wrong:
        raise ValueError("; ".join(wrong))
    return settings
