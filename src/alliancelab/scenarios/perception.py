"""Perception gaps between two sides of a case (e.g. Washington and Seoul), and how they shift
between two snapshots (2007 -> 2025).

A *side* is a group (``Actor.group``) or a single actor's name; by default the two sides are
the case's ``sides`` (``sides: [US, ROK]`` in the shipped US-ROK cases). A side's value is
the capability-weighted mean over its actors:

* ``threat`` rows - each perceived threat (``threats.dprk``, ``threats.china``) on 0-1;
* ``reliability`` - the side's perceived reliability of its partner, 0-1;
* ``issue`` rows - ideal positions in scale widths above the scale minimum (0-1).

``gap = b_value - a_value`` (signed). Document 004's 2007 gap - Seoul less threatened by the
North and more benign toward China than Washington - shows as negative ``threat`` gaps with
the shipped case's sides (``a`` the US, ``b`` the ROK).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.case import Case
from ..core.errors import AllianceLabError

__all__ = ["compare_gaps", "gap_rows", "misperceptions", "perception_gap", "side_members",
           "sides_of"]

COLUMNS = ["kind", "item", "a_value", "b_value", "gap"]


def side_members(case: Case, side: str) -> list[int]:
    """Indices of the actors a side stands for (a group, else an actor name)."""
    members = [i for i, a in enumerate(case.actors) if a.group == side]
    if not members:
        members = [i for i, a in enumerate(case.actors) if a.name == side]
    if not members:
        groups = sorted({a.group for a in case.actors if a.group})
        raise AllianceLabError(
            f"{side!r} is neither a group ({', '.join(groups)}) nor an actor of case "
            f"{case.name!r}",
            field="perception_gap",
        )
    return members


def sides_of(case: Case, a: str | None = None, b: str | None = None) -> tuple[str, str]:
    """``(a, b)``, each defaulting to the case's ``sides``; the one-line error when a side
    is missing and the case names none."""
    if a is not None and b is not None:
        return a, b
    if case.sides is None:
        raise AllianceLabError(
            f"case {case.name!r} names no sides (sides: [GROUP_A, GROUP_B]); give both sides",
            field="sides",
        )
    return (case.sides[0] if a is None else a), (case.sides[1] if b is None else b)


def _mean(values: list[float | None], weights: list[float]) -> float:
    pairs = [(w, v) for w, v in zip(weights, values, strict=True) if v is not None]
    total = sum(w for w, _ in pairs)
    if not pairs or total <= 0:
        return float("nan") if not pairs else float(np.mean([v for _, v in pairs]))
    return sum(w * v for w, v in pairs) / total


def perception_gap(case: Case, a: str | None = None, b: str | None = None) -> pd.DataFrame:
    """Per-threat, reliability and per-issue gap between sides ``a`` and ``b`` (default:
    the case's ``sides``); columns kind, item, a_value, b_value, gap = b - a."""
    a, b = sides_of(case, a, b)
    frame = pd.DataFrame(gap_rows(case, a, b), columns=COLUMNS)
    frame.attrs.update(case=case.name, date=case.date, a=a, b=b)
    return frame


def gap_rows(case: Case, a: str | None = None, b: str | None = None
             ) -> list[tuple[str, str, float, float, float]]:
    """:func:`perception_gap`'s rows as tuples (no frame: the effects measure it for every
    scenario)."""
    a, b = sides_of(case, a, b)
    sides = [side_members(case, a), side_members(case, b)]
    caps = [[case.actors[i].capability.value for i in s] for s in sides]
    threats: list[str] = []
    for side in sides:
        for i in side:
            for key in case.actors[i].perceptions.threats:
                if key not in threats:
                    threats.append(key)
    rows: list[tuple[str, str, float, float]] = []
    for key in threats:
        vals = [
            _mean([
                v.value if (v := case.actors[i].perceptions.threats.get(key)) else None
                for i in side
            ], w)
            for side, w in zip(sides, caps, strict=True)
        ]
        rows.append(("threat", key, vals[0], vals[1]))
    rel = [
        _mean([
            r.value if (r := case.actors[i].perceptions.partner_reliability) else None
            for i in side
        ], w)
        for side, w in zip(sides, caps, strict=True)
    ]
    rows.append(("reliability", "partner_reliability", rel[0], rel[1]))
    for issue in case.issues:
        lo, width = issue.scale.min, issue.scale.width
        vals = [
            _mean([(case.actors[i].positions[issue.name].value - lo) / width for i in side], w)
            for side, w in zip(sides, caps, strict=True)
        ]
        rows.append(("issue", issue.name, vals[0], vals[1]))
    return [(kind, item, va, vb, vb - va) for kind, item, va, vb in rows]


def compare_gaps(
    before: Case, after: Case, a: str | None = None, b: str | None = None
) -> pd.DataFrame:
    """The gap in two snapshots side by side (sides default to ``before``'s ``sides``):
    columns kind, item, ``a_before``, ``b_before``,
    ``gap_before``, ``a_after``, ``b_after``, ``gap_after``, ``gap_shift`` (after - before),
    ``a_shift`` and ``b_shift`` (how each side's own view moved). Items in only one snapshot
    get NaN on the other side."""
    a, b = sides_of(before, a, b)
    one = perception_gap(before, a, b).rename(
        columns={"a_value": "a_before", "b_value": "b_before", "gap": "gap_before"}
    )
    two = perception_gap(after, a, b).rename(
        columns={"a_value": "a_after", "b_value": "b_after", "gap": "gap_after"}
    )
    one["_first"], two["_second"] = np.arange(len(one)), np.arange(len(two))
    out = one.merge(two, on=["kind", "item"], how="outer")
    rank = {"threat": 0, "reliability": 1, "issue": 2}
    out["_kind"] = out["kind"].map(rank)
    out["_pos"] = out["_first"].fillna(len(one) + out["_second"])
    out = out.sort_values(["_kind", "_pos"]).drop(columns=["_first", "_second", "_kind", "_pos"])
    out = out.reset_index(drop=True)
    out["gap_shift"] = out["gap_after"] - out["gap_before"]
    out["a_shift"] = out["a_after"] - out["a_before"]
    out["b_shift"] = out["b_after"] - out["b_before"]
    out.attrs.update(before=before.name, after=after.name, a=a, b=b)
    return out


def misperceptions(case: Case) -> pd.DataFrame:
    """Every estimate in the case against the truth: columns perceiver, target, kind
    (position | salience | capability), item, estimate, truth, error (estimate - truth, in
    scale widths for positions)."""
    rows = []
    for actor in case.actors:
        for other, est in actor.perceptions.estimates.items():
            target = case.actor(other)
            for issue, v in est.positions.items():
                truth = target.positions[issue].value
                width = case.issue(issue).scale.width
                rows.append((actor.name, other, "position", issue, v.value, truth,
                             (v.value - truth) / width))
            for issue, v in est.saliences.items():
                truth = target.saliences[issue].value
                rows.append((actor.name, other, "salience", issue, v.value, truth,
                             v.value - truth))
            if est.capability is not None:
                truth = target.capability.value
                rows.append((actor.name, other, "capability", "capability", est.capability.value,
                             truth, est.capability.value - truth))
    return pd.DataFrame(
        rows, columns=["perceiver", "target", "kind", "item", "estimate", "truth", "error"]
    )
