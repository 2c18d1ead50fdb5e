"""alliance_models.assess: the alliance models applied to the shipped US-ROK case."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from alliancelab.cases import resolve_case
from alliancelab.cases import us_rok as am
from alliancelab.core.case import Case
from alliancelab.core.errors import AllianceLabError
from alliancelab.formats import read_case
from alliancelab.models.games.deterrence import solve_aeg
from alliancelab.scenarios.interventions import apply_interventions, intervention_names
from alliancelab.scenarios.uncertainty import draw


@pytest.fixture(scope="module")
def case() -> Case:
    return read_case(resolve_case("us_rok_2025"))


def _fresh(case: Case, **kw) -> dict[str, float]:  # noqa: ANN003
    am._SOLVED.clear()
    am._SOLVED.clear()
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
    return am.assess(apply_interventions(case, [name]))


def _certified(case: Case) -> Case:
    """The case with the congressional troop floor lifted: a cut the Secretary of Defense
    certifies, as the NDAA's clause allows (docs/us-rok-case.md, "Arenas and veto players").
    With the floor (28,500 in us_rok_2025, the status quo) no troop cut can happen at the
    point values, so the troop-cut directions are checked on this variant."""
    issues = [i.model_copy(update={"floor": None}) if i.name == "usfk_troops" else i
              for i in case.issues]
    return case.model_copy(update={"issues": issues})


def test_interventions_move_the_indicators_the_right_way(case):
    base = am.assess(case)
    # the floor binds: the lever's cut does not happen, abandonment does not move
    floored = _with(case, "rapid_troop_reduction")
    assert floored["dilemma.rok_abandonment"] == pytest.approx(
        base["dilemma.rok_abandonment"], abs=1e-3)
    free = _certified(case)
    cut = _with(free, "rapid_troop_reduction")
    assert cut["dilemma.rok_abandonment"] > am.assess(free)["dilemma.rok_abandonment"] + 0.03
    stay = _with(case, "sustained_usfk_presence")  # the floor already keeps 28,500
    assert stay["dilemma.rok_abandonment"] == pytest.approx(base["dilemma.rok_abandonment"])
    stay = _with(free, "sustained_usfk_presence")
    assert stay["dilemma.rok_abandonment"] < am.assess(free)["dilemma.rok_abandonment"]
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


def test_morrow_exchange_on_hand_computed_terms(case):
    """Morrow (1991) on terms worked out by hand: outcomes 0.2 of a scale width from Seoul's
    own position on every autonomy issue (X = 0.2), full US protection, DPRK threat 0.6 and
    trust 0.5 (dS = 0.6 x 0.5 x 1 = 0.3, s0 = 0.4, price k = dS / X = 1.5); then
    x* = (k - gamma s0) / (k (1 + gamma)), deal gain ln(1 + dS/s0) + gamma ln(1 - X)."""
    out = {i: am.SECURITY_ISSUES[i] for i in am.SECURITY_ISSUES}
    for i in am.AUTONOMY_ISSUES:
        issue = next(x for x in case.issues if x.name == i)
        own = am.group_position(case, "ROK", i)
        step = 0.2 * issue.scale.width
        out[i] = own + step if own + step <= issue.scale.max else own - step
    m = {"ROK.threats.dprk": 0.6, "ROK.partner_reliability": 0.5}
    r = am.morrow_exchange(case, out, m)
    g = r["morrow.autonomy_weight"]
    assert g == pytest.approx(am.group_salience(case, "ROK", am.AUTONOMY_ISSUES)
                              / am.group_salience(case, "ROK", am.SECURITY_ISSUES))
    assert r["morrow.autonomy_conceded"] == pytest.approx(0.2)
    assert r["morrow.security_gained"] == pytest.approx(0.3)
    assert r["morrow.own_security"] == pytest.approx(0.4)
    assert r["morrow.price"] == pytest.approx(1.5)
    x_star = (1.5 - g * 0.4) / (1.5 * (1 + g))
    assert r["morrow.optimal_concession"] == pytest.approx(x_star)
    assert r["morrow.concession_gap"] == pytest.approx(0.2 - x_star)
    assert r["morrow.deal_gain"] == pytest.approx(math.log(1.75) + g * math.log(0.8))
    # the optimum beats the bargained deal, and satisfies k / (s0 + k x) = gamma / (1 - x)
    assert r["morrow.optimal_gain"] >= r["morrow.deal_gain"] - 1e-12
    assert 1.5 / (0.4 + 1.5 * x_star) == pytest.approx(g / (1 - x_star))



def test_morrow_responds_to_levers_as_documented(case):
    """docs/alliance-models.md: a US troop cut lowers the price of autonomy (less security per
    unit conceded), so Seoul's optimal concession falls and the gap rises; an overt anti-China
    policy makes Seoul concede more autonomy for the same security; a DPRK nuclear test makes
    security dearer to Seoul, so it would concede more."""
    base = am.assess(case)
    free = _certified(case)  # the troop floor lifted: a certified cut (see _certified)
    base_free, cut = am.assess(free), _with(free, "rapid_troop_reduction")
    assert cut["morrow.security_gained"] < base_free["morrow.security_gained"]
    assert cut["morrow.price"] < base_free["morrow.price"]
    assert cut["morrow.optimal_concession"] < base_free["morrow.optimal_concession"]
    assert cut["morrow.concession_gap"] > base_free["morrow.concession_gap"]
    assert cut["morrow.deal_gain"] < base_free["morrow.deal_gain"]
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
    # the 2025 baseline's families (docs/alliance-models.md, section 8)
    assert labels["deterrence.family"] == "Deterrence Equilibrium"
    assert labels["tripartite.family"] == "Separating-Support Equilibrium"
    assert ind["solver.aeg_failed"] == 0.0 and ind["solver.tcg_failed"] == 0.0


def test_solver_failure_is_reported_not_raised(case, monkeypatch):
    """A game the solver cannot solve gives NaN indicators and a failure flag."""
    def fail(*args, **kwargs):  # noqa: ANN002, ANN003
        raise AllianceLabError("no equilibrium")

    monkeypatch.setattr(am, "solve_aeg_many", fail)
    am._SOLVED.clear()
    try:
        ind, labels = am.evaluate(case)
    finally:
        am._SOLVED.clear()
    assert ind["solver.aeg_failed"] == 1.0 and math.isnan(ind["deterrence.p_challenge"])
    assert labels["deterrence.type"] == "solver failed"
    assert math.isfinite(ind["tripartite.p_challenge"])


def test_every_indicator_has_a_meaning_and_units(case):
    """Each number the plug-in returns has a one-line reading for a policy reader."""
    ind, _ = am.evaluate(case)
    assert set(ind) == set(am.MEANINGS) == set(am.UNITS)
    assert all(len(am.MEANINGS[k]) > 20 for k in ind)
    # the illustrations say so in their reading, and none is a headline
    for k in ind:
        if k.startswith(am.ILLUSTRATIONS):
            assert am.MEANINGS[k].startswith("Illustration"), k
    assert not any(h.startswith(am.ILLUSTRATIONS) for h in am.HEADLINES)


def test_headlines_vary_across_draws_or_scenarios(case):
    """Nothing constant by construction is headlined: every headline indicator takes more
    than one value over a few Monte Carlo draws and the shocks and levers; the AEG's
    P(challenge), 0 throughout in the shipped case, is therefore not one."""
    values: dict[str, list[float]] = {}
    names = [*intervention_names(case)["shocks"], *intervention_names(case)["levers"]]
    variants = [am.assess(c) for c in draw(case, 3, rng=5).cases()]
    variants += [am.assess(apply_interventions(case, [n])) for n in names]
    for v in variants:
        for k, x in v.items():
            values.setdefault(k, []).append(x)
    for k in am.HEADLINES:
        assert np.ptp(values[k]) > 1e-6, k
    assert np.ptp(values["deterrence.p_challenge"]) == 0.0
    assert "deterrence.p_challenge" not in am.HEADLINES


def test_games_read_the_dynamics_not_the_levers_edits(case):
    """strategic_diplomacy no longer edits Pyongyang's felt threat: it softens the allies'
    positions on pressure, and the bargained outcome feeds back on the DPRK's perception
    (Jervis 1978), which the games read at the last round of the dynamics."""
    lever = apply_interventions(case, ["strategic_diplomacy"])
    stated = am.group_perception(lever, "DPRK", "threats.alliance")
    assert stated == am.group_perception(case, "DPRK", "threats.alliance")
    base, talk = am.model_inputs(case), am.model_inputs(lever)
    assert talk["DPRK.threats.alliance"] < base["DPRK.threats.alliance"] - 0.01
    assert talk["dprk_policy"] < base["dprk_policy"]
    assert talk["p_ch_hard"] < base["p_ch_hard"]
    # and the state is the dynamics' last round
    state = am.dynamics_state(case)
    assert base["usfk"] == pytest.approx(state.outcomes["usfk_troops"])


def test_evaluating_many_cases_together_gives_each_its_own_result(case):
    """``evaluate_many`` (the run's path: the variants' dynamics and games solved together)
    gives, number for number, what ``evaluate`` gives each case alone with nothing
    remembered."""
    from alliancelab.jobs.effects import scenario_sets
    from alliancelab.scenarios.scenario import Scenario

    cases = [case, *(Scenario(case, s.interventions).case for s in scenario_sets(case, ())[:5])]
    alone = []
    for c in cases:
        am._SOLVED.clear()
        alone.append(am.evaluate(c))
    am._SOLVED.clear()
    together = am.evaluate_many(cases)
    assert [repr(x) for x in together] == [repr(x) for x in alone]


def test_the_remembered_game_solutions_stay_bounded(case, monkeypatch):
    """The plug-in remembers solved games by their rounded priors, at most ``_MAX_SOLVED``
    of them (the oldest forgotten first); a forgotten game is solved again, the same."""
    monkeypatch.setattr(am, "_MAX_SOLVED", 3)
    am._SOLVED.clear()
    keys = [("tcg", (p, 0.6, 0.3)) for p in (0.2, 0.3, 0.4, 0.5, 0.6)]
    first = am._solved(keys)
    assert list(am._SOLVED) == keys[2:]
    assert am._solved(keys[:1]) == first[:1]
    assert len(am._SOLVED) == 3 and keys[0] in am._SOLVED
    am._SOLVED.clear()


def test_a_game_asked_for_again_is_remembered_longest(monkeypatch):
    """A batch that finds some games remembered and solves new ones forgets the least
    recently asked for first, not the games it has just found."""
    monkeypatch.setattr(am, "_MAX_SOLVED", 3)
    am._SOLVED.clear()
    keys = [("tcg", (p, 0.6, 0.3)) for p in (0.2, 0.3, 0.4, 0.5)]
    am._solved(keys[:3])
    am._solved([keys[0], keys[3]])
    assert list(am._SOLVED) == [keys[2], keys[0], keys[3]]
    am._SOLVED.clear()
