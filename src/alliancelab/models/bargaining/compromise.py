"""Compromise model: the capability-times-salience weighted mean of positions.

Reference: R. Thomson, F. N. Stokman, C. H. Achen & T. König (eds.), *The European Union
Decides*, Cambridge UP 2006, ch. 4 (C. H. Achen, "Bargaining and the Compromise Model"),
eq. (4.1): outcome = sum_i c_i s_i x_i / sum_i c_i s_i. Achen derives it as the first-order
approximation of the Nash bargaining solution with quadratic losses.
"""

from __future__ import annotations

import numpy as np

from ...core.problem import Problem
from .base import Engine, Outcome, static_outcome


def weights(capability: np.ndarray, salience: np.ndarray) -> np.ndarray:
    """Effective weights c_i s_i, ``(n, d)``; an issue where every weight is zero falls back
    to capability alone, and then to equal weights."""
    w = capability[:, None] * salience
    dead = w.sum(axis=0) <= 0
    if dead.any():
        fallback = np.where(capability.sum() > 0, capability, np.ones_like(capability))
        w[:, dead] = fallback[:, None]
    return w


class Compromise(Engine):
    """Weighted mean, Thomson et al. (2006) eq. 4.1."""

    name = "compromise"
    min_actors = 1

    def solve(self, problem: Problem, rng: np.random.Generator) -> Outcome:
        w = weights(problem.capability, problem.salience)
        forecast = (w * problem.position).sum(axis=0) / w.sum(axis=0)
        # Clip against floating-point drift outside the hull of positions.
        forecast = np.clip(forecast, problem.position.min(axis=0), problem.position.max(axis=0))
        return static_outcome(problem, forecast, weights=w / w.sum(axis=0))
