"""The contract every engine keeps (issue 2, "One contract test"; issue 10: shipped as
:func:`alliancelab.testing.check_engine`, whose docstring lists the properties and their
tolerances).

Every registered engine must pass ``check_engine``; a deliberately broken toy engine for each
property must fail it, with that property named; and the facade :func:`alliancelab.forecast`
keeps its own promises (an int seed and a Generator seeded alike agree; too few actors is a
one-line user error).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import Phase, settings

import alliancelab
from alliancelab.core.case import Case
from alliancelab.models.bargaining import ENGINES, Engine, Outcome, Problem, engine_class
from alliancelab.models.bargaining.base import static_outcome
from alliancelab.models.bargaining.compromise import Compromise
from alliancelab.testing import (
    CHECKS,
    EngineContractError,
    check_engine,
    permuted,
    scaled_capabilities,
)

MODELS = list(ENGINES)

#: slow engines get fewer and smaller random cases
OPTIONS: dict[str, dict[str, int]] = {"smp": {"max_actors": 6, "max_issues": 2, "max_examples": 20}}


def _engine(model: str) -> type[Engine]:
    try:
        return engine_class(model)
    except (ImportError, AttributeError) as exc:  # engine module not written yet
        pytest.fail(f"engine {model!r} is registered but cannot be imported: {exc}")


@pytest.mark.parametrize("model", MODELS)
def test_every_registered_engine_keeps_the_contract(model: str) -> None:
    cls = _engine(model)
    assert cls.name == model, "the registry name and the engine's name differ"
    check_engine(cls, **OPTIONS.get(model, {}))


def test_check_engine_takes_an_instance_with_options() -> None:
    check_engine(engine_class("nash")(disagreement="status_quo"), max_examples=10)


# ------------------------------------------------------------------- broken toy engines
def _weighted(problem: Problem, w: np.ndarray) -> np.ndarray:
    w = np.broadcast_to(w, problem.position.shape)
    return (w * problem.position).sum(axis=0) / w.sum(axis=0)


class OutsideTheHull(Compromise):
    """Forecasts beyond the highest position."""

    name = "outside"

    def solve(self, problem: Problem, rng: np.random.Generator) -> Outcome:
        return static_outcome(problem, problem.position.max(axis=0) + 1.0)


class OrderDependent(Compromise):
    """Weights actors by their place in the list."""

    name = "order"

    def solve(self, problem: Problem, rng: np.random.Generator) -> Outcome:
        w = np.arange(1.0, problem.n_actors + 1)[:, None]
        return static_outcome(problem, _weighted(problem, w))


class CapabilityPower(Compromise):
    """Weights by capability squared plus one: the unit of capability matters."""

    name = "power"

    def solve(self, problem: Problem, rng: np.random.Generator) -> Outcome:
        w = (problem.capability**2 + 1.0)[:, None]
        return static_outcome(problem, _weighted(problem, w))


class Mutating(Compromise):
    """Normalises the capabilities in place."""

    name = "mutating"

    def solve(self, problem: Problem, rng: np.random.Generator) -> Outcome:
        problem.capability[:] = problem.capability + 1.0
        return super().solve(problem, rng)


class Aliasing(Compromise):
    """Returns the problem's own position array as round 0."""

    name = "aliasing"

    def solve(self, problem: Problem, rng: np.random.Generator) -> Outcome:
        out = super().solve(problem, rng)
        return Outcome(problem.position[None], out.forecast, out.diagnostics)


class Unseeded(Compromise):
    """Draws from its own unseeded Generator instead of ``rng`` (a tiny jitter that stays
    inside the hull)."""

    name = "unseeded"

    def solve(self, problem: Problem, rng: np.random.Generator) -> Outcome:
        out = super().solve(problem, rng)
        jitter = np.random.default_rng().uniform(-1e-13, 1e-13, problem.n_issues)
        width = problem.upper - problem.lower
        lo, hi = problem.position.min(axis=0), problem.position.max(axis=0)
        return static_outcome(problem, np.clip(out.forecast + jitter * width, lo, hi))


class NotUnanimous(Compromise):
    """Moves a unanimous case towards the middle of the scale."""

    name = "not-unanimous"
    iterative = True

    def solve(self, problem: Problem, rng: np.random.Generator) -> Outcome:
        x0 = problem.position
        mid = (problem.lower + problem.upper) / 2
        rounds = np.stack([x0, 0.5 * (x0 + mid)])
        lo, hi = x0.min(axis=0), x0.max(axis=0)
        return Outcome(rounds, np.clip(super().solve(problem, rng).forecast, lo, hi))


class BadBatch(Compromise):
    """A 'vectorised' batch that returns the rows in reverse order."""

    name = "bad-batch"

    def solve_batch(self, problems, rngs):  # type: ignore[no-untyped-def]
        return super().solve_batch(problems, rngs)[::-1]


class NoCheck(Compromise):
    """Declares three actors but lets fewer through."""

    name = "no-check"
    min_actors = 3

    def check(self, problem: Problem) -> None:
        pass


class HiddenOption(Compromise):
    """Stores its option under another name, so ``get_params`` loses it."""

    name = "hidden"

    def __init__(self, weight: float = 1.0) -> None:
        self.w = weight


class BadDeclaration(Compromise):
    name = "bad-declaration"
    min_actors = 0


#: a broken engine is known to fail: finding the failure is the point, not shrinking it
NO_SHRINKING = settings(phases=[Phase.explicit, Phase.reuse, Phase.generate])

BROKEN = [
    (BadDeclaration, "declares its contract", "min_actors"),
    (HiddenOption, "get_params", "weight"),
    (NoCheck, "check refuses too few actors", "accepted"),
    (OutsideTheHull, "forecast inside the hull", "outside"),
    (Mutating, "no mutation of the problem", "capability"),
    (Aliasing, "no mutation of the problem", "shares memory"),
    (Unseeded, "fixed seed reproducibility", "different"),
    (OrderDependent, "permutation invariance", "order"),
    (CapabilityPower, "capability scaling invariance", "capabilities x"),
    (NotUnanimous, "unanimity", "common position"),
    (BadBatch, "solve_batch equals the solve loop", "solve_batch"),
]


def test_every_property_has_a_broken_engine() -> None:
    assert sorted({prop for _, prop, _ in BROKEN}) == sorted(CHECKS)


@pytest.mark.parametrize(("engine", "prop", "detail"), BROKEN, ids=[b[0].name for b in BROKEN])
def test_a_broken_engine_fails_the_contract_naming_the_property(
    engine: type[Engine], prop: str, detail: str
) -> None:
    with pytest.raises(AssertionError) as info:
        check_engine(
            engine, max_examples=15, max_actors=5, max_issues=2, hypothesis_settings=NO_SHRINKING
        )
    err = info.value
    assert isinstance(err, EngineContractError)
    assert err.property == prop, str(err)
    message = str(err)
    assert f"property {prop!r}" in message and engine.__name__ in message
    assert detail in message, message


def test_only_the_chosen_checks_run() -> None:
    check_engine(OrderDependent, checks=["forecast inside the hull"], max_examples=5)
    with pytest.raises(ValueError, match="unknown checks"):
        check_engine(Compromise, checks=["no such property"])
    with pytest.raises(TypeError):
        check_engine(int)  # type: ignore[arg-type]


# ------------------------------------------------------------------- the facade
@pytest.mark.parametrize("model", MODELS)
def test_an_int_seed_and_a_generator_seeded_alike_agree(model: str) -> None:
    case = Case.model_validate(
        {
            "name": "four",
            "issues": [{"name": "x"}, {"name": "y"}],
            "actors": [
                {
                    "name": f"a{i}",
                    "capability": 1 + i,
                    "positions": {"x": 10 + 25 * i, "y": 90 - 20 * i},
                    "saliences": {"x": 0.4 + 0.1 * i, "y": 0.9 - 0.2 * i},
                }
                for i in range(4)
            ],
        }
    )
    a = alliancelab.forecast(case, model, rng=7)
    b = alliancelab.forecast(case, model, rng=np.random.default_rng(7))
    assert a.seed == 7
    np.testing.assert_array_equal(a.rounds, b.rounds)
    np.testing.assert_array_equal(a.forecast, b.forecast)


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
    with pytest.raises(alliancelab.AllianceLabError, match="at least") as info:
        alliancelab.forecast(case, model)
    assert "\n" not in str(info.value)


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
