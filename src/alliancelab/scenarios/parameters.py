"""The parameters of an exploration, in EMA Workbench's vocabulary.

* **uncertainties** - every number in a case whose :class:`~alliancelab.core.case.Value` carries a
  ``range``; sampled uniformly on ``[low, high]`` (EMA Workbench's ``RealParameter``;
  J. Kwakkel, "The Exploratory Modeling Workbench", *Environmental Modelling & Software* 96,
  2017). Shocks chosen for the exploration are boolean uncertainties (``shock.<name>``: the
  shock happens in a scenario or not), drawn on ``[0, 1]`` and switched on at ``u >= 0.5``.
* **constants** - every other number in the case (kept at its stated value).
* **levers** / **policies** - the case's levers the user picks; each policy is one lever or a
  combination ``a+b``; the policy ``none`` (no lever pulled) is always included, so regret
  compares every lever with doing nothing.
* **scenarios** - rows of the sampled design; **experiments** - every scenario crossed with
  every policy (EMA's full-factorial ``perform_experiments(scenarios, policies)``); experiment
  ``e`` is scenario ``e // n_policies`` under policy ``e % n_policies``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..core.case import Case, walk_values
from ..core.errors import AllianceLabError

#: array kinds an uncertain path maps to; ``other`` only matters to the dynamics.
KIND_CAP, KIND_POS, KIND_SAL, KIND_SQ, KIND_OTHER = 0, 1, 2, 3, 4


@dataclass(frozen=True)
class Uncertainty:
    """One uncertain parameter: ``name`` is its dotted path in the case (as
    :meth:`Case.values` spells it) or ``shock.<name>``; ``kind``/``actor``/``issue`` locate it
    in the :class:`~alliancelab.models.bargaining.Problem` arrays (``-1`` when not applicable)."""

    name: str
    low: float
    high: float
    default: float
    kind: int = KIND_OTHER
    actor: int = -1
    issue: int = -1
    boolean: bool = False


@dataclass(frozen=True)
class Policy:
    """A combination of levers pulled together (``()`` is the no-lever policy ``none``)."""

    name: str
    levers: tuple[str, ...]


def array_locations(case: Case) -> dict[str, tuple[int, int, int]]:
    """Dotted path -> (kind, actor index, issue index) for every number held in the
    bargaining arrays (capability, positions, saliences, status quo)."""
    issues = case.issue_names
    out: dict[str, tuple[int, int, int]] = {}
    for i, actor in enumerate(case.actors):
        out[f"actors.{actor.name}.capability"] = (KIND_CAP, i, -1)
        for k, issue in enumerate(issues):
            out[f"actors.{actor.name}.positions.{issue}"] = (KIND_POS, i, k)
            out[f"actors.{actor.name}.saliences.{issue}"] = (KIND_SAL, i, k)
    for k, issue in enumerate(issues):
        out[f"issues.{issue}.status_quo"] = (KIND_SQ, -1, k)
    return out


def uncertainties(case: Case, shocks: Sequence[str] = ()) -> list[Uncertainty]:
    """The case's uncertainties (every ranged Value, in :meth:`Case.values` order) followed
    by one boolean uncertainty per chosen shock."""
    known = {s.name for s in case.shocks}
    for name in shocks:
        if name not in known:
            raise AllianceLabError(
                f"unknown shock {name!r}; the case defines: {', '.join(sorted(known)) or 'none'}",
                field="shock",
            )
    where = array_locations(case)
    out: list[Uncertainty] = []
    for path, value in case.values():
        if value.range is None:
            continue
        lo, hi = value.range
        kind, i, k = where.get(path, (KIND_OTHER, -1, -1))
        out.append(Uncertainty(path, float(lo), float(hi), float(value.value), kind, i, k))
    out.extend(Uncertainty(f"shock.{s}", 0.0, 1.0, 0.0, boolean=True) for s in shocks)
    return out


def constants(case: Case) -> dict[str, float]:
    """Every number of the case without a range, by dotted path."""
    return {p: v.value for p, v in case.values() if v.range is None}


def policies(case: Case, levers: Sequence[str] = ()) -> list[Policy]:
    """``none`` plus one policy per requested lever (``a+b`` pulls levers a and b together)."""
    known = {lv.name for lv in case.levers}
    out = [Policy("none", ())]
    for spec in levers:
        parts = tuple(p.strip() for p in spec.split("+") if p.strip())
        for p in parts:
            if p not in known:
                raise AllianceLabError(
                    f"unknown lever {p!r}; the case defines: {', '.join(sorted(known)) or 'none'}",
                    field="lever",
                )
        name = "+".join(parts)
        if not parts or name in {q.name for q in out}:
            raise AllianceLabError(f"lever {spec!r} is empty or given twice", field="lever")
        out.append(Policy(name, parts))
    return out


# -- writing values back into a case (for the dynamics, which take a Case) ----------------


def value_locations(case: Case) -> dict[str, tuple[str | int, ...]]:
    """Dotted path (as :meth:`Case.values` spells it) -> location in ``case.model_dump()``."""
    return {label: loc for label, loc, _ in walk_values(case)}


def case_with(
    case: Case, updates: dict[str, float], locations: dict[str, tuple[str | int, ...]] | None = None
) -> Case:
    """``case`` with the numbers at the given dotted paths replaced (validated again)."""
    locations = locations if locations is not None else value_locations(case)
    data = case.model_dump()
    for path, x in updates.items():
        node: Any = data
        for key in locations[path]:
            node = node[key]
        node["value"] = float(x)
    return Case.model_validate(data)
