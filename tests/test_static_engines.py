"""The one-shot engines against independent computations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

import alliancelab
from alliancelab.models.bargaining import Problem
from alliancelab.models.bargaining.median import weighted_median

DATA = Path(__file__).parent / "data"

# EC emission standards (BDM 1994; Scholz et al. 2011): capability, position, salience.
EC = np.array(
    [
        [0.08, 4, 0.8],
        [0.08, 7, 0.4],
        [0.03, 4, 0.2],
        [0.16, 4, 0.8],
        [0.16, 10, 0.6],
        [0.16, 10, 0.6],
        [0.16, 10, 0.9],
        [0.05, 7, 0.1],
        [0.05, 4, 1.0],
        [0.08, 7, 0.7],
    ]
)


def test_compromise_is_the_weighted_mean_of_the_ec_case() -> None:
    case = alliancelab.read_case(DATA / "ec_emissions.csv")
    result = alliancelab.forecast(case, "compromise")
    w = EC[:, 0] * EC[:, 2]
    assert result.forecast[0] == pytest.approx((w * EC[:, 1]).sum() / w.sum(), abs=1e-12)
    # Scholz et al. (2011) report the round-0 mean as 7.4 (one decimal).
    assert round(result.forecast[0], 1) == 7.4


def test_median_beats_every_position_in_pairwise_votes() -> None:
    rng = np.random.default_rng(3)
    for _ in range(200):
        n = int(rng.integers(1, 12))
        x = rng.integers(0, 10, n).astype(float)  # ties on purpose
        w = rng.random(n)
        m = weighted_median(x[:, None], w[:, None])[0]
        for y in np.unique(x):
            closer_to_m = w[np.abs(x - m) < np.abs(x - y)].sum()
            closer_to_y = w[np.abs(x - y) < np.abs(x - m)].sum()
            assert closer_to_m >= closer_to_y - 1e-12


def test_median_splits_an_exact_tie_at_the_midpoint() -> None:
    x = np.array([[10.0], [15.0], [20.0]])
    w = np.array([[1.0], [0.0], [1.0]])
    assert weighted_median(x, w)[0] == 15.0


def test_nash_maximises_the_weighted_log_product() -> None:
    rng = np.random.default_rng(7)
    for _ in range(50):
        n = int(rng.integers(2, 9))
        cap, pos, sal = rng.random(n), rng.uniform(0, 100, n), rng.uniform(0.1, 1, n)
        problem = Problem.from_arrays(cap, pos, sal)
        got = alliancelab.forecast(problem, "nash").forecast[0]
        w = cap * sal
        gap = np.maximum(pos, 100 - pos) ** 2

        def neg(y: float, w: np.ndarray = w, gap: np.ndarray = gap, pos: np.ndarray = pos) -> float:
            return float(-(w * np.log(gap - (y - pos) ** 2)).sum())

        ref = minimize_scalar(
            neg, bounds=(pos.min(), pos.max()), method="bounded", options={"xatol": 1e-10}
        )
        assert got == pytest.approx(ref.x, abs=1e-4)  # scipy bounded search: ~1e-6
        assert neg(got) <= neg(ref.x) + 1e-9


def test_nash_with_status_quo_stays_where_everyone_gains() -> None:
    # One actor sits on the status quo: under unanimity nothing can move.
    problem = Problem.from_arrays([1, 1, 1], [20.0, 50.0, 80.0], [1, 1, 1], status_quo=[20.0])
    assert alliancelab.forecast(problem, "nash", disagreement="status_quo").forecast[0] == 20.0
    # A status quo outside everyone's positions: the solution lies between them.
    problem = Problem.from_arrays([1, 1, 1], [40.0, 50.0, 60.0], [1, 1, 1], status_quo=[0.0])
    got = alliancelab.forecast(problem, "nash", disagreement="status_quo").forecast[0]
    assert 40.0 <= got <= 60.0


def test_nash_rejects_an_unknown_disagreement_point() -> None:
    problem = Problem.from_arrays([1, 1], [0.0, 1.0], [1, 1])
    with pytest.raises(alliancelab.AllianceLabError, match="disagreement"):
        alliancelab.forecast(problem, "nash", disagreement="bogus")


def test_multi_issue_yaml_case_forecasts_each_issue_in_its_units() -> None:
    case = alliancelab.read_case(DATA / "two_issues.yaml")
    result = alliancelab.forecast(case, "compromise", rng=5)
    assert result.issues == ("troops", "spending")
    assert 20000 <= result.forecast[0] <= 35000
    assert 2.5 <= result.forecast[1] <= 5
    assert result.seed == 5
    frame = result.to_frame()
    assert list(frame.columns) == ["model", "round", "actor", "issue", "position"]
    assert len(frame) == 3 * 2
