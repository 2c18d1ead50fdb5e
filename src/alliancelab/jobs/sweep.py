"""The built-in exploration sweep of ``alliancelab run`` (``--explore-n N``).

A small exploration in EMA Workbench's vocabulary (see docs/explore.md): ``N``
Latin-hypercube scenarios over every ranged number of the case and its shocks (on/off),
each under no lever and under every lever alone, with the compromise model (Thomson et al.
2006, eq. 4.1, vectorised over a batch); and a Morris screening (Campolongo et al. 2007) of
:func:`morris_trajectories` trajectories under no lever, for the sensitivity indices. Both
run in this process and are held in memory, never stored
(:func:`~alliancelab.explore.runner.explore_in_memory`); what the report shows is kept in
an :class:`~alliancelab.analysis.exploration.ExplorationAnalysis`. The scenarios sample
the case's ranges as ``alliancelab run`` draws them (triangular, mode at the stated value).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from ..core.case import Case
from ..core.errors import AllianceLabError

if TYPE_CHECKING:
    from ..analysis.exploration import ExplorationAnalysis

#: the engine of the built-in sweep.
MODEL = "compromise"

Progress = Callable[[str, int, int], None]


def morris_trajectories(n: int) -> int:
    """Morris trajectories of the screening for an ``n``-scenario sweep: ``n // 20``, at
    least 4 and at most 20 (each costs ``k + 1`` experiments for ``k`` uncertainties)."""
    return max(4, min(20, int(n) // 20))


def check_options(case: Case, n: int, outcome: str | None, sense: str) -> str:
    """Check the sweep's options before any work; returns the outcome of interest,
    ``compromise.<issue>`` (a bare issue name is accepted; default the first issue)."""
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
        raise AllianceLabError(f"must be a non-negative integer, got {n!r}", field="explore_n")
    if sense not in ("max", "min"):
        raise AllianceLabError(f"must be 'max' or 'min', got {sense!r}", field="explore_sense")
    names = [f"{MODEL}.{i}" for i in case.issue_names]
    if outcome is None:
        return names[0]
    name = outcome if outcome in names else f"{MODEL}.{outcome}"
    if name not in names:
        raise AllianceLabError(f"unknown outcome {outcome!r}; choose from {', '.join(names)}",
                               field="explore_outcome")
    return name


def explore_sweep(case: Case, n: int, seq: np.random.SeedSequence, *,
                  outcome: str | None = None, sense: str = "max",
                  notes: list[str] | None = None,
                  progress: Progress | None = None) -> ExplorationAnalysis | None:
    """Run the sweep (module docstring) seeded from ``seq`` and analyse it for ``outcome``
    (``sense`` ``"max"``: more is better). Returns the analysis, or ``None`` with a note in
    ``notes`` when the case has nothing to sample."""
    # here, not at import: the explorer and the analysis load while the run's workers are
    # already busy (SALib, and with it scipy.stats, only when the Morris indices are computed)
    from ..analysis.exploration import analyse
    from ..explore import uncertainties
    from ..explore.runner import explore_in_memory

    outcome = check_options(case, n, outcome, sense)
    shocks = [s.name for s in case.shocks]
    levers = [lv.name for lv in case.levers]
    params = uncertainties(case, shocks)
    if n == 0:
        return None
    if not params:
        if notes is not None:
            notes.append("exploration skipped: the case has no ranges or shocks to sample")
        return None
    s_lhs, s_morris = (int(x) for x in seq.generate_state(2))
    r = morris_trajectories(n)
    total = n * (len(levers) + 1) + r * (len(params) + 1)

    def step(offset: int) -> Callable[[int, int, int], None]:
        def cb(stored: int, _total: int, _failed: int) -> None:
            if progress is not None:
                progress("exploration", offset + stored, total)
        return cb

    ex = explore_in_memory(case, n=n, sampler="lhs", levers=levers, shocks=shocks,
                           models=(MODEL,), seed=s_lhs, progress=step(0))
    screen = explore_in_memory(case, n=r, sampler="morris", shocks=shocks, models=(MODEL,),
                               seed=s_morris, progress=step(ex.n_stored))
    return analyse(ex, outcome=outcome, sense=sense, screening=screen)
