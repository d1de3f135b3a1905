"""The app's middleware: this container's request counters, and metrics flushed per
request on the local server."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response

from functions.api.routes.ocr import OCR_PATHS
from functions.common.counters import COUNTERS
from functions.common.observability import IN_LAMBDA, metrics

CallNext = Callable[[Request], Awaitable[Response]]


async def count_ocr_requests(request: Request, call_next: CallNext) -> Response:
    """This container's request count and latency (counters.py), for every OCR request
    whatever its answer; an exception that escapes is a 500."""
    if request.method != "POST" or request.scope["path"] not in OCR_PATHS:
        return await call_next(request)
    started, status = time.perf_counter(), 500
    try:
        response = await call_next(request)
        status = response.status_code
        return response
    finally:
        COUNTERS.record_request(status, (time.perf_counter() - started) * 1000)


async def flush_metrics_outside_lambda(request: Request, call_next: CallNext) -> Response:
    """In Lambda the handler's decorator flushes; the local server flushes per request."""
    response = await call_next(request)
    if not IN_LAMBDA and metrics.metric_set:
        metrics.flush_metrics()
    return response


def install(app: FastAPI) -> None:
    # Added last runs first: the flush wraps the counting, as when they were decorators in this order.
    app.middleware("http")(count_ocr_requests)
    app.middleware("http")(flush_metrics_outside_lambda)
