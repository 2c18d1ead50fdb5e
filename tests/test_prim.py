"""PRIM's quasi-p-values, resampling stability and small-sample warnings
(:mod:`alliancelab.analysis.discovery`), on synthetic designs whose true box is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from alliancelab.analysis import discovery
from alliancelab.analysis.discovery import prim
from alliancelab.core.errors import AllianceLabError


def _design(n: int, d: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.uniform(size=(n, d)), columns=[f"x{j}" for j in range(d)])


def _true_box(X: pd.DataFrame) -> np.ndarray:
    """The cases of interest: x0 > 0.6 and x1 < 0.4 (mass 0.16); other dimensions inert."""
    return ((X["x0"] > 0.6) & (X["x1"] < 0.4)).to_numpy()


@pytest.fixture(scope="module")
def known() -> tuple[pd.DataFrame, np.ndarray, discovery.PrimResult]:
    X = _design(1500, 6, seed=3)
    y = _true_box(X)
    return X, y, prim(X, y)


def test_the_true_restrictions_have_tiny_quasi_p_values(known):
    X, y, res = known
    b = res.select(0.5)
    qp = res.quasi_p(b)
    assert {"x0", "x1"} <= set(qp.index)
    assert qp["x0"] < 1e-6 and qp["x1"] < 1e-6
    assert res.limits(b).loc["x0", "quasi-p"] == qp["x0"]


def test_quasi_p_is_the_one_sided_binomial_test_of_the_box_against_the_box_without_it(known):
    X, y, res = known
    b = res.select(0.5)
    box = res.boxes[b]
    x = X.to_numpy()
    inside = ((x >= box.lower) & (x <= box.upper)).all(axis=1)
    for j, c in enumerate(X.columns):
        if c not in box.restricted:
            continue
        lo, hi = box.lower.copy(), box.upper.copy()
        lo[j], hi[j] = x[:, j].min(), x[:, j].max()
        wider = ((x >= lo) & (x <= hi)).all(axis=1)
        expected = stats.binomtest(int(y[inside].sum()), int(inside.sum()), y[wider].mean(),
                                   alternative="greater").pvalue
        assert res.quasi_p(b)[c] == pytest.approx(expected, rel=1e-9, abs=1e-300)


@given(size=st.integers(0, 5000), share=st.floats(0, 1), p=st.floats(0, 1))
def test_the_binomial_tail_is_scipys_bit_for_bit(size, share, p):
    hits = round(share * size)
    assert discovery.binomial_tail(hits, size, p) == float(stats.binom.sf(hits - 1, size, p))


def test_a_restriction_on_an_inert_dimension_is_not_significant():
    # the cases of interest depend on x0 only; a box restricted on x0 and on inert x3 gives
    # x3 a large quasi-p-value
    X = _design(800, 4, seed=5)
    y = (X["x0"] > 0.7).to_numpy()
    res = prim(X, y, paste=False)
    fake = discovery.Box(np.array([0.7, 0, 0, 0.2]), np.array([1.0, 1, 1, 0.9]), 0, 0, 0,
                         ("x0", "x3"))
    res.boxes.append(fake)
    qp = res.quasi_p(-1)
    assert qp["x0"] < 1e-6
    assert qp["x3"] > 0.05
    assert any("not significant" in w and "x3" in w for w in res.warnings(-1))


def test_resampling_finds_the_true_dimensions_in_almost_every_resample(known):
    X, y, res = known
    st = res.stability(0.5, n_resamples=12, seed=1)
    assert set(st.index) == set(X.columns)
    assert st["x0"] >= 0.9 and st["x1"] >= 0.9
    assert st.between(0, 1).all()
    # computed once per set of arguments
    assert res.stability(0.5, n_resamples=12, seed=1) is st


def test_a_large_sample_with_a_clear_box_gets_no_warning(known):
    X, y, res = known
    b = res.select(0.5)
    restricted = set(res.boxes[b].restricted)
    assert {"x0", "x1"} <= restricted
    st = res.stability(0.5, n_resamples=12, seed=1)
    # inert dimensions PRIM may have clipped slightly are the only candidates for a warning
    for w in res.warnings(b, st):
        assert "x0" not in w and "x1" not in w and "points" not in w


def test_prim_on_fifty_points_and_fifteen_dimensions_is_flagged():
    X = _design(50, 15, seed=2)
    y = np.random.default_rng(4).uniform(size=50) < 0.25  # no structure at all
    res = prim(X, y)
    b = len(res.boxes) - 1
    warnings = res.warnings(b, res.stability(0.5, n_resamples=8, seed=0))
    assert any("only 50 points" in w for w in warnings)
    if res.boxes[b].restricted:
        hits = res.counts(b)[1]
        k = len(res.boxes[b].restricted)
        assert hits < discovery.CASES_PER_DIMENSION * k
        assert any(f"restricts {k} dimension" in w for w in warnings)


def test_counts_agree_with_the_box_statistics(known):
    X, y, res = known
    for i in (0, len(res.boxes) // 2, len(res.boxes) - 1):
        size, hits = res.counts(i)
        assert size / len(y) == pytest.approx(res.boxes[i].mass)
        assert hits / y.sum() == pytest.approx(res.boxes[i].coverage)


def test_stability_refuses_zero_resamples(known):
    with pytest.raises(AllianceLabError, match="n_resamples must be >= 1"):
        known[2].stability(0.5, n_resamples=0)


def _peel_one_by_one(xi, ti, few, alpha, min_kept):  # noqa: ANN001, ANN202
    """The peel rule of ``_best_peel`` candidate by candidate: highest mean, then most points
    kept, then the first, dimension by dimension and the lower side first."""
    best = None
    for j in range(xi.shape[1]):
        col = xi[:, j]
        if few[j]:
            vals = np.unique(col)
            if len(vals) < 2:
                continue
            bounds = (vals[1], vals[-2])
        else:
            bounds = tuple(np.quantile(col, [alpha, 1 - alpha]))
        for side, keep in ((0, col >= bounds[0]), (1, col <= bounds[1])):
            kept = int(keep.sum())
            if kept == len(ti) or kept < min_kept or kept == 0:
                continue
            mean = int(keep[ti].sum()) / kept
            if best is None or mean > best[0] or (mean == best[0] and kept > best[4]):
                best = (mean, j, side, float(bounds[side]), kept)
    return None if best is None else best[:4]


@pytest.mark.parametrize("seed", range(8))
def test_the_best_peel_is_chosen_as_candidate_by_candidate(seed: int) -> None:
    """``_best_peel`` weighs every candidate at once; it picks what the rule picks one
    candidate at a time, ties included (coarse grids make many), and counts distinct
    values as ``np.unique`` does."""
    from alliancelab.analysis.discovery import _FEW, _best_peel, _distinct

    g = np.random.default_rng(seed)
    for _ in range(50):
        k, d = int(g.integers(2, 80)), int(g.integers(1, 10))
        xi = np.round(g.random((k, d)) * g.integers(1, 5), 0) if g.random() < 0.6 \
            else g.random((k, d))
        ti = g.random(k) < 0.4
        few = np.array([len(np.unique(xi[:, j])) <= _FEW for j in range(d)])
        assert _distinct(xi).tolist() == [len(np.unique(xi[:, j])) for j in range(d)]
        min_kept = float(g.integers(1, 6))
        assert _best_peel(xi, ti, few, 0.05, min_kept) == _peel_one_by_one(
            xi, ti, few, 0.05, min_kept)


@pytest.mark.parametrize("seed", range(4))
def test_quantiles_of_sorted_columns_are_numpys(seed: int) -> None:
    """PRIM's candidate bounds (``_quantiles`` of the sorted columns) are ``np.quantile``'s
    bit for bit: any size, ties (0.0 and -0.0 too), infinities, NaN columns, any alpha."""
    rng = np.random.default_rng(seed)
    for _ in range(500):
        k, d = int(rng.integers(1, 120)), int(rng.integers(1, 5))
        x = rng.normal(0, 10.0 ** rng.integers(-3, 4), (k, d))
        if rng.random() < 0.3:
            x = np.round(x)  # ties
        for value in (np.nan, np.inf, -np.inf):
            if rng.random() < 0.2:
                x[rng.random((k, d)) < 0.05] = value
        alpha = float(rng.uniform(0.001, 0.499))
        with np.errstate(invalid="ignore"):
            want = np.quantile(x, [alpha, 1 - alpha], axis=0)
            got = discovery._quantiles(x, np.sort(x, axis=0), np.array([alpha, 1 - alpha]))
        assert np.array_equal(want, got, equal_nan=True)
        assert np.array_equal(np.signbit(want), np.signbit(got))
