"""Global sensitivity: Sobol and Morris indices (SALib) of outcomes over a design.

* Sobol: first-order ``S1`` and total-order ``ST`` indices with bootstrap confidence
  intervals, Saltelli et al. (2010) estimators as in ``SALib.analyze.sobol`` (the outcomes
  of a design made with ``SALib.sample.sobol``, rows in Saltelli order);
* Morris: ``mu_star`` (mean absolute elementary effect; F. Campolongo, J. Cariboni &
  A. Saltelli, *Environ. Model. Softw.* 22, 2007) with its bootstrap confidence interval,
  and ``sigma`` (``SALib.analyze.morris``'s numbers, computed in NumPy; a design made with
  ``SALib.sample.morris`` and :data:`MORRIS_LEVELS` levels). An elementary effect is the
  change of the outcome per step of the design's unit scale, so only the direction of each
  step in ``X`` matters: ``X`` may be in parameter units after any increasing transform.

Arrays in, frames out: the design ``X`` ``(rows, P)``, the outcomes ``y`` ``(rows,)`` (or a
frame of them) and the parameter names; one row per parameter, largest first. A parameter
that cannot affect an outcome gets exactly zero.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

#: levels of the Morris grid (the sampler's and the analysis').
MORRIS_LEVELS = 4
#: the Morris step on the unit scale, ``levels / (2 (levels - 1))``.
_DELTA = MORRIS_LEVELS / (2.0 * (MORRIS_LEVELS - 1))
#: bootstrap resamples of Morris's ``mu_star_conf`` (SALib's default).
RESAMPLES = 100
#: parameters kept by :func:`morris_screening`.
TOP = 20


def salib_problem(names: Sequence[str]) -> dict[str, object]:
    """The SALib problem of a design on the unit hypercube with these parameters."""
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}


def sobol_indices(names: Sequence[str], y: np.ndarray, *, conf_level: float = 0.95,
                  seed: int = 0) -> pd.DataFrame:
    """S1, S1_conf, ST, ST_conf per parameter (``conf`` = half-width of the interval;
    its bootstrap is seeded by ``seed``)."""
    from SALib.analyze import sobol  # here, not at import: SALib loads scipy.stats (~0.4 s)

    # SALib's sobol.analyze ignores a seed of 0 (``if seed:``) and then bootstraps from
    # NumPy's global state; seed + 1 makes every seed, 0 included, reproducible
    si = sobol.analyze(salib_problem(names), np.asarray(y, dtype=float),
                       calc_second_order=False, conf_level=conf_level, seed=int(seed) + 1)
    df = pd.DataFrame({k: np.asarray(si[k]) for k in ("S1", "S1_conf", "ST", "ST_conf")},
                      index=pd.Index(list(names), name="parameter"))
    return df.sort_values("ST", ascending=False)


def _moves(X: np.ndarray) -> np.ndarray:
    """The steps of a Morris design ``X`` ``(rows, P)``: ``(trajectories, P, P)``, the change
    of each parameter (last axis) at each step (middle axis) of each trajectory."""
    rows, p = X.shape
    return np.diff(X.reshape(rows // (p + 1), p + 1, p), axis=1)


def _one_member_groups(metric: np.ndarray) -> np.ndarray:
    """``SALib.analyze.morris``'s mean of ``metric`` over groups of one parameter each: the
    sum of a value and ``P - 1`` masked zeros, which is the value except that -0.0 becomes
    0.0 when ``P > 1``."""
    return metric + 0.0 if len(metric) > 1 else metric


def morris_indices(names: Sequence[str], X: np.ndarray, y: np.ndarray, *,
                   conf_level: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """mu, mu_star, mu_star_conf, sigma per parameter: the elementary effects of Morris
    (1991), their mean, mean absolute value (Campolongo et al. 2007) and standard deviation,
    and the half-width of ``mu_star``'s bootstrap interval (100 resamples seeded by
    ``seed``). Reproduces ``SALib.analyze.morris.analyze`` with :data:`MORRIS_LEVELS` levels
    on :func:`salib_problem`, bit for bit, in NumPy (SALib would load scipy.stats, ~0.4 s)."""
    if not 0 < conf_level < 1:
        raise ValueError(f"conf_level must be between 0 and 1, got {conf_level}")
    from scipy.special import ndtri  # scipy.stats.norm.ppf is ndtri

    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    moves = _moves(X)
    up, down = moves > 0, moves < 0
    Y = y.reshape(len(moves), -1)

    def output(after: bool) -> np.ndarray:
        """The outcome after (or before) each parameter's step, ``(P, trajectories)``: as
        SALib picks it, a sum over the trajectory's points (so NaN or inf anywhere in a
        trajectory spreads to all its effects)."""
        late, early = ((1, 0), (0, 1)) if after else ((0, 1), (1, 0))
        pick = (np.pad(up, ((0, 0), late, (0, 0)), "constant")
                + np.pad(down, ((0, 0), early, (0, 0)), "constant"))
        return np.einsum("ik,ikj->ij", Y, pick).T  # type: ignore[no-any-return]

    ee = np.subtract(output(True), output(False)) / _DELTA  # (P, trajectories)
    rng = np.random.default_rng(seed)
    z = ndtri(0.5 + conf_level / 2)
    conf = np.asarray([z * np.average(np.abs(e[rng.integers(len(e), size=(RESAMPLES, len(e)))]),
                                      axis=1).std(ddof=1) for e in ee])
    df = pd.DataFrame({k: _one_member_groups(v) for k, v in (
        ("mu", np.average(ee, 1)), ("mu_star", np.average(np.abs(ee), 1)),
        ("mu_star_conf", conf), ("sigma", np.std(ee, axis=1, ddof=1)))},
        index=pd.Index(list(names), name="parameter"))
    return df.sort_values("mu_star", ascending=False)


def morris_mu_star(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Morris ``mu*`` ``(P, outcomes)`` of the outcome columns ``Y`` ``(rows, outcomes)``
    over a Morris design ``X`` ``(rows, P)``, all outcomes at once and without the bootstrap:
    the mean over the trajectories of ``|y_after - y_before| / delta`` at the step where
    ``X`` moves a parameter (0 for a parameter no step moves), as ``SALib.analyze.morris``
    computes it (the same numbers, in the same order of summation)."""
    X, Y = np.asarray(X, dtype=float), np.asarray(Y, dtype=float)
    steps = _moves(X) != 0  # (t, step, parameter)
    t, _, p = steps.shape
    jumps = np.abs(np.diff(Y.reshape(t, p + 1, -1), axis=1)) / _DELTA  # (t, step, outcome)
    ee = np.zeros((t, p, Y.shape[1]))
    traj, step, par = np.nonzero(steps)
    ee[traj, par] = jumps[traj, step]
    return ee.mean(axis=0)  # type: ignore[no-any-return]


def morris_screening(names: Sequence[str], X: np.ndarray, Y: pd.DataFrame, *,
                     top: int = TOP) -> pd.DataFrame:
    """Morris ``mu*`` (:func:`morris_mu_star`) of every outcome (column of ``Y``), each
    divided by its largest: the ``top`` parameters that matter most anywhere (rows) by
    outcome (columns)."""
    mu = pd.DataFrame(morris_mu_star(X, Y.to_numpy(dtype=float)),
                      index=pd.Index(list(names), name="parameter"), columns=Y.columns)
    largest = mu.max(axis=0)
    df = mu / largest.where(largest > 0, 1.0) * (largest > 0)
    keep = df.max(axis=1).sort_values(ascending=False).head(top).index
    return df.loc[keep]
