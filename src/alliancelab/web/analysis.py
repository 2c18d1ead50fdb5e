"""An exploration's analysis as the page shows it: the report's
:class:`~alliancelab.analysis.exploration.ExplorationAnalysis` (the same numbers, boxes and
figures as ``alliancelab report``, with the same defaults) turned into JSON parts; the PRIM
box carries each restriction's quasi-p-value and bootstrap stability and the small-sample
warnings (:meth:`~alliancelab.analysis.discovery.PrimResult.assess`). A part
that could not be computed is ``{"error": <the report's note>}``."""

from __future__ import annotations

from typing import Any

from ..analysis.discovery import RESAMPLES
from ..analysis.exploration import MIN_COVERAGE, ExplorationAnalysis
from ..explore import Exploration
from ..report.figures_explore import prim_figure, tornado
from .tables import figure, records


def analysis_document(ex: Exploration, a: ExplorationAnalysis) -> dict[str, Any]:
    """The JSON of ``a``, the analysis of ``ex``."""
    return {
        "outcome": a.outcome, "outcomes": list(ex.outcomes), "policies": list(ex.policies),
        "sampler": a.manifest["sampler"], "n_experiments": a.n_experiments,
        "n_failed": a.n_failed,
        "summary": records(a.summary[a.summary["outcome"] == a.outcome]),
        "sensitivity": sensitivity_part(a),
        "prim": prim_part(a),
        "robustness": robustness_part(a) if len(ex.policies) > 1 else None,
    }


def sensitivity_part(a: ExplorationAnalysis) -> dict[str, Any]:
    if a.sensitivity is None:
        return {"error": a.sensitivity_note}
    title = f"{a.outcome}: {a.sensitivity_method} indices"
    return {"method": a.sensitivity_method, "table": records(a.sensitivity.head(30)),
            "figure": figure(tornado(a.sensitivity, title=title))}


def prim_part(a: ExplorationAnalysis) -> dict[str, Any]:
    if a.prim is None:
        return {"error": a.prim_note}
    box = a.prim.boxes[a.prim_box]
    limits, warnings = a.prim.assess(a.prim_box, MIN_COVERAGE)
    label = a.prim_label
    return {
        "threshold": a.prim_threshold, "direction": a.prim_direction, "label": label,
        "box": a.prim_box, "coverage": box.coverage, "density": box.density,
        "mass": box.mass, "n_points": a.prim.n_points, "resamples": RESAMPLES,
        "limits": records(limits), "warnings": warnings,
        "trajectory": records(a.prim.trajectory()),
        "figure": figure(prim_figure(a.prim, a.prim_box, label)),
    }


def robustness_part(a: ExplorationAnalysis) -> dict[str, Any]:
    rb = a.robustness
    if rb is None:
        return {"error": a.robust_note}
    worst = rb.summary["max_regret"]
    low = float(worst.min())
    tied = [str(p) for p in worst.index if worst[p] <= low + 1e-9 * max(1.0, abs(low))]
    out: dict[str, Any] = {"sense": a.sense, "most_robust": rb.most_robust, "tied": tied,
                           "all_tie": len(tied) == len(worst), "max_regret": low,
                           "summary": records(rb.summary), "failure_box": None}
    if rb.failure_box is not None:
        b = rb.failure_box.select(0.5)
        box = rb.failure_box.boxes[b]
        out["failure_box"] = {"coverage": box.coverage, "density": box.density,
                              "limits": records(rb.failure_box.limits(b))}
    return out
