"""The API process's engine, loaded once at the cold start (Lambda's init phase), and the
pool its reads run in.

Images are read off the event loop, in one process-wide pool of ``OCR_API_CONCURRENCY``
(default 2) worker threads: the server keeps answering (``/api/health``, the page) while
images are read, and a burst of uploads queues instead of decoding all at once (each read
may take a few hundred MB at the pixel limits). In Lambda a container serves one request at
a time, so the bound only matters for the local server.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from ocr_engine.errors import ModelUnavailable, OcrError
from ocr_engine.pipeline import OcrEngine, get_engine

from functions.common.observability import logger

_T = TypeVar("_T")


class Runtime:
    """The engine (or why it did not load: the API then answers 503 until fixed), whether
    this container has read an image yet, and the reader pool."""

    def __init__(self, read_concurrency: int, load: Callable[[], OcrEngine] = get_engine) -> None:
        started = time.perf_counter()
        self.engine: OcrEngine | None = None
        self.load_error: str | None = None
        try:
            self.engine = load()
        except OcrError as exc:  # a deployment fault: log loudly, answer 503 until fixed
            # The cause names files on the server (/var/task/...): the log has it, callers do not.
            self.load_error = "a deployment fault; this function's log names the cause"
            logger.error("model failed to load at cold start", extra={"error": str(exc)})
        self.load_ms = (time.perf_counter() - started) * 1000
        self.cold = True  # until the first image is read
        self.read_concurrency = read_concurrency
        # One pool for the process: its threads live as long as the container. (anyio's
        # per-event-loop workers cost ~30 ms a request under Mangum, which runs each
        # invocation on the loop afresh: 55 against 25 ms for one word, measured 2026-11-26.)
        self._readers = ThreadPoolExecutor(max_workers=read_concurrency, thread_name_prefix="ocr-read")

    def ready_engine(self) -> OcrEngine:
        if self.engine is None:
            raise ModelUnavailable(f"the model is not loaded: {self.load_error}")
        return self.engine

    async def off_loop(self, fn: Callable[..., _T], *args) -> _T:
        """Run CPU work in a worker thread, at most ``read_concurrency`` at once; the others
        wait in the pool's queue without holding a thread, and the event loop keeps answering."""
        return await asyncio.get_running_loop().run_in_executor(self._readers, functools.partial(fn, *args))


def get_runtime(request: Request) -> Runtime:
    """The routes' dependency: the app's runtime (app.py makes it)."""
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
