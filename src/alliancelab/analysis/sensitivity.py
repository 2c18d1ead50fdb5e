"""Global sensitivity: Sobol and Morris indices (SALib) of outcomes over a design.

* Sobol: first-order ``S1`` and total-order ``ST`` indices with bootstrap confidence
  intervals, Saltelli et al. (2010) estimators as in ``SALib.analyze.sobol`` (the outcomes
  of a design made with ``SALib.sample.sobol``, rows in Saltelli order);
* Morris: ``mu_star`` (mean absolute elementary effect; F. Campolongo, J. Cariboni &
  A. Saltelli, *Environ. Model. Softw.* 22, 2007) with its bootstrap confidence interval,
  and ``sigma`` (``SALib.analyze.morris``; a design made with ``SALib.sample.morris`` and
  :data:`MORRIS_LEVELS` levels). An elementary effect is the change of the outcome per step
  of the design's unit scale, so only the direction of each step in ``X`` matters: ``X`` may
  be in parameter units after any increasing transform.

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


def morris_indices(names: Sequence[str], X: np.ndarray, y: np.ndarray, *,
                   conf_level: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """mu, mu_star, mu_star_conf, sigma per parameter."""
    from SALib.analyze import morris  # here, not at import (as in sobol_indices)

    si = morris.analyze(salib_problem(names), np.asarray(X, dtype=float),
                        np.asarray(y, dtype=float), conf_level=conf_level,
                        num_levels=MORRIS_LEVELS, seed=seed)
    df = pd.DataFrame({k: np.asarray(si[k], dtype=float)
                       for k in ("mu", "mu_star", "mu_star_conf", "sigma")},
                      index=pd.Index(list(names), name="parameter"))
    return df.sort_values("mu_star", ascending=False)


def morris_mu_star(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Morris ``mu*`` ``(P, outcomes)`` of the outcome columns ``Y`` ``(rows, outcomes)``
    over a Morris design ``X`` ``(rows, P)``, all outcomes at once and without the bootstrap:
    the mean over the trajectories of ``|y_after - y_before| / delta`` at the step where
    ``X`` moves a parameter (0 for a parameter no step moves), as ``SALib.analyze.morris``
    computes it (the same numbers, in the same order of summation)."""
    X, Y = np.asarray(X, dtype=float), np.asarray(Y, dtype=float)
    rows, p = X.shape
    t = rows // (p + 1)
    steps = np.diff(X.reshape(t, p + 1, p), axis=1) != 0  # (t, step, parameter)
    jumps = np.abs(np.diff(Y.reshape(t, p + 1, -1), axis=1)) / (MORRIS_LEVELS / (
        2.0 * (MORRIS_LEVELS - 1)))  # (t, step, outcome)
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
