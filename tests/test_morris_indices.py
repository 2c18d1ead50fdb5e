"""``morris_indices`` (NumPy) equals ``SALib.analyze.morris.analyze`` bit for bit."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from alliancelab.analysis.sensitivity import (
    MORRIS_LEVELS,
    _one_member_groups,
    morris_indices,
    salib_problem,
)
from alliancelab.explore.samplers import morris_design


def _salib(names: list[str], X: np.ndarray, y: np.ndarray, conf_level: float,
           seed: int) -> pd.DataFrame:
    """What ``morris_indices`` computed when it called SALib."""
    from SALib.analyze import morris

    si = morris.analyze(salib_problem(names), X, y, conf_level=conf_level,
                        num_levels=MORRIS_LEVELS, seed=seed)
    df = pd.DataFrame({k: np.asarray(si[k], dtype=float)
                       for k in ("mu", "mu_star", "mu_star_conf", "sigma")},
                      index=pd.Index(names, name="parameter"))
    return df.sort_values("mu_star", ascending=False)


def _outcome(g: np.random.Generator, X: np.ndarray, kind: int) -> np.ndarray:
    """Outcomes with ties, zeros, signed zeros, constants, subnormal and non-finite
    values."""
    rows, k = X.shape
    if kind == 0:
        return np.sin(X @ g.normal(size=k) * 3.0)
    if kind == 1:  # few distinct values: ties and zero effects
        return np.round(X @ g.normal(size=k), 0)
    if kind == 2:  # constant
        return np.full(rows, float(g.normal()))
    if kind == 3:  # zeros of both signs
        return np.where(g.random(rows) < 0.5, 0.0, -0.0)
    if kind == 4:  # depends on one parameter only, in parameter units
        return 1e3 * X[:, -1] ** 2 - 7.0
    if kind == 5:  # subnormal: some mu underflow to -0.0 (which SALib's grouping makes 0.0)
        return np.asarray(g.integers(-3, 4, size=rows) * 5e-324, dtype=float)
    y = np.array(g.normal(size=rows), dtype=float)
    y *= 10.0 ** int(g.integers(-300, 300))
    y[g.integers(rows, size=2)] = [np.nan, np.inf, -np.inf][g.integers(3)]
    return y


@pytest.mark.parametrize("case", range(70))
def test_morris_indices_are_salibs_bit_for_bit(case: int) -> None:
    g = np.random.default_rng(case)
    k, trajectories = int(g.integers(1, 30)), int(g.integers(2, 25))
    names = [f"x{i}" for i in range(k)]
    X = morris_design(k, trajectories, case)
    if case % 3 == 1:  # parameter units, some steps rounded away
        X = np.round(X * 3) / 3 * 40.0 + 5.0
        X[:, 0] = 7.0
    y = _outcome(g, X, case % 7)
    for conf_level in (0.95, 0.9, 0.5, 0.999, float(g.random())):
        seed = int(g.integers(2**31))
        with np.errstate(all="ignore"):
            want = _salib(names, X, y, conf_level, seed)
            got = morris_indices(names, X, y, conf_level=conf_level, seed=seed)
        pd.testing.assert_frame_equal(got, want, check_exact=True)
        assert got.to_numpy().tobytes() == want.to_numpy().tobytes()
        assert got.index.tolist() == want.index.tolist()


@pytest.mark.parametrize("k", [1, 2, 7, 8, 9, 17, 40])
def test_one_member_groups_is_salibs_grouped_mean(k: int) -> None:
    from SALib.analyze.morris import _compute_grouped_metric
    from SALib.util import compute_groups_matrix

    g = np.random.default_rng(k)
    metric = g.choice([-0.0, 0.0, np.nan, -np.nan, np.inf, -np.inf, 1.5, -2e-308], size=k)
    groups, _ = compute_groups_matrix([f"x{i}" for i in range(k)])
    with np.errstate(invalid="ignore"):
        want = np.asarray(_compute_grouped_metric(metric, groups), dtype=float)
    assert _one_member_groups(metric).tobytes() == want.tobytes()


@pytest.mark.parametrize("conf_level", [0.0, 1.0, -0.5, 1.5])
def test_morris_indices_reject_a_conf_level_outside_0_1(conf_level: float) -> None:
    X = morris_design(3, 4, 0)
    with pytest.raises(ValueError, match="conf_level must be between 0 and 1"):
        morris_indices(["a", "b", "c"], X, X.sum(axis=1), conf_level=conf_level)


def test_morris_indices_do_not_load_scipy_stats() -> None:
    code = ("import sys; from alliancelab.explore.samplers import morris_design; "
            "from alliancelab.analysis.sensitivity import morris_indices; "
            "X = morris_design(3, 5, 0); morris_indices(['a', 'b', 'c'], X, X.sum(axis=1)); "
            "print('scipy.stats' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
