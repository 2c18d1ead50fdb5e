"""The shipped US-ROK cases: structure, sources, ranges, and the numbers taken from data."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from shared_data import SHARED

import alliancelab
from alliancelab.cases import resolve_case, shipped_cases

CASES = ["us_rok_2025", "us_rok_2007"]

ACTORS = {
    "US President (White House)": "US",
    "US Cabinet (State and Defense)": "US",
    "US Congress": "US",
    "USFK / INDOPACOM": "US",
    "ROK President and government": "ROK",
    "ROK opposition (National Assembly)": "ROK",
    "ROK public opinion": "ROK",
    "ROK defence and shipbuilding industry": "ROK",
    "DPRK": "DPRK",
    "PRC": "PRC",
    "Japan": "Japan",
}
ISSUES = [
    "usfk_troops", "strategic_flexibility", "sma_cost_sharing", "opcon_transfer",
    "ncg_extended_deterrence", "nuclear_submarines", "china_stance", "missile_defence",
    "joint_exercises", "dprk_policy", "defence_spending", "industrial_cooperation",
]
#: issues only the late-2025 snapshot has, appended at the end (the joint fact sheet of
#: 13 November 2025 made enrichment and reprocessing an issue of its own)
LATER_ISSUES = {"us_rok_2025": ["enrichment_reprocessing"], "us_rok_2007": []}


@pytest.fixture(scope="module", params=CASES)
def case(request: pytest.FixtureRequest) -> alliancelab.Case:
    return alliancelab.read_case(resolve_case(request.param))


def test_cases_are_shipped() -> None:
    assert set(CASES) <= set(shipped_cases())


def test_actors_and_groups(case: alliancelab.Case) -> None:
    assert {a.name: a.group for a in case.actors} == ACTORS
    # document 001: the US is several actors, not one
    assert sum(a.group == "US" for a in case.actors) >= 4


def test_issues_have_labelled_scales_and_a_status_quo(case: alliancelab.Case) -> None:
    assert list(case.issue_names) == ISSUES + LATER_ISSUES[case.name]
    for issue in case.issues:
        assert issue.scale.low and issue.scale.high, issue.name
        assert issue.status_quo is not None and issue.status_quo.source, issue.name
    units = {i.name: i.scale.units for i in case.issues}
    assert units["usfk_troops"] == "troops"
    assert units["defence_spending"] == "% of GDP"
    assert units["sma_cost_sharing"].startswith("US$")


def test_every_number_has_a_known_kind_of_source(case: alliancelab.Case) -> None:
    keys = tuple(case.sources)
    for path, v in case.values():
        assert v.source, f"{path} has no source"
        assert v.source.startswith(("judgement:", *keys)), f"{path}: {v.source[:60]}"


def test_judgements_carry_ranges(case: alliancelab.Case) -> None:
    for path, v in case.values():
        if v.source.startswith("judgement:") and "by definition" not in v.source:
            assert v.range is not None, f"{path} is a judgement without a range"


def test_every_seed_document_cited_is_one_of_the_five(case: alliancelab.Case) -> None:
    seeds = [k for k, text in case.sources.items() if "seeds/" in text]
    assert len(seeds) == 5
    cited = {k for _, v in case.values() for k in seeds if k in v.source}
    # the snapshot's own documents are cited
    if case.name == "us_rok_2007":
        assert "ROK-US alliance relations (2007 conference paper)" in cited
    else:
        assert {"El Sayed, Realigning Perceptions",
                "Yu, Korea-US Alliance Modernization Blueprint Complete, Gaps Remain"} <= cited


def test_perceptions_present_for_every_actor(case: alliancelab.Case) -> None:
    for actor in case.actors:
        p = actor.perceptions
        assert {"dprk", "china"} <= set(p.threats), actor.name
        assert p.partner_reliability is not None, actor.name
        for v in [*p.threats.values(), p.partner_reliability]:
            assert 0.0 <= v.value <= 1.0 and v.source


def test_documents_numbers_are_used() -> None:
    new = alliancelab.read_case(resolve_case("us_rok_2025"))
    assert new.issue("usfk_troops").status_quo.value == 28500
    assert "28,500" in new.issue("usfk_troops").status_quo.source
    assert new.actor("ROK President and government").positions["defence_spending"].value == 3.5
    assert "2006" in new.issue("strategic_flexibility").status_quo.source
    assert new.issue("ncg_extended_deterrence").status_quo.value > 40  # the NCG exists


def test_2007_keeps_later_issues_at_their_2007_state() -> None:
    old = alliancelab.read_case(resolve_case("us_rok_2007"))
    new = alliancelab.read_case(resolve_case("us_rok_2025"))
    assert old.issue("nuclear_submarines").status_quo.value == 0
    for name in ("ncg_extended_deterrence", "missile_defence", "nuclear_submarines"):
        assert old.issue(name).status_quo.value < new.issue(name).status_quo.value


def test_misestimates_encode_the_documents_gaps() -> None:
    new = alliancelab.read_case(resolve_case("us_rok_2025"))
    wh = new.actor("US President (White House)")
    # Pyongyang misjudges US resolve: it expects fewer troops and less salience than is true
    dprk = new.actor("DPRK").perceptions.estimates["US President (White House)"]
    assert dprk.positions["usfk_troops"].value < wh.positions["usfk_troops"].value
    assert dprk.saliences["usfk_troops"].value < wh.saliences["usfk_troops"].value
    # Seoul's estimate of the White House's troop position differs from the truth
    seoul = new.actor("ROK President and government").perceptions.estimates
    assert seoul["US President (White House)"].positions["usfk_troops"].value != (
        wh.positions["usfk_troops"].value
    )
    # Beijing reads more containment into the cabinet than it intends
    prc = new.actor("PRC").perceptions.estimates["US Cabinet (State and Defense)"]
    assert prc.positions["china_stance"].value > (
        new.actor("US Cabinet (State and Defense)").positions["china_stance"].value
    )


def test_dynamics_parameters_are_in_the_case(case: alliancelab.Case) -> None:
    for key in ("rounds", "adjustment_speed", "threat_convergence", "estimate_learning"):
        assert key in case.dynamics
    assert case.links and case.feedback and case.indicators
    for item in (*case.links, *case.feedback):
        assert item.source and item.weight.source == item.source
    names = {i.name for i in case.indicators}
    assert {"miscalculation_risk", "regional_uncertainty", "deterrence", "reassurance",
            "tension", "economic_cost"} <= names


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.skipif(not SHARED.exists(), reason="shared data not present")
def test_data_derived_numbers_match_the_shared_data() -> None:
    milex = _csv_rows(SHARED / "data" / "milex" / "military-spending-as-a-share-of-gdp-sipri.csv")
    share = {
        int(r["Year"]): float(r["Military expenditure (% of GDP)"])
        for r in milex if r["Code"] == "KOR"
    }
    troops = _csv_rows(SHARED / "data" / "troops" / "troopdata-rebuild-country-year.csv")
    kor = {int(r["year"]): int(float(r["troops_ad"])) for r in troops if r["ccode"] == "732"}
    new = alliancelab.read_case(resolve_case("us_rok_2025"))
    old = alliancelab.read_case(resolve_case("us_rok_2007"))
    assert new.issue("defence_spending").status_quo.value == round(share[2024], 3)
    assert old.issue("defence_spending").status_quo.value == round(share[2007], 3)
    assert old.issue("usfk_troops").status_quo.value == kor[2007]
    assert "24,515" in new.issue("usfk_troops").status_quo.source and kor[2024] == 24515


def test_case_round_trips_through_yaml(case: alliancelab.Case) -> None:
    text = alliancelab.format_case(case, "yaml")
    again = alliancelab.parse_case(text, "<round trip>", "yaml")
    assert again == case
