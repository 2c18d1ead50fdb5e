"""Shocks and levers: named edits of a case.

A case defines :class:`~alliancelab.core.case.Intervention` objects under ``shocks:`` (things that
happen) and ``levers:`` (things a policy-maker does); each is a list of
:class:`~alliancelab.core.case.Change` (``target``, ``op``, ``value``, ``source``).

Targets are dotted paths into the case:

* ``actors.ROK public opinion.positions.missile_defence`` - one number;
* ``actors.*.perceptions.threats.dprk`` - ``*`` matches every actor (every key of a mapping);
* ``actors.group:ROK.perceptions.partner_reliability`` - every actor of a group;
  ``group:US+ROK`` joins groups;
* ``dynamics.estimate_learning``, ``issues.usfk_troops.status_quo``,
  ``links.0.weight`` - anything numeric in the case.

Operations: ``set`` (value), ``add`` (value + x), ``scale`` (value * x) and ``converge``
(each matched number moves the fraction ``value`` toward the capability-weighted mean of all
the numbers the target matched - e.g. a joint threat assessment narrowing the allies' threat
perceptions). Results are clipped to their valid interval (an issue's scale for positions and
status quo, 0-1 for saliences and perceptions, >= 0 for capabilities); a judgement ``range``
is shifted with ``add``/``scale`` and dropped by ``set``/``converge``; the changed number's
``note`` records the intervention. The result is validated again, so an intervention can
never produce an invalid case.

``apply_interventions`` applies every change at once; :class:`alliancelab.scenarios.scenario.
Scenario` is the one path for a case with interventions (every change at once for the
engines, each intervention at its ``at_round`` for the dynamics).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from ..core.case import Case, Change, Intervention
from ..core.errors import AllianceLabError
from ..core.targets import Leaf as _Leaf
from ..core.targets import names_item
from ..core.targets import resolve as _resolve
from ..formats.yaml_case import dumped, validate, validate_edit

__all__ = [
    "apply_changes",
    "apply_interventions",
    "check_names",
    "find_intervention",
    "intervention_names",
]


def intervention_names(case: Case) -> dict[str, list[str]]:
    """The shocks and levers a case defines: ``{"shocks": [...], "levers": [...]}``."""
    return {"shocks": [s.name for s in case.shocks], "levers": [s.name for s in case.levers]}


def check_names(case: Case, names: Sequence[str], kind: str = "any") -> tuple[str, ...]:
    """``names`` as a tuple, each a shock (``kind="shock"``), a lever (``"lever"``) or
    either (``"any"``) of ``case``; the one place these names are checked. An unknown name,
    or a lever given as a shock (or the reverse), raises the one-line error listing the
    names the case defines."""
    known = intervention_names(case)
    allowed = {"shock": known["shocks"], "lever": known["levers"],
               "any": [*known["shocks"], *known["levers"]]}[kind]
    label = {"shock": "shock", "lever": "lever", "any": "shock or lever"}[kind]
    for name in names:
        if name in allowed:
            continue
        other = "lever" if name in known["levers"] else "shock" if name in known["shocks"] else ""
        why = f"{name!r} is a {other}, not a {label}" if other else f"unknown {label} {name!r}"
        raise AllianceLabError(
            f"{why}; case {case.name!r} defines shocks: {', '.join(known['shocks']) or 'none'}; "
            f"levers: {', '.join(known['levers']) or 'none'}",
            field={"shock": "shock", "lever": "lever", "any": "interventions"}[kind],
        )
    return tuple(names)


def find_intervention(case: Case, name: str) -> Intervention:
    """The shock or lever called ``name``; unknown names raise :class:`AllianceLabError`
    listing the known ones."""
    for item in (*case.shocks, *case.levers):
        if item.name == name:
            return item
    check_names(case, [name])
    raise AssertionError("unreachable: check_names raises for an unknown name")


def apply_interventions(case: Case, names: Sequence[str]) -> Case:
    """A new, validated case with the named shocks and levers applied in the given order."""
    if isinstance(names, str):
        names = [names]
    items = [find_intervention(case, n) for n in names]  # fail before doing any work
    out = case
    for item in items:
        out = apply_changes(out, item.changes, label=item.name)
    return out


# -- paths ---------------------------------------------------------------------------------


def apply_changes(case: Case, changes: Iterable[Change], *, label: str = "change") -> Case:
    """Apply ``changes`` to ``case`` (see the module docstring) and validate the result."""
    data, signed_zero = _edited(case, dumped(case), list(changes), label)
    file = f"{case.name} (after {label})"
    return validate(data, file=file) if signed_zero else validate_edit(case, data, file=file)


def _edited(case: Case, before: dict[str, Any], changes: list[Change],
            label: str) -> tuple[dict[str, Any], bool]:
    """``case.model_dump()`` (``before``, not changed) with ``changes`` applied, and whether
    a -0.0 was written (see :func:`~alliancelab.formats.yaml_case.validate_edit`)."""
    data = _copy_for(case, before, [change.target.split(".") for change in changes])
    scales = {i["name"]: (i["scale"]["min"], i["scale"]["max"]) for i in before["issues"]}
    caps = [a["capability"]["value"] for a in before["actors"]]
    signed_zero = False
    for change in changes:
        leaves = list(_resolve(data, change.target.split("."), change.op == "set"))
        if not leaves:
            raise AllianceLabError(
                f"{label}: target {change.target!r} matches no number in case {case.name!r}",
                field="changes.target",
            )
        current = [_number(leaf) for leaf in leaves]
        mean = 0.0
        if change.op == "converge":
            w = [caps[leaf.actor] if leaf.actor is not None else 1.0 for leaf in leaves]
            pairs = [(wi, v) for wi, v in zip(w, current, strict=True) if v is not None]
            total = sum(wi for wi, _ in pairs)
            mean = sum(wi * v for wi, v in pairs) / total if total > 0 else 0.0
        for leaf, old in zip(leaves, current, strict=True):
            if old is None and change.op != "set":
                continue  # nothing to add to / scale / converge (e.g. an unset reliability)
            new = _write(leaf, old, change, mean, scales, label)
            signed_zero |= new == 0.0 and math.copysign(1.0, new) < 0.0
    return data, signed_zero


def _copy_for(case: Case, before: dict[str, Any], targets: list[list[str]]) -> dict[str, Any]:
    """``before`` (``case.model_dump()``) with fresh dumps of the parts ``targets`` may
    edit: the fields they start with, and of ``actors`` only the actors they name."""
    heads = {segs[0] for segs in targets}
    if "*" in heads:
        return case.model_dump()
    data = {**before, **case.model_dump(include=(heads - {"actors"}) & before.keys())}
    if "actors" in heads:
        named = {i for segs in targets if segs[0] == "actors" and len(segs) > 1
                 for i, item in enumerate(before["actors"]) if names_item(segs[1:], i, item)}
        data["actors"] = [case.actors[i].model_dump() if i in named else item
                          for i, item in enumerate(before["actors"])]
    return data


def _number(leaf: _Leaf) -> float | None:
    raw = leaf.parent[leaf.key] if not isinstance(leaf.parent, dict) else leaf.parent.get(leaf.key)
    if raw is None:
        return None
    if isinstance(raw, dict):
        return float(raw["value"])
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return float(raw)
    raise AllianceLabError(f"target is not a number: {raw!r}", field="changes.target")


def _bounds(kind: str, scales: dict[str, tuple[float, float]]) -> tuple[float, float]:
    if kind.startswith(("position:", "sq:")):
        return scales.get(kind.split(":", 1)[1], (-math.inf, math.inf))
    if kind in ("salience", "perception"):
        return 0.0, 1.0
    if kind == "capability":
        return 0.0, math.inf
    return -math.inf, math.inf


def _write(leaf: _Leaf, old: float | None, change: Change, mean: float,
           scales: dict[str, tuple[float, float]], label: str) -> float:
    """Write the changed number (clipped, its range and note updated); return it."""
    lo, hi = _bounds(leaf.kind, scales)
    raw = leaf.parent[leaf.key] if not isinstance(leaf.parent, dict) else leaf.parent.get(leaf.key)
    entry: dict[str, Any] = dict(raw) if isinstance(raw, dict) else {"value": old}
    x = change.value
    rng = entry.get("range")
    if change.op == "set":
        new, rng = x, None
    elif change.op == "add":
        new = old + x  # type: ignore[operator]
        rng = None if rng is None else (rng[0] + x, rng[1] + x)
    elif change.op == "scale":
        new = old * x  # type: ignore[operator]
        rng = None if rng is None else tuple(sorted((rng[0] * x, rng[1] * x)))
    else:  # converge
        new, rng = old + x * (mean - old), None  # type: ignore[operator]
    new = min(max(new, lo), hi)
    if rng is not None:
        r0, r1 = min(max(rng[0], lo), hi), min(max(rng[1], lo), hi)
        rng = (min(r0, new), max(r1, new))
    if isinstance(raw, int | float):  # a plain float field (e.g. a scale end), not a Value
        leaf.parent[leaf.key] = new
        return new
    entry["value"] = new
    entry["range"] = rng
    stamp = f"{label}: {change.op} {x:g}" + (f" ({change.source})" if change.source else "")
    entry["note"] = f"{entry['note']}; {stamp}" if entry.get("note") else stamp
    leaf.parent[leaf.key] = entry
    return new
