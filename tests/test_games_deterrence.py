"""Zagare & Kilgour's Asymmetric Escalation Game and the tripartite crisis game."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alliancelab.errors import AllianceLabError
from alliancelab.games.deterrence import (
    CH_ORDER,
    DEF_ORDER,
    DEF_TYPES,
    TCGPayoffs,
    aeg_complete,
    aeg_game,
    solve_aeg,
    solve_tcg,
)
from alliancelab.games.extensive import pbe_violation


def _ordered(n: int) -> st.SearchStrategy[list[float]]:
    return st.lists(st.floats(0.05, 3.0), min_size=n, max_size=n).map(
        lambda gaps: list(np.cumsum(gaps)))


ch_utils = _ordered(len(CH_ORDER)).map(lambda v: dict(zip(CH_ORDER, v, strict=True)))
def_utils = _ordered(len(DEF_ORDER)).map(lambda v: dict(zip(DEF_ORDER, v, strict=True)))


@settings(max_examples=60, deadline=None)
@given(cu=ch_utils, du=def_utils, ch=st.sampled_from("HS"), d=st.sampled_from(DEF_TYPES))
def test_aeg_complete_information_no_limited_conflict(cu, du, ch, d):
    """Perfect Deterrence ch. 6: under complete information the subgame-perfect outcome is
    never limited conflict (DD) nor any escalation; deterrence succeeds iff the challenger
    is Soft or the defender is Hard at both levels; otherwise the defender concedes."""
    r = aeg_complete(ch, d, cu, du)
    out = r.solution.outcome_probs
    assert set(out) <= {"SQ", "DC"}
    assert r.p_limited == 0 and r.p_escalation == 0 and r.p_war == 0
    expect = "SQ" if (ch == "S" or d == "HH") else "DC"
    assert out == {expect: 1.0}


def test_aeg_incomplete_information_is_equilibrium_with_limited_conflict():
    """Under incomplete information limited conflict (DD) occurs with positive probability
    (here 15 %), which complete information rules out; the profile is a PBE."""
    r = solve_aeg(0.8, (0.1, 0.3, 0.3, 0.3))
    assert r.p_limited == pytest.approx(0.15, abs=2e-3)
    assert r.p_concede == pytest.approx(0.80, abs=2e-3)
    assert r.p_war == pytest.approx(0.025, abs=2e-3)
    assert r.solution.violation < 2e-3
    assert sum(r.solution.outcome_probs.values()) == pytest.approx(1.0)
    g = aeg_game(0.8, (0.1, 0.3, 0.3, 0.3))
    assert pbe_violation(g, r.solution.strategy, tol=1e-3) < 2e-3


@settings(max_examples=15, deadline=None)
@given(p_ch=st.floats(0.05, 0.95),
       w=st.lists(st.floats(0.01, 1.0), min_size=4, max_size=4))
def test_aeg_pbe_properties(p_ch, w):
    pd = np.array(w) / sum(w)
    r = solve_aeg(p_ch, tuple(pd))
    probs = r.solution.outcome_probs
    assert sum(probs.values()) == pytest.approx(1.0, abs=1e-9)
    assert 0 <= r.p_war <= r.p_escalation <= r.p_challenge + 1e-12
    assert r.solution.violation < 2e-3
    # a Soft challenger is deterred whenever every defender escalates against it; in every
    # equilibrium, the Hard challenger challenges at least as often as the Soft one
    s = r.solution.strategy
    assert s["Ch[H]:start"]["D"] >= s["Ch[S]:start"]["D"] - 1e-3


def test_aeg_fully_credible_defender_deters():
    r = solve_aeg(1.0, {"HH": 1.0, "HS": 0.0, "SH": 0.0, "SS": 0.0})
    assert r.equilibrium_type == "deterrence" and r.p_challenge == 0


def test_aeg_rejects_bad_input():
    with pytest.raises(AllianceLabError):
        aeg_game(0.5, (0.5, 0.5, 0.5, 0.5))
    bad = dict(zip(CH_ORDER, range(7), strict=True)) | {"cSQ": 10}
    with pytest.raises(AllianceLabError):
        aeg_game(0.5, (0.25,) * 4, ch_utils=bad)


# --- tripartite crisis game: the protégé's threat to realign (Zagare & Kilgour 2003) -------
def _threshold(pay: TCGPayoffs) -> float:
    """Credibility above which an uncommitted defender supports a protégé facing a Hard
    challenger: p d_realign + (1 - p) d_concede < d_war_uncommitted."""
    return (pay.d_concede - pay.d_war_uncommitted) / (pay.d_concede - pay.d_realign)


tcg_pay = st.builds(
    TCGPayoffs,
    v=st.floats(0.05, 2.0), r=st.floats(0.0, 4.0), b=st.just(1.0),
    w_hard=st.floats(-0.95, -0.05), w_soft=st.just(-2.0),
    d_war_uncommitted=st.floats(-2.5, -1.2), d_realign=st.floats(-4.0, -2.6),
)


@settings(max_examples=25, deadline=None)
@given(pay=tcg_pay, p_def=st.floats(0.05, 0.95), p=st.floats(0.0, 1.0))
def test_tcg_realignment_threat_deters_or_provokes(pay, p_def, p):
    """With a challenger willing to fight (Hard, war worse than the status quo):
    a threat credible enough to compel the defender's support deters the challenge; a less
    credible one makes the challenge more attractive, P(challenge) = 1 iff
    p_def w + (1 - p_def)(v + p r) > 0."""
    tau = _threshold(pay)
    eu = p_def * pay.w_hard + (1 - p_def) * (pay.v + p * pay.r)
    if abs(p - tau) < 0.02 or abs(eu) < 0.02:
        return  # stay away from ties
    res = solve_tcg(1.0, p_def, p, pay)
    if p > tau:
        assert res.p_challenge < 1e-3
    else:
        assert res.p_challenge == pytest.approx(float(eu > 0), abs=1e-3)


def test_tcg_weak_challenger_deterred_strong_one_provoked():
    """Zagare & Kilgour (2003, abstract): the protégé's threat to realign can dissuade a
    moderately motivated challenger but prompt a highly motivated one to demand."""
    moderate = TCGPayoffs(v=1.0, r=1.0)
    assert solve_tcg(1.0, 0.5, 0.0, moderate).p_challenge == pytest.approx(1.0, abs=1e-3)
    assert solve_tcg(1.0, 0.5, 0.8, moderate).p_challenge < 1e-3
    high = TCGPayoffs(v=0.2, r=3.0)  # gains a great deal from the protégé's realignment
    assert solve_tcg(1.0, 0.5, 0.0, high).p_challenge < 1e-3
    assert solve_tcg(1.0, 0.5, 0.4, high).p_challenge == pytest.approx(1.0, abs=1e-3)
    weak = TCGPayoffs(v=0.2, r=0.2)
    assert all(solve_tcg(1.0, 0.5, p, weak).p_challenge < 1e-3 for p in (0, 0.3, 0.45, 0.8))


def test_tcg_incomplete_information_about_challenger():
    r = solve_tcg(0.7, 0.3, 0.2)
    assert r.solution.violation < 2e-3
    assert 0 < r.p_challenge < 1 and 0 < r.p_support < 1


def test_aeg_more_credibility_never_invites_a_challenge():
    """Perfect Deterrence's central claim, checked on a grid: raising the defender's
    tactical or strategic credibility never raises the probability of a challenge;
    deterrence (no challenge) needs both to be high enough."""
    grid = np.linspace(0.1, 0.9, 4)
    for p_ch in (0.2, 0.8):
        pc = np.zeros((4, 4))
        for i, pt in enumerate(grid):
            for j, ps in enumerate(grid):
                pdef = (pt * ps, pt * (1 - ps), (1 - pt) * ps, (1 - pt) * (1 - ps))
                pc[i, j] = solve_aeg(p_ch, pdef, steps=15, tol=5e-3).p_challenge
        assert np.all(np.diff(pc, axis=0) <= 1e-2) and np.all(np.diff(pc, axis=1) <= 1e-2)
        assert pc[-1, -1] < 1e-2 and pc[0, 0] > 0.3


@pytest.mark.parametrize(("pt", "ps", "challenge", "war"), [
    (0.1, 0.1, 1.00, 0.025), (0.1, 0.5, 1.00, 0.082), (0.3, 0.7, 1.00, 0.010),
    (0.5, 0.3, 1.00, 0.047), (0.5, 0.5, 0.0, 0.0), (0.9, 0.3, 0.0, 0.0)])
def test_aeg_credibility_table_in_docs(pt, ps, challenge, war):
    """The pCh = 0.5 table of docs/alliance-models.md section 2."""
    r = solve_aeg(0.5, (pt * ps, pt * (1 - ps), (1 - pt) * ps, (1 - pt) * (1 - ps)), tol=5e-3)
    assert r.p_challenge == pytest.approx(challenge, abs=5e-3)
    assert r.p_war == pytest.approx(war, abs=1.5e-3)
