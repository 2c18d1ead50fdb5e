"""Where tasks run: this process, a process pool, or any :class:`concurrent.futures.Executor`
(a thread pool, Dask's ``Client.get_executor()``), behind one :class:`Evaluator`.

An evaluator owns what it creates (a process pool for ``workers=N``, a Dask client and
cluster for ``scheduler=``) and shuts it down on :meth:`Evaluator.close` (or leaving its
``with`` block); an executor passed in stays the caller's. Tasks are plain module-level
functions with picklable arguments; results never depend on where they ran, because every
random draw carries its own seed.

:meth:`Evaluator.map` is the ordered map (with progress ticks and chunking),
:meth:`Evaluator.stream` yields results as they finish with a bounded number of tasks in
flight (so memory stays flat however many tasks there are).
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import pickle
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from ..core.checks import positive_int
from ..core.errors import AllianceLabError
from .lifetime import init_worker
from .shared import Shareable

__all__ = ["Evaluator", "Pending", "Sequential", "chunk_bounds", "dask_client", "n_workers"]

Tick = Callable[[int], None]


class Sequential(cf.Executor):
    """Runs each task at submission, in this process."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future[Any]:
        fut: cf.Future[Any] = cf.Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller via the future
            fut.set_exception(exc)
        return fut


class Evaluator:
    """Runs tasks on one of: this process (the default, or ``workers=1``), a process pool of
    ``workers`` processes, the given ``executor``, or a Dask ``scheduler`` (an address
    ``tcp://HOST:PORT`` or ``"local:N"`` for a local cluster of N workers). Give at most
    one. ``shared`` is an object the tasks need that is shipped once per worker (see
    :mod:`alliancelab.execution.shared`); tasks receive :attr:`ref` and call
    :func:`~alliancelab.execution.shared.resolve` on it."""

    def __init__(self, workers: int | None = None, *, executor: cf.Executor | None = None,
                 scheduler: str | None = None, shared: Shareable | None = None) -> None:
        if (executor is not None) + (scheduler is not None) + (workers not in (None, 1)) > 1:
            raise AllianceLabError("give only one of executor, workers and scheduler",
                                   field="workers")
        self._own: cf.Executor | None = None
        self._dask: tuple[Any, Any] | None = None
        if executor is not None:
            self.executor = executor
        elif scheduler is not None:
            self.executor, client, cluster = _dask_executor(scheduler)
            self._own, self._dask = self.executor, (client, cluster)
        elif workers not in (None, 1):
            n = positive_int(workers, "workers")
            # workers die with this process, even on a SIGKILL (lifetime.init_worker)
            self.executor = self._own = cf.ProcessPoolExecutor(
                max_workers=n, initializer=init_worker, initargs=(os.getpid(), shared))
        else:
            self.executor = Sequential()
        self.parallel = not isinstance(self.executor, Sequential)
        self.workers = n_workers(self.executor, workers)
        self.ref: Any = None if shared is None else self._share(shared)

    def _share(self, obj: Shareable) -> Any:
        if isinstance(self._own, cf.ProcessPoolExecutor):
            return obj.key  # installed by the pool's initializer
        client = dask_client(self.executor)
        if client is not None:
            return client.scatter(obj, broadcast=True, hash=False)
        return obj

    # -- running -----------------------------------------------------------------------
    def stream(self, fn: Callable[..., Any], tasks: Iterable[tuple[Any, ...]], *,
               window: int | None = None,
               failed: Callable[[BaseException], BaseException] | None = None,
               ) -> Iterator[Any]:
        """``fn(*task)`` for every task, yielded as each finishes, with at most ``window``
        (default ``2 * workers + 1``) in flight. A task that raises stops the stream with
        its exception, or with ``failed(exception)`` when given."""
        limit = window or 2 * self.workers + 1
        pending = iter(tasks)
        inflight: set[cf.Future[Any]] = set()
        exhausted = False
        while True:
            while not exhausted and len(inflight) < limit:
                task = next(pending, None)
                if task is None:
                    exhausted = True
                    break
                inflight.add(self.executor.submit(fn, *task))
            if not inflight:
                return
            finished, inflight = cf.wait(inflight, return_when=cf.FIRST_COMPLETED)
            for fut in finished:
                yield _result(fut, failed)

    def map(self, fn: Callable[..., Any], tasks: Sequence[tuple[Any, ...]], *,
            tick: Tick | None = None) -> list[Any]:
        """``[fn(*t) for t in tasks]``, in order; ``tick(done)`` after each task."""
        out: list[Any] = [None] * len(tasks)
        indexed = ((k, fn, t) for k, t in enumerate(tasks))
        for done, (k, value) in enumerate(self.stream(_indexed, indexed), start=1):
            out[k] = value
            if tick is not None:
                tick(done)
        return out

    def map_chunks(self, fn: Callable[..., list[Any]], items: Sequence[Any], *, size: int,
                   args: tuple[Any, ...] = (), tick: Tick | None = None) -> list[Any]:
        """``fn(chunk, *args)`` over chunks of ``size`` items, each returning one result per
        item; the results in the items' order. ``tick(items done)`` after each chunk."""
        bounds = chunk_bounds(len(items), size)
        tasks = [(list(items[a:b]), *args) for a, b in bounds]
        out: list[Any] = [None] * len(bounds)
        done = 0
        indexed = ((k, fn, t) for k, t in enumerate(tasks))
        for k, value in self.stream(_indexed, indexed):
            out[k] = value
            done += bounds[k][1] - bounds[k][0]
            if tick is not None:
                tick(done)
        return [x for part in out for x in part]

    def submit_pickled(self, fn: Callable[[Any], Any], arg: Any) -> cf.Future[Any]:
        """``fn(arg)`` started now, ``arg`` pickled here first (a pool's queue pickles in a
        background thread): the caller may go on using ``arg``, even caching on it, while
        the task waits. Run here at once when this evaluator is not parallel."""
        if not self.parallel:
            return Sequential().submit(fn, arg)
        return self.executor.submit(_unpickled, fn, pickle.dumps(arg, pickle.HIGHEST_PROTOCOL))

    def submit_map(self, fn: Callable[..., Any], tasks: Sequence[tuple[Any, ...]]) -> Pending:
        """``[fn(*t) for t in tasks]`` started now and collected later with
        :meth:`Pending.result`, so this process can do other work meanwhile: on a pool or
        another executor every task is submitted at once (they run in submission order);
        sequentially, nothing runs before :meth:`Pending.result` (exactly :meth:`map`)."""
        return Pending(self, fn, tasks)

    # -- lifetime ----------------------------------------------------------------------
    def close(self) -> None:
        """Shut down what this evaluator created (nothing for an executor passed in)."""
        own, self._own = self._own, None
        if own is not None:
            try:
                own.shutdown(wait=True, cancel_futures=True)
            except TypeError:  # executors without cancel_futures (Dask's ClientExecutor)
                own.shutdown(wait=True)
        dask, self._dask = self._dask, None
        if dask is not None:
            dask[0].close()
            if dask[1] is not None:
                dask[1].close()

    def __enter__(self) -> Evaluator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Pending:
    """Tasks started by :meth:`Evaluator.submit_map`; :meth:`result` waits for them."""

    def __init__(self, evaluator: Evaluator, fn: Callable[..., Any],
                 tasks: Sequence[tuple[Any, ...]]) -> None:
        self._evaluator, self._fn, self._tasks = evaluator, fn, list(tasks)
        self._futures = ([evaluator.executor.submit(fn, *t) for t in self._tasks]
                         if evaluator.parallel else None)
        self._results: list[Any] | None = None

    def __len__(self) -> int:
        return len(self._tasks)

    def result(self, *, tick: Tick | None = None) -> list[Any]:
        """The tasks' results, in order; ``tick(done)`` after each one (a task that raised
        raises here). Collected once: a second call returns the same list."""
        if self._results is not None:
            return self._results
        if self._futures is None:
            out = self._evaluator.map(self._fn, self._tasks, tick=tick)
        else:
            out = []
            for done, fut in enumerate(self._futures, start=1):
                out.append(fut.result())
                if tick is not None:
                    tick(done)
        self._results = out
        return out


def _indexed(k: int, fn: Callable[..., Any], args: tuple[Any, ...]) -> tuple[int, Any]:
    return k, fn(*args)


def _unpickled(fn: Callable[[Any], Any], data: bytes) -> Any:
    return fn(pickle.loads(data))  # noqa: S301 - bytes this process pickled itself


def _result(fut: cf.Future[Any], failed: Callable[[BaseException], BaseException] | None
            ) -> Any:
    if failed is None:
        return fut.result()
    try:
        return fut.result()
    except Exception as exc:
        raise failed(exc) from exc


def chunk_bounds(n: int, size: int) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` covering ``range(n)`` in chunks of ``size``."""
    size = max(1, int(size))
    return [(a, min(a + size, n)) for a in range(0, n, size)]


def dask_client(executor: cf.Executor) -> Any | None:
    """The Dask client behind ``executor`` (``Client.get_executor()``), else None."""
    client = getattr(executor, "_client", None)
    if client is not None and type(executor).__module__.startswith("distributed"):
        return client
    return None


def n_workers(executor: cf.Executor, workers: int | None = None) -> int:
    """How many tasks ``executor`` runs at once (Dask: its workers; a pool: its size)."""
    client = dask_client(executor)
    if client is not None:
        try:
            return max(1, len(client.scheduler_info().get("workers", {})))
        except Exception:  # noqa: BLE001 - a scheduler that does not answer: guess
            return 2
    return int(getattr(executor, "_max_workers", None) or workers or 1)


def _dask_executor(scheduler: str) -> tuple[cf.Executor, Any, Any]:
    """A Dask executor for ``tcp://HOST:PORT`` or ``local:N``, with its client and cluster."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise AllianceLabError("Dask is not installed: pip install 'alliancelab[dask]'",
                               field="scheduler") from None
    cluster = None
    if scheduler.startswith("local:"):
        n = positive_int(_int_or_none(scheduler.split(":", 1)[1]), "scheduler")
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    else:
        try:
            client = Client(scheduler, timeout=20)
        except OSError as exc:
            raise AllianceLabError(f"cannot reach the Dask scheduler: {exc}",
                                   field="scheduler") from None
    return client.get_executor(pure=False), client, cluster


def _int_or_none(text: str) -> int | str:
    try:
        return int(text)
    except ValueError:
        return text
