"""Tidy tables of a run that are not forecasts: who moves toward whom
(:func:`movement_table`), who pressed whom (:func:`interaction_table`) and every input
number with its source (:func:`inputs_table`)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..core.case import Case, walk_values
from ..models.dynamics import Simulation
from .results import ModelRun

__all__ = ["inputs_table", "interaction_table", "movement_table"]


def movement_table(runs: Mapping[str, ModelRun], sim: Simulation | None, case: Case
                   ) -> pd.DataFrame:
    """Who moves toward whom: for each source of rounds (an iterative engine, or the
    dynamics), how far actor ``mover`` closed the distance to actor ``toward``'s starting
    position between the first and the last round, in scale widths averaged over issues
    (positive: moved toward; negative: moved away). The diagonal is the actor's own net
    movement (distance travelled, in scale widths)."""
    width = np.array([i.scale.width for i in case.issues])
    sources: list[tuple[str, tuple[str, ...], np.ndarray]] = []
    for model, run in runs.items():
        if run.point.rounds.shape[0] > 1:
            sources.append((model, run.point.actors, run.point.rounds))
    if sim is not None and sim.positions.shape[0] > 1:
        sources.append(("dynamics", tuple(sim.actors), sim.positions))
    rows = []
    for name, actors, rounds in sources:
        x0, xt = rounds[0] / width, rounds[-1] / width
        for i, a in enumerate(actors):
            for j, b in enumerate(actors):
                if i == j:
                    v = float(np.abs(xt[i] - x0[i]).mean())
                else:
                    v = float((np.abs(x0[i] - x0[j]) - np.abs(xt[i] - x0[j])).mean())
                rows.append({"source": name, "mover": a, "toward": b, "closed": v})
    return pd.DataFrame(rows, columns=["source", "mover", "toward", "closed"])


def interaction_table(runs: Mapping[str, ModelRun]) -> pd.DataFrame:
    """Who pressed whom, from the engines' diagnostics, for the point run of each engine:
    BDM-style ``offers`` (``proposer`` -> ``receiver``, by offer type: compromise,
    capitulation, confrontation) and SMP-style ``challenges`` (``initiator`` -> ``target``,
    ``adopted`` when the target adopted the bargain), counted over rounds and issues."""
    rows: dict[tuple[str, str, str, str], int] = {}
    for model, run in runs.items():
        diag = run.point.diagnostics
        actors = run.point.actors
        for offer in diag.get("offers") or []:
            if not isinstance(offer, dict) or offer.get("type") in (None, "none"):
                continue
            key = (model, str(offer.get("proposer")), str(offer.get("receiver")),
                   str(offer["type"]))
            rows[key] = rows.get(key, 0) + 1
        for rnd in diag.get("challenges") or []:
            for ch in rnd if isinstance(rnd, list) else []:
                if not isinstance(ch, dict) or "initiator" not in ch:
                    continue
                a, b = actors[int(ch["initiator"])], actors[int(ch["target"])]
                kind = "challenge, adopted" if int(ch["target"]) in ch.get("adopted_by", []) \
                    else "challenge"
                rows[(model, a, b, kind)] = rows.get((model, a, b, kind), 0) + 1
    return pd.DataFrame([(*k, v) for k, v in sorted(rows.items())],
                        columns=["source", "from", "to", "kind", "count"])


def inputs_table(case: Case) -> pd.DataFrame:
    """Every input number with its source: actor, issue, field, value, range, source, note."""
    rows = []
    issue_names = set(case.issue_names)
    for label, path, v in walk_values(case):
        actor = issue = ""
        fld = label
        if path[0] == "actors":
            actor = case.actors[int(path[1])].name
            rest = [str(p) for p in path[2:]]
            issue = next((p for p in rest if p in issue_names), "")
            fld = _field_name([p for p in rest if p != issue])
        elif path[0] == "issues":
            issue = case.issues[int(path[1])].name
            fld = ".".join(str(p) for p in path[2:])
        elif path[0] in ("links", "feedback"):
            link = getattr(case, str(path[0]))[int(path[1])]
            issue = link.issue
            who = ", ".join(link.actors) if link.actors else "all"
            fld = f"{path[0]}: {link.perception} -> {link.issue} ({who}) weight"
            if path[0] == "feedback":
                fld = f"feedback: {link.issue} -> {link.perception} ({who}) weight"
        source = v.source
        if source is None and path[0] in ("links", "feedback"):
            source = getattr(case, str(path[0]))[int(path[1])].source
        rows.append({
            "actor": actor,
            "issue": issue,
            "field": fld,
            "value": v.value,
            "range_low": v.range[0] if v.range else np.nan,
            "range_high": v.range[1] if v.range else np.nan,
            "source": source or "",
            "note": v.note or "",
            "path": label,
        })
    for kind in ("shocks", "levers"):
        for iv in getattr(case, kind):
            for ch in iv.changes:
                rows.append({
                    "actor": "", "issue": "",
                    "field": f"{kind[:-1]} {iv.name}: {ch.op} {ch.target}",
                    "value": ch.value, "range_low": np.nan, "range_high": np.nan,
                    "source": ch.source or iv.source or "", "note": iv.description or "",
                    "path": f"{kind}.{iv.name}",
                })
    return pd.DataFrame(rows)


_SINGULAR = {"positions": "position", "saliences": "salience"}


def _field_name(parts: list[str]) -> str:
    """``['perceptions', 'estimates', 'X', 'positions']`` -> ``'estimate of X: position'``."""
    if parts[:2] == ["perceptions", "estimates"] and len(parts) >= 4:
        return f"estimate of {parts[2]}: {_SINGULAR.get(parts[3], parts[3])}"
    if parts[:1] == ["perceptions"]:
        parts = parts[1:]
        if parts[:1] == ["threats"]:
            return "threat perceived: " + ".".join(parts[1:])
    return ".".join(_SINGULAR.get(p, p) for p in parts)
