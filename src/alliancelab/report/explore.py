"""The HTML report of an exploration, and the Exploration section of the ``alliancelab run``
report. Rendering only: the numbers are :func:`alliancelab.analysis.exploration.analyse`'s
(the web app shows the same), the figures :mod:`.figures_explore`'s.

* :func:`section_html` turns an :class:`~alliancelab.analysis.exploration.ExplorationAnalysis`
  into HTML (the page's own section template), reusing the tables and look of the main report
  (:mod:`.widgets`); :func:`render` makes it a self-contained page (the main report's
  template, plotly.js inlined once); :func:`write_report` analyses an exploration and writes
  its page atomically (:mod:`alliancelab.core.io`); :func:`run_section` is the section of the
  main report.

A bad outcome name or threshold is an :class:`~alliancelab.core.errors.AllianceLabError`
before anything is written.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
from plotly.offline import get_plotlyjs

from ..analysis.discovery import RESAMPLES
from ..analysis.exploration import MIN_COVERAGE, ExplorationAnalysis, ExplorationLike, analyse
from ..core import units
from ..core.errors import AllianceLabError
from ..core.io import atomic_write_text
from .figures_explore import (
    distribution_figure,
    prim_figure,
    regret_figure,
    screening_figure,
    tornado,
)
from .widgets import fig_html, num, p_value, table_html, template

#: rows of the sensitivity table.
TOP = 20
#: how a distribution draws a ranged number, for the text of the report
_DRAWN = {"triangular": "from the triangular distribution on its range with its mode at the "
                        "stated value", "uniform": "uniformly on its range",
          "pert": "from the beta-PERT distribution on its range with its mode at the stated "
                  "value",
          "truncnorm": "from a normal centred on the stated value with the range as its 95% "
                       "interval, truncated to the range"}


def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FunctionLoader(template), autoescape=True,
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
        ("distribution", str(m.get("distribution", "uniform"))),
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
        items.insert(8, ("experiments stored", f"{a.n_stored:,} ({a.n_failed:,} failed)"))
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
        "summary_table": table_html(a.summary),
        **_sensitivity_parts(a, prefix),
        **_prim_parts(a, prefix),
        **_robust_parts(a, prefix),
        "sense_text": "more is better" if a.sense == "max" else "less is better",
        "num": num,
    }
    return str(_env().get_template("explore_section.html.j2").render(**ctx))


def _sensitivity_parts(a: ExplorationAnalysis, prefix: str) -> dict[str, Any]:
    sens = a.sensitivity
    return {
        "sens_method": a.sensitivity_method,
        "sens_table": table_html(_sens_table(sens)) if sens is not None else "",
        "fig_tornado": "" if sens is None else fig_html(
            tornado(sens, title=f"{a.outcome}: {a.sensitivity_method} indices"),
            f"{prefix}-tornado"),
        "fig_screen": fig_html(screening_figure(a.screening), f"{prefix}-screen"),
    }


def _prim_parts(a: ExplorationAnalysis, prefix: str) -> dict[str, Any]:
    prim = a.prim
    label = a.prim_label
    if a.prim_threshold is not None:
        op = ">" if a.prim_direction == "above" else "<"
        label = f"{a.prim_outcome} {op} {num(a.prim_threshold)}"
    if prim is None:
        return {"prim_box": None, "prim_limits": "", "prim_trajectory": "",
                "prim_label": label, "fig_prim": "", "prim_warnings": [],
                "prim_resamples": 0}
    limits, warnings = prim.assess(a.prim_box, MIN_COVERAGE)
    return {
        "prim_box": prim.boxes[a.prim_box],
        "prim_limits": table_html(
            limits.assign(**{"quasi-p": [p_value(v) for v in limits["quasi-p"]],
                             "stability": [units.percent(v) for v in limits["stability"]]}
                          ).reset_index(),
            numeric=("low", "high", "min", "max", "quasi-p", "stability")),
        "prim_warnings": warnings,
        "prim_resamples": RESAMPLES,
        "prim_trajectory": table_html(prim.trajectory()),
        "prim_label": label,
        "fig_prim": fig_html(prim_figure(prim, a.prim_box, label), f"{prefix}-prim"),
    }


def _robust_parts(a: ExplorationAnalysis, prefix: str) -> dict[str, Any]:
    rb = a.robustness
    out: dict[str, Any] = {
        "rb": rb, "rb_table": "", "rb_best_row": None, "fig_regret": "", "fail_table": "",
        "fail_limits": "", "fail_box": None, "n_fail_scenarios": 0, "n_regret_scenarios": 0,
        "overview_table": (table_html(a.robust_overview) if a.robust_overview is not None
                           else ""),
    }
    if rb is None:
        return out
    out.update(rb_table=table_html(rb.summary.reset_index()),
               rb_best_row=rb.summary.loc[rb.most_robust],
               fig_regret=fig_html(regret_figure(rb.regret), f"{prefix}-regret"),
               n_fail_scenarios=len(rb.failures), n_regret_scenarios=len(rb.regret))
    fb = rb.failure_box
    b = fb.select(MIN_COVERAGE) if fb is not None else 0
    cols = list(fb.limits(b).index) if fb is not None else []
    if not rb.failures.empty:
        out["fail_table"] = table_html(rb.failures[[*cols[:6], "regret"]].head(10)
                                       .reset_index())
        if fb is not None:
            out["fail_limits"] = table_html(fb.limits(b).reset_index())
    if fb is not None:
        out["fail_box"] = fb.boxes[b]
    return out


def render(a: ExplorationAnalysis, *, command: str | None = None,
           created: datetime | None = None) -> str:
    """The standalone report page: the main report's template and look, plotly.js inlined
    once, every chart and table inline (opens offline)."""
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


def write_report(ex: ExplorationLike, path: str | Path, *, outcome: str | None = None,
                 sense: str = "max", threshold: float | None = None,
                 direction: str | None = None, prim_outcome: str | None = None,
                 command: str | None = None) -> Path:
    """Analyse exploration ``ex`` (:func:`~alliancelab.analysis.exploration.analyse`) and
    write its report to ``path`` atomically; returns the path. Nothing is written when the
    analysis raises (a bad outcome or threshold)."""
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
        f"range, drawn {_DRAWN[m.get('distribution', 'uniform')]}"
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
