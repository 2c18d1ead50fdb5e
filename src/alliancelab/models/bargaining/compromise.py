"""Compromise model: the capability-times-salience weighted mean of positions.

Reference: R. Thomson, F. N. Stokman, C. H. Achen & T. König (eds.), *The European Union
Decides*, Cambridge UP 2006, ch. 4 (C. H. Achen, "Bargaining and the Compromise Model"),
eq. (4.1): outcome = sum_i c_i s_i x_i / sum_i c_i s_i. Achen derives it as the first-order
approximation of the Nash bargaining solution with quadratic losses.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ...core.problem import Problem
from .arena import hull, stacked, weights
from .base import Engine, Outcome, static_outcome

__all__ = ["Compromise", "weights"]


class Compromise(Engine):
    """Weighted mean, Thomson et al. (2006) eq. 4.1, over the actors with standing on each
    issue: sum_i w_ik c_i s_ik x_ik / sum_i w_ik c_i s_ik with ``w`` the arena weight."""

    name = "compromise"
    min_actors = 1

    def _solve(self, problem: Problem, rng: np.random.Generator) -> Outcome:
        w = weights(problem.capability, problem.salience, problem.weight)
        forecast = (w * problem.position).sum(axis=0) / w.sum(axis=0)
        # Clip against floating-point drift outside the hull of positions.
        forecast = np.clip(forecast, *hull(problem.position, problem.standing))
        return static_outcome(problem, forecast, weights=w / w.sum(axis=0))

    def _solve_batch(
        self, problems: Sequence[Problem], rngs: Sequence[np.random.Generator]
    ) -> np.ndarray:
        """All draws at once: the same arithmetic as :meth:`_solve`, draws on a leading
        axis (sums over the actors in the same order, so the results are equal bit for bit)."""
        if not problems:
            return np.empty((0, 0))
        cap, pos, sal, arena = stacked(problems)
        w = cap[:, :, None] * sal * arena
        dead = w.sum(axis=1) <= 0  # (N, d)
        if dead.any():  # rare: the fallback of :func:`.arena.weights`, draw by draw
            for r in np.flatnonzero(dead.any(axis=1)):
                w[r] = weights(cap[r], sal[r], arena[r])
        total = w.sum(axis=1)
        forecast = (w * pos).sum(axis=1) / total
        return np.clip(forecast, *hull(pos, arena > 0))  # type: ignore[no-any-return]
