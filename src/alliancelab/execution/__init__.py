"""Execution: one evaluator layer for every job that runs many evaluations.

:class:`Evaluator` runs tasks sequentially, on a process pool or on any
:class:`concurrent.futures.Executor` (Dask's ``Client.get_executor()`` included), with an
ordered map (progress ticks, chunking) and a bounded stream; :func:`forecast_many` is the
Monte Carlo of one engine on top of it (``Engine.solve_batch`` per chunk, a seed per draw,
so results do not depend on the number of workers). Used by the run job
(:mod:`alliancelab.jobs.run`) and by explore (:mod:`alliancelab.explore.runner`).
"""

from .executors import Evaluator, Pending, Sequential, chunk_bounds, dask_client, n_workers
from .forecasts import (
    FAILURES,
    Forecasts,
    PendingForecasts,
    forecast_many,
    solve_chunk,
    submit_forecasts,
)
from .provenance import case_hash, versions
from .shared import cached_keys, install, resolve

__all__ = [
    "FAILURES",
    "Evaluator",
    "Forecasts",
    "Pending",
    "PendingForecasts",
    "Sequential",
    "cached_keys",
    "case_hash",
    "chunk_bounds",
    "dask_client",
    "forecast_many",
    "install",
    "n_workers",
    "resolve",
    "solve_chunk",
    "submit_forecasts",
    "versions",
]
