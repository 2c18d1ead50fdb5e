"""Zagare & Kilgour's Asymmetric Escalation Game and the tripartite crisis game."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from alliancelab.core.errors import AllianceLabError
from alliancelab.models.games.deterrence import (
    CH_ORDER,
    DEF_ORDER,
    DEF_TYPES,
    TCGPayoffs,
    aeg_complete,
    aeg_game,
    solve_aeg,
    solve_tcg,
)
from alliancelab.models.games.extensive import pbe_violation


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
    # weakly motivated but willing to fight: demands against a non-credible threat (eu =
    # 0.5 w + 0.5 v = 0.05 > 0), dissuaded once the threat compels the defender's support
    mild = TCGPayoffs(v=0.6, r=0.2)
    assert solve_tcg(1.0, 0.5, 0.0, mild).p_challenge == pytest.approx(1.0, abs=1e-3)
    deterred = solve_tcg(1.0, 0.5, 0.8, mild)
    assert deterred.p_challenge < 1e-3 and deterred.family == "Deterrence Equilibrium"


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


# --- equilibrium families (Perfect Deterrence ch. 6; Kilgour & Zagare 2007) ---------------
RANK = {f: i for i, f in enumerate(("No-Limits Equilibrium",
                                    "Escalatory Limited-Response Equilibrium",
                                    "Constrained Limited-Response Equilibrium",
                                    "Deterrence Equilibrium"))}


def _pdef(pt: float, ps: float) -> tuple[float, float, float, float]:
    return (pt * ps, pt * (1 - ps), (1 - pt) * ps, (1 - pt) * (1 - ps))


def test_aeg_family_partition_of_credibility_plane():
    """Every (pT, pS) point gets exactly one of the four families, and the families are
    ordered along both credibility axes: more tactical or strategic credibility moves the
    equilibrium from No-Limits towards Escalatory, Constrained and finally Deterrence,
    never back. Deterrence needs both credibilities; none at all (pT = pS = 0.1) invites a
    challenge."""
    grid = (0.0, 0.2, 0.45, 0.7, 1.0)
    for p_ch in (0.2, 0.8):  # pT > 0: at pT = 0 a response in kind is off the path
        rank = np.array([[RANK[solve_aeg(p_ch, _pdef(max(pt, 0.05), ps), steps=15).family]
                          for ps in grid] for pt in grid])
        assert np.all(np.diff(rank, axis=0) >= 0) and np.all(np.diff(rank, axis=1) >= 0)
        assert rank[-1, -1] == RANK["Deterrence Equilibrium"]
        assert {0, 1, 2, 3} <= set(rank.ravel().tolist())  # all four families occur
    low = solve_aeg(0.5, _pdef(0.1, 0.1))
    assert low.family != "Deterrence Equilibrium" and low.p_challenge > 0.99
    full = solve_aeg(0.5, _pdef(1.0, 1.0))
    assert full.family == "Deterrence Equilibrium" and full.p_challenge == 0


@settings(max_examples=8, deadline=None)
@given(cu=ch_utils, du=def_utils, p_ch=st.floats(0.1, 0.9), pt=st.floats(0.05, 0.95))
def test_aeg_no_strategic_credibility_means_no_limits(cu, du, p_ch, pt):
    """With no strategically Hard Defender type (pS = 0) Challenger's escalation is never
    countered (dED > dEE-), so every Challenger type escalates after a response in kind
    (cED > cDD): if Challenger initiates at all, it is a No-Limits Equilibrium, and limited
    conflict never occurs."""
    r = solve_aeg(p_ch, _pdef(pt, 0.0), cu, du, steps=15)
    assert r.family in ("No-Limits Equilibrium", "Deterrence Equilibrium")
    assert r.p_limited < 1e-9
    s = r.solution.strategy
    assert s["Ch[H]:limited"]["E"] > 1 - 1e-6 and s["Ch[S]:limited"]["E"] > 1 - 1e-6


@settings(max_examples=10, deadline=None)
@given(cu=ch_utils, du=def_utils, u=st.floats(0.0, 1.0), v=st.floats(0.0, 1.0),
       below=st.booleans())
def test_aeg_constrained_versus_deterrence_thresholds(cu, du, u, v, below):
    """Derived existence conditions. Let s* = (cED - cDD)/(cED - cEE+) (Hard Challenger's
    escalation threshold on the belief that a Defender responding in kind is strategically
    Hard) and pT* = (cDC - cSQ)/(cDC - cDD). With a likely Hard Challenger (so tactically
    Soft Defenders concede) and pS > s*, nobody escalates after a response in kind, and
    Challenger's value of initiating is pT cDD + (1 - pT) cDC: Constrained Limited-Response
    iff 0 < pT < pT*, Deterrence iff pT > pT*. (At pT = 0 a response in kind is off the path
    and Challenger's reply to it rests on off-path beliefs.)"""
    p_ch = 0.98
    s_star = (cu["cED"] - cu["cDD"]) / (cu["cED"] - cu["cEE+"])
    pt_star = (cu["cDC"] - cu["cSQ"]) / (cu["cDC"] - cu["cDD"])
    q_sh = (du["dDE"] - du["dDC"]) / (du["dDE"] - du["dEE+"])  # SH escalates iff q < q_sh
    assume(s_star < 0.9 and 0.08 < pt_star < 0.94 and q_sh < p_ch - 0.05)
    ps = s_star + 0.05 + u * (0.95 - s_star - 0.05)
    pt = 0.02 + (pt_star - 0.07) * v if below else pt_star + 0.05 + v * (0.95 - pt_star - 0.05)
    r = solve_aeg(p_ch, _pdef(pt, ps), cu, du, steps=15)
    want = "Constrained Limited-Response Equilibrium" if below else "Deterrence Equilibrium"
    assert r.family == want
    if below:  # limited conflict happens exactly when a tactically Hard type is met
        assert r.p_limited == pytest.approx(pt, abs=1e-6)


def test_aeg_solutions_are_exact_pbe_on_random_priors():
    """The assess() ranges (pCh in [0.1, 0.6], pT, pS in [0, 1], including the corners): every
    draw is solved, exactly, and passes the independent check with the returned beliefs."""
    rng = np.random.default_rng(4)
    for k in range(30):
        p_ch, pt, ps = rng.uniform(0.1, 0.6), rng.uniform(), rng.uniform()
        if k % 5 == 0:
            pt, ps = float(rng.choice([0.0, 1.0])), float(rng.choice([0.0, 0.5, 1.0]))
        r = solve_aeg(p_ch, _pdef(pt, ps), steps=15, tol=5e-3)
        g = aeg_game(p_ch, _pdef(pt, ps))
        v = pbe_violation(g, r.solution.strategy, tol=1e-9, beliefs=r.solution.beliefs)
        assert v < (1e-9 if r.solution.exact else 5e-3)
        assert r.family in RANK
    ok = [solve_aeg(0.3, _pdef(pt, ps), steps=15).solution.exact
          for pt in (0.1, 0.5, 0.9) for ps in (0.1, 0.5, 0.9)]
    assert sum(ok) >= 8


def test_tcg_families():
    """Descriptive families of the reconstructed tripartite game: a credible realignment
    threat makes the uncommitted defender stand firm and deters the challenge; without it
    the defender's reply separates (Committed supports, Uncommitted abandons); uncertainty
    about the challenger produces a straddle (probabilistic support, Zagare & Kilgour 2006)."""
    assert solve_tcg(1.0, 0.5, 0.8).family == "Deterrence Equilibrium"
    sep = solve_tcg(1.0, 0.5, 0.0)
    assert sep.family == "Separating-Support Equilibrium" and sep.p_support == \
        pytest.approx(0.5, abs=1e-9)
    straddle = solve_tcg(0.7, 0.3, 0.2)
    assert straddle.family == "Straddle Equilibrium"
    assert 0 < straddle.solution.strategy["Def[U]:demand"]["Support"] < 1
    assert solve_tcg(1.0, 0.0, 0.0).family == "Abandonment Equilibrium"


@pytest.mark.parametrize("pay", [TCGPayoffs(), TCGPayoffs(d_war_uncommitted=-2.5, d_realign=-5.0)])
def test_tcg_unequivocal_commitment_needs_a_credible_realignment_threat(pay):
    """Zagare & Kilgour (2006, ISR 8): an unequivocal commitment works only when the
    protégé's threat to sever the alliance is credible enough. In the reconstruction, against
    a determined challenger an uncommitted defender supports iff p_pro exceeds
    p* = (d_concede - d_war_uncommitted) / (d_concede - d_realign); above p* the commitment is
    unequivocal and deters, below it the protégé is abandoned."""
    p_star = (pay.d_concede - pay.d_war_uncommitted) / (pay.d_concede - pay.d_realign)
    above = solve_tcg(1.0, 0.0, min(p_star + 0.05, 1.0), pay, steps=15)
    assert above.family == "Deterrence Equilibrium" and above.p_challenge < 1e-6
    assert above.solution.strategy["Def[U]:demand"]["Support"] == pytest.approx(1.0, abs=1e-6)
    below = solve_tcg(1.0, 0.0, max(p_star - 0.05, 0.0), pay, steps=15)
    assert below.family == "Abandonment Equilibrium"
    assert below.p_challenge == pytest.approx(1.0, abs=1e-6)


def test_tcg_a_straddle_never_deters_a_determined_challenger():
    """Zagare & Kilgour (2006): a straddle (probabilistic support) always fails to deter a
    challenger that prefers fighting to backing down. Wherever the defender straddles, every
    Hard challenger still demands: P(challenge) >= pCh."""
    seen = 0
    for p_ch in (0.3, 0.5, 0.7, 0.9):
        for p_def in (0.0, 0.3):
            for p_pro in (0.1, 0.2, 0.3, 0.4):
                r = solve_tcg(p_ch, p_def, p_pro, steps=15)
                if r.family == "Straddle Equilibrium":
                    seen += 1
                    assert r.p_challenge >= p_ch - 1e-6
    assert seen >= 8  # the straddle region is actually probed
