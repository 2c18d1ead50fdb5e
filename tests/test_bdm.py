"""``bdm``: the paper's equations (Scholz, Calbert & Smith 2011) as written, checked against a
plain scalar re-implementation of those equations, plus perspective (perceptions), its
documented differences from ``bdm-scholz`` and the contract properties."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import alliancelab
from alliancelab.core.case import Case
from alliancelab.models.bargaining import Problem
from alliancelab.models.bargaining.bdm import BDM
from alliancelab.testing import cases, permuted, scaled_capabilities

DATA = Path(__file__).parent / "data"


def scalar_bdm(c, x, s, rounds, q=1.0):
    """The paper's algorithm, one number at a time (no perceptions, range = current range,
    least-move selection). Written from Scholz et al. (2011) eqs. 15-16, 22-25, 30-36 and
    the Appendix, independently of the engine."""
    n = len(x)
    x = list(map(float, x))
    path = [list(x)]
    for _ in range(rounds):
        big_r = max(x) - min(x)
        if big_r == 0:
            path.append(list(x))
            continue
        wts = [c[i] * s[i] for i in range(n)]
        mu = _median(x, wts)

        def prob(i, j, x=x, wts=wts):
            num = den = 0.0
            for k in range(n):
                arg = abs(x[k] - x[j]) - abs(x[k] - x[i])
                num += wts[k] * max(arg, 0.0)
                den += wts[k] * abs(arg)
            return num / den if den > 0 else 0.5

        def eu(i, j, r, x=x, mu=mu, big_r=big_r, prob=prob):
            d = abs(x[i] - x[j]) / big_r
            dm = abs(x[i] - mu) / big_r
            us = 2 - 4 * (0.5 - 0.5 * d) ** r
            uf = 2 - 4 * (0.5 + 0.5 * d) ** r
            ub = 2 - 4 * max(0.5 - 0.25 * (dm + d), 0.0) ** r
            uw = 2 - 4 * (0.5 + 0.25 * (dm + d)) ** r
            usq = 2 - 4 * 0.5**r
            tee = 1.0 if abs(x[i] - mu) < abs(x[i] - x[j]) else 0.0
            p = prob(i, j)
            return (s[j] * (p * us + (1 - p) * uf) + (1 - s[j]) * us - q * usq
                    - (1 - q) * (tee * ub + (1 - tee) * uw))

        sec = [sum(eu(j, i, 1.0) for j in range(n) if j != i) for i in range(n)]
        hi, lo = max(sec), min(sec)
        big = [(2 * v - hi - lo) / (hi - lo) if hi > lo else 0.0 for v in sec]
        r = [(1 - b / 3) / (1 + b / 3) for b in big]
        x = [_move(i, x, r, eu) for i in range(n)]
        path.append(list(x))
    return np.array(path)


def _median(x, wts):
    """The weighted median (midpoint of the median interval on a tie)."""
    order = sorted(range(len(x)), key=lambda i: x[i])
    half, acc, mu = sum(wts) / 2, 0.0, None
    for pos, i in enumerate(order):
        acc += wts[i]
        if mu is None and acc >= half - 1e-12:
            mu = x[i]
            if abs(acc - half) <= 1e-12:
                mu = 0.5 * (x[i] + x[order[pos + 1]])
    return mu


def _move(i, x, r, eu):
    """Where receiver i moves: its best offer (confrontation, compromise, capitulation; the
    smallest move, then the largest b, then the lower position), or nowhere."""
    best = None
    for j in range(len(x)):
        if x[i] == x[j]:
            continue
        a, b = eu(i, j, r[i]), eu(j, i, r[j])
        if a > 0 and b > a:
            rank, to = 0, x[j]
        elif a < 0 < b and b > -a:
            rank, to = 1, x[i] + (x[j] - x[i]) * abs(a / b)
        elif a < 0 < b:
            rank, to = 2, x[j]
        else:
            continue
        cand = (rank, abs(to - x[i]), -b, to)
        if best is None or cand < best:
            best = cand
    return x[i] if best is None else best[3]


def _ec() -> Case:
    return alliancelab.read_case(DATA / "ec_emissions.csv")


@pytest.mark.parametrize("q", [1.0, 0.5])
@pytest.mark.parametrize("name", ["ec", "random_a", "random_b", "random_c"])
def test_engine_follows_the_papers_equations(name: str, q: float) -> None:
    case = _ec() if name == "ec" else alliancelab.read_case(DATA / "bdm" / f"{name}.csv")
    p = Problem.from_case(case)
    f = alliancelab.forecast(case, "bdm", rounds=6, q=q)
    want = scalar_bdm(p.capability, p.position[:, 0], p.salience[:, 0], 6, q=q)
    np.testing.assert_allclose(f.rounds[:, :, 0], want, rtol=0, atol=1e-9)


def test_probabilities_are_normalised_per_pair() -> None:
    f = alliancelab.forecast(_ec(), "bdm", rounds=2)
    prob = f.diagnostics["probability"][0, :, :, 0]
    x = Problem.from_case(_ec()).position[:, 0]
    differ = x[:, None] != x[None, :]
    np.testing.assert_allclose((prob + prob.T)[differ], 1.0, atol=1e-12)


def test_differs_from_the_reference_code_on_the_ec_case() -> None:
    """Documented in docs/bdm.md: per-pair probabilities make confrontations common."""
    a = alliancelab.forecast(_ec(), "bdm")
    b = alliancelab.forecast(_ec(), "bdm-scholz")
    assert not np.allclose(a.rounds, b.rounds)
    kinds = {o["type"] for o in a.diagnostics["offers"]}
    assert "confrontation" in kinds


def _with_estimates(estimates: dict[str, dict]) -> Case:
    data = _ec().model_dump()
    for actor in data["actors"]:
        if actor["name"] in estimates:
            actor["perceptions"]["estimates"] = estimates[actor["name"]]
    return Case.model_validate(data)


def test_estimates_equal_to_the_truth_change_nothing() -> None:
    truth = Problem.from_case(_ec())
    est = {
        "France": {
            "Belgium": {"positions": {"issue": 7.0}, "saliences": {"issue": 0.4},
                        "capability": 0.08}
        }
    }
    case = _with_estimates(est)
    a = alliancelab.forecast(_ec(), "bdm")
    b = alliancelab.forecast(case, "bdm")
    np.testing.assert_array_equal(a.rounds, b.rounds)
    assert Problem.from_case(case).perceived_position[4, 1, 0] == truth.position[1, 0]


def test_an_actors_estimates_enter_its_own_calculations_only() -> None:
    """Belgium believes the UK cares little (salience 0.1 instead of 0.9) and sits at 8:
    Belgium's expected utilities change in round 1; nobody else's do, except through
    Belgium's risk exponent, which Belgium's own (misperceived) security level sets and
    which others use for Belgium's expected utility E^Belgium(U_Belgium,i)."""
    est = {"Belgium": {"UK": {"positions": {"issue": 8.0}, "saliences": {"issue": 0.1}}}}
    a = alliancelab.forecast(_ec(), "bdm", rounds=1)
    b = alliancelab.forecast(_with_estimates(est), "bdm", rounds=1)
    ea, eb = a.diagnostics["eu_challenge"][0, :, :, 0], b.diagnostics["eu_challenge"][0, :, :, 0]
    rows = np.nonzero(np.any(np.abs(ea - eb) > 1e-12, axis=1))[0]
    assert list(rows) == [1]  # Belgium
    ra, rb = a.diagnostics["eu_response"][0, :, :, 0], b.diagnostics["eu_response"][0, :, :, 0]
    others = [i for i in range(10) if i != 1]
    np.testing.assert_array_equal(ra[others][:, others], rb[others][:, others])
    r_a, r_b = a.diagnostics["risk_exponent"][0, :, 0], b.diagnostics["risk_exponent"][0, :, 0]
    assert r_a[1] != r_b[1]
    np.testing.assert_array_equal(r_a[others], r_b[others])


@pytest.mark.parametrize(
    "options",
    [{"rounds": -1}, {"q": 2}, {"range_mode": "wide"}, {"offer_selection": "best"},
     {"tie_tol": "x"}],
)
def test_bad_options_are_user_errors(options: dict) -> None:
    with pytest.raises(alliancelab.AllianceLabError):
        BDM(**options)


@pytest.mark.parametrize("options", [{"range_mode": "initial"}, {"range_mode": "scale"},
                                     {"offer_selection": "enforceability"}, {"q": 0.5}])
def test_options_run_and_stay_in_range(options: dict) -> None:
    f = alliancelab.forecast(_ec(), "bdm", **options)
    assert 4.0 <= f.forecast[0] <= 10.0
    assert np.all((f.rounds >= 4.0) & (f.rounds <= 10.0))


def test_multi_issue_and_diagnostics() -> None:
    case = alliancelab.read_case(DATA / "two_issues.yaml")
    f = alliancelab.forecast(case, "bdm", rounds=3)
    p = Problem.from_case(case)
    assert f.rounds.shape == (4, 3, 2)
    for k in range(2):
        single = Problem.from_arrays(p.capability, p.position[:, k], p.salience[:, k],
                                     lower=p.lower[k:k + 1], upper=p.upper[k:k + 1])
        g = alliancelab.forecast(single, "bdm", rounds=3)
        np.testing.assert_array_equal(f.rounds[:, :, k], g.rounds[:, :, 0])
    for key in ("median", "mean", "risk_exponent", "security", "probability", "eu_challenge",
                "eu_response", "offer_type", "offers"):
        assert key in f.diagnostics
    json.loads(f.to_json())


def test_unanimous_case() -> None:
    with np.errstate(all="raise"):
        f = alliancelab.forecast(Problem.from_arrays([1, 2], [3.0, 3.0], [0.5, 0.5]), "bdm")
    assert np.all(f.rounds == 3.0) and f.forecast[0] == 3.0


@settings(max_examples=25, deadline=None)
@given(case=cases(min_actors=2, max_actors=8, max_issues=2, rich=True), data=st.data())
def test_contract_properties_with_perceptions(case, data) -> None:
    a = alliancelab.forecast(case, "bdm", rng=1)
    pos = Problem.from_case(case).position
    width = np.array([i.scale.max - i.scale.min for i in case.issues])
    assert np.all(a.forecast >= pos.min(axis=0) - 1e-9 * width)
    assert np.all(a.forecast <= pos.max(axis=0) + 1e-9 * width)
    order = data.draw(st.permutations(list(range(len(case.actors)))))
    b = alliancelab.forecast(permuted(case, order), "bdm")
    np.testing.assert_allclose(b.rounds, a.rounds[:, order, :], rtol=0, atol=1e-7 * width.max())
    c = alliancelab.forecast(scaled_capabilities(case, data.draw(st.floats(1e-3, 1e3))), "bdm")
    np.testing.assert_allclose(c.rounds, a.rounds, rtol=0, atol=1e-7 * width.max())
    assert a.to_json() == alliancelab.forecast(case, "bdm", rng=1).to_json()
