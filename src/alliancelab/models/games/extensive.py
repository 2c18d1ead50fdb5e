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
  given by Bayes' rule from the profile (off the path, from the logit limit). Points of the
  traced branch are *polished* (:func:`_polish`): the equilibrium with the traced support is
  solved exactly from the indifference conditions, so the returned profile is usually an
  exact PBE (``Solution.exact``; deviation gains below 1e-9). :func:`solve_pbe_many` traces
  many games of one shape (the same tree, other chance probabilities) in lockstep, each with
  the numbers it gets alone.

Payoffs are normalised per player to [0, 1] inside the solver, so ``lambda`` has one scale.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import optimize
from scipy.special import logsumexp

from ...core.errors import AllianceLabError


@dataclass(slots=True)
class _Node:
    kind: str  # "chance" | "decision" | "terminal"
    player: int = -1
    infoset: int = -1
    probs: tuple[float, ...] = ()
    children: list[int] = field(default_factory=list)
    payoff: tuple[float, ...] = ()
    outcome: str = ""
    label: str = ""


@dataclass(slots=True)
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
        self.nodes.append(_Node("chance", probs=_chance_probs(probs), label=label))
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
        self.nodes.append(_Node("terminal", payoff=tuple(map(float, payoff)), outcome=outcome))
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


def _chance_probs(probs: Sequence[float]) -> tuple[float, ...]:
    """The probabilities of a chance node, checked (>= 0, summing to 1 as ``np.isclose``)."""
    p = np.asarray(probs, dtype=float)
    if (p < 0).any() or not abs(p.sum() - 1.0) <= 1e-08 + 1e-05:
        raise AllianceLabError(f"chance probabilities must be >= 0 and sum to 1, got {probs}")
    return tuple(p.tolist())


def _with_chance(game: Game, node: int, probs: Sequence[float]) -> Game:
    """A copy of ``game`` (nodes and information sets of its own) with ``probs`` at its
    chance node ``node`` (as many as before, checked as by :meth:`Game.chance`)."""
    new = _chance_probs(probs)
    if len(new) != len(game.nodes[node].probs):
        raise AllianceLabError(f"node {node} needs {len(game.nodes[node].probs)} probabilities")
    g = Game(game.players)
    g.nodes = [_Node(n.kind, n.player, n.infoset, n.probs, list(n.children), n.payoff,
                     n.outcome, n.label) for n in game.nodes]
    g.infosets = [_Infoset(h.player, h.key, h.actions, list(h.nodes)) for h in game.infosets]
    g._infoset_index = dict(game._infoset_index)
    g.nodes[node].probs = new
    return g


@dataclass(frozen=True)
class Solution:
    """An equilibrium: behaviour strategy per information set, beliefs per information set
    (probability of each member node), the distribution over outcomes, expected payoffs, and
    the largest incentive to deviate found by the independent check. ``exact``: the profile
    solves the indifference conditions exactly (deviation gains <= 1e-9 with ``beliefs``)
    rather than being a logit-limit approximation."""

    strategy: dict[str, dict[str, float]]
    beliefs: dict[str, dict[str, float]]
    outcome_probs: dict[str, float]
    expected_payoffs: dict[str, float]
    violation: float
    lam: float | None = None
    exact: bool = False

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
    """Reach probabilities, beliefs and action values of a behaviour profile, with the tree
    walks compiled once into index arrays (per shape, :func:`_shaped`): every number is the
    one the walk node by node gives (the same operations on the same operands, in order)."""

    def __init__(self, game: Game) -> None:
        self.g = game
        self.order = game.order()
        lo, scale = _normalised_payoffs(game)
        self.lo, self.scale = lo, scale
        self.npl = len(game.players)
        self.sizes = [len(h.actions) for h in game.infosets]
        nodes, offs = game.nodes, np.cumsum([0, *self.sizes])
        #: the chance moves (node, branch) in pre-order; their probabilities follow the
        #: actions in the operand vectors of log_reach and values
        self.branches = [(k, b) for k in self.order if nodes[k].kind == "chance"
                         for b in range(len(nodes[k].probs))]
        self.branch_pos = {kb: i for i, kb in enumerate(self.branches)}
        src = {}  # the operand of each edge (parent, child): an action or a chance move
        depth = {game.root: 0}
        height: dict[int, int] = {}
        for k in self.order:
            n = nodes[k]
            for b, c in enumerate(n.children):
                depth[c] = depth[k] + 1
                src[c] = (int(offs[n.infoset] + b) if n.kind == "decision"
                          else int(offs[-1]) + self.branch_pos[k, b])
        for k in reversed(self.order):
            height[k] = 1 + max((height[c] for c in nodes[k].children), default=-1)
        #: log_reach, one depth after another: (children, their parents, operands)
        self.reach_steps = []
        par = {c: k for k in self.order for c in nodes[k].children}
        for d in range(1, max(depth.values()) + 1):
            kids = [k for k in self.order if depth[k] == d]
            self.reach_steps.append((np.array(kids), np.array([par[c] for c in kids]),
                                     np.array([src[c] for c in kids])))
        #: values, one height after another and by number of children: (nodes, children,
        #: operands), the children of each node in order
        self.value_steps = []
        for ht in range(1, max(height.values()) + 1):
            at = [k for k in self.order if height[k] == ht]
            for m in sorted({len(nodes[k].children) for k in at}):
                ks = [k for k in at if len(nodes[k].children) == m]
                self.value_steps.append((np.array(ks), np.array([nodes[k].children for k in ks]),
                                         np.array([[src[c] for c in nodes[k].children]
                                                   for k in ks])))
        self.term = np.array([k for k in self.order if nodes[k].kind == "terminal"], dtype=int)
        self.u_term = np.array([(np.asarray(nodes[k].payoff) - lo) / scale for k in self.term]
                               ).reshape(len(self.term), self.npl)
        #: the terminals in node order with their outcomes (the order outcomes add up in)
        self.outcome_of = [(k, n.outcome) for k, n in enumerate(nodes) if n.kind == "terminal"]
        self.labels = [[nodes[k].label or str(k) for k in h.nodes] for h in game.infosets]
        self.chance_probs(game)

    def chance_probs(self, game: Game) -> None:
        """Take ``game``'s chance probabilities (a game of this shape) and their logs."""
        self.g = game
        probs = [game.nodes[k].probs[b] for k, b in self.branches]
        self.pc = np.array(probs, dtype=float)
        self.lpc = np.array([np.log(p) if p > 0 else -np.inf for p in probs], dtype=float)

    def log_reach(self, logsig: np.ndarray) -> np.ndarray:
        """Log reach probability of every node from the flat log-probabilities ``logsig``:
        each child's is its parent's plus the log-probability of the move."""
        inc = np.concatenate([logsig, self.lpc])
        lr = np.full(len(self.g.nodes), -np.inf)
        lr[self.g.root] = 0.0
        for kids, par, src in self.reach_steps:
            lr[kids] = lr[par] + inc[src]
        return lr

    def nature_value(self, k: int, v: np.ndarray) -> bool:
        """Fill ``v[k]`` if node ``k`` is terminal (normalised payoffs) or a chance node (the
        expectation over its children, already filled); False at a decision node."""
        n = self.g.nodes[k]
        if n.kind == "terminal":
            v[k] = (np.asarray(n.payoff) - self.lo) / self.scale
        elif n.kind == "chance":
            v[k] = sum(p * v[c] for p, c in zip(n.probs, n.children, strict=True))
        else:
            return False
        return True

    def values(self, sig: np.ndarray) -> np.ndarray:
        """Normalised expected payoffs at every node for the flat profile ``sig``: a node's
        is ``0 + w_1 v_1 + w_2 v_2 + ...`` over its children in order (as Python's sum)."""
        w = np.concatenate([sig, self.pc])
        v = np.zeros((len(self.g.nodes), self.npl))
        v[self.term] = self.u_term
        for ks, kids, src in self.value_steps:
            terms = w[src][:, :, None] * v[kids]  # (nodes, children, players)
            acc = 0.0 + terms[:, 0]
            for j in range(1, kids.shape[1]):
                acc = acc + terms[:, j]
            v[ks] = acc
        return v

    def beliefs(self, lr: np.ndarray) -> list[np.ndarray]:
        out = []
        for h in self.g.infosets:
            x = lr[h.nodes]
            if np.isneginf(x).all():
                out.append(np.full(len(x), 1.0 / len(x)))
            else:
                out.append(np.exp(x - x.max()) / np.exp(x - x.max()).sum())
        return out

    def action_values(self, sig: list[np.ndarray], logsig: list[np.ndarray]
                      ) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray, np.ndarray]:
        lr = self.log_reach(_flat(logsig))
        mu = self.beliefs(lr)
        v = self.values(_flat(sig))
        q = []
        for h, m in zip(self.g.infosets, mu, strict=True):
            qa = np.zeros(len(h.actions))
            for w, k in zip(m, h.nodes, strict=True):
                qa += w * v[self.g.nodes[k].children, h.player]
            q.append(qa)
        return q, mu, v, lr

    def belief_dicts(self, mu: list[np.ndarray]) -> dict[str, dict[str, float]]:
        """:attr:`Solution.beliefs` from the beliefs per information set."""
        return {h.key: dict(zip(lab, m.tolist(), strict=True))
                for h, lab, m in zip(self.g.infosets, self.labels, mu, strict=True)}

    def summary(self, p: np.ndarray, lr: np.ndarray, v: np.ndarray
                ) -> tuple[dict[str, dict[str, float]], dict[str, float], dict[str, float]]:
        """The strategy (from the flat profile ``p``), outcome distribution (from the log
        reach ``lr``) and expected payoffs (from the values ``v``) of a :class:`Solution`."""
        game, pl = self.g, p.tolist()
        strategy, i = {}, 0
        for h in game.infosets:
            strategy[h.key] = dict(zip(h.actions, pl[i:i + len(h.actions)], strict=True))
            i += len(h.actions)
        outcomes: dict[str, float] = {}
        reach = np.exp(lr).tolist()
        for k, o in self.outcome_of:
            if reach[k] > 0:
                outcomes[o] = outcomes.get(o, 0.0) + reach[k]
        expected = dict(zip(game.players, (v[game.root] * self.scale + self.lo).tolist(),
                            strict=True))
        return strategy, outcomes, expected


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
    strategy, outcomes, expected = ev.summary(_flat(sig), lr, v)
    viol = max((float(np.max(qa) - qa[s > tol].min()) for qa, s in zip(q, sig, strict=True)),
               default=0.0)
    return Solution(strategy, ev.belief_dicts(mu), outcomes, expected, viol, lam)


def _flat(parts: Sequence[np.ndarray]) -> np.ndarray:
    """Per-information-set arrays -> one flat array of floats."""
    return np.concatenate([np.asarray(x, dtype=float) for x in parts]) if parts else np.zeros(0)


def pbe_violation(game: Game, strategy: dict[str, dict[str, float]], tol: float = 1e-6,
                  beliefs: dict[str, dict[str, float]] | None = None) -> float:
    """Largest gain (normalised payoff units) any player could get at any information set by
    moving to a best response, given beliefs from Bayes' rule on ``strategy``. At information
    sets the profile never reaches, the beliefs are ``beliefs[infoset]`` (node label ->
    probability, as in :attr:`Solution.beliefs`) if given, else uniform. Zero (up to
    rounding) for a PBE; actions with probability <= ``tol`` count as unused."""
    ev = _Evaluator(game)
    cq = _CondQ(game, ev)
    p = np.concatenate([[strategy[h.key][a] for a in h.actions] for h in game.infosets])
    fallback = None if beliefs is None else _flat(_belief_arrays(game, beliefs))
    q, _ = cq.q(p, fallback)
    return cq.violation(q, p, tol)


def _belief_arrays(game: Game, beliefs: dict[str, dict[str, float]]) -> list[np.ndarray]:
    out = []
    for h in game.infosets:
        b = beliefs.get(h.key)
        if b is None:
            out.append(np.full(len(h.nodes), 1.0 / len(h.nodes)))
        else:
            out.append(np.array([b[game.nodes[k].label or str(k)] for k in h.nodes]))
    return out


def backward_induction(game: Game) -> Solution:
    """Subgame-perfect equilibrium of a perfect-information game (Kuhn/Zermelo)."""
    if not game.is_perfect_information():
        raise AllianceLabError("backward induction needs every information set to be one node")
    ev = _Evaluator(game)
    sig: list[np.ndarray] = [np.zeros(m) for m in ev.sizes]
    v = np.zeros((len(game.nodes), ev.npl))
    for k in reversed(ev.order):
        if not ev.nature_value(k, v):
            n = game.nodes[k]
            vals = [v[c, n.player] for c in n.children]
            best = int(np.argmax(vals))
            sig[n.infoset][best] = 1.0
            v[k] = v[n.children[best]]
    with np.errstate(divide="ignore"):
        logsig = [np.log(s) for s in sig]
    return _solution(game, ev, sig, logsig, None, 1e-9)


def _group_lse(x: np.ndarray, starts: np.ndarray, rep: np.ndarray | None = None
               ) -> np.ndarray:
    """log-sum-exp of consecutive groups of ``x`` beginning at ``starts`` (``rep``: the group
    of each element, if known)."""
    m = np.maximum.reduceat(x, starts)
    if rep is None:
        rep = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, len(x))))
    mm = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        return np.log(np.add.reduceat(np.exp(x - mm[rep]), starts)) + mm


#: a path's chance moves from the root, in order: (chance node, branch) pairs
_Chain = tuple[tuple[int, int], ...]


def _chain_steps(ev: _Evaluator, chains: Sequence[_Chain]
                 ) -> tuple[int, list[tuple[np.ndarray, np.ndarray]]]:
    """The chains as index arrays: their number and, for each position along a path, the
    chains that long and the place of their move there in ``ev.branches``."""
    pos = [[ev.branch_pos[kb] for kb in chain] for chain in chains]
    steps = []
    for j in range(max((len(x) for x in pos), default=0)):
        rows = [i for i, x in enumerate(pos) if len(x) > j]
        steps.append((np.array(rows, dtype=int), np.array([pos[i][j] for i in rows], dtype=int)))
    return len(chains), steps


def _log_chains(ev: _Evaluator, chains: tuple[int, list[tuple[np.ndarray, np.ndarray]]]
                ) -> np.ndarray:
    """For each chain (:func:`_chain_steps`), the log of the probability of its chance moves
    in ``ev``'s game, summed along the path from 0 (``-inf`` for a move of probability 0)."""
    n, steps = chains
    out = np.zeros(n)
    for rows, src in steps:
        out[rows] = out[rows] + ev.lpc[src]
    return out


def _shape_key(game: Game) -> tuple[Any, ...]:
    """Everything of ``game`` but its chance probabilities (its tree, information sets and
    payoffs): games with the same key share the arrays of :class:`_FastQ` and
    :class:`_CondQ` up to those probabilities."""
    return (game.players,
            tuple((n.kind, n.player, n.infoset, tuple(n.children), n.payoff, len(n.probs))
                  for n in game.nodes),
            tuple((h.player, h.key, h.actions, tuple(h.nodes)) for h in game.infosets))


#: built _Evaluator, _FastQ, _CondQ and _Free by :func:`_shape_key`, reused for games that
#: differ in their chance probabilities only (e.g. a deterrence game at other priors: issue 15)
_SHAPES: dict[tuple[Any, ...], tuple[_Evaluator, _FastQ, _CondQ, _Free]] = {}
_MAX_SHAPES = 64


def _shaped(game: Game, key: tuple[Any, ...]) -> tuple[_Evaluator, _FastQ, _CondQ, _Free]:
    """:class:`_Evaluator`, :class:`_FastQ`, :class:`_CondQ` and :class:`_Free` of ``game``
    of shape ``key`` (:func:`_shape_key`): built once per shape, then copied with this game's
    chance probabilities (the same numbers as building them, without walking the tree
    again)."""
    shared = _SHAPES.get(key)
    if shared is None:
        ev = _Evaluator(game)
        built = ev, _FastQ(game, ev), _CondQ(game, ev), _Free(ev.sizes)
        if len(_SHAPES) < _MAX_SHAPES:
            _SHAPES[key] = built
        return built
    ev, fq, cq = copy.copy(shared[0]), copy.copy(shared[1]), copy.copy(shared[2])
    ev.chance_probs(game)
    fq.cT, fq.cD = (_log_chains(ev, ch) for ch in fq.chains)
    cq.cD, cq.c = (_log_chains(ev, ch) for ch in cq.chains)
    cq.g = game
    return ev, fq, cq, shared[3]


class _Free:
    """The trace's coordinates of a profile (:class:`_Trace`): the logit of every action but
    the first of its information set against that first one, as index arrays."""

    def __init__(self, sizes: list[int]) -> None:
        offs = np.cumsum([0, *sizes])
        self.sizes, self.offs = sizes, offs
        self.first = offs[:-1]
        self.free = np.setdiff1d(np.arange(offs[-1]), self.first)
        owner = np.repeat(np.arange(len(sizes)), [m - 1 for m in sizes])
        self.group = np.repeat(np.arange(len(sizes)), sizes)
        self.same = self.group[:, None] == self.group[None, self.free]
        self.eye = np.eye(len(self.free))
        self.ref = self.first[owner]  # the first action of each free action's information set
        self.cols = np.arange(len(self.free))
        # the non-zero entries of d ls / d z, flattened: (action, free action) of one set,
        # and the diagonal (free action, itself)
        same_row, self.same_col = np.nonzero(self.same)
        self.same_flat = same_row * len(self.free) + self.same_col
        self.free_flat = self.free * len(self.free) + self.cols


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
        self.B = np.zeros((nact, len(term)), dtype=bool)
        self.UT = np.array([(np.asarray(game.nodes[k].payoff) - ev.lo) / ev.scale for k in term])
        self.act_player = np.zeros(nact, dtype=int)
        self.act_h = np.zeros(nact, dtype=int)
        for h, info in enumerate(game.infosets):
            self.act_player[offs[h]:offs[h + 1]] = info.player
            self.act_h[offs[h]:offs[h + 1]] = h
        self.h_perm = np.array([dpos[k] for info in game.infosets for k in info.nodes])
        self.h_len = np.array([len(info.nodes) for info in game.infosets])
        self.h_starts = np.cumsum([0, *self.h_len])[:-1]

        chains_t: list[_Chain] = [()] * len(term)
        chains_d: list[_Chain] = [()] * len(dec)

        def walk(k: int, path: list[int], chain: _Chain, above: list[int]) -> None:
            n = game.nodes[k]
            if n.kind == "terminal":
                i = tpos[k]
                self.MT[i, path] = 1.0
                chains_t[i] = chain
                self.B[above, i] = True
                return
            if n.kind == "chance":
                for b, c in enumerate(n.children):
                    walk(c, path, (*chain, (k, b)), above)
                return
            i = dpos[k]
            self.MD[i, path] = 1.0
            chains_d[i] = chain
            for a, c in enumerate(n.children):
                j = int(offs[n.infoset] + a)
                walk(c, [*path, j], chain, [*above, j])

        walk(game.root, [], (), [])
        self.chains = (_chain_steps(ev, chains_t), _chain_steps(ev, chains_d))
        self.cT, self.cD = (_log_chains(ev, ch) for ch in self.chains)
        self.UJ = self.UT[:, self.act_player].T  # (nact, T): payoff of the acting player
        # the (action, terminal) pairs below each other, row-major, and what q_jac reads
        # from them: only these entries of the (nact, T) weight matrix are non-zero
        self.pj, self.pt = np.nonzero(self.B)
        self.pu = self.UJ[self.pj, self.pt]
        self.ph = self.act_h[self.pj]
        self.MDp = self.MD[self.h_perm]
        self.h_rep = np.repeat(np.arange(len(self.h_len)), self.h_len)
        self.diag = np.arange(nact)
        # the same entries in the flattened (nact, T) matrix
        self.p_flat = self.pj * len(term) + self.pt

    def q(self, ls: np.ndarray) -> np.ndarray:
        return self.q_jac(ls, False)[0]

    def beliefs(self, ls: np.ndarray) -> list[np.ndarray]:
        """Bayes' rule beliefs at every information set (all reached: ``ls`` finite)."""
        lrh = (self.MD @ ls + self.cD)[self.h_perm]
        lh = _group_lse(lrh, self.h_starts, self.h_rep)
        mu = np.exp(lrh - lh[self.h_rep])
        return [mu[i:i + n] for i, n in zip(self.h_starts.tolist(), self.h_len.tolist(),
                                            strict=True)]

    def q_jac(self, ls: np.ndarray, jac: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
        """Q and, if ``jac``, dQ/d(log-probabilities): with A_jt = pi(t) u(t) / (sigma_j
        pi(h_j)) for t below action j, dQ_j/dls_k = sum_t A_jt MT_tk - Q_j delta_jk
        - Q_j sum_{n in h_j} mu(n) MD_nk (mu = Bayes' beliefs at h_j). ``ls`` must be
        finite (every information set reached), as on the logit trace."""
        lr_t = self.MT @ ls + self.cT
        lrh = (self.MD @ ls + self.cD)[self.h_perm]
        lh = (_finite_group_lse(lrh, self.h_starts, self.h_rep) if np.isfinite(lrh).all()
              else _group_lse(lrh, self.h_starts, self.h_rep))
        a = np.zeros(self.B.shape)
        a[self.pj, self.pt] = np.exp(lr_t[self.pt] - ls[self.pj] - lh[self.ph]) * self.pu
        q = a.sum(axis=1)
        if not jac:
            return q, None
        mu = np.exp(lrh - lh[self.h_rep])
        g = np.add.reduceat(mu[:, None] * self.MDp, self.h_starts, axis=0)
        dq = a @ self.MT
        dq[self.diag, self.diag] -= q
        dq -= q[:, None] * g[self.act_h]
        return q, dq


def _finite_group_lse(x: np.ndarray, starts: np.ndarray, rep: np.ndarray) -> np.ndarray:
    """:func:`_group_lse` for finite ``x``; ``rep`` is the group of each element."""
    m = np.maximum.reduceat(x, starts)
    return np.log(np.add.reduceat(np.exp(x - m[rep]), starts)) + m


_UNREACHED = -1e100  # log-probabilities below this count as exactly zero


class _CondQ:
    """Exact action values with explicit beliefs, valid for profiles with zero probabilities.

    Q_{h,a} = sum_{n in h} mu(n) sum_{t below (n, a)} pi(t | n, a) u_i(t), where pi(t | n, a)
    is the probability of reaching t from the child of n through a (no division by reach
    probabilities, so unreached information sets are fine) and mu(n) is Bayes' rule on the
    reach of n where the information set is reached, else the supplied belief."""

    def __init__(self, game: Game, ev: _Evaluator) -> None:
        self.g = game
        offs = np.cumsum([0, *ev.sizes])
        self.offs, self.sizes = offs, ev.sizes
        self.nact = int(offs[-1])
        dec = [k for k, n in enumerate(game.nodes) if n.kind == "decision"]
        dpos = {k: i for i, k in enumerate(dec)}
        self.MD = np.zeros((len(dec), self.nact))
        chains_d: list[_Chain] = [()] * len(dec)
        rows_p, rows_c, rows_node, rows_act, rows_u = [], [], [], [], []

        def below(k: int, path: list[int], chain: _Chain, out: list) -> None:
            n = game.nodes[k]
            if n.kind == "terminal":
                out.append((list(path), chain, k))
            elif n.kind == "chance":
                for b, c in enumerate(n.children):
                    below(c, path, (*chain, (k, b)), out)
            else:
                for a, c in enumerate(n.children):
                    below(c, [*path, int(offs[n.infoset] + a)], chain, out)

        def walk(k: int, path: list[int], chain: _Chain) -> None:
            n = game.nodes[k]
            if n.kind == "terminal":
                return
            if n.kind == "chance":
                for b, c in enumerate(n.children):
                    walk(c, path, (*chain, (k, b)))
                return
            i = dpos[k]
            self.MD[i, path] = 1.0
            chains_d[i] = chain
            for a, c in enumerate(n.children):
                j = int(offs[n.infoset] + a)
                leaves: list = []
                below(c, [], (), leaves)
                for pth, lc, t in leaves:
                    row = np.zeros(self.nact)
                    row[pth] = 1.0
                    rows_p.append(row)
                    rows_c.append(lc)
                    rows_node.append(i)
                    rows_act.append(j)
                    u = (game.nodes[t].payoff[n.player] - ev.lo[n.player]) / ev.scale[n.player]
                    rows_u.append(u)
                walk(c, [*path, j], chain)

        walk(game.root, [], ())
        self.chains = (_chain_steps(ev, chains_d), _chain_steps(ev, rows_c))
        self.cD, self.c = (_log_chains(ev, ch) for ch in self.chains)
        self.P = np.array(rows_p)
        self.r_node = np.array(rows_node, dtype=int)
        self.r_act = np.array(rows_act, dtype=int)
        self.r_u = np.array(rows_u)
        self.h_perm = np.array([dpos[k] for h in game.infosets for k in h.nodes])
        self.h_len = np.array([len(h.nodes) for h in game.infosets])
        self.h_starts = np.cumsum([0, *self.h_len])[:-1]
        self.uniform = np.repeat(1.0 / self.h_len, self.h_len)
        self.h_rep = np.repeat(np.arange(len(self.h_len)), self.h_len)
        self.h_bounds = [(int(i), int(i + n)) for i, n in zip(self.h_starts, self.h_len,
                                                              strict=True)]
        at = np.zeros(len(self.h_perm), dtype=int)  # each decision node's place in h_perm
        at[self.h_perm] = np.arange(len(self.h_perm))
        self.r_belief = at[self.r_node]  # the belief (in h_perm order) of each row's node
        #: the rows of each (node, action) pair (project_belief)
        pairs = set(zip(self.r_node.tolist(), self.r_act.tolist(), strict=True))
        self.rows_of = {(n, a): np.flatnonzero((self.r_node == n) & (self.r_act == a))
                        for n, a in pairs}
        self.act_starts = offs[:-1][np.asarray(ev.sizes, dtype=int) > 0]  # (violation)
        self.h_of = np.repeat(np.arange(len(ev.sizes)), ev.sizes).tolist()  # each action's set

    def q(self, p: np.ndarray, fallback: np.ndarray | None = None
          ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Action values (flat, per action) and beliefs (per information set) for the flat
        behaviour profile ``p``; ``fallback`` beliefs at unreached sets (flat, information
        set after information set; default uniform)."""
        with np.errstate(divide="ignore"):
            ls = np.maximum(np.log(np.clip(p, 0.0, None)), 1.5 * _UNREACHED)
        lr = self.MD @ ls + self.cD
        lr = np.where(lr < _UNREACHED, -np.inf, lr)[self.h_perm]
        lse = _group_lse(lr, self.h_starts, self.h_rep)
        reached = np.isfinite(lse)
        m = np.exp(lr - np.where(reached, lse, 0.0)[self.h_rep])
        m = np.where(reached[self.h_rep], m, self.uniform if fallback is None else fallback)
        mus = [m[i:j] for i, j in self.h_bounds]
        e = self.P @ ls + self.c
        w = np.where(e < _UNREACHED, 0.0, np.exp(np.minimum(e, 0.0)))
        q = np.bincount(self.r_act, weights=m[self.r_belief] * w * self.r_u,
                        minlength=self.nact)
        return q, mus

    def reached(self, p: np.ndarray) -> np.ndarray:
        """Which information sets ``p`` reaches with positive probability."""
        with np.errstate(divide="ignore"):
            ls = np.maximum(np.log(np.clip(p, 0.0, None)), 1.5 * _UNREACHED)
        lr = self.MD @ ls + self.cD
        lr = np.where(lr < _UNREACHED, -np.inf, lr)[self.h_perm]
        return np.isfinite(np.maximum.reduceat(lr, self.h_starts))

    def project_belief(self, p: np.ndarray, h: int, support: np.ndarray, mu0: np.ndarray
                       ) -> np.ndarray | None:
        """The belief at (unreached) information set ``h`` nearest to ``mu0`` (Euclidean)
        that makes every action of ``support`` equally good; None if none is a distribution."""
        with np.errstate(divide="ignore"):
            ls = np.maximum(np.log(np.clip(p, 0.0, None)), 1.5 * _UNREACHED)
        e = self.P @ ls + self.c
        w = np.where(e < _UNREACHED, 0.0, np.exp(np.minimum(e, 0.0))) * self.r_u
        nodes = self.h_perm[self.h_starts[h]:self.h_starts[h] + self.h_len[h]]
        acts = self.offs[h] + support
        val = np.zeros((len(nodes), len(acts)))  # val[n, a]: value of a at node n
        empty = np.zeros(0, dtype=int)
        for i, n in enumerate(nodes):
            for j, a in enumerate(acts):
                val[i, j] = w[self.rows_of.get((int(n), int(a)), empty)].sum()
        for keep in (mu0 > 1e-12, np.ones(len(mu0), dtype=bool)):
            a_mat = np.vstack([(val[keep, 1:] - val[keep, :1]).T, np.ones(int(keep.sum()))])
            b = np.zeros(len(a_mat))
            b[-1] = 1.0
            m0 = mu0[keep]
            sol = np.linalg.lstsq(a_mat @ a_mat.T, a_mat @ m0 - b, rcond=None)[0]
            m = m0 - a_mat.T @ sol
            if (m < -1e-12).any() or np.abs(a_mat @ m - b).max() > 1e-9:
                continue
            mu = np.zeros(len(mu0))
            mu[keep] = np.clip(m, 0.0, None)
            return mu / mu.sum()
        return None

    def violation(self, q: np.ndarray, p: np.ndarray, tol: float) -> float:
        """Largest gain of a best response over the worst action used (probability above
        ``tol``) at any information set where one is used; 0 if none."""
        if not len(self.act_starts):
            return 0.0
        used = p > tol
        hi = np.maximum.reduceat(q, self.act_starts)
        lo = np.minimum.reduceat(np.where(used, q, np.inf), self.act_starts)
        out = 0.0
        for gain in (hi - lo)[np.logical_or.reduceat(used, self.act_starts)].tolist():
            out = max(out, gain)
        return out


def _stick(theta: np.ndarray, k: int) -> np.ndarray:
    """k probabilities from k - 1 stick-breaking fractions in [0, 1]."""
    out, rest = np.zeros(k), 1.0
    for i, t in enumerate(theta):
        out[i] = rest * t
        rest -= out[i]
    out[k - 1] = rest
    return out


def _unstick(p: np.ndarray) -> np.ndarray:
    p = p / p.sum()
    out, rest = [], 1.0
    for x in p[:-1]:
        out.append(float(np.clip(x / rest, 0.0, 1.0)) if rest > 1e-15 else 0.5)
        rest -= x
    return np.array(out)


def _polish(cq: _CondQ, p_approx: np.ndarray, fallback: list[np.ndarray],
            thresholds: Sequence[float] = (1e-2, 1e-3), tol: float = 1e-9
            ) -> tuple[np.ndarray, list[np.ndarray], float] | None:
    """Exact equilibrium near an approximate one: take the support of ``p_approx`` (actions
    above a threshold), solve the indifference conditions among the support actions of every
    information set (Bayes' rule where reached, ``fallback`` beliefs elsewhere) and accept
    the result only if no action anywhere does better than the support (within ``tol``):
    the profile, its beliefs and its largest deviation gain."""
    offs = cq.offs
    fb_flat = _flat(fallback)
    tried: set[tuple[int, ...]] = set()
    for thr in thresholds:
        above: list[list[int]] = [[] for _ in cq.sizes]
        for j in np.flatnonzero(p_approx > thr).tolist():
            above[cq.h_of[j]].append(j - int(offs[cq.h_of[j]]))
        supports = [np.array(a, dtype=np.intp) if a
                    else np.array([int(np.argmax(p_approx[offs[h]:offs[h + 1]]))])
                    for h, a in enumerate(above)]
        key = tuple(int(offs[h] + a) for h, sup in enumerate(supports) for a in sup)
        if key in tried:
            continue
        tried.add(key)
        mixing = [h for h, sup in enumerate(supports) if len(sup) > 1]
        pattern = np.zeros(cq.nact)
        for h, sup in enumerate(supports):
            pattern[offs[h] + sup] = 1.0 / len(sup)
        reached = cq.reached(pattern)
        eqs = [h for h in mixing if reached[h]]
        theta0 = np.concatenate([_unstick(p_approx[offs[h] + supports[h]]) for h in mixing]
                                ) if mixing else np.zeros(0)
        pure = np.array([offs[h] + sup[0] for h, sup in enumerate(supports) if len(sup) == 1],
                        dtype=int)
        mixed = [(offs[h] + supports[h], len(supports[h])) for h in mixing]

        def profile(theta: np.ndarray, pure: np.ndarray = pure,
                    mixed: list[tuple[np.ndarray, int]] = mixed) -> np.ndarray:
            p = np.zeros(cq.nact)
            p[pure] = 1.0
            i = 0
            for acts, k in mixed:
                p[acts] = _stick(theta[i:i + k - 1], k)
                i += k - 1
            return p

        theta = theta0
        if eqs:
            sel = np.concatenate([np.full(len(supports[h]) - 1, h in eqs) for h in mixing])
            # each equation: an equilibrium action's value against its set's first one
            alt = np.concatenate([offs[h] + supports[h][1:] for h in eqs])
            base = np.concatenate([np.full(len(supports[h]) - 1, offs[h] + supports[h][0])
                                   for h in eqs])

            def square(x: np.ndarray, sel: np.ndarray = sel, theta0: np.ndarray = theta0,
                       profile=profile, alt: np.ndarray = alt,  # noqa: ANN001
                       base: np.ndarray = base) -> np.ndarray:
                th = theta0.copy()
                th[sel] = x
                q, _ = cq.q(profile(th), fb_flat)
                return q[alt] - q[base]  # type: ignore[no-any-return]

            sol = optimize.root(square, theta0[sel], method="hybr", options={"xtol": 1e-13})
            x = sol.x
            if not (np.all((x >= -1e-12) & (x <= 1 + 1e-12))
                    and np.abs(sol.fun).max() < 1e-12):
                # singular or ill-posed (e.g. two types with the same indifference condition):
                # bounded least squares handles rank deficiency
                x = optimize.least_squares(square, theta0[sel], bounds=(0.0, 1.0), xtol=1e-15,
                                           ftol=1e-15, gtol=1e-15, max_nfev=40).x
            theta = theta0.copy()
            theta[sel] = np.clip(x, 0.0, 1.0)
        p = profile(theta)
        fb = list(fallback)
        ok = True
        for h in mixing:  # off the path, a mix needs beliefs that make it indifferent
            if not reached[h]:
                mu = cq.project_belief(p, h, supports[h], np.asarray(fb[h], dtype=float))
                if mu is None:
                    ok = False
                    break
                fb[h] = mu
        if not ok:
            continue
        q, mus = cq.q(p, _flat(fb))
        viol = cq.violation(q, p, 1e-12)
        if viol <= tol and cq.reached(p).tolist() == reached.tolist():
            return p, mus, viol
    return None


def _newton(fun: Callable[[np.ndarray, float], tuple[np.ndarray, np.ndarray]], z: np.ndarray,
            lam: float, *, xtol: float = 1e-11, max_iter: int = 30) -> np.ndarray | None:
    """The root of ``fun(., lam)`` (residual and Jacobian) near ``z`` by Newton's method with
    backtracking on the residual's norm: the step of the logit trace from one precision to
    the next. Converged when a step is below ``xtol`` relative to ``1 + max|z|`` (tighter than
    ``scipy.optimize.root``'s ``hybr`` default, 1.5e-8, which remains the fallback); None when
    it does not converge, leaves the finite numbers or meets a singular Jacobian."""
    f, jac = fun(z, lam)
    norm = float(np.abs(f).max()) if f.size else 0.0
    if not f.size:
        return z
    for _ in range(max_iter):
        if not np.isfinite(norm):
            return None
        try:
            dz = np.linalg.solve(jac, f)
        except np.linalg.LinAlgError:
            return None
        if float(np.abs(dz).max()) <= xtol * (1.0 + float(np.abs(z).max())):
            return z - dz  # converged: a full step this small needs no more checking
        step = 1.0
        for _ in range(12):  # backtrack until the residual shrinks
            trial = z - step * dz
            f_new, jac_new = fun(trial, lam)
            new = float(np.abs(f_new).max())
            if new <= (1.0 - 1e-4 * step) * norm or new < 1e-13:
                break
            step *= 0.5
        else:
            return None
        z, f, jac, norm = trial, f_new, jac_new, new
        if step * float(np.abs(dz).max()) <= xtol * (1.0 + float(np.abs(z).max())):
            return z
    return None


def solve_pbe(game: Game, *, lam_max: float = 1e4, steps: int = 30, tol: float | None = None,
              clean: float = 1e-4, exact: bool = True, polish_from: float = 200.0) -> Solution:
    """A perfect Bayesian equilibrium by tracing the agent logit QRE towards ``lam_max``.

    ``steps`` geometric precision values from 0.1 to ``lam_max``; at each, the fixed point
    ``z = lam * (Q(z) - Q_0(z))`` (logits of each action against the first) is solved from
    the previous one by Newton's method with the analytic Jacobian (:func:`_newton`), else
    with ``scipy.optimize.root`` (``hybr``); a step both fail is retried in two halves
    before a damped iteration. With ``exact`` (default), from ``lam >= polish_from`` on, each
    point of the branch is *polished*: its support is taken and the equilibrium with that
    support is solved exactly from the indifference conditions (:func:`_polish`); the first
    polished profile that passes the exact best-response check (gain <= 1e-9 at every
    information set, Bayes' rule where reached, the logit beliefs elsewhere) is returned with
    ``exact=True``. Otherwise (``exact=False``, or no polish succeeded) the traced profile at
    ``lam_max`` is returned if it is an equilibrium within ``tol`` (normalised payoff units;
    default ``max(2e-3, 20 / lam_max)``: at finite precision a mixed action's payoff gap is
    ``log(p_max / p) / lam``), with probabilities below ``clean`` set to 0; else the call
    raises :class:`AllianceLabError`.
    """
    out = solve_pbe_many([game], lam_max=lam_max, steps=steps, tol=tol, clean=clean,
                         exact=exact, polish_from=polish_from)[0]
    if isinstance(out, AllianceLabError):
        raise out
    return out


def solve_pbe_many(games: Sequence[Game], *, lam_max: float = 1e4, steps: int = 30,
                   tol: float | None = None, clean: float = 1e-4, exact: bool = True,
                   polish_from: float = 200.0) -> list[Solution | AllianceLabError]:
    """:func:`solve_pbe` of every game (an :class:`AllianceLabError` in place of a game
    with no equilibrium). Games of one shape (:func:`_shape_key`: they differ in their
    chance probabilities only) are traced together, their Newton steps on arrays with a
    leading game axis; each gets, bit for bit, what it gets alone (the same operations on
    the same numbers, its own step sizes and fallbacks)."""
    tol = max(2e-3, 20.0 / lam_max) if tol is None else tol
    traces = [_Trace(g, exact) for g in games]
    out: list[Solution | AllianceLabError | None] = [None] * len(games)
    groups: dict[tuple[Any, ...], list[int]] = {}
    for k, tr in enumerate(traces):
        groups.setdefault(tr.shape, []).append(k)
    for members in groups.values():
        batch = [traces[k] for k in members]
        lam = 0.0
        for lam in np.geomspace(0.1, lam_max, steps):
            live = [tr for tr in batch if tr.found is None]
            if not live:
                break
            _advance_all(live, float(lam))
            for tr in live:
                tr.prev = float(lam)
                if tr.cq is not None and lam >= polish_from:
                    tr.try_polish(float(lam), lam >= lam_max)
        for k, tr in zip(members, batch, strict=True):
            out[k] = tr.found if tr.found is not None else tr.finish(float(lam), tol, clean)
    return out  # type: ignore[return-value]


class _Trace:
    """One game's logit trace (see :func:`solve_pbe`): its arrays, the branch point ``z``
    (logits of each action against the first of its information set), the one before it,
    and the solution once a polish succeeds (``found``)."""

    def __init__(self, game: Game, exact: bool) -> None:
        self.game = game
        self.shape = _shape_key(game)
        self.ev, self.fq, cq, fr = _shaped(game, self.shape)
        self.cq = cq if exact else None
        self.sizes, self.offs, self.first, self.free = fr.sizes, fr.offs, fr.first, fr.free
        self.group, self.same, self.eye, self.ref = fr.group, fr.same, fr.eye, fr.ref
        self.cols, self.same_flat, self.same_col = fr.cols, fr.same_flat, fr.same_col
        self.free_flat = fr.free_flat
        self.z = np.zeros(len(self.free))
        self.z_old: np.ndarray | None = None  # the point before z on the branch
        self.prev = 0.1
        self.last_pattern: tuple[int, ...] = ()
        self.found: Solution | None = None

    # -- one game ----------------------------------------------------------------------
    def logprobs(self, z: np.ndarray) -> np.ndarray:
        logits = np.zeros(self.offs[-1])
        logits[self.free] = z
        if not np.isfinite(z).all():  # a diverging step: the guarded form
            return logits - _group_lse(logits, self.first, self.group)[self.group]
        return logits - _finite_group_lse(logits, self.first, self.group)[self.group]

    def resid(self, z: np.ndarray, lam: float) -> np.ndarray:
        q = self.fq.q(self.logprobs(z))
        return z - lam * (q[self.free] - q[self.ref])  # type: ignore[no-any-return]

    def resid_jac(self, z: np.ndarray, lam: float) -> tuple[np.ndarray, np.ndarray]:
        ls = self.logprobs(z)
        q, dq = self.fq.q_jac(ls)
        assert dq is not None
        free = self.free
        dls = np.where(self.same, -np.exp(ls)[free], -0.0)  # d ls / d z
        dls[free, self.cols] += 1.0
        dd = (dq[free] - dq[self.ref]) @ dls
        return z - lam * (q[free] - q[self.ref]), self.eye - lam * dd

    def advance(self, z: np.ndarray, lo: float, hi: float, depth: int = 0,
                guess: np.ndarray | None = None, tried: bool = False) -> np.ndarray:
        """The branch point at ``hi`` from ``z`` at ``lo``: Newton from ``guess`` then from
        ``z`` (``tried``: both already failed), else ``hybr``, else two half steps, else a
        damped iteration."""
        for start in () if tried else (guess, z):
            x = None if start is None else _newton(self.resid_jac, start, hi)
            if x is not None:
                return x
        sol = optimize.root(self.resid_jac, z, args=(hi,), method="hybr", jac=True)
        if sol.success:
            return sol.x  # type: ignore[no-any-return]
        if depth < 3:
            mid = float(np.sqrt(lo * hi))
            return self.advance(self.advance(z, lo, mid, depth + 1), mid, hi, depth + 1)
        zz = z.copy()  # damped iteration from the last good point
        for _ in range(3000):
            zz = zz - 0.05 * self.resid(zz, hi)
        return zz

    def solution(self, p: np.ndarray, mus: list[np.ndarray], viol: float, lam: float,
                 exact: bool) -> Solution:
        """The :class:`Solution` of the flat profile ``p`` with beliefs ``mus`` and deviation
        gain ``viol``."""
        with np.errstate(divide="ignore"):
            lr = self.ev.log_reach(np.log(p))
        strategy, outcomes, expected = self.ev.summary(p, lr, self.ev.values(p))
        return Solution(strategy, self.ev.belief_dicts(mus), outcomes, expected, viol, lam,
                        exact)

    def try_polish(self, lam: float, last: bool) -> None:
        """Polish the branch point (:func:`_polish`) unless its support is the one that
        failed last time (and this is not the last precision); ``found`` on success."""
        assert self.cq is not None
        ls = self.logprobs(self.z)
        pattern = tuple(int(i) for i in np.flatnonzero(ls > np.log(1e-3)))
        if pattern == self.last_pattern and not last:
            return  # same support as the last failed attempt
        self.last_pattern = pattern
        found = _polish(self.cq, np.exp(ls), self.fq.beliefs(ls))
        if found is not None:
            self.found = self.solution(*found, lam, True)

    def finish(self, lam: float, tol: float, clean: float) -> Solution | AllianceLabError:
        """The traced profile at the last precision, cleaned (or polished once more);
        the error when it is no equilibrium within ``tol``."""
        ev, offs = self.ev, self.offs
        ls = self.logprobs(self.z)
        logsig = [ls[offs[h]:offs[h + 1]] for h in range(len(self.sizes))]
        sig = [np.exp(x) for x in logsig]
        q, mu, v, lr = ev.action_values(sig, logsig)
        viol = max((float(np.max(qa) - qa[s > clean].min())
                    for qa, s in zip(q, sig, strict=True)), default=0.0)
        cleaned = []
        for s in sig:
            s = np.where(s < clean, 0.0, s)
            cleaned.append(s / s.sum())
        if self.cq is not None:  # last chance: polish the cleaned profile
            found = _polish(self.cq, np.concatenate(cleaned), mu)
            if found is not None:
                return self.solution(*found, lam, True)
        if viol > tol:
            return AllianceLabError(
                f"solver did not reach an equilibrium (deviation gain {viol:.2g})")
        # beliefs from the logit limit (defined off the path too)
        return self.solution(np.concatenate(cleaned), mu, viol, lam, False)


def _advance_all(traces: list[_Trace], lam: float) -> None:
    """Every trace one precision further, to ``lam``: Newton from the secant predictor in
    log(lambda) (the precisions are equally spaced in it), for all traces at once
    (:func:`_newton_all`), then from the last point for those that failed; what still
    fails takes :meth:`_Trace.advance`'s fallbacks alone."""
    z = np.stack([tr.z for tr in traces])
    guess = [None if tr.z_old is None else 2.0 * tr.z - tr.z_old for tr in traces]
    new: list[np.ndarray | None] = [None] * len(traces)
    with_guess = [k for k, g in enumerate(guess) if g is not None]
    if with_guess:
        found = _newton_all([traces[k] for k in with_guess],
                            np.stack([guess[k] for k in with_guess]), lam)  # type: ignore[misc]
        for k, x in zip(with_guess, found, strict=True):
            new[k] = x
    retry = [k for k in range(len(traces)) if new[k] is None]
    if retry:
        found = _newton_all([traces[k] for k in retry], z[retry], lam)
        for k, x in zip(retry, found, strict=True):
            new[k] = x
    for k, tr in enumerate(traces):
        x = new[k]
        if x is None:
            x = tr.advance(tr.z, tr.prev, lam, tried=True)
        tr.z_old, tr.z = tr.z, x


def _resid_jac_all(traces: list[_Trace], z: np.ndarray, lam: float, c_t: np.ndarray,
                   c_d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:meth:`_Trace.resid_jac` of every trace (games of one shape) at its row of ``z``,
    on arrays with a leading game axis: elementwise the same operations, the matrix
    products and sums per game as alone (stacked ``matmul``), so every number is the one
    the game gets alone. ``c_t``, ``c_d``: the traces' ``fq.cT``, ``fq.cD`` stacked. A row
    that is not finite is computed alone."""
    t0, fq = traces[0], traces[0].fq
    free, ref, first, group = t0.free, t0.ref, t0.first, t0.group
    g_n = len(traces)
    if not np.isfinite(z).all():
        pairs = [tr.resid_jac(zi, lam) for tr, zi in zip(traces, z, strict=True)]
        return np.stack([f for f, _ in pairs]), np.stack([j for _, j in pairs])
    logits = np.zeros((g_n, t0.offs[-1]))
    logits[:, free] = z
    m = np.maximum.reduceat(logits, first, axis=1)
    lse = np.log(np.add.reduceat(np.exp(logits - m[:, group]), first, axis=1)) + m
    ls = logits - lse[:, group]
    lr_t = np.matmul(fq.MT[None], ls[:, :, None])[:, :, 0] + c_t
    lrh = (np.matmul(fq.MD[None], ls[:, :, None])[:, :, 0] + c_d)[:, fq.h_perm]
    if not np.isfinite(lrh).all():
        pairs = [tr.resid_jac(zi, lam) for tr, zi in zip(traces, z, strict=True)]
        return np.stack([f for f, _ in pairs]), np.stack([j for _, j in pairs])
    mh = np.maximum.reduceat(lrh, fq.h_starts, axis=1)
    lh = np.log(np.add.reduceat(np.exp(lrh - mh[:, fq.h_rep]), fq.h_starts, axis=1)) + mh
    a = np.zeros((g_n, *fq.B.shape))
    take = np.take  # x[:, idx], faster
    a.reshape(g_n, -1)[:, fq.p_flat] = np.exp(take(lr_t, fq.pt, 1) - take(ls, fq.pj, 1)
                                              - take(lh, fq.ph, 1)) * fq.pu
    q = a.sum(axis=2)
    dq = a @ fq.MT
    diag = dq.reshape(g_n, -1)[:, ::dq.shape[1] + 1]  # a view (matmul output: contiguous)
    diag -= q
    mu = np.exp(lrh - lh[:, fq.h_rep])
    dq -= q[:, :, None] * np.add.reduceat(mu[:, :, None] * fq.MDp[None], fq.h_starts,
                                          axis=1)[:, fq.act_h]
    dls = np.full((g_n, *t0.same.shape), -0.0)
    dls.reshape(g_n, -1)[:, t0.same_flat] = (-np.exp(ls)[:, free])[:, t0.same_col]
    dls.reshape(g_n, -1)[:, t0.free_flat] += 1.0
    dd = (take(dq, free, 1) - take(dq, ref, 1)) @ dls
    return z - lam * (take(q, free, 1) - take(q, ref, 1)), t0.eye[None] - lam * dd


def _newton_all(traces: list[_Trace], z0: np.ndarray, lam: float, *, xtol: float = 1e-11,
                max_iter: int = 30) -> list[np.ndarray | None]:
    """:func:`_newton` for every trace at once (row k of ``z0`` is trace k's start): each
    game takes its own steps and step sizes and stops on its own, as alone; None for a game
    whose Newton fails."""
    n = len(traces)
    if z0.shape[1] == 0:
        return list(z0)
    out: list[np.ndarray | None] = [None] * n
    c_t = np.stack([tr.fq.cT for tr in traces])
    c_d = np.stack([tr.fq.cD for tr in traces])
    z = z0.copy()
    f, jac = _resid_jac_all(traces, z, lam, c_t, c_d)
    norm = np.abs(f).max(axis=1)
    live = np.arange(n)
    for _ in range(max_iter):
        live = live[np.isfinite(norm[live])]
        if not live.size:
            break
        dz = np.zeros_like(z)
        ok = np.ones(n, dtype=bool)
        try:
            dz[live] = np.linalg.solve(jac[live], f[live][:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:  # find the singular ones
            for k in live:
                try:
                    dz[k] = np.linalg.solve(jac[k], f[k])
                except np.linalg.LinAlgError:
                    ok[k] = False
        live = live[ok[live]]
        scale = xtol * (1.0 + np.abs(z).max(axis=1))
        done = np.abs(dz).max(axis=1) <= scale
        for k in live[done[live]].tolist():
            out[k] = z[k] - dz[k]  # converged: a full step this small needs no more checking
        live = live[~done[live]]
        step = np.ones(n)
        searching = live
        accepted: list[np.ndarray] = []
        for _ in range(12):  # backtrack until the residual shrinks
            if not searching.size:
                break
            trial = z[searching] - step[searching, None] * dz[searching]
            f_new, jac_new = _resid_jac_all([traces[k] for k in searching.tolist()], trial,
                                            lam, c_t[searching], c_d[searching])
            new = np.abs(f_new).max(axis=1)
            good = (new <= (1.0 - 1e-4 * step[searching]) * norm[searching]) | (new < 1e-13)
            took = searching[good]
            z[took], f[took], jac[took], norm[took] = (trial[good], f_new[good], jac_new[good],
                                                       new[good])
            accepted.append(took)
            step[searching[~good]] *= 0.5
            searching = searching[~good]
        # (each round's rows are in order, a subset of the last round's)
        live = (accepted[0] if len(accepted) == 1
                else np.sort(np.concatenate([np.zeros(0, dtype=int), *accepted])))
        if not live.size:
            break
        stop = step[live] * np.abs(dz[live]).max(axis=1) <= xtol * (
            1.0 + np.abs(z[live]).max(axis=1))
        for k in live[stop].tolist():
            out[k] = z[k].copy()
        live = live[~stop]
    return out
