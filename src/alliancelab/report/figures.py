"""The report's charts, as plotly figures built from a
:class:`~alliancelab.jobs.results.RunResults`.

Every function returns a :class:`~alliancelab.report.widgets.Figure` (or ``None`` when the
run has no data for it): the figure's plotly JSON, built as plain data, which
:mod:`alliancelab.report.html` embeds without plotly's validation (``fig.data``,
``fig.to_json()`` and the like are those of the ``plotly.graph_objects.Figure`` of it). The
look (template, colour scales, a colour-blind-safe colour, dash and marker per actor from the
case's ``groups``) is :mod:`alliancelab.report.theme`'s, shared with the web app. Every chart
labels its axes, with units where the numbers have them; every heat map of one kind uses one
colour scale (:data:`~alliancelab.report.theme.EFFECT_SCALE`, ``MOVEMENT_SCALE``,
``COUNT_SCALE``) and lists actors in case order from the top.
"""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from ..core.case import Case
from .theme import (
    COUNT_SCALE,
    EFFECT_SCALE,
    MODEL_COLOURS,
    MOVEMENT_SCALE,
    PALETTE,
    actor_colours,
    actor_styles,
    template_json,
)
from .widgets import Figure

__all__ = ["MODEL_COLOURS", "actor_colours", "effect_heatmap", "effect_zmax",
           "movement_heatmap", "side_styles"]


def _layout(layout: dict[str, Any], *, height: int, title: str | None = None,
            **kw: Any) -> dict[str, Any]:
    """``layout`` in the report's theme, ``height`` pixels high, with ``title`` and ``kw``."""
    layout.update(
        template=template_json(),
        height=height,
        title=dict(text=title) if title else {},
        margin=kw.pop("margin", dict(l=10, r=10, t=50 if title else 30, b=40)),
        **kw,
    )
    return layout


def _grid(rows: int, cols: int, titles: list[str], *, vertical_spacing: float = 0.0,
          horizontal_spacing: float = 0.0, shared_yaxes: bool = False) -> dict[str, Any]:
    """The layout of ``plotly.subplots.make_subplots`` with these arguments, as plain data:
    subplot ``n`` (:func:`_subplot`) has the axes ``xaxis{n}`` and ``yaxis{n}`` (none for 1)
    with their domains, the titles are annotations above the panels, and with
    ``shared_yaxes`` each row's y axes match its first, without tick labels."""
    width = (1.0 - horizontal_spacing * (cols - 1)) / cols
    height = (1.0 - vertical_spacing * (rows - 1)) / rows
    widths, heights = [width] * cols, [height] * rows
    layout: dict[str, Any] = {}
    domains = []
    for r in range(rows):
        y0 = sum(heights[:rows - 1 - r]) + (rows - 1 - r) * vertical_spacing
        y_domain = [min(max(y0, 0.0), 1.0), min(max(y0 + heights[-1 - r], 0.0), 1.0)]
        for c in range(cols):
            x0 = sum(widths[:c]) + c * horizontal_spacing
            x_domain = [x0, x0 + widths[c]]
            n = _subplot(r + 1, c + 1, cols)
            layout[f"xaxis{n}"] = {"domain": x_domain, "anchor": f"y{n}"}
            layout[f"yaxis{n}"] = {"domain": y_domain, "anchor": f"x{n}"}
            if shared_yaxes and c > 0:
                layout[f"yaxis{n}"].update(matches=f"y{_subplot(r + 1, 1, cols)}",
                                           showticklabels=False)
            domains.append((x_domain, y_domain))
    notes = [
        {"y": yd[1], "xref": "paper", "x": sum(xd) / 2.0, "yref": "paper", "text": text,
         "showarrow": False, "font": dict(size=16), "xanchor": "center", "yanchor": "bottom"}
        for text, (xd, yd) in zip(titles, domains, strict=False) if text]
    if notes:
        layout["annotations"] = notes
    return layout


def _subplot(row: int, col: int, cols: int) -> str:
    """The suffix of the axes of the subplot in ``row`` and ``col`` (from 1, top left first)
    of a :func:`_grid` of ``cols`` columns: ``""`` for the first, else its number."""
    n = (row - 1) * cols + col
    return "" if n == 1 else str(n)


def _on(n: str) -> dict[str, str]:
    """The axis references of a trace drawn in subplot ``n`` (:func:`_subplot`)."""
    return {"xaxis": f"x{n}", "yaxis": f"y{n}"}


def _axes(layout: dict[str, Any], letter: str) -> list[dict[str, Any]]:
    """Every ``letter`` (``"x"`` or ``"y"``) axis of ``layout``."""
    return [v for k, v in layout.items() if k.startswith(f"{letter}axis")]


def _values(v: pd.Series | pd.Index) -> Any:
    """A column as plotly reads it: numbers as a numpy array, anything else as a list."""
    return v.to_numpy() if v.dtype.kind in "iuf" else v.tolist()


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


def forecast_figure(results: Any) -> Figure:
    """Per issue: each model's 5-95% Monte Carlo band (bar), median (diamond) and forecast
    with the case as stated (circle), the status quo (dashed line) and the actors' positions
    (grey ticks), on the issue's own scale with its labelled ends."""
    case: Case = results.scenario
    table = results.forecast_table()
    issues = list(case.issue_names)
    models = list(results.models)
    d = len(issues)
    layout = _grid(d, 1, [_issue_title(case, k) for k in issues],
                   vertical_spacing=min(0.6 / max(d, 1), 0.08), horizontal_spacing=0.2)
    rows_y = ["actors", *models]
    data: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    for r, issue in enumerate(issues, start=1):
        n = _subplot(r, 1, 1)
        sc = case.issue(issue).scale
        positions = [a.positions[issue].value for a in case.actors]
        data.append(dict(
            type="scatter", x=positions, y=["actors"] * len(positions), mode="markers",
            marker=dict(symbol="line-ns-open", size=14, color="#888", line=dict(width=2)),
            text=[a.name for a in case.actors], name="actor positions", legendgroup="actors",
            showlegend=r == 1, hovertemplate="%{text}: %{x:.4g}<extra></extra>", **_on(n)))
        sub = table[table["issue"] == issue].set_index("model")
        for m in models:
            row = sub.loc[m]
            col = MODEL_COLOURS.get(m, "#333")
            data.append(dict(
                type="scatter", x=[row.p5, row.p95], y=[m, m], mode="lines",
                line=dict(color=col, width=9), opacity=0.35, name=f"{m} 5-95%",
                legendgroup=m, showlegend=False,
                hovertemplate=f"{m}: 5% %{{x:.4g}}<extra></extra>", **_on(n)))
            data.append(dict(
                type="scatter", x=[row.p50], y=[m], mode="markers",
                marker=dict(symbol="diamond", size=11, color=col,
                            line=dict(color="white", width=1)),
                name=f"{m}", legendgroup=m, showlegend=r == 1,
                customdata=[[row.p5, row.p95, row.forecast]],
                hovertemplate=(f"<b>{m}</b><br>median %{{x:.4g}}<br>5-95%: "
                               "%{customdata[0]:.4g} - %{customdata[1]:.4g}<br>"
                               "as stated: %{customdata[2]:.4g}<extra></extra>"), **_on(n)))
            data.append(dict(
                type="scatter", x=[row.forecast], y=[m], mode="markers",
                marker=dict(symbol="circle-open", size=12, color="#111", line=dict(width=2)),
                name="forecast, case as stated", legendgroup="point",
                showlegend=r == 1 and m == models[0],
                hovertemplate=f"{m} (case as stated): %{{x:.4g}}<extra></extra>", **_on(n)))
        sq = case.issue(issue).status_quo
        if sq is not None:
            data.append(dict(
                type="scatter", x=[sq.value, sq.value], y=[rows_y[0], rows_y[-1]],
                mode="lines", line=dict(color="#000", dash="dash", width=1.5),
                name="status quo", legendgroup="sq", showlegend=r == 1,
                hovertemplate=f"status quo {sq.value:.4g}<extra></extra>", **_on(n)))
        pad = 0.02 * sc.width
        ticks = [sc.min, *_inner_ticks(sc.min, sc.max), sc.max]
        layout[f"xaxis{n}"].update(range=[sc.min - pad, sc.max + pad], tickmode="array",
                                   tickvals=ticks, ticktext=[_tick(v) for v in ticks])
        # the scale's labelled ends, under the axis at either side
        for x, label, anchor in ((0, sc.low, "left"), (1, sc.high, "right")):
            if label:
                notes.append(dict(
                    x=x, y=0, xref=f"x{n} domain", yref=f"y{n} domain",
                    text=("\u25c0 " + label) if x == 0 else (label + " \u25b6"),
                    showarrow=False, xanchor=anchor, yanchor="top", yshift=-20,
                    font=dict(size=11, color="#555")))
        layout[f"yaxis{n}"].update(categoryorder="array", categoryarray=rows_y[::-1])
    if notes:
        layout["annotations"] = [*layout.get("annotations", []), *notes]
    height = 60 + d * (34 * (len(models) + 1) + 105)
    _layout(layout, height=height, margin=dict(l=10, r=20, t=40, b=40),
            legend=dict(orientation="h", y=1 + 30 / height, yanchor="bottom", x=0,
                        xanchor="left"))
    return Figure(data=data, layout=layout)


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


def distribution_figure(results: Any) -> Figure:
    """Monte Carlo forecasts per issue as box plots, in % of each issue's scale, so the
    spread of every model on every issue can be compared on one chart."""
    case: Case = results.scenario
    df = results.draws_table()
    scale = {i.name: (i.scale.min, i.scale.width) for i in case.issues}
    pct = np.array([100 * (v - scale[k][0]) / scale[k][1]
                    for v, k in zip(df["forecast"], df["issue"], strict=True)], dtype=float)
    model, issue = df["model"].to_numpy(), df["issue"].to_numpy()
    data = [dict(type="box", x=pct[model == m], y=issue[model == m].tolist(), name=m,
                 orientation="h", boxpoints=False,
                 marker=dict(color=MODEL_COLOURS.get(m, "#333")), line=dict(width=1.2))
            for m in results.models]
    layout = dict(
        boxmode="group",
        xaxis=dict(title=dict(text="forecast, % of the issue's scale (0 = low end, 100 = high "
                                   "end)"), range=[0, 100]),
        yaxis=dict(categoryorder="array", categoryarray=list(case.issue_names)[::-1],
                   title=dict(text="issue")))
    return Figure(data=data, layout=_layout(
        layout, height=90 + 28 * len(case.issues) * max(1, len(results.models)) // 2 + 60,
        legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0)))


# -- trajectories and movement ----------------------------------------------------------


def trajectory_figure(results: Any, source: str) -> Figure | None:
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
    layout = _grid(rows, cols, titles, vertical_spacing=min(0.35 / rows, 0.09),
                   horizontal_spacing=0.06)
    styles = actor_styles(case)
    sim = results.simulation if source == "dynamics" else None
    n_rounds = int(traj["round"].max())
    rounds, positions = traj["round"].to_numpy(), traj["position"].to_numpy()
    rows_of: dict[str, dict[str, list[int]]] = {}  # issue -> actor -> rows, in table order
    for i, (on, who) in enumerate(zip(traj["issue"], traj["actor"], strict=True)):
        rows_of.setdefault(str(on), {}).setdefault(str(who), []).append(i)
    data: list[dict[str, Any]] = []
    for idx, issue in enumerate(issues):
        r, c = idx // cols + 1, idx % cols + 1
        n = _subplot(r, c, cols)
        for actor, ix in rows_of.get(issue, {}).items():
            st = styles[actor]
            data.append(dict(
                type="scatter", x=rounds[ix], y=positions[ix], mode="lines+markers", name=actor,
                line=dict(color=st.colour, width=1.6, dash=st.dash),
                marker=dict(size=5, symbol=st.symbol), legendgroup=actor,
                showlegend=idx == 0,
                hovertemplate=f"{actor}<br>round %{{x}}: %{{y:.4g}}<extra></extra>", **_on(n)))
        if sim is not None:
            k = list(sim.issues).index(issue)
            data.append(dict(
                type="scatter", x=np.arange(sim.outcomes.shape[0]), y=sim.outcomes[:, k],
                mode="lines", line=dict(color="#000", dash="dash", width=2.2),
                name="forecast outcome", legendgroup="outcome", showlegend=idx == 0,
                hovertemplate="outcome, round %{x}: %{y:.4g}<extra></extra>", **_on(n)))
        sc = case.issue(issue).scale
        ticks = [sc.min, *_inner_ticks(sc.min, sc.max), sc.max]
        layout[f"yaxis{n}"].update(
            range=[sc.min - 0.03 * sc.width, sc.max + 0.03 * sc.width], tickmode="array",
            tickvals=ticks, ticktext=[_tick(v) for v in ticks], tickfont=dict(size=10))
        if c == 1:
            layout[f"yaxis{n}"]["title"] = dict(text=sc.units or "position")
        layout[f"xaxis{n}"].update(range=[-0.3, n_rounds + 0.3],
                                   dtick=max(1, math.ceil(n_rounds / 10)))
        if r == rows:
            layout[f"xaxis{n}"]["title"] = dict(text="round")
    return Figure(data=data, layout=_layout(
        layout, height=120 + 260 * rows,
        legend=dict(orientation="h", y=-0.04 - 20 / (260 * rows), yanchor="top", x=0)))


def movement_figure(results: Any) -> Figure | None:
    """Who moves toward whom (:func:`movement_heatmap` of the run's movement table), one
    panel per source of rounds, actors in case order."""
    mv = results.movement
    if mv.empty:
        return None
    return movement_heatmap(mv, list(results.scenario.actor_names))


def movement_heatmap(mv: pd.DataFrame, actors: list[str]) -> Figure:
    """Heat maps (one per ``source`` of ``mv``, the frame of
    :func:`alliancelab.jobs.tables.movement_table`) of how much of the distance to another
    actor's starting position each actor (row, ``actors`` order from the top) closed, in %
    of the scale averaged over issues; one colour range for all panels
    (:data:`~alliancelab.report.theme.MOVEMENT_SCALE`: blue = moved toward, red = moved
    away). The web app draws the same figure."""
    sources = list(dict.fromkeys(mv["source"]))
    layout = _grid(1, len(sources), [f"<b>{s}</b>" for s in sources],
                   horizontal_spacing=0.12 if len(sources) > 1 else 0.05, shared_yaxes=True)
    off = mv[mv["mover"] != mv["toward"]]["closed"].to_numpy(dtype=float) * 100
    zmax = max(float(np.nanmax(np.abs(off))) if np.isfinite(off).any() else 0.0, 1e-6)
    data = []
    for c, s in enumerate(sources, start=1):
        n = _subplot(1, c, len(sources))
        sub = mv[mv["source"] == s]
        mat = sub.pivot(index="mover", columns="toward", values="closed").reindex(
            index=actors, columns=actors) * 100
        own = np.diag(mat.to_numpy()).copy()
        z = mat.to_numpy(copy=True)
        np.fill_diagonal(z, np.nan)
        data.append(dict(
            type="heatmap", z=z, x=actors, y=actors, zmid=0, zmin=-zmax, zmax=zmax,
            colorscale=MOVEMENT_SCALE, showscale=c == 1, xgap=1, ygap=1,
            customdata=np.repeat(own[:, None], len(actors), axis=1),
            hovertemplate=("<b>%{y}</b> toward %{x}: %{z:.1f}% of the scale"
                           "<br>(%{y} moved %{customdata:.1f}% in all)<extra></extra>"),
            **_on(n)))
        if c == 1:
            data[-1]["colorbar"] = dict(title=dict(text="% of scale<br>closed"), len=0.8)
        layout[f"xaxis{n}"].update(tickangle=-40, title=dict(text="toward (starting position of)"),
                                   showgrid=False)
    return _actor_matrices(data, layout, len(actors), "mover")


def interaction_figure(results: Any) -> Figure | None:
    """Who presses whom, from the engines' diagnostics: per engine, how often the row actor
    made an offer to (BDM) or challenged (SMP) the column actor, over all rounds and issues."""
    it = results.interactions
    if it is None or it.empty:
        return None
    sources = list(dict.fromkeys(it["source"]))
    actors = list(results.scenario.actor_names)
    layout = _grid(1, len(sources), [f"<b>{s}</b>" for s in sources],
                   horizontal_spacing=0.1 if len(sources) > 1 else 0.05, shared_yaxes=True)
    zmax = max(float(it.groupby(["source", "from", "to"])["count"].sum().max()), 1.0)
    data = []
    for c, src in enumerate(sources, start=1):
        n = _subplot(1, c, len(sources))
        sub = it[it["source"] == src]
        total = sub.groupby(["from", "to"])["count"].sum()
        detail: dict[tuple[str, str], str] = {}
        for a, b, kind, cnt in sub[["from", "to", "kind", "count"]].itertuples(
                index=False, name=None):
            key = (str(a), str(b))
            part = f"{kind} {cnt}"
            detail[key] = f"{detail[key]}, {part}" if key in detail else part
        z = np.full((len(actors), len(actors)), np.nan)
        txt = np.full((len(actors), len(actors)), "", dtype=object)
        for (a, b), cnt in total.items():
            if a in actors and b in actors:
                z[actors.index(a), actors.index(b)] = cnt
                txt[actors.index(a), actors.index(b)] = detail[(a, b)]
        data.append(dict(
            type="heatmap", z=z, x=actors, y=actors, colorscale=COUNT_SCALE, xgap=1, ygap=1,
            customdata=txt.tolist(), showscale=c == 1, zmin=0, zmax=zmax,
            colorbar=dict(title=dict(text="offers /<br>challenges"), len=0.8),
            hovertemplate="<b>%{y}</b> \u2192 %{x}: %{z}<br>%{customdata}<extra></extra>",
            **_on(n)))
        layout[f"xaxis{n}"].update(tickangle=-40, title=dict(text="to (receiver / target)"),
                                   showgrid=False)
    return _actor_matrices(data, layout, len(actors), "from (proposer / challenger)")


def _actor_matrices(data: list[dict[str, Any]], layout: dict[str, Any], n_actors: int,
                    rows: str) -> Figure:
    """Actor-by-actor heat maps side by side: actors in case order from the top, ``rows``
    naming the row actors."""
    for axis in _axes(layout, "y"):
        axis.update(autorange="reversed", showgrid=False)
    layout["yaxis"]["title"] = dict(text=rows)
    return Figure(data=data, layout=_layout(layout, height=220 + 26 * n_actors,
                                            margin=dict(l=10, r=10, t=40, b=20)))


# -- perceptions -------------------------------------------------------------------------


def _item_label(kind: str, item: str) -> str:
    return {"threat": f"threat: {item}", "reliability": "partner reliability"}.get(
        kind, f"issue: {item}") if kind != "reliability" else "partner reliability"


def gap_figure(results: Any) -> Figure | None:
    """US vs ROK side by side per snapshot: the capability-weighted mean of each group on
    every threat, the partner's reliability and every issue (0-1, scale widths), joined by
    a line whose length is the gap."""
    g = results.gaps
    if g.empty:
        return None
    snaps = list(dict.fromkeys(g["snapshot"]))
    layout = _grid(1, len(snaps), [f"<b>{_wrap(s)}</b>" for s in snaps],
                   horizontal_spacing=0.03, shared_yaxes=True)
    items = list(dict.fromkeys(_item_label(k, i) for k, i in zip(g["kind"], g["item"],
                                                                    strict=True)))
    sides = side_styles(results.case) or [("a", "first side", "#0072B2"),
                                          ("b", "second side", "#D55E00")]
    (ga, la, ca), (gb, lb, cb) = sides
    data: list[dict[str, Any]] = []
    for c, s in enumerate(snaps, start=1):
        n = _subplot(1, c, len(snaps))
        sub = g[g["snapshot"] == s]
        labels = [_item_label(k, i) for k, i in zip(sub["kind"], sub["item"], strict=True)]
        xs: list[float | None] = []
        ys: list[str | None] = []
        for a, b, lab in zip(sub["a_value"], sub["b_value"], labels, strict=True):
            xs += [a, b, None]
            ys += [lab, lab, None]
        data.append(dict(type="scatter", x=xs, y=ys, mode="lines",
                         line=dict(color="#bbb", width=3), showlegend=False, hoverinfo="skip",
                         **_on(n)))
        data.append(dict(
            type="scatter", x=_values(sub["a_value"]), y=labels, mode="markers", name=la,
            marker=dict(color=ca, size=10), legendgroup=ga, showlegend=c == 1,
            hovertemplate=f"{ga}: %{{x:.2f}}<extra>%{{y}}</extra>", **_on(n)))
        data.append(dict(
            type="scatter", x=_values(sub["b_value"]), y=labels, mode="markers", name=lb,
            marker=dict(color=cb, size=10, symbol="square"), legendgroup=gb,
            showlegend=c == 1, customdata=_values(sub["gap"]),
            hovertemplate=f"{gb}: %{{x:.2f}} (gap %{{customdata:+.2f}})<extra>%{{y}}</extra>",
            **_on(n)))
        layout[f"xaxis{n}"].update(range=[-0.03, 1.03],
                                   title=dict(text="0 = low end, 1 = high end"))
    layout["yaxis"].update(title=dict(text="item (threat, reliability: 0-1; issue: scale "
                                           "widths)"),
                           categoryorder="array", categoryarray=items[::-1])
    height = 170 + 24 * len(items)
    return Figure(data=data, layout=_layout(
        layout, height=height, legend=dict(orientation="h", y=-70 / height, yanchor="top", x=0),
        margin=dict(l=10, r=10, t=60, b=40)))


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


def gap_shift_figure(results: Any) -> Figure | None:
    """The signed gap (ROK minus US) per item, one bar per snapshot: bars to the right mean
    Seoul sits higher on that item than Washington."""
    g = results.gaps
    if g.empty:
        return None
    snaps = list(dict.fromkeys(g["snapshot"]))
    palette = list(PALETTE[1:])
    data = []
    items: list[str] = []
    for c, s in enumerate(snaps):
        sub = g[g["snapshot"] == s]
        labels = [_item_label(k, i) for k, i in zip(sub["kind"], sub["item"], strict=True)]
        items += [x for x in labels if x not in items]
        data.append(dict(type="bar", x=_values(sub["gap"]), y=labels, orientation="h",
                         name=str(s), marker=dict(color=palette[c % len(palette)]),
                         hovertemplate=f"{s}: %{{x:+.2f}}<extra>%{{y}}</extra>"))
    a, b = results.case.sides or ("first side", "second side")
    layout = dict(
        barmode="group",
        xaxis=dict(title=dict(text=f"gap: {b} minus {a} (0-1, or scale widths for issues)"),
                   zeroline=True, zerolinecolor="#444", zerolinewidth=1.5),
        yaxis=dict(categoryorder="array", categoryarray=items[::-1], title=dict(text="item")))
    return Figure(data=data, layout=_layout(
        layout, height=140 + 16 * len(items) * max(len(snaps), 1),
        legend=dict(orientation="h", y=1.0, yanchor="bottom", x=1, xanchor="right")))


def dynamics_figure(results: Any) -> Figure | None:
    """The dynamics' outcome indicators per round, baseline (dotted) vs scenario (solid)."""
    sim, base = results.simulation, results.baseline_simulation
    if sim is None or not sim.indicators:
        return None
    data = []
    palette = [*PALETTE[1:], PALETTE[0]]
    for k, (name, arr) in enumerate(sim.indicators.items()):
        col = palette[k % len(palette)]
        data.append(dict(type="scatter", x=np.arange(len(arr)), y=arr, mode="lines+markers",
                         name=name, line=dict(color=col, width=2), legendgroup=name))
        if results.interventions and base is not None and name in base.indicators:
            b = base.indicators[name]
            data.append(dict(type="scatter", x=np.arange(len(b)), y=b, mode="lines",
                             name=f"{name} (baseline)", legendgroup=name,
                             line=dict(color=col, width=1.5, dash="dot"), showlegend=False))
    layout = dict(xaxis=dict(title=dict(text="round"), dtick=1),
                  yaxis=dict(title=dict(text="indicator")))
    return Figure(data=data, layout=_layout(layout, height=380,
                                            legend=dict(orientation="v", x=1.01, y=1)))


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
                   zmax: float | None = None) -> Figure | None:
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
    trace = dict(
        type="heatmap", z=z, x=xs, y=ys, zmid=0, zmin=-zmax, zmax=zmax, colorscale=EFFECT_SCALE,
        customdata=txt.tolist(), xgap=1, ygap=1, text=shown.tolist(), textfont=dict(size=9),
        colorbar=dict(title=dict(text="% of scale" if is_issue else "change")),
        hovertemplate=hover)
    if len(xs) <= 16:
        trace["texttemplate"] = "%{text}"
    what = "issue" if is_issue else "item"
    layout = dict(
        xaxis=dict(tickangle=-35, showgrid=False,
                   title=dict(text="shock or lever" if transpose else what)),
        yaxis=dict(autorange="reversed", showgrid=False,
                   title=dict(text=what if transpose else "shock or lever")))
    return Figure(data=[trace], layout=_layout(
        layout, height=150 + (26 if transpose else 30) * len(ys)
        + 6 * max(len(str(i)) for i in xs), margin=dict(l=10, r=10, t=20, b=20)))


#: alliance indicators left out of the heat map because their units differ from the 0-1
#: probabilities and risks (ratios, log utilities, % of GDP, codes); the table lists them.
ALLIANCE_HEATMAP_SKIP = (
    "deterrence.equilibrium_code", "burden.us_share_gdp", "burden.rok_share_gdp",
    "burden.oz_rok_burden", "burden.exploitation_ratio", "burden.joint_product_beta",
    "burden.joint_product_gamma", "morrow.price", "morrow.autonomy_weight", "morrow.deal_gain",
    "morrow.optimal_gain", "solver.aeg_failed", "solver.tcg_failed",
)


def alliance_figure(results: Any, zmax: float | None = None) -> Figure | None:
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


def alliance_band_figure(results: Any) -> Figure | None:
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
    data = []
    for k, (name, col) in enumerate(scen):
        sub = a[a["scenario"] == name].set_index("item").reindex(items)
        offset = 0.0 if len(scen) == 1 else (-0.18 if k == 0 else 0.18)
        y = np.arange(len(items)) + offset
        p5, p50, p95, value = (sub[c].to_numpy(dtype=float) for c in ("p5", "p50", "p95",
                                                                      "value"))
        data.append(dict(
            type="scatter", x=p50, y=y, mode="markers", name=f"{name}: median, 5-95%",
            marker=dict(color=col, size=8),
            error_x=dict(type="data", symmetric=False, array=p95 - p50, arrayminus=p50 - p5,
                         color=col, thickness=2),
            customdata=np.stack([p5, p95, value], axis=-1),
            text=items,
            hovertemplate="<b>%{text}</b><br>median %{x:.3f}<br>5-95%: %{customdata[0]:.3f} "
                          "to %{customdata[1]:.3f}<br>as stated %{customdata[2]:.3f}"
                          "<extra>" + name + "</extra>",
        ))
        data.append(dict(
            type="scatter", x=value, y=y, mode="markers", name=f"{name}: as stated",
            marker=dict(color=col, size=9, symbol="diamond-open"), hoverinfo="skip",
        ))
    layout = dict(
        yaxis=dict(tickvals=list(range(len(items))), ticktext=items, autorange="reversed"),
        xaxis=dict(title=dict(text="probability / share / risk (0-1)"), range=[-0.02, 1.02]))
    return Figure(data=data, layout=_layout(
        layout, height=120 + 32 * len(items),
        legend=dict(orientation="h", y=1.0, yanchor="bottom", x=1, xanchor="right")))


def frame_or_empty(df: pd.DataFrame | None) -> pd.DataFrame:
    return df if df is not None else pd.DataFrame()
