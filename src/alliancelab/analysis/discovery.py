"""Scenario discovery with PRIM, the Patient Rule Induction Method.

J. H. Friedman & N. I. Fisher, "Bump hunting in high-dimensional data", *Statistics and
Computing* 9 (1999) 123-143; used for scenario discovery by B. P. Bryant & R. J. Lempert,
*Technol. Forecast. Soc. Change* 77 (2010) 34-49, and in EMA Workbench's ``prim`` module.

* **Peeling** (F&F section 4.1): from the box holding every point, each step tries, on
  every dimension, to remove the ``alpha`` share of the points in the box with the lowest
  or the highest values (for a dimension with few distinct values, e.g. a shock or a lever,
  all the points with one value); it keeps the peel that leaves the highest mean of the
  target in the box. Peeling stops when the box would hold less than ``mass_min`` of the
  data or no peel raises the mean; every box on the way is kept - the *peeling trajectory*.
* **Pasting** (F&F section 4.3): the last box is then widened, one bound at a time, by
  ``alpha`` of its points where that raises the mean, until no paste does.

For a box: coverage = targeted points inside / all targeted points; density = targeted
points inside / points inside (the mean of the target); mass = points inside / all points.
The analyst picks a box on the coverage-density trade-off
(:meth:`PrimResult.select`; drawn by :func:`alliancelab.report.figures_explore.tradeoff_plot`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..core.errors import AllianceLabError

_FEW = 8  # a dimension with at most this many distinct values is peeled value by value


@dataclass(frozen=True)
class Box:
    """One box of the trajectory: inclusive bounds per dimension and its statistics."""

    lower: np.ndarray
    upper: np.ndarray
    coverage: float
    density: float
    mass: float
    restricted: tuple[str, ...]
    pasted: bool = False


class PrimResult:
    """The peeling (and pasting) trajectory of one PRIM run."""

    def __init__(self, columns: list[str], boxes: list[Box], lo: np.ndarray,
                 hi: np.ndarray) -> None:
        self.columns = columns
        self.boxes = boxes
        self._lo, self._hi = lo, hi

    def trajectory(self) -> pd.DataFrame:
        """One row per box: coverage, density, mass, number of restricted dimensions."""
        return pd.DataFrame({
            "box": range(len(self.boxes)),
            "coverage": [b.coverage for b in self.boxes],
            "density": [b.density for b in self.boxes],
            "mass": [b.mass for b in self.boxes],
            "restricted": [len(b.restricted) for b in self.boxes],
            "pasted": [b.pasted for b in self.boxes],
        })

    def limits(self, box: int = -1) -> pd.DataFrame:
        """The restricted dimensions of ``box`` with their bounds and the full range."""
        b = self.boxes[box]
        rows = []
        for j, c in enumerate(self.columns):
            if c in b.restricted:
                rows.append((c, b.lower[j], b.upper[j], self._lo[j], self._hi[j]))
        return pd.DataFrame(rows, columns=["parameter", "low", "high", "min", "max"]
                            ).set_index("parameter")

    def select(self, min_coverage: float = 0.5) -> int:
        """Index of the densest box whose coverage is at least ``min_coverage``."""
        best, idx = -1.0, 0
        for i, b in enumerate(self.boxes):
            if b.coverage >= min_coverage and b.density > best:
                best, idx = b.density, i
        return idx


def prim(X: pd.DataFrame, y: np.ndarray, *, alpha: float = 0.05, mass_min: float = 0.05,
         paste: bool = True) -> PrimResult:
    """Run PRIM on the numeric or boolean columns of ``X`` for the binary target ``y``."""
    if not 0 < alpha < 0.5:
        raise AllianceLabError(f"alpha must lie in (0, 0.5), got {alpha}", field="alpha")
    x = X.to_numpy(dtype=float)
    t = np.asarray(y, dtype=bool)
    if len(t) != len(x) or len(t) == 0:
        raise AllianceLabError("X and y need the same, positive, number of rows", field="y")
    n = len(t)
    cols = list(X.columns)
    lo_all, hi_all = x.min(axis=0), x.max(axis=0)
    few = np.array([len(np.unique(x[:, j])) <= _FEW for j in range(x.shape[1])], dtype=bool)

    def make(lower: np.ndarray, upper: np.ndarray, inside: np.ndarray, pasted: bool) -> Box:
        k = int(inside.sum())
        hits = int(t[inside].sum())
        restricted = tuple(c for j, c in enumerate(cols)
                           if lower[j] > lo_all[j] or upper[j] < hi_all[j])
        return Box(lower.copy(), upper.copy(), hits / max(int(t.sum()), 1),
                   hits / k if k else 0.0, k / n, restricted, pasted)

    lower, upper = lo_all.copy(), hi_all.copy()
    inside = np.ones(n, dtype=bool)
    boxes = [make(lower, upper, inside, False)]
    while True:
        best = _best_peel(x[inside], t[inside], few, alpha, mass_min * n)
        if best is None or best[0] < t[inside].mean() - 1e-12:
            break
        m_new, j, side, bound = best
        if side == 0:
            lower[j] = bound
        else:
            upper[j] = bound
        idx = np.flatnonzero(inside)
        xj = x[idx, j]
        inside = np.zeros(n, dtype=bool)
        inside[idx[xj >= bound if side == 0 else xj <= bound]] = True
        boxes.append(make(lower, upper, inside, False))
        if m_new >= 1.0:
            break
    if paste and len(boxes) > 1:
        lower, upper, inside = _paste(x, t, lower, upper, inside, alpha, lo_all, hi_all)
        if not np.array_equal(inside, _inside(x, boxes[-1].lower, boxes[-1].upper)):
            boxes.append(make(lower, upper, inside, True))
    return PrimResult(cols, boxes, lo_all, hi_all)


def _best_peel(xi: np.ndarray, ti: np.ndarray, few: np.ndarray, alpha: float,
               min_kept: float) -> tuple[float, int, int, float] | None:
    """The peel of the box holding points ``xi`` (targets ``ti``) that leaves the highest
    mean, as (mean, dimension, side 0 = lower / 1 = upper, new bound); ties go to the peel
    that keeps more points. None when no peel keeps at least ``min_kept`` points."""
    k = len(ti)
    # candidate bounds of every dimension at once: quantiles of the continuous ones,
    # the second value from either end of the few-valued ones (nan: no candidate)
    bounds = np.full((2, xi.shape[1]), np.nan)
    cont = np.flatnonzero(~few)
    if len(cont):
        bounds[:, cont] = np.quantile(xi[:, cont], [alpha, 1 - alpha], axis=0)
    for jf in np.flatnonzero(few):
        vals = np.unique(xi[:, jf])
        if len(vals) > 1:
            bounds[:, jf] = vals[1], vals[-2]
    kept_all = np.empty((2, xi.shape[1]), dtype=np.int64)
    hits_all = np.empty((2, xi.shape[1]), dtype=np.int64)
    for side, keep in ((0, xi >= bounds[0]), (1, xi <= bounds[1])):
        kept_all[side] = keep.sum(axis=0)
        hits_all[side] = keep[ti].sum(axis=0)  # the target is 0/1: counts are exact
    best: tuple[float, int, int, float, int] | None = None
    for j in range(xi.shape[1]):
        for side in (0, 1):
            kept = int(kept_all[side, j])
            if np.isnan(bounds[side, j]) or kept == k or kept < min_kept or kept == 0:
                continue
            m_new = hits_all[side, j] / kept
            if best is None or m_new > best[0] or (m_new == best[0] and kept > best[4]):
                best = (float(m_new), j, side, float(bounds[side, j]), kept)
    return None if best is None else best[:4]


def _inside(x: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    return np.asarray(((x >= lower) & (x <= upper)).all(axis=1))


def _paste(x: np.ndarray, t: np.ndarray, lower: np.ndarray, upper: np.ndarray,
           inside: np.ndarray, alpha: float, lo_all: np.ndarray, hi_all: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Friedman & Fisher's pasting: widen one bound at a time while the mean rises."""
    lower, upper = lower.copy(), upper.copy()
    while True:
        k = int(inside.sum())
        mean = t[inside].mean()
        step = max(1, int(round(alpha * k)))
        best: tuple[float, int, int, float] | None = None
        inb = (x >= lower) & (x <= upper)
        count = inb.sum(axis=1)
        for j in range(x.shape[1]):
            others = (count - inb[:, j]) == x.shape[1] - 1
            for side in (0, 1):
                if side == 0 and lower[j] <= lo_all[j] or side == 1 and upper[j] >= hi_all[j]:
                    continue
                out = others & ((x[:, j] < lower[j]) if side == 0 else (x[:, j] > upper[j]))
                vals = np.sort(x[out, j])
                if len(vals) == 0:
                    continue
                take = min(step, len(vals))
                bound = vals[-take] if side == 0 else vals[take - 1]
                trial_lo, trial_hi = lower.copy(), upper.copy()
                if side == 0:
                    trial_lo[j] = bound
                else:
                    trial_hi[j] = bound
                m = t[_inside(x, trial_lo, trial_hi)].mean()
                if m > mean + 1e-12 and (best is None or m > best[0]):
                    best = (float(m), j, side, float(bound))
        if best is None:
            return lower, upper, inside
        _, j, side, bound = best
        if side == 0:
            lower[j] = bound
        else:
            upper[j] = bound
        inside = _inside(x, lower, upper)
