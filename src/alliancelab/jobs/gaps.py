"""The perception gap between the case's two ``sides`` (second minus first), for the case,
its dated snapshots and the scenario; a case without sides has none."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from ..core.case import Case
from ..scenarios.perception import gap_rows, perception_gap

__all__ = ["GAP_COLUMNS", "gap_items", "gap_table", "snapshot_label"]

GAP_COLUMNS = ["snapshot", "date", "kind", "item", "a_value", "b_value", "gap"]


def _has_sides(case: Case, sides: tuple[str, str] | None) -> bool:
    groups = {a.group for a in case.actors}
    return sides is not None and set(sides) <= groups


def gap_items(case: Case) -> dict[tuple[str, str], float]:
    """``(kind, item) -> gap`` between the case's sides (empty without sides)."""
    if not _has_sides(case, case.sides):
        return {}
    return {(str(kind), str(item)): float(gap) for kind, item, _, _, gap in gap_rows(case)}


def snapshot_label(case: Case) -> str:
    """A snapshot's label: its date, else its name."""
    return str(case.date) if case.date else case.name


def gap_table(case: Case, scenario: Case, interventions: tuple[str, ...],
              snapshots: Mapping[str, Case]) -> pd.DataFrame:
    """:data:`GAP_COLUMNS` for the snapshots and the case (by date) and, when there are
    interventions, the scenario; snapshots without the case's sides are left out."""
    sides = case.sides
    if sides is None or not _has_sides(case, sides):
        return pd.DataFrame(columns=GAP_COLUMNS)
    entries = dict(snapshots)
    entries[snapshot_label(case)] = case
    order = sorted(entries, key=lambda k: (str(entries[k].date or ""), k))
    entries = {k: entries[k] for k in order}
    if interventions:
        entries[f"{snapshot_label(case)} + {' + '.join(interventions)}"] = scenario
    frames = []
    for name, c in entries.items():
        if not _has_sides(c, sides):
            continue
        df = perception_gap(c, sides[0], sides[1]).copy()
        df.insert(0, "date", c.date or "")
        df.insert(0, "snapshot", name)
        frames.append(df[GAP_COLUMNS])
    return pd.concat(frames, ignore_index=True)
