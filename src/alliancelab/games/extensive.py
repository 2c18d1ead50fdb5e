"""Finite extensive-form games with incomplete information and a perfect Bayesian solver.

A game is a tree: chance nodes (Nature draws the players' types, Harsanyi 1967-68), decision
nodes grouped into information sets (a player does not see the others' types), and terminal
nodes with one payoff per player. Two solvers:

* :func:`backward_induction` -- subgame-perfect equilibrium of a game of complete (perfect)
  information (every information set a single node); exact, ties broken towards the first
  action.
* :func:`solve_pbe` -- a perfect Bayesian equilibrium of a game with incomplete information,
  found as the limit of the agent logit quantal-response equilibrium (McKelvey & Palfrey 1998,
  *Experimental Economics* 1: 9-41) as the precision ``lambda`` grows. Every logit QRE has
  full support, so beliefs are defined everywhere by Bayes' rule, and the limit of the traced
  branch is a sequential equilibrium (hence a PBE) of the game. The returned profile is then
  checked independently by :func:`pbe_violation`: at every information set, each action
  played with positive probability must be a best response (within ``tol``) to the beliefs
  given by Bayes' rule from the profile (off the path, from the logit limit).

Payoffs are normalised per player to [0, 1] inside the solver, so ``lambda`` has one scale.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize
from scipy.special import logsumexp

from ..errors import AllianceLabError


@dataclass
class _Node:
    kind: str  # "chance" | "decision" | "terminal"
    player: int = -1
    infoset: int = -1
    probs: tuple[float, ...] = ()
    children: list[int] = field(default_factory=list)
    payoff: tuple[float, ...] = ()
    outcome: str = ""
    label: str = ""


@dataclass
class _Infoset:
    player: int
    key: str
    actions: tuple[str, ...]
    nodes: list[int] = field(default_factory=list)


class Game:
    """A finite extensive-form game, built top-down.

    >>> g = Game(["Ch", "Def"])
    >>> root = g.decision("Ch", "Ch:start", ["C", "D"])
    >>> sq = g.terminal("SQ", [1, 3])
    >>> d = g.decision("Def", "Def:resp", ["C", "D"])
    >>> g.attach(root, [sq, d]); g.attach(d, [g.terminal("DC", [2, 1]), g.terminal("DD", [0, 2])])
    >>> backward_induction(g).outcome_probs
    {'SQ': 1.0}
    """

    def __init__(self, players: Sequence[str]) -> None:
        self.players = tuple(players)
        self.nodes: list[_Node] = []
        self.infosets: list[_Infoset] = []
        self._infoset_index: dict[str, int] = {}

    # -- building --------------------------------------------------------------------
    def _pidx(self, player: str) -> int:
        try:
            return self.players.index(player)
        except ValueError:
            raise AllianceLabError(f"unknown player {player!r}") from None

    def chance(self, probs: Sequence[float], label: str = "") -> int:
        p = np.asarray(probs, dtype=float)
        if (p < 0).any() or not np.isclose(p.sum(), 1.0):
            raise AllianceLabError(f"chance probabilities must be >= 0 and sum to 1, got {probs}")
        self.nodes.append(_Node("chance", probs=tuple(float(x) for x in p), label=label))
        return len(self.nodes) - 1

    def decision(self, player: str, infoset: str, actions: Sequence[str], label: str = "") -> int:
        pid = self._pidx(player)
        if infoset in self._infoset_index:
            h = self._infoset_index[infoset]
            if self.infosets[h].actions != tuple(actions) or self.infosets[h].player != pid:
                raise AllianceLabError(f"information set {infoset!r} used inconsistently")
        else:
            h = len(self.infosets)
            self.infosets.append(_Infoset(pid, infoset, tuple(actions)))
            self._infoset_index[infoset] = h
        self.nodes.append(_Node("decision", player=pid, infoset=h, label=label))
        self.infosets[h].nodes.append(len(self.nodes) - 1)
        return len(self.nodes) - 1

    def terminal(self, outcome: str, payoff: Sequence[float]) -> int:
        if len(payoff) != len(self.players):
            raise AllianceLabError(f"terminal {outcome!r} needs {len(self.players)} payoffs")
        self.nodes.append(_Node("terminal", payoff=tuple(float(x) for x in payoff),
                                outcome=outcome))
        return len(self.nodes) - 1

    def attach(self, node: int, children: Sequence[int]) -> None:
        n = self.nodes[node]
        want = len(n.probs) if n.kind == "chance" else len(self.infosets[n.infoset].actions)
        if len(children) != want:
            raise AllianceLabError(f"node {node} needs {want} children, got {len(children)}")
        n.children = list(children)

    @property
    def root(self) -> int:
        return 0

    def infoset_key(self, h: int) -> str:
        return self.infosets[h].key

    def is_perfect_information(self) -> bool:
        return all(len(h.nodes) == 1 for h in self.infosets)

    def order(self) -> list[int]:
        """Nodes in pre-order from the root (parents before children)."""
        out, stack = [], [self.root]
        while stack:
            k = stack.pop()
            out.append(k)
            stack.extend(reversed(self.nodes[k].children))
        return out


@dataclass(frozen=True)
class Solution:
    """An equilibrium: behaviour strategy per information set, beliefs per information set
    (probability of each member node), the distribution over outcomes, expected payoffs, and
    the largest incentive to deviate found by the independent check."""

    strategy: dict[str, dict[str, float]]
    beliefs: dict[str, dict[str, float]]
    outcome_probs: dict[str, float]
    expected_payoffs: dict[str, float]
    violation: float
    lam: float | None = None

    def prob(self, infoset: str, action: str) -> float:
        return self.strategy[infoset][action]


# ---------------------------------------------------------------------------------------
# evaluation of a behaviour profile
def _normalised_payoffs(game: Game) -> tuple[np.ndarray, np.ndarray]:
    term = [k for k, n in enumerate(game.nodes) if n.kind == "terminal"]
    pay = np.array([game.nodes[k].payoff for k in term])
    lo, hi = pay.min(axis=0), pay.max(axis=0)
    scale = np.where(hi > lo, hi - lo, 1.0)
    return lo, scale


class _Evaluator:
    """Vectorised-enough evaluation of reach probabilities, beliefs and action values."""

    def __init__(self, game: Game) -> None:
        self.g = game
        self.order = game.order()
        lo, scale = _normalised_payoffs(game)
        self.lo, self.scale = lo, scale
        self.npl = len(game.players)
        self.sizes = [len(h.actions) for h in game.infosets]

    def log_reach(self, logsig: list[np.ndarray]) -> np.ndarray:
        g = self.g
        lr = np.full(len(g.nodes), -np.inf)
        lr[g.root] = 0.0
        for k in self.order:
            n = g.nodes[k]
            if n.kind == "chance":
                for p, c in zip(n.probs, n.children, strict=True):
                    lr[c] = lr[k] + (np.log(p) if p > 0 else -np.inf)
            elif n.kind == "decision":
                ls = logsig[n.infoset]
                for a, c in enumerate(n.children):
                    lr[c] = lr[k] + ls[a]
        return lr

    def values(self, sig: list[np.ndarray]) -> np.ndarray:
        g = self.g
        v = np.zeros((len(g.nodes), self.npl))
        for k in reversed(self.order):
            n = g.nodes[k]
            if n.kind == "terminal":
                v[k] = (np.asarray(n.payoff) - self.lo) / self.scale
            elif n.kind == "chance":
                v[k] = sum(p * v[c] for p, c in zip(n.probs, n.children, strict=True))
            else:
                s = sig[n.infoset]
                v[k] = sum(s[a] * v[c] for a, c in enumerate(n.children))
        return v

    def beliefs(self, lr: np.ndarray) -> list[np.ndarray]:
        out = []
        for h in self.g.infosets:
            x = lr[h.nodes]
            if np.isneginf(x).all():
                out.append(np.full(len(x), 1.0 / len(x)))
            else:
                out.append(np.exp(x - logsumexp(x)))
        return out

    def action_values(self, sig: list[np.ndarray], logsig: list[np.ndarray]
                      ) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray, np.ndarray]:
        lr = self.log_reach(logsig)
        mu = self.beliefs(lr)
        v = self.values(sig)
        q = []
        for h, m in zip(self.g.infosets, mu, strict=True):
            qa = np.zeros(len(h.actions))
            for w, k in zip(m, h.nodes, strict=True):
                qa += w * v[self.g.nodes[k].children, h.player]
            q.append(qa)
        return q, mu, v, lr


def _split(z: np.ndarray, sizes: list[int]) -> list[np.ndarray]:
    """Free logits (first action pinned at 0) -> per-infoset log-probabilities."""
    out, i = [], 0
    for m in sizes:
        logits = np.concatenate([[0.0], z[i:i + m - 1]])
        out.append(logits - logsumexp(logits))
        i += m - 1
    return out


def _pack(q: list[np.ndarray]) -> np.ndarray:
    return np.concatenate([qa[1:] - qa[0] for qa in q]) if q else np.zeros(0)


def _solution(game: Game, ev: _Evaluator, sig: list[np.ndarray], logsig: list[np.ndarray],
              lam: float | None, tol: float) -> Solution:
    q, mu, v, lr = ev.action_values(sig, logsig)
    strategy, beliefs = {}, {}
    for h, s, m in zip(game.infosets, sig, mu, strict=True):
        strategy[h.key] = {a: float(x) for a, x in zip(h.actions, s, strict=True)}
        beliefs[h.key] = {game.nodes[k].label or str(k): float(w)
                          for k, w in zip(h.nodes, m, strict=True)}
    outcomes: dict[str, float] = {}
    reach = np.exp(lr)
    for k, n in enumerate(game.nodes):
        if n.kind == "terminal" and reach[k] > 0:
            outcomes[n.outcome] = outcomes.get(n.outcome, 0.0) + float(reach[k])
    expected = {p: float(v[game.root, i] * ev.scale[i] + ev.lo[i])
                for i, p in enumerate(game.players)}
    viol = max((float(np.max(qa) - qa[s > tol].min()) for qa, s in zip(q, sig, strict=True)),
               default=0.0)
    return Solution(strategy, beliefs, outcomes, expected, viol, lam)


def pbe_violation(game: Game, strategy: dict[str, dict[str, float]], tol: float = 1e-6) -> float:
    """Largest gain (normalised payoff units) any player could get at any information set by
    moving to a best response, given beliefs from Bayes' rule on ``strategy`` (uniform at
    information sets the profile never reaches). Zero (up to rounding) for a PBE."""
    ev = _Evaluator(game)
    sig = [np.array([strategy[h.key][a] for a in h.actions]) for h in game.infosets]
    with np.errstate(divide="ignore"):
        logsig = [np.log(s) for s in sig]
    q, *_ = ev.action_values(sig, logsig)
    return max((float(np.max(qa) - qa[s > tol].min()) for qa, s in zip(q, sig, strict=True)),
               default=0.0)


def backward_induction(game: Game) -> Solution:
    """Subgame-perfect equilibrium of a perfect-information game (Kuhn/Zermelo)."""
    if not game.is_perfect_information():
        raise AllianceLabError("backward induction needs every information set to be one node")
    ev = _Evaluator(game)
    sig: list[np.ndarray] = [np.zeros(m) for m in ev.sizes]
    v = np.zeros((len(game.nodes), ev.npl))
    for k in reversed(ev.order):
        n = game.nodes[k]
        if n.kind == "terminal":
            v[k] = (np.asarray(n.payoff) - ev.lo) / ev.scale
        elif n.kind == "chance":
            v[k] = sum(p * v[c] for p, c in zip(n.probs, n.children, strict=True))
        else:
            vals = [v[c, n.player] for c in n.children]
            best = int(np.argmax(vals))
            sig[n.infoset][best] = 1.0
            v[k] = v[n.children[best]]
    with np.errstate(divide="ignore"):
        logsig = [np.log(s) for s in sig]
    return _solution(game, ev, sig, logsig, None, 1e-9)


def _group_lse(x: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """log-sum-exp of consecutive groups of ``x`` beginning at ``starts``."""
    m = np.maximum.reduceat(x, starts)
    sizes = np.diff(np.append(starts, len(x)))
    mm = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        return np.log(np.add.reduceat(np.exp(x - np.repeat(mm, sizes)), starts)) + mm


class _FastQ:
    """Action values of every agent from log-probabilities in a few array operations.

    With perfect recall each terminal t lies below at most one node of an information set h,
    so Q_{h,a} = sum_{t below (h, a)} pi(t) u_i(t) / (sigma_a pi(h)), where pi is the reach
    probability (Nature and all players) and pi(h) = sum_{n in h} pi(n) (Bayes' rule)."""

    def __init__(self, game: Game, ev: _Evaluator) -> None:
        offs = np.cumsum([0, *ev.sizes])
        self.offs = offs
        nact = int(offs[-1])
        term = [k for k, n in enumerate(game.nodes) if n.kind == "terminal"]
        tpos = {k: i for i, k in enumerate(term)}
        dec = [k for k, n in enumerate(game.nodes) if n.kind == "decision"]
        dpos = {k: i for i, k in enumerate(dec)}
        self.MT = np.zeros((len(term), nact))
        self.MD = np.zeros((len(dec), nact))
        self.cT = np.zeros(len(term))
        self.cD = np.zeros(len(dec))
        self.B = np.zeros((nact, len(term)), dtype=bool)
        self.UT = np.array([(np.asarray(game.nodes[k].payoff) - ev.lo) / ev.scale for k in term])
        self.act_player = np.zeros(nact, dtype=int)
        self.act_h = np.zeros(nact, dtype=int)
        for h, info in enumerate(game.infosets):
            self.act_player[offs[h]:offs[h + 1]] = info.player
            self.act_h[offs[h]:offs[h + 1]] = h
        self.h_perm = np.array([dpos[k] for info in game.infosets for k in info.nodes])
        self.h_starts = np.cumsum([0, *[len(info.nodes) for info in game.infosets]])[:-1]

        def walk(k: int, path: list[int], logc: float, above: list[int]) -> None:
            n = game.nodes[k]
            if n.kind == "terminal":
                i = tpos[k]
                self.MT[i, path] = 1.0
                self.cT[i] = logc
                self.B[above, i] = True
                return
            if n.kind == "chance":
                for p, c in zip(n.probs, n.children, strict=True):
                    walk(c, path, logc + (np.log(p) if p > 0 else -np.inf), above)
                return
            i = dpos[k]
            self.MD[i, path] = 1.0
            self.cD[i] = logc
            for a, c in enumerate(n.children):
                j = int(offs[n.infoset] + a)
                walk(c, [*path, j], logc, [*above, j])

        walk(game.root, [], 0.0, [])
        self.UJ = self.UT[:, self.act_player].T  # (nact, T): payoff of the acting player

    def q(self, ls: np.ndarray) -> np.ndarray:
        lr_t = self.MT @ ls + self.cT
        lr_d = self.MD @ ls + self.cD
        lh = _group_lse(lr_d[self.h_perm], self.h_starts)
        expo = lr_t[None, :] - ls[:, None] - lh[self.act_h][:, None]
        w = np.where(self.B, np.exp(np.where(self.B, expo, -np.inf)), 0.0)
        return (w * self.UJ).sum(axis=1)


def solve_pbe(game: Game, *, lam_max: float = 1e4, steps: int = 30, tol: float | None = None,
              clean: float = 1e-4) -> Solution:
    """A perfect Bayesian equilibrium by tracing the agent logit QRE to ``lam_max``.

    ``steps`` geometric precision values from 0.1 to ``lam_max``; at each, the fixed point
    ``z = lam * (Q(z) - Q_0(z))`` (logits of each action against the first) is solved with
    ``scipy.optimize.root`` from the previous one. Probabilities below ``clean`` are set to 0
    at the end; the result is checked with the per-node evaluator and the call raises if it
    is not an equilibrium within ``tol`` (normalised payoff units; default
    ``max(2e-3, 20 / lam_max)``: at finite precision a mixed action's payoff gap is
    ``log(p_max / p) / lam``, so the attainable accuracy scales with ``1 / lam``).
    """
    tol = max(2e-3, 20.0 / lam_max) if tol is None else tol
    ev = _Evaluator(game)
    fq = _FastQ(game, ev)
    sizes = ev.sizes
    offs = fq.offs
    first = offs[:-1]
    free = np.setdiff1d(np.arange(offs[-1]), first)
    owner = np.repeat(np.arange(len(sizes)), [m - 1 for m in sizes])
    z = np.zeros(len(free))

    def logprobs(z: np.ndarray) -> np.ndarray:
        logits = np.zeros(offs[-1])
        logits[free] = z
        lse = _group_lse(logits, first)
        return logits - np.repeat(lse, sizes)

    def resid(z: np.ndarray, lam: float) -> np.ndarray:
        q = fq.q(logprobs(z))
        return z - lam * (q[free] - q[first[owner]])

    lam = 0.0
    for lam in np.geomspace(0.1, lam_max, steps):
        sol = optimize.root(resid, z, args=(lam,), method="hybr")
        if sol.success:
            z = sol.x
        else:  # damped iteration from the last good point
            zz = z.copy()
            for _ in range(3000):
                zz = zz - 0.05 * resid(zz, lam)
            z = zz
    ls = logprobs(z)
    logsig = [ls[offs[h]:offs[h + 1]] for h in range(len(sizes))]
    sig = [np.exp(x) for x in logsig]
    q, mu, v, lr = ev.action_values(sig, logsig)
    viol = max((float(np.max(qa) - qa[s > clean].min()) for qa, s in zip(q, sig, strict=True)),
               default=0.0)
    if viol > tol:
        raise AllianceLabError(f"solver did not reach an equilibrium (deviation gain {viol:.2g})")
    cleaned = []
    for s in sig:
        s = np.where(s < clean, 0.0, s)
        cleaned.append(s / s.sum())
    with np.errstate(divide="ignore"):
        logsig_c = [np.log(s) for s in cleaned]
    out = _solution(game, ev, cleaned, logsig_c, float(lam), clean)
    # beliefs from the logit limit (defined off the path too)
    beliefs = {h.key: {game.nodes[k].label or str(k): float(w)
                       for k, w in zip(h.nodes, m, strict=True)}
               for h, m in zip(game.infosets, mu, strict=True)}
    return Solution(out.strategy, beliefs, out.outcome_probs, out.expected_payoffs, viol,
                    float(lam))
