"""The typed result every entry point returns (API, S3 function, CLI, benchmarks)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Word:
    text: str
    confidence: float
    bbox: tuple[int, int, int, int]  # x1, y1, x2, y2 in the (EXIF-rotated) image

    def to_dict(self) -> dict:
        return {"text": self.text, "confidence": round(self.confidence, 4), "bbox": list(self.bbox)}


@dataclass(frozen=True)
class ModelInfo:
    name: str
    version: str
    dataset: str
    metrics: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class OcrResult:
    words: list[Word]
    image_size: tuple[int, int]  # width, height
    timings_ms: dict[str, float]
    model: ModelInfo

    @property
    def full_text(self) -> str:
        return " ".join(w.text for w in self.words if w.text)

    def to_dict(self) -> dict:
        return {
            "words": [w.to_dict() for w in self.words],
            "full_text": self.full_text,
            "image_size": list(self.image_size),
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
            "model": self.model.to_dict(),
        }


@dataclass(frozen=True)
class ReadOptions:
    """Per-request options; ``None`` means the configured default."""

    detect: bool = True
    beam_width: int | None = None
    max_regions: int | None = None
    min_confidence: float | None = None
    lexicon: tuple[str, ...] | None = None
