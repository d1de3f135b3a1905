"""The API function's own settings, typed, read from environment variables in one place.
The engine's (limits, deadline, model) are ``ocr_engine.config.Settings``; the request
models declare its limits (models.py).

| variable | default | meaning |
|---|---|---|
| OCR_CORS_ORIGINS | (none) | comma-separated origins allowed to call the API from a browser; none: no CORS headers |
| OCR_API_CONCURRENCY | 2 | images read at once per process, off the event loop (runtime.py); at least 1 |
| OCR_STATS_WINDOW_HOURS | 24 | hours of CloudWatch metrics that ``GET /api/stats`` adds up (1-1440) |
| OCR_STATS_CACHE_SECONDS | 30 | how long those figures (or the reason there are none) are kept |
| POWERTOOLS_SERVICE_NAME | ocr | the metrics' ``service`` dimension (powertools reads it too) |
| POWERTOOLS_METRICS_NAMESPACE | ServerlessOCR | their namespace (powertools reads it too) |

A value that is not valid is logged and its default used (``ApiSettings.from_env``).
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError

logger = logging.getLogger(__name__)

# field -> its environment variable (OCR_CORS_ORIGINS is a list, parsed apart)
_FROM_ENV = {
    "read_concurrency": "OCR_API_CONCURRENCY",
    "stats_window_hours": "OCR_STATS_WINDOW_HOURS",
    "stats_cache_seconds": "OCR_STATS_CACHE_SECONDS",
    "service_name": "POWERTOOLS_SERVICE_NAME",
    "metrics_namespace": "POWERTOOLS_METRICS_NAMESPACE",
}


class ApiSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    cors_origins: tuple[str, ...] = ()
    read_concurrency: int = Field(2, ge=1)
    # Hourly points, and CloudWatch answers at most 1,440 points a GetMetricStatistics call.
    stats_window_hours: int = Field(24, ge=1, le=1440)
    stats_cache_seconds: float = Field(30.0, ge=0)
    service_name: str = Field("ocr", min_length=1)
    metrics_namespace: str = Field("ServerlessOCR", min_length=1)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ApiSettings:
        """The settings the environment names. A value that is not valid (``abc``, ``-5``) is
        logged and its default used: a typo in one setting must not stop the function from
        starting, which would fail every route."""
        env = os.environ if env is None else env
        values: dict = {"cors_origins": tuple(o.strip() for o in env.get("OCR_CORS_ORIGINS", "").split(",")
                                              if o.strip())}
        for field, name in _FROM_ENV.items():
            if name not in env:
                continue
            try:
                cls.model_validate({field: env[name]})
            except ValidationError:
                logger.warning("%s=%r is not a valid value; using the default, %r", name, env[name],
                               cls.model_fields[field].default)
                continue
            values[field] = env[name]
        return cls.model_validate(values)


@functools.cache
def get_settings() -> ApiSettings:
    """This process's settings, read once (the cold start)."""
    return ApiSettings.from_env()
