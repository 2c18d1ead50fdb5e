"""Arenas: who bargains on which issue (docs/arenas.md).

``Problem.weight[i, k]`` is 1 where actor i has standing on issue k, its influence weight
(0-1) where it weighs in from outside, 0 where it has no standing. Every engine multiplies an
actor's clout on the issue, ``c_i s_ik``, by the weight, and leaves the actors with weight 0
out of the issue altogether: they neither vote nor are targeted there, and their position
does not count. The helpers here do that the same way for every engine; with every weight 1
each returns exactly (bit for bit) what the engine computed before arenas existed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ...core.problem import Problem


def weights(
    capability: np.ndarray, salience: np.ndarray, weight: np.ndarray | None = None
) -> np.ndarray:
    """Effective weights ``c_i s_ik`` ``(n, d)``, times the arena weight ``weight[i, k]``
    where given. An issue where every weight is zero falls back to capability (times the
    arena weight), and then to the arena weights alone (equal weights without an arena)."""
    w = capability[:, None] * salience
    if weight is not None:
        w = w * weight
    dead = w.sum(axis=0) <= 0
    if dead.any():
        if weight is None:
            fallback = np.where(capability.sum() > 0, capability, np.ones_like(capability))
            w[:, dead] = fallback[:, None]
        else:
            fb = capability[:, None] * weight[:, dead]
            none = fb.sum(axis=0) <= 0
            w[:, dead] = np.where(none[None, :], weight[:, dead], fb)
    return w


def hull(position: np.ndarray, standing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The range of the positions ``(..., n, d)`` of the actors with standing, per issue
    (and per draw when there is a leading draws axis)."""
    lo = np.where(standing, position, np.inf).min(axis=-2)
    hi = np.where(standing, position, -np.inf).max(axis=-2)
    return lo, hi


def stacked(problems: Sequence[Problem]) -> tuple[np.ndarray, ...]:
    """Capability ``(N, n)``, position, salience and arena weight ``(N, n, d)`` of problems
    with the same actors and issues, draws on the leading axis (for ``_solve_batch``)."""
    return (np.stack([p.capability for p in problems]),
            np.stack([p.position for p in problems]),
            np.stack([p.salience for p in problems]),
            np.stack([p.weight for p in problems]))


def issue_groups(problem: Problem) -> list[tuple[np.ndarray, np.ndarray]]:
    """The issues grouped by who takes part: ``(actor indices, issue indices)`` per group,
    groups in order of their first issue. With full standing everywhere: one group, every
    actor and every issue."""
    standing = problem.standing
    groups: dict[bytes, list[int]] = {}
    for k in range(problem.n_issues):
        groups.setdefault(standing[:, k].tobytes(), []).append(k)
    return [
        (np.flatnonzero(standing[:, ks[0]]), np.array(ks, dtype=np.intp))
        for ks in groups.values()
    ]


def hold(rounds: np.ndarray, problem: Problem) -> np.ndarray:
    """``rounds`` ``(R+1, n, d)`` with every actor that has no standing on an issue held at
    its input position there (it takes no part, so it does not move)."""
    if problem.has_arena:
        out = np.where(problem.standing[None], rounds, problem.position[None])
        return out  # type: ignore[no-any-return]
    return rounds
