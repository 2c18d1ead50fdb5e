"""The self-contained HTML report (alliancelab.report)."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest

from alliancelab import read_case
from alliancelab.cases import shipped_cases
from alliancelab.jobs.run import run_job
from alliancelab.report import render, write_outputs

DATA = Path(__file__).parent / "data"
SECTIONS = ["summary", "forecasts", "trajectories", "gap", "interventions", "alliance",
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
    import html as h

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
    """Any module ``alliancelab.cases.us_rok`` with ``assess(case) -> dict`` feeds the
    alliance section: its indicators per shock and lever; without it the section says so."""
    fake = types.ModuleType("alliancelab.cases.us_rok")
    fake.assess = lambda case: {  # type: ignore[attr-defined]
        "toy.mean_dprk_threat": sum(a.perceptions.threats["dprk"].value for a in case.actors
                                    if "dprk" in a.perceptions.threats),
    }
    monkeypatch.setitem(sys.modules, "alliancelab.cases.us_rok", fake)
    case = shipped_results.case
    res = run_job(case, models=["compromise"], draws=2, effect_draws=0, seed=1)
    assert res.alliance is not None
    assert set(res.alliance["item"]) == {"toy.mean_dprk_threat"}
    row = res.alliance[res.alliance["scenario"] == "dprk_nuclear_test"]
    assert row["effect"].iloc[0] > 0  # a nuclear test raises the perceived threat
    html = render(res)
    assert 'id="fig-alliance"' in html and "toy.mean_dprk_threat" in html

    monkeypatch.setitem(sys.modules, "alliancelab.cases.us_rok", None)
    res = run_job(case, models=["compromise"], draws=2, effect_draws=0, seed=1)
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
