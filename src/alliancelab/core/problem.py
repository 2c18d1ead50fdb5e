"""The arrays an engine needs, derived once from a :class:`~alliancelab.core.case.Case`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .case import ActorSelection, Case


@dataclass(frozen=True)
class Problem:
    """A case as arrays: n actors, d issues.

    ``position`` is in the issues' own units; ``lower``/``upper`` are the scale ends;
    ``status_quo`` is NaN where the case gives none. ``perceived_position[i, j]`` and
    ``perceived_salience[i, j]`` are actor i's estimates of actor j (the truth where the
    case states no estimate); ``perceived_capability[i, j]`` likewise.

    The issues' arenas and rules (docs/arenas.md), all optional (``None`` -> the default):
    ``weight[i, k]`` is 1 where actor i has standing on issue k, its influence weight (0-1)
    where it is an influencer, 0 where it has no standing (default: 1 everywhere);
    ``veto[i, k]`` marks the veto players of issue k (default: none); ``floor`` and
    ``ceiling`` are the legal bounds of each issue (default: -inf and +inf).
    """

    actors: tuple[str, ...]
    issues: tuple[str, ...]
    capability: np.ndarray  # (n,)
    position: np.ndarray  # (n, d)
    salience: np.ndarray  # (n, d) on 0-1
    lower: np.ndarray  # (d,)
    upper: np.ndarray  # (d,)
    status_quo: np.ndarray  # (d,), NaN where unknown
    perceived_position: np.ndarray  # (n, n, d)
    perceived_salience: np.ndarray  # (n, n, d)
    perceived_capability: np.ndarray  # (n, n)
    weight: np.ndarray = None  # type: ignore[assignment]  # (n, d), set in __post_init__
    veto: np.ndarray = None  # type: ignore[assignment]  # (n, d) bool
    floor: np.ndarray = None  # type: ignore[assignment]  # (d,)
    ceiling: np.ndarray = None  # type: ignore[assignment]  # (d,)

    def __post_init__(self) -> None:
        shape = np.shape(self.position)
        d = shape[1] if len(shape) == 2 else 1
        defaults = {
            "weight": lambda: np.ones(shape),
            "veto": lambda: np.zeros(shape, dtype=bool),
            "floor": lambda: np.full(d, -np.inf),
            "ceiling": lambda: np.full(d, np.inf),
        }
        for name, make in defaults.items():
            value = getattr(self, name)
            value = make() if value is None else np.asarray(
                value, dtype=bool if name == "veto" else float
            )
            object.__setattr__(self, name, value)

    def normalised(self) -> Problem:
        """This problem with its capabilities (true and perceived) rescaled by a power of
        two when they could overflow or underflow (:func:`capability_shift`), else itself.
        Every engine solves the normalised problem (``Engine.solve``, ``solve_batch``), so a
        capability of 1e308 forecasts as one of 1."""
        shift = capability_shift(self.capability, self.perceived_capability)
        if not shift:
            return self
        return replace(self, capability=np.ldexp(np.asarray(self.capability, float), shift),
                       perceived_capability=np.ldexp(
                           np.asarray(self.perceived_capability, float), shift))

    @property
    def standing(self) -> np.ndarray:
        """``(n, d)`` bool: actor i takes part in issue k (standing or influence > 0)."""
        return self.weight > 0  # type: ignore[no-any-return]

    @property
    def has_arena(self) -> bool:
        """Whether some actor lacks full standing on some issue (a weight other than 1)."""
        return not bool(np.all(self.weight == 1.0))

    @property
    def has_rules(self) -> bool:
        """Whether some issue has veto players, a floor or a ceiling."""
        return bool(
            self.veto.any() or np.isfinite(self.floor).any() or np.isfinite(self.ceiling).any()
        )

    @property
    def n_actors(self) -> int:
        return len(self.actors)

    @property
    def n_issues(self) -> int:
        return len(self.issues)

    @classmethod
    def from_arrays(
        cls,
        capability: np.ndarray,
        position: np.ndarray,
        salience: np.ndarray,
        *,
        actors: tuple[str, ...] | None = None,
        issues: tuple[str, ...] | None = None,
        lower: np.ndarray | None = None,
        upper: np.ndarray | None = None,
        status_quo: np.ndarray | None = None,
        weight: np.ndarray | None = None,
        veto: np.ndarray | None = None,
        floor: np.ndarray | None = None,
        ceiling: np.ndarray | None = None,
    ) -> Problem:
        """Build a problem straight from arrays (positions ``(n,)`` or ``(n, d)``; ``weight``
        and ``veto`` shaped like the positions, ``floor`` and ``ceiling`` ``(d,)``)."""
        cap = np.asarray(capability, dtype=float)
        pos = np.asarray(position, dtype=float)
        sal = np.asarray(salience, dtype=float)
        if pos.ndim == 1:
            pos, sal = pos[:, None], sal[:, None]
        n, d = pos.shape
        rules: dict[str, Any] = {
            "weight": None if weight is None else np.asarray(weight, dtype=float).reshape(n, d),
            "veto": None if veto is None else np.asarray(veto, dtype=bool).reshape(n, d),
            "floor": None if floor is None else np.asarray(floor, dtype=float).reshape(d),
            "ceiling": None if ceiling is None else np.asarray(ceiling, dtype=float).reshape(d),
        }
        actors = actors or tuple(f"actor{i}" for i in range(n))
        issues = issues or tuple(f"issue{k}" for k in range(d))
        lo = np.zeros(d) if lower is None else np.asarray(lower, dtype=float)
        hi = np.full(d, 100.0) if upper is None else np.asarray(upper, dtype=float)
        sq = np.full(d, np.nan) if status_quo is None else np.asarray(status_quo, dtype=float)
        return cls(
            actors=tuple(actors),
            issues=tuple(issues),
            capability=cap,
            position=pos,
            salience=sal,
            lower=lo,
            upper=hi,
            status_quo=sq,
            perceived_position=np.broadcast_to(pos, (n, n, d)).copy(),
            perceived_salience=np.broadcast_to(sal, (n, n, d)).copy(),
            perceived_capability=np.broadcast_to(cap, (n, n)).copy(),
            **rules,
        )

    @classmethod
    def from_case(cls, case: Case) -> Problem:
        issues = case.issue_names
        actors = case.actor_names
        cap = np.array([a.capability.value for a in case.actors])
        pos = np.array([[a.positions[k].value for k in issues] for a in case.actors])
        sal = np.array([[a.saliences[k].value for k in issues] for a in case.actors])
        n, d = pos.shape
        ppos = np.broadcast_to(pos, (n, n, d)).copy()
        psal = np.broadcast_to(sal, (n, n, d)).copy()
        pcap = np.broadcast_to(cap, (n, n)).copy()
        index = {name: j for j, name in enumerate(actors)}
        issue_index = {name: k for k, name in enumerate(issues)}
        for i, actor in enumerate(case.actors):
            for other, est in actor.perceptions.estimates.items():
                j = index[other]
                for name, v in est.positions.items():
                    ppos[i, j, issue_index[name]] = v.value
                for name, v in est.saliences.items():
                    psal[i, j, issue_index[name]] = v.value
                if est.capability is not None:
                    pcap[i, j] = est.capability.value
        return cls(
            actors=actors,
            issues=issues,
            capability=cap,
            position=pos,
            salience=sal,
            lower=np.array([i.scale.min for i in case.issues]),
            upper=np.array([i.scale.max for i in case.issues]),
            status_quo=np.array(
                [np.nan if i.status_quo is None else i.status_quo.value for i in case.issues]
            ),
            perceived_position=ppos,
            perceived_salience=psal,
            perceived_capability=pcap,
            **_rules(case),
        )


#: capabilities whose largest lies outside [1 / CAPABILITY_RANGE, CAPABILITY_RANGE] are
#: rescaled (:func:`capability_shift`); inside it they are used exactly as given.
CAPABILITY_RANGE = 2.0**32


def capability_shift(*caps: np.ndarray) -> int:
    """The power of two ``k`` by which a problem's capabilities are multiplied (``ldexp(c,
    k)``) so that they cannot overflow or underflow: 0 when the largest is 0, not finite, or
    within [1 / :data:`CAPABILITY_RANGE`, :data:`CAPABILITY_RANGE`], else the ``k`` bringing
    the largest into [0.5, 1).

    Only the ratios of capabilities matter to every engine (a capability of 1e308 must
    forecast as 1 does), but their products and sums overflow (1e308 * 1e308 is inf: issue
    13 saw 90 forecast instead of 37.5) or underflow (1e-300 squared is 0). A power of two
    changes no ratio by a single bit (for normal numbers), and capabilities inside the range
    (every reference input of the parity tests) are left untouched, so those results stay
    bit for bit."""
    top = max((float(np.asarray(c).max()) for c in caps if np.size(c)), default=0.0)
    if not math.isfinite(top) or top <= 0.0 or 1.0 / CAPABILITY_RANGE <= top <= CAPABILITY_RANGE:
        return 0
    _, exponent = np.frexp(top)  # top = m * 2**exponent, 0.5 <= m < 1
    return -int(exponent)


def normalise_all(problems: Sequence[Problem]) -> list[Problem]:
    """``[p.normalised() for p in problems]``, checking each distinct pair of capability
    arrays once (the variants of a batch mostly share their base's arrays)."""
    shifts: dict[tuple[int, int], int] = {}
    out = []
    for p in problems:
        key = (id(p.capability), id(p.perceived_capability))  # alive while ``problems`` is
        if key not in shifts:
            shifts[key] = capability_shift(p.capability, p.perceived_capability)
        out.append(p.normalised() if shifts[key] else p)
    return out


def _rules(case: Case) -> dict[str, Any]:
    """The arrays of the issues' arenas, veto players and legal bounds (``None`` where the
    case has none, i.e. the defaults)."""
    select = ActorSelection(case)
    out: dict[str, Any] = {"weight": None, "veto": None, "floor": None, "ceiling": None}
    if any(i.arena is not None for i in case.issues):
        out["weight"] = _arena_weights(case, select)
    if any(i.veto for i in case.issues):
        veto = [[False] * len(case.issues) for _ in case.actors]
        for k, issue in enumerate(case.issues):
            for vp in issue.veto:
                for i in select(vp.actor):
                    veto[i][k] = True
        out["veto"] = np.array(veto)
    for kind, empty in (("floor", -np.inf), ("ceiling", np.inf)):
        if any(getattr(i, kind) is not None for i in case.issues):
            out[kind] = np.array(
                [empty if getattr(i, kind) is None else getattr(i, kind).value
                 for i in case.issues]
            )
    return out


def _arena_weights(case: Case, select: ActorSelection) -> np.ndarray:
    """``weight`` ``(n, d)``: 1 where an actor has standing, its influence weight where it
    is an influencer, 0 elsewhere on an issue with an arena (1 on one without)."""
    weight = [[1.0] * len(case.issues) for _ in case.actors]
    for k, issue in enumerate(case.issues):
        arena = issue.arena
        if arena is None:
            continue
        if arena.standing is not None:
            for row in weight:
                row[k] = 0.0
            for sel in arena.standing:
                for i in select(sel):
                    weight[i][k] = 1.0
        for who, w in arena.influence.items():
            for i in select(who):
                weight[i][k] = w.value
    return np.array(weight)
