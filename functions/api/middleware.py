"""The app's middleware: this container's request counters, metrics flushed per request on
the local server, HEAD answered as GET without its body, security headers, and CORS with its
refusals in the API's error body."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from functions.api import errors
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


class HeadAsGet:
    """HEAD is GET without the body (RFC 9110 9.3.2). FastAPI's GET routes answer HEAD with a
    405, and uptime checks and ``curl -I`` then see a healthy service as down."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            return await self.app(scope, receive, send)

        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return  # the body's chunks are dropped; the last one ends the answer
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_headers_only)


class SecurityHeaders:
    """Headers every answer carries: no content-type sniffing (an error body is JSON, never
    run as a script), and the page and docs not framed by another site (clickjacking)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("x-content-type-options", "nosniff")
                if headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault("content-security-policy", "frame-ancestors 'none'")
                    headers.setdefault("x-frame-options", "DENY")
            await send(message)

        await self.app(scope, receive, send_with_headers)


class JsonCORSMiddleware(CORSMiddleware):
    """Starlette's CORS, with a refused preflight (an origin or a method not allowed) answered
    in the API's error body: Starlette answers it in plain text."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        preflight = (scope["type"] == "http" and scope["method"] == "OPTIONS" and "origin" in headers
                     and "access-control-request-method" in headers)
        if not preflight:
            return await super().__call__(scope, receive, send)
        response = self.preflight_response(request_headers=headers)
        if response.status_code == 400:
            kept = {k: v for k, v in response.headers.items() if k not in ("content-type", "content-length")}
            why = bytes(response.body).decode("utf-8", "replace")  # "Disallowed CORS origin, method"
            response = errors.error_response(Request(scope), "bad_request", f"CORS preflight refused: {why}", 400,
                                             kept)
        await response(scope, receive, send)


def install(app: FastAPI) -> None:
    # Added last runs first: the flush wraps the counting, as when they were decorators in this order.
    app.middleware("http")(count_ocr_requests)
    app.middleware("http")(flush_metrics_outside_lambda)
    app.add_middleware(SecurityHeaders)
    # Outermost of the app's own middleware: every route sees the GET (Starlette's error middleware
    # is outside it, so app.py wraps the app once more for Lambda).
    app.add_middleware(HeadAsGet)
