"""The HTML report of an exploration, and the Exploration section of the ``alliancelab run``
report.

* :func:`analyse` reads an :class:`~alliancelab.explore.Exploration` (finished or not) once
  and keeps every number the report shows in memory: the manifest, the outcome distributions
  per policy, the failed experiments, the Sobol or Morris indices of the outcome of interest
  (with their confidence intervals) and a Morris screening of every outcome, PRIM boxes for
  the outcome of interest with the coverage-density trade-off, and the regret of the levers
  (the most robust one and the futures where it fails).
* :func:`section_html` turns that into HTML (the page's own section template), reusing the
  tables, figures and look of the main report (:mod:`.html`); :func:`render` makes it a
  self-contained page (the main report's template, plotly.js inlined once);
  :func:`write_report` writes the page atomically (:mod:`alliancelab.core.io`).

What cannot be computed (Sobol/Morris indices of an LHS exploration or of an unfinished one,
regret without levers) is stated in the report rather than failing it; a bad outcome name
or threshold the user asked for is an :class:`~alliancelab.core.errors.AllianceLabError` before
anything is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..core.errors import AllianceLabError
from ..core.io import atomic_write_text
from .html import fig_html, num, table_html

#: rows of the sensitivity table and of the screening heatmap.
TOP = 20
#: outcomes screened at most (one SALib analysis each).
MAX_SCREENED = 48


@dataclass(frozen=True)
class ExplorationAnalysis:
    """Everything the report shows of one exploration, computed (no store access left)."""

    manifest: dict[str, Any]
    store: str
    n_stored: int
    n_failed: int
    n_experiments: int
    outcome: str
    sense: str
    summary: pd.DataFrame
    failures: pd.DataFrame
    sensitivity: pd.DataFrame | None
    sensitivity_method: str
    sensitivity_note: str
    sensitivity_manifest: dict[str, Any] | None
    screening: pd.DataFrame | None
    prim: Any | None
    prim_label: str
    prim_box: int
    prim_note: str
    robustness: Any | None
    robust_overview: pd.DataFrame | None
    robust_note: str

    @property
    def complete(self) -> bool:
        return self.n_stored == self.n_experiments


def analyse(ex: Any, *, outcome: str | None = None, sense: str = "max",
            threshold: float | None = None, direction: str | None = None,
            prim_outcome: str | None = None, screening: Any | None = None,
            min_coverage: float = 0.5) -> ExplorationAnalysis:
    """Compute the report of exploration ``ex`` for ``outcome`` (default: its first).

    ``sense`` says whether more of the outcome is better (``"max"``) or worse (``"min"``),
    for the regret of the levers. PRIM describes the experiments with the outcome
    ``direction`` ``threshold``; by default the bad quartile (below the lower quartile when
    more is better, above the upper one otherwise) under the policy ``none``, for
    ``prim_outcome`` (default ``outcome``). ``screening``
    is another exploration of the same case sampled with ``sobol`` or ``morris`` whose
    indices are shown when ``ex`` itself cannot give them (the main run does so)."""
    outcome = ex.check_outcome(outcome or ex.outcomes[0])
    prim_outcome = ex.check_outcome(prim_outcome or outcome)
    if sense not in ("max", "min"):
        raise AllianceLabError(f"sense must be 'max' or 'min', got {sense!r}", field="sense")
    user_prim = threshold is not None
    if direction is None:
        direction = "below" if sense == "max" else "above"
    ex._check_direction(direction)

    summary = ex.summary()
    failures = _failure_groups(ex.failures())

    # -- sensitivity -------------------------------------------------------------------
    src = ex if ex.manifest["sampler"] in ("sobol", "morris") or screening is None \
        else screening
    method = str(src.manifest["sampler"])
    sens = screen = None
    sens_note = ""
    if method not in ("sobol", "morris"):
        sens_note = (f"Sobol and Morris indices need a design made for them: this exploration "
                     f"was sampled with {method}. Run alliancelab explore with --sampler "
                     f"sobol (first- and total-order indices) or --sampler morris "
                     f"(elementary effects).")
    elif outcome not in src.outcomes:
        sens_note = f"The screening exploration has no outcome {outcome}."
    else:
        try:
            sens = src.sensitivity(outcome)
            if method == "morris":
                screen = _screening(src)
        except AllianceLabError as exc:
            sens_note = f"Indices not computed: {exc.message}"

    # -- scenario discovery ------------------------------------------------------------
    prim = None
    prim_box = 0
    prim_note = ""
    op = ">" if direction == "above" else "<"
    label = f"{prim_outcome} {op} {threshold:.6g}" if user_prim else ""
    try:
        t = float(threshold) if threshold is not None else ex.default_threshold(
            prim_outcome, direction)
        label = f"{prim_outcome} {op} {num(t)}"
        prim = ex.prim(prim_outcome, t, direction=direction)
        prim_box = prim.select(min_coverage)
    except AllianceLabError as exc:
        if user_prim:
            raise
        prim_note = f"No PRIM boxes: {exc.message}"

    # -- robustness --------------------------------------------------------------------
    rb = overview = None
    rob_note = ""
    if len(ex.policies) < 2:
        rob_note = ("No levers to compare: run alliancelab explore with --lever NAME (or "
                    "--lever all) to compare policies by regret.")
    else:
        try:
            rb = ex.robustness(outcome, sense=sense)
            overview = _robust_overview(ex)
        except AllianceLabError as exc:
            rob_note = f"Regret not computed: {exc.message}"

    return ExplorationAnalysis(
        manifest=dict(ex.manifest), store=str(ex.directory), n_stored=int(ex.n_stored),
        n_failed=int(ex.n_failed), n_experiments=int(ex.n_experiments), outcome=outcome,
        sense=sense, summary=summary, failures=failures, sensitivity=sens,
        sensitivity_method=method, sensitivity_note=sens_note,
        sensitivity_manifest=None if src is ex else dict(src.manifest), screening=screen,
        prim=prim, prim_label=label, prim_box=prim_box, prim_note=prim_note,
        robustness=rb, robust_overview=overview, robust_note=rob_note)


def _failure_groups(f: pd.DataFrame) -> pd.DataFrame:
    """Failed experiments grouped by error: error, count, the first experiment ids."""
    if f.empty:
        return pd.DataFrame(columns=["error", "experiments", "first ids"])
    g = f.groupby("error", sort=False)["experiment_id"]
    out = pd.DataFrame({"experiments": g.size(),
                        "first ids": g.apply(lambda s: ", ".join(map(str, s.head(5))))})
    return out.reset_index().sort_values("experiments", ascending=False, kind="stable")


def _screening(ex: Any) -> pd.DataFrame | None:
    """Morris ``mu*`` (``SALib.analyze.morris``, as :func:`~alliancelab.analysis.sensitivity.
    morris_indices`) of every outcome under the policy ``none``, each divided by its largest:
    the parameters that matter most anywhere (rows, at most :data:`TOP`) by outcome
    (columns). The store is read once for all outcomes; ``None`` unless every experiment
    of the policy succeeded."""
    from SALib.analyze import morris

    from ..analysis.sensitivity import _params
    from ..explore.samplers import MORRIS_LEVELS, salib_problem

    outcomes = ex.outcomes[:MAX_SCREENED]
    res = ex.results(["scenario", "policy", "ok", *outcomes])
    res = res[res["policy"] == "none"].sort_values("scenario")
    if not outcomes or len(res) != ex.manifest["n_scenarios"] or not res["ok"].all():
        return None
    params = _params(ex)
    problem = salib_problem(params)
    X = ex.design()
    cols = {}
    for o in outcomes:
        si = morris.analyze(problem, X, res[o].to_numpy(dtype=float),
                            num_levels=MORRIS_LEVELS, seed=0)
        mu = pd.Series(np.asarray(si["mu_star"], dtype=float), index=[p.name for p in params])
        top = float(mu.max())
        cols[o] = mu / top if top > 0 else mu * 0.0
    df = pd.DataFrame(cols)
    keep = df.max(axis=1).sort_values(ascending=False).head(TOP).index
    return df.loc[keep]


def _robust_overview(ex: Any) -> pd.DataFrame:
    """For every outcome, the minimax-regret policy when more is better and when less is
    (the regret of :func:`~alliancelab.analysis.robustness.regret_table`, over the scenarios
    where every policy succeeded; the store is read once for all outcomes)."""
    res = ex.results(["scenario", "policy", "ok", *ex.outcomes])
    okw = res.pivot(index="scenario", columns="policy", values="ok")
    full = okw.fillna(False).astype(bool).all(axis=1)
    policies = [p for p in ex.policies if p in okw.columns]
    rows = []
    for o in ex.outcomes:
        wide = res.pivot(index="scenario", columns="policy", values=o)[full].dropna()
        wide = wide[policies]
        row: dict[str, Any] = {"outcome": o}
        for sense, what in (("max", "more is better"), ("min", "less is better")):
            u = wide if sense == "max" else -wide
            R = u.max(axis=1).to_numpy()[:, None] - u
            if R.empty:
                row[f"{what}: most robust"], row[f"{what}: max regret"] = "", np.nan
                continue
            worst = R.max()
            low = float(worst.min())
            tied = [str(c) for c in worst.index if worst[c] <= low + 1e-9 * max(1.0, abs(low))]
            row[f"{what}: most robust"] = (
                "all tie (no lever moves it)" if len(tied) == len(worst)
                else tied[0] if len(tied) == 1 else "tie: " + ", ".join(tied))
            row[f"{what}: max regret"] = low
        rows.append(row)
    return pd.DataFrame(rows)


# -- figures -------------------------------------------------------------------------------


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
            boxpoints=False, marker_color="#1f4e8c"))
    shown = [tr.name for tr in fig.data]
    if len(shown) > 1:
        fig.update_layout(updatemenus=[{
            "buttons": [{"label": o, "method": "update",
                         "args": [{"visible": [j == i for j in range(len(shown))]},
                                  {"yaxis.title.text": o}]}
                        for i, o in enumerate(shown)],
            "x": 0, "xanchor": "left", "y": 1.18, "yanchor": "top", "direction": "down",
        }])
    fig.update_layout(height=430, margin={"t": 80}, yaxis_title=shown[0] if shown else "",
                      xaxis_title="policy", showlegend=False)
    return fig


def screening_figure(screen: pd.DataFrame | None) -> go.Figure | None:
    """Heatmap: Morris ``mu*`` relative to the largest for each outcome."""
    if screen is None or screen.empty:
        return None
    fig = go.Figure(go.Heatmap(
        z=screen.to_numpy(), x=list(screen.columns), y=list(screen.index),
        colorscale="Blues", zmin=0, zmax=1, colorbar={"title": "mu* / max"},
        hovertemplate="%{y}<br>%{x}: %{z:.2f}<extra></extra>"))
    fig.update_layout(height=max(320, 24 * len(screen) + 160), margin={"l": 360, "b": 160},
                      yaxis={"autorange": "reversed"}, xaxis_tickangle=-40)
    return fig


def prim_figure(prim: Any, box: int, label: str) -> go.Figure:
    """The coverage-density trade-off of the peeling trajectory, the chosen box starred."""
    from ..analysis.discovery import tradeoff_plot

    fig: go.Figure = tradeoff_plot(prim, title=f"PRIM: {label}")  # type: ignore[assignment]
    b = prim.boxes[box]
    fig.add_scatter(x=[b.coverage], y=[b.density], mode="markers", name=f"box {box}",
                    marker={"symbol": "star", "size": 18, "color": "#cb181d"},
                    hovertemplate=f"chosen box {box}<extra></extra>")
    fig.update_layout(showlegend=False, height=430)
    return fig


def regret_figure(regret: pd.DataFrame) -> go.Figure:
    """Box plots of each policy's regret over the scenarios (quantiles, 5-95% whiskers)."""
    q = regret.quantile([0.05, 0.25, 0.5, 0.75, 0.95])
    fig = go.Figure(go.Box(
        x=list(regret.columns), q1=q.loc[0.25], median=q.loc[0.5], q3=q.loc[0.75],
        lowerfence=q.loc[0.05], upperfence=q.loc[0.95], mean=regret.mean(),
        boxpoints=False, marker_color="#cb181d", name="regret"))
    fig.add_scatter(x=list(regret.columns), y=regret.max(), mode="markers", name="max regret",
                    marker={"symbol": "x", "size": 10, "color": "#14213d"})
    fig.update_layout(height=400, yaxis_title="regret", xaxis_title="policy",
                      showlegend=True)
    return fig


# -- HTML ----------------------------------------------------------------------------------


def _env() -> Any:
    import jinja2

    from .html import _template

    return jinja2.Environment(loader=jinja2.FunctionLoader(_template), autoescape=True,
                              undefined=jinja2.StrictUndefined)


def _sens_table(idx: pd.DataFrame, conf_level: float = 0.95) -> pd.DataFrame:
    pct = f"{round(100 * conf_level)}%"
    df = idx.head(TOP).reset_index()
    if "ST" in df:
        out = pd.DataFrame({
            "parameter": df["parameter"],
            "S1 (first order)": df["S1"],
            f"S1 {pct} interval": [f"{a - c:.3f} to {a + c:.3f}"
                                   for a, c in zip(df["S1"], df["S1_conf"], strict=True)],
            "ST (total order)": df["ST"],
            f"ST {pct} interval": [f"{a - c:.3f} to {a + c:.3f}"
                                   for a, c in zip(df["ST"], df["ST_conf"], strict=True)],
        })
    else:
        out = pd.DataFrame({
            "parameter": df["parameter"],
            "mu* (mean |effect|)": df["mu_star"],
            f"mu* {pct} interval": [f"{num(a - c)} to {num(a + c)}"
                                    for a, c in zip(df["mu_star"], df["mu_star_conf"],
                                                    strict=True)],
            "mu (mean effect)": df["mu"],
            "sigma": df["sigma"],
        })
    return out


def _manifest_items(m: dict[str, Any], a: ExplorationAnalysis | None = None,
                    store: str = "") -> list[tuple[str, str]]:
    items = [
        ("case", str(m.get("case_name", ""))),
        ("case SHA-256", str(m.get("case_hash", ""))),
        ("sampler", str(m.get("sampler", ""))),
        ("n (samples asked for)", str(m.get("n", ""))),
        ("scenarios", f"{m.get('n_scenarios', 0):,}"),
        ("policies", ", ".join(p["name"] for p in m.get("policies", []))),
        ("experiments", f"{m.get('n_experiments', 0):,}"),
        ("uncertainties", str(len(m.get("parameters", [])))),
        ("shocks sampled on/off", ", ".join(m.get("shocks", [])) or "none"),
        ("models", ", ".join(m.get("models", []))),
        ("BDM rounds", str(m.get("rounds", ""))),
        ("seed", "fresh entropy" if m.get("seed") is None else str(m.get("seed"))),
        ("seed entropy", str(m.get("entropy", ""))),
        ("seed scheme", str(m.get("seeds", ""))),
        ("created", str(m.get("created", ""))),
    ]
    if a is not None:
        items.insert(7, ("experiments stored", f"{a.n_stored:,} ({a.n_failed:,} failed)"))
    if store:
        items.append(("store", store))
    items += [(f"version: {k}", str(v)) for k, v in sorted(m.get("versions", {}).items())]
    return items


def section_html(a: ExplorationAnalysis, *, standalone: bool, prefix: str = "explore",
                 intro: str = "") -> str:
    """The exploration's parts as HTML: ``<section>``s of their own for the standalone page,
    sub-parts of one section for the main report. Element ids start with ``prefix``."""
    m = a.manifest
    pct = 100.0 * a.n_stored / a.n_experiments if a.n_experiments else 0.0
    status = (f"{a.n_stored:,} of {a.n_experiments:,} experiments stored ({pct:.1f}%), "
              f"{a.n_failed:,} failed, {a.n_stored - a.n_failed:,} successful.")
    params = pd.DataFrame(m.get("parameters", []))
    if not params.empty:
        params = params[["name", "low", "high", "default", "boolean"]].rename(
            columns={"name": "uncertainty", "boolean": "on/off"})
    sens = a.sensitivity
    rb = a.robustness
    prim = a.prim
    fail_table = fail_limits = ""
    if rb is not None and not rb.failures.empty:
        cols = (list(rb.failure_box.limits(rb.failure_box.select(0.5)).index)
                if rb.failure_box is not None else [])
        view = rb.failures[[*cols[:6], "regret"]].head(10).reset_index()
        fail_table = table_html(view)
        if rb.failure_box is not None:
            b = rb.failure_box.select(0.5)
            fail_limits = table_html(rb.failure_box.limits(b).reset_index())
    fbox = None
    if rb is not None and rb.failure_box is not None:
        fbox = rb.failure_box.boxes[rb.failure_box.select(0.5)]
    quant = a.summary.copy()
    ctx = {
        "standalone": standalone,
        "p": prefix,
        "intro": intro,
        "a": a,
        "m": m,
        "status": status,
        "incomplete": not a.complete,
        "failures_table": table_html(a.failures) if not a.failures.empty else "",
        "manifest_items": _manifest_items(m, a, a.store if standalone else ""),
        "sens_manifest_items": (_manifest_items(a.sensitivity_manifest)
                                if a.sensitivity_manifest else []),
        "params_table": table_html(params) if not params.empty else "",
        "n_params": len(params),
        "fig_dist": fig_html(distribution_figure(a.summary, m["outcomes"], a.outcome),
                             f"{prefix}-dist"),
        "summary_table": table_html(quant),
        "sens_method": a.sensitivity_method,
        "sens_table": table_html(_sens_table(sens)) if sens is not None else "",
        "fig_tornado": "" if sens is None else fig_html(_tornado(sens, a), f"{prefix}-tornado"),
        "fig_screen": fig_html(screening_figure(a.screening), f"{prefix}-screen"),
        "prim_box": prim.boxes[a.prim_box] if prim is not None else None,
        "prim_limits": (table_html(prim.limits(a.prim_box).reset_index())
                        if prim is not None else ""),
        "prim_trajectory": table_html(prim.trajectory()) if prim is not None else "",
        "fig_prim": (fig_html(prim_figure(prim, a.prim_box, a.prim_label), f"{prefix}-prim")
                     if prim is not None else ""),
        "rb": rb,
        "rb_table": table_html(rb.summary.reset_index()) if rb is not None else "",
        "rb_best_row": rb.summary.loc[rb.most_robust] if rb is not None else None,
        "fig_regret": fig_html(regret_figure(rb.regret), f"{prefix}-regret")
        if rb is not None else "",
        "fail_table": fail_table,
        "fail_limits": fail_limits,
        "fail_box": fbox,
        "n_fail_scenarios": 0 if rb is None else len(rb.failures),
        "n_regret_scenarios": 0 if rb is None else len(rb.regret),
        "overview_table": (table_html(a.robust_overview) if a.robust_overview is not None
                           else ""),
        "sense_text": "more is better" if a.sense == "max" else "less is better",
        "num": num,
    }
    return str(_env().get_template("explore_section.html.j2").render(**ctx))


def _tornado(sens: pd.DataFrame, a: ExplorationAnalysis) -> go.Figure:
    from ..analysis.sensitivity import tornado

    fig: go.Figure = tornado(sens, title=f"{a.outcome}: {a.sensitivity_method} indices")  # type: ignore[assignment]
    return fig


def render(a: ExplorationAnalysis, *, command: str | None = None,
           created: datetime | None = None) -> str:
    """The standalone report page: the main report's template and look, plotly.js inlined
    once, every chart and table inline (opens offline)."""
    from plotly.offline import get_plotlyjs

    m = a.manifest
    created = created or datetime.now(UTC)
    parts = [("status", "Status"), ("manifest", "Manifest"),
             ("distributions", "Outcomes"), ("sensitivity", "Sensitivity"),
             ("discovery", "Scenario discovery"), ("robustness", "Robust options")]
    body = section_html(a, standalone=True, prefix="explore")
    ctx = {
        "title": f"alliancelab exploration: {m.get('case_name', '')}",
        "version": m.get("versions", {}).get("alliancelab", ""),
        "plotly_js": get_plotlyjs(),
        "a": a,
        "m": m,
        "toc": [(f"explore-{k}", v) for k, v in parts],
        "body": body,
        "command": command or "(Python API)",
        "created": created.strftime("%Y-%m-%d %H:%M:%S UTC"),
    }
    return str(_env().get_template("explore.html.j2").render(**ctx))


def write_report(ex: Any, path: str | Path, *, outcome: str | None = None,
                 sense: str = "max", threshold: float | None = None,
                 direction: str | None = None, prim_outcome: str | None = None,
                 command: str | None = None) -> Path:
    """Analyse ``ex`` (:func:`analyse`) and write its report to ``path`` atomically;
    returns the path. Nothing is written when the analysis raises."""
    target = Path(path)
    if target.is_dir():
        raise AllianceLabError(f"{target} is a directory; give a file name", field="report")
    page = render(analyse(ex, outcome=outcome, sense=sense, threshold=threshold,
                          direction=direction, prim_outcome=prim_outcome), command=command)
    atomic_write_text(target, page)
    return target


# -- the section of the main report --------------------------------------------------------


def run_section(results: Any) -> str:
    """The Exploration section of the ``alliancelab run`` report (a note when the run
    skipped it)."""
    a = getattr(results, "exploration", None)
    skipped = next((n for n in getattr(results, "notes", []) if n.startswith("exploration")),
                   None)
    if a is None and skipped:
        return f'<div class="note">{escape(skipped[0].upper() + skipped[1:])}.</div>'
    if a is None:
        return ('<div class="note">No exploration in this run (<code>--explore-n 0</code>). '
                "Run <code>alliancelab run CASE --explore-n 300</code> for a built-in sweep "
                "over the case's ranges, shocks and levers, or <code>alliancelab explore"
                "</code> for a large one.</div>")
    m = a.manifest
    sm = a.sensitivity_manifest or {}
    intro = (
        f"Many variants of the case at once: {m['n_scenarios']:,} Latin-hypercube scenarios "
        f"over the {len(m['parameters'])} uncertainties of the case (every number with a "
        f"range, drawn uniformly on it"
        + (f", and the shocks {', '.join(m['shocks'])} switched on or off at random"
           if m["shocks"] else "")
        + f"), each under {len(m['policies'])} policies (no lever, and each lever alone): "
        f"{m['n_experiments']:,} experiments of the {', '.join(m['models'])} model"
        + (f"; plus a Morris screening of {sm.get('n', 0)} trajectories "
           f"({sm.get('n_experiments', 0):,} experiments) for the sensitivity indices"
           if sm else "")
        + f". The outcome of interest is {a.outcome} "
        f"({'more is better' if a.sense == 'max' else 'less is better'}); change it with "
        f"--explore-outcome and --explore-sense, and the size with --explore-n. For larger "
        f"sweeps, other samplers and the BDM engine use alliancelab explore."
    )
    return section_html(a, standalone=False, prefix="explore", intro=intro)
