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

How far to trust a box (:meth:`PrimResult.quasi_p`, :meth:`PrimResult.stability`,
:meth:`PrimResult.warnings`):

* **Quasi-p-value of a restriction** (Bryant & Lempert 2010, section 3.3; J. H. Kwakkel,
  "The Exploratory Modeling Workbench", *Environmental Modelling & Software* 96 (2017)
  239-250, and the EMA Workbench ``prim`` documentation, which report the same statistic).
  For the box B with ``T`` points of which ``H`` are cases of interest, and a restricted
  dimension j, let B_j be B with the restriction on j removed (that dimension back to its
  full range) and ``p_j`` = density of B_j. Then

      qp_j = P(X >= H),  X ~ Binomial(T, p_j)

  a one-sided binomial test: how likely a box of ``T`` points drawn at B_j's density would
  be at least as dense as B. A large qp_j says the restriction on j adds little. It is
  "quasi" because the box was chosen to look dense on the same data (so it is optimistic).
* **Resampling stability**: PRIM is rerun on ``n_resamples`` bootstrap resamples of the
  points (with replacement; at most ``max_points`` per resample, an m-out-of-n bootstrap
  when the data are larger) and the box is picked in each by the same rule
  (:meth:`PrimResult.select` with the same ``min_coverage``); the stability of a
  dimension is the share of resamples whose box restricts it. A restriction found in few
  resamples is an artefact of this sample.
* **Small samples**: a box is flagged when it holds fewer than :data:`CASES_PER_DIMENSION`
  cases of interest per restricted dimension (the "events per variable" rule of thumb of
  regression, Peduzzi et al., *J. Clin. Epidemiol.* 49 (1996) 1373-1379), when the whole
  sample has fewer than :data:`MIN_POINTS` points, when a restriction's quasi-p-value is
  at least :data:`QP_LEVEL`, or when a restricted dimension is restricted in fewer than
  :data:`MIN_STABILITY` of the resamples. PRIM on 50 points can peel down to a box of
  density 1.0 restricting 15 dimensions; these rules say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..core.display import html_card, names, short
from ..core.errors import AllianceLabError

_FEW = 8  # a dimension with at most this many distinct values is peeled value by value

#: a box should hold at least this many cases of interest per restricted dimension
CASES_PER_DIMENSION = 10
#: fewer points than this in all: every box is flagged as resting on a small sample
MIN_POINTS = 200
#: a restriction whose quasi-p-value is at least this is flagged as not significant
QP_LEVEL = 0.05
#: a restricted dimension found in fewer than this share of the resamples is flagged
MIN_STABILITY = 0.5
#: bootstrap resamples behind :meth:`PrimResult.stability` by default
RESAMPLES = 30


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
    """The peeling (and pasting) trajectory of one PRIM run on points ``x`` (n, d) with the
    binary target ``t`` (n,), run with ``options`` (``alpha``, ``mass_min``, ``paste``)."""

    def __init__(self, columns: list[str], boxes: list[Box], lo: np.ndarray,
                 hi: np.ndarray, x: np.ndarray, t: np.ndarray,
                 options: dict[str, Any]) -> None:
        self.columns = columns
        self.boxes = boxes
        self._lo, self._hi = lo, hi
        self._x, self._t = x, t
        self.options = dict(options)
        self._stability: dict[tuple[float, int, int, int], pd.Series] = {}

    @property
    def n_points(self) -> int:
        """How many points PRIM ran on."""
        return len(self._t)

    # -- display: the box an analyst would pick (``select(0.5)``), not every array ---------
    def _facts(self) -> list[str]:
        b = self.select(0.5)
        box = self.boxes[b]
        return [f"{len(self.boxes)} boxes over {len(self.columns)} dimensions",
                f"box {b} (densest with coverage >= 0.5): coverage {box.coverage:.2f}, "
                f"density {box.density:.2f}, mass {box.mass:.2f}",
                f"restricts {len(box.restricted)}: " + names(list(box.restricted), 3)
                if box.restricted else "restricts nothing"]

    def __repr__(self) -> str:
        return short("PrimResult", *self._facts())

    def _repr_html_(self) -> str:
        b = self.select(0.5)
        lim = self.limits(b)
        rows = [(str(k), *(float(v) for v in r)) for k, r in zip(lim.index, lim.to_numpy(),
                                                                 strict=True)]
        return html_card("PRIM scenario discovery", self._facts(),
                         ("parameter", "low", "high", "min", "max", "quasi-p"), rows)

    def counts(self, box: int = -1) -> tuple[int, int]:
        """(points inside ``box``, cases of interest inside it)."""
        b = self.boxes[box]
        inside = _inside(self._x, b.lower, b.upper)
        return int(inside.sum()), int(self._t[inside].sum())

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
        """The restricted dimensions of ``box`` with their bounds, the full range and the
        restriction's quasi-p-value (:meth:`quasi_p`)."""
        b = self.boxes[box]
        qp = self.quasi_p(box)
        rows = []
        for j, c in enumerate(self.columns):
            if c in b.restricted:
                rows.append((c, b.lower[j], b.upper[j], self._lo[j], self._hi[j], qp[c]))
        return pd.DataFrame(rows, columns=["parameter", "low", "high", "min", "max", "quasi-p"]
                            ).set_index("parameter")

    def quasi_p(self, box: int = -1) -> pd.Series:
        """The quasi-p-value of each restricted dimension of ``box`` (module docstring):
        the one-sided binomial probability of a box of the same size at the density of the
        box without that restriction being at least as dense. Indexed by dimension."""
        b = self.boxes[box]
        size, hits = self.counts(box)
        out = {}
        for j, c in enumerate(self.columns):
            if c not in b.restricted:
                continue
            lower, upper = b.lower.copy(), b.upper.copy()
            lower[j], upper[j] = self._lo[j], self._hi[j]
            wider = _inside(self._x, lower, upper)
            p_j = float(self._t[wider].mean())
            out[c] = binomial_tail(hits, size, p_j)
        return pd.Series(out, name="quasi-p", dtype=float)

    def stability(self, min_coverage: float = 0.5, *, n_resamples: int = RESAMPLES, seed: int = 0,
                  max_points: int = 2000) -> pd.Series:
        """For every dimension, the share of ``n_resamples`` bootstrap resamples (of at most
        ``max_points`` points each, drawn with replacement, seeded by ``seed``) in which PRIM,
        run with the same options and its box picked by ``select(min_coverage)``, restricts
        that dimension (module docstring). Indexed by dimension, largest first; computed
        once per set of arguments."""
        key = (float(min_coverage), int(n_resamples), int(seed), int(max_points))
        if key not in self._stability:
            self._stability[key] = self._bootstrap(*key)
        return self._stability[key]

    def _bootstrap(self, min_coverage: float, n_resamples: int, seed: int,
                   max_points: int) -> pd.Series:
        if n_resamples < 1:
            raise AllianceLabError(f"n_resamples must be >= 1, got {n_resamples}",
                                   field="n_resamples")
        rng = np.random.default_rng(seed)
        n = self.n_points
        m = min(n, max_points)
        hits = pd.Series(0.0, index=self.columns)
        done = 0
        for _ in range(n_resamples):
            idx = rng.integers(0, n, size=m)
            t = self._t[idx]
            if t.all() or not t.any():
                continue  # no box to find in a resample without both kinds of points
            res = prim(pd.DataFrame(self._x[idx], columns=self.columns), t, **self.options)
            hits[list(res.boxes[res.select(min_coverage)].restricted)] += 1
            done += 1
        share = hits / max(done, 1)
        return share.sort_values(ascending=False, kind="stable").rename("stability")

    def assess(self, box: int, min_coverage: float = 0.5) -> tuple[pd.DataFrame, list[str]]:
        """What the report and the web app show of ``box`` (picked with
        ``select(min_coverage)``): :meth:`limits` with a ``stability`` column
        (:meth:`stability` with its defaults) and :meth:`warnings`."""
        st = self.stability(min_coverage)
        lim = self.limits(box)
        lim["stability"] = [float(st.get(c, 0.0)) for c in lim.index]
        return lim, self.warnings(box, st)

    def warnings(self, box: int = -1, stability: pd.Series | None = None) -> list[str]:
        """Plain-language warnings that ``box`` may describe this sample rather than the
        model (the rules of the module docstring); ``stability`` from :meth:`stability`
        adds the resampling rule. Empty when none applies."""
        b = self.boxes[box]
        k = len(b.restricted)
        size, hits = self.counts(box)
        out = []
        if self.n_points < MIN_POINTS:
            out.append(f"PRIM ran on only {self.n_points} points (fewer than {MIN_POINTS}): "
                       "treat the box as a hint and confirm it with a larger exploration.")
        if k and hits < CASES_PER_DIMENSION * k:
            out.append(f"The box restricts {k} dimension{'s' if k > 1 else ''} with only "
                       f"{hits} cases of interest inside it (fewer than "
                       f"{CASES_PER_DIMENSION} per restricted dimension): its density of "
                       f"{b.density:.2f} may be fitted to noise.")
        qp = self.quasi_p(box)
        weak = [str(c) for c, v in qp.items() if v >= QP_LEVEL]
        if weak:
            out.append(f"{len(weak)} of its {k} restrictions are not significant (quasi-p "
                       f">= {QP_LEVEL}): {', '.join(weak[:5])}"
                       + (", ..." if len(weak) > 5 else "") + ".")
        if stability is not None:
            shaky = [c for c in b.restricted if stability.get(c, 0.0) < MIN_STABILITY]
            if shaky:
                out.append(f"{len(shaky)} of its {k} restrictions appear in fewer than "
                           f"{MIN_STABILITY:.0%} of the bootstrap resamples: "
                           f"{', '.join(shaky[:5])}" + (", ..." if len(shaky) > 5 else "")
                           + ".")
        return out

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
    srt: np.ndarray | None = np.sort(x, axis=0)  # the first box's: for _distinct and its peel
    few = _distinct(x, srt) <= _FEW

    def make(lower: np.ndarray, upper: np.ndarray, inside: np.ndarray, pasted: bool) -> Box:
        k = int(inside.sum())
        hits = int(t[inside].sum())
        restricted = tuple(cols[j] for j in np.flatnonzero((lower > lo_all) | (upper < hi_all)))
        return Box(lower.copy(), upper.copy(), hits / max(int(t.sum()), 1),
                   hits / k if k else 0.0, k / n, restricted, pasted)

    lower, upper = lo_all.copy(), hi_all.copy()
    inside = np.ones(n, dtype=bool)
    boxes = [make(lower, upper, inside, False)]
    while True:
        best = _best_peel(x[inside], t[inside], few, alpha, mass_min * n, srt)
        srt = None
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
    return PrimResult(cols, boxes, lo_all, hi_all, x, t,
                      {"alpha": alpha, "mass_min": mass_min, "paste": paste})


def _best_peel(xi: np.ndarray, ti: np.ndarray, few: np.ndarray, alpha: float,
               min_kept: float, srt: np.ndarray | None = None
               ) -> tuple[float, int, int, float] | None:
    """The peel of the box holding points ``xi`` (targets ``ti``) that leaves the highest
    mean, as (mean, dimension, side 0 = lower / 1 = upper, new bound); ties go to the peel
    that keeps more points. None when no peel keeps at least ``min_kept`` points. ``srt`` is
    ``np.sort(xi, axis=0)`` when the caller has it."""
    k = len(ti)
    # candidate bounds of every dimension at once: quantiles of the continuous ones,
    # the second value from either end of the few-valued ones (nan: no candidate)
    bounds = np.full((2, xi.shape[1]), np.nan)
    cont = np.flatnonzero(~few)
    if len(cont):
        xc = xi[:, cont]
        srt = np.sort(xc, axis=0) if srt is None else srt[:, cont]
        bounds[:, cont] = _quantiles(xc, srt, np.array([alpha, 1 - alpha]))
    for jf in np.flatnonzero(few):
        vals = np.unique(xi[:, jf])
        if len(vals) > 1:
            bounds[:, jf] = vals[1], vals[-2]
    kept_all = np.empty((2, xi.shape[1]), dtype=np.int64)
    hits_all = np.empty((2, xi.shape[1]), dtype=np.int64)
    for side, keep in ((0, xi >= bounds[0]), (1, xi <= bounds[1])):
        kept_all[side] = keep.sum(axis=0)
        hits_all[side] = keep[ti].sum(axis=0)  # the target is 0/1: counts are exact
    # the best candidate: highest mean, then most points kept, then the first in the order
    # dimension by dimension, lower side first (the candidates laid out in that order)
    kept, hits, bound = kept_all.T.ravel(), hits_all.T.ravel(), bounds.T.ravel()
    ok = ~np.isnan(bound) & (kept != k) & (kept >= min_kept) & (kept != 0)
    if not ok.any():
        return None
    mean = np.where(ok, hits / np.where(ok, kept, 1), -np.inf)
    top = mean == mean[ok].max()
    first = int(np.flatnonzero(top & (kept == kept[top].max()))[0])
    return float(mean[first]), first // 2, first % 2, float(bound[first])


def _quantiles(x: np.ndarray, srt: np.ndarray, qs: np.ndarray) -> np.ndarray:
    """``np.quantile(x, qs, axis=0)`` (method ``linear``, Hyndman & Fan's definition 7) from
    ``srt = np.sort(x, axis=0)``: NumPy's index arithmetic and interpolation (``_quantile``,
    ``_get_indexes``, ``_lerp``: ``a + (b - a) g``, or ``b - (b - a) (1 - g)`` for ``g >=
    0.5``; a column holding NaN gives NaN) on the sorted columns, the same numbers without a
    partition per quantile. Equal numbers are the same bits except 0.0 and -0.0 (which of
    them a partition picks depends on the layout of ``x``, and NumPy's sort may turn -0.0
    into 0.0): ``x`` holding -0.0 goes to ``np.quantile`` itself."""
    if ((x == 0) & np.signbit(x)).any():
        return np.quantile(x, qs, axis=0)  # type: ignore[no-any-return]
    k = len(srt)
    virtual = (k - 1) * qs
    prev = np.floor(virtual)
    nxt = prev + 1
    top = virtual >= k - 1  # at the last point: the largest value
    prev[top], nxt[top] = -1, -1
    prev_i, next_i = prev.astype(np.intp), nxt.astype(np.intp)
    gamma = (virtual - prev_i)[:, None]
    a, b = srt[prev_i], srt[next_i]
    diff = b - a
    out = a + diff * gamma
    np.subtract(b, diff * (1 - gamma), out=out, where=gamma >= 0.5)
    nan = np.isnan(srt[-1])  # NaN sorts last
    out[:, nan] = srt[-1, nan]
    return out  # type: ignore[no-any-return]


def _distinct(x: np.ndarray, srt: np.ndarray | None = None) -> np.ndarray:
    """The number of distinct values in each column of ``x`` (NaN counted once, as
    ``np.unique`` counts it); ``srt`` is ``np.sort(x, axis=0)`` when the caller has it."""
    if not len(x):
        return np.zeros(x.shape[1], dtype=int)
    srt = np.sort(x, axis=0) if srt is None else srt
    out = 1 + (np.diff(srt, axis=0) != 0).sum(axis=0)
    for j in np.flatnonzero(np.isnan(srt[-1])):
        out[j] = len(np.unique(x[:, j]))
    return out  # type: ignore[no-any-return]


def binomial_tail(hits: int, size: int, p: float) -> float:
    """P(X >= hits) for X ~ Binomial(size, p): ``scipy.stats.binom.sf(hits - 1, size, p)``,
    computed as the regularised incomplete beta I_p(hits, size - hits + 1) (the same Boost
    ibeta, bit for bit) without loading scipy.stats (~0.5 s)."""
    from scipy.special import betainc

    if hits <= 0:
        return 1.0
    if hits > size:
        return 0.0
    return float(betainc(hits, size - hits + 1, p))


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
        # only a restricted bound can be widened
        for j in map(int, np.flatnonzero((lower > lo_all) | (upper < hi_all))):
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
