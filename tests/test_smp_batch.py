"""``smp``'s lockstep: ``SMP._solve_batch`` steps the runs of a batch together
(:class:`~alliancelab.models.bargaining.smp._Lockstep`, the Monte Carlo draws of a case) and
must give every problem the forecast of :meth:`SMP._solve` bit for bit, however the problems
are batched: perceptions, arenas, actors without standing, runs stopping at different steps,
every option the lockstep takes, and the options it leaves to the one-by-one runs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_bdm_batch import _draws, _random_problem

from alliancelab.cases import resolve_case
from alliancelab.core.problem import Problem, normalise_all
from alliancelab.formats import read_case
from alliancelab.models.bargaining import smp as smp_module
from alliancelab.models.bargaining.smp import SMP, _Lockstep, _Run
from alliancelab.scenarios.uncertainty import draw
from alliancelab.testing import problems as problem_strategy

LOCKSTEP = [
    {},
    {"voting": "binary"},
    {"voting": "prop-bin", "victory": "square"},
    {"voting": "prop-cubic", "victory": "quartic"},
    {"voting": "cubic", "victory": "octic"},
    {"voting": "asym-prospect", "victory": "binary"},
    {"risk_range": "min", "risk_adjust": "none"},
    {"risk_range": "max", "risk_adjust": "half"},
    {"risk_adjust": "two-thirds", "third_party": "none"},
    {"risk_adjust": "full", "third_party": "full"},
    {"interpolation": "s1p1", "capability_scale": None},
    {"interpolation": "s2pmax"},
    {"transitions": "stochastic"},
    {"rounds": 3},
    {"min_rounds": 4, "tolerance": 0.0, "rounds": 9},
]
ONE_BY_ONE = [{"bargain": "init-rcvr"}, {"bargain": "pw-compromise"}, {"pce": "markov-uniform"}]


def _rngs(problems: Sequence[Problem]) -> list[np.random.Generator]:
    return [np.random.default_rng(k) for k in range(len(problems))]


def _assert_batched_like_the_loop(engine: SMP, problems: Sequence[Problem],
                                  g: np.random.Generator) -> None:
    """The whole batch, then a shuffled batch cut into random chunks, against the loop; each
    problem keeps its own Generator (the stochastic transitions draw the same numbers)."""
    problems = normalise_all(problems)
    loop_rngs = _rngs(problems)
    loop = np.array([engine._solve(p, r).forecast
                     for p, r in zip(problems, loop_rngs, strict=True)])
    rngs = _rngs(problems)
    whole = engine._solve_batch(problems, rngs)
    assert whole.shape == loop.shape
    np.testing.assert_array_equal(whole, loop)
    assert whole.tobytes() == loop.tobytes()  # the sign of zeros too
    for r, r_loop in zip(rngs, loop_rngs, strict=True):
        assert r.bit_generator.state == r_loop.bit_generator.state
    order = g.permutation(len(problems))
    cuts = np.sort(g.choice(np.arange(1, len(problems)), size=min(2, len(problems) - 1),
                            replace=False)) if len(problems) > 1 else []
    pieces = np.empty_like(whole)
    for part in np.split(order, cuts):
        pieces[part] = engine._solve_batch([problems[i] for i in part],
                                           [np.random.default_rng(i) for i in part])
    assert pieces.tobytes() == whole.tobytes()


def _varied(g: np.random.Generator, n: int, d: int) -> list[Problem]:
    """Draws of a random problem with perceptions and arenas, one with an actor without
    standing, one without arena or perceptions: three kinds of run in one batch."""
    base = _random_problem(g, n, d)
    problems = _draws(base, g, 5)
    weight = base.weight.copy()
    weight[0] = 0.0
    problems.append(replace(problems[0], weight=weight))
    problems.append(Problem.from_arrays(base.capability, base.position, base.salience))
    return problems


@pytest.mark.parametrize("options", LOCKSTEP + ONE_BY_ONE)
def test_random_batches_with_perceptions_arenas_and_outsiders(options: dict) -> None:
    g = np.random.default_rng(7)
    engine = SMP(**options)
    for n, d in ((4, 1), (6, 2), (11, 4)):
        _assert_batched_like_the_loop(engine, _varied(g, n, d), g)


def test_shipped_case_draws() -> None:
    """The main job's batches: Monte Carlo draws of us_rok_2025 (11 actors, 9 with
    standing, 13 issues, arenas and estimates)."""
    case = read_case(resolve_case("us_rok_2025", strict=True))
    problems = draw(case, 12, rng=3).problems()
    _assert_batched_like_the_loop(SMP(), problems, np.random.default_rng(1))


@pytest.mark.parametrize("options", [{}, {"voting": "asym-prospect", "third_party": "full"}])
def test_final_states_equal_the_runs_one_by_one(options: dict) -> None:
    """Stronger than the forecasts (bargains are rounded to 4 decimals): every run's final
    positions and utilities are its own run's, bit for bit."""
    g = np.random.default_rng(3)
    engine = SMP(**options)
    for n, d, perceived in ((9, 3, True), (10, 2, False)):
        base = _random_problem(g, n, d)
        draws = _draws(base, g, 9)
        problems = normalise_all(
            [p for k, p in enumerate(draws) if k % 3 != 2] if perceived  # see _draws
            else [Problem.from_arrays(p.capability, p.position, p.salience, weight=p.weight)
                  for p in draws])
        runs = [engine._start(p, np.random.default_rng(0))[0] for p in problems]
        assert all(_Lockstep.takes(r) for r in runs)
        assert {r.perceived for r in runs} == {perceived}
        finals = _Lockstep(runs).run()
        for p, final in zip(problems, finals, strict=True):
            state = engine._start(p, np.random.default_rng(0))[0].run()[-1]
            assert final["x"].tobytes() == state["x"].tobytes()
            assert final["own"].tobytes() == state["own"].tobytes()


def test_the_lockstep_takes_the_default_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs the lockstep takes never run one by one; those it does not take, do; chunks of
    at most ``LOCKSTEP_ELEMENTS`` give the same bits."""
    g = np.random.default_rng(5)
    problems = normalise_all(_varied(g, 8, 3))
    expected = SMP()._solve_batch(problems, _rngs(problems))
    alone = _Run.run

    def refuse(self: _Run) -> Any:
        if _Lockstep.takes(self):
            raise AssertionError("a run the lockstep takes ran by itself")
        return alone(self)

    monkeypatch.setattr(_Run, "run", refuse)
    monkeypatch.setattr(smp_module, "LOCKSTEP_ELEMENTS", 2 * 8**3 * 3)  # two runs a chunk
    assert SMP()._solve_batch(problems, _rngs(problems)).tobytes() == expected.tobytes()
    ran = []
    monkeypatch.setattr(_Run, "run", lambda self: ran.append(1) or alone(self))
    SMP(bargain="init-rcvr")._solve_batch(problems, _rngs(problems))
    assert len(ran) == len(problems)


def test_errors_are_the_loops() -> None:
    """A problem the model cannot take raises the loop's error, in the loop's order."""
    g = np.random.default_rng(2)
    problems = normalise_all(_draws(_random_problem(g, 5, 2), g, 3))
    weight = problems[1].weight.copy()
    weight[2:] = 0.0  # two actors with standing
    bad = replace(problems[1], weight=weight)
    with pytest.raises(Exception, match="at least 3 actors with standing") as batch_error:
        SMP()._solve_batch([problems[0], bad, problems[2]], _rngs(problems))
    with pytest.raises(Exception) as loop_error:
        SMP()._solve(bad, np.random.default_rng(0))
    assert str(batch_error.value) == str(loop_error.value)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem_strategy(min_actors=3, max_actors=9, max_issues=3, estimates=True),
       st.sampled_from(LOCKSTEP), st.integers(0, 2**32 - 1))
def test_generated_problems(problem: Problem, options: dict, seed: int) -> None:
    g = np.random.default_rng(seed)
    n, d = problem.position.shape
    weight = np.where(g.random((n, d)) < 0.3, 0.0, 1.0)
    weight[:3] = 1.0
    problems = [problem, replace(problem, weight=weight), *_draws(problem, g, 3)]
    _assert_batched_like_the_loop(SMP(**options), problems, g)
