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
from .arena import weights
from .base import Engine, Outcome, static_outcome


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


def median_over(x: np.ndarray, w: np.ndarray, standing: np.ndarray | None) -> np.ndarray:
    """The weighted median of ``x`` ``(n, d)`` with weights ``w`` over the actors with
    standing, per issue (:func:`weighted_median` of each issue's participants only, so the
    others cannot move it, not even through rounding); all actors when ``standing`` is
    ``None`` or everywhere true."""
    if standing is None or standing.all():
        return weighted_median(x, w)
    out = np.empty(x.shape[1])
    for k in range(x.shape[1]):
        rows = standing[:, k]
        out[k] = weighted_median(x[rows, k : k + 1], w[rows, k : k + 1])[0]
    return out


class Median(Engine):
    """Capability x salience weighted median, issue by issue, over the actors with
    standing (weights times the arena weight)."""

    name = "median"
    min_actors = 1

    def _solve(self, problem: Problem, rng: np.random.Generator) -> Outcome:
        w = weights(problem.capability, problem.salience, problem.weight)
        return static_outcome(problem, median_over(problem.position, w, problem.standing))
