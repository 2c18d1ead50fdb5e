"""The compiled, vectorised form of shocks and levers (``alliancelab.scenarios.batch``)
gives the arrays of the Case-level path ``Problem.from_case(apply_interventions(...))``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alliancelab import parse_case
from alliancelab.cases import shipped_cases
from alliancelab.core.case import Change, Intervention
from alliancelab.core.errors import AllianceLabError
from alliancelab.core.problem import Problem
from alliancelab.formats import read_case
from alliancelab.scenarios.batch import (
    ArrayChange,
    ProblemBatch,
    compile_change,
    compile_interventions,
    entries,
)
from alliancelab.scenarios.interventions import apply_interventions
from alliancelab.scenarios.uncertainty import draw

DATA = Path(__file__).parent / "data"
FIELDS = ("capability", "position", "salience", "status_quo", "perceived_position",
          "perceived_salience", "perceived_capability", "weight", "floor", "ceiling")

ESTIMATES = """
name: estimates
issues:
  - {name: x, scale: {min: 0, max: 100}, status_quo: 40}
  - {name: y, scale: {min: 0, max: 10}}
actors:
  - name: A
    capability: {value: 2, range: [1, 3]}
    positions: {x: {value: 80, range: [70, 90]}, y: 2}
    saliences: {x: 0.5, y: 0.9}
    perceptions:
      estimates:
        B: {positions: {x: {value: 30, range: [20, 40]}}, capability: 1.5}
  - name: B
    capability: 1
    positions: {x: 20, y: {value: 8, range: [6, 9]}}
    saliences: {x: {value: 0.7, range: [0.5, 0.9]}, y: 0.4}
  - name: C
    capability: 3
    positions: {x: 50, y: 5}
    saliences: {x: 0.2, y: 0.6}
shocks:
  - name: rumour
    changes:
      - {target: actors.C.perceptions.estimates.A.positions.x, op: set, value: 95}
      - {target: actors.*.perceptions.estimates.*.positions.x, op: add, value: 3}
      - {target: issues.y.status_quo, op: add, value: 1}
levers:
  - name: talks
    changes:
      - {target: actors.*.positions.x, op: converge, value: 0.5}
      - {target: actors.A.perceptions.estimates.B.capability, op: scale, value: 2}
      - {target: issues.y.status_quo, op: set, value: 4}
      - {target: actors.B.saliences.*, op: scale, value: 1.5}
"""


def _cases() -> list[tuple[str, object]]:
    out = [(name, read_case(path)) for name, path in shipped_cases().items()]
    out.append(("explore_case", read_case(DATA / "explore_case.yaml")))
    out.append(("estimates", parse_case(ESTIMATES)))
    return out


def _assert_same(problem: Problem, truth: Problem, label: str) -> None:
    for f in FIELDS:
        np.testing.assert_allclose(getattr(problem, f), getattr(truth, f), rtol=1e-12,
                                   atol=1e-12, err_msg=f"{label}: {f}")


@pytest.mark.parametrize(("label", "case"), _cases(), ids=lambda x: x if isinstance(x, str)
                         else "")
def test_every_shock_and_lever_gives_the_case_level_arrays(label, case):
    """For every shock and lever alone, the arrays of the vectorised form equal those of
    Problem.from_case(apply_interventions(case, [name])) to 1e-12 (capability, position,
    salience and status quo, and the perceived estimates, arena weights and bounds)."""
    compiled = compile_interventions(case)
    names = [iv.name for iv in (*case.shocks, *case.levers)]
    assert names and set(compiled) == set(names)
    batch = ProblemBatch.of(case, len(names))
    for r, name in enumerate(names):
        mask = np.zeros(len(names), dtype=bool)
        mask[r] = True
        batch.apply(compiled[name], mask)
    problems = batch.problems()
    for r, name in enumerate(names):
        _assert_same(problems[r], Problem.from_case(apply_interventions(case, [name])),
                     f"{label} {name}")


def test_sampled_values_then_several_interventions_in_order():
    """Drawn values, then a shock and a lever in order, with estimates created by ``set``,
    changed by ``add`` and ``scale``, a missing status quo set, and a converge."""
    case = parse_case(ESTIMATES)
    d = draw(case, 6, rng=4)
    compiled = compile_interventions(case)
    batch = ProblemBatch.of(case, len(d))
    batch.write([entries(case, p.path) for p in d.params], d.samples)
    mask = np.array([True, False, True, True, False, True])
    batch.apply(compiled["rumour"], mask)
    batch.apply(compiled["talks"], np.ones(6, dtype=bool))
    for r, problem in enumerate(batch.problems()):
        names = ["rumour", "talks"] if mask[r] else ["talks"]
        truth = Problem.from_case(apply_interventions(d.case_at(r), names))
        _assert_same(problem, truth, f"draw {r}")


def test_a_target_that_matches_nothing_is_refused():
    # refused when the case is read (issue 13, late checks), before any compilation
    with pytest.raises(AllianceLabError, match="matches no number"):
        parse_case(ESTIMATES.replace("actors.B.saliences.*", "actors.D.saliences.*"))


def test_entries_of_numbers_outside_the_problem():
    case = read_case(DATA / "explore_case.yaml")
    assert entries(case, ("actors", 0, "perceptions", "threats", "dprk")) == ()
    assert entries(case, ("dynamics", "adjustment_speed")) == ()
    assert entries(case, ("actors", 2, "positions", "china_stance")) == (
        ("position", (2, 1)),)
    assert entries(case, ("issues", 1, "status_quo")) == (("status_quo", (1,)),)


# -- compile_interventions shares one dump and one index of its containers between the
#    interventions that write nothing into it (no ``set``); compile_change is the reference:
#    a fresh dump per intervention, its containers walked again for every change


def _one_at_a_time(case) -> dict[str, tuple[ArrayChange, ...]]:
    out = {}
    for iv in (*case.shocks, *case.levers):
        data = case.model_dump()
        compiled = [compile_change(case, ch, iv.name, data) for ch in iv.changes]
        out[iv.name] = tuple(c for c in compiled if c.parts)
    return out


def _outcome(fn, case):
    try:
        return fn(case)
    except AllianceLabError as exc:
        return f"{type(exc).__name__}: {exc}"


def _assert_identical(got, want) -> None:
    if isinstance(want, str):
        assert got == want
        return
    assert list(got) == list(want)
    for name in want:
        assert len(got[name]) == len(want[name]), name
        for a, b in zip(got[name], want[name], strict=True):
            assert (a.op, a.value, [p.field for p in a.parts]) == \
                (b.op, b.value, [p.field for p in b.parts]), name
            for p, q in zip(a.parts, b.parts, strict=True):
                for x, y in zip((*p.index, p.lo, p.hi, p.actor, p.share),
                                (*q.index, q.lo, q.hi, q.actor, q.share), strict=True):
                    assert x.dtype == y.dtype and np.array_equal(x, y), (name, p.field)


@pytest.mark.parametrize(("label", "case"), _cases(), ids=lambda x: x if isinstance(x, str)
                         else "")
def test_compiled_interventions_equal_one_change_at_a_time(label, case):
    _assert_identical(compile_interventions(case), _one_at_a_time(case))


_EST = parse_case(ESTIMATES)
_TARGETS = sorted({ch.target for iv in (*_EST.shocks, *_EST.levers) for ch in iv.changes} | {
    "actors.*.capability", "actors.B.perceptions.estimates.C.positions.x",  # a new estimate
    "actors.*.perceptions.estimates.*.capability", "actors.group:X.positions.x",
    "issues.x.status_quo.value", "issues.y.status_quo.value",  # into the number itself
    "issues.y.floor", "actors.A.perceptions.threats.t", "dynamics.threat_weight",
    "actors.Z.positions.x", "issues.x.scale.min"})  # matches nothing; an issue's scale


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.tuples(st.sampled_from(_TARGETS),
                                   st.sampled_from(["set", "add", "scale", "converge"]),
                                   st.sampled_from([0.5, 2.0, 7.0])),
                         min_size=1, max_size=4), min_size=1, max_size=4))
def test_compiled_interventions_equal_one_change_at_a_time_on_any_targets(ivs):
    """Any sequence of interventions (new estimates and numbers created by ``set``, targets
    into a number, targets that match nothing or an issue's scale): the same compiled
    changes, or the same error."""
    shocks = [Intervention(name=f"iv{i}", changes=[Change(target=t, op=op, value=v)
                                                   for t, op, v in changes])
              for i, changes in enumerate(ivs)]
    case = _EST.model_copy(update={"shocks": shocks, "levers": []})
    _assert_identical(_outcome(compile_interventions, case), _outcome(_one_at_a_time, case))


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_write_equals_one_column_at_a_time(data):
    """ProblemBatch.write (one fancy assignment per field) equals writing each column into
    its entries in turn, the last column winning where several name one entry."""
    case = _EST
    pool = [entries(case, p.path) for p in draw(case, 1, rng=0).params]
    pool += [(("position", (0, 1)), ("position", (2, 0))), (("capability", (1,)),), ()]
    where = data.draw(st.lists(st.sampled_from(pool), max_size=12))
    m = data.draw(st.integers(1, 4))
    values = np.arange(m * len(where), dtype=float).reshape(m, len(where)) + 0.25
    got = ProblemBatch.of(case, m)
    got.write(where, values)
    want = ProblemBatch.of(case, m)
    for col, hits in zip(values.T, where, strict=True):
        for field, idx in hits:
            want.array(field)[(slice(None), *idx)] = col
    assert list(got._arrays) == list(want._arrays)
    for field, arr in want._arrays.items():
        assert np.array_equal(got._arrays[field], arr), field
    for g, w in zip(got.problems(), want.problems(), strict=True):
        for f in FIELDS:
            assert np.array_equal(getattr(g, f), getattr(w, f), equal_nan=True), f


def test_an_estimate_one_intervention_creates_is_not_seen_by_the_next():
    """As documented in compile_change: a ``*`` target does not see an estimate another
    intervention creates (each intervention compiles on the case as stated)."""
    new = Change(target="actors.B.perceptions.estimates.C.positions.x", op="set", value=9)
    every = Change(target="actors.*.perceptions.estimates.*.positions.x", op="add", value=1)
    case = _EST.model_copy(update={"levers": [], "shocks": [
        Intervention(name="a", changes=[every]), Intervention(name="b", changes=[new, every]),
        Intervention(name="c", changes=[every])]})
    compiled = compile_interventions(case)
    _assert_identical(compiled, _one_at_a_time(case))
    rows = {name: sorted(zip(*(i.tolist() for i in ch[-1].parts[0].index), strict=True))
            for name, ch in compiled.items()}
    assert rows["a"] == rows["c"] == [(0, 1, 0)]
    assert rows["b"] == [(0, 1, 0), (1, 2, 0)]
