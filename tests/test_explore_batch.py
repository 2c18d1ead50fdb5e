"""The compiled, vectorised form of shocks and levers (``alliancelab.scenarios.batch``)
gives the arrays of the Case-level path ``Problem.from_case(apply_interventions(...))``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from alliancelab import parse_case
from alliancelab.cases import shipped_cases
from alliancelab.core.errors import AllianceLabError
from alliancelab.core.problem import Problem
from alliancelab.formats import read_case
from alliancelab.scenarios.batch import ProblemBatch, compile_interventions, entries
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
