"""The arrays an engine needs, derived once from a :class:`~alliancelab.core.case.Case`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .case import Case


@dataclass(frozen=True)
class Problem:
    """A case as arrays: n actors, d issues.

    ``position`` is in the issues' own units; ``lower``/``upper`` are the scale ends;
    ``status_quo`` is NaN where the case gives none. ``perceived_position[i, j]`` and
    ``perceived_salience[i, j]`` are actor i's estimates of actor j (the truth where the
    case states no estimate); ``perceived_capability[i, j]`` likewise.
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
    ) -> Problem:
        """Build a problem straight from arrays (positions ``(n,)`` or ``(n, d)``)."""
        cap = np.asarray(capability, dtype=float)
        pos = np.asarray(position, dtype=float)
        sal = np.asarray(salience, dtype=float)
        if pos.ndim == 1:
            pos, sal = pos[:, None], sal[:, None]
        n, d = pos.shape
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
        )
