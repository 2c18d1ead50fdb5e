"""The summary of a run, once, for the report's Summary section and the console summary of
``alliancelab run`` (so both say the same things): a lead paragraph, the key counts, the
headline numbers with their meaning (:func:`~alliancelab.report.findings.headline_rows`),
the forecast per issue and model in the issue's units, and the run's notes.

Numbers are formatted by :mod:`alliancelab.core.units` (a position at its scale's precision:
``24,810`` troops, ``1.47`` US$ bn, ``2.8`` % of GDP, ``58.4`` on 0-100).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..core import units
from .findings import headline_rows
from .widgets import scale_text

__all__ = ["Summary", "forecast_rows", "kpis", "summary", "summary_table", "summary_text"]


@dataclass(frozen=True)
class Summary:
    """What the summary of a run says (see the module docstring).

    ``headlines``: (name, value with its band and units, one-line meaning);
    ``forecasts``: one dict per (issue, model) with the numbers (``p5``, ``p50``, ``p95``,
    ``status_quo``) and their text at the issue's precision (``median``, ``band``, ...)."""

    scenario: str
    text: str
    kpis: tuple[dict[str, str], ...]
    headlines: tuple[tuple[str, str, str], ...]
    forecasts: tuple[dict[str, Any], ...]
    notes: tuple[str, ...]


def summary(results: Any) -> Summary:
    """The summary of ``results`` (a :class:`~alliancelab.jobs.results.RunResults`)."""
    return Summary(
        scenario=" + ".join(results.interventions) if results.interventions else "baseline",
        text=summary_text(results), kpis=tuple(kpis(results)),
        headlines=tuple(headline_rows(results)), forecasts=tuple(forecast_rows(results)),
        notes=tuple(results.notes))


def forecast_rows(results: Any) -> list[dict[str, Any]]:
    """One dict per (issue, model), in the case's issue order and the run's model order:
    ``issue``, ``units``, ``model``, ``p5``, ``p50``, ``p95``, ``status_quo`` (floats, NaN
    when missing), ``decimals`` (of the issue's scale), and as text at that precision
    ``median``, ``low``, ``high``, ``band`` (``median [low, high]``) and ``status quo``."""
    ft = results.forecast_table().set_index(["issue", "model"])
    rows = []
    for issue in results.scenario.issues:
        sc = issue.scale
        sq = issue.status_quo.value if issue.status_quo is not None else float("nan")
        for m in results.models:
            r = ft.loc[(issue.name, m)]
            p5, p50, p95 = float(r["p5"]), float(r["p50"]), float(r["p95"])
            rows.append({
                "issue": issue.name, "units": sc.units or "", "model": m,
                "p5": p5, "p50": p50, "p95": p95, "status_quo": float(sq),
                "decimals": units.decimals(sc),
                "median": units.value(p50, sc), "low": units.value(p5, sc),
                "high": units.value(p95, sc), "band": units.band(p5, p50, p95, sc),
                "status quo": "" if issue.status_quo is None else units.value(sq, sc),
            })
    return rows


def summary_table(results: Any) -> pd.DataFrame:
    """Issue x model: 'median [5%, 95%]' in the issue's units, plus status quo and scale."""
    by_issue: dict[str, dict[str, Any]] = {}
    for issue in results.scenario.issues:
        sc = issue.scale
        by_issue[issue.name] = {
            "issue": issue.name,
            "units": sc.units or "",
            "scale": scale_text(sc),
            "status quo": "",
        }
    for r in forecast_rows(results):
        row = by_issue[r["issue"]]
        row["status quo"] = r["status quo"]
        row[r["model"]] = r["band"]
    return pd.DataFrame(list(by_issue.values()))


def kpis(results: Any) -> list[dict[str, str]]:
    """The key counts of the run, each with what it means."""
    k = [
        {"value": str(len(results.case.actors)), "label": "actors bargain in the case"},
        {"value": str(len(results.case.issues)), "label": "issues on the table"},
        {"value": str(len(results.draws.params)),
         "label": "uncertain inputs: numbers with a stated range, drawn in every draw"},
        {"value": str(results.n_draws), "label": "Monte Carlo draws behind every 5-95% band"},
    ]
    g = results.gaps
    sides = results.case.sides
    if not g.empty and sides:
        own = g[g["snapshot"] == g["snapshot"].iloc[-1]] if results.interventions else g[
            g["snapshot"] == (str(results.case.date) if results.case.date else results.case.name)]
        own = own[own["kind"] != "issue"]
        if not own.empty:
            i = own["gap"].abs().to_numpy().argmax()
            r = own.iloc[i]
            a, b = sides
            what = f"threat from {r['item']}" if r["kind"] == "threat" else str(r["item"])
            k.append({"value": units.signed(float(r["gap"]), places=2),
                      "label": f"largest {b}-minus-{a} perception gap ({r['snapshot']}): "
                               f"{what}, on a 0-1 scale (< 0: {b} lower)"})
    return k


def summary_text(results: Any) -> str:
    """The lead paragraph: actors and issues, the scenario, where the engines disagree most
    and least, and what the bands are."""
    case = results.case
    parts = [
        f"{len(case.actors)} actors bargain over {len(case.issues)} issues"
        + (f" in the {case.date} snapshot of the case." if case.date else "."),
    ]
    if results.interventions:
        parts.append(f"Scenario: {' + '.join(results.interventions)} applied to the case.")
    ft = results.forecast_table()
    spread = []
    for issue in case.issues:
        sub = ft[ft["issue"] == issue.name]
        lo, hi = sub["p50"].min(), sub["p50"].max()
        spread.append((float((hi - lo) / issue.scale.width), issue.name))
    spread.sort(reverse=True)
    if spread and len(results.models) > 1:
        w, name = spread[0]
        parts.append(
            f"The models disagree most on {name} (their medians differ by {100 * w:.0f}% of "
            f"the scale) and least on {spread[-1][1]} ({100 * spread[-1][0]:.0f}%)."
        )
    parts.append(
        f"Bands are 5-95% over {results.n_draws} draws of the {len(results.draws.params)} "
        f"numbers the case gives a range (seed {results.seed})."
    )
    return " ".join(parts)
