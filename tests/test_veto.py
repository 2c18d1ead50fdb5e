"""Veto players, ratification and legal bounds (docs/arenas.md, :mod:`..bargaining.veto`).

Rule: the forecast is the engine's forecast projected onto the intersection of the veto
players' win-sets of the status quo (Tsebelis 2002), then clipped to the issue's legal floor
and ceiling. Properties, every engine:

* a veto player whose ideal point is the status quo keeps the status quo (exactly);
* the forecast always lies in the veto players' win-set, and it is the point of the win-set
  nearest the unconstrained forecast;
* the rule is applied on every path: ``forecast``, ``Engine.solve``, ``Engine.solve_batch``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import alliancelab
from alliancelab.core.case import Case
from alliancelab.formats import format_case, parse_case
from alliancelab.models.bargaining import Problem, engine_class
from alliancelab.models.bargaining.veto import constrain, constrain_rows, win_set
from alliancelab.testing import case_dicts

MODELS = ["compromise", "median", "nash", "bdm", "bdm-scholz", "smp"]
MAX_ACTORS = {"smp": 6}
MAX_ISSUES = {"smp": 2}
PROPERTY = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

CASE = """
name: ratification
issues:
  - name: sma
    scale: {min: 0, max: 10, units: "US$ bn"}
    status_quo: {value: 1.1, source: "12th SMA"}
    veto:
      - {actor: ROK Assembly, source: "ROK Constitution art. 60(1)"}
  - name: troops
    scale: {min: 0, max: 40000}
    status_quo: 28500
    veto: [group:Congress]
    floor: {value: 28500, source: "NDAA FY2026"}
actors:
  - {name: US President, capability: 3, positions: {sma: 9, troops: 15000},
     saliences: {sma: 0.9, troops: 0.8}}
  - {name: ROK Government, capability: 1, positions: {sma: 1.5, troops: 28500},
     saliences: {sma: 0.8, troops: 0.9}}
  - {name: ROK Assembly, capability: 0.5, positions: {sma: 1.0, troops: 28500},
     saliences: {sma: 0.7, troops: 0.5}}
  - {name: House, group: Congress, capability: 1, positions: {sma: 4, troops: 28500},
     saliences: {sma: 0.3, troops: 0.6}}
  - {name: Senate, group: Congress, capability: 1, positions: {sma: 5, troops: 27000},
     saliences: {sma: 0.3, troops: 0.6}}
"""


def _solve(model: str, problem: Problem, **options: Any) -> Any:
    return engine_class(model)(**options).solve(problem, np.random.default_rng(3))


@st.composite
def veto_problems(draw: st.DrawFn, model: str) -> Problem:
    """A random case with a status quo on every issue and random veto players (maybe none
    on an issue), as a :class:`Problem`."""
    lo = max(1, engine_class(model).min_actors)
    data = draw(case_dicts(min_actors=lo, max_actors=max(lo, MAX_ACTORS.get(model, 7)),
                           max_issues=MAX_ISSUES.get(model, 3), status_quo=True))
    problem = Problem.from_case(Case.model_validate(data))
    n, d = problem.position.shape
    veto = np.array([[draw(st.booleans()) and draw(st.booleans()) for _ in range(d)]
                     for _ in range(n)])
    return replace(problem, veto=veto)


# -- the rule ---------------------------------------------------------------------------------


def test_the_win_set_of_a_veto_player() -> None:
    lo, hi = win_set(np.array([2.0, 7.0, 5.0]), 5.0)
    np.testing.assert_array_equal(lo, [-1.0, 5.0, 5.0])
    np.testing.assert_array_equal(hi, [5.0, 9.0, 5.0])
    # one end is the status quo exactly, whatever the rounding
    for x, q in [(0.1, 0.3), (0.7, 0.3), (1e-9, 1.0)]:
        a, b = win_set(np.array([x]), q)
        assert q in (a[0], b[0]) and a[0] <= q <= b[0]


def test_ratification_and_the_legal_floor_in_a_case() -> None:
    case = parse_case(CASE, "r.yaml")
    out = alliancelab.forecast(case, "compromise")
    veto = out.diagnostics["veto"]
    # the Assembly (ideal 1.0 below the status quo 1.1) accepts only [0.9, 1.1]
    assert veto["sma"]["win_set"] == pytest.approx([0.9, 1.1])
    assert veto["sma"]["unconstrained"] > 1.1
    assert out.forecast[0] == 1.1 and veto["sma"]["bound_by"] == ["ROK Assembly"]
    assert veto["sma"]["forecast"] == out.forecast[0]
    # Congress: the House at 28,500 blocks any cut; the Senate at 27,000 any increase
    assert veto["troops"]["veto_players"] == ["House", "Senate"]
    assert veto["troops"]["win_set"] == [28500.0, 28500.0]
    assert out.forecast[1] == 28500.0 and veto["troops"]["floor"] == 28500.0
    assert out.to_json()  # JSON-ready


def test_the_law_prevails_over_the_veto_players() -> None:
    p = Problem.from_arrays([1, 1, 1], [10.0, 20.0, 30.0], [1, 1, 1], status_quo=[20.0],
                            veto=[[False], [True], [False]], floor=[25.0])
    f, diag = constrain(p, np.array([18.0]))
    assert f[0] == 25.0 and diag is not None and diag["issue0"]["bound_by"] == ["floor"]
    p = replace(p, floor=np.array([-np.inf]), ceiling=np.array([15.0]))
    assert constrain(p, np.array([18.0]))[0][0] == 15.0
    # no rule: the forecast object itself comes back
    plain = Problem.from_arrays([1, 1], [0.0, 1.0], [1, 1])
    f0 = np.array([0.5])
    assert constrain(plain, f0)[0] is f0 and constrain(plain, f0)[1] is None


def test_veto_players_need_a_status_quo() -> None:
    text = CASE.replace('    status_quo: {value: 1.1, source: "12th SMA"}\n', "")
    with pytest.raises(alliancelab.CaseError, match=r"issues\[0\]\(sma\)\.veto: veto players "
                       r"need a status quo"):
        parse_case(text, "r.yaml")
    # the same refusal for a Problem built from arrays
    p = Problem.from_arrays([1, 1], [0.0, 1.0], [1, 1], veto=[[True], [False]])
    with pytest.raises(alliancelab.AllianceLabError, match="no status quo"):
        alliancelab.forecast(p, "compromise")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("veto: [group:Congress]", "veto: [group:Parliament]",
         "issues[1](troops).veto[0]: no actor belongs to group 'Parliament'"),
        ("{actor: ROK Assembly,", "{actor: ROK Asembly,",
         "issues[0](sma).veto[0]: unknown actor 'ROK Asembly'"),
        ("veto: [group:Congress]", "veto: [3]",
         "issues[1](troops).veto[0]: expected an actor name or group:NAME"),
        ("floor: {value: 28500", "floor: {value: 45000",
         "issues[1](troops).floor: floor 45000 lies outside the scale"),
        ("floor: {value: 28500, source: \"NDAA FY2026\"}", "floor: 30000\n    ceiling: 20000",
         "issues[1](troops).floor: floor 30000 lies above the ceiling 20000"),
    ],
)
def test_bad_veto_players_and_bounds_are_refused(old: str, new: str, message: str) -> None:
    assert old in CASE
    with pytest.raises(alliancelab.CaseError) as err:
        parse_case(CASE.replace(old, new), "r.yaml")
    assert message in str(err.value)


def test_veto_players_round_trip_through_yaml() -> None:
    case = parse_case(CASE, "r.yaml")
    text = format_case(case)
    assert "veto: ['group:Congress']" in text and "source: ROK Constitution" in text
    assert parse_case(text, "again.yaml") == case


# -- the properties, every engine -------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS)
def test_a_veto_player_at_the_status_quo_keeps_it(model: str) -> None:
    @PROPERTY
    @given(problem=veto_problems(model), data=st.data())
    def prop(problem: Problem, data: st.DataObject) -> None:
        k = data.draw(st.integers(0, problem.n_issues - 1))
        v = data.draw(st.integers(0, problem.n_actors - 1))
        pos = problem.position.copy()
        pos[v, k] = problem.status_quo[k]
        veto = problem.veto.copy()
        veto[v, k] = True
        p = replace(problem, position=pos, veto=veto,
                    perceived_position=np.broadcast_to(pos, problem.perceived_position.shape
                                                       ).copy())
        assert _solve(model, p).forecast[k] == problem.status_quo[k]

    prop()


@pytest.mark.parametrize("model", MODELS)
def test_the_forecast_lies_in_the_veto_win_set(model: str) -> None:
    @PROPERTY
    @given(problem=veto_problems(model))
    def prop(problem: Problem) -> None:
        out = _solve(model, problem)
        free = _solve(model, replace(problem, veto=np.zeros_like(problem.veto)))
        for k in range(problem.n_issues):
            players = np.flatnonzero(problem.veto[:, k])
            lo, hi = win_set(problem.position[players, k], problem.status_quo[k])
            low, high = lo.max(initial=-np.inf), hi.min(initial=np.inf)
            f = out.forecast[k]
            assert low <= f <= high
            # every veto player weakly prefers it to the status quo
            x = problem.position[players, k]
            assert (np.abs(f - x) <= np.abs(problem.status_quo[k] - x)).all()
            # the nearest point of the win-set to the unconstrained forecast
            assert f == min(max(free.forecast[k], low), high)
        if problem.veto.any():
            assert set(out.diagnostics["veto"]) <= set(problem.issues)
        else:
            assert "veto" not in out.diagnostics

    prop()


@pytest.mark.parametrize("model", ["compromise", "median", "bdm-scholz"])
def test_solve_batch_applies_the_rules(model: str) -> None:
    base = Problem.from_case(parse_case(CASE, "r.yaml"))
    g = np.random.default_rng(1)
    problems = [replace(base, capability=base.capability * g.uniform(0.5, 1.5, base.n_actors))
                for _ in range(5)]
    engine = engine_class(model)()
    rngs = [np.random.default_rng(0)] * len(problems)
    batch = engine.solve_batch(problems, rngs)
    np.testing.assert_array_equal(batch, [engine.solve(p, rngs[0]).forecast for p in problems])
    np.testing.assert_array_equal(batch[:, 0], 1.1)


def _rule_issue_by_issue(problem: Problem, f: np.ndarray) -> tuple[list[float], list[Any]]:
    """The rule of the module docstring, one issue at a time in plain Python floats: the
    forecast projected on the intersection of the veto players' win-sets, then the legal
    bound that it crosses; and who bound it."""
    values, bound = [], []
    for k in range(problem.n_issues):
        value, by = float(f[k]), []
        players = np.flatnonzero(problem.veto[:, k])
        if players.size:
            lo_v, hi_v = win_set(problem.position[players, k], float(problem.status_quo[k]))
            lo, hi = float(lo_v.max()), float(hi_v.min())
            clipped = min(max(value, lo), hi)
            if clipped > value:
                by = [problem.actors[j] for j in players[lo_v == lo]]
            elif clipped < value:
                by = [problem.actors[j] for j in players[hi_v == hi]]
            value = clipped
        if value < problem.floor[k]:
            value, by = float(problem.floor[k]), ["floor"]
        elif value > problem.ceiling[k]:
            value, by = float(problem.ceiling[k]), ["ceiling"]
        values.append(value)
        bound.append(by)
    return values, bound


@PROPERTY
@given(problem=veto_problems("compromise"), data=st.data())
def test_the_vectorised_rule_is_the_rule_issue_by_issue(problem: Problem,
                                                        data: st.DataObject) -> None:
    """:func:`constrain` works on all issues at once; it gives, bit for bit, what the rule
    gives issue by issue (floors and ceilings drawn too, forecasts anywhere, -0.0 kept)."""
    d = problem.n_issues
    span = st.floats(-5.0, 105.0, allow_nan=False)
    floor = np.array([data.draw(st.one_of(st.just(-np.inf), span)) for _ in range(d)])
    ceiling = np.array([data.draw(st.one_of(st.just(np.inf), span)) for _ in range(d)])
    problem = replace(problem, floor=floor, ceiling=ceiling)
    f = np.array([data.draw(st.one_of(span, st.just(-0.0))) for _ in range(d)])
    out, diag = constrain(problem, f)
    values, bound = _rule_issue_by_issue(problem, f)
    assert [v.hex() for v in out.tolist()] == [v.hex() for v in values]
    if diag is None:
        assert not problem.has_rules and out is f
        return
    for k, issue in enumerate(problem.issues):
        if issue in diag:
            assert diag[issue]["bound_by"] == bound[k]
            assert diag[issue]["forecast"] == values[k]
        else:
            assert not problem.veto[:, k].any() and bound[k] == []


@PROPERTY
@given(problems=st.lists(veto_problems("compromise"), min_size=1, max_size=4),
       data=st.data())
def test_constrain_rows_is_constrain_row_by_row(problems: list[Problem],
                                                data: st.DataObject) -> None:
    """All rows at once (problems of one shape, some without rules) give, bit for bit,
    :func:`constrain` of each row."""
    n, d = problems[0].position.shape
    problems = [p for p in problems if p.position.shape == (n, d)]
    span = st.floats(-5.0, 105.0, allow_nan=False)
    problems = [replace(p, floor=np.array([data.draw(st.one_of(st.just(-np.inf), span))
                                           for _ in range(d)])) for p in problems]
    f = np.array([[data.draw(st.one_of(span, st.just(-0.0))) for _ in range(d)]
                  for _ in problems])
    rows = constrain_rows(problems, f)
    assert rows.tobytes() == np.stack([constrain(p, f[r])[0]
                                       for r, p in enumerate(problems)]).tobytes()
