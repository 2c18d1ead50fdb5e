"""The figures of an exploration (plotly): outcome distributions per policy, the tornado
chart of sensitivity indices, the Morris screening heat map, PRIM's coverage-density
trade-off, the regret of the policies. Frames and analysis results in, figures out; every
figure in the report's theme (:data:`alliancelab.report.theme.TEMPLATE`, its colour-blind-safe
palette and scales), with labelled axes."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

from ..analysis.discovery import PrimResult
from .theme import COUNT_SCALE, PALETTE, TEMPLATE

_BLUE, _ORANGE, _VERMILLION, _SKY = PALETTE[5], PALETTE[1], PALETTE[6], PALETTE[2]


def tornado(indices: pd.DataFrame, *, title: str = "", top: int = 15) -> go.Figure:
    """A tornado chart of the largest indices with their confidence intervals (total-order
    ``ST`` for Sobol, ``mu_star`` for Morris; :mod:`alliancelab.analysis.sensitivity`),
    largest on top."""
    col, conf = ("ST", "ST_conf") if "ST" in indices else ("mu_star", "mu_star_conf")
    df = indices.sort_values(col, ascending=False).head(top).iloc[::-1]
    fig = go.Figure()
    if col == "ST":
        fig.add_bar(y=df.index, x=df["S1"], orientation="h", name="first order S1",
                    marker_color=_SKY, error_x={"type": "data", "array": df["S1_conf"]})
    fig.add_bar(y=df.index, x=df[col], orientation="h",
                name="total order ST" if col == "ST" else "mu* (mean |elementary effect|)",
                marker_color=_BLUE, error_x={"type": "data", "array": df[conf]})
    xtitle = ("Sobol index (share of the outcome's variance)" if col == "ST"
              else "mu* (mean |elementary effect|, in the outcome's units)")
    fig.update_layout(template=TEMPLATE, title=title or f"Sensitivity ({col})",
                      barmode="group", xaxis_title=xtitle, yaxis_title="uncertainty",
                      height=max(300, 28 * len(df) + 120), margin={"l": 320})
    return fig


def tradeoff_plot(result: PrimResult, *, title: str = "PRIM peeling trajectory") -> go.Figure:
    """Coverage against density for every box of PRIM's trajectory, coloured by the number
    of restricted dimensions."""
    tr = result.trajectory()
    fig = go.Figure(go.Scatter(
        x=tr["coverage"], y=tr["density"], mode="markers+lines",
        marker={"color": tr["restricted"], "colorscale": "Viridis", "size": 9,
                "colorbar": {"title": "restricted<br>dimensions"}},
        text=[f"box {b}, mass {m:.2f}" + (" (pasted)" if p else "")
              for b, m, p in zip(tr["box"], tr["mass"], tr["pasted"], strict=True)],
        hovertemplate="%{text}<br>coverage %{x:.2f}<br>density %{y:.2f}<extra></extra>",
    ))
    fig.update_layout(template=TEMPLATE, title=title,
                      xaxis_title="coverage (share of the cases of interest inside the box)",
                      yaxis_title="density (share of the box that is of interest)",
                      xaxis_range=[0, 1.02], yaxis_range=[0, 1.02])
    return fig


def distribution_figure(summary: pd.DataFrame, outcomes: Sequence[str],
                        first: str) -> go.Figure | None:
    """Box plots of each outcome per policy from the stored quantiles (box 25-75%, whiskers
    5-95%, line = median, dashed = mean); a menu picks the outcome."""
    if summary.empty:
        return None
    order = [first, *[o for o in outcomes if o != first]]
    fig = go.Figure()
    for k, o in enumerate(order):
        s = summary[summary["outcome"] == o]
        if s.empty:
            continue
        fig.add_trace(go.Box(
            x=s["policy"], q1=s["q25"], median=s["q50"], q3=s["q75"], lowerfence=s["q05"],
            upperfence=s["q95"], mean=s["mean"], name=o, visible=k == 0,
            boxpoints=False, marker_color=_BLUE))
    shown = [tr.name for tr in fig.data]
    if len(shown) > 1:
        fig.update_layout(updatemenus=[{
            "buttons": [{"label": o, "method": "update",
                         "args": [{"visible": [j == i for j in range(len(shown))]},
                                  {"yaxis.title.text": o}]}
                        for i, o in enumerate(shown)],
            "x": 0, "xanchor": "left", "y": 1.18, "yanchor": "top", "direction": "down",
        }])
    fig.update_layout(template=TEMPLATE, height=430, margin={"t": 80},
                      yaxis_title=shown[0] if shown else "",
                      xaxis_title="policy (none = no lever)", showlegend=False)
    return fig


def screening_figure(screen: pd.DataFrame | None) -> go.Figure | None:
    """Heatmap: Morris ``mu*`` relative to the largest for each outcome."""
    if screen is None or screen.empty:
        return None
    fig = go.Figure(go.Heatmap(
        z=screen.to_numpy(), x=list(screen.columns), y=list(screen.index),
        colorscale=COUNT_SCALE, zmin=0, zmax=1, colorbar={"title": {"text": "mu* / max"}},
        hovertemplate="%{y}<br>%{x}: %{z:.2f}<extra></extra>"))
    fig.update_layout(template=TEMPLATE, height=max(320, 24 * len(screen) + 160),
                      margin={"l": 360, "b": 160},
                      yaxis={"autorange": "reversed", "title": {"text": "uncertainty"}},
                      xaxis={"tickangle": -40, "title": {"text": "outcome"}})
    return fig


def prim_figure(prim: PrimResult, box: int, label: str) -> go.Figure:
    """The coverage-density trade-off of the peeling trajectory, the chosen box starred."""
    fig = tradeoff_plot(prim, title=f"PRIM: {label}")
    b = prim.boxes[box]
    fig.add_scatter(x=[b.coverage], y=[b.density], mode="markers", name=f"box {box}",
                    marker={"symbol": "star", "size": 18, "color": _VERMILLION},
                    hovertemplate=f"chosen box {box}<extra></extra>")
    fig.update_layout(showlegend=False, height=430)
    return fig


def regret_figure(regret: pd.DataFrame) -> go.Figure:
    """Box plots of each policy's regret over the scenarios (quantiles, 5-95% whiskers)."""
    q = regret.quantile([0.05, 0.25, 0.5, 0.75, 0.95])
    fig = go.Figure(go.Box(
        x=list(regret.columns), q1=q.loc[0.25], median=q.loc[0.5], q3=q.loc[0.75],
        lowerfence=q.loc[0.05], upperfence=q.loc[0.95], mean=regret.mean(),
        boxpoints=False, marker_color=_ORANGE, name="regret"))
    fig.add_scatter(x=list(regret.columns), y=regret.max(), mode="markers", name="max regret",
                    marker={"symbol": "x", "size": 10, "color": PALETTE[0]})
    fig.update_layout(template=TEMPLATE, height=400,
                      yaxis_title="regret (outcome's units below the best policy)",
                      xaxis_title="policy (none = no lever)", showlegend=True)
    return fig
