"""The service's own state: is the model loaded (health), and how much has been read (stats)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from ocr_engine import __version__

from functions.api import stats
from functions.api.models import LIMITS
from functions.api.runtime import RuntimeDep

router = APIRouter()


@router.get("/api/health", summary="Model loaded? Version, cold or warm container")
def health(runtime: RuntimeDep) -> JSONResponse:
    engine = runtime.engine
    body = {
        "status": "ok" if engine else "error",
        "model_loaded": engine is not None,
        "engine_version": __version__,
        "cold_start": runtime.cold,
        "model_load_ms": round(runtime.load_ms, 1),
        # The largest image /api/ocr takes (OCR_MAX_IMAGE_BYTES; more: 413): the page refuses
        # a larger file at once instead of uploading it to learn so.
        "max_image_bytes": (engine.settings if engine else LIMITS).max_image_bytes,
    }
    if engine:
        body["model"] = engine.model_info.to_dict()
    else:
        body["error"] = runtime.load_error
    return JSONResponse(body, status_code=200 if engine else 503)


@router.get("/api/stats", summary="This container's counts and latency since its cold start; the service's from "
                                   "CloudWatch when reachable")
def get_stats() -> dict:
    """``container``: OCR requests (by status), images read, words, errors and request
    latency percentiles (p50, p90, p99 in ms) of this container since its cold start,
    always present. At the top level, the service-wide figures from CloudWatch metrics
    (``available: true``), or ``available: false`` and the ``reason`` in words."""
    return stats.current_stats()
