"""The vectorised experiment function agrees with the case-by-case path: sampled values
written into the case, shocks and levers applied by ``apply_interventions``, engines run
through ``alliancelab.forecast`` / ``dynamics.simulate``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from alliancelab import forecast
from alliancelab.core.problem import Problem
from alliancelab.explore import policies, uncertainties
from alliancelab.explore.model import ExperimentModel
from alliancelab.explore.samplers import experiment_seed, root_sequence, sample
from alliancelab.formats import read_case
from alliancelab.scenarios.parameters import case_with

DATA = Path(__file__).parent / "data"
interventions = pytest.importorskip("alliancelab.scenarios.interventions")


@pytest.fixture(scope="module")
def setup():
    case = read_case(DATA / "explore_case.yaml")
    params = uncertainties(case, ["china_retaliation"])
    pols = policies(case, ["sustained_presence", "common_vision", "common_vision+consultation"])
    X = sample("lhs", params, 12, root_sequence(5))
    return case, params, pols, X


def _case_for(case, params, pols, X, e):
    """Experiment e the slow way: a validated case per experiment."""
    s, j = divmod(e, len(pols))
    values = {p.name: X[s, c] for c, p in enumerate(params) if not p.boolean}
    names = []
    if X[s, -1] >= 0.5:
        names.append("china_retaliation")
    names.extend(pols[j].levers)
    sampled = case_with(case, values)
    return sampled, names


def test_arrays_match_apply_interventions(setup):
    case, params, pols, X = setup
    model = ExperimentModel.build(case, params, pols, shocks=("china_retaliation",),
                                  models=("compromise",))
    ids = np.arange(len(X) * len(pols))
    cap, pos, sal, sq = model.arrays(ids, X[ids // len(pols)])
    assert X[:, -1].min() < 0.5 <= X[:, -1].max()  # both with and without the shock
    for e in ids:
        sampled, names = _case_for(case, params, pols, X, int(e))
        truth = Problem.from_case(interventions.apply_interventions(sampled, names))
        np.testing.assert_allclose(cap[e], truth.capability, rtol=1e-12)
        np.testing.assert_allclose(pos[e], truth.position, rtol=1e-12)
        np.testing.assert_allclose(sal[e], truth.salience, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(sq[e], truth.status_quo, rtol=1e-12)


def test_engines_match_forecast(setup):
    case, params, pols, X = setup
    pytest.importorskip("alliancelab.models.bargaining.bdm_scholz")
    model = ExperimentModel.build(case, params, pols, shocks=("china_retaliation",),
                                  models=("compromise", "bdm"), rounds=10)
    ids = np.array([0, 5, 11, 30, 47])
    Y = model.evaluate(ids, X[ids // len(pols)])
    d = len(case.issues)
    for r, e in enumerate(ids):
        sampled, names = _case_for(case, params, pols, X, int(e))
        final = interventions.apply_interventions(sampled, names)
        np.testing.assert_allclose(Y[r, :d], forecast(final, "compromise").forecast,
                                   rtol=1e-12)
        np.testing.assert_allclose(Y[r, d:], forecast(final, "bdm-scholz", rounds=10).forecast,
                                   rtol=1e-12)


def test_dynamics_outcomes_match_simulate(setup):
    case, params, pols, X = setup
    dynamics = pytest.importorskip("alliancelab.models.dynamics")
    model = ExperimentModel.build(case, params, pols, shocks=("china_retaliation",),
                                  models=("dynamics",), entropy=99)
    ids = np.array([2, 7])
    Y = model.evaluate(ids, X[ids // len(pols)])
    for r, e in enumerate(ids):
        sampled, names = _case_for(case, params, pols, X, int(e))
        sim = dynamics.simulate(sampled, model="compromise", interventions=names,
                                rng=experiment_seed(99, int(e)))
        want = [sim.final_outcomes()[k] for k in case.issue_names]
        np.testing.assert_allclose(Y[r, : len(want)], want, rtol=1e-12)


def test_compromise_batch_falls_back_like_the_engine():
    from alliancelab.explore.model import compromise_batch
    from alliancelab.models.bargaining.compromise import Compromise

    cap = np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 0.0]])
    pos = np.array([[[10.0], [20.0], [60.0]], [[0.0], [50.0], [100.0]]])
    sal = np.array([[[0.0], [0.0], [0.0]], [[0.2], [0.9], [0.5]]])  # row 0: all-zero weights
    got = compromise_batch(cap, pos, sal)
    for r in range(2):
        prob = Problem.from_arrays(cap[r], pos[r], sal[r])
        want = Compromise().solve(prob, np.random.default_rng(0)).forecast
        np.testing.assert_allclose(got[r], want)
