"""An object shipped once per worker instead of with every task.

A task carries a *reference* to the shared object (see
:meth:`alliancelab.execution.Evaluator.share`) and calls :func:`resolve` on the worker:

* in a process pool the evaluator creates, the object is installed by the pool's
  initializer and the reference is its ``key``;
* on Dask it is scattered to every worker (``broadcast=True``) and the reference is the Dask
  future, which Dask replaces by the object before the task runs;
* anywhere else the reference is the object itself; workers keep it in this per-process
  cache, so a long-lived worker deserialises it once per batch but keeps one copy.

A shared object has a ``key`` (a string naming its content, e.g. a hash).
"""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ["Shareable", "cached_keys", "install", "resolve"]

#: objects kept per worker process, by key.
CACHE: dict[str, Any] = {}
#: a worker serving many explorations keeps at most this many objects.
MAX_CACHED = 8


class Shareable(Protocol):
    @property
    def key(self) -> str: ...


def install(obj: Shareable) -> None:
    """Process-pool initializer: keep ``obj`` for the tasks that name it by key."""
    CACHE[obj.key] = obj


def resolve(ref: Any) -> Any:
    """The shared object a task's reference stands for (a key, or the object itself)."""
    if isinstance(ref, str):
        return CACHE[ref]
    if ref.key not in CACHE and len(CACHE) >= MAX_CACHED:
        CACHE.clear()
    return CACHE.setdefault(ref.key, ref)


def cached_keys() -> list[str]:
    """Keys of the objects this process keeps (for tests and diagnostics)."""
    return list(CACHE)
