"""Work done for a request stops when the request times out or its client goes away.

:func:`guarded` runs a route's blocking work in a worker thread under
:func:`alliancelab.core.limits.deadline`: the loops that can run long (the dynamics' rounds,
the iterative engines' rounds) call :func:`~alliancelab.core.limits.checkpoint`, which
raises once the time limit has passed or the cancel event is set. While the work runs, the
route watches the connection every :data:`POLL_SECONDS` and sets the event when the client
has disconnected - so no thread spins on after its client has gone. A request stopped by its
time limit gets 422 and the one-line reason (:class:`~alliancelab.core.limits.WorkCancelled`
is a user error: the work asked for is more than the app does for one request).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import anyio.to_thread
from fastapi import Request

from ..core import limits

__all__ = ["POLL_SECONDS", "guarded"]

#: how often a running request checks that its client is still there (seconds).
POLL_SECONDS = 0.25


async def guarded(request: Request, seconds: float | None, fn: Callable[..., Any],
                  *args: Any) -> Any:
    """``fn(*args)`` in a worker thread, stopped (at its next checkpoint) after ``seconds``
    or as soon as the client of ``request`` disconnects."""
    event = threading.Event()

    def work() -> Any:
        with limits.deadline(seconds, event):
            return fn(*args)

    async def listen() -> None:
        # the body has been read: the next message the server passes on is the disconnect
        # (a zero-timeout ``request.is_disconnected()`` poll misses it under uvicorn)
        while (await request.receive())["type"] != "http.disconnect":
            pass
        event.set()

    task = asyncio.ensure_future(anyio.to_thread.run_sync(work))
    listener = asyncio.ensure_future(listen())
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=POLL_SECONDS)
            if done:
                return task.result()
            if listener.done():
                event.set()
    finally:
        event.set()  # cancelled (server shutdown) or finished: nothing keeps running
        listener.cancel()
