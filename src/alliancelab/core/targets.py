"""Targets of shocks and levers: dotted paths into a case's data, resolved to the numbers
they name (the rules are in :mod:`alliancelab.scenarios.interventions`).

Here, below the readers, so that a case file's interventions are checked when it is read
(:func:`target_problem`, called by the YAML reader with the line of the change) by the very
resolution that applies them later: ``forecast`` and ``run`` then accept the same cases.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .case import DYNAMICS_PARAMETERS, Case, Change
from .errors import AllianceLabError

__all__ = ["Leaf", "names_item", "resolve", "target_problem"]


@dataclass
class Leaf:
    parent: Any  # dict or list holding the number
    key: Any
    actor: int | None  # index of the actor the number belongs to, if any
    kind: str  # "position:<issue>", "salience", "perception", "capability", "sq:<issue>", ""



def resolve(node: Any, segs: list[str], create: bool, actor: int | None = None,
             trail: tuple[str, ...] = ()) -> Iterable[Leaf]:
    """Every (container, key) a dotted path matches."""
    if not segs:
        return
    if isinstance(node, list):
        yield from _resolve_list(node, segs, create, actor, trail)
    elif isinstance(node, dict):
        yield from _resolve_dict(node, segs, create, actor, trail)


def _resolve_list(node: list[Any], segs: list[str], create: bool, actor: int | None,
                  trail: tuple[str, ...]) -> Iterable[Leaf]:
    """The items of a list (actors, issues, links...) the first segment(s) match."""
    seg, rest = segs[0], segs[1:]
    for idx, item in enumerate(node):
        name = item.get("name") if isinstance(item, dict) else None
        matched, remaining = _match_item(seg, rest, idx, name, item)
        if not matched:
            continue
        who = idx if trail == ("actors",) else actor
        if remaining:
            yield from resolve(item, remaining, create, who, (*trail, str(name or idx)))
        elif isinstance(item, dict) and "value" not in item:
            raise AllianceLabError(f"path ends at {name or idx!r}, not a number",
                                   field="changes.target")
        else:
            yield Leaf(node, idx, who, _kind(trail, str(idx)))


def _dict_keys(node: dict[str, Any], segs: list[str], create: bool,
               trail: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """The keys of ``node`` the path's first segment(s) name, and the rest of the path.
    Keys may contain dots (the longest run of segments that names a key wins); ``set`` may
    create a missing number or a new estimate of another actor."""
    seg, rest = segs[0], segs[1:]
    if seg == "*":
        return [k for k, v in node.items() if v is not None or not rest], rest
    for j in range(len(segs), 0, -1):
        cand = ".".join(segs[:j])
        if cand in node:
            return [cand], segs[j:]
    if create and not rest and _numeric_slot(trail):
        return [seg], rest
    if create and rest and trail[-1:] == ("estimates",):
        node[seg] = {"positions": {}, "saliences": {}, "capability": None}
        return [seg], rest  # a new estimate of another actor (validated afterwards)
    return [], rest


def _resolve_dict(node: dict[str, Any], segs: list[str], create: bool, actor: int | None,
                  trail: tuple[str, ...]) -> Iterable[Leaf]:
    keys, rest = _dict_keys(node, segs, create, trail)
    for key in keys:
        value = node.get(key)
        if rest:
            if value is not None:
                yield from resolve(value, rest, create, actor, (*trail, key))
        elif not (isinstance(value, dict) and "value" not in value) \
                and not isinstance(value, list | str | bool):
            yield Leaf(node, key, actor, _kind(trail, key))


def _match_item(seg: str, rest: list[str], idx: int, name: str | None,
                item: Any) -> tuple[bool, list[str]]:
    if seg == "*":
        return True, rest
    if seg.startswith("group:"):
        groups = set(seg[len("group:"):].split("+"))
        return isinstance(item, dict) and item.get("group") in groups, rest
    if seg == str(idx):
        return True, rest
    if name is None:
        return False, rest
    segs = [seg, *rest]
    for j in range(len(segs), 0, -1):
        if ".".join(segs[:j]) == name:
            return True, segs[j:]
    return False, rest


def names_item(segs: list[str], idx: int, item: Any) -> bool:
    """Whether the path ``segs`` into a list (its first segment(s)) matches the list's item
    ``idx`` (:func:`resolve` descends into exactly these items)."""
    name = item.get("name") if isinstance(item, dict) else None
    return _match_item(segs[0], segs[1:], idx, name, item)[0]


def _numeric_slot(trail: tuple[str, ...]) -> bool:
    """Where ``set`` may create a missing number (a perception, estimate or dynamics value)."""
    return bool(trail) and trail[-1] in {"threats", "positions", "saliences", "dynamics"}


def _kind(trail: tuple[str, ...], key: str) -> str:
    if "estimates" in trail:
        return f"position:{key}" if trail[-1] == "positions" else (
            "salience" if trail[-1] == "saliences" else "capability"
        )
    if trail[-1:] == ("positions",):
        return f"position:{key}"
    if trail[-1:] == ("saliences",):
        return "salience"
    if "perceptions" in trail or key == "partner_reliability":
        return "perception"
    if key == "capability":
        return "capability"
    if key == "status_quo" and len(trail) >= 2 and trail[0] == "issues":
        return f"sq:{trail[1]}"
    return ""


def target_problem(case: Case, data: dict[str, Any], change: Change) -> str | None:
    """What is wrong with ``change`` as an edit of ``case`` (``data`` is a copy of
    ``case.model_dump()`` it may change), or None: a target that matches no number, a
    number created where the case has no such issue, actor or dynamics parameter."""
    try:
        leaves = list(resolve(data, change.target.split("."), change.op == "set"))
    except AllianceLabError as exc:
        return f"target {change.target!r}: {exc.message}"
    if not leaves:
        return f"target {change.target!r} matches no number in the case"
    issues, actors = set(case.issue_names), set(case.actor_names)
    for leaf in leaves:
        parent = leaf.parent
        if not isinstance(parent, dict) or leaf.key in parent:
            continue  # an existing number
        if (leaf.kind.startswith("position:") or leaf.kind == "salience") \
                and leaf.key not in issues:
            return f"target {change.target!r}: unknown issue {leaf.key!r}"
        if parent is data.get("dynamics") and leaf.key not in DYNAMICS_PARAMETERS:
            return (f"target {change.target!r}: unknown dynamics parameter {leaf.key!r}; "
                    f"known: {', '.join(DYNAMICS_PARAMETERS)}")
    for actor in data["actors"]:
        for other in actor["perceptions"]["estimates"]:
            if other not in actors:
                return f"target {change.target!r}: estimate of unknown actor {other!r}"
    return None
