"""The hindcast report: the alliance snapshots and the SMA series against their baselines.

:func:`section_html` is an HTML section (tables, plotly charts, the reading of the numbers) that
a page can embed; :func:`render` makes it a self-contained page in the main report's look
(its template, plotly.js inlined once; opens offline); :func:`write_report` writes that page
atomically. :func:`reading` is the plain-text reading of the numbers, shared with the console.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from ..core.io import atomic_write_text
from ..jobs.hindcast import Hindcast
from ..jobs.sma_series import ACTORS, SmaSeries
from .html import fig_html, table_html

PAGE = """{% extends "report.html.j2" %}
{% block page %}
<header class="top">
  <h1>{{ title }}</h1>
  <div class="sub">Dated snapshots of the US-ROK alliance forecast by every engine and scored
  against what happened; the Special Measures Agreements as a series of small negotiations.</div>
  <div class="chips">{% for c in chips %}<span>{{ c }}</span>{% endfor %}</div>
</header>
<nav class="toc">{% for id, label in toc %}<a href="#{{ id }}">{{ label }}</a>{% endfor %}</nav>
<main>
{{ body | safe }}
<section id="{{ prefix }}-provenance">
  <h2>This report</h2>
  <dl class="prov">{% for k, v in provenance %}<dt>{{ k }}</dt><dd>{{ v }}</dd>{% endfor %}</dl>
</section>
</main>
{% endblock %}
"""

COLORS = {"status-quo": "#111111", "trend": "#e07b00", "split-difference": "#7b3294"}


def _pct(x: Any) -> str:
    return "-" if x is None or not np.isfinite(float(x)) else f"{100 * float(x):.0f}%"


def _w(x: Any) -> str:
    return "-" if x is None or not np.isfinite(float(x)) else f"{float(x):.3f}"


def short(snapshot: str) -> str:
    """``us_rok_2007`` -> ``2007``."""
    return snapshot.rsplit("_", 1)[-1] if snapshot.startswith("us_rok_") else snapshot


# -- the reading -----------------------------------------------------------------------------


def reading(h: Hindcast | None, s: SmaSeries | None) -> list[str]:
    """Plain sentences saying what the numbers say, baseline first."""
    out: list[str] = []
    if h is not None:
        out.extend(_reading_snapshots(h))
    if s is not None:
        out.extend(_reading_sma(s))
    return out


def _reading_snapshots(h: Hindcast) -> list[str]:
    pooled = h.pooled()
    models = pooled[(pooled["family"] == "model") & (pooled["n"] > 0)]
    sq = pooled[pooled["model"] == "status-quo"]
    if models.empty or sq.empty:
        return ["No model produced a scored forecast."]
    sq_mae = float(sq["mae_widths"].iloc[0])
    best = models.sort_values("mae_widths", kind="stable").iloc[0]
    beat = models[models["mae_widths"] < sq_mae]
    cells = h.best()
    n_cells = len(cells)
    won = cells[cells["best_mae"] < cells["sq_mae"]]
    n_issues = h.rows["issue"].nunique()
    out = [
        f"Pooled over {int(sq['n'].iloc[0])} scored values ({len(h.snapshots)} snapshots, "
        f"{n_cells} snapshot-horizon cells, {n_issues} issues), 'nothing changes' has a mean "
        "absolute "
        f"error of {sq_mae:.3f} scale widths; the best unfitted model ({best['model']}) has "
        f"{float(best['mae_widths']):.3f}. "
        + ("No unfitted model beats the status quo on MAE." if beat.empty else
           f"{len(beat)} unfitted model(s) beat it: {', '.join(beat['model'])}."),
        f"Cell by cell, the best model beats the status quo on MAE in {len(won)} of {n_cells} "
        "snapshot-horizon cells"
        + (f" ({', '.join(_cell_labels(won))})" if len(won) else "")
        + f"; picking the best of {len(models)} models per cell flatters the models.",
        f"Directions (dead band {100 * h.band:g}% of the scale width): the models get "
        f"{_pct(models['direction_hit_rate'].min())} to {_pct(models['direction_hit_rate'].max())} "
        f"right, the status quo {_pct(sq['direction_hit_rate'].iloc[0])} (it scores exactly "
        "where nothing moved beyond the dead band).",
    ]
    out.extend(_reading_target(h))
    fitted = pooled[pooled["family"] == "fitted"]
    if not fitted.empty:
        fb = fitted.sort_values("mae_widths", kind="stable").iloc[0]
        out.append(
            f"Fitted leave-one-snapshot-out, the partial-adjustment variants shrink toward the "
            f"status quo; the best ({fb['model']}) has MAE {float(fb['mae_widths']):.3f} "
            f"against the status quo's {sq_mae:.3f}.")
    return out


def _cell_labels(cells: pd.DataFrame) -> list[str]:
    return [f"{short(a)} +{b}" for a, b in zip(cells["snapshot"], cells["horizon"], strict=True)]


def _reading_target(h: Hindcast) -> list[str]:
    t = h.target()
    d = t.get("decade")
    if not t.get("available") or d is None:
        return []
    return [
        f"Target on {t['snapshot']} over the decade (horizons "
        f"{', '.join(f'+{x}' for x in d['horizons'])} pooled): the most directions right is "
        f"{_pct(d['best_direction_rate'])} ({d['best_direction_model']}, target 80%); the "
        f"lowest MAE is {d['best_mae']:.3f} ({d['best_mae_model']}) against the status quo's "
        f"{d['status_quo_mae']:.3f}: target {'met' if d['met'] else 'not met'}."
    ]


def _reading_sma(s: SmaSeries) -> list[str]:
    summ = s.summary()
    if summ.empty:
        return ["No SMA could be built as a case."]
    n = int(summ["n"].max())
    sq = summ[summ["model"] == "status-quo"].iloc[0]
    split = summ[summ["model"] == "split-difference"].iloc[0]
    eng = summ[(summ["family"] == "model") & (summ["n"] > 0)]
    text = (f"SMA series ({n} agreements with a public ask and offer): the status quo has MAE "
            f"{float(sq['mae_widths']):.3f} widths, split-the-difference "
            f"{float(split['mae_widths']):.3f}")
    if eng.empty:
        return [text + "."]
    b = eng.sort_values("mae_widths", kind="stable").iloc[0]
    beat = eng[eng["mae_widths"] < float(sq["mae_widths"])]
    return [text + f"; the best engine ({b['model']}) {float(b['mae_widths']):.3f}. "
            + (f"{len(beat)} engine(s) beat the status quo ({', '.join(beat['model'])}); "
               if len(beat) else "No engine beats the status quo; ")
            + f"with {n} cases this is an anecdote, not a test."]


# -- tables ----------------------------------------------------------------------------------


def best_view(h: Hindcast) -> pd.DataFrame:
    b = h.best()
    return pd.DataFrame({
        "snapshot": [short(x) for x in b["snapshot"]],
        "horizon": [f"+{x}" for x in b["horizon"]],
        "best model": b.get("best_model"),
        "MAE": [_w(x) for x in b.get("best_mae", [])],
        "dir": [_pct(x) for x in b.get("best_direction", [])],
        "SQ MAE": [_w(x) for x in b.get("sq_mae", [])],
        "SQ dir": [_pct(x) for x in b.get("sq_direction", [])],
        "trend MAE": [_w(x) for x in b.get("trend_mae", [])],
        "trend dir": [_pct(x) for x in b.get("trend_direction", [])],
        "trend N": b.get("trend_n"),
    })


def pooled_view(h: Hindcast) -> pd.DataFrame:
    p = h.pooled()
    per = h.pooled(["snapshot"])
    sq = per[per["model"] == "status-quo"].set_index("snapshot")["mae_widths"]
    cells = h.summary()
    sq_cell = cells[cells["model"] == "status-quo"].set_index(["snapshot", "horizon"])[
        "mae_widths"]
    wins = {}
    for model, g in cells.groupby("model", sort=False):
        ref = sq_cell.reindex(list(zip(g["snapshot"], g["horizon"], strict=True))).to_numpy()
        wins[model] = f"{int((g['mae_widths'].to_numpy() < ref).sum())}/{len(g)}"
    view = pd.DataFrame({
        "model": p["model"], "kind": p["family"], "MAE": [_w(x) for x in p["mae_widths"]],
        "dir": [_pct(x) for x in p["direction_hit_rate"]],
        "interval": [_pct(x) for x in p["interval_hit_rate"]], "N": p["n"],
        "cells < SQ": [wins.get(m, "") for m in p["model"]],
    })
    for snap in sq.index:
        mine = per[per["snapshot"] == snap].set_index("model")["mae_widths"]
        view[f"MAE {short(snap)}"] = [_w(mine.get(m)) for m in p["model"]]
    return view


def issue_view(h: Hindcast) -> pd.DataFrame:
    """Per issue, all snapshots and horizons pooled: the baselines and the unfitted model
    with the lowest MAE on that issue."""
    p = h.pooled(["issue"])
    records = []
    for issue, g in p.groupby("issue", sort=False):
        g = g.set_index("model")
        models = g[(g["family"] == "model") & (g["n"] > 0)].sort_values("mae_widths",
                                                                        kind="stable")
        kind = h.rows.loc[h.rows["issue"] == issue, "kind"]
        rec = {"issue": issue, "realised": f"{(kind == 'judgement').mean():.0%} judgement",
               "SQ MAE": _w(g["mae_widths"].get("status-quo")),
               "SQ dir": _pct(g["direction_hit_rate"].get("status-quo")),
               "trend MAE": _w(g["mae_widths"].get("trend")),
               "best model": models.index[0] if len(models) else "",
               "its MAE": _w(models["mae_widths"].iloc[0]) if len(models) else "-",
               "its dir": _pct(models["direction_hit_rate"].iloc[0]) if len(models) else "-",
               "models dir (range)": (f"{_pct(models['direction_hit_rate'].min())}-"
                                      f"{_pct(models['direction_hit_rate'].max())}")
               if len(models) else "-"}
        records.append(rec)
    return pd.DataFrame(records)


def sma_case_view(s: SmaSeries) -> pd.DataFrame:
    rows = s.rows
    records = []
    for c in s.cases:
        mine = rows[(rows["number"] == c.number) & (rows["family"] == "model")]
        mine = mine[mine["abs_error_widths"].notna()]
        best = mine.sort_values("abs_error_widths", kind="stable").iloc[0] if len(mine) else None
        records.append({
            "SMA": c.number, "year": c.first_year, "unit": "US$ bn" if c.currency == "USD"
            else "KRW bn", "status quo": c.status_quo, "US ask": c.us_ask,
            "ROK offer": c.rok_offer, "offer is": c.offer_basis, "outcome": c.outcome,
            "split": (c.us_ask + c.rok_offer) / 2,
            "best engine": "" if best is None else best["model"],
            "its forecast": np.nan if best is None else float(best["forecast"]),
            "headline": "yes" if c.headline else "no",
        })
    return pd.DataFrame(records)


def sma_summary_view(s: SmaSeries) -> pd.DataFrame:
    m = s.summary()
    return pd.DataFrame({
        "model": m["model"], "kind": m["family"], "MAE (widths)": [_w(x) for x in m["mae_widths"]],
        "MAE (% of SQ)": [f"{x:.1f}" if np.isfinite(x) else "-" for x in m["mae_pct_sq"]],
        "dir": [_pct(x) for x in m["direction_hit_rate"]], "N": m["n"],
        "MAE all (widths)": [_w(x) for x in m["mae_widths_all"]], "N all": m["n_all"],
    })


# -- figures ---------------------------------------------------------------------------------


def hindcast_figure(h: Hindcast) -> go.Figure:
    """MAE (top) and direction hit rate (bottom) per snapshot and horizon: every unfitted
    model as a marker, the baselines as lines."""
    summ = h.summary()
    summ = summ[summ["family"] != "fitted"]
    cells = list(dict.fromkeys(zip(summ["snapshot"], summ["horizon"], strict=True)))
    labels = [f"{short(a)} +{b}" for a, b in cells]
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=("Mean absolute error (scale widths; lower is better)",
                                        "Direction hit rate (higher is better)"))
    for model, g in summ.groupby("model", sort=False):
        g = g.set_index(["snapshot", "horizon"]).reindex(cells)
        base = model in COLORS
        style: dict[str, Any] = (
            {"mode": "lines+markers", "line": {"color": COLORS[model], "width": 3,
                                               "dash": "solid" if model == "status-quo"
                                               else "dash"}, "marker": {"size": 9}}
            if base else {"mode": "markers", "marker": {"size": 8, "opacity": 0.75,
                                                        "symbol": "diamond" if
                                                        model.startswith("dyn:") else "circle"}})
        for row, col in ((1, "mae_widths"), (2, "direction_hit_rate")):
            fig.add_trace(go.Scatter(x=labels, y=g[col].to_numpy(float), name=model,
                                     legendgroup=model, showlegend=row == 1, **style),
                          row=row, col=1)
    fig.update_yaxes(title_text="MAE (widths)", rangemode="tozero", row=1, col=1)
    fig.update_yaxes(title_text="hit rate", range=[0, 1.02], tickformat=".0%", row=2, col=1)
    fig.update_layout(height=640, margin={"l": 60, "r": 20, "t": 40, "b": 40},
                      template="plotly_white", legend={"font": {"size": 11}})
    return fig


def sma_figure(s: SmaSeries) -> go.Figure:
    """Each agreement on its own scale (0 = the lowest opening position, 1 = the highest):
    the status quo, the ROK offer, the US ask, the outcome, and every engine's forecast."""
    rows = s.rows
    fig = go.Figure()
    label = {c.number: f"SMA {c.number} ({c.first_year})" + ("" if c.headline else "*")
             for c in s.cases}
    x = [label[c.number] for c in s.cases]

    def pos(v: float, c: Any) -> float:
        return (v - c.lower) / c.width

    for name, attr, sym in (("status quo", "status_quo", "square-open"),
                            ("ROK offer", "rok_offer", "triangle-down"),
                            ("US ask", "us_ask", "triangle-up"),
                            ("outcome", "outcome", "star")):
        fig.add_trace(go.Scatter(
            x=x, y=[pos(getattr(c, attr), c) for c in s.cases], name=name, mode="markers",
            marker={"symbol": sym, "size": 16 if name == "outcome" else 11,
                    "line": {"width": 2}, "color": "#111111" if name == "outcome" else None}))
    for model, g in rows[rows["family"] == "model"].groupby("model", sort=False):
        by = {int(n): float(f) for n, f in zip(g["number"], g["forecast"], strict=True)}
        fig.add_trace(go.Scatter(
            x=x, y=[pos(by.get(c.number, np.nan), c) for c in s.cases], name=model,
            mode="markers", marker={"size": 8, "opacity": 0.7}))
    fig.update_layout(
        height=420, template="plotly_white", margin={"l": 60, "r": 20, "t": 30, "b": 40},
        yaxis_title="position on the agreement's scale (widths)",
        title={"text": "* ROK offer not public: assumed freeze (not in the headline scores)",
               "font": {"size": 12}})
    return fig


# -- HTML ------------------------------------------------------------------------------------


def _ul(items: list[str]) -> str:
    return "<ul class=\"headlines\">" + "".join(f"<li>{escape(t)}</li>" for t in items) + "</ul>"


def _snapshot_html(h: Hindcast, prefix: str) -> str:
    snaps = ", ".join(f"{s.name} ({s.date}; horizons "
                      f"{', '.join(f'+{x}' for x in s.horizons)})" for s in h.snapshots)
    parts = [
        f'<section id="{prefix}-snapshots"><h2>The alliance snapshots</h2>',
        f'<p class="lead">Snapshots: {escape(snaps)}. Each forecast is scored per issue and '
        "horizon against <code>data/hindcast/outcomes.csv</code>; the same forecast at every "
        "horizon (the engines have no clock; the dynamics are scored at their final round).</p>",
        '<div class="how"><b>Metrics.</b> MAE: mean |forecast - realised| in scale widths. '
        "Direction: the sign of forecast - status quo against the sign of realised - status "
        f"quo, each 'no change' within {100 * h.band:g}% of the scale width (the same band for "
        "models and baselines). Interval: the realised judgement range [low, high] contains "
        "the forecast (rows with a range only). Status quo: the "
        + ("horizon-0 row of the outcome table" if h.reference == "outcomes"
           else "case's own status quo")
        + ". Trend: the change per year from the previous snapshot's horizon-0 value (first "
        "snapshot: the data sets 5 years earlier, for troops, SIPRI and the SMA), continued and "
        "clipped to the scale; undefined (not scored) where no earlier value exists.</div>",
        "<h3>Per snapshot and horizon: the best model against the baselines</h3>",
        table_html(best_view(h), numeric=("MAE", "dir", "SQ MAE", "SQ dir", "trend MAE",
                                          "trend dir", "trend N")),
        fig_html(hindcast_figure(h), f"{prefix}-mae"),
        "<h3>Per issue, all snapshots and horizons pooled</h3>",
        table_html(issue_view(h), numeric=("SQ MAE", "SQ dir", "trend MAE", "its MAE",
                                           "its dir", "models dir (range)")),
        "<h3>Per model, all snapshots and horizons pooled</h3>",
        '<div class="how">cells &lt; SQ: the snapshot-horizon cells where the model\'s MAE is '
        "below the status quo's. lam: rows are the partial-adjustment variants fitted leave "
        "one snapshot out (see docs/hindcast.md).</div>",
        '<div class="scroll">' + table_html(pooled_view(h), numeric=(
            "MAE", "dir", "interval", "N")) + "</div>",
    ]
    if h.lambdas is not None:
        lam = h.lambdas.copy()
        lam["train_mae_widths"] = lam["train_mae_widths"].map(_w)
        parts += ["<h3>Fitted lambdas (leave one snapshot out)</h3>",
                  '<div class="scroll" style="max-height:300px">' + table_html(lam) + "</div>"]
    parts.append("</section>")
    return "".join(parts)


def _sma_html(s: SmaSeries, prefix: str) -> str:
    w = s.manifest()
    actors = "; ".join(f"{a}: capability {c:g}, salience {sal:g}" for a, c, sal in
                       zip(ACTORS, w["capability"], w["salience"], strict=True))
    excluded = ", ".join(f"SMA {n} ({r})" for n, r in s.excluded) or "none"
    return "".join([
        f'<section id="{prefix}-sma"><h2>Cost sharing: the Special Measures Agreements</h2>',
        '<p class="lead">Each SMA with a public US ask is a one-issue case built from '
        "<code>data/sma/sma_agreements.csv</code>: the US executive at the ask, the ROK "
        "government at its offer, the National Assembly (the ratifier) at the status quo (the "
        f"previous agreement's final-year amount). Weights ({escape(s.weights)}, the same for "
        f"every agreement, never fitted): {escape(actors)}. Scored as the DEU III backtest: MAE "
        "in scale widths (the scale runs between the extreme opening positions), against the "
        "status quo and splitting the difference.</p>",
        table_html(sma_summary_view(s), numeric=("MAE (widths)", "MAE (% of SQ)", "dir", "N",
                                                "MAE all (widths)", "N all")),
        fig_html(sma_figure(s), f"{prefix}-sma"),
        '<div class="scroll">' + table_html(sma_case_view(s)) + "</div>",
        f'<p class="lead">Not cases: {escape(excluded)}.</p></section>',
    ])


def section_html(h: Hindcast | None, s: SmaSeries | None, *, prefix: str = "hindcast") -> str:
    """The hindcast as HTML sections (for a page that has plotly.js once)."""
    parts = [f'<section id="{prefix}-reading"><h2>Does a model beat "nothing changes"?</h2>',
             _ul(reading(h, s)), "</section>"]
    if h is not None:
        parts.append(_snapshot_html(h, prefix))
    if s is not None:
        parts.append(_sma_html(s, prefix))
    return "".join(parts)


def _load(name: str) -> str:
    if name == "hindcast.html.j2":
        return PAGE
    return (resources.files("alliancelab.report") / "templates" / name).read_text("utf-8")


def render(h: Hindcast | None, s: SmaSeries | None, *, command: str | None = None,
           created: datetime | None = None, version: str = "") -> str:
    """The standalone page (the main report's template and look; opens offline)."""
    created = created or datetime.now(UTC)
    prefix = "hindcast"
    toc = [(f"{prefix}-reading", "Reading")]
    chips = []
    if h is not None:
        toc.append((f"{prefix}-snapshots", "Snapshots"))
        chips += [f"snapshots: {', '.join(x.name for x in h.snapshots)}",
                  f"dead band {100 * h.band:g}%", f"status quo: {h.reference}",
                  f"seed {h.seed}"]
    if s is not None:
        toc.append((f"{prefix}-sma", "SMA series"))
        chips.append(f"SMA cases: {len(s.cases)}")
    toc.append((f"{prefix}-provenance", "This report"))
    env = jinja2.Environment(loader=jinja2.FunctionLoader(_load), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    ctx = {
        "title": "alliancelab hindcast", "version": version, "plotly_js": get_plotlyjs(),
        "toc": toc, "chips": chips, "prefix": prefix, "body": section_html(h, s, prefix=prefix),
        "provenance": [("command", command or "(Python API)"),
                       ("created", created.strftime("%Y-%m-%d %H:%M:%S UTC"))],
    }
    return str(env.get_template("hindcast.html.j2").render(**ctx))


def write_report(path: str | Path, h: Hindcast | None, s: SmaSeries | None, *,
                 command: str | None = None, version: str = "") -> Path:
    """Write :func:`render`'s page to ``path`` atomically."""
    atomic_write_text(path, render(h, s, command=command, version=version))
    return Path(path)
