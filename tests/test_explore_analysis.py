"""Sensitivity (Sobol, Morris), scenario discovery (PRIM) and robustness (regret): the
analysis functions (arrays and frames in, frames out) and the Exploration methods that feed
them from a store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alliancelab.analysis.discovery import prim
from alliancelab.analysis.robustness import regret_table, robust_overview, robustness
from alliancelab.analysis.sensitivity import morris_indices, sobol_indices
from alliancelab.core.errors import AllianceLabError
from alliancelab.explore import explore
from alliancelab.formats import read_case
from alliancelab.report.figures_explore import tornado, tradeoff_plot

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def case():
    return read_case(DATA / "explore_case.yaml")


def test_sobol_indices_separate_relevant_from_irrelevant(case, tmp_path):
    ex = explore(case, n=256, sampler="sobol", models=("compromise",), seed=1, store=tmp_path)
    si = ex.sensitivity("compromise.troops")
    y = ex.scenario_outcomes(["compromise.troops"])["compromise.troops"].to_numpy()
    pd.testing.assert_frame_equal(si, sobol_indices(ex.parameters, y))
    assert {"S1", "S1_conf", "ST", "ST_conf"} <= set(si.columns)
    # the troop outcome cannot depend on china_stance numbers or on perceptions: the
    # Saltelli estimator gives exactly zero there (f(A_B^i) == f(A))
    for name in ("actors.Seoul.positions.china_stance", "issues.china_stance.status_quo",
                 "actors.White House.perceptions.threats.dprk"):
        assert si.loc[name, "ST"] == 0.0 and si.loc[name, "S1"] == 0.0
    top = si.index[0]
    assert top == "actors.White House.positions.troops"
    assert si.loc[top, "ST"] > 0.3 and si.loc[top, "ST_conf"] > 0
    fig = tornado(si, title="troops")
    assert len(fig.data) == 2 and fig.data[1].y[-1] == top  # largest on top


def test_morris_indices(case, tmp_path):
    ex = explore(case, n=20, sampler="morris", models=("compromise",), seed=1, store=tmp_path)
    mi = ex.sensitivity("compromise.china_stance")
    y = ex.scenario_outcomes(["compromise.china_stance"])["compromise.china_stance"]
    pd.testing.assert_frame_equal(mi, morris_indices(ex.parameters, ex.design(), y))
    assert mi.loc["actors.Seoul.saliences.troops", "mu_star"] == 0.0
    assert mi.index[0] in {"actors.White House.positions.china_stance",
                           "actors.Seoul.positions.china_stance",
                           "actors.Pentagon.positions.china_stance"}
    assert (mi["mu_star_conf"] >= 0).all()
    with pytest.raises(AllianceLabError, match="--sampler sobol"):
        ex.sensitivity("compromise.china_stance", method="sobol")


def test_prim_recovers_a_known_box():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.random((4000, 4)), columns=["a", "b", "c", "d"])
    X["flag"] = rng.random(4000) < 0.5
    y = (X["a"] > 0.6) & (X["b"] < 0.3)
    res = prim(X, y.to_numpy())
    tr = res.trajectory()
    peeled = tr[~tr["pasted"]]
    assert tr["coverage"].iloc[0] == 1.0 and peeled["mass"].is_monotonic_decreasing
    best = res.select(min_coverage=0.8)
    box = res.boxes[best]
    assert box.density > 0.9 and box.coverage >= 0.8
    lim = res.limits(best)
    assert set(lim.index) == {"a", "b"}
    assert abs(lim.loc["a", "low"] - 0.6) < 0.05 and abs(lim.loc["b", "high"] - 0.3) < 0.05
    fig = tradeoff_plot(res)
    assert len(fig.data[0].x) == len(res.boxes)


def test_prim_trajectory_is_monotone_in_density_while_peeling():
    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.random((2000, 3)), columns=["a", "b", "c"])
    y = X["c"].to_numpy() > 0.8
    res = prim(X, y, paste=False)
    dens = [b.density for b in res.boxes]
    assert all(d2 >= d1 - 1e-12 for d1, d2 in zip(dens, dens[1:], strict=False))
    assert [b.mass for b in res.boxes][-1] >= 0.05 - 1e-9


def test_discover_on_an_exploration(case, tmp_path):
    ex = explore(case, n=400, sampler="lhs", models=("compromise",), seed=3, store=tmp_path)
    res = ex.prim("compromise.troops", 22_000, direction="below")
    b = res.select(0.6)
    assert "actors.White House.positions.troops" in res.limits(b).index
    assert res.boxes[b].density > res.boxes[0].density


def test_regret_and_most_robust_lever(case, tmp_path):
    ex = explore(case, n=100, sampler="lhs", levers=["sustained_presence", "common_vision"],
                 shocks=["china_retaliation"], models=("compromise",), seed=4, store=tmp_path)
    R = ex.regret("compromise.troops", sense="max")
    res = ex.results()
    s0 = res[res["scenario"] == 0].set_index("policy")["compromise.troops"]
    np.testing.assert_allclose(R.loc[0].to_numpy(), (s0.max() - s0)[R.columns].to_numpy())
    assert (R >= 0).all().all()
    rb = ex.robustness("compromise.troops", sense="max")
    # setting US troop positions to 28,500 raises the troop outcome in every future
    assert rb.most_robust == "sustained_presence"
    assert rb.summary.loc["sustained_presence", "max_regret"] == 0.0
    rb_min = ex.robustness("compromise.troops", sense="min")
    assert rb_min.most_robust != "sustained_presence"
    assert rb_min.summary.loc["sustained_presence", "share_best"] == 0.0
    target = ex.robustness("compromise.china_stance", target=50.0)
    assert target.summary["max_regret"].min() == target.summary.loc[target.most_robust,
                                                                    "max_regret"]


def test_regret_and_robustness_on_frames():
    """Frames in, frames out: three policies over four scenarios."""
    y = pd.DataFrame({"none": [1.0, 2.0, 3.0, 4.0], "a": [2.0, 2.0, 2.0, 2.0],
                      "b": [0.0, 3.0, 3.5, 5.0]}, index=pd.Index(range(4), name="scenario"))
    R = regret_table(y, sense="max")
    np.testing.assert_allclose(R.to_numpy(), [[1, 0, 2], [1, 1, 0], [0.5, 1.5, 0], [1, 3, 0]])
    scen = pd.DataFrame({"u": [0.1, 0.5, 0.6, 0.9]}, index=y.index)
    rb = robustness(y, scen, outcome="y", sense="max")
    assert rb.most_robust == "none" and rb.summary.loc["none", "max_regret"] == 1.0
    ov = robust_overview({"y": y}).set_index("outcome")
    assert ov.loc["y", "more is better: most robust"] == "none"
    assert ov.loc["y", "less is better: most robust"] == "tie: none, a"
    with pytest.raises(AllianceLabError, match="sense must be"):
        regret_table(y, sense="best")


@pytest.mark.parametrize("seed", range(6))
def test_morris_mu_star_of_all_outcomes_at_once_is_salibs(seed: int) -> None:
    """The screening's ``mu*`` of every outcome in one pass equals, bit for bit,
    ``SALib.analyze.morris``'s ``mu_star`` outcome by outcome (its bootstrap, which the
    screening does not show, left out): a design in parameter units rounded to a grid (some
    steps move nothing) and a parameter that no step moves included."""
    from SALib.analyze import morris as salib_morris
    from SALib.sample import morris as salib_sample

    from alliancelab.analysis.sensitivity import MORRIS_LEVELS, morris_mu_star, salib_problem

    g = np.random.default_rng(seed)
    k, trajectories = int(g.integers(2, 25)), int(g.integers(2, 20))
    names = [f"x{i}" for i in range(k)]
    X = salib_sample.sample(salib_problem(names), trajectories, num_levels=MORRIS_LEVELS,
                            seed=seed + 1)
    X = np.round(X * 3) / 3 * 40.0 + 5.0
    X[:, 0] = 7.0
    Y = np.column_stack([np.sin(X @ g.normal(size=k) / 40.0), X[:, -1] ** 2, np.zeros(len(X))])
    got = morris_mu_star(X, Y)
    for j in range(Y.shape[1]):
        want = salib_morris.analyze(salib_problem(names), X, Y[:, j],
                                    num_levels=MORRIS_LEVELS, seed=0)["mu_star"]
        assert np.asarray(want, dtype=float).tobytes() == got[:, j].tobytes()
    assert got[0].tolist() == [0.0, 0.0, 0.0]


def _assert_same(a: object, b: object, path: str = "analysis") -> None:
    """``a`` and ``b`` hold the same numbers, frames and arrays bit for bit."""
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, check_exact=True, obj=path)
    elif isinstance(a, pd.Series):
        pd.testing.assert_series_equal(a, b, check_exact=True, obj=path)
    elif isinstance(a, np.ndarray):
        assert np.array_equal(a, b, equal_nan=True), path
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), path  # type: ignore[attr-defined]
        for k in a:
            _assert_same(a[k], b[k], f"{path}[{k!r}]")  # type: ignore[index]
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), path  # type: ignore[arg-type]
        for i, (x, y) in enumerate(zip(a, b, strict=True)):  # type: ignore[call-overload]
            _assert_same(x, y, f"{path}[{i}]")
    elif hasattr(a, "__dict__"):
        _assert_same(vars(a), vars(b), path)
    else:
        assert a == b or (a != a and b != b), (path, a, b)  # NaN equals NaN here


def test_an_exploration_held_in_memory_is_analysed_as_a_stored_one(case, tmp_path):
    """explore_in_memory (the sweep of ``alliancelab run``): the same manifest (design's
    SHA-256 included), results and analysis, number for number, as explore with a store."""
    from alliancelab.analysis.exploration import analyse
    from alliancelab.explore.runner import explore_in_memory

    opts = {"levers": ["sustained_presence", "common_vision"], "shocks": ["china_retaliation"],
            "models": ("compromise",)}
    stored = explore(case, n=60, sampler="lhs", seed=4, store=tmp_path / "lhs", **opts)
    held = explore_in_memory(case, n=60, sampler="lhs", seed=4, **opts)
    m_stored = explore(case, n=4, sampler="morris", seed=5, store=tmp_path / "morris",
                       shocks=opts["shocks"], models=opts["models"])
    m_held = explore_in_memory(case, n=4, sampler="morris", seed=5, shocks=opts["shocks"],
                               models=opts["models"])
    for a, b in ((stored, held), (m_stored, m_held)):
        assert {k: v for k, v in a.manifest.items() if k != "created"} == {
            k: v for k, v in b.manifest.items() if k != "created"}
        pd.testing.assert_frame_equal(a.results(), b.results(), check_exact=True)
        pd.testing.assert_frame_equal(a.summary(), b.summary(), check_exact=True)
        assert np.array_equal(a.design(), b.design())
    for outcome, sense in (("compromise.troops", "max"), ("compromise.troops", "min")):
        want = analyse(stored, outcome=outcome, sense=sense, screening=m_stored)
        got = analyse(held, outcome=outcome, sense=sense, screening=m_held)
        for f in ("manifest", "sensitivity_manifest"):
            for m in (getattr(want, f), getattr(got, f)):
                m.pop("created")
        for name in vars(want):
            if name != "store":
                _assert_same(getattr(want, name), getattr(got, name), name)
