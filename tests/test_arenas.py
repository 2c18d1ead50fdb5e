"""Arenas (docs/arenas.md): who bargains on which issue.

* the case format: ``arena: {standing, influence}`` read, validated, written back;
* the arrays: ``Problem.weight`` (1 standing, the influence weight, 0 otherwise);
* property, every engine: an actor without standing on an issue cannot move its forecast
  (its position changed arbitrarily -> the same forecast, bit for bit);
* property, every engine: an arena that gives everyone weight 1 is no arena (bit for bit:
  forecast, rounds, diagnostics);
* an influencer's clout is scaled: its weight acts as a factor on its capability;
* ``solve_batch`` equals the ``solve`` loop (compromise and bdm-scholz have their own);
* the CSV formats keep everyone on every issue.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import alliancelab
from alliancelab.core.case import Case
from alliancelab.formats import format_case, parse_case, read_case
from alliancelab.models.bargaining import Problem, engine_class
from alliancelab.testing import case_dicts

DATA = Path(__file__).parent / "data"
MODELS = ["compromise", "median", "nash", "bdm", "bdm-scholz", "smp"]
#: SMP is slow on large cases
MAX_ACTORS = {"smp": 6}
MAX_ISSUES = {"smp": 2}
PROPERTY = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

TOY = """
name: toy
issues:
  - name: troops
    scale: {min: 0, max: 40000}
    status_quo: 28500
    arena:
      standing: [US President, group:ROK]
      influence:
        PRC: {value: 0.2, range: [0.1, 0.3], source: "judgement: Beijing weighs in"}
      source: "judgement: a bilateral decision"
  - name: budget
    scale: {min: 0, max: 6}
    arena:
      influence: {US President: 0.5}
  - name: sma
    scale: {min: 0, max: 10}
actors:
  - {name: US President, group: US, capability: 3, positions: {troops: 20000, sma: 9, budget: 5},
     saliences: {troops: 0.8, sma: 0.9, budget: 0.6}}
  - {name: Congress, group: US, capability: 2, positions: {troops: 28500, sma: 3, budget: 3},
     saliences: {troops: 0.6, sma: 0.4, budget: 0.2}}
  - {name: ROK Gov, group: ROK, capability: 1, positions: {troops: 30000, sma: 1.2, budget: 2.5},
     saliences: {troops: 0.9, sma: 0.8, budget: 0.9}}
  - {name: ROK Assembly, group: ROK, capability: 0.5,
     positions: {troops: 29000, sma: 1, budget: 2.4},
     saliences: {troops: 0.5, sma: 0.7, budget: 0.8}}
  - {name: PRC, group: PRC, capability: 2, positions: {troops: 0, sma: 0, budget: 0},
     saliences: {troops: 0.7, sma: 0.1, budget: 0.3}}
"""


def _engine(model: str, **options: Any) -> Any:
    return engine_class(model)(**options)


def _solve(model: str, problem: Problem, **options: Any) -> Any:
    return _engine(model, **options).solve(problem, np.random.default_rng(7))


# -- strategies -------------------------------------------------------------------------------


@st.composite
def arena_problems(draw: st.DrawFn, model: str, outsiders: bool = True) -> Problem:
    """A random case as a :class:`Problem` with a random arena: on every issue some actors
    keep standing (at least the engine's minimum), others get an influence weight in (0, 1]
    or none (``outsiders``)."""
    lo = max(1, engine_class(model).min_actors)
    data = draw(case_dicts(min_actors=lo + (1 if outsiders else 0),
                           max_actors=max(lo + 1, MAX_ACTORS.get(model, 7)),
                           max_issues=MAX_ISSUES.get(model, 3)))
    problem = Problem.from_case(Case.model_validate(data))
    n, d = problem.position.shape
    weight = np.ones((n, d))
    for k in range(d):
        keep = draw(st.lists(st.integers(0, n - 1), min_size=lo, max_size=n, unique=True))
        for i in range(n):
            if i in keep:
                continue
            kind = draw(st.sampled_from(["none", "influence"] if outsiders else ["influence"]))
            weight[i, k] = 0.0 if kind == "none" else draw(st.floats(0.05, 1.0))
    from dataclasses import replace

    return replace(problem, weight=weight)


# -- the case format --------------------------------------------------------------------------


def test_the_arena_is_read_into_weights() -> None:
    case = parse_case(TOY, "toy.yaml")
    p = Problem.from_case(case)
    np.testing.assert_array_equal(
        p.weight,
        [[1, 0.5, 1], [0, 1, 1], [1, 1, 1], [1, 1, 1], [0.2, 1, 1]],
    )
    assert p.has_arena and not Problem.from_case(case.model_copy(update={"issues": [
        i.model_copy(update={"arena": None}) for i in case.issues]})).has_arena
    # standing omitted = everyone who is not an influencer; ranges and sources are kept
    assert case.issues[1].arena is not None and case.issues[1].arena.standing is None
    prc = case.issues[0].arena.influence["PRC"]  # type: ignore[union-attr]
    assert prc.range == (0.1, 0.3) and prc.source == "judgement: Beijing weighs in"
    assert ("issues.troops.arena.influence.PRC", prc) in list(case.values())


def test_the_arena_round_trips_through_yaml() -> None:
    case = parse_case(TOY, "toy.yaml")
    text = format_case(case)
    assert "standing: [US President, 'group:ROK']" in text
    assert parse_case(text, "again.yaml") == case


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("standing: [US President, group:ROK]", "standing: [US Presidnt, group:ROK]",
         "toy.yaml:8: issues[0](troops).arena.standing[0]: unknown actor 'US Presidnt'"),
        ("group:ROK]", "group:ROC]",
         "issues[0](troops).arena.standing[1]: no actor belongs to group 'ROC'"),
        ("standing: [US President, group:ROK]", "standing: []",
         "issues[0](troops).arena.standing: must not be empty"),
        ("value: 0.2, range: [0.1, 0.3]", "value: 1.2",
         "issues[0](troops).arena.influence: influence weight of 'PRC' must lie in [0, 1], "
         "got 1.2"),
        ("range: [0.1, 0.3]", "range: [0.1, 1.3]", "must lie in [0, 1], got 0.2 (range"),
        ("PRC: {value", "ROK Gov: {value",
         "issues[0](troops).arena.influence.ROK Gov: 'ROK Gov' has standing and an influence"),
        ("influence: {US President: 0.5}",
         "influence: {group:US: 0, group:ROK: 0.5, PRC: 0.1}",
         "issues[1](budget).arena: no actor has standing"),
        ("source: \"judgement: a bilateral decision\"", "sauce: x",
         "issues[0](troops).arena.sauce: unknown field"),
    ],
)
def test_a_bad_arena_is_one_line_naming_the_field(old: str, new: str, message: str) -> None:
    assert old in TOY
    with pytest.raises(alliancelab.CaseError) as err:
        parse_case(TOY.replace(old, new), "toy.yaml")
    assert message in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("name", ["ec_emissions.csv", "ktab/dummyData_3Dim.csv"])
def test_the_csv_formats_keep_everyone_on_every_issue(name: str) -> None:
    path = DATA / name
    if not path.exists():
        pytest.skip(f"{name} not shipped")
    p = Problem.from_case(read_case(path))
    assert not p.has_arena and not p.has_rules
    np.testing.assert_array_equal(p.weight, np.ones(p.position.shape))


def test_an_arena_is_not_written_to_the_csv_formats() -> None:
    """The CSV formats have no place for arenas (documented in docs/case-format.md)."""
    case = parse_case(TOY, "toy.yaml")
    back = parse_case(format_case(case, "ktab"), "toy.csv")
    assert all(i.arena is None for i in back.issues)


# -- the properties ---------------------------------------------------------------------------


def _outsiders(problem: Problem) -> list[tuple[int, int]]:
    return [(int(i), int(k)) for i, k in zip(*np.nonzero(problem.weight == 0), strict=True)]


@pytest.mark.parametrize("model", MODELS)
def test_an_actor_without_standing_cannot_move_the_forecast(model: str) -> None:
    options = [{}] + ([{"disagreement": "status_quo"}] if model == "nash" else [])

    @PROPERTY
    @given(problem=arena_problems(model), data=st.data())
    def prop(problem: Problem, data: st.DataObject) -> None:
        out = _outsiders(problem)
        if not out:
            return
        moved = problem.position.copy()
        for i, k in data.draw(st.lists(st.sampled_from(out), min_size=1, unique=True)):
            u = data.draw(st.floats(0, 1))
            moved[i, k] = problem.lower[k] + u * (problem.upper[k] - problem.lower[k])
        from dataclasses import replace

        other = replace(problem, position=moved,
                        perceived_position=np.broadcast_to(moved, problem.perceived_position.shape
                                                           ).copy())
        base = replace(problem, perceived_position=np.broadcast_to(
            problem.position, problem.perceived_position.shape).copy())
        for opts in options:
            a, b = _solve(model, base, **opts), _solve(model, other, **opts)
            np.testing.assert_array_equal(a.forecast, b.forecast)
            # it takes no part: it holds its position in every round
            for i, k in out:
                assert (b.rounds[:, i, k] == moved[i, k]).all()

    prop()


@pytest.mark.parametrize("model", MODELS)
def test_all_weights_one_is_no_arena_bit_for_bit(model: str) -> None:
    @PROPERTY
    @given(data=case_dicts(min_actors=max(1, engine_class(model).min_actors),
                           max_actors=MAX_ACTORS.get(model, 7),
                           max_issues=MAX_ISSUES.get(model, 3), estimates=True))
    def prop(data: dict[str, Any]) -> None:
        plain = Case.model_validate(data)
        for issue in data["issues"]:
            issue["arena"] = {"standing": [a["name"] for a in data["actors"]]}
        full = Case.model_validate(data)
        p, q = Problem.from_case(plain), Problem.from_case(full)
        assert not q.has_arena
        a = alliancelab.forecast(plain, model, rng=3)
        b = alliancelab.forecast(full, model, rng=3)
        np.testing.assert_array_equal(a.forecast, b.forecast)
        np.testing.assert_array_equal(a.rounds, b.rounds)
        assert a.to_json() == b.to_json()
        np.testing.assert_array_equal(p.weight, q.weight)

    prop()


def test_an_influencers_clout_is_scaled_by_its_weight() -> None:
    """Compromise, median and Nash weigh actor i by w_i c_i s_i: an influencer with weight
    w is the actor with capability w c (the same numbers up to rounding)."""
    g = np.random.default_rng(5)
    for _ in range(30):
        n = int(g.integers(2, 8))
        cap, pos, sal = g.uniform(0.1, 3, n), g.uniform(0, 100, (n, 1)), g.uniform(0.1, 1, (n, 1))
        w = np.ones((n, 1))
        w[0, 0] = g.uniform(0.05, 1)
        arena = Problem.from_arrays(cap, pos, sal, weight=w)
        scaled = Problem.from_arrays(cap * w[:, 0], pos, sal)
        for model in ("compromise", "median", "nash", "bdm", "bdm-scholz"):
            if n < engine_class(model).min_actors:
                continue
            a, b = _solve(model, arena).forecast, _solve(model, scaled).forecast
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-9 * 100)
        cs = cap * sal[:, 0] * w[:, 0]
        want = (cs * pos[:, 0]).sum() / cs.sum()
        assert _solve("compromise", arena).forecast[0] == pytest.approx(want, abs=1e-12)


def test_an_actor_without_standing_anywhere_is_as_if_absent() -> None:
    g = np.random.default_rng(11)
    n, d = 6, 2
    cap, pos, sal = g.uniform(0.5, 2, n), g.uniform(0, 100, (n, d)), g.uniform(0.2, 1, (n, d))
    w = np.ones((n, d))
    w[2] = 0.0
    arena = Problem.from_arrays(cap, pos, sal, weight=w)
    keep = [0, 1, 3, 4, 5]
    absent = Problem.from_arrays(cap[keep], pos[keep], sal[keep])
    for model in MODELS:
        a, b = _solve(model, arena), _solve(model, absent)
        np.testing.assert_allclose(a.forecast, b.forecast, rtol=0, atol=1e-9)
        if model in ("bdm", "bdm-scholz", "smp", "median"):  # the same arrays: the same bits
            np.testing.assert_array_equal(a.forecast, b.forecast)
        np.testing.assert_array_equal(a.rounds[:, 2], np.broadcast_to(pos[2], a.rounds[:, 2].shape))


def test_nobody_bargains_with_an_actor_without_standing() -> None:
    """bdm and bdm-scholz: no offer to or from it on the issue; smp: no challenge."""
    case = parse_case(TOY, "toy.yaml")
    p = Problem.from_case(case)
    for model in ("bdm", "bdm-scholz"):
        out = alliancelab.forecast(case, model)
        for offer in out.diagnostics["offers"]:
            k = case.issue_names.index(offer["issue"])
            for who in (offer["receiver"], offer["proposer"]):
                assert p.weight[case.actor_names.index(who), k] > 0
        k = case.issue_names.index("troops")
        i = case.actor_names.index("Congress")
        assert np.isnan(out.diagnostics["risk_exponent"][:, i, k]).all()
        assert (out.diagnostics["offer_type"][:, i, :, k] == 0).all()
    # the one-dimensional models ignore Congress on troops entirely
    without = case.model_copy(update={"actors": [
        a.model_copy(update={"positions": {**a.positions, "troops": a.positions["sma"].model_copy(
            update={"value": 0.0})}}) if a.name == "Congress" else a for a in case.actors]})
    for model in ("compromise", "median", "nash", "bdm", "bdm-scholz", "smp"):
        a = alliancelab.forecast(case, model).forecast
        b = alliancelab.forecast(without, model).forecast
        assert a[0] == b[0], model


@pytest.mark.parametrize("model", ["compromise", "median", "bdm-scholz", "bdm", "smp"])
def test_solve_batch_equals_the_solve_loop(model: str) -> None:
    case = parse_case(TOY, "toy.yaml")
    base = Problem.from_case(case)
    g = np.random.default_rng(2)
    from dataclasses import replace

    problems = []
    for r in range(7 if model != "smp" else 3):
        w = base.weight.copy()
        if r % 3 == 1:
            w[:] = 1.0  # no arena in some draws
        problems.append(replace(
            base,
            capability=base.capability * g.uniform(0.9, 1.1, base.n_actors),
            position=np.clip(base.position * g.uniform(0.9, 1.1, base.position.shape),
                             base.lower, base.upper),
            weight=w,
        ))
    engine = engine_class(model)()
    batch = engine.solve_batch(problems, [np.random.default_rng(r) for r in range(len(problems))])
    loop = np.array([engine.solve(p, np.random.default_rng(r)).forecast
                     for r, p in enumerate(problems)])
    np.testing.assert_array_equal(batch, loop)
    assert engine.solve_batch([], []).shape[0] == 0


def test_compromise_batch_without_arena_equals_the_loop_bit_for_bit() -> None:
    g = np.random.default_rng(8)
    n, d = 9, 4
    problems = [Problem.from_arrays(g.uniform(0, 5, n), g.uniform(0, 100, (n, d)),
                                    g.uniform(0, 1, (n, d))) for _ in range(50)]
    problems.append(Problem.from_arrays(np.zeros(n), g.uniform(0, 100, (n, d)), np.zeros((n, d))))
    engine = engine_class("compromise")()
    rngs = [np.random.default_rng(0)] * len(problems)
    np.testing.assert_array_equal(engine.solve_batch(problems, rngs),
                                  [engine.solve(p, rngs[0]).forecast for p in problems])


def test_bdm_scholz_batch_with_one_participant_and_changing_arenas() -> None:
    g = np.random.default_rng(4)
    n = 5
    problems = []
    for r in range(6):
        w = np.ones((n, 2))
        w[: r % 5, 0] = 0.0  # 0 to 4 outsiders on issue 0: down to a single participant
        w[1, 1] = 0.4
        problems.append(Problem.from_arrays(g.uniform(0.1, 2, n), g.uniform(0, 10, (n, 2)),
                                            g.uniform(0.1, 1, (n, 2)), weight=w))
    engine = engine_class("bdm-scholz")(rounds=6)
    rngs = [np.random.default_rng(0)] * len(problems)
    loop = np.array([engine.solve(p, rngs[0]).forecast for p in problems])
    np.testing.assert_array_equal(engine.solve_batch(problems, rngs), loop)
    lone = problems[4]
    assert loop[4, 0] == lone.position[4, 0]  # the one participant's position


def test_the_reference_cases_are_untouched_by_the_arena_code() -> None:
    """The EC case through the arena-aware path with weights 1 gives the reference bits."""
    case = read_case(DATA / "ec_emissions.csv")
    p = Problem.from_case(case)
    from dataclasses import replace

    ones = replace(p, weight=np.ones(p.position.shape))
    for model in ("compromise", "median", "nash", "bdm", "bdm-scholz", "smp"):
        a, b = _solve(model, p), _solve(model, ones)
        np.testing.assert_array_equal(a.rounds, b.rounds)
        np.testing.assert_array_equal(a.forecast, b.forecast)
