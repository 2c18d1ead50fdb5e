"""Richardson's arms-race model: stability condition and calibration."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alliancelab.calibration import cinc, spending
from alliancelab.core.errors import AllianceLabError
from alliancelab.models.economics.arms_race import Richardson, fit

coef = st.floats(0.01, 3.0)


@settings(max_examples=100, deadline=None)
@given(k=coef, a=coef, l=coef, b=coef, g=st.floats(-1, 1), h=st.floats(-1, 1))
def test_stable_iff_ab_greater_kl(k, a, l, b, g, h):  # noqa: E741
    """Richardson (1960): with a, b > 0 the equilibrium is stable iff a b > k l."""
    m = Richardson(k, a, g, l, b, h)
    if abs(a * b - k * l) < 1e-6:
        return
    assert m.stable == bool(np.all(m.eigenvalues().real < 0))
    assert m.stable == (a * b > k * l)
    x, y = m.equilibrium()
    assert m.matrix() @ np.array([x, y]) + np.array([g, h]) == pytest.approx([0, 0], abs=1e-8)


def test_stable_race_converges_unstable_diverges():
    t = np.linspace(0, 40, 5)
    s = Richardson(k=0.5, a=1.0, g=1.0, l=0.5, b=1.0, h=0.5)
    path = s.simulate(0.0, 0.0, t)
    assert path[-1] == pytest.approx(s.equilibrium(), abs=1e-6)
    u = Richardson(k=1.5, a=1.0, g=1.0, l=1.5, b=1.0, h=0.5)
    assert not u.stable and u.tension() > 1
    assert np.abs(u.simulate(0.0, 0.0, t)[-1]).max() > 1e6


def test_fit_recovers_parameters_from_simulated_data():
    true = Richardson(k=0.3, a=0.5, g=2.0, l=0.2, b=0.4, h=1.0)
    rng = np.random.default_rng(7)
    x, y = [1.0], [3.0]
    for _ in range(60):
        dx = true.k * y[-1] - true.a * x[-1] + true.g + rng.normal(0, 0.05)
        dy = true.l * x[-1] - true.b * y[-1] + true.h + rng.normal(0, 0.05)
        x.append(x[-1] + dx)
        y.append(y[-1] + dy)
    f = fit(np.arange(61), np.array(x), np.array(y))
    for name in ("k", "a", "l", "b"):
        assert getattr(f.model, name) == pytest.approx(getattr(true, name), abs=0.1)
    assert f.richardson_consistent and f.model.stable


def test_fit_rejects_short_series():
    with pytest.raises(AllianceLabError):
        fit(np.arange(4), np.ones(4), np.ones(4))


def test_rok_dprk_calibration_on_nmc():
    """NMC milex (US$ bn current), 1960-2001: Seoul reacts to Pyongyang (k > 0, t > 3) but
    Pyongyang's reaction to Seoul is not distinguishable from zero (l < 0): the data do not
    support a two-sided Richardson process; the case's tension index is illustrative."""
    t = cinc.load()
    rok = t[t.ccode == 732].set_index("year").milex
    prk = t[t.ccode == 731].set_index("year").milex
    yrs = np.arange(1955, 2017)
    f = fit(yrs, rok.reindex(yrs).to_numpy() / 1e6, prk.reindex(yrs).to_numpy() / 1e6)
    assert f.years == (1960, 2001) and f.n == 41
    assert f.model.k == pytest.approx(0.490, abs=1e-3)
    assert f.model.k / f.se["k"] > 3
    assert f.model.l == pytest.approx(-0.019, abs=1e-3)
    assert not f.richardson_consistent


def test_us_china_calibration_on_sipri():
    """SIPRI US$ bn current, 1989-2018: China's spending tracks US spending (l > 0, t > 5)
    but US spending does not react to China's (k < 0): not a Richardson process either."""
    s = spending.load_sipri_usd()
    yrs = np.arange(1989, 2019)
    f = fit(yrs, s["USA"].reindex(yrs).to_numpy() / 1e3, s["China"].reindex(yrs).to_numpy() / 1e3)
    assert f.n == 29
    assert f.model.l == pytest.approx(0.0475, abs=5e-4)
    assert f.model.l / f.se["l"] > 5
    assert f.model.k < 0 and not f.richardson_consistent
