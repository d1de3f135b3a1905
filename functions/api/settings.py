"""The API function's own settings, typed, read from environment variables in one place.
The engine's (limits, deadline, model) are ``ocr_engine.config.Settings``; the request
models declare its limits (models.py).

| variable | default | meaning |
|---|---|---|
| OCR_CORS_ORIGINS | (none) | comma-separated origins allowed to call the API from a browser; none: no CORS headers |
| OCR_API_CONCURRENCY | 2 | images read at once per process, off the event loop (runtime.py); at least 1 |
| OCR_STATS_WINDOW_HOURS | 24 | hours of CloudWatch metrics that ``GET /api/stats`` adds up |
| OCR_STATS_CACHE_SECONDS | 30 | how long those figures (or the reason there are none) are kept |
| POWERTOOLS_SERVICE_NAME | ocr | the metrics' ``service`` dimension (powertools reads it too) |
| POWERTOOLS_METRICS_NAMESPACE | ServerlessOCR | their namespace (powertools reads it too) |
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field


class ApiSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    cors_origins: tuple[str, ...] = ()
    read_concurrency: int = Field(2, ge=1)
    stats_window_hours: int = 24
    stats_cache_seconds: float = 30.0
    service_name: str = "ocr"
    metrics_namespace: str = "ServerlessOCR"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ApiSettings:
        env = os.environ if env is None else env
        values: dict = {
            "cors_origins": tuple(o for o in env.get("OCR_CORS_ORIGINS", "").split(",") if o),
            # 0 or less reads one at a time, as before: a misconfiguration that still serves.
            "read_concurrency": max(1, int(env.get("OCR_API_CONCURRENCY", "2"))),
        }
        for field, name in (("stats_window_hours", "OCR_STATS_WINDOW_HOURS"),
                            ("stats_cache_seconds", "OCR_STATS_CACHE_SECONDS"),
                            ("service_name", "POWERTOOLS_SERVICE_NAME"),
                            ("metrics_namespace", "POWERTOOLS_METRICS_NAMESPACE")):
            if name in env:
                values[field] = env[name]
        return cls.model_validate(values)


@functools.cache
def get_settings() -> ApiSettings:
    """This process's settings, read once (the cold start)."""
    return ApiSettings.from_env()
