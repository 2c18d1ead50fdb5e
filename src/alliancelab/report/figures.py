"""The report's charts, as plotly figures built from a
:class:`~alliancelab.jobs.results.RunResults`.

Every function returns a ``plotly.graph_objects.Figure`` (or ``None`` when the run has no
data for it); :mod:`alliancelab.report.html` embeds them. The look (template, colour scales,
a colour-blind-safe colour, dash and marker per actor from the case's ``groups``) is
:mod:`alliancelab.report.theme`'s, shared with the web app. Every chart labels its axes, with
units where the numbers have them; every heat map of one kind uses one colour scale
(:data:`~alliancelab.report.theme.EFFECT_SCALE`, ``MOVEMENT_SCALE``, ``COUNT_SCALE``) and
lists actors in case order from the top.
"""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..core.case import Case
from .theme import (
    COUNT_SCALE,
    EFFECT_SCALE,
    MODEL_COLOURS,
    MOVEMENT_SCALE,
    PALETTE,
    TEMPLATE,
    actor_colours,
    actor_styles,
)

__all__ = ["MODEL_COLOURS", "actor_colours", "effect_heatmap", "effect_zmax",
           "movement_heatmap", "side_styles"]


def _layout(fig: go.Figure, *, height: int, title: str | None = None, **kw: Any) -> go.Figure:
    fig.update_layout(
        template=TEMPLATE,
        height=height,
        title=dict(text=title) if title else None,
        margin=kw.pop("margin", dict(l=10, r=10, t=50 if title else 30, b=40)),
        **kw,
    )
    return fig


class _Batch:
    """Traces (with their subplot) and annotations collected for one ``add_traces`` call
    and one assignment of the layout's annotations: plotly validates and copies the whole
    list again on every ``add_trace`` and ``add_annotation``, so a figure of a hundred
    panels' traces is built in a fraction of the time; the figure is the same."""

    def __init__(self) -> None:
        self.traces: list[Any] = []
        self.rows: list[int] = []
        self.cols: list[int] = []
        self.notes: list[go.layout.Annotation] = []

    def trace(self, trace: Any, row: int, col: int) -> None:
        self.traces.append(trace)
        self.rows.append(row)
        self.cols.append(col)

    def note(self, **kw: Any) -> None:
        self.notes.append(go.layout.Annotation(**kw))

    def into(self, fig: go.Figure) -> None:
        if self.traces:
            fig.add_traces(self.traces, rows=self.rows, cols=self.cols)
        if self.notes:
            fig.layout.annotations = (*fig.layout.annotations, *self.notes)


def side_styles(case: Case) -> list[tuple[str, str, str]]:
    """(group, label, colour) of the case's two ``sides`` (label from ``groups``, colour
    that of the group's middle actor, the mid shade of its hue); empty without sides."""
    if not case.sides:
        return []
    colours = actor_colours(case)
    out = []
    for g in case.sides:
        members = [a.name for a in case.actors if a.group == g]
        spec = case.groups.get(g)
        label = spec.label if spec is not None and spec.label else g
        mid = members[len(members) // 2] if members else ""
        out.append((g, label, colours.get(mid, "#444444")))
    return out


def _issue_title(case: Case, issue: str) -> str:
    units = case.issue(issue).scale.units
    return f"<b>{issue}</b>" + (f" ({units})" if units else "")


def _end_ticks(case: Case, issue: str) -> tuple[list[float], list[str]]:
    s = case.issue(issue).scale
    return [s.min, s.max], [f"{s.min:g}<br>{s.low}" if s.low else f"{s.min:g}",
                            f"{s.max:g}<br>{s.high}" if s.high else f"{s.max:g}"]


# -- forecasts -------------------------------------------------------------------------


def forecast_figure(results: Any) -> go.Figure:
    """Per issue: each model's 5-95% Monte Carlo band (bar), median (diamond) and forecast
    with the case as stated (circle), the status quo (dashed line) and the actors' positions
    (grey ticks), on the issue's own scale with its labelled ends."""
    case: Case = results.scenario
    table = results.forecast_table()
    issues = list(case.issue_names)
    models = list(results.models)
    d = len(issues)
    fig = make_subplots(rows=d, cols=1, subplot_titles=[_issue_title(case, k) for k in issues],
                        vertical_spacing=min(0.6 / max(d, 1), 0.08))
    rows_y = ["actors", *models]
    batch = _Batch()
    for r, issue in enumerate(issues, start=1):
        sc = case.issue(issue).scale
        positions = [a.positions[issue].value for a in case.actors]
        batch.trace(go.Scatter(
            x=positions, y=["actors"] * len(positions), mode="markers",
            marker=dict(symbol="line-ns-open", size=14, color="#888", line=dict(width=2)),
            text=[a.name for a in case.actors], name="actor positions", legendgroup="actors",
            showlegend=r == 1, hovertemplate="%{text}: %{x:.4g}<extra></extra>",
        ), r, 1)
        sub = table[table["issue"] == issue].set_index("model")
        for m in models:
            row = sub.loc[m]
            col = MODEL_COLOURS.get(m, "#333")
            batch.trace(go.Scatter(
                x=[row.p5, row.p95], y=[m, m], mode="lines",
                line=dict(color=col, width=9), opacity=0.35, name=f"{m} 5-95%",
                legendgroup=m, showlegend=False,
                hovertemplate=f"{m}: 5% %{{x:.4g}}<extra></extra>",
            ), r, 1)
            batch.trace(go.Scatter(
                x=[row.p50], y=[m], mode="markers", marker=dict(symbol="diamond", size=11,
                color=col, line=dict(color="white", width=1)),
                name=f"{m}", legendgroup=m, showlegend=r == 1,
                customdata=[[row.p5, row.p95, row.forecast]],
                hovertemplate=(f"<b>{m}</b><br>median %{{x:.4g}}<br>5-95%: "
                               "%{customdata[0]:.4g} - %{customdata[1]:.4g}<br>"
                               "as stated: %{customdata[2]:.4g}<extra></extra>"),
            ), r, 1)
            batch.trace(go.Scatter(
                x=[row.forecast], y=[m], mode="markers",
                marker=dict(symbol="circle-open", size=12, color="#111", line=dict(width=2)),
                name="forecast, case as stated", legendgroup="point",
                showlegend=r == 1 and m == models[0],
                hovertemplate=f"{m} (case as stated): %{{x:.4g}}<extra></extra>",
            ), r, 1)
        sq = case.issue(issue).status_quo
        if sq is not None:
            batch.trace(go.Scatter(
                x=[sq.value, sq.value], y=[rows_y[0], rows_y[-1]], mode="lines",
                line=dict(color="#000", dash="dash", width=1.5), name="status quo",
                legendgroup="sq", showlegend=r == 1,
                hovertemplate=f"status quo {sq.value:.4g}<extra></extra>",
            ), r, 1)
        pad = 0.02 * sc.width
        ticks = [sc.min, *_inner_ticks(sc.min, sc.max), sc.max]
        fig.update_xaxes(range=[sc.min - pad, sc.max + pad], tickmode="array", tickvals=ticks,
                         ticktext=[_tick(v) for v in ticks], row=r, col=1)
        # the scale's labelled ends, under the axis at either side
        axis = "" if r == 1 else str(r)
        for x, label, anchor in ((0, sc.low, "left"), (1, sc.high, "right")):
            if label:
                batch.note(
                    x=x, y=0, xref=f"x{axis} domain", yref=f"y{axis} domain",
                    text=("\u25c0 " + label) if x == 0 else (label + " \u25b6"),
                    showarrow=False, xanchor=anchor, yanchor="top", yshift=-20,
                    font=dict(size=11, color="#555"))
        fig.update_yaxes(categoryorder="array", categoryarray=rows_y[::-1], row=r, col=1)
    batch.into(fig)
    height = 60 + d * (34 * (len(models) + 1) + 105)
    _layout(fig, height=height, margin=dict(l=10, r=20, t=40, b=40),
            legend=dict(orientation="h", y=1.0, yanchor="bottom", x=0, xanchor="left"))
    fig.update_layout(legend=dict(y=1 + 30 / height))
    return fig


def _tick(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:g}"


def _inner_ticks(lo: float, hi: float, n: int = 4) -> list[float]:
    step = _nice((hi - lo) / n)
    first = math.ceil(lo / step) * step
    out = []
    v = first
    while v < hi - 1e-9 * (hi - lo):
        if v > lo + 0.08 * (hi - lo) and v < hi - 0.08 * (hi - lo):
            out.append(round(v, 10))
        v += step
    return out


def _nice(x: float) -> float:
    if x <= 0:
        return 1.0
    exp = math.floor(math.log10(x))
    f = x / 10**exp
    for nice in (1, 2, 2.5, 5, 10):
        if f <= nice:
            return nice * 10**exp
    return 10 ** (exp + 1)


def distribution_figure(results: Any) -> go.Figure:
    """Monte Carlo forecasts per issue as box plots, in % of each issue's scale, so the
    spread of every model on every issue can be compared on one chart."""
    case: Case = results.scenario
    df = results.draws_table()
    scale = {i.name: (i.scale.min, i.scale.width) for i in case.issues}
    df = df.assign(pct=[100 * (v - scale[k][0]) / scale[k][1]
                        for v, k in zip(df["forecast"], df["issue"], strict=True)])
    fig = go.Figure()
    for m in results.models:
        sub = df[df["model"] == m]
        fig.add_trace(go.Box(
            x=sub["pct"], y=sub["issue"], name=m, orientation="h", boxpoints=False,
            marker_color=MODEL_COLOURS.get(m, "#333"), line=dict(width=1.2),
        ))
    fig.update_layout(boxmode="group")
    fig.update_xaxes(title="forecast, % of the issue's scale (0 = low end, 100 = high end)",
                     range=[0, 100])
    fig.update_yaxes(categoryorder="array", categoryarray=list(case.issue_names)[::-1],
                     title="issue")
    return _layout(fig, height=90 + 28 * len(case.issues) * max(1, len(results.models)) // 2 + 60,
                   legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0))


# -- trajectories and movement ----------------------------------------------------------


def trajectory_figure(results: Any, source: str) -> go.Figure | None:
    """Positions per round for every actor, one panel per issue, for one source of rounds
    (an iterative engine, or ``dynamics``). The dashed black line is the dynamics' forecast
    outcome per round."""
    case: Case = results.scenario
    traj = results.trajectory_table()
    traj = traj[traj["source"] == source]
    if traj.empty or traj["round"].max() < 1:
        return None
    issues = list(case.issue_names)
    cols = 3 if len(issues) > 4 else len(issues)
    rows = math.ceil(len(issues) / cols)
    titles = [_issue_title(case, k) for k in issues]
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles,
                        vertical_spacing=min(0.35 / rows, 0.09), horizontal_spacing=0.06)
    styles = actor_styles(case)
    sim = results.simulation if source == "dynamics" else None
    batch = _Batch()
    for idx, issue in enumerate(issues):
        r, c = idx // cols + 1, idx % cols + 1
        sub = traj[traj["issue"] == issue]
        for actor, g in sub.groupby("actor", sort=False):
            st = styles[str(actor)]
            batch.trace(go.Scatter(
                x=g["round"], y=g["position"], mode="lines+markers", name=str(actor),
                line=dict(color=st.colour, width=1.6, dash=st.dash),
                marker=dict(size=5, symbol=st.symbol), legendgroup=str(actor),
                showlegend=idx == 0,
                hovertemplate=f"{actor}<br>round %{{x}}: %{{y:.4g}}<extra></extra>",
            ), r, c)
        if sim is not None:
            k = list(sim.issues).index(issue)
            batch.trace(go.Scatter(
                x=np.arange(sim.outcomes.shape[0]), y=sim.outcomes[:, k], mode="lines",
                line=dict(color="#000", dash="dash", width=2.2), name="forecast outcome",
                legendgroup="outcome", showlegend=idx == 0,
                hovertemplate="outcome, round %{x}: %{y:.4g}<extra></extra>",
            ), r, c)
        sc = case.issue(issue).scale
        ticks = [sc.min, *_inner_ticks(sc.min, sc.max), sc.max]
        fig.update_yaxes(range=[sc.min - 0.03 * sc.width, sc.max + 0.03 * sc.width],
                         tickmode="array", tickvals=ticks, ticktext=[_tick(v) for v in ticks],
                         tickfont=dict(size=10), row=r, col=c,
                         title_text=(sc.units or "position") if c == 1 else None)
        n_rounds = int(traj["round"].max())
        fig.update_xaxes(title_text="round" if r == rows else None, range=[-0.3, n_rounds + 0.3],
                         dtick=max(1, math.ceil(n_rounds / 10)), row=r, col=c)
    batch.into(fig)
    return _layout(fig, height=120 + 260 * rows,
                   legend=dict(orientation="h", y=-0.04 - 20 / (260 * rows), yanchor="top", x=0))


def movement_figure(results: Any) -> go.Figure | None:
    """Who moves toward whom (:func:`movement_heatmap` of the run's movement table), one
    panel per source of rounds, actors in case order."""
    mv = results.movement
    if mv.empty:
        return None
    return movement_heatmap(mv, list(results.scenario.actor_names))


def movement_heatmap(mv: pd.DataFrame, actors: list[str]) -> go.Figure:
    """Heat maps (one per ``source`` of ``mv``, the frame of
    :func:`alliancelab.jobs.tables.movement_table`) of how much of the distance to another
    actor's starting position each actor (row, ``actors`` order from the top) closed, in %
    of the scale averaged over issues; one colour range for all panels
    (:data:`~alliancelab.report.theme.MOVEMENT_SCALE`: blue = moved toward, red = moved
    away). The web app draws the same figure."""
    sources = list(dict.fromkeys(mv["source"]))
    fig = make_subplots(rows=1, cols=len(sources), subplot_titles=[f"<b>{s}</b>" for s in sources],
                        horizontal_spacing=0.12 if len(sources) > 1 else 0.05,
                        shared_yaxes=True)
    off = mv[mv["mover"] != mv["toward"]]["closed"].to_numpy(dtype=float) * 100
    zmax = max(float(np.nanmax(np.abs(off))) if np.isfinite(off).any() else 0.0, 1e-6)
    for c, s in enumerate(sources, start=1):
        sub = mv[mv["source"] == s]
        mat = sub.pivot(index="mover", columns="toward", values="closed").reindex(
            index=actors, columns=actors) * 100
        own = np.diag(mat.to_numpy()).copy()
        z = mat.to_numpy(copy=True)
        np.fill_diagonal(z, np.nan)
        fig.add_trace(go.Heatmap(
            z=z, x=actors, y=actors, zmid=0, zmin=-zmax, zmax=zmax, colorscale=MOVEMENT_SCALE,
            colorbar=dict(title=dict(text="% of scale<br>closed"), len=0.8) if c == 1 else None,
            showscale=c == 1, xgap=1, ygap=1,
            customdata=np.repeat(own[:, None], len(actors), axis=1),
            hovertemplate=("<b>%{y}</b> toward %{x}: %{z:.1f}% of the scale"
                           "<br>(%{y} moved %{customdata:.1f}% in all)<extra></extra>"),
        ), row=1, col=c)
        fig.update_xaxes(tickangle=-40, title_text="toward (starting position of)",
                         showgrid=False, row=1, col=c)
    fig.update_yaxes(autorange="reversed", showgrid=False)
    fig.update_yaxes(title_text="mover", row=1, col=1)
    return _layout(fig, height=220 + 26 * len(actors), margin=dict(l=10, r=10, t=40, b=20))


def interaction_figure(results: Any) -> go.Figure | None:
    """Who presses whom, from the engines' diagnostics: per engine, how often the row actor
    made an offer to (BDM) or challenged (SMP) the column actor, over all rounds and issues."""
    it = results.interactions
    if it is None or it.empty:
        return None
    sources = list(dict.fromkeys(it["source"]))
    actors = list(results.scenario.actor_names)
    fig = make_subplots(rows=1, cols=len(sources), shared_yaxes=True,
                        subplot_titles=[f"<b>{s}</b>" for s in sources],
                        horizontal_spacing=0.1 if len(sources) > 1 else 0.05)
    zmax = max(float(it.groupby(["source", "from", "to"])["count"].sum().max()), 1.0)
    for c, src in enumerate(sources, start=1):
        sub = it[it["source"] == src]
        total = sub.groupby(["from", "to"])["count"].sum()
        detail: dict[tuple[str, str], str] = {}
        for a, b, kind, n in sub[["from", "to", "kind", "count"]].itertuples(
                index=False, name=None):
            key = (str(a), str(b))
            part = f"{kind} {n}"
            detail[key] = f"{detail[key]}, {part}" if key in detail else part
        z = np.full((len(actors), len(actors)), np.nan)
        txt = np.full((len(actors), len(actors)), "", dtype=object)
        for (a, b), n in total.items():
            if a in actors and b in actors:
                z[actors.index(a), actors.index(b)] = n
                txt[actors.index(a), actors.index(b)] = detail[(a, b)]
        fig.add_trace(go.Heatmap(
            z=z, x=actors, y=actors, colorscale=COUNT_SCALE, xgap=1, ygap=1, customdata=txt,
            showscale=c == 1, zmin=0, zmax=zmax,
            colorbar=dict(title=dict(text="offers /<br>challenges"), len=0.8),
            hovertemplate="<b>%{y}</b> \u2192 %{x}: %{z}<br>%{customdata}<extra></extra>",
        ), row=1, col=c)
        fig.update_xaxes(tickangle=-40, title_text="to (receiver / target)", showgrid=False,
                         row=1, col=c)
    fig.update_yaxes(autorange="reversed", showgrid=False)
    fig.update_yaxes(title_text="from (proposer / challenger)", row=1, col=1)
    return _layout(fig, height=220 + 26 * len(actors), margin=dict(l=10, r=10, t=40, b=20))


# -- perceptions -------------------------------------------------------------------------


def _item_label(kind: str, item: str) -> str:
    return {"threat": f"threat: {item}", "reliability": "partner reliability"}.get(
        kind, f"issue: {item}") if kind != "reliability" else "partner reliability"


def gap_figure(results: Any) -> go.Figure | None:
    """US vs ROK side by side per snapshot: the capability-weighted mean of each group on
    every threat, the partner's reliability and every issue (0-1, scale widths), joined by
    a line whose length is the gap."""
    g = results.gaps
    if g.empty:
        return None
    snaps = list(dict.fromkeys(g["snapshot"]))
    fig = make_subplots(rows=1, cols=len(snaps), shared_yaxes=True,
                        subplot_titles=[f"<b>{_wrap(s)}</b>" for s in snaps],
                        horizontal_spacing=0.03)
    items = list(dict.fromkeys(_item_label(k, i) for k, i in zip(g["kind"], g["item"],
                                                                    strict=True)))
    sides = side_styles(results.case) or [("a", "first side", "#0072B2"),
                                          ("b", "second side", "#D55E00")]
    (ga, la, ca), (gb, lb, cb) = sides
    for c, s in enumerate(snaps, start=1):
        sub = g[g["snapshot"] == s]
        labels = [_item_label(k, i) for k, i in zip(sub["kind"], sub["item"], strict=True)]
        xs: list[float | None] = []
        ys: list[str | None] = []
        for a, b, lab in zip(sub["a_value"], sub["b_value"], labels, strict=True):
            xs += [a, b, None]
            ys += [lab, lab, None]
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line=dict(color="#bbb", width=3),
                                 showlegend=False, hoverinfo="skip"), row=1, col=c)
        fig.add_trace(go.Scatter(
            x=sub["a_value"], y=labels, mode="markers", name=la,
            marker=dict(color=ca, size=10), legendgroup=ga, showlegend=c == 1,
            hovertemplate=f"{ga}: %{{x:.2f}}<extra>%{{y}}</extra>"), row=1, col=c)
        fig.add_trace(go.Scatter(
            x=sub["b_value"], y=labels, mode="markers", name=lb,
            marker=dict(color=cb, size=10, symbol="square"), legendgroup=gb,
            showlegend=c == 1, customdata=sub["gap"],
            hovertemplate=f"{gb}: %{{x:.2f}} (gap %{{customdata:+.2f}})<extra>%{{y}}</extra>"),
            row=1, col=c)
        fig.update_xaxes(range=[-0.03, 1.03], title_text="0 = low end, 1 = high end", row=1, col=c)
    fig.update_yaxes(title_text="item (threat, reliability: 0-1; issue: scale widths)", row=1,
                     col=1)
    fig.update_yaxes(categoryorder="array", categoryarray=items[::-1], row=1, col=1)
    height = 170 + 24 * len(items)
    return _layout(fig, height=height,
                   legend=dict(orientation="h", y=-70 / height, yanchor="top", x=0),
                   margin=dict(l=10, r=10, t=60, b=40))


def _wrap(text: str, width: int = 34) -> str:
    """Break a long subplot title into lines joined by ``<br>``."""
    words, lines, cur = str(text).split(" "), [], ""
    for w in words:
        if cur and len(cur) + 1 + len(w) > width:
            lines.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}" if cur else w
    lines.append(cur)
    return "<br>".join(lines)


def gap_shift_figure(results: Any) -> go.Figure | None:
    """The signed gap (ROK minus US) per item, one bar per snapshot: bars to the right mean
    Seoul sits higher on that item than Washington."""
    g = results.gaps
    if g.empty:
        return None
    snaps = list(dict.fromkeys(g["snapshot"]))
    palette = list(PALETTE[1:])
    fig = go.Figure()
    items: list[str] = []
    for c, s in enumerate(snaps):
        sub = g[g["snapshot"] == s]
        labels = [_item_label(k, i) for k, i in zip(sub["kind"], sub["item"], strict=True)]
        items += [x for x in labels if x not in items]
        fig.add_trace(go.Bar(x=sub["gap"], y=labels, orientation="h", name=str(s),
                             marker_color=palette[c % len(palette)],
                             hovertemplate=f"{s}: %{{x:+.2f}}<extra>%{{y}}</extra>"))
    fig.update_layout(barmode="group")
    a, b = results.case.sides or ("first side", "second side")
    fig.update_xaxes(title=f"gap: {b} minus {a} (0-1, or scale widths for issues)",
                     zeroline=True, zerolinecolor="#444", zerolinewidth=1.5)
    fig.update_yaxes(categoryorder="array", categoryarray=items[::-1], title="item")
    return _layout(fig, height=140 + 16 * len(items) * max(len(snaps), 1),
                   legend=dict(orientation="h", y=1.0, yanchor="bottom", x=1, xanchor="right"))


def dynamics_figure(results: Any) -> go.Figure | None:
    """The dynamics' outcome indicators per round, baseline (dotted) vs scenario (solid)."""
    sim, base = results.simulation, results.baseline_simulation
    if sim is None or not sim.indicators:
        return None
    fig = go.Figure()
    palette = [*PALETTE[1:], PALETTE[0]]
    for k, (name, arr) in enumerate(sim.indicators.items()):
        col = palette[k % len(palette)]
        fig.add_trace(go.Scatter(x=np.arange(len(arr)), y=arr, mode="lines+markers", name=name,
                                 line=dict(color=col, width=2), legendgroup=name))
        if results.interventions and base is not None and name in base.indicators:
            b = base.indicators[name]
            fig.add_trace(go.Scatter(x=np.arange(len(b)), y=b, mode="lines",
                                     name=f"{name} (baseline)", legendgroup=name,
                                     line=dict(color=col, width=1.5, dash="dot"),
                                     showlegend=False))
    fig.update_xaxes(title="round", dtick=1)
    fig.update_yaxes(title="indicator")
    return _layout(fig, height=380, legend=dict(orientation="v", x=1.01, y=1))


# -- interventions -----------------------------------------------------------------------


#: the kinds of effect map, each with one colour range in a report: changes of issues in %
#: of their scale, and raw changes (indicators, perception gaps, alliance models).
ISSUE_METRICS = ("forecast", "dynamics outcome")


def _effect_values(results: Any, metrics: tuple[str, ...], model: str | None) -> np.ndarray:
    e = results.effects
    sub = e[e["metric"].isin(metrics)]
    if model is not None:
        sub = sub[sub["model"] == model]
    widths = {i.name: i.scale.width for i in results.case.issues}
    return np.array([r.effect * (100 / widths[r.item] if r.metric in ISSUE_METRICS else 1.0)
                     for r in sub.itertuples()], dtype=float)


def effect_zmax(results: Any, metrics: tuple[str, ...]) -> float:
    """The largest absolute effect, as drawn (% of the scale for :data:`ISSUE_METRICS`), over
    every model of ``metrics``: the one colour range of every effect map of that kind."""
    v = _effect_values(results, metrics, None)
    v = v[np.isfinite(v)]
    return float(np.abs(v).max()) if len(v) and np.abs(v).max() > 0 else 1.0


def effect_heatmap(results: Any, metric: str | tuple[str, ...],
                   model: str = "", *, transpose: bool = False,
                   zmax: float | None = None) -> go.Figure | None:
    """Effect of every shock and lever (rows) on every item (columns) of one metric (or
    several, whose items are then prefixed). For forecasts and outcomes the colour is the
    change in % of the issue's scale (hover: in the issue's units, with its 5-95% band);
    for indicators and gaps both are the raw change. Orange: up; purple: down
    (:data:`~alliancelab.report.theme.EFFECT_SCALE`), symmetric around 0 up to ``zmax``
    (default: this map's largest effect; the report passes :func:`effect_zmax` so that all
    maps of a kind share one range)."""
    e = results.effects
    metrics = (metric,) if isinstance(metric, str) else tuple(metric)
    sub = e[e["metric"].isin(metrics) & (e["model"] == model)]
    if sub.empty:
        return None
    if len(metrics) > 1:
        sub = sub.assign(item=[f"{m.split(': ')[-1]}: {i}"
                               for m, i in zip(sub["metric"], sub["item"], strict=True)])
    metric = metrics[0]
    scen = list(dict.fromkeys(sub["scenario"]))
    items = list(dict.fromkeys(sub["item"]))
    kinds = dict(zip(sub["scenario"], sub["kind"], strict=False))
    widths = {i.name: i.scale.width for i in results.case.issues}
    is_issue = metric in ISSUE_METRICS
    z = np.full((len(scen), len(items)), np.nan)
    txt = np.full((len(scen), len(items)), "", dtype=object)
    for r in sub.itertuples():
        i, j = scen.index(r.scenario), items.index(r.item)
        scale = 100 / widths[r.item] if is_issue else 1.0
        z[i, j] = r.effect * scale
        band = ""
        if np.isfinite(r.effect_p5) and np.isfinite(r.effect_p95):
            band = f"<br>5-95%: {r.effect_p5:+.3g} to {r.effect_p95:+.3g}"
        txt[i, j] = f"{r.effect:+.3g}{band}"
    if zmax is None:
        zmax = float(np.nanmax(np.abs(z))) if np.isfinite(z).any() else 1.0
    zmax = zmax or 1.0
    shown = np.where(np.abs(np.nan_to_num(z)) >= 0.01 * zmax,
                     np.vectorize(lambda v: f"{v:+.2g}")(np.nan_to_num(z)), "")
    ylabels = [f"{s} ({kinds.get(s, '')})" for s in scen]
    xs, ys = items, ylabels
    hover = "<b>%{y}</b><br>%{x}: %{customdata}<extra></extra>"
    if transpose:
        z, txt, shown = z.T, txt.T, shown.T
        xs, ys = [s if len(s) < 30 else s[:28] + "\u2026" for s in scen], items
        hover = "<b>%{x}</b><br>%{y}: %{customdata}<extra></extra>"
    fig = go.Figure(go.Heatmap(
        z=z, x=xs, y=ys, zmid=0, zmin=-zmax, zmax=zmax, colorscale=EFFECT_SCALE,
        customdata=txt, xgap=1, ygap=1, text=shown,
        texttemplate="%{text}" if len(xs) <= 16 else None,
        textfont=dict(size=9),
        colorbar=dict(title=dict(text="% of scale" if is_issue else "change")),
        hovertemplate=hover,
    ))
    what = "issue" if is_issue else "item"
    fig.update_xaxes(tickangle=-35, showgrid=False,
                     title_text="shock or lever" if transpose else what)
    fig.update_yaxes(autorange="reversed", showgrid=False,
                     title_text=what if transpose else "shock or lever")
    return _layout(fig, height=150 + (26 if transpose else 30) * len(ys)
                   + 6 * max(len(str(i)) for i in xs),
                   margin=dict(l=10, r=10, t=20, b=20))


#: alliance indicators left out of the heat map because their units differ from the 0-1
#: probabilities and risks (ratios, log utilities, % of GDP, codes); the table lists them.
ALLIANCE_HEATMAP_SKIP = (
    "deterrence.equilibrium_code", "burden.us_share_gdp", "burden.rok_share_gdp",
    "burden.oz_rok_burden", "burden.exploitation_ratio", "burden.joint_product_beta",
    "burden.joint_product_gamma", "morrow.price", "morrow.autonomy_weight", "morrow.deal_gain",
    "morrow.optimal_gain", "solver.aeg_failed", "solver.tcg_failed",
)


def alliance_figure(results: Any, zmax: float | None = None) -> go.Figure | None:
    """Alliance-model indicators (issue 4): the effect of each shock and lever on each of
    those on a 0-1 scale (the others, listed in :data:`ALLIANCE_HEATMAP_SKIP`, would set the
    colour scale alone; the table shows them)."""
    a = results.alliance
    if a is None or a.empty:
        return None
    e = results.effects
    keep = ~((e["metric"] == "alliance model") & e["item"].isin(ALLIANCE_HEATMAP_SKIP))
    view = SimpleNamespace(effects=e[keep], case=results.case)
    return effect_heatmap(view, "alliance model", "", transpose=True, zmax=zmax)


#: alliance indicators on a 0-1 scale shown with their bands (the table lists all of them).
ALLIANCE_BAND_ITEMS = (
    "tripartite.p_challenge", "tripartite.p_war", "deterrence.p_challenge", "deterrence.p_war",
    "dilemma.rok_abandonment", "dilemma.rok_entrapment", "tension.korea", "tension.us_china",
    "morrow.autonomy_conceded", "morrow.optimal_concession", "morrow.security_gained",
)


def alliance_band_figure(results: Any) -> go.Figure | None:
    """The main alliance indicators (0-1 scale) with their 5-95% Monte Carlo band: the
    baseline, and the chosen shocks and levers when there are any (dot: median; bar: band;
    diamond: the value with every number as stated)."""
    a = results.alliance
    if a is None or a.empty or "p50" not in a.columns or not getattr(results, "alliance_draws", 0):
        return None
    chosen = " + ".join(results.interventions) if results.interventions else None
    scen = [("baseline", "#555555")]
    if chosen and chosen in set(a["scenario"]):
        scen.append((chosen, "#d95f02"))
    items = [i for i in ALLIANCE_BAND_ITEMS if i in set(a["item"])]
    if not items:
        return None
    fig = go.Figure()
    for k, (name, col) in enumerate(scen):
        sub = a[a["scenario"] == name].set_index("item").reindex(items)
        offset = 0.0 if len(scen) == 1 else (-0.18 if k == 0 else 0.18)
        y = np.arange(len(items)) + offset
        fig.add_trace(go.Scatter(
            x=sub["p50"], y=y, mode="markers", name=f"{name}: median, 5-95%",
            marker=dict(color=col, size=8),
            error_x=dict(type="data", symmetric=False, array=sub["p95"] - sub["p50"],
                         arrayminus=sub["p50"] - sub["p5"], color=col, thickness=2),
            customdata=np.stack([sub["p5"], sub["p95"], sub["value"]], axis=-1),
            text=items,
            hovertemplate="<b>%{text}</b><br>median %{x:.3f}<br>5-95%: %{customdata[0]:.3f} "
                          "to %{customdata[1]:.3f}<br>as stated %{customdata[2]:.3f}"
                          "<extra>" + name + "</extra>",
        ))
        fig.add_trace(go.Scatter(
            x=sub["value"], y=y, mode="markers", name=f"{name}: as stated",
            marker=dict(color=col, size=9, symbol="diamond-open"), hoverinfo="skip",
        ))
    fig.update_yaxes(tickvals=list(range(len(items))), ticktext=items, autorange="reversed")
    fig.update_xaxes(title="probability / share / risk (0-1)", range=[-0.02, 1.02])
    return _layout(fig, height=120 + 32 * len(items),
                   legend=dict(orientation="h", y=1.0, yanchor="bottom", x=1, xanchor="right"))


def frame_or_empty(df: pd.DataFrame | None) -> pd.DataFrame:
    return df if df is not None else pd.DataFrame()
