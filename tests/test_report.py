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
    assert "perception gap" in _section(html, "gap").lower()
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
    # the lever the findings name (which one depends on the case's numbers)
    said = " ".join(next(f for f in findings(res) if f.key == "levers").items)
    named = next(lv.name for lv in res.case.levers if f"({lv.name})" in said)
    issues = [i.model_copy(update={"description": "Zorblax garrison size."})
              if i.name == "usfk_troops" else i for i in res.case.issues]
    levers = [lv.model_copy(update={"description": "Quux the garrison swiftly."})
              if lv.name == named else lv for lv in res.case.levers]
    inds = [i.model_copy(update={"description": "Frobnication of the north"})
            if i.name == "deterrence" else i for i in res.case.indicators]
    case = res.case.model_copy(update={"issues": issues, "levers": levers, "indicators": inds})
    scen = res.scenario.model_copy(update={"issues": issues})
    text = " ".join(i for f in findings(dataclasses.replace(res, case=case, scenario=scen))
                    for i in (f.lead, *f.items, *f.extra))
    assert "Zorblax garrison size" in text and "Authorised strength of US Forces" not in text
    assert f"Quux the garrison swiftly ({named})" in text
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


# -- the look: palette, scales, nav, numbers ------------------------------------------------


def test_every_actor_has_its_own_colour_blind_safe_style():
    """In every shipped case each actor gets its own colour (no two of 11 share one) and
    its own (colour, dash, marker); the case's own colours are used, and they stay apart in
    normal vision and under the three simulated deficiencies."""
    from alliancelab.report import theme

    for name, path in shipped_cases().items():
        case = read_case(path)
        styles = theme.actor_styles(case)
        assert list(styles) == list(case.actor_names)
        colours = [s.colour for s in styles.values()]
        assert len(set(colours)) == len(colours), name
        assert len({(s.colour, s.dash, s.symbol) for s in styles.values()}) == len(colours)
        assert min(theme.min_distance(colours).values()) >= theme.MIN_DELTA_E, name
        own = {a.name: case.groups[a.group].colors for a in case.actors}
        assert all(styles[a].colour in own[a] for a in own), name  # from the case file


def test_colours_that_collide_for_colour_blind_readers_are_replaced():
    """Red and green shades that deuteranopes cannot tell apart: the theme's palette takes
    over, one hue per group, shades within it."""
    from alliancelab.core.case import Group
    from alliancelab.report import theme

    case = read_case(shipped_cases()["us_rok_2025"])
    bad = {"US": Group(label="US", colors=["#cc0000", "#00aa00"]),
           "ROK": Group(label="ROK", colors=["#cc0000"]),
           "DPRK": Group(colors=["#00aa00"]), "PRC": Group(colors=["#cc0000"]),
           "Japan": Group(colors=["#00aa00"])}
    assert theme.min_distance(["#cc3300", "#669900"])["deuteranopia"] < theme.MIN_DELTA_E
    styles = theme.actor_styles(case.model_copy(update={"groups": bad}))
    colours = [s.colour for s in styles.values()]
    assert len(set(colours)) == len(colours)
    assert min(theme.min_distance(colours).values()) >= 10
    # and a case without groups at all still gives every actor its own style
    plain = case.model_copy(update={"groups": {}, "sides": None, "actors": [
        a.model_copy(update={"group": None}) for a in case.actors]})
    styles = theme.actor_styles(plain)
    assert len({(s.colour, s.dash, s.symbol) for s in styles.values()}) == len(case.actors)


def test_colour_vision_simulation_keeps_grey_and_merges_red_with_green():
    from alliancelab.report import theme

    d = theme.min_distance(["#777777", "#777777"])
    assert all(v == pytest.approx(0, abs=1e-9) for v in d.values())
    d = theme.min_distance(["#d62728", "#2ca02c"])  # plotly's red and green
    assert d["normal"] > 60 and d["deuteranopia"] < d["normal"] / 2
    assert theme.min_distance(list(theme.PALETTE))["deuteranopia"] > 15  # Okabe-Ito


def test_scale_column_reads_cleanly():
    from alliancelab.core.case import Scale
    from alliancelab.report.widgets import scale_text

    assert scale_text(Scale(min=0, max=40000, low="full withdrawal",
                            high="40,000 (reinforced)")) == (
        "0 (full withdrawal) \u2013 40,000 (reinforced)")
    assert scale_text(Scale(min=0, max=10, low="no contribution", high="US$10 bn a year")) == (
        "0 (no contribution) \u2013 US$10 bn a year")
    assert scale_text(Scale(min=1, max=7)) == "1 \u2013 7"
    assert scale_text(Scale(min=0, max=100, low="a", high="b")) == "0 (a) \u2013 100 (b)"


def test_summary_table_and_nav(shipped_html):
    sec = _section(shipped_html, "summary")
    assert "0 (full withdrawal) \u2013 40,000 (reinforced)" in h.unescape(sec)
    assert "(40,000 (" not in h.unescape(sec) and "e+0" not in sec
    # the sticky nav never hides a heading: the jump leaves room for it
    assert "scroll-padding-top" in shipped_html and "scroll-margin-top" in shipped_html
    assert "nav.offsetHeight" in shipped_html


def _fig_json(html: str, div: str) -> str:
    start = html.index(f'id="fig-{div}"')
    return html[start:html.index("</script>", start)]


def test_heat_maps_of_a_kind_share_one_colour_range(shipped_html, shipped_results):
    """The effect maps of the engines' forecasts and the dynamics' outcomes (all in % of
    the scale) use one range; the movement maps one range and the report's scale."""
    from alliancelab.report import figures as F
    from alliancelab.report.theme import MOVEMENT_SCALE

    zmax = F.effect_zmax(shipped_results, ("forecast", "dynamics outcome"))
    n_issue_maps = len(shipped_results.models) + 1
    seen = []
    for k in range(n_issue_maps):
        if f'id="fig-effect-{k}"' in shipped_html:
            m = re.search(r'"zmax":([0-9.e+-]+)', _fig_json(shipped_html, f"effect-{k}"))
            assert m is not None
            seen.append(float(m.group(1)))
    assert len(seen) >= 2 and seen == pytest.approx([zmax] * len(seen))
    fig = F.movement_figure(shipped_results)
    assert fig is not None
    ranges = {(t.zmin, t.zmax) for t in fig.data}
    assert len(ranges) == 1
    assert all([list(c) for c in t.colorscale] == MOVEMENT_SCALE for t in fig.data)
    assert list(fig.data[0].y) == list(shipped_results.scenario.actor_names)
    assert fig.layout.yaxis.autorange == "reversed"  # first actor on top, as in the case


def test_every_chart_labels_its_axes(shipped_results):
    from alliancelab.report import figures as F

    figs = [F.distribution_figure(shipped_results), F.movement_figure(shipped_results),
            F.trajectory_figure(shipped_results, "dynamics"), F.gap_figure(shipped_results),
            F.gap_shift_figure(shipped_results), F.dynamics_figure(shipped_results),
            F.effect_heatmap(shipped_results, "forecast", shipped_results.models[0])]
    for fig in figs:
        assert fig is not None
        layout = fig.layout.to_plotly_json()
        xs = [v for k, v in layout.items() if k.startswith("xaxis")]
        ys = [v for k, v in layout.items() if k.startswith("yaxis")]
        assert any((a.get("title") or {}).get("text") for a in xs), fig.layout.title
        assert any((a.get("title") or {}).get("text") for a in ys), fig.layout.title
        assert fig.layout.template.layout.font.family  # the report's theme


def test_exploration_charts_use_the_report_theme():
    import numpy as np
    import pandas as pd

    from alliancelab.analysis.discovery import prim
    from alliancelab.report import figures_explore as FE
    from alliancelab.report.theme import plotly_template

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.uniform(size=(200, 3)), columns=["a", "b", "c"])
    res = prim(X, (X["a"] > 0.7).to_numpy())
    regret = pd.DataFrame(rng.uniform(size=(20, 2)), columns=["none", "lever"])
    for fig in (FE.prim_figure(res, res.select(0.5), "a high"), FE.regret_figure(regret)):
        assert fig.layout.template == plotly_template()
        assert fig.layout.xaxis.title.text and fig.layout.yaxis.title.text


def test_most_robust_names_every_tied_policy():
    import numpy as np
    import pandas as pd

    from alliancelab.analysis.robustness import robustness
    from alliancelab.report.findings import _robust_item

    rng = np.random.default_rng(1)
    scen = pd.DataFrame({"u": rng.uniform(size=30)})
    base = pd.Series(rng.uniform(size=30))
    same = pd.DataFrame({"none": base, "lever_a": base, "lever_b": base})
    assert "all 3 policies tie" in _robust_item(robustness(same, scen))
    two = pd.DataFrame({"none": base, "lever_a": base + 1, "lever_b": base + 1})
    text = _robust_item(robustness(two, scen))
    assert "tie: lever_a, lever_b" in text and "none" not in text
    one = pd.DataFrame({"none": base, "lever_a": base + 1})
    assert "most robust policy for this outcome is lever_a" in _robust_item(
        robustness(one, scen))


def test_the_plain_template_is_what_plotly_makes_of_it():
    """The reports write the template as plain JSON (no plotly objects loaded); it is, key
    order included, what plotly writes for the same template."""
    import json

    from alliancelab.report.theme import plotly_template, template_json, template_layout

    template = plotly_template()
    assert json.dumps(template_json()) == json.dumps(template.to_plotly_json())
    assert json.dumps(template_layout()) == json.dumps(template.layout.to_plotly_json())
    assert template_json() is not template_json()  # fresh copies: a figure may edit its own
