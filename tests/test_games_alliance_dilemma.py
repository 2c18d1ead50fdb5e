"""Snyder's alliance game and Morrow's autonomy-security trade-off."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alliancelab.core.errors import AllianceLabError
from alliancelab.models.games.alliance_dilemma import (
    AllyPayoffs,
    alliance_game,
    logit_qre_2x2,
    morrow_concession,
    morrow_gain,
    nash_2x2,
)

pos = st.floats(0.05, 2.0)


@settings(max_examples=40, deadline=None)
@given(b=pos, k=pos, a=pos, r=pos)
def test_snyder_game_type(b, k, a, r):
    """Snyder (1984): r < k -> Prisoner's Dilemma (weak commitment dominant, unique NE DD);
    r > k -> assurance game with two pure equilibria and a mixed one."""
    if abs(r - k) < 1e-3:
        return
    p = AllyPayoffs(b, k, a, r)
    res = alliance_game(p, p, 0.5)
    if r < k:
        assert res.game == "prisoners-dilemma" and res.equilibria == ((0.0, 0.0),)
        assert res.abandonment > 0.5
    else:
        assert res.game == "assurance" and len(res.equilibria) == 3


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-3, 3), min_size=8, max_size=8))
def test_nash_2x2_are_equilibria(vals):
    a = np.array(vals[:4]).reshape(2, 2)
    b = np.array(vals[4:]).reshape(2, 2)
    for p, q in nash_2x2(a, b):
        x, y = np.array([p, 1 - p]), np.array([q, 1 - q])
        assert x @ a @ y >= max(a @ y) - 1e-9
        assert x @ b @ y >= max(x @ b) - 1e-9


def test_qre_tends_to_nash():
    pd_row = AllyPayoffs(1.0, 0.6, 0.5, 0.2).matrix()
    p, q = logit_qre_2x2(pd_row, pd_row.T, lam=200)
    assert p < 1e-3 and q < 1e-3
    p0, q0 = logit_qre_2x2(pd_row, pd_row.T, lam=0.0)
    assert p0 == pytest.approx(0.5) and q0 == pytest.approx(0.5)


def test_more_us_commitment_incentive_less_abandonment():
    rok = AllyPayoffs(0.6, 0.5, 0.4, 0.4)
    low = alliance_game(rok, AllyPayoffs(0.5, 0.6, 0.3, 0.5), 0.3)
    high = alliance_game(rok, AllyPayoffs(0.9, 0.2, 0.3, 0.5), 0.3)
    assert high.abandonment < low.abandonment
    assert high.entrapment > low.entrapment  # Snyder: the two risks trade off


@settings(max_examples=40, deadline=None)
@given(s0=pos, a0=pos, k=pos, g=pos)
def test_morrow_first_order_condition(s0, a0, k, g):
    x, ds = morrow_concession(s0, a0, k, g)
    assert 0 <= x <= a0 and ds == pytest.approx(k * x)
    assert morrow_gain(s0, a0, k, g) >= -1e-12
    if 0 < x < a0:
        assert k / (s0 + k * x) == pytest.approx(g / (a0 - x), rel=1e-9)
    # a dearer security (lower price k) never buys a larger concession
    x2, _ = morrow_concession(s0, a0, k * 1.5, g)
    assert x2 >= x - 1e-12


def test_morrow_rejects_bad_input():
    with pytest.raises(AllianceLabError):
        morrow_concession(0, 1, 1, 1)


@settings(max_examples=30, deadline=None)
@given(t=st.floats(0, 1), p=st.floats(0, 1), d=st.floats(0.01, 0.5))
def test_adversary_game_firmness(t, p, d):
    """Snyder's adversary game: firmness is more likely the larger the threat it deters and
    the smaller the provocation it risks; indifferent at equality."""
    from alliancelab.models.games.alliance_dilemma import adversary_game_firmness

    f = adversary_game_firmness(t, p)
    assert 0 < f < 1
    assert adversary_game_firmness(t + d, p) > f > adversary_game_firmness(t, p + d)
    assert adversary_game_firmness(p, p) == pytest.approx(0.5)
