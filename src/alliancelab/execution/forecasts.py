"""Many forecasts of one engine (the Monte Carlo of a run): one engine call per chunk of
draws through :meth:`Engine.solve_batch <alliancelab.models.bargaining.base.Engine.
solve_batch>` (vectorised where the engine has a batch kernel), each draw with its own seed,
so the forecasts do not depend on the chunking or the number of workers.

A chunk the batch cannot solve is solved again draw by draw; a draw the engine cannot solve
(a numerical failure) becomes NaN and is counted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..core.problem import Problem
from ..models.bargaining import engine_class
from .executors import Evaluator, Pending, chunk_bounds

__all__ = ["FAILURES", "Forecasts", "PendingForecasts", "forecast_many", "solve_chunk",
           "submit_forecasts"]

#: what a numerical failure of an engine on one draw looks like.
FAILURES = (ArithmeticError, ValueError, FloatingPointError, np.linalg.LinAlgError)
#: chunks of an iterative engine's draws: at most this many draws per task (the engines
#: solve a chunk's draws together, so fewer, bigger chunks cost less).
MAX_CHUNK = 250


@dataclass(frozen=True)
class Forecasts:
    """``values`` ``(N, d)`` (NaN where a draw failed), the failure count and the first
    failure's message."""

    values: np.ndarray
    failures: int = 0
    first_failure: str | None = None


def solve_chunk(chunk: Sequence[tuple[Problem, np.random.SeedSequence]], model: str
                ) -> list[np.ndarray | str]:
    """The forecast of every ``(problem, seed)``, or the failure's message."""
    engine = engine_class(model)()
    problems = [p for p, _ in chunk]
    try:
        out = engine.solve_batch(problems, [np.random.default_rng(s) for _, s in chunk])
        return list(np.asarray(out, dtype=float))
    except FAILURES:
        pass
    results: list[np.ndarray | str] = []
    for problem, seq in chunk:
        try:
            f = engine.solve(problem, np.random.default_rng(seq)).forecast
            results.append(np.asarray(f, dtype=float))
        except FAILURES as exc:
            results.append(f"{type(exc).__name__}: {exc}")
    return results


def forecast_many(problems: Sequence[Problem], model: str,
                  seqs: Sequence[np.random.SeedSequence], *,
                  evaluator: Evaluator | None = None,
                  tick: Callable[[int], None] | None = None) -> Forecasts:
    """Forecast every problem with ``model`` (``seqs[i]`` seeds draw ``i``). An iterative
    engine's draws go to ``evaluator`` in chunks; a one-shot engine's run here in one batch
    (shipping them would cost more than solving them). ``tick(draws done)``."""
    return submit_forecasts(problems, model, seqs, evaluator=evaluator).result(tick=tick)


@dataclass
class PendingForecasts:
    """The forecasts :func:`submit_forecasts` started; :meth:`result` collects them."""

    n: int
    d: int
    bounds: list[tuple[int, int]]
    pending: Pending

    def result(self, *, tick: Callable[[int], None] | None = None) -> Forecasts:
        """The :class:`Forecasts`; ``tick(draws done)`` after each chunk."""
        chunk_tick = None if tick is None else (lambda k: tick(self.bounds[k - 1][1]))
        results = [r for part in self.pending.result(tick=chunk_tick) for r in part]
        values = np.full((self.n, self.d), np.nan)
        first: str | None = None
        failures = 0
        for i, r in enumerate(results):
            if isinstance(r, str):
                failures += 1
                first = first or r
            else:
                values[i] = r
        return Forecasts(values, failures, first)


def submit_forecasts(problems: Sequence[Problem], model: str,
                     seqs: Sequence[np.random.SeedSequence], *,
                     evaluator: Evaluator | None = None) -> PendingForecasts:
    """:func:`forecast_many` started now (an iterative engine's chunks submitted to a
    parallel ``evaluator``) and collected with :meth:`PendingForecasts.result`, so the
    caller can do other work while the chunks run."""
    cls = engine_class(model)
    n = len(problems)
    if n:
        cls().check(problems[0])  # the draws share the case's actors
    parallel = cls.iterative and evaluator is not None and evaluator.parallel
    where = evaluator if parallel and evaluator is not None else Evaluator()
    # one chunk per worker; in this process, quarters (for progress) once there are many
    parts = where.workers if parallel else 4 if cls.iterative and n > 50 else 1
    size = max(1, min(MAX_CHUNK, -(-n // parts)))
    items = list(zip(problems, seqs, strict=True))
    bounds = chunk_bounds(n, size)
    pending = where.submit_map(solve_chunk, [(items[a:b], model) for a, b in bounds])
    return PendingForecasts(n, problems[0].n_issues if n else 0, bounds, pending)
