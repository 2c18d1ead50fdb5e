"""The vectorised experiment function agrees with the case-by-case path: sampled values
written into the case (``with_values``), shocks and levers applied by
``apply_interventions``, every engine of the registry run through ``alliancelab.forecast``,
the dynamics through ``simulate_scenario``."""

from __future__ import annotations

from dataclasses import fields as dataclass_fields
from pathlib import Path

import numpy as np
import pytest

from alliancelab import forecast
from alliancelab.core.errors import AllianceLabError
from alliancelab.core.problem import Problem
from alliancelab.explore import DEFAULT_MODELS, MODELS, policies, uncertainties
from alliancelab.explore.model import (
    BY_ISSUE,
    DISTINCT_SHARE,
    ExperimentModel,
    ExperimentRngs,
    _distinct,
    outcome_names,
)
from alliancelab.explore.samplers import experiment_seed, root_sequence, sample
from alliancelab.formats import read_case
from alliancelab.models.bargaining import ENGINES
from alliancelab.scenarios.batch import ACTOR_FIELDS, ISSUE_FIELDS
from alliancelab.scenarios.interventions import apply_interventions
from alliancelab.scenarios.scenario import simulate_scenario
from alliancelab.scenarios.uncertainty import with_values

DATA = Path(__file__).parent / "data"
FIELDS = ("capability", "position", "salience", "status_quo", "perceived_position",
          "perceived_salience", "perceived_capability", "weight", "floor", "ceiling")


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
    values = [p for p in params if not p.boolean]
    names = []
    if X[s, -1] >= 0.5:
        names.append("china_retaliation")
    names.extend(pols[j].levers)
    return with_values(case, values, X[s, : len(values)]), names


def test_models_are_the_engine_registry():
    assert MODELS == (*ENGINES, "dynamics")
    assert set(DEFAULT_MODELS) == {"compromise", "bdm-scholz"}


def test_problems_match_apply_interventions(setup):
    case, params, pols, X = setup
    model = ExperimentModel.build(case, params, pols, shocks=("china_retaliation",),
                                  models=("compromise",))
    ids = np.arange(len(X) * len(pols))
    problems = model.batch(ids, X[ids // len(pols)]).problems()
    assert X[:, -1].min() < 0.5 <= X[:, -1].max()  # both with and without the shock
    for e in ids:
        sampled, names = _case_for(case, params, pols, X, int(e))
        truth = Problem.from_case(apply_interventions(sampled, names))
        for f in FIELDS:
            np.testing.assert_allclose(getattr(problems[e], f), getattr(truth, f),
                                       rtol=1e-12, atol=1e-12, err_msg=f)


@pytest.mark.parametrize("engine", list(ENGINES))
def test_every_engine_matches_forecast(setup, engine):
    case, params, pols, X = setup
    model = ExperimentModel.build(case, params, pols, shocks=("china_retaliation",),
                                  models=(engine,), rounds=6, entropy=3)
    assert model.outcome_names == tuple(f"{engine}.{k}" for k in case.issue_names)
    ids = np.array([0, 5, 11, 30, 47])
    Y = model.evaluate(ids, X[ids // len(pols)])
    options = {"rounds": 6} if engine in ("bdm", "bdm-scholz") else {}
    for r, e in enumerate(ids):
        sampled, names = _case_for(case, params, pols, X, int(e))
        final = apply_interventions(sampled, names)
        rng = np.random.default_rng(experiment_seed(3, int(e)))
        want = forecast(final, engine, rng=rng, **options).forecast
        np.testing.assert_allclose(Y[r], want, rtol=1e-12, err_msg=engine)


def test_dynamics_outcomes_match_simulate(setup):
    case, params, pols, X = setup
    model = ExperimentModel.build(case, params, pols, shocks=("china_retaliation",),
                                  models=("dynamics",), entropy=99)
    ids = np.array([2, 7])
    Y = model.evaluate(ids, X[ids // len(pols)])
    for r, e in enumerate(ids):
        sampled, names = _case_for(case, params, pols, X, int(e))
        sim = simulate_scenario(sampled, names, model="compromise",
                                rng=experiment_seed(99, int(e)))
        want = [sim.final_outcomes()[k] for k in case.issue_names]
        np.testing.assert_allclose(Y[r, : len(want)], want, rtol=1e-12)


def test_unknown_model_and_too_few_actors(setup):
    case, params, pols, _ = setup
    with pytest.raises(AllianceLabError, match="unknown model 'magic'"):
        outcome_names(case, ["compromise", "magic"])
    two = case.model_copy(update={"actors": case.actors[:2]})
    with pytest.raises(AllianceLabError, match="'smp' needs at least 3 actors"):
        ExperimentModel.build(two, [], pols[:1], models=("smp",))


def test_experiment_rngs_are_the_experiment_seeds():
    rngs = ExperimentRngs(7, np.array([3, 10, 11]))
    assert len(rngs) == 3 and len(rngs[1:]) == 2
    want = np.random.default_rng(experiment_seed(7, 10)).random(3)
    np.testing.assert_array_equal(rngs[1].random(3), want)
    np.testing.assert_array_equal(list(rngs)[1].random(3), want)


@pytest.mark.parametrize("engine", BY_ISSUE)
def test_distinct_one_issue_inputs_run_once_with_the_same_numbers(setup, engine):
    """Every policy of a few scenarios in one batch: the issues a lever leaves alone repeat
    across the policies, so the engine runs each distinct one-issue input once - and gives
    forecast()'s numbers for every experiment."""
    case, params, pols, X = setup
    model = ExperimentModel.build(case, params, pols, shocks=("china_retaliation",),
                                  models=(engine,), rounds=5)
    ids = np.arange(4 * len(pols))
    batch = model.batch(ids, X[ids // len(pols)])
    distinct = sum(len(_distinct(batch.issue_keys(k))[0]) for k in range(len(case.issues)))
    assert distinct <= DISTINCT_SHARE * len(ids) * len(case.issues)  # the merged path runs
    Y = model.evaluate(ids, X[ids // len(pols)])
    for r, e in enumerate(ids):
        sampled, names = _case_for(case, params, pols, X, int(e))
        want = forecast(apply_interventions(sampled, names), engine, rounds=5).forecast
        np.testing.assert_allclose(Y[r], want, rtol=1e-12, err_msg=f"{engine} {e}")


def test_every_array_field_of_a_problem_is_sliced_by_issue_or_kept():
    """The one-issue problems of the merged path slice every field of the issues' axis: a
    new array field of Problem must be listed in ISSUE_FIELDS or ACTOR_FIELDS."""
    problem = Problem.from_case(read_case(DATA / "explore_case.yaml"))
    arrays = {f.name for f in dataclass_fields(problem)
              if isinstance(getattr(problem, f.name), np.ndarray)}
    assert arrays == set(ISSUE_FIELDS) | set(ACTOR_FIELDS)
