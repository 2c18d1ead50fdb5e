"""The shipped US-ROK cases: structure, sources, ranges, and the numbers taken from data."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from shared_data import SHARED

import alliancelab
from alliancelab.cases import resolve_case, shipped_cases
from alliancelab.core.case import Change
from alliancelab.scenarios.interventions import apply_changes, apply_interventions

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


# -- arenas, veto players and legal bounds (docs/us-rok-case.md, "Arenas and veto players") --

SNAPSHOTS = ["us_rok_2007", "us_rok_2013", "us_rok_2018", "us_rok_2025"]
ENGINES = ["compromise", "median", "nash", "bdm", "bdm-scholz", "smp", "exchange"]
OUTSIDERS = ("DPRK", "PRC", "Japan")
#: alliance-internal issues: the adversaries and Japan act only through perceptions and shocks
INTERNAL = ("usfk_troops", "strategic_flexibility", "sma_cost_sharing", "opcon_transfer",
            "ncg_extended_deterrence", "defence_spending")
ASSEMBLY = "ROK opposition (National Assembly)"


def _problem(name: str) -> tuple[alliancelab.Case, alliancelab.Problem]:
    case = alliancelab.read_case(resolve_case(name))
    return case, alliancelab.Problem.from_case(case)


def _set(case: alliancelab.Case, target: str, value: float) -> alliancelab.Case:
    change = Change(target=target, op="set", value=value, source="test")
    return apply_changes(case, [change], label="test")


@pytest.mark.parametrize("name", SNAPSHOTS)
def test_every_issue_has_an_arena_and_outsiders_have_no_standing(name: str) -> None:
    case, p = _problem(name)
    assert all(issue.arena is not None and issue.arena.source for issue in case.issues)
    out = [p.actors.index(a) for a in OUTSIDERS]
    k = {i: p.issues.index(i) for i in INTERNAL}
    for issue, col in k.items():
        assert (p.weight[out, col] == 0).all(), (name, issue)
    # nowhere do the DPRK, the PRC or Japan bargain with full standing: at most an influence
    assert (p.weight[out] < 1).all()


@pytest.mark.parametrize("name", SNAPSHOTS)
def test_defence_budget_is_seouls_and_troop_levels_washingtons(name: str) -> None:
    case, p = _problem(name)
    groups = [a.group for a in case.actors]
    us = [i for i, g in enumerate(groups) if g == "US"]
    rok = [i for i, g in enumerate(groups) if g == "ROK"]
    spend, troops = p.issues.index("defence_spending"), p.issues.index("usfk_troops")
    assert (p.weight[rok, spend] == 1).all() and (p.weight[us, spend] < 1).all()
    clout = p.weight[:, spend] * p.capability * p.salience[:, spend]
    assert clout[us].sum() < 0.5 * clout.sum()  # Washington weighs in, it does not decide
    assert (p.weight[us, troops] == 1).all() and (p.weight[rok, troops] < 1).all()


@pytest.mark.parametrize("name", SNAPSHOTS)
def test_the_assembly_is_the_veto_player_of_the_sma(name: str) -> None:
    case, p = _problem(name)
    sma = case.issue("sma_cost_sharing")
    assert [v.actor for v in sma.veto] == [ASSEMBLY]
    assert "art. 60(1)" in (sma.veto[0].source or "")
    k = p.issues.index("sma_cost_sharing")
    assert list(np.flatnonzero(p.veto[:, k])) == [p.actors.index(ASSEMBLY)]
    # the forecast lies in the Assembly's win-set of the status quo, for every engine
    q = sma.status_quo.value
    ideal = case.actor(ASSEMBLY).positions["sma_cost_sharing"].value
    for model in ENGINES:
        f = alliancelab.forecast(case, model=model, rng=0).forecast[k]
        assert abs(f - ideal) <= abs(q - ideal) + 1e-12, (name, model, f)


@pytest.mark.parametrize("model", ENGINES)
def test_the_dprk_cannot_move_the_sma_or_the_troops(model: str) -> None:
    """The North has no standing on alliance-internal issues: its position there enters no
    computation of any engine, so changing it leaves the forecast bit for bit the same."""
    case, p = _problem("us_rok_2025")
    moved = _set(_set(case, "actors.DPRK.positions.sma_cost_sharing", 10.0),
                 "actors.DPRK.positions.usfk_troops", 40000.0)
    base = alliancelab.forecast(case, model=model, rng=0).forecast
    other = alliancelab.forecast(moved, model=model, rng=0).forecast
    for issue in ("sma_cost_sharing", "usfk_troops", "defence_spending"):
        k = p.issues.index(issue)
        assert other[k] == base[k], (model, issue)


def test_the_2018_troop_floor_binds() -> None:
    """The FY2019 NDAA floor (22,000, in force at the 2018-10 snapshot): even with every US
    actor at 15,000 troops no engine forecasts fewer than 22,000."""
    case, p = _problem("us_rok_2018")
    assert case.issue("usfk_troops").floor.value == 22000
    cut = _set(case, "actors.group:US.positions.usfk_troops", 15000.0)
    k = p.issues.index("usfk_troops")
    for model in ENGINES:
        out = alliancelab.forecast(cut, model=model, rng=0)
        assert out.forecast[k] == 22000, model
        assert out.diagnostics["veto"]["usfk_troops"]["bound_by"] == ["floor"]


def test_floors_follow_the_law_at_each_snapshot_date() -> None:
    floors = {n: alliancelab.read_case(resolve_case(n)).issue("usfk_troops").floor
              for n in SNAPSHOTS}
    assert floors["us_rok_2007"] is None and floors["us_rok_2013"] is None  # none was law
    assert floors["us_rok_2018"].range is None  # FY2019 NDAA: law, a fact
    f25 = floors["us_rok_2025"]  # FY2026 NDAA signed after 2025-11: a judgement
    assert f25.value == 28500 and f25.range == (24000, 28500)
    assert f25.source.startswith("judgement:")


def test_sustained_presence_keeps_the_troops_when_washington_and_seoul_agree() -> None:
    """Issue 11's example: with every US actor and Seoul at 28,500 the lever used to give
    about 26,350 (Pyongyang and Beijing voted); with the arena every engine gives 28,500,
    already before the floor."""
    case, p = _problem("us_rok_2025")
    lever = apply_interventions(case, ["sustained_usfk_presence"])
    for model in ENGINES:
        veto = alliancelab.forecast(lever, model=model, rng=0).diagnostics["veto"]
        assert veto["usfk_troops"]["unconstrained"] == pytest.approx(28500, abs=1e-6), model
