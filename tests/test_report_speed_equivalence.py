"""The report's figures are built as plain plotly JSON (alliancelab.report.widgets.Figure) and
embedded without plotly's validation: what is embedded must be what the validation would make
of it, refer only to axes its layout defines, and hold the traces the results call for."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from _plotly_utils.utils import to_typed_array_spec
from plotly.subplots import make_subplots

from alliancelab import read_case
from alliancelab.cases import shipped_cases
from alliancelab.jobs.run import run_job
from alliancelab.report import figures as F
from alliancelab.report import figures_explore as FE
from alliancelab.report import render
from alliancelab.report.theme import FONT, plotly_template
from alliancelab.report.widgets import Figure, _typed_array, fig_html

MODELS = ["compromise", "smp"]


@pytest.fixture(scope="module")
def results():
    cases = shipped_cases()
    case = read_case(cases["us_rok_2025"])
    snapshots = {"2007": read_case(cases["us_rok_2007"])}
    return run_job(case, interventions=["usfk_reduction_announced"], models=MODELS, draws=6,
                   effect_draws=2, seed=5, snapshots=snapshots)


@pytest.fixture(scope="module")
def embedded(results) -> dict[str, dict[str, Any]]:
    """Every ``Plotly.newPlot(id, data, layout, config)`` of the rendered report, parsed."""
    return _embedded(render(results, command="test"))


def _embedded(page: str) -> dict[str, dict[str, Any]]:
    dec = json.JSONDecoder()
    out = {}
    for m in re.finditer(r'Plotly\.newPlot\(\s*"([^"]+)",\s*', page):
        parts, i = [], m.end()
        for _ in range(3):
            value, i = dec.raw_decode(page, i)
            parts.append(value)
            i = page.index(",", i) + 1 if len(parts) < 3 else i
            while page[i].isspace():
                i += 1
        out[m.group(1)] = dict(zip(("data", "layout", "config"), parts, strict=True))
    return out


_DTYPES = {"i1": np.int8, "u1": np.uint8, "i2": np.int16, "u2": np.uint16, "i4": np.int32,
           "u4": np.uint32, "f4": np.float32, "f8": np.float64}


def _plain(obj: Any) -> Any:
    """JSON with typed arrays decoded to lists and empty objects dropped (plotly's
    validation drops an empty ``title``)."""
    if isinstance(obj, dict):
        if "bdata" in obj and set(obj) <= {"bdata", "dtype", "shape"}:
            a = np.frombuffer(base64.b64decode(obj["bdata"]), dtype=_DTYPES[obj["dtype"]])
            if "shape" in obj:
                a = a.reshape([int(s) for s in obj["shape"].split(",")])
            return _plain(a.tolist())
        return {k: _plain(v) for k, v in obj.items() if v != {}}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, float) and np.isnan(obj):
        return None
    return obj


def _validated(fig: dict[str, Any]) -> dict[str, Any]:
    """What plotly's graph objects make of a figure's JSON."""
    return json.loads(go.Figure(data=fig["data"], layout=fig["layout"]).to_json())


def _axis_ref(layout: dict[str, Any], ref: str) -> str:
    return f"{ref[0]}axis{ref[1:]}"


# -- the embedded figures ------------------------------------------------------------------


def test_every_figure_div_has_its_json(results, embedded):
    page = render(results, command="test")
    divs = re.findall(r'<div id="(fig-[^"]+)"', page)
    assert divs and sorted(divs) == sorted(embedded)
    for fid, fig in embedded.items():
        assert fig["data"], fid
        assert all("type" in t for t in fig["data"]), fid
        assert fig["config"]["displaylogo"] is False, fid
        assert fig["layout"]["template"]["layout"]["font"]["family"] == FONT, fid


def test_embedded_json_is_what_plotly_validation_makes_of_it(embedded):
    """Built without validation, every figure is still a fixed point of it: no property
    plotly would reject, coerce or expand (a named colour scale, a title string)."""
    for fid, fig in embedded.items():
        assert _plain(_validated(fig)) == _plain({"data": fig["data"],
                                                  "layout": fig["layout"]}), fid


def test_every_trace_is_drawn_on_axes_of_its_layout(embedded):
    for fid, fig in embedded.items():
        layout = fig["layout"]
        for t in fig["data"]:
            for ref in (t.get("xaxis", "x"), t.get("yaxis", "y")):
                axis = _axis_ref(layout, ref)
                if axis not in ("xaxis", "yaxis"):  # the default axes need no entry
                    assert axis in layout, (fid, ref)
        for note in layout.get("annotations", []):
            for ref in (note.get("xref", "paper"), note.get("yref", "paper")):
                if ref != "paper":
                    assert _axis_ref(layout, ref.split()[0]) in layout, (fid, ref)
        for k, axis in layout.items():
            if re.fullmatch(r"[xy]axis\d*", k) and "anchor" in axis:
                other = "y" if k[0] == "x" else "x"
                assert axis["anchor"] == other + k[5:], (fid, k)
                assert 0 <= axis["domain"][0] < axis["domain"][1] <= 1, (fid, k)


def test_trace_counts_follow_the_results(results, embedded):
    case = results.scenario
    n_actors, n_issues = len(case.actors), len(case.issues)
    with_sq = sum(i.status_quo is not None for i in case.issues)
    assert len(embedded["fig-forecast"]["data"]) == n_issues * (1 + 3 * len(MODELS)) + with_sq
    assert len(embedded["fig-distribution"]["data"]) == len(MODELS)
    sources = [m for m, r in results.runs.items() if r.point.rounds.shape[0] > 1]
    assert results.simulation is not None
    for k, s in enumerate([*sources, "dynamics"]):
        fig = embedded[f"fig-traj-{k}"]
        assert len(fig["data"]) == n_actors * n_issues + (n_issues if s == "dynamics" else 0)
        panels = {(t["xaxis"], t["yaxis"]) for t in fig["data"]}
        assert len(panels) == n_issues
        shown = [t["name"] for t in fig["data"] if t["showlegend"]]
        assert shown[:n_actors] == list(case.actor_names)  # one legend entry per actor
    n_sources = len(dict.fromkeys(results.movement["source"]))
    assert len(embedded["fig-movement"]["data"]) == n_sources
    n_snaps = len(dict.fromkeys(results.gaps["snapshot"]))
    assert len(embedded["fig-gap"]["data"]) == 3 * n_snaps
    assert len(embedded["fig-gap-shift"]["data"]) == n_snaps
    assert all(len(f["data"]) == 1 for k, f in embedded.items() if k.startswith("fig-effect-"))


def test_axes_are_titled_with_units(results, embedded):
    case = results.scenario
    issues = list(case.issue_names)
    lay = embedded["fig-traj-0"]["layout"]
    cols = 3 if len(issues) > 4 else len(issues)
    rows = -(-len(issues) // cols)
    for idx, issue in enumerate(issues):
        n = "" if idx == 0 else str(idx + 1)
        r, c = divmod(idx, cols)
        title = lay[f"yaxis{n}"].get("title", {}).get("text")
        assert title == ((case.issue(issue).scale.units or "position") if c == 0 else None)
        assert lay[f"xaxis{n}"].get("title", {}).get("text") == (
            "round" if r == rows - 1 else None)
    titles = [a["text"] for a in lay["annotations"]]
    assert titles == [F._issue_title(case, k) for k in issues]
    for fid in ("fig-distribution", "fig-movement", "fig-gap", "fig-gap-shift", "fig-dynamics",
                "fig-effect-0", "fig-interactions"):
        layout = embedded[fid]["layout"]
        for letter in "xy":
            assert any(v.get("title", {}).get("text") for k, v in layout.items()
                       if k.startswith(f"{letter}axis")), (fid, letter)
    fore = embedded["fig-forecast"]["layout"]
    for idx, issue in enumerate(issues):
        n = "" if idx == 0 else str(idx + 1)
        sc = case.issue(issue).scale
        assert fore[f"xaxis{n}"]["tickvals"][0] == sc.min
        assert fore[f"xaxis{n}"]["tickvals"][-1] == sc.max


# -- the pieces --------------------------------------------------------------------------


@pytest.mark.parametrize("rows, cols, kw", [
    (13, 1, dict(vertical_spacing=min(0.6 / 13, 0.08), horizontal_spacing=0.2)),
    (5, 3, dict(vertical_spacing=0.07, horizontal_spacing=0.06)),
    (1, 3, dict(horizontal_spacing=0.12, shared_yaxes=True)),
    (2, 2, dict(vertical_spacing=0.2, horizontal_spacing=0.1, shared_yaxes=True)),
    (1, 1, dict(horizontal_spacing=0.05, shared_yaxes=True)),
])
def test_grid_is_the_layout_of_make_subplots(rows, cols, kw):
    titles = [f"<b>panel {k}</b>" if k % 4 != 2 else "" for k in range(rows * cols - 1)]
    want = make_subplots(rows=rows, cols=cols, subplot_titles=titles,
                         **kw).layout.to_plotly_json()
    del want["template"]  # plotly's default, which every report figure replaces
    assert F._grid(rows, cols, titles, **kw) == want


@pytest.mark.parametrize("v", [
    np.arange(11), np.array([-3, 200]), np.array([0, 70000]), np.array([2**40, 1]),
    np.array([1, 2], dtype=np.uint64), np.linspace(0, 1, 7), np.array([1.5, np.nan]),
    np.arange(12.0).reshape(3, 4), np.arange(12.0).reshape(3, 4)[:, 1],
    np.array([0.5], dtype=np.float32), np.array([], dtype=float),
])
def test_numeric_arrays_are_encoded_as_plotly_encodes_them(v):
    want, got = to_typed_array_spec(v), _typed_array(v)
    if isinstance(want, np.ndarray):
        assert isinstance(got, np.ndarray) and np.array_equal(got, want, equal_nan=True)
    else:
        assert got == want


def test_figure_is_plotly_json_and_a_graph_object(results):
    fig = F.movement_figure(results)
    assert isinstance(fig, Figure) and set(fig) == {"data", "layout"}
    z = fig["data"][0]["z"]
    html = fig_html(fig, "m")
    assert fig["data"][0]["z"] is z and isinstance(z, np.ndarray)  # embedding changes nothing
    emb = _embedded(html)["fig-m"]
    assert _plain(emb["data"][0]["z"]) == _plain(z.tolist())
    # attributes are those of the validated graph object of the same JSON
    assert isinstance(fig.figure, go.Figure) and fig.layout.template == plotly_template()
    assert list(fig.data[0].y) == list(results.scenario.actor_names)
    assert _plain(json.loads(fig.to_json())) == _plain(_validated(emb))


def test_exploration_figures_are_fixed_points_of_validation():
    from alliancelab.analysis.discovery import prim

    rng = np.random.default_rng(2)
    X = pd.DataFrame(rng.uniform(size=(200, 3)), columns=["a", "b", "c"])
    res = prim(X, (X["a"] > 0.7).to_numpy())
    regret = pd.DataFrame(rng.uniform(size=(20, 2)), columns=["none", "lever"])
    names = [f"p{k}" for k in range(8)]
    sobol = pd.DataFrame({c: rng.uniform(size=8) for c in ("S1", "S1_conf", "ST", "ST_conf")},
                         index=names)
    morris = pd.DataFrame({c: rng.uniform(size=8) for c in ("mu_star", "mu_star_conf")},
                          index=names)
    summary = pd.DataFrame([dict(outcome=o, policy=p, q05=0.0, q25=1.0, q50=2.0, q75=3.0,
                                 q95=4.0, mean=2.2) for o in ("u", "v") for p in ("none", "l")])
    screen = pd.DataFrame(rng.uniform(size=(4, 2)), index=names[:4], columns=["u", "v"])
    figs = [FE.tornado(sobol), FE.tornado(morris, top=5), FE.tradeoff_plot(res),
            FE.prim_figure(res, res.select(0.5), "a high"), FE.regret_figure(regret),
            FE.distribution_figure(summary, ["u", "v"], "v"), FE.screening_figure(screen)]
    for fig in figs:
        assert isinstance(fig, Figure)
        emb = _embedded(fig_html(fig, "e"))["fig-e"]
        assert _plain(_validated(emb)) == _plain({"data": emb["data"],
                                                  "layout": emb["layout"]})
        assert emb["layout"]["template"] == plotly_template().to_plotly_json()
        assert emb["layout"]["xaxis"]["title"]["text"] or emb["data"][0]["type"] == "heatmap"
    assert [len(f["data"]) for f in figs[:2]] == [2, 1]
    assert figs[3]["data"][-1]["marker"]["symbol"] == "star"
    dist = figs[5]
    assert [t["name"] for t in dist["data"]] == ["v", "u"]
    assert [t["visible"] for t in dist["data"]] == [True, False]
