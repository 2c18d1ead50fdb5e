"""Assemble the self-contained HTML report of ``alliancelab run``.

One file: the plotly.js bundle is inlined once in ``<head>``, every chart is a ``<div>`` with
its data inline, tables are plain HTML; nothing is fetched from the network, so the file
opens offline and can be mailed to a colleague as it is.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Any

import jinja2
import numpy as np
import pandas as pd
from plotly.offline import get_plotlyjs

from ..core import units
from ..execution import Evaluator
from . import figures as F
from .explore import run_section as explore_section
from .findings import findings, headline_rows, plugin_info
from .summary import kpis as _kpis
from .summary import summary_table
from .summary import summary_text as _summary_text
from .widgets import fig_html, num, table_html
from .widgets import template as _template

DISTRIBUTION_TEXT = {
    "triangular": "triangular on the stated range with its mode at the stated value",
    "uniform": "uniform on the stated range",
    "pert": "beta-PERT on the stated range with its mode at the stated value",
    "truncnorm": "normal at the stated value, the range as its 95% interval, truncated to it",
}
DISTRIBUTION_LONG = {
    "triangular": (
        "Each number with a range [low, high] in the case was drawn from the triangular "
        "distribution on [low, high] whose mode is the number as stated: the analyst's best "
        "guess stays the most likely value and the range bounds what is plausible. Numbers "
        "without a range were held at their stated value. Draws are clipped to the field's "
        "domain (positions to the issue's scale, saliences and perceptions to 0-1)."
    ),
    "uniform": (
        "Each number with a range [low, high] in the case was drawn uniformly on [low, high]; "
        "numbers without a range were held at their stated value. Draws are clipped to the "
        "field's domain (positions to the issue's scale, saliences and perceptions to 0-1)."
    ),
    "pert": (
        "Each number with a range [low, high] in the case was drawn from the beta-PERT "
        "distribution on [low, high] whose mode is the number as stated (shape weight 4): "
        "like the triangular, but with more of the mass near the best guess. Numbers without "
        "a range were held at their stated value. Draws are clipped to the field's domain."
    ),
    "truncnorm": (
        "Each number with a range [low, high] in the case was drawn from a normal "
        "distribution centred on the number as stated, with [low, high] as its 95% interval "
        "(sigma = (high - low) / 3.92), truncated to [low, high]. Numbers without a range "
        "were held at their stated value. Draws are clipped to the field's domain."
    ),
}


def _band(p5: float, p50: float, p95: float) -> str:
    if not np.isfinite(p50):
        return "n/a"
    return f"{num(p50)} [{num(p5)}, {num(p95)}]"


def colour_note(case: Any) -> str:
    """How the actors are coloured, from the case's groups (HTML-escaped)."""
    groups = list(dict.fromkeys(a.group for a in case.actors if a.group))
    if not groups:
        return "Each actor has its own colour, line dash and marker."
    named = [escape(case.groups[g].label if g in case.groups and case.groups[g].label else g)
             for g in groups]
    return ("Colours: one hue per group of actors (" + ", ".join(named) + "), a darker or "
            "lighter shade, a line dash and a marker per member; chosen to stay distinct "
            "for colour-blind readers.")


def _caption_trajectory(source: str, results: Any) -> str:
    colours = colour_note(results.case)
    if source == "dynamics":
        return (
            "<b>How to read:</b> one panel per issue; each line is an actor's ideal position "
            "per round of the perception dynamics, moved by its perceptions (threats, the "
            "partner's reliability) through the case's links; the dashed black line is the "
            f"bargained outcome per round. {colours}"
        )
    return (
        f"<b>How to read:</b> one panel per issue; each line is an actor's position in each "
        f"round of the <b>{source}</b> engine (round 0 = the case as stated). Converging lines "
        f"mean the engine predicts concessions; a flat line, an actor that holds its position. "
        f"{colours}"
    )


#: the kinds of effect map; all maps of one kind share one colour range (metrics per kind)
EFFECT_KINDS = {"issue": ("forecast", "dynamics outcome"), "indicator": ("indicator",),
                "gap": ("gap: threat", "gap: reliability", "gap: issue")}


def _kind_of(metric: str | tuple[str, ...]) -> str:
    first = metric if isinstance(metric, str) else metric[0]
    return next(k for k, ms in EFFECT_KINDS.items() if first in ms)


def _effect_figs(results: Any) -> list[dict[str, str]]:
    e = results.effects
    if e.empty:
        return []
    out = []
    zmax = {k: F.effect_zmax(results, ms) for k, ms in EFFECT_KINDS.items()}
    a, b = results.case.sides or ("the first side", "the second side")
    specs: list[tuple[str | tuple[str, ...], str, str, str]] = []
    for m in results.models:
        specs.append(("forecast", m, f"Effect on the {m} forecast",
                      f"change of the <b>{m}</b> forecast per issue"))
    specs += [
        ("dynamics outcome", "compromise", "Effect on the outcome after the perception dynamics",
         "change of the outcome per issue after the rounds of the perception dynamics"),
        ("indicator", "compromise", "Effect on the dynamics indicators",
         "change of each named indicator at the last round of the dynamics"),
        (("gap: threat", "gap: reliability"), "",
         "Effect on the perception gap: threats and the partner's reliability",
         f"change of the {b}-minus-{a} gap in perceived threat and in the perceived "
         "reliability of the partner (0-1)"),
        ("gap: issue", "", "Effect on the perception gap: issue positions",
         f"change of the {b}-minus-{a} gap in positions (scale widths)"),
    ]
    for k, (metric, model, title, what) in enumerate(specs):
        if metric in ("dynamics outcome", "indicator"):
            hit = e[e["metric"] == metric]["model"]
            model = str(hit.iloc[0]) if len(hit) else model
        fig = F.effect_heatmap(results, metric, model, zmax=zmax[_kind_of(metric)])
        if fig is None:
            continue
        unit = ("the colour and the number are the change in % of the issue's scale; hover for "
                "the change in the issue's units and its 5-95% band"
                if metric in ("forecast", "dynamics outcome")
                else "the colour and the number are the change; hover for its 5-95% band")
        caption = (f"<b>How to read:</b> rows = shocks and levers (each alone"
                   f"{', and the chosen combination' if len(results.interventions) > 1 else ''}),"
                   f" columns = items; the cell is the {what} against the baseline: {unit}. "
                   f"Orange: up, purple: down; blank: no change. Every map of this kind "
                   f"shares one colour range (up to {num(zmax[_kind_of(metric)])}"
                   f"{'% of the scale' if _kind_of(metric) == 'issue' else ''}), so colours "
                   f"compare across them.")
        if metric == "forecast":
            caption += (" The engines forecast from positions, saliences and capabilities; "
                        "a shock that changes only perceptions moves them only through the "
                        "perception dynamics below.")
        out.append({"title": title, "caption": caption, "fig": fig_html(fig, f"effect-{k}")})
    return out


def render(results: Any, *, command: str | None = None, created: datetime | None = None,
           evaluator: Evaluator | None = None) -> str:
    """The report as one HTML string (see the module docstring). With a parallel
    ``evaluator`` (e.g. the run's process pool), the Exploration section is rendered there
    meanwhile."""
    exploration = None if evaluator is None else evaluator.submit_pickled(explore_section,
                                                                          results)
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(_template),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    tmpl = env.get_template("report.html.j2")
    case = results.case
    created = created or datetime.now(UTC)
    scenario_label = " + ".join(results.interventions) if results.interventions else "baseline"
    manifest = results.manifest(command)

    trajectories = []
    sources = [m for m, r in results.runs.items() if r.point.rounds.shape[0] > 1]
    if results.simulation is not None:
        sources.append("dynamics")
    for k, s in enumerate(sources):
        fig = F.trajectory_figure(results, s)
        if fig is None:
            continue
        title = ("Perception dynamics: positions per round" if s == "dynamics"
                 else f"{s}: positions per round")
        trajectories.append({"title": title, "caption": _caption_trajectory(s, results),
                             "fig": fig_html(fig, f"traj-{k}")})

    effects = results.effects
    chosen_table = ""
    if results.interventions and not effects.empty:
        label = " + ".join(results.interventions)
        sub = effects[effects["scenario"] == label]
        chosen_table = table_html(sub.drop(columns=["scenario", "kind"]))

    inputs = results.inputs.copy()
    inputs["range"] = [
        "" if not np.isfinite(lo) else f"{num(lo)} \u2013 {num(hi)}"
        for lo, hi in zip(inputs["range_low"], inputs["range_high"], strict=True)
    ]
    inputs_view = inputs[["actor", "issue", "field", "value", "range", "source", "note"]]
    n_unsourced = int((inputs["source"] == "").sum())

    unc = pd.DataFrame([{"parameter": p.label, "stated": p.value, "low": p.low, "high": p.high,
                         "draws: 5%": q5, "draws: 95%": q95}
                        for p, q5, q95 in zip(
                            results.draws.params,
                            *(np.quantile(results.draws.samples, [0.05, 0.95], axis=0)
                              if len(results.draws.params) else ([], [])),
                            strict=True)])

    ilist = _intervention_list(results)
    gap_missing = next((n for n in results.notes if "perception gap" in n),
                       "No perception gap: the case names no two sides (sides: [A, B]) "
                       "with actors in them.")
    inter_missing = next((n for n in results.notes if "shock and lever" in n),
                         "The case defines no shocks or levers.")

    kpis = _kpis(results)
    provenance = [
        ("seed", str(results.seed)),
        ("Monte Carlo draws", f"{results.n_draws} (effect bands: {results.n_effect_draws})"),
        ("distribution", DISTRIBUTION_TEXT.get(results.distribution, results.distribution)),
        ("models", ", ".join(results.models)),
        ("shocks and levers applied", scenario_label),
        ("case", f"{case.name} ({case.date or 'undated'})"),
        ("case file", results.case_source or "(in memory)"),
        ("case SHA-256", results.case_hash),
        ("command", command or "(Python API)"),
        ("created", created.strftime("%Y-%m-%d %H:%M:%S UTC")),
        ("run time", ", ".join(f"{k} {v:.1f} s" for k, v in results.timings.items())),
        *((f"version: {k}", v) for k, v in manifest["versions"].items()),
    ]
    n_snap = len(dict.fromkeys(results.gaps["snapshot"])) if not results.gaps.empty else 0
    sim = results.simulation
    ctx = {
        "title": f"alliancelab report: {case.name}",
        "version": manifest["versions"].get("alliancelab", ""),
        "plotly_js": get_plotlyjs(),
        "case": case,
        "scenario_label": scenario_label,
        "models": list(results.models),
        "n_draws": results.n_draws,
        "n_effect_draws": results.n_effect_draws,
        "alliance_draws": results.alliance_draws,
        "band_models": list(results.band_models),
        "seed": results.seed,
        "toc": [("findings", "Findings"), ("summary", "Summary"), ("forecasts", "Forecasts"),
                ("trajectories", "Rounds"), ("gap", "Perception gap"),
                ("interventions", "Shocks & levers"), ("alliance", "Alliance models"),
                ("exploration", "Exploration"),
                ("inputs", "Inputs & sources"), ("provenance", "Provenance")],
        "summary_text": _summary_text(results),
        "findings": findings(results),
        "headline_rows": headline_rows(results),
        "kpis": kpis,
        "summary_table": table_html(summary_table(results),
                                    numeric=("status quo", *results.models)),
        "notes": [n for n in results.notes],
        "distribution_text": DISTRIBUTION_TEXT.get(results.distribution, results.distribution),
        "distribution_long": DISTRIBUTION_LONG.get(results.distribution, results.distribution),
        "fig_forecast": fig_html(F.forecast_figure(results), "forecast"),
        "fig_distribution": fig_html(F.distribution_figure(results), "distribution"),
        "forecast_table": _forecast_table(results),
        "dynamics_model": "compromise",
        "dynamics_rounds": (sim.positions.shape[0] - 1) if sim is not None else 0,
        "trajectories": trajectories,
        "fig_movement": fig_html(F.movement_figure(results), "movement"),
        "fig_interactions": fig_html(F.interaction_figure(results), "interactions"),
        "fig_dynamics": fig_html(F.dynamics_figure(results), "dynamics"),
        "interventions": list(results.interventions),
        "fig_gap": fig_html(F.gap_figure(results), "gap"),
        "fig_gap_shift": fig_html(F.gap_shift_figure(results), "gap-shift"),
        "gap_table": table_html(_gap_wide(results.gaps, case.sides)),
        "sides": [{"group": g, "label": label, "colour": colour}
                  for g, label, colour in F.side_styles(case)],
        "gap_missing": gap_missing,
        "n_snapshots": n_snap,
        "intervention_list": ilist,
        "intervention_table": table_html(pd.DataFrame(ilist)) if ilist else "",
        "combination": " + ".join(results.interventions) if len(results.interventions) > 1 else "",
        "effect_figs": _effect_figs(results),
        "chosen_table": chosen_table,
        "interventions_missing": inter_missing,
        "fig_alliance": fig_html(F.alliance_figure(results), "alliance"),
        "fig_alliance_bands": fig_html(F.alliance_band_figure(results), "alliance-bands"),
        "alliance_table": _alliance_table(results),
        "alliance_families": _alliance_families(results),
        "alliance_note": next((n for n in results.notes
                               if n.startswith("alliance models not applied")), ""),
        "n_inputs": len(inputs),
        "n_uncertain": int(inputs["range_low"].notna().sum()),
        "n_unsourced": n_unsourced,
        "inputs_table": table_html(inputs_view, numeric=("value",)),
        "sources": sorted(case.sources.items()),
        "provenance": provenance,
        "uncertain_table": table_html(unc),
        "exploration_html": explore_section(results) if exploration is None
        else exploration.result(),
    }
    return str(tmpl.render(**ctx))


def _forecast_table(results: Any) -> str:
    """The forecast table with every position at its issue's precision
    (:func:`alliancelab.core.units.value`) and the scale's ends as stated."""
    ft = results.forecast_table().drop(columns=["low", "high"])
    scales = {i.name: i.scale for i in results.scenario.issues}
    view = ft.astype({c: object for c in ft.columns})
    for col in ("forecast", "p5", "p50", "p95", "status_quo"):
        if col in ft:
            view[col] = [units.value(x, scales[k]) if np.isfinite(x) else ""
                         for x, k in zip(ft[col], ft["issue"], strict=True)]
    for col in ("scale_min", "scale_max"):
        if col in ft:
            view[col] = [f"{x:,g}" for x in ft[col]]
    numeric = ("forecast", "p5", "p50", "p95", "status_quo", "scale_min", "scale_max", "draws")
    return table_html(view, numeric=tuple(c for c in numeric if c in ft))


def _gap_wide(g: pd.DataFrame, sides: tuple[str, str] | None = None) -> pd.DataFrame:
    """The gaps as one row per item, side A / side B / gap columns per snapshot."""
    if g.empty:
        return g
    a, b = sides or ("A", "B")
    out = pd.DataFrame({"kind": g["kind"], "item": g["item"]}).drop_duplicates()
    for snap in dict.fromkeys(g["snapshot"]):
        sub = g[g["snapshot"] == snap][["kind", "item", "a_value", "b_value", "gap"]]
        sub = sub.rename(columns={"a_value": f"{snap}: {a}", "b_value": f"{snap}: {b}",
                                  "gap": f"{snap}: gap"})
        out = out.merge(sub, on=["kind", "item"], how="left")
    return out


def _signed(x: float) -> str:
    return "n/a" if not np.isfinite(x) else ("+" if x > 0 else "") + num(x)


def alliance_band_table(results: Any) -> pd.DataFrame:
    """Alliance indicators, one row each: the value as stated, the baseline's median and
    5-95% band over the alliance draws, and per shock and lever the effect as stated with its
    5-95% band (common random numbers). Empty without the alliance models."""
    a = results.alliance
    if a is None or a.empty:
        return pd.DataFrame()
    has_bands = "p50" in a.columns and bool(getattr(results, "alliance_draws", 0))
    rows: dict[str, dict[str, str]] = {}
    for r in a.itertuples():
        row = rows.setdefault(r.item, {"indicator": r.item})
        if r.kind == "baseline":
            row["as stated"] = num(r.value)
            if has_bands:
                row["baseline: median [5%, 95%]"] = _band(r.p5, r.p50, r.p95)
        else:
            col = f"{r.scenario}: effect"
            row[col] = _signed(r.effect)
            if has_bands and np.isfinite(r.effect_p5):
                row[col] += f" [{_signed(r.effect_p5)}, {_signed(r.effect_p95)}]"
    df = pd.DataFrame(list(rows.values())).fillna("")
    info = plugin_info(results)
    if info.meanings:
        df.insert(1, "meaning", [info.meanings.get(i, "") for i in df["indicator"]])
        df.insert(2, "units", [info.units.get(i, "") for i in df["indicator"]])
    return df


def alliance_family_table(results: Any) -> pd.DataFrame:
    """The categorical alliance results (equilibrium family, game type): one row per
    scenario, one column per result, the cell the modal label with its share of the draws
    and the other labels seen (``*`` marks the label of the case as stated when it is not
    the modal one)."""
    lab = getattr(results, "alliance_labels", None)
    if lab is None or lab.empty:
        return pd.DataFrame()
    # each (scenario, item) in order of appearance, its labels modal first, then by share
    lab = lab.assign(group=lab.groupby(["scenario", "item"], sort=False).ngroup())
    lab = lab.sort_values(["group", "modal", "share"], ascending=[True, False, False])
    rows: dict[str, dict[str, str]] = {}
    for (scen, item), parts in zip(
            zip(lab["scenario"], lab["item"], strict=True),
            (f"{label}{'*' if stated and not modal else ''} ({100 * share:.0f}%)"
             for label, stated, modal, share in zip(lab["label"], lab["stated"], lab["modal"],
                                                    lab["share"], strict=True)),
            strict=True):
        row = rows.setdefault(scen, {"scenario": scen})
        row[item] = parts if item not in row else f"{row[item]}; {parts}"
    return pd.DataFrame(list(rows.values())).fillna("")


def _alliance_table(results: Any) -> str:
    """Alliance indicators with their bands (see :func:`alliance_band_table`)."""
    df = alliance_band_table(results)
    text = ("indicator", "meaning", "units")
    return "" if df.empty else table_html(df, numeric=tuple(c for c in df.columns
                                                            if c not in text))


def _alliance_families(results: Any) -> str:
    df = alliance_family_table(results)
    return "" if df.empty else table_html(df)


def _intervention_list(results: Any) -> list[dict[str, str]]:
    out = []
    for kind, items in (("shock", results.case.shocks), ("lever", results.case.levers)):
        for iv in items:
            out.append({
                "kind": kind,
                "name": iv.name,
                "chosen": "yes" if iv.name in results.interventions else "",
                "description": iv.description or "",
                "changes": "; ".join(f"{c.op} {c.target} {c.value:g}" for c in iv.changes),
                "source": iv.source or "",
            })
    return out
