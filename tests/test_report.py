"""The self-contained HTML report (alliancelab.report)."""

from __future__ import annotations

import dataclasses
import html as h
import re
import sys
import types
from pathlib import Path

import pytest
from markupsafe import escape

from alliancelab import read_case
from alliancelab.cases import shipped_cases, us_rok
from alliancelab.core.errors import AllianceLabError
from alliancelab.jobs.run import run_job
from alliancelab.report import render, write_outputs
from alliancelab.report.findings import findings, headline_rows

DATA = Path(__file__).parent / "data"
SECTIONS = ["findings", "summary", "forecasts", "trajectories", "gap", "interventions", "alliance",
            "inputs", "provenance"]


@pytest.fixture(scope="module")
def shipped_results():
    cases = shipped_cases()
    case = read_case(cases["us_rok_2025"])
    snapshots = {"2007": read_case(cases["us_rok_2007"])}
    return run_job(case, interventions=["usfk_reduction_announced", "strategic_diplomacy"],
                   models=["compromise", "smp"], draws=6, effect_draws=2, seed=3,
                   snapshots=snapshots, case_source=str(cases["us_rok_2025"]))


@pytest.fixture(scope="module")
def shipped_html(shipped_results):
    return render(shipped_results, command="alliancelab run us_rok_2025 ...")


def _outside_scripts(html: str) -> str:
    return re.sub(r"<script\b[^>]*>.*?</script>", "", html, flags=re.S | re.I)


def test_self_contained_no_network(shipped_html):
    tags = _outside_scripts(shipped_html)
    assert not re.search(r"""\b(src|href)\s*=\s*["']?\s*(https?:)?//""", tags, re.I)
    # every script is inline; plotly.js is inlined exactly once
    assert not re.search(r"<script\b[^>]*\bsrc\s*=", shipped_html, re.I)
    assert shipped_html.count("* plotly.js v") == 1  # the bundle's banner: inlined once
    assert len(re.findall(r"<script\b[^>]*>", shipped_html)) >= 5
    assert not re.search(r"@import|url\(\s*['\"]?https?:", tags)


def test_every_section_present(shipped_html):
    for sid in SECTIONS:
        assert f'<section id="{sid}">' in shipped_html, sid
    for fig in ["fig-forecast", "fig-distribution", "fig-traj-0", "fig-movement", "fig-gap",
                "fig-gap-shift", "fig-dynamics", "fig-effect-0", "fig-interactions"]:
        assert f'id="{fig}"' in shipped_html, fig
    # captions say how to read the charts; units and labelled ends appear
    assert shipped_html.count("How to read") >= 8
    assert "US$ bn per year" in shipped_html and "% of GDP" in shipped_html
    assert "full withdrawal" in shipped_html


def test_ids_are_unique(shipped_html):
    ids = re.findall(r'\bid="([^"]+)"', shipped_html)
    assert len(ids) == len(set(ids))


def test_perception_gap_shows_both_snapshots(shipped_html, shipped_results):
    snaps = list(dict.fromkeys(shipped_results.gaps["snapshot"]))
    assert snaps[0] == "2007" and snaps[1].startswith("2025") and len(snaps) == 3
    for s in snaps:
        assert s in shipped_html


def test_inputs_table_lists_every_source(shipped_html, shipped_results):
    sources = {s for s in shipped_results.inputs["source"] if s}
    assert sources
    for s in sources:
        assert h.escape(s) in shipped_html, s


def test_provenance(shipped_html, shipped_results):
    assert f"<dd>{shipped_results.seed}</dd>" in shipped_html
    assert shipped_results.case_hash in shipped_html
    assert "alliancelab run us_rok_2025 ..." in shipped_html
    assert "triangular" in shipped_html


def test_alliance_models_extension_point(shipped_results, monkeypatch):
    """Any module ``alliancelab.cases.us_rok`` with ``evaluate(case) -> (dict, dict)`` feeds the
    alliance section: its indicators per shock and lever; without it the section says so."""
    fake = types.ModuleType("alliancelab.cases.us_rok")
    fake.evaluate = lambda case: ({  # type: ignore[attr-defined]
        "toy.mean_dprk_threat": sum(a.perceptions.threats["dprk"].value for a in case.actors
                                    if "dprk" in a.perceptions.threats),
    }, {})
    monkeypatch.setitem(sys.modules, "alliancelab.cases.us_rok", fake)
    case = shipped_results.case
    res = run_job(case, models=["compromise"], draws=2, effect_draws=0, seed=1)
    assert res.alliance is not None
    assert set(res.alliance["item"]) == {"toy.mean_dprk_threat"}
    row = res.alliance[res.alliance["scenario"] == "dprk_nuclear_test"]
    assert row["effect"].iloc[0] > 0  # a nuclear test raises the perceived threat
    html = render(res)
    assert 'id="fig-alliance"' in html and "toy.mean_dprk_threat" in html

    # a plug-in named by the case that cannot be imported is the one-line error ...
    monkeypatch.setitem(sys.modules, "alliancelab.cases.us_rok", None)
    with pytest.raises(AllianceLabError, match="cannot import the plug-in"):
        run_job(case, models=["compromise"], draws=2, effect_draws=0, seed=1)
    # ... and a case without one gets a report whose section says so
    res = run_job(case.model_copy(update={"plugin": None}), models=["compromise"], draws=2,
                  effect_draws=0, seed=1)
    assert res.alliance is None
    html = render(res)
    assert 'id="fig-alliance"' not in html and "Not available in this installation" in html


def test_report_for_a_case_without_allies_or_interventions(tmp_path):
    """A plain bargaining case still gets a report; the sections without data say why."""
    case = read_case(DATA / "ec_emissions.csv")
    res = run_job(case, models=["compromise", "median"], draws=3, seed=2)
    out = write_outputs(res, tmp_path / "o")
    html = (out / "report.html").read_text()
    for sid in SECTIONS:
        assert f'<section id="{sid}">' in html
    assert "no actors in groups" in html
    assert "defines no shocks or levers" in html


def _section(html: str, sid: str) -> str:
    sec = html[html.index(f'<section id="{sid}">'):]
    return sec[:sec.index("</section>")]


def test_findings_come_first_and_have_every_part(shipped_html, shipped_results):
    assert shipped_html.index('<section id="findings">') < shipped_html.index(
        '<section id="summary">')
    sec = _section(shipped_html, "findings")
    for key in ("agree", "disagree", "levers", "change", "caveats"):
        assert f'id="findings-{key}"' in sec, key
    parts = {f.key: f for f in findings(shipped_results)}
    # bands of the effects, and the documented exceptions of the case's shocks
    assert "5-95%" in " ".join(parts["levers"].items)
    assert any("exception" in i.lower() for i in parts["caveats"].items)
    # no exploration in this run: it says so rather than inventing a conclusion
    assert "not run" in parts["change"].lead
    for f in parts.values():
        for item in (*f.items, *f.extra):
            assert str(escape(item)) in sec


def test_findings_follow_the_case_not_hard_coded_prose(shipped_results):
    """Rename an issue's description, a lever's description and an indicator's description
    in the results' case: the prose follows."""
    res = shipped_results
    issues = [i.model_copy(update={"description": "Zorblax garrison size."})
              if i.name == "usfk_troops" else i for i in res.case.issues]
    levers = [lv.model_copy(update={"description": "Quux the garrison swiftly."})
              if lv.name == "rapid_troop_reduction" else lv for lv in res.case.levers]
    inds = [i.model_copy(update={"description": "Frobnication of the north"})
            if i.name == "deterrence" else i for i in res.case.indicators]
    case = res.case.model_copy(update={"issues": issues, "levers": levers, "indicators": inds})
    scen = res.scenario.model_copy(update={"issues": issues})
    text = " ".join(i for f in findings(dataclasses.replace(res, case=case, scenario=scen))
                    for i in (f.lead, *f.items, *f.extra))
    assert "Zorblax garrison size" in text and "Authorised strength of US Forces" not in text
    assert "Quux the garrison swiftly (rapid_troop_reduction)" in text
    assert "Frobnication of the north" in text
    assert "Frobnication" not in " ".join(i for f in findings(res) for i in (*f.items, *f.extra))


def test_headline_rows_have_a_meaning_and_nothing_constant(shipped_results, shipped_html):
    rows = headline_rows(shipped_results)
    assert rows and all(len(r) == 3 and all(isinstance(x, str) and x for x in r) for r in rows)
    names = [r[0] for r in rows]
    assert "deterrence.p_challenge" not in names  # 0 in every draw and scenario
    assert not any(n.startswith(us_rok.ILLUSTRATIONS) for n in names)  # tripartite, tension
    assert {"dilemma.rok_abandonment", "morrow.concession_gap"} <= set(names)
    for name, value, meaning in rows:
        if name in us_rok.MEANINGS:
            assert meaning == us_rok.MEANINGS[name] and "[" in value
    # the chosen scenario's effect on the dynamics indicators, with bands
    assert any(n.endswith("effect of the scenario") for n in names)
    summary = _section(shipped_html, "summary")
    assert "Headline numbers" in summary
    for _, _, meaning in rows:
        assert str(escape(meaning)) in summary
