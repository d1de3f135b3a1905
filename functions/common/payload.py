"""The JSON shape of a reading, shared by the API responses and the S3 result files."""

from __future__ import annotations

from ocr_engine.annotate import Annotation
from ocr_engine.schemas import OcrResult


def result_payload(result: OcrResult, request_id: str, filename: str | None,
                   annotation: Annotation | None = None) -> dict:
    payload = {
        "request_id": request_id,
        "filename": filename,
        "image_size": {"width": result.image_size[0], "height": result.image_size[1]},
        "regions": [w.to_dict() for w in result.words],
        "full_text": result.full_text,
        "region_count": len(result.words),
        "inference_ms": round(result.timings_ms.get("total", 0.0), 2),
        "timings_ms": {k: round(v, 2) for k, v in result.timings_ms.items()},
        "model_info": result.model.to_dict(),
    }
    if annotation is not None:
        payload.update(annotation.fields())  # the image and its type, or why there is none
    return payload
