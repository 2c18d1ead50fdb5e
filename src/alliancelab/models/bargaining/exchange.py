"""``exchange``: Stokman & Van Oosten's exchange of voting positions, in its Equal Gain
(Equal Utility Exchange) form -- trades across issues.

Sources: F. N. Stokman & R. Van Oosten, "The exchange of voting positions: an
object-oriented model of policy networks", in B. Bueno de Mesquita & F. N. Stokman (eds.),
*European Community Decision Making*, Yale UP 1994, 105-127; J. Dijkstra, M. Van Assen,
F. Stokman & J. Draaijer (2018), "Random variation of exchange rates in the equal utility
exchange model" (the Equal Gain model is its p = 0 case); applied to the EU by Arregui,
Stokman & Thomson (2004, EUP 5(1)) and in Thomson et al. (2006), *The European Union
Decides*, ch. 5. The rules below were checked, rule by rule and on shared inputs, against
the public implementation by the 2018 paper's fourth author (GitHub
``foarsitter/decide-exchange-model``, ``decide/model/equalgain.py``); docs/exchange.md lists
the parity runs and every difference. No code of it is used here.

Positions are put on each issue's scale as 0-100 points, ``z = 100 (x - lo) / (hi - lo)``,
so that utilities of different issues add up. Weights ``w_ik = c_i s_ik a_ik`` with ``a``
the arena weight (``Problem.weight``); actors with ``a_ik = 0`` neither count nor trade on
issue k. One round, from the start positions ``x`` (the input in round 1):

* **Expected outcome** ``O_k = sum_i w_ik v_ik / W_k``, ``W_k = sum_i w_ik`` (the compromise
  model), of the current voting positions ``v`` (``v = x`` when the round starts).
  Utility of i: ``U_i = -sum_k s_ik |O_k - x_ik|``.
* **Who can trade.** i and j can exchange on issues a and b when they lie on opposite sides
  of the round's initial expected outcome on both (an actor within 1e-9 points of ``O_k``
  is on neither side), both have standing on both, and their relative saliences differ: i
  *supplies* a and *demands* b when ``s_ib s_ja > s_jb s_ia``. i then moves its voting
  position on a towards ``x_ja``, j on b towards ``x_ib``.
* **Equal gain.** A shift ``d_a`` of the expected outcome on a (i's move times
  ``w_ia / W_a``) and ``d_b`` on b give i ``d_b s_ib - d_a s_ia`` and j
  ``d_a s_ja - d_b s_jb``; they are equal when ``d_b = rho d_a``,
  ``rho = (s_ia + s_ja) / (s_ib + s_jb)``. One trader moves all the way to the other's
  position and the other moves what equalises the gains: ``d_a = min(full_a, full_b/rho)``
  with ``full_a = |x_ja - v_ia| w_ia / W_a`` and ``full_b = |x_ib - v_jb| w_jb / W_b``.
  The common gain is ``d_a (rho s_ib - s_ia) > 0``.
* **No overshooting.** The expected outcome may not pass the demander's position: ``d_a``
  is capped by the distance from the current ``O_a`` to ``x_ja`` (and ``d_b`` by that from
  ``O_b`` to ``x_ib``); both legs shrink in proportion, so the gains stay equal.
* **Greedy execution.** The feasible exchange with the largest gain is executed (ties:
  by the actors' and issues' names, so the order of the input does not matter); ``v`` and
  ``O`` are updated and every remaining exchange is recomputed on them. An exchange is
  dropped for the rest of the round once it is infeasible: a gain (before the cap) under
  1e-10, a move of either trader of 1e-10 points or less, or a move against the direction
  in which that trader already moved on that issue this round. A trader may trade the same
  issue again with another partner (further in the same direction).
* **Next round.** Each actor that moved on an issue internalises part of its voting
  position: ``x' = x + (f + g (1 - s_ik)) (v - x)`` with ``f = fixed_weight`` (0.1) and
  ``g = salience_weight`` (0.4), the rule of the reference implementation (the less the
  actor cares, the more of the concession it keeps).

``rounds[t]`` (t >= 1) are the voting positions at the end of round t; the forecast is the
expected outcome of the last round's voting positions. Every executed trade leaves both
traders better off in their own utilities (by ``gain`` on the model's linear terms; the
realised gain is never smaller, because the supplier's loss is at most ``s d``).
Diagnostics: ``exchanges`` (one record per trade), ``links`` (trades per issue pair),
``expected_outcome`` ``(R+1, d)``, ``start_positions`` ``(R+1, n, d)`` and ``n_exchanges``
``(R,)``. Perceptions and status quo are not used (the model assumes full information).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar

import numpy as np

from ...core.errors import AllianceLabError
from ...core.limits import checkpoint
from ...core.problem import Problem
from . import _eu
from .arena import hull, weights
from .base import Engine, Outcome

#: an actor this close (points on the 0-100 scale) to the expected outcome is on no side;
#: a cap on the outcome's shift smaller than this is no room at all
SIDE_TOL = 1e-9
#: the reference's thresholds: smallest common gain (before the cap) and smallest move
MIN_GAIN = 1e-10
MIN_MOVE = 1e-10
#: gains within this relative distance of the best are tied (broken by names)
TIE_REL = 1e-11


@dataclass(frozen=True)
class _Pairs:
    """Candidate exchanges of one round: i supplies issue a and demands b; j supplies b and
    demands a (arrays of equal length)."""

    i: np.ndarray
    j: np.ndarray
    a: np.ndarray
    b: np.ndarray
    rho: np.ndarray  # d_b / d_a, the equal-gain rate
    unit: np.ndarray  # the common gain per point of d_a: rho s_ib - s_ia (> 0)
    rank: np.ndarray  # order for breaking ties: by the names of i, j, a, b

    def take(self, idx: np.ndarray) -> _Pairs:
        return _Pairs(self.i[idx], self.j[idx], self.a[idx], self.b[idx], self.rho[idx],
                      self.unit[idx], self.rank[idx])


@dataclass(frozen=True)
class _Step:
    """The equal-gain terms of some candidates on the current voting positions."""

    shift: np.ndarray  # |d_a|, points
    move_i: np.ndarray  # |i's move on a|, points
    move_j: np.ndarray  # |j's move on b|, points
    dir_i: np.ndarray  # sign of i's move (and of d_a)
    dir_j: np.ndarray
    gain: np.ndarray  # the common gain
    feasible: np.ndarray
    binding: np.ndarray  # index into BINDING


#: what limits a trade: i moves all the way, j does, or the outcome reaches a demander
BINDING = ("i_moves_fully", "j_moves_fully", "outcome_reaches_j_on_a", "outcome_reaches_i_on_b")


def _candidates(
    side: np.ndarray, s: np.ndarray, standing: np.ndarray, names: tuple[np.ndarray, np.ndarray]
) -> _Pairs:
    """Every (i, j, a, b) that can trade at the start of a round (module docstring),
    oriented so that i supplies a; ``names`` ranks the actors and the issues by name."""
    n, d = s.shape
    ia, ib = np.triu_indices(d, k=1)
    sa, sb = s[:, ia], s[:, ib]  # (n, P): saliences on the first / second issue of a pair
    opposite = (side[:, None, ia] * side[None, :, ia] < 0) & (
        side[:, None, ib] * side[None, :, ib] < 0
    )
    able = standing[:, ia] & standing[:, ib]
    supplies_a = sb[:, None, :] * sa[None, :, :] > sb[None, :, :] * sa[:, None, :]
    supplies_b = sa[:, None, :] * sb[None, :, :] > sa[None, :, :] * sb[:, None, :]
    base = opposite & able[:, None, :] & able[None, :, :]
    i1, j1, p1 = np.nonzero(base & supplies_a)  # i supplies the first issue of pair p
    i2, j2, p2 = np.nonzero(base & supplies_b)  # i supplies the second
    i = np.concatenate([i1, i2])
    j = np.concatenate([j1, j2])
    a = np.concatenate([ia[p1], ib[p2]])
    b = np.concatenate([ib[p1], ia[p2]])
    keep = i < j  # each unordered pair once: (i, j, a, b) and (j, i, b, a) are one trade
    i, j, a, b = i[keep], j[keep], a[keep], b[keep]
    rho = (s[i, a] + s[j, a]) / (s[i, b] + s[j, b])
    unit = rho * s[i, b] - s[i, a]
    actor, issue = names
    order = np.lexsort((issue[b], issue[a], actor[j], actor[i]))
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return _Pairs(i, j, a, b, rho, unit, rank)


def _evaluate(c: _Pairs, v: np.ndarray, x: np.ndarray, out: np.ndarray, share: np.ndarray,
              moved: np.ndarray) -> _Step:
    """The equal-gain terms of the candidates ``c`` on voting positions ``v`` with expected
    outcome ``out``; ``x`` are the round's start positions, ``share[i, k] = w_ik / W_k`` and
    ``moved[i, k]`` the direction in which i already moved on k this round (0: not yet)."""
    to_i, to_j = x[c.j, c.a] - v[c.i, c.a], x[c.i, c.b] - v[c.j, c.b]
    dir_i, dir_j = np.sign(to_i), np.sign(to_j)
    r_i, r_j = share[c.i, c.a], share[c.j, c.b]
    full_i, full_j = np.abs(to_i) * r_i, np.abs(to_j) * r_j / c.rho
    room_a = np.maximum(dir_i * (x[c.j, c.a] - out[c.a]), 0.0)
    room_b = np.maximum(dir_j * (x[c.i, c.b] - out[c.b]), 0.0)
    room_a = np.where(room_a > SIDE_TOL, room_a, 0.0)
    room_b = np.where(room_b > SIDE_TOL, room_b, 0.0) / c.rho
    shift = np.minimum(np.minimum(full_i, full_j), np.minimum(room_a, room_b))
    # the first limit that binds (in the order of BINDING)
    binding = np.where(full_i == shift, 0, np.where(full_j == shift, 1,
                                                     np.where(room_a == shift, 2, 3)))
    safe_i, safe_j = np.where(r_i > 0, r_i, 1.0), np.where(r_j > 0, r_j, 1.0)
    move_i = np.where(r_i > 0, shift / safe_i, 0.0)
    move_j = np.where(r_j > 0, shift * c.rho / safe_j, 0.0)
    before_i, before_j = moved[c.i, c.a], moved[c.j, c.b]
    same_way = ((before_i == 0) | (before_i == dir_i)) & ((before_j == 0) | (before_j == dir_j))
    feasible = (
        (np.minimum(full_i, full_j) * c.unit >= MIN_GAIN)
        & (move_i > MIN_MOVE)
        & (move_j > MIN_MOVE)
        & same_way
    )
    return _Step(shift, move_i, move_j, dir_i, dir_j, shift * c.unit, feasible, binding)


def _outcome(v: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The expected outcome, sum_i w_ik v_ik / W_k, per issue."""
    return (w * v).sum(axis=0) / w.sum(axis=0)  # type: ignore[no-any-return]


def _utility_change(o0: np.ndarray, o1: np.ndarray, x: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Each actor's change of utility -sum_k s_k |O_k - x_k| when the outcome moves from
    ``o0`` to ``o1``."""
    return (s * (np.abs(o0 - x) - np.abs(o1 - x))).sum(axis=1)  # type: ignore[no-any-return]


def _round(
    x: np.ndarray, s: np.ndarray, w: np.ndarray, share: np.ndarray, standing: np.ndarray,
    names: tuple[np.ndarray, np.ndarray],
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """One round of exchanges from start positions ``x`` (points): the voting positions at
    its end and the trades in the order executed (positions in points)."""
    out = _outcome(x, w)
    gap = x - out
    side = np.where(standing & (np.abs(gap) > SIDE_TOL), np.sign(gap), 0.0)
    pairs = _candidates(side, s, standing, names)
    v = x.copy()
    moved = np.zeros_like(x)
    step = _evaluate(pairs, v, x, out, share, moved)
    live = step.feasible.copy()  # an infeasible exchange is out for the rest of the round
    on = np.arange(x.shape[1])[:, None]
    touches = (pairs.a[None, :] == on) | (pairs.b[None, :] == on)  # (d, candidates)
    trades: list[dict[str, Any]] = []
    while live.any():
        ok = np.flatnonzero(live)
        top = step.gain[ok].max()
        tied = ok[step.gain[ok] >= top - TIE_REL * top]
        k = int(tied[np.argmin(pairs.rank[tied])])
        live[k] = False
        i, j, a, b = int(pairs.i[k]), int(pairs.j[k]), int(pairs.a[k]), int(pairs.b[k])
        before, o0 = (float(v[i, a]), float(v[j, b])), out.copy()
        v[i, a] += step.dir_i[k] * step.move_i[k]
        v[j, b] += step.dir_j[k] * step.move_j[k]
        if step.binding[k] == 0:  # exactly to the partner's position, not one ulp past
            v[i, a] = x[j, a]
        elif step.binding[k] == 1:
            v[j, b] = x[i, b]
        moved[i, a], moved[j, b] = step.dir_i[k], step.dir_j[k]
        out[[a, b]] = _outcome(v[:, [a, b]], w[:, [a, b]])
        realised = _utility_change(o0, out, x, s)
        trades.append(
            {
                "i": i, "j": j, "a": a, "b": b,
                "i_from": before[0], "i_to": float(v[i, a]),
                "j_from": before[1], "j_to": float(v[j, b]),
                "shift_a": float(out[a] - o0[a]), "shift_b": float(out[b] - o0[b]),
                "gain": float(step.gain[k]),
                "gain_i": float(realised[i]), "gain_j": float(realised[j]),
                "binding": BINDING[int(step.binding[k])],
            }
        )
        # only the exchanges on issue a or b can have changed
        redo = np.flatnonzero(live & (touches[a] | touches[b]))
        if redo.size:
            sub = _evaluate(pairs.take(redo), v, x, out, share, moved)
            _assign(step, redo, sub)
            live[redo] = sub.feasible
    return v, trades


def _assign(step: _Step, idx: np.ndarray, sub: _Step) -> None:
    """Write the re-evaluated candidates ``sub`` into ``step`` at ``idx``."""
    for f in fields(_Step):
        getattr(step, f.name)[idx] = getattr(sub, f.name)


class Exchange(Engine):
    """Stokman & Van Oosten's exchange model, Equal Gain form (see the module docstring).

    Options: ``rounds`` (10: rounds of exchanges; 1 is the one-round model of the 1994
    chapter), ``fixed_weight`` (0.1) and ``salience_weight`` (0.4): an actor keeps the share
    ``fixed_weight + salience_weight * (1 - salience)`` of a concession as its start
    position in the next round (the two add up to at most 1).
    """

    name = "exchange"
    min_actors = 2
    iterative = True
    #: trades across issues: a caller with many one-issue problems that belong together
    #: (the issues of one DEU proposal) should solve them as one problem
    links_issues: ClassVar[bool] = True

    def __init__(
        self, rounds: int = 10, fixed_weight: float = 0.1, salience_weight: float = 0.4
    ) -> None:
        self.rounds = _eu.check_rounds(rounds)
        self.fixed_weight = _eu.check_unit(fixed_weight, "fixed_weight")
        self.salience_weight = _eu.check_unit(salience_weight, "salience_weight")
        if self.fixed_weight + self.salience_weight > 1.0:
            raise AllianceLabError(
                "fixed_weight + salience_weight must be at most 1, got "
                f"{self.fixed_weight} + {self.salience_weight}",
                field="salience_weight",
            )

    def _solve(self, problem: Problem, rng: np.random.Generator) -> Outcome:
        pos = problem.position.astype(float)
        n, d = pos.shape
        standing = problem.weight > 0  # honour arenas: no standing -> no weight, no trade
        lo_h, hi_h = hull(pos, standing)  # the participants' range (inf where none)
        lo = np.minimum(problem.lower, np.where(np.isfinite(lo_h), lo_h, problem.lower))
        width = np.maximum(problem.upper, np.where(np.isfinite(hi_h), hi_h, problem.upper)) - lo
        width = np.where(width > 0, width, 1.0)
        z0 = (pos - lo) / width * 100.0
        s = np.where(standing, problem.salience, 0.0)
        w = weights(problem.capability, problem.salience, problem.weight)
        live = problem.capability[:, None] * s * problem.weight  # no fallback: who can shift
        total = live.sum(axis=0)
        share = live / np.where(total > 0, total, 1.0)
        names = (_ranks(problem.actors), _ranks(problem.issues))
        keep = self.fixed_weight + self.salience_weight * (1.0 - s)

        rounds = np.empty((self.rounds + 1, n, d))
        starts = np.empty_like(rounds)
        rounds[0] = starts[0] = pos
        x = z0.copy()
        records: list[dict[str, Any]] = []
        counts = np.zeros(self.rounds, dtype=int)
        for t in range(self.rounds):
            checkpoint()
            v, trades = _round(x, s, w, share, standing, names)
            if not trades:  # nobody moved: every later round is this one
                rounds[t + 1 :] = starts[t + 1 :] = starts[t]
                break
            counts[t] = len(trades)
            records += [_record(tr, t + 1, problem, lo, width) for tr in trades]
            rounds[t + 1] = pos + (v - z0) / 100.0 * width
            x = x + keep * (v - x)
            starts[t + 1] = pos + (x - z0) / 100.0 * width
        expected = np.clip(np.stack([_outcome(r, w) for r in rounds]), lo_h, hi_h)
        diagnostics: dict[str, Any] = {
            "forecast_rule": "expected outcome (c*s weighted mean) of the last round's "
            "voting positions",
            "expected_outcome": expected,
            "start_positions": starts,
            "n_exchanges": counts,
            "exchanges": records,
            "links": _links(records),
        }
        return Outcome(rounds=rounds, forecast=expected[-1].copy(), diagnostics=diagnostics)


def _ranks(names: tuple[str, ...]) -> np.ndarray:
    """The rank of each name in sorted order."""
    order = sorted(range(len(names)), key=lambda k: names[k])
    rank = np.empty(len(names), dtype=np.intp)
    rank[order] = np.arange(len(names))
    return rank


def _record(
    tr: dict[str, Any], t: int, problem: Problem, lo: np.ndarray, width: np.ndarray
) -> dict[str, Any]:
    """A trade with names and positions in the issues' own units. ``gain`` is the common
    (model) gain, ``gain_i``/``gain_j`` each trader's realised change of its own utility,
    both in salience x points on the 0-100 scale."""
    a, b = tr["a"], tr["b"]

    def units(z: float, k: int) -> float:
        return float(lo[k] + z / 100.0 * width[k])

    return {
        "round": t,
        "i": problem.actors[tr["i"]],
        "j": problem.actors[tr["j"]],
        "issue_a": problem.issues[a],
        "issue_b": problem.issues[b],
        "i_from": units(tr["i_from"], a),
        "i_to": units(tr["i_to"], a),
        "j_from": units(tr["j_from"], b),
        "j_to": units(tr["j_to"], b),
        "shift_a": tr["shift_a"] / 100.0 * float(width[a]),
        "shift_b": tr["shift_b"] / 100.0 * float(width[b]),
        "gain": tr["gain"],
        "gain_i": tr["gain_i"],
        "gain_j": tr["gain_j"],
        "binding": tr["binding"],
    }


def _links(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Trades per pair of issues (names sorted), most first."""
    count: dict[tuple[str, ...], int] = {}
    for r in records:
        pair = tuple(sorted((r["issue_a"], r["issue_b"])))
        count[pair] = count.get(pair, 0) + 1
    ranked = sorted(count.items(), key=lambda kv: (-kv[1], kv[0]))
    return [{"issues": list(p), "exchanges": k} for p, k in ranked]
