"""Nash bargaining solution (asymmetric, quadratic losses).

Nash (1950) "The bargaining problem", *Econometrica* 18(2); the asymmetric form with
bargaining weights follows Kalai (1977) and the EU application of C. H. Achen,
"Institutional realism and bargaining models", in Thomson et al. (2006), *The European
Union Decides*, ch. 4, eq. (4.4)-(4.6).

Choices (see docs/models.md):

* utility: u_i(x) = -(x - x_i)^2 on each issue, the quadratic loss under which Achen shows
  the compromise model is the first-order approximation of this solution;
* weights: w_i = c_i s_i (capability times salience), as in the compromise model;
* disagreement point d: ``"worst"`` (default) gives each actor the utility of the scale end
  farthest from its position, so every outcome in the scale beats breakdown and the
  solution always exists; ``"status_quo"`` uses the issue's status quo and restricts the
  outcome to the points every actor weakly prefers to it (the status quo itself when they
  have none in common - the unanimity reading); issues without a status quo use ``"worst"``.

The solution maximises sum_i w_i log(u_i(x) - u_i(d)) issue by issue; the objective is
concave, so it is found by bisection on its derivative to machine precision.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from ...core.errors import AllianceLabError
from ...core.problem import Problem
from .arena import hull, weights
from .base import Engine, Outcome, static_outcome


def nash_solution(
    x: np.ndarray, w: np.ndarray, gap: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> np.ndarray:
    """Maximise sum_i w_i log(gap_i - (y - x_i)^2) over y in [lo, hi], per column.

    ``x``, ``w``, ``gap`` are ``(n, d)``; ``gap_i = u_i(x_i) - u_i(d)``.
    """
    a, b = lo.astype(float).copy(), hi.astype(float).copy()
    for _ in range(200):
        mid = 0.5 * (a + b)
        g = np.maximum(gap - (mid - x) ** 2, 1e-300)
        slope = (w * -2.0 * (mid - x) / g).sum(axis=0)
        a = np.where(slope > 0, mid, a)
        b = np.where(slope > 0, b, mid)
        if np.all(b - a <= 4 * np.finfo(float).eps * np.maximum(1.0, np.abs(mid))):
            break
    return 0.5 * (a + b)


class Nash(Engine):
    """Asymmetric Nash bargaining solution with quadratic losses, issue by issue."""

    name = "nash"
    min_actors = 1

    def __init__(self, disagreement: Literal["worst", "status_quo"] = "worst") -> None:
        self.disagreement = disagreement

    def _solve(self, problem: Problem, rng: np.random.Generator) -> Outcome:
        x = problem.position
        w = weights(problem.capability, problem.salience, problem.weight)
        lo, hi = hull(x, problem.standing)
        worst = np.maximum(x - problem.lower, problem.upper - x) ** 2
        gap = worst
        used_sq = np.zeros(problem.n_issues, dtype=bool)
        if self.disagreement == "status_quo":
            used_sq = ~np.isnan(problem.status_quo)
            sq = np.where(used_sq, problem.status_quo, 0.0)
            reach = np.abs(sq - x)
            active = w > 0  # the arena's participants only (w = 0 without standing)
            left = np.where(active, x - reach, -np.inf).max(axis=0)
            right = np.where(active, x + reach, np.inf).min(axis=0)
            gap = np.where(used_sq, reach**2, worst)
            lo = np.where(used_sq, np.maximum(left, lo), lo)
            hi = np.where(used_sq, np.minimum(right, hi), hi)
            # No point every actor prefers: the status quo stands.
            stuck = used_sq & (hi < lo)
            lo = np.where(stuck, sq, lo)
            hi = np.where(stuck, sq, hi)
        elif self.disagreement != "worst":
            raise AllianceLabError(
                f"must be 'worst' or 'status_quo', got {self.disagreement!r}", field="disagreement"
            )
        forecast = nash_solution(x, w, gap, lo, hi)
        return static_outcome(problem, forecast, disagreement_is_status_quo=used_sq)
