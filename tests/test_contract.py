"""The contract every engine keeps (issue 2, "One contract test"), on random valid cases from
:mod:`alliancelab.testing`:

* the forecast lies within the range of the positions, issue by issue;
* permuting the actors changes nothing (forecast, and every actor's trajectory permuted);
* scaling every capability by the same factor changes nothing;
* a unanimous case returns the common position (and nobody moves);
* the same seed gives the same result.

The random cases include actors' misperceptions of each other (``perceptions.estimates``),
which permutation and scaling must carry along; the unanimous cases have none (an actor who
believes another stands elsewhere does not see a unanimous case).

Tolerances are relative to the issue's scale width: 1e-9 for the range and unanimity
properties, 1e-7 for permutation and scaling (a reordered or rescaled sum rounds differently;
iterative models carry that over their rounds). Scaling by a power of two is exact in
floating point, so there the results must agree to 1e-12.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import alliancelab
from alliancelab.core.case import Case
from alliancelab.models.bargaining import ENGINES, Problem, engine_class
from alliancelab.testing import cases, permuted, scaled_capabilities

MODELS = list(ENGINES)

#: models that are slow on large cases get smaller random cases
MAX_ACTORS = {"smp": 6}
MAX_ISSUES = {"smp": 2}
EXAMPLES = {"smp": 20}

PROPERTY = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _engine(model: str) -> type:
    try:
        return engine_class(model)
    except (ImportError, AttributeError) as exc:  # engine module not written yet
        pytest.fail(f"engine {model!r} is registered but cannot be imported: {exc}")


def _cases(model: str, **kwargs: object) -> st.SearchStrategy[Case]:
    lo = max(1, _engine(model).min_actors)
    hi = max(lo, MAX_ACTORS.get(model, 8))
    return cases(min_actors=lo, max_actors=hi, max_issues=MAX_ISSUES.get(model, 3), **kwargs)


def _settings(model: str) -> settings:
    return settings(PROPERTY, max_examples=EXAMPLES.get(model, PROPERTY.max_examples))


def _width(case: Case) -> np.ndarray:
    return np.array([i.scale.max - i.scale.min for i in case.issues])


def _within(diff: np.ndarray, tol: np.ndarray) -> None:
    """Every entry of ``diff`` (last axis = issues) is at most ``tol`` (per issue)."""
    diff = np.abs(diff)
    assert np.all(diff <= tol), f"differs by up to {diff.max():.3g} (tolerance {tol.min():.3g})"


def _run(case: Case, model: str, seed: int = 0) -> alliancelab.Forecast:
    return alliancelab.forecast(case, model, rng=seed)


@pytest.mark.parametrize("model", MODELS)
def test_forecast_lies_within_the_range_of_the_positions(model: str) -> None:
    @_settings(model)
    @given(case=_cases(model, estimates=True))
    def check(case: Case) -> None:
        result = _run(case, model)
        pos = Problem.from_case(case).position
        tol = 1e-9 * _width(case)
        assert result.forecast.shape == (len(case.issues),)
        assert result.rounds.shape[1:] == pos.shape
        assert np.all(np.isfinite(result.forecast))
        np.testing.assert_array_equal(result.rounds[0], pos)  # round 0 is the input
        assert np.all(result.forecast >= pos.min(axis=0) - tol), (result.forecast, pos)
        assert np.all(result.forecast <= pos.max(axis=0) + tol), (result.forecast, pos)

    check()


@pytest.mark.parametrize("model", MODELS)
def test_zero_capabilities_and_saliences_still_give_a_forecast_in_range(model: str) -> None:
    """Capabilities and saliences of exactly 0 are valid input (an actor that does not care,
    or has no clout); the forecast must stay finite and within the positions."""

    @_settings(model)
    @given(case=_cases(model, degenerate=True))
    def check(case: Case) -> None:
        result = _run(case, model)
        pos = Problem.from_case(case).position
        tol = 1e-9 * _width(case)
        assert np.all(np.isfinite(result.forecast))
        assert np.all(result.forecast >= pos.min(axis=0) - tol)
        assert np.all(result.forecast <= pos.max(axis=0) + tol)

    check()


@pytest.mark.parametrize("model", MODELS)
def test_permuting_the_actors_changes_nothing(model: str) -> None:
    @_settings(model)
    @given(data=st.data(), case=_cases(model, estimates=True))
    def check(data: st.DataObject, case: Case) -> None:
        order = data.draw(st.permutations(list(range(len(case.actors)))), label="order")
        a = _run(case, model)
        b = _run(permuted(case, order), model)
        tol = 1e-7 * _width(case)
        assert b.actors == tuple(a.actors[j] for j in order)
        _within(np.abs(a.forecast - b.forecast), tol)
        assert a.rounds.shape == b.rounds.shape, "a different number of rounds"
        # actor k of the permuted run is actor order[k] of the original run
        diff = np.abs(a.rounds[:, list(order), :] - b.rounds)
        _within(diff, tol)

    check()


@pytest.mark.parametrize("model", MODELS)
def test_scaling_every_capability_changes_nothing(model: str) -> None:
    @_settings(model)
    @given(
        case=_cases(model, estimates=True),
        factor=st.sampled_from([2.0**-20, 0.25, 8.0, 2.0**30])
        | st.floats(1e-3, 1e3, allow_subnormal=False),
    )
    def check(case: Case, factor: float) -> None:
        a = _run(case, model)
        b = _run(scaled_capabilities(case, factor), model)
        exact = float(np.log2(factor)).is_integer()
        tol = (1e-12 if exact else 1e-7) * _width(case)
        _within(np.abs(a.forecast - b.forecast), tol)
        assert a.rounds.shape == b.rounds.shape, "a different number of rounds"
        _within(np.abs(a.rounds - b.rounds), tol)

    check()


@pytest.mark.parametrize("model", MODELS)
def test_a_unanimous_case_returns_the_common_position(model: str) -> None:
    @_settings(model)
    @given(case=_cases(model, unanimous=True))
    def check(case: Case) -> None:
        result = _run(case, model)
        common = Problem.from_case(case).position[0]
        tol = 1e-9 * _width(case)
        _within(np.abs(result.forecast - common), tol)
        # nobody has a reason to move: every round keeps everyone at the common position
        _within(np.abs(result.rounds - common), tol)

    check()


@pytest.mark.parametrize("model", MODELS)
def test_the_same_seed_gives_the_same_result(model: str) -> None:
    @_settings(model)
    @given(case=_cases(model, estimates=True), seed=st.integers(0, 2**32))
    def check(case: Case, seed: int) -> None:
        a = _run(case, model, seed)
        b = _run(case, model, seed)
        assert a.seed == b.seed == seed
        np.testing.assert_array_equal(a.rounds, b.rounds)
        np.testing.assert_array_equal(a.forecast, b.forecast)
        assert json.dumps(a.to_dict()["diagnostics"], sort_keys=True) == json.dumps(
            b.to_dict()["diagnostics"], sort_keys=True
        )
        # a Generator seeded the same way gives the same result as the int seed
        c = alliancelab.forecast(case, model, rng=np.random.default_rng(seed))
        np.testing.assert_array_equal(a.rounds, c.rounds)

    check()


@pytest.mark.parametrize("model", MODELS)
def test_the_engine_declares_its_contract(model: str) -> None:
    cls = _engine(model)
    assert cls.name == model
    assert isinstance(cls.min_actors, int) and cls.min_actors >= 1
    assert isinstance(cls.iterative, bool)


@pytest.mark.parametrize("model", MODELS)
def test_too_few_actors_is_a_user_error(model: str) -> None:
    cls = _engine(model)
    if cls.min_actors <= 1:
        pytest.skip(f"{model} works with a single actor")
    case = Case.model_validate(
        {
            "name": "small",
            "issues": [{"name": "x"}],
            "actors": [
                {
                    "name": f"a{i}",
                    "capability": 1,
                    "positions": {"x": 10 * i},
                    "saliences": {"x": 0.5},
                }
                for i in range(cls.min_actors - 1)
            ],
        }
    )
    with pytest.raises(alliancelab.AllianceLabError, match="at least"):
        alliancelab.forecast(case, model)


def test_the_case_transformations() -> None:
    """``permuted`` reorders actors only; ``scaled_capabilities`` scales every capability,
    estimated capability and capability range."""
    case = Case.model_validate(
        {
            "name": "t",
            "issues": [{"name": "x"}],
            "actors": [
                {
                    "name": "A",
                    "capability": {"value": 2, "range": [1, 3]},
                    "positions": {"x": 10},
                    "saliences": {"x": 0.5},
                    "perceptions": {"estimates": {"B": {"capability": 4}}},
                },
                {"name": "B", "capability": 6, "positions": {"x": 90}, "saliences": {"x": 1}},
            ],
        }
    )
    swapped = permuted(case, [1, 0])
    assert swapped.actor_names == ("B", "A")
    assert swapped.actor("A") == case.actor("A")
    with pytest.raises(ValueError):
        permuted(case, [0, 0])
    scaled = scaled_capabilities(case, 0.5)
    assert scaled.actor("A").capability.value == 1 and scaled.actor("A").capability.range == (
        0.5,
        1.5,
    )
    assert scaled.actor("B").capability.value == 3
    estimate = scaled.actor("A").perceptions.estimates["B"].capability
    assert estimate is not None and estimate.value == 2
    p = Problem.from_case(scaled)
    np.testing.assert_array_equal(p.perceived_capability, [[1, 2], [1, 3]])
