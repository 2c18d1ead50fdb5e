"""Perception gaps: capability-weighted side means, signs, the 2007 -> 2025 comparison."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import alliancelab
from alliancelab.cases import resolve_case
from alliancelab.scenarios.perception import compare_gaps, misperceptions, perception_gap


def toy(threat_b: float = 0.4, **extra: Any) -> alliancelab.Case:
    data: dict[str, Any] = {
        "name": "toy",
        "sides": ["US", "ROK"],
        "issues": [{"name": "troops", "scale": {"min": 10000, "max": 30000}}],
        "actors": [
            {"name": "A1", "group": "US", "capability": 3, "positions": {"troops": 20000},
             "saliences": {"troops": 1},
             "perceptions": {"threats": {"dprk": 0.8, "china": 0.6}, "partner_reliability": 0.5}},
            {"name": "A2", "group": "US", "capability": 1, "positions": {"troops": 30000},
             "saliences": {"troops": 1},
             "perceptions": {"threats": {"dprk": 0.4, "china": 0.2}}},
            {"name": "B", "group": "ROK", "capability": 2, "positions": {"troops": 25000},
             "saliences": {"troops": 1},
             "perceptions": {"threats": {"dprk": threat_b, "china": 0.3},
                             "partner_reliability": 0.7,
                             "estimates": {"A1": {"positions": {"troops": 12000},
                                                  "saliences": {"troops": 0.5}}}}},
        ],
    }
    data.update(extra)
    return alliancelab.Case.model_validate(data)


def test_gap_is_b_minus_a_of_capability_weighted_means() -> None:
    gap = perception_gap(toy()).set_index("item")
    assert list(gap.columns) == ["kind", "a_value", "b_value", "gap"]
    assert gap.loc["dprk", "kind"] == "threat"
    assert gap.loc["dprk", "a_value"] == pytest.approx((3 * 0.8 + 1 * 0.4) / 4)
    assert gap.loc["dprk", "b_value"] == pytest.approx(0.4)
    assert gap.loc["dprk", "gap"] == pytest.approx(0.4 - 0.7)
    # reliability: A2 has none, so the US side is A1 alone
    assert gap.loc["partner_reliability", "kind"] == "reliability"
    assert gap.loc["partner_reliability", "gap"] == pytest.approx(0.7 - 0.5)
    # issues in scale widths: US (3*0.5 + 1*1.0)/4 = 0.625, ROK 0.75
    assert gap.loc["troops", "kind"] == "issue"
    assert gap.loc["troops", "a_value"] == pytest.approx(0.625)
    assert gap.loc["troops", "gap"] == pytest.approx(0.125)


def test_sides_default_to_the_case_and_a_case_without_sides_says_so() -> None:
    pd_default = perception_gap(toy())
    pd_named = perception_gap(toy(), "US", "ROK")
    assert pd_default.equals(pd_named)
    assert pd_default.attrs["a"] == "US" and pd_default.attrs["b"] == "ROK"
    plain = toy(sides=None)
    with pytest.raises(alliancelab.AllianceLabError, match="names no sides"):
        perception_gap(plain)
    with pytest.raises(alliancelab.AllianceLabError, match="names no sides"):
        compare_gaps(plain, plain)
    assert perception_gap(plain, "US", "ROK").equals(pd_named)  # named sides need none
    # one side given: the other comes from the case
    flipped = toy(sides=["ROK", "US"])
    assert perception_gap(flipped, b="ROK").attrs["a"] == "ROK"


def test_sides_can_be_actors_and_unknown_sides_fail() -> None:
    gap = perception_gap(toy(), "A2", "A1").set_index("item")
    assert gap.loc["dprk", "gap"] == pytest.approx(0.8 - 0.4)
    assert np.isnan(gap.loc["partner_reliability", "a_value"])
    with pytest.raises(alliancelab.AllianceLabError, match="neither a group"):
        perception_gap(toy(), "US", "Mars")


def test_compare_gaps_reports_shifts() -> None:
    before, after = toy(0.3), toy(0.6)
    cmp = compare_gaps(before, after).set_index("item")
    assert cmp.loc["dprk", "gap_before"] == pytest.approx(0.3 - 0.7)
    assert cmp.loc["dprk", "gap_after"] == pytest.approx(0.6 - 0.7)
    assert cmp.loc["dprk", "gap_shift"] == pytest.approx(0.3)
    assert cmp.loc["dprk", "b_shift"] == pytest.approx(0.3)
    assert cmp.loc["dprk", "a_shift"] == pytest.approx(0.0)
    assert list(cmp["kind"])[:3] == ["threat", "threat", "reliability"]


def test_compare_keeps_items_of_one_snapshot_only() -> None:
    extra = {"name": "extra", "scale": {"min": 0, "max": 1}}
    data = toy().model_dump()
    data["issues"].append(extra)
    for a in data["actors"]:
        a["positions"]["extra"] = 0.5
        a["saliences"]["extra"] = 0.5
    after = alliancelab.Case.model_validate(data)
    cmp = compare_gaps(toy(), after).set_index("item")
    assert np.isnan(cmp.loc["extra", "gap_before"]) and cmp.loc["extra", "gap_after"] == 0


def test_misperceptions_lists_estimates_against_truth() -> None:
    table = misperceptions(toy())
    assert len(table) == 2
    pos = table[table.kind == "position"].iloc[0]
    assert (pos["perceiver"], pos["target"], pos["item"]) == ("B", "A1", "troops")
    assert pos.error == pytest.approx((12000 - 20000) / 20000)
    sal = table[table.kind == "salience"].iloc[0]
    assert sal.error == pytest.approx(-0.5)


def test_shipped_cases_gap_table_is_complete() -> None:
    case = alliancelab.read_case(resolve_case("us_rok_2025"))
    gap = perception_gap(case)  # the case's sides: US, ROK
    assert (gap.attrs["a"], gap.attrs["b"]) == tuple(case.sides)
    assert set(gap.kind) == {"threat", "reliability", "issue"}
    assert set(gap[gap.kind == "issue"].item) == set(case.issue_names)
    assert gap[["a_value", "b_value", "gap"]].notna().all().all()
    assert gap[gap.kind == "issue"][["a_value", "b_value"]].stack().between(0, 1).all()
