"""Weighted median (median voter) model.

On one dimension the position that no weighted majority prefers to move away from is the
c_i s_i-weighted median (Black 1958, *The Theory of Committees and Elections*; used as the
"median voter" benchmark in Thomson et al. 2006, ch. 4, and by Bueno de Mesquita 1994 as
the forecast of the expected-utility model). With several issues it is taken issue by issue.
Where the cumulative weight reaches exactly one half at a position, the median is the
midpoint between that position and the next one carrying weight (the centre of the
interval of medians).
"""

from __future__ import annotations

import numpy as np

from ...core.problem import Problem
from .base import Engine, Outcome, static_outcome
from .compromise import weights


def weighted_median(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted median along axis 0 of ``x`` ``(n, ...)`` with weights ``w`` (same shape)."""
    order = np.argsort(x, axis=0, kind="stable")
    xs = np.take_along_axis(x, order, axis=0)
    ws = np.take_along_axis(w, order, axis=0)
    cum = np.cumsum(ws, axis=0)
    total = cum[-1]
    half = 0.5 * total
    tol = 1e-12 * np.maximum(total, 1.0)
    k = np.argmax(cum >= half - tol, axis=0)
    lo = np.take_along_axis(xs, k[None], axis=0)[0]
    at_half = np.abs(np.take_along_axis(cum, k[None], axis=0)[0] - half) <= tol
    k_above = np.argmax(cum > half + tol, axis=0)
    hi = np.take_along_axis(xs, k_above[None], axis=0)[0]
    return np.where(at_half, 0.5 * (lo + hi), lo)


class Median(Engine):
    """Capability x salience weighted median, issue by issue."""

    name = "median"
    min_actors = 1

    def solve(self, problem: Problem, rng: np.random.Generator) -> Outcome:
        w = weights(problem.capability, problem.salience)
        return static_outcome(problem, weighted_median(problem.position, w))
