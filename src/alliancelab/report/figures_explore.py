"""The figures of an exploration (plotly): outcome distributions per policy, the tornado
chart of sensitivity indices, the Morris screening heat map, PRIM's coverage-density
trade-off, the regret of the policies. Frames and analysis results in, figures out, each a
:class:`~alliancelab.report.widgets.Figure` (plotly JSON built as plain data; attributes such
as ``fig.data`` are those of its ``plotly.graph_objects.Figure``); every figure in the report's
theme (:func:`alliancelab.report.theme.template_json`, its colour-blind-safe palette and scales),
with labelled axes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
from plotly.colors import sequential

from ..analysis.discovery import PrimResult
from .theme import COUNT_SCALE, PALETTE, template_json
from .widgets import Figure

_BLUE, _ORANGE, _VERMILLION, _SKY = PALETTE[5], PALETTE[1], PALETTE[6], PALETTE[2]
#: plotly's Viridis as the list of stops its validation makes of the name
_VIRIDIS = [[k / (len(sequential.Viridis) - 1), c] for k, c in enumerate(sequential.Viridis)]


def _title(text: str) -> dict[str, str]:
    return {"text": text}


def tornado(indices: pd.DataFrame, *, title: str = "", top: int = 15) -> Figure:
    """A tornado chart of the largest indices with their confidence intervals (total-order
    ``ST`` for Sobol, ``mu_star`` for Morris; :mod:`alliancelab.analysis.sensitivity`),
    largest on top."""
    col, conf = ("ST", "ST_conf") if "ST" in indices else ("mu_star", "mu_star_conf")
    df = indices.sort_values(col, ascending=False).head(top).iloc[::-1]
    names = df.index.tolist()
    data: list[dict[str, Any]] = []
    if col == "ST":
        data.append(dict(type="bar", y=names, x=df["S1"].to_numpy(), orientation="h",
                         name="first order S1", marker={"color": _SKY},
                         error_x={"type": "data", "array": df["S1_conf"].to_numpy()}))
    data.append(dict(type="bar", y=names, x=df[col].to_numpy(), orientation="h",
                     name="total order ST" if col == "ST" else "mu* (mean |elementary effect|)",
                     marker={"color": _BLUE},
                     error_x={"type": "data", "array": df[conf].to_numpy()}))
    xtitle = ("Sobol index (share of the outcome's variance)" if col == "ST"
              else "mu* (mean |elementary effect|, in the outcome's units)")
    return Figure(data=data, layout=dict(
        template=template_json(), title=_title(title or f"Sensitivity ({col})"),
        barmode="group", xaxis={"title": _title(xtitle)},
        yaxis={"title": _title("uncertainty")}, height=max(300, 28 * len(df) + 120),
        margin={"l": 320}))


def tradeoff_plot(result: PrimResult, *, title: str = "PRIM peeling trajectory") -> Figure:
    """Coverage against density for every box of PRIM's trajectory, coloured by the number
    of restricted dimensions."""
    tr = result.trajectory()
    trace = dict(
        type="scatter", x=tr["coverage"].to_numpy(), y=tr["density"].to_numpy(),
        mode="markers+lines",
        marker={"color": tr["restricted"].to_numpy(), "colorscale": _VIRIDIS, "size": 9,
                "colorbar": {"title": _title("restricted<br>dimensions")}},
        text=[f"box {b}, mass {m:.2f}" + (" (pasted)" if p else "")
              for b, m, p in zip(tr["box"], tr["mass"], tr["pasted"], strict=True)],
        hovertemplate="%{text}<br>coverage %{x:.2f}<br>density %{y:.2f}<extra></extra>",
    )
    return Figure(data=[trace], layout=dict(
        template=template_json(), title=_title(title),
        xaxis={"title": _title("coverage (share of the cases of interest inside the box)"),
               "range": [0, 1.02]},
        yaxis={"title": _title("density (share of the box that is of interest)"),
               "range": [0, 1.02]}))


def distribution_figure(summary: pd.DataFrame, outcomes: Sequence[str],
                        first: str) -> Figure | None:
    """Box plots of each outcome per policy from the stored quantiles (box 25-75%, whiskers
    5-95%, line = median, dashed = mean); a menu picks the outcome."""
    if summary.empty:
        return None
    order = [first, *[o for o in outcomes if o != first]]
    data = []
    for k, o in enumerate(order):
        s = summary[summary["outcome"] == o]
        if s.empty:
            continue
        data.append(dict(
            type="box", x=s["policy"].tolist(), q1=s["q25"].to_numpy(),
            median=s["q50"].to_numpy(), q3=s["q75"].to_numpy(), lowerfence=s["q05"].to_numpy(),
            upperfence=s["q95"].to_numpy(), mean=s["mean"].to_numpy(), name=o,
            visible=k == 0, boxpoints=False, marker={"color": _BLUE}))
    shown = [tr["name"] for tr in data]
    layout: dict[str, Any] = dict(
        template=template_json(), height=430, margin={"t": 80},
        yaxis={"title": _title(shown[0] if shown else "")},
        xaxis={"title": _title("policy (none = no lever)")}, showlegend=False)
    if len(shown) > 1:
        layout["updatemenus"] = [{
            "buttons": [{"label": o, "method": "update",
                         "args": [{"visible": [j == i for j in range(len(shown))]},
                                  {"yaxis.title.text": o}]}
                        for i, o in enumerate(shown)],
            "x": 0, "xanchor": "left", "y": 1.18, "yanchor": "top", "direction": "down",
        }]
    return Figure(data=data, layout=layout)


def screening_figure(screen: pd.DataFrame | None) -> Figure | None:
    """Heatmap: Morris ``mu*`` relative to the largest for each outcome."""
    if screen is None or screen.empty:
        return None
    trace = dict(
        type="heatmap", z=screen.to_numpy(), x=list(screen.columns), y=list(screen.index),
        colorscale=COUNT_SCALE, zmin=0, zmax=1, colorbar={"title": {"text": "mu* / max"}},
        hovertemplate="%{y}<br>%{x}: %{z:.2f}<extra></extra>")
    return Figure(data=[trace], layout=dict(
        template=template_json(), height=max(320, 24 * len(screen) + 160),
        margin={"l": 360, "b": 160},
        yaxis={"autorange": "reversed", "title": {"text": "uncertainty"}},
        xaxis={"tickangle": -40, "title": {"text": "outcome"}}))


def prim_figure(prim: PrimResult, box: int, label: str) -> Figure:
    """The coverage-density trade-off of the peeling trajectory, the chosen box starred."""
    fig = tradeoff_plot(prim, title=f"PRIM: {label}")
    b = prim.boxes[box]
    fig["data"].append(dict(
        type="scatter", x=[b.coverage], y=[b.density], mode="markers", name=f"box {box}",
        marker={"symbol": "star", "size": 18, "color": _VERMILLION},
        hovertemplate=f"chosen box {box}<extra></extra>"))
    fig["layout"].update(showlegend=False, height=430)
    return fig


def regret_figure(regret: pd.DataFrame) -> Figure:
    """Box plots of each policy's regret over the scenarios (quantiles, 5-95% whiskers)."""
    q = regret.quantile([0.05, 0.25, 0.5, 0.75, 0.95])
    policies = list(regret.columns)
    data = [
        dict(type="box", x=policies, q1=q.loc[0.25].to_numpy(), median=q.loc[0.5].to_numpy(),
             q3=q.loc[0.75].to_numpy(), lowerfence=q.loc[0.05].to_numpy(),
             upperfence=q.loc[0.95].to_numpy(), mean=regret.mean().to_numpy(),
             boxpoints=False, marker={"color": _ORANGE}, name="regret"),
        dict(type="scatter", x=policies, y=regret.max().to_numpy(), mode="markers",
             name="max regret", marker={"symbol": "x", "size": 10, "color": PALETTE[0]}),
    ]
    return Figure(data=data, layout=dict(
        template=template_json(), height=400,
        yaxis={"title": _title("regret (outcome's units below the best policy)")},
        xaxis={"title": _title("policy (none = no lever)")}, showlegend=True))
