"""Veto players, ratification and legal bounds: the one place where a forecast is
constrained (docs/arenas.md).

Rule, issue by issue, after the engine's own forecast f:

1. **Veto players** (Tsebelis 2002, *Veto Players: How Political Institutions Work*, ch. 1-2):
   a change from the status quo q needs the agreement of every veto player v. With
   single-peaked (distance) preferences on a line, v accepts exactly the points at least as
   close to its ideal x_v as q is, its win-set W_v = {x : |x - x_v| <= |q - x_v|}; the
   outcome must lie in the intersection W = [L, U] of these intervals, which always holds q.
   The forecast is the point of W nearest f (the projection clip(f, L, U)): the bargain
   moved just as far as ratification requires. In Putnam's (1988, "Diplomacy and domestic
   politics: the logic of two-level games", *International Organization* 42(3)) terms, the
   Level-II ratifiers' win-set bounds the Level-I agreement.
2. **Legal bounds**: a floor or ceiling set by law clips what remains: clip(., floor, ceiling);
   where the law and the veto players' win-set do not overlap (a new law that moves the
   status quo), the law prevails.

Ideal points are the actors' input positions (``Problem.position``: round 0 of the
iterative engines, which move bargaining stances, not preferences). Every path applies it
through :meth:`.base.Engine.solve` and :meth:`.base.Engine.solve_batch`, so
:func:`alliancelab.forecast`, the iterative engines' final forecasts, the run job, the
dynamics and explorations all see the same constrained forecast.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ...core.errors import AllianceLabError
from ...core.problem import Problem


def win_set(ideal: np.ndarray, status_quo: float | np.ndarray
            ) -> tuple[np.ndarray, np.ndarray]:
    """Each veto player's win-set of the status quo, ``(low ends, high ends)``: the points
    at least as close to its ideal point as the status quo (elementwise, ``ideal`` and
    ``status_quo`` broadcast). One end is the status quo itself, exactly (no rounding), so
    the intersection always holds it."""
    q = np.asarray(status_quo, dtype=float)
    above = q >= ideal  # the status quo lies above the ideal point: W = [2 x_v - q, q]
    far = ideal + (ideal - q)  # the mirror image of the status quo
    for _ in range(4):  # rounding may put it an ulp too far out: step it back in
        out = np.abs(far - ideal) > np.abs(q - ideal)
        if not out.any():
            break
        far = np.where(out, np.nextafter(far, ideal), far)
    lo = np.where(above, far, q)
    hi = np.where(above, q, far)
    return lo, hi


def _issue(problem: Problem, k: int, f: float) -> tuple[float, dict[str, Any] | None]:
    """The constrained forecast of issue ``k`` and its diagnostics entry (``None`` when the
    issue has no rule)."""
    players = np.flatnonzero(problem.veto[:, k])
    floor, ceiling = float(problem.floor[k]), float(problem.ceiling[k])
    if players.size == 0 and floor == -np.inf and ceiling == np.inf:
        return f, None
    lo, hi, bound_by = -np.inf, np.inf, []
    value = f
    if players.size:
        sq = float(problem.status_quo[k])
        if np.isnan(sq):
            raise AllianceLabError(
                f"issue {problem.issues[k]!r} has veto players but no status quo: a veto "
                "blocks a change from the status quo (Tsebelis 2002)",
                field="status_quo",
            )
        lo_v, hi_v = win_set(problem.position[players, k], sq)
        lo, hi = float(lo_v.max()), float(hi_v.min())
        value = min(max(f, lo), hi)
        binding = lo_v == lo if value > f else (hi_v == hi if value < f else None)
        if binding is not None:
            bound_by = [problem.actors[j] for j in players[binding]]
    if value < floor:
        value, bound_by = floor, ["floor"]
    elif value > ceiling:
        value, bound_by = ceiling, ["ceiling"]
    entry = {
        "unconstrained": f,
        "forecast": value,
        "bound_by": bound_by,
        "veto_players": [problem.actors[j] for j in players],
        "win_set": [lo, hi] if players.size else None,
        "floor": floor if floor > -np.inf else None,
        "ceiling": ceiling if ceiling < np.inf else None,
    }
    return value, entry


def constrain(problem: Problem, forecast: np.ndarray) -> tuple[np.ndarray, dict[str, Any] | None]:
    """``forecast`` ``(d,)`` under the issues' veto players and legal bounds, and the
    diagnostics (issue -> ``unconstrained``, ``forecast``, ``bound_by`` (the veto players
    whose win-set bound, or ``"floor"``/``"ceiling"``; empty when nothing bound),
    ``veto_players``, ``win_set`` [L, U], ``floor``, ``ceiling``) for the issues that have a
    rule; ``(forecast, None)`` unchanged when no issue has one."""
    if not problem.has_rules:
        return forecast, None
    out = np.array(forecast, dtype=float)
    diag: dict[str, Any] = {}
    for k in range(problem.n_issues):
        value, entry = _issue(problem, k, float(out[k]))
        if entry is not None:
            out[k] = value
            diag[problem.issues[k]] = entry
    return out, diag


def constrain_rows(problems: Sequence[Problem], forecasts: np.ndarray) -> np.ndarray:
    """:func:`constrain` of every row of ``forecasts`` ``(N, d)``, row r with ``problems[r]``
    (all rows at once: the same arithmetic, element by element)."""
    out = np.asarray(forecasts, dtype=float)
    rows = [r for r, problem in enumerate(problems) if problem.has_rules]
    if not rows:
        return out
    ruled = [problems[r] for r in rows]
    veto = np.stack([p.veto for p in ruled])  # (R, n, d)
    sq = np.stack([np.asarray(p.status_quo, dtype=float) for p in ruled])
    vetoed = veto.any(axis=1)
    missing = vetoed & np.isnan(sq)
    if missing.any():
        r = int(np.flatnonzero(missing.any(axis=1))[0])
        _issue(ruled[r], int(np.flatnonzero(missing[r])[0]), 0.0)  # raises the one-line error
    lo_v, hi_v = win_set(np.stack([p.position for p in ruled]),
                         np.where(vetoed, sq, 0.0)[:, None, :])
    lo = np.where(veto, lo_v, -np.inf).max(axis=1)
    hi = np.where(veto, hi_v, np.inf).min(axis=1)
    f = out[rows]
    value = np.where(lo > f, lo, f)  # min(max(f, lo), hi) as Python has it (-0.0, NaN kept)
    value = np.where(hi < value, hi, value)
    floor = np.stack([p.floor for p in ruled])
    ceiling = np.stack([p.ceiling for p in ruled])
    below = value < floor
    value = np.where(below, floor, value)
    out = out.copy()
    out[rows] = np.where(~below & (value > ceiling), ceiling, value)
    return out
