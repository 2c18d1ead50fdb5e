"""alliance_models.assess: the alliance models applied to the shipped US-ROK case."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from alliancelab import alliance_models as am
from alliancelab.case import Case
from alliancelab.cases import resolve_case
from alliancelab.errors import AllianceLabError
from alliancelab.formats import read_case
from alliancelab.games.deterrence import solve_aeg


@pytest.fixture(scope="module")
def case() -> Case:
    return read_case(resolve_case("us_rok_2025"))


def _fresh(case: Case, **kw) -> dict[str, float]:  # noqa: ANN003
    am._aeg.cache_clear()
    am._tcg.cache_clear()
    return am.assess(case, **kw)


def test_assess_baseline(case):
    t = time.perf_counter()
    r = _fresh(case)
    assert time.perf_counter() - t < 1.5
    assert all(isinstance(v, float) and math.isfinite(v) for v in r.values())
    for k, v in r.items():
        if k.startswith(("deterrence.p_", "tripartite.p_", "dilemma.")):
            assert 0.0 <= v <= 1.0, k
    # the AEG indicators are the equilibrium at the mapped priors
    m = am.model_inputs(case)
    pt, ps = m["p_tactical"], m["p_strategic"]
    direct = solve_aeg(m["p_ch_hard"], (pt * ps, pt * (1 - ps), (1 - pt) * ps,
                                        (1 - pt) * (1 - ps)))
    assert r["deterrence.p_challenge"] == pytest.approx(direct.p_challenge, abs=1e-2)
    assert r["deterrence.stable"] == float(direct.p_challenge < 0.01)
    # Seoul spends more of its GDP than Washington: no exploitation in the pair, and the pure
    # public-good model (which predicts complete ROK free-riding) cannot explain it
    assert r["burden.exploitation_ratio"] > 1.0
    assert r["burden.oz_rok_burden"] == 0.0
    assert r["burden.joint_product_beta"] < 0 < r["burden.joint_product_gamma"]
    assert r["tension.korea_stable"] == 1.0 and r["tension.us_china_stable"] == 1.0


def _with(case: Case, name: str) -> dict[str, float]:
    interventions = pytest.importorskip("alliancelab.interventions")
    return am.assess(interventions.apply_interventions(case, [name]))


def test_interventions_move_the_indicators_the_right_way(case):
    base = am.assess(case)
    cut = _with(case, "rapid_troop_reduction")
    assert cut["dilemma.rok_abandonment"] > base["dilemma.rok_abandonment"] + 0.03
    stay = _with(case, "sustained_usfk_presence")
    assert stay["dilemma.rok_abandonment"] < base["dilemma.rok_abandonment"]
    anti = _with(case, "overt_anti_china_policy")
    assert anti["dilemma.rok_entrapment"] > base["dilemma.rok_entrapment"] + 0.03
    assert anti["tension.us_china"] > base["tension.us_china"]
    test = _with(case, "dprk_nuclear_test")
    assert test["tension.korea"] > base["tension.korea"]
    talk = _with(case, "strategic_diplomacy")
    assert talk["tension.korea"] < base["tension.korea"]
    assert talk["tripartite.p_challenge"] < base["tripartite.p_challenge"]


def test_outcomes_override(case):
    base = am.assess(case)
    gone = am.assess(case, outcomes={"usfk_troops": 0.0, "ncg_extended_deterrence": 0.0,
                                      "joint_exercises": 0.0})
    assert gone["inputs.p_tactical"] < base["inputs.p_tactical"]
    assert gone["inputs.p_strategic"] < base["inputs.p_strategic"]
    assert gone["dilemma.rok_abandonment"] > base["dilemma.rok_abandonment"]
    assert gone["deterrence.p_challenge"] >= base["deterrence.p_challenge"]


def test_missing_issue_is_a_user_error(case):
    small = case.model_copy(update={
        "issues": [i for i in case.issues if i.name != "ncg_extended_deterrence"],
        "actors": [a.model_copy(update={
            "positions": {k: v for k, v in a.positions.items() if k != "ncg_extended_deterrence"},
            "saliences": {k: v for k, v in a.saliences.items() if k != "ncg_extended_deterrence"},
        }) for a in case.actors]})
    with pytest.raises(AllianceLabError, match="ncg_extended_deterrence"):
        am.assess(small)


def test_fast_solver_settings_match_defaults():
    """The Monte Carlo settings of assess find the same equilibria as the defaults."""
    for p_ch in (0.2, 0.8):
        for pt in (0.1, 0.5, 0.9):
            for ps in (0.1, 0.5, 0.9):
                pd = (pt * ps, pt * (1 - ps), (1 - pt) * ps, (1 - pt) * (1 - ps))
                fast = solve_aeg(p_ch, pd, **am._SOLVER)
                slow = solve_aeg(p_ch, pd, tol=5e-3)
                assert fast.p_challenge == pytest.approx(slow.p_challenge, abs=1e-2)
                assert fast.p_war == pytest.approx(slow.p_war, abs=5e-3)


def test_joint_product_fit_is_exact_when_identified():
    inc = np.array([20.0, 2.0])
    q = np.array([0.8, 0.04])  # large ally carries more: beta, gamma > 0
    beta, gamma = am._joint_product_fit(inc, q)
    assert beta > 0 and gamma > 0
    assert am.check_joint_product_fit(inc, q) < 1e-6


def test_morrow_exchange_matches_the_model(case):
    """assess's Morrow indicators are Morrow's optimum at the mapped inputs."""
    from alliancelab.games.alliance_dilemma import morrow_concession

    r = am.assess(case)
    s0, k, g = r["morrow.own_security"], r["morrow.price"], r["morrow.autonomy_weight"]
    x, ds = morrow_concession(s0, 1.0, k, g)
    assert r["morrow.optimal_concession"] == pytest.approx(x)
    assert r["morrow.optimal_security_gained"] == pytest.approx(ds)
    assert r["morrow.price"] == pytest.approx(
        r["morrow.security_gained"] / r["morrow.autonomy_conceded"])
    assert r["morrow.concession_gap"] == pytest.approx(
        r["morrow.autonomy_conceded"] - r["morrow.optimal_concession"])
    deal = math.log(1 + r["morrow.security_gained"] / s0) + g * math.log(
        1 - r["morrow.autonomy_conceded"])
    assert r["morrow.deal_gain"] == pytest.approx(deal)
    # the optimum is at least as good for Seoul as the bargained deal
    assert r["morrow.optimal_gain"] >= r["morrow.deal_gain"] - 1e-12
    # first-order condition k / (s0 + k x) = gamma / (1 - x) at an interior optimum
    if 0 < x < 1:
        assert k / (s0 + k * x) == pytest.approx(g / (1 - x))
    # Seoul's stated priorities: autonomy weighs about as much as security (saliences)
    assert 0.5 < g < 2.0
    assert 0.0 < r["morrow.autonomy_conceded"] < 1.0 and 0.0 < r["morrow.security_gained"] < 1.0


def test_morrow_responds_to_levers_as_documented(case):
    """docs/alliance-models.md: a US troop cut lowers the price of autonomy (less security per
    unit conceded), so Seoul's optimal concession falls and the gap rises; an overt anti-China
    policy makes Seoul concede more autonomy for the same security; a DPRK nuclear test makes
    security dearer to Seoul, so it would concede more."""
    base = am.assess(case)
    cut = _with(case, "rapid_troop_reduction")
    assert cut["morrow.security_gained"] < base["morrow.security_gained"]
    assert cut["morrow.price"] < base["morrow.price"]
    assert cut["morrow.optimal_concession"] < base["morrow.optimal_concession"]
    assert cut["morrow.concession_gap"] > base["morrow.concession_gap"]
    assert cut["morrow.deal_gain"] < base["morrow.deal_gain"]
    anti = _with(case, "overt_anti_china_policy")
    assert anti["morrow.autonomy_conceded"] > base["morrow.autonomy_conceded"] + 0.03
    assert anti["morrow.concession_gap"] > base["morrow.concession_gap"] + 0.03
    test = _with(case, "dprk_nuclear_test")
    assert test["morrow.own_security"] < base["morrow.own_security"]
    assert test["morrow.optimal_concession"] > base["morrow.optimal_concession"]
    vision = _with(case, "common_end_state_vision")
    assert vision["morrow.autonomy_conceded"] < base["morrow.autonomy_conceded"]


def test_evaluate_labels(case):
    ind, labels = am.evaluate(case)
    assert ind == am.assess(case)
    assert {"deterrence.type", "tripartite.type", "dilemma.game"} <= set(labels)
    assert labels["deterrence.type"] == "deterrence"  # the 2025 baseline (docs)
    assert labels["dilemma.game"] in ("prisoners-dilemma", "assurance", "other")
    solved = solve_aeg(0.4, (0.5, 0.3, 0.1, 0.1))
    assert ("deterrence.family" in labels) == bool(getattr(solved, "family", ""))
    assert ind["solver.aeg_failed"] == 0.0 and ind["solver.tcg_failed"] == 0.0


def test_solver_failure_is_reported_not_raised(case, monkeypatch):
    """A game the solver cannot solve gives NaN indicators and a failure flag."""
    def fail(*args, **kwargs):  # noqa: ANN002, ANN003
        raise AllianceLabError("no equilibrium")

    monkeypatch.setattr(am, "solve_aeg", fail)
    am._aeg.cache_clear()
    try:
        ind, labels = am.evaluate(case)
    finally:
        am._aeg.cache_clear()
    assert ind["solver.aeg_failed"] == 1.0 and math.isnan(ind["deterrence.p_challenge"])
    assert labels["deterrence.type"] == "solver failed"
    assert math.isfinite(ind["tripartite.p_challenge"])
