"""Shocks and levers: target paths, operations, clipping, validation, errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import alliancelab
from alliancelab.cases import resolve_case
from alliancelab.core.case import Change
from alliancelab.formats import yaml_case
from alliancelab.scenarios.interventions import (
    apply_changes,
    apply_interventions,
    intervention_names,
)
from alliancelab.scenarios.uncertainty import uncertain_values, with_values


def toy(**extra: Any) -> alliancelab.Case:
    data: dict[str, Any] = {
        "name": "toy",
        "issues": [
            {"name": "troops", "scale": {"min": 0, "max": 40000}, "status_quo": 28500},
            {"name": "china", "scale": {"min": 0, "max": 100}},
        ],
        "actors": [
            {"name": "A", "group": "US", "capability": 3,
             "positions": {"troops": 20000, "china": 70},
             "saliences": {"troops": 0.5, "china": 0.5},
             "perceptions": {"threats": {"dprk": {"value": 0.8, "range": [0.7, 0.9]}},
                             "partner_reliability": 0.5}},
            {"name": "B", "group": "ROK", "capability": 1,
             "positions": {"troops": 30000, "china": 30},
             "saliences": {"troops": 0.9, "china": 0.5},
             "perceptions": {"threats": {"dprk": 0.4}, "partner_reliability": 0.6}},
            {"name": "C.x", "group": "ROK", "capability": 1,
             "positions": {"troops": 28000, "china": 40},
             "saliences": {"troops": 0.5, "china": 0.5},
             "perceptions": {"threats": {"dprk": 0.2}}},
        ],
        "dynamics": {"estimate_learning": 0.1},
    }
    data.update(extra)
    return alliancelab.Case.model_validate(data)


def threats(case: alliancelab.Case) -> list[float]:
    return [a.perceptions.threats["dprk"].value for a in case.actors]


def test_names_and_unknown_name_lists_known_ones() -> None:
    case = alliancelab.read_case(resolve_case("us_rok_2025"))
    names = intervention_names(case)
    assert {"dprk_nuclear_test", "us_administration_change", "china_economic_retaliation",
            "usfk_reduction_announced"} <= set(names["shocks"])
    assert {"common_end_state_vision", "joint_threat_assessment", "defined_roles_and_missions",
            "deeper_consultation", "rapid_troop_reduction", "overt_anti_china_policy",
            "sustained_usfk_presence", "strategic_diplomacy"} <= set(names["levers"])
    with pytest.raises(alliancelab.AllianceLabError) as err:
        apply_interventions(case, ["dprk_nuclear_test", "no_such_lever"])
    msg = str(err.value)
    assert "no_such_lever" in msg and "dprk_nuclear_test" in msg and "strategic_diplomacy" in msg
    assert "\n" not in msg


@pytest.mark.parametrize("name", ["us_rok_2025", "us_rok_2007"])
def test_every_shipped_intervention_applies_and_changes_the_case(name: str) -> None:
    case = alliancelab.read_case(resolve_case(name))
    names = intervention_names(case)
    for item in [*names["shocks"], *names["levers"]]:
        out = apply_interventions(case, [item])
        assert isinstance(out, alliancelab.Case)
        assert out != case, item
        changed = [p for (p, v), (_, w) in zip(case.values(), out.values(), strict=False)
                   if v.value != w.value]
        assert changed, item


def test_apply_returns_a_new_case_and_leaves_the_original() -> None:
    case = toy()
    out = apply_changes(case, [Change(target="actors.A.perceptions.threats.dprk", op="add",
                                      value=0.05)], label="t")
    assert case.actor("A").perceptions.threats["dprk"].value == 0.8
    new = out.actor("A").perceptions.threats["dprk"]
    assert new.value == pytest.approx(0.85)
    assert new.range == pytest.approx((0.75, 0.95))  # add shifts the judgement range
    assert "t: add 0.05" in new.note


def test_set_scale_and_wildcards() -> None:
    case = toy()
    out = apply_changes(case, [Change(target="actors.*.perceptions.threats.dprk", op="scale",
                                      value=0.5)])
    assert threats(out) == pytest.approx([0.4, 0.2, 0.1])
    out = apply_changes(case, [Change(target="actors.A.positions.*", op="set", value=50)])
    assert out.actor("A").positions["china"].value == 50
    assert out.actor("A").positions["troops"].value == 50
    out = apply_changes(case, [Change(target="actors.A.perceptions.threats.dprk", op="set",
                                      value=0.3)])
    assert out.actor("A").perceptions.threats["dprk"].range is None  # set drops the range


def test_group_selectors_and_dotted_actor_names() -> None:
    case = toy()
    out = apply_changes(case, [Change(target="actors.group:ROK.perceptions.threats.dprk",
                                      op="add", value=0.1)])
    assert threats(out) == pytest.approx([0.8, 0.5, 0.3])
    out = apply_changes(case, [Change(target="actors.group:US+ROK.saliences.china", op="set",
                                      value=1.0)])
    assert all(a.saliences["china"].value == 1.0 for a in out.actors)
    out = apply_changes(case, [Change(target="actors.C.x.positions.china", op="set", value=5)])
    assert out.actor("C.x").positions["china"].value == 5


def test_converge_moves_toward_the_capability_weighted_mean() -> None:
    case = toy()
    out = apply_changes(case, [Change(target="actors.group:US+ROK.perceptions.threats.dprk",
                                      op="converge", value=0.5)])
    mean = (3 * 0.8 + 1 * 0.4 + 1 * 0.2) / 5
    want = [v + 0.5 * (mean - v) for v in (0.8, 0.4, 0.2)]
    assert threats(out) == pytest.approx(want)
    spread = max(threats(out)) - min(threats(out))
    assert spread == pytest.approx(0.5 * (0.8 - 0.2))


def test_results_are_clipped_to_valid_intervals() -> None:
    case = toy()
    out = apply_changes(case, [
        Change(target="actors.*.perceptions.threats.dprk", op="add", value=0.5),
        Change(target="actors.B.positions.troops", op="add", value=99999),
        Change(target="actors.B.saliences.troops", op="add", value=-5),
        Change(target="issues.troops.status_quo", op="add", value=-99999),
    ])
    assert max(threats(out)) == 1.0
    assert out.actor("B").positions["troops"].value == 40000
    assert out.actor("B").saliences["troops"].value == 0.0
    assert out.issue("troops").status_quo.value == 0.0
    # the shifted range (1.2, 1.4) is clipped to the interval and still holds the value
    assert out.actor("A").perceptions.threats["dprk"].range == (1.0, 1.0)


def test_set_creates_missing_perceptions_and_dynamics() -> None:
    case = toy()
    out = apply_changes(case, [
        Change(target="actors.C.x.perceptions.partner_reliability", op="set", value=0.4),
        Change(target="actors.A.perceptions.threats.china", op="set", value=0.6),
        Change(target="dynamics.threat_convergence", op="set", value=0.2),
        Change(target="dynamics.estimate_learning", op="add", value=0.2),
    ])
    assert out.actor("C.x").perceptions.partner_reliability.value == 0.4
    assert out.actor("A").perceptions.threats["china"].value == 0.6
    assert out.dynamics["threat_convergence"].value == 0.2
    assert out.dynamics["estimate_learning"].value == pytest.approx(0.3)
    # add on a missing reliability does nothing, but still matches the other actors
    out = apply_changes(case, [Change(target="actors.*.perceptions.partner_reliability",
                                      op="add", value=0.1)])
    assert out.actor("C.x").perceptions.partner_reliability is None
    assert out.actor("B").perceptions.partner_reliability.value == pytest.approx(0.7)


def test_targets_that_match_nothing_are_errors() -> None:
    case = toy()
    for target in ("actors.Z.positions.troops", "actors.A.positions.nope",
                   "nothing.here", "actors.group:DPRK.positions.troops"):
        with pytest.raises(alliancelab.AllianceLabError, match="matches no number"):
            apply_changes(case, [Change(target=target, op="add", value=1)])
    with pytest.raises(alliancelab.AllianceLabError, match="not a number"):
        apply_changes(case, [Change(target="actors.A", op="add", value=1)])


def test_user_defined_interventions_in_a_case_file() -> None:
    text = alliancelab.format_case(toy(), "yaml") + """
shocks:
  - name: my_shock
    changes:
      - {target: actors.group:ROK.perceptions.threats.dprk, op: add, value: 0.3}
levers:
  - name: my_lever
    changes:
      - {target: actors.A.positions.troops, op: set, value: 28500, source: "judgement: test"}
"""
    case = alliancelab.parse_case(text, "user.yaml", "yaml")
    assert intervention_names(case) == {"shocks": ["my_shock"], "levers": ["my_lever"]}
    out = apply_interventions(case, ["my_shock", "my_lever"])
    assert threats(out) == pytest.approx([0.8, 0.7, 0.5])
    assert out.actor("A").positions["troops"].value == 28500
    assert apply_interventions(case, []) == case


def test_set_can_create_an_estimate_of_another_actor() -> None:
    case = toy()
    out = apply_changes(case, [Change(target="actors.B.perceptions.estimates.A.positions.troops",
                                      op="set", value=12000)])
    assert out.actor("B").perceptions.estimates["A"].positions["troops"].value == 12000
    problem = alliancelab.Problem.from_case(out)
    assert problem.perceived_position[1, 0, 0] == 12000
    with pytest.raises(alliancelab.AllianceLabError, match="unknown actor"):
        apply_changes(case, [Change(target="actors.B.perceptions.estimates.Zed.positions.troops",
                                    op="set", value=1)])


def test_interventions_applied_one_after_another_to_one_case_give_each_its_own_case() -> None:
    """The case's dump is shared by the interventions applied to it (it is only read): each
    intervened case equals the one built with nothing shared, and the case is untouched."""
    case = alliancelab.read_case(resolve_case("us_rok_2025"))
    names = [*(s.name for s in case.shocks), *(lv.name for lv in case.levers)]
    before = case.model_dump()
    shared = [apply_interventions(case, [n]) for n in names]
    alone = []
    for n in names:
        yaml_case._DUMPS.clear()
        alone.append(apply_interventions(case, [n]))
    assert shared == alone
    assert case.model_dump() == before


# -- the validation of an edit is the whole case's ------------------------------------------

#: targets of every kind: numbers of actors, issues, rules, dynamics, links, indicators and
#: interventions, numbers ``set`` creates (some where the case has no such actor, issue or
#: parameter) and paths that match nothing
EDIT_TARGETS = [
    "actors.*.perceptions.threats.dprk", "actors.group:US.positions.usfk_troops",
    "actors.group:ROK+US.saliences.missile_defence", "actors.PRC.capability",
    "actors.Japan.perceptions.partner_reliability", "actors.Japan.perceptions.threats.russia",
    "actors.DPRK.perceptions.estimates.US Congress.positions.china_stance",
    "actors.Japan.perceptions.estimates.PRC.positions.china_stance",
    "actors.Japan.perceptions.estimates.Nobody.saliences.china_stance",
    "actors.Japan.positions.no_such_issue", "issues.usfk_troops.status_quo",
    "issues.*.status_quo", "issues.usfk_troops.floor", "issues.usfk_troops.scale.max",
    "issues.sma_cost_sharing.scale.min", "issues.industrial_cooperation.arena.influence.PRC",
    "dynamics.threat_convergence", "dynamics.rounds", "dynamics.no_such_parameter",
    "links.0.weight", "feedback.*.weight", "indicators.0.terms.0.power", "shocks.0.at_round",
    "levers.1.changes.0.value", "meta.nothing",
]


@pytest.fixture(scope="module")
def us_rok() -> alliancelab.Case:
    return alliancelab.read_case(resolve_case("us_rok_2025"))


def _outcome(make: Callable[[], alliancelab.Case]) -> tuple[str, str]:
    """What ``make`` gives: the case's dump (repr: a -0.0 differs from 0.0) or its error."""
    try:
        return "case", repr(make().model_dump())
    except alliancelab.AllianceLabError as exc:
        return type(exc).__name__, str(exc)


def _as_validated_whole(make: Callable[[], alliancelab.Case]) -> tuple[str, str]:
    """:func:`_outcome` with every edit validated as a whole case (no part reused)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(yaml_case, "_reused", lambda obj, new, old: new)
        return _outcome(make)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes=st.lists(st.builds(
    Change, target=st.sampled_from(EDIT_TARGETS),
    op=st.sampled_from(["set", "add", "scale", "converge"]),
    value=st.sampled_from([-3.0, -1.0, -0.5, -0.0, 0.0, 0.05, 0.5, 1.0, 1.5, 2.5, 9.0, 5e4])),
    min_size=1, max_size=3))
def test_an_edit_validates_as_the_whole_case(us_rok: alliancelab.Case,
                                             changes: list[Change]) -> None:
    """apply_changes (validating the changed parts only) gives the case, or the error, that
    validating the whole edited case gives; the case's shared dump stays as it was."""
    make = lambda: apply_changes(us_rok, changes, label="edit")  # noqa: E731
    assert _outcome(make) == _as_validated_whole(make)
    assert yaml_case.dumped(us_rok) == us_rok.model_dump()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_draw_validates_as_the_whole_case(us_rok: alliancelab.Case,
                                            data: st.DataObject) -> None:
    """with_values likewise: values inside, at and outside their domains."""
    params = uncertain_values(us_rok)
    values = [data.draw(st.sampled_from([p.value, p.low, p.high, -0.0, -1.0, 1.5, 2e4]))
              if data.draw(st.booleans()) else p.value for p in params]
    make = lambda: with_values(us_rok, params, np.array(values))  # noqa: E731
    assert _outcome(make) == _as_validated_whole(make)
