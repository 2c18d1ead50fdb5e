"""KTAB's Spatial Model of Politics (SMP), vectorised with NumPy.

Reference: B. Wise, L. Thomas, L. Yaseen et al., KAPSARC Toolkit for Behavioral Analysis
(KTAB), GitHub KAPSARC/KTAB: ``examples/smp/libsrc/smp.cpp`` and ``smpbcn.cpp`` (the SMP
state, challenges and bargains), ``KTAB/kmodel/libsrc/kmodel.cpp`` (votes, coalitions,
victory probabilities, the probabilistic Condorcet election), ``KTAB/kmodel/doc/
markov-incentives.tex`` and ``web/tutorial/SMPTutorial.md`` (the options). One step of the
model (KTAB ``SMPState::stepBCN``), on positions scaled to [0, 1]:

1. utilities: ``u_ij = (1 - d_ij)(1 + d_ij R)`` with ``d_ij`` the salience-weighted distance
   from i's ideal (= its position; identity accommodation) to j's position (``bvDiff``,
   ``bsUtil``); risk attitudes R from the risk-neutral probabilistic Condorcet election
   (PCE) of the actors' positions (``bigRfromProb``), and h's estimate of i's attitude
   ``(2 R_h + R_i) / 3`` ("OneThird", ``estNRA``);
2. every actor i picks the target j with the largest expected gain of challenging it, from
   its own perspective (``probEduChlg(i, i, i, j)``, third parties joining by the "little
   conflict" rule and semi-commitment, ``bestChallenge``: gain > 1e-5);
3. the pair's bargain interpolates their positions issue by issue, weights
   ``(salience x probability)^2``, rounded to 4 decimals (``interpBrgnSnPm``, S2P2);
4. each actor's queue (its status quo plus every bargain it is party to) is resolved by a
   PCE of the states the bargains would produce, with capabilities as weights, and the
   actor adopts the most probable one (``updateBestBrgnPositions``, deterministic);
5. stop when the summed movement of the last step falls below 2% of the first step's
   (plus 1e-4), after at least 2 and at most 100 steps (``smpStopFn``, ``configExec``).

See docs/smp.md for the options, the mapping of a case onto KTAB's inputs, and every point
where we deviate from KTAB (all of them are cases where KTAB throws). From
:data:`JIT_MIN_ACTORS` actors on, the n^3 loops of a step run compiled (:mod:`._smp_jit`,
the same bits as the NumPy formulation here).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from types import ModuleType
from typing import Any

import numpy as np

from ...core import limits
from ...core.errors import AllianceLabError
from ...core.limits import checkpoint
from ...core.problem import Problem
from . import _smp_kernel as K
from . import arena
from .base import Engine, Outcome

#: KTAB ``Model::maxNumActor``.
MAX_ACTORS = 250
#: KTAB ``SMPModel::posTol``: positions closer than this (on [0, 1]) are the same option.
POS_TOL = 1e-3
#: KTAB ``SMPState::bestChallenge``: smallest expected gain worth a challenge.
MIN_SIG_EDU = 1e-5
#: KTAB ``configExec``: the stopping rule's constants.
MIN_ITER, MAX_ITER, MIN_DELTA_RATIO, MIN_SIG_DELTA = 2, 100, 0.02, 1e-4
#: Capabilities are rescaled so the largest is this (see docs/smp.md).
CAP_SCALE = 100.0
#: from this many actors on, the third parties' votes and the coalitions of a state run in
#: the compiled loops of :mod:`._smp_jit` (the same bits as NumPy; see :func:`_jit`). The
#: crossover, measured in a fresh process (issue 15): importing Numba and loading the cached
#: loops costs about 0.25 s of CPU; the loops save 0.14 s on 50 actors, 0.15 s on 60 and
#: 0.31 s on 70 (0.5 s on 80, 3.5 s on 160).
JIT_MIN_ACTORS = 70
#: runs step together (:class:`_Lockstep`) in chunks of at most this many elements of their
#: (runs, i, a, b, issues) arrays (perceived distances, 8 MB); a run whose own array is
#: larger runs by itself (:class:`_Run` chunks its initiators). The Monte Carlo of the
#: shipped case (9 actors with standing, 13 issues) is one chunk of 100 draws; smaller chunks
#: were not faster.
LOCKSTEP_ELEMENTS = 1_000_000

# option name -> accepted spellings (ours, then KTAB's enum names), compared lower-case
# with "-", "_" and spaces removed.
_OPTIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "victory": {
        "linear": ("linear",),
        "square": ("square",),
        "quartic": ("quartic",),
        "octic": ("octic",),
        "binary": ("binary",),
    },
    "pce": {
        "conditional": ("conditional", "conditionalpcm"),
        "markov-incentive": ("markovincentive", "markovipcm"),
        "markov-uniform": ("markovuniform", "markovupcm"),
    },
    "voting": {
        "binary": ("binary",),
        "prop-bin": ("propbin",),
        "proportional": ("proportional", "prop"),
        "prop-cubic": ("propcubic", "propcbc"),
        "cubic": ("cubic",),
        "asym-prospect": ("asymprospect", "asymprosp"),
    },
    "risk_range": {"min": ("min",), "mid": ("mid",), "max": ("max",)},
    "risk_adjust": {
        "none": ("none", "nora"),
        "one-third": ("onethird", "onethirdra"),
        "half": ("half", "halfra"),
        "two-thirds": ("twothirds", "twothirdsra"),
        "full": ("full", "fullra"),
    },
    "third_party": {
        "none": ("none", "nocommit"),
        "semi": ("semi", "semicommit"),
        "full": ("full", "fullcommit"),
    },
    "interpolation": {"s1p1": ("s1p1",), "s2p2": ("s2p2",), "s2pmax": ("s2pmax",)},
    "bargain": {
        "init-only": ("initonly", "initonlyinterp"),
        "init-rcvr": ("initrcvr", "initrcvrinterp"),
        "pw-compromise": ("pwcompromise", "pwcomp", "pwcompinterp"),
    },
    "transitions": {
        "deterministic": ("deterministic", "determinsticstm"),
        "stochastic": ("stochastic", "stochasticstm"),
    },
}


def _option(kind: str, value: Any) -> str:
    if not isinstance(value, str):
        raise AllianceLabError(f"smp option {kind}: expected a name, got {value!r}", field=kind)
    key = "".join(ch for ch in value.lower() if ch not in "-_ ")
    for name, spellings in _OPTIONS[kind].items():
        if key in spellings:
            return name
    raise AllianceLabError(
        f"smp option {kind}: unknown value {value!r}; choose one of {', '.join(_OPTIONS[kind])}",
        field=kind,
    )


@dataclass
class _Bargains:
    """The bargains proposed in one step (one row per bargain)."""

    init: np.ndarray  # (m,) initiator
    rcvr: np.ndarray  # (m,) receiver
    pos_init: np.ndarray  # (m, d) the initiator's position under the bargain
    pos_rcvr: np.ndarray  # (m, d)


class SMP(Engine):
    """KTAB's Spatial Model of Politics; defaults are KTAB's (``smpc`` with a CSV input).

    Options (KTAB's names accepted too): ``victory`` linear|square|quartic|octic|binary
    (``VPModel``); ``pce`` conditional|markov-incentive|markov-uniform (``PCEModel``);
    ``voting`` proportional|binary|prop-bin|prop-cubic|cubic|asym-prospect (``VotingRule``);
    ``risk_range`` min|mid|max (``BigRRange``); ``risk_adjust`` none|one-third|half|
    two-thirds|full (``BigRAdjust``); ``third_party`` none|semi|full (``ThirdPartyCommit``);
    ``interpolation`` s1p1|s2p2|s2pmax (``InterVecBrgn``); ``bargain`` init-only|init-rcvr|
    pw-compromise (``SMPBargnModel``); ``transitions`` deterministic|stochastic
    (``StateTransMode``; stochastic draws from ``rng``); ``rounds`` the maximum number of
    steps (KTAB: 100); ``min_rounds`` (2) and ``tolerance`` (0.02) of the stopping rule;
    ``capability_scale`` (100): capabilities are rescaled so the largest equals it, which
    makes results independent of the capability unit (KTAB's floors 1e-8 and 1e-10 are
    absolute); ``None`` uses capabilities as given, bit-for-bit KTAB for any input.
    """

    name = "smp"
    min_actors = 3
    iterative = True

    def __init__(
        self,
        *,
        rounds: int = MAX_ITER,
        victory: str = "linear",
        pce: str = "conditional",
        voting: str = "proportional",
        risk_range: str = "mid",
        risk_adjust: str = "one-third",
        third_party: str = "semi",
        interpolation: str = "s2p2",
        bargain: str = "init-only",
        transitions: str = "deterministic",
        min_rounds: int = MIN_ITER,
        tolerance: float = MIN_DELTA_RATIO,
        capability_scale: float | None = CAP_SCALE,
    ) -> None:
        for label, v in (("rounds", rounds), ("min_rounds", min_rounds)):
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
                raise AllianceLabError(f"must be a positive integer, got {v!r}", field=label)
        limits.at_most("rounds", int(rounds), "rounds")
        if not (isinstance(tolerance, int | float) and 0 <= float(tolerance) < 1):
            raise AllianceLabError(f"must lie in [0, 1), got {tolerance!r}", field="tolerance")
        self.rounds = int(rounds)
        self.victory = _option("victory", victory)
        self.pce = _option("pce", pce)
        self.voting = _option("voting", voting)
        self.risk_range = _option("risk_range", risk_range)
        self.risk_adjust = _option("risk_adjust", risk_adjust)
        self.third_party = _option("third_party", third_party)
        self.interpolation = _option("interpolation", interpolation)
        self.bargain = _option("bargain", bargain)
        self.transitions = _option("transitions", transitions)
        if capability_scale is not None and not (
            isinstance(capability_scale, int | float) and capability_scale > 0
        ):
            raise AllianceLabError(
                f"must be a positive number or None, got {capability_scale!r}",
                field="capability_scale",
            )
        self.min_rounds = int(min_rounds)
        self.tolerance = float(tolerance)
        self.capability_scale = None if capability_scale is None else float(capability_scale)

    # ------------------------------------------------------------------ inputs
    def _solve(self, problem: Problem, rng: np.random.Generator) -> Outcome:
        return self._model(problem, rng, record=True)

    def _solve_batch(
        self, problems: Sequence[Problem], rngs: Sequence[np.random.Generator]
    ) -> np.ndarray:
        """The forecasts only, without the rounds and diagnostics nobody reads here: the
        runs of the same numbers of actors (with standing) and issues, arena use and
        perception flag step together (:class:`_Lockstep`), the others (and options the
        lockstep does not take) run one by one; the same numbers as :meth:`_model`."""
        d = problems[0].n_issues if problems else 0
        out = np.empty((len(problems), d))
        together: dict[tuple[int, int, bool, bool], list[tuple[int, Problem, _Run]]] = {}
        for k, (problem, rng) in enumerate(zip(problems, rngs, strict=True)):
            self._admit(problem)
            taking_part = problem.standing.any(axis=1)
            sub = problem if taking_part.all() else self._among(
                problem, np.flatnonzero(taking_part))
            run = self._start(sub, rng)[0]
            if _Lockstep.takes(run):
                key = (run.n, run.d, run.mask is None, run.perceived)
                together.setdefault(key, []).append((k, sub, run))
            else:
                out[k] = _forecast(sub, run.outcome(run.run()[-1])[0])
        for (n, d, _, _), group in together.items():
            size = LOCKSTEP_ELEMENTS // (n**3 * d)
            for c0 in range(0, len(group), size):
                chunk = group[c0:c0 + size]
                finals = _Lockstep([run for _, _, run in chunk]).run()
                for (k, sub, run), final in zip(chunk, finals, strict=True):
                    out[k] = _forecast(sub, run.outcome(final)[0])
        return out

    def _admit(self, problem: Problem) -> None:
        """Raise the one-line error for a problem of too many or too few actors."""
        n = problem.n_actors
        if n > MAX_ACTORS:
            raise AllianceLabError(
                f"model 'smp' takes at most {MAX_ACTORS} actors (KTAB's limit), the case has {n}",
                field="actors",
            )
        self.check(problem)

    def _model(self, problem: Problem, rng: np.random.Generator, record: bool) -> Outcome:
        """The model; without ``record``, the forecast alone (the rounds are round 0 and
        there are no diagnostics)."""
        self._admit(problem)
        taking_part = problem.standing.any(axis=1)
        if not taking_part.all():  # actors without standing on any issue are left out
            return self._participants(problem, np.flatnonzero(taking_part), rng, record)
        run, factor = self._start(problem, rng)
        states = run.run()

        expected, modal, outcome_dist = run.outcome(states[-1])
        forecast = _forecast(problem, expected)
        if not record:
            return Outcome(rounds=problem.position[None], forecast=forecast)
        lo, width = problem.lower, problem.upper - problem.lower
        xs = np.array([s["x"] for s in states])  # (S, n, d)
        rounds = arena.hold(xs * width + lo, problem)
        rounds[0] = problem.position
        diagnostics: dict[str, Any] = {
            "states": len(states),
            "victory_probabilities": np.array([s["actor_prob"] for s in states]),
            "risk_attitudes": np.array([s["risk"] for s in states]),
            "position_probabilities": [
                {"actors": [list(map(int, np.flatnonzero(s["group"] == m)))
                            for m in range(len(s["uniq"]))],
                 "probability": s["prob"].tolist()}
                for s in states
            ],
            "challenges": run.challenges,
            "expected_outcome": forecast,
            "modal_outcome": modal * width + lo,
            "outcome_distribution": outcome_dist,
            "stop_ratio": run.ratios,
            "converged": run.converged,
            "capability_factor": factor,
        }
        return Outcome(rounds=rounds, forecast=forecast, diagnostics=diagnostics)

    def _start(self, problem: Problem, rng: np.random.Generator) -> tuple[_Run, float]:
        """The run of a problem whose actors all have standing somewhere, before its first
        state, and the factor its capabilities were scaled by."""
        n = problem.n_actors
        # the arena (docs/arenas.md): saliences times the arena weights; coordinates without
        # standing are no one's position (see _Run.pin), so nobody misperceives them
        arena_mask = problem.standing if problem.has_arena else None
        lo, width = problem.lower, problem.upper - problem.lower
        x0 = (problem.position - lo) / width
        sal = _ktab_saliences(problem.salience) * problem.weight
        cap_raw = np.asarray(problem.capability, dtype=float)
        pcap_raw = np.asarray(problem.perceived_capability, dtype=float)
        c_max = cap_raw.max()
        scale = self.capability_scale
        with np.errstate(over="ignore"):
            if c_max > 0 and scale is not None and not np.isfinite(scale / c_max):
                # capabilities so small (subnormal) that scale / c_max overflows: divide first
                cap_raw, pcap_raw, c_max = cap_raw / c_max, pcap_raw / c_max, 1.0
        factor = (1.0 if scale is None else scale / c_max) if c_max > 0 else 0.0
        cap = cap_raw * factor if c_max > 0 else np.ones(n)
        psal = _ktab_saliences(problem.perceived_salience) * problem.weight[None]
        pcap = pcap_raw * factor if c_max > 0 else np.ones((n, n))
        offset = (problem.perceived_position - problem.position[None, :, :]) / width
        if arena_mask is not None:
            offset = np.where(arena_mask[None], offset, 0.0)
        perceived = bool(
            np.any(offset != 0) or np.any(psal != sal[None]) or np.any(pcap != cap[None])
        )
        run = _Run(self, x0, sal, cap, psal, pcap, offset, perceived, rng, arena_mask)
        return run, factor

    def _participants(
        self, problem: Problem, idx: np.ndarray, rng: np.random.Generator, record: bool = True
    ) -> Outcome:
        """The model among the actors ``idx`` (those with standing somewhere); the others
        hold their positions and appear in no diagnostic (NaN in the per-actor arrays)."""
        out = self._model(self._among(problem, idx), rng, record)
        if not record:
            return Outcome(rounds=problem.position[None], forecast=out.forecast)
        rounds = np.repeat(problem.position[None], out.rounds.shape[0], axis=0)
        rounds[:, idx] = out.rounds
        return Outcome(rounds=rounds, forecast=out.forecast,
                       diagnostics=_widen(out.diagnostics, idx, problem.n_actors))

    def _among(self, problem: Problem, idx: np.ndarray) -> Problem:
        """The problem of the actors ``idx`` alone (at least :attr:`min_actors` of them)."""
        if len(idx) < self.min_actors:
            raise AllianceLabError(
                f"model 'smp' needs at least {self.min_actors} actors with standing on some "
                f"issue, the case has {len(idx)}",
                field="actors",
            )
        return replace(
            problem,
            actors=tuple(problem.actors[i] for i in idx),
            capability=problem.capability[idx],
            position=problem.position[idx],
            salience=problem.salience[idx],
            perceived_position=problem.perceived_position[np.ix_(idx, idx)],
            perceived_salience=problem.perceived_salience[np.ix_(idx, idx)],
            perceived_capability=problem.perceived_capability[np.ix_(idx, idx)],
            weight=problem.weight[idx],
            veto=problem.veto[idx],
        )


def _forecast(problem: Problem, expected: np.ndarray) -> np.ndarray:
    """The forecast of ``problem`` from the expected outcome of its final state on [0, 1]:
    KTAB rounds bargains to 4 decimals of the scale, which can step up to 5e-5 of the scale
    outside the inputs' range; the forecast is kept within it."""
    lo, width = problem.lower, problem.upper - problem.lower
    return np.clip(expected * width + lo, *arena.hull(problem.position, problem.standing))  # type: ignore[no-any-return]


def _widen(diag: dict[str, Any], idx: np.ndarray, n: int) -> dict[str, Any]:
    """Diagnostics of a run among the actors ``idx`` with actor indices of the whole case."""
    out = dict(diag)
    for key in ("victory_probabilities", "risk_attitudes"):
        full = np.full((diag[key].shape[0], n), np.nan)
        full[:, idx] = diag[key]
        out[key] = full

    def groups(entry: dict[str, Any]) -> dict[str, Any]:
        return {**entry, "actors": [[int(idx[a]) for a in g] for g in entry["actors"]]}

    out["position_probabilities"] = [groups(e) for e in diag["position_probabilities"]]
    out["outcome_distribution"] = groups(diag["outcome_distribution"])
    out["challenges"] = [
        [{**c, "initiator": int(idx[c["initiator"]]), "target": int(idx[c["target"]]),
          "adopted_by": [int(idx[a]) for a in c.get("adopted_by", [])]} for c in step]
        for step in diag["challenges"]
    ]
    return out


def _last_equivalent(x: np.ndarray, uniq: np.ndarray) -> np.ndarray:
    """KTAB ``State::posProb``: for each actor, the *last* distinct position within
    ``POS_TOL`` of its own (KTAB scans them all without stopping at the first match)."""
    dist = np.sqrt(((x[:, None, :] - x[uniq][None, :, :]) ** 2).sum(axis=2))
    hit = dist < POS_TOL
    return len(uniq) - 1 - np.argmax(hit[:, ::-1], axis=1)


def _ktab_saliences(s: np.ndarray) -> np.ndarray:
    """A case's 0-1 saliences as KTAB's per-actor salience vectors: kept as they are when
    an actor's saliences sum to at most 1 (KTAB's CSV limit of 100; 1e-12 of slack for
    decimal fractions), otherwise divided by their sum (last axis = issues)."""
    s = np.asarray(s, dtype=float)
    total = s.sum(axis=-1, keepdims=True)
    return np.where(total > 1.0 + 1e-12, s / np.where(total > 0, total, 1.0), s)


class _Run:
    """One run of the model: the state history and what happened between states."""

    def __init__(
        self,
        eng: SMP,
        x0: np.ndarray,
        sal: np.ndarray,
        cap: np.ndarray,
        psal: np.ndarray,
        pcap: np.ndarray,
        offset: np.ndarray,
        perceived: bool,
        rng: np.random.Generator,
        mask: np.ndarray | None = None,
    ) -> None:
        self.e = eng
        self.mask = mask  # (n, d): standing; None = everyone on every issue
        self.x0, self.sal, self.cap = x0, sal, cap
        self.psal, self.pcap, self.offset, self.perceived = psal, pcap, offset, perceived
        self.rng = rng
        self.n, self.d = x0.shape
        self.sal_sum = sal.sum(axis=1)
        # h's estimate of i's weight s_i c_i and salience sum, (n, n); row h
        self.w_est = pcap * psal.sum(axis=2)
        self.s_est = psal.sum(axis=2)
        self.challenges: list[list[dict[str, Any]]] = []
        self.ratios: list[float] = []
        self.converged = False
        self.jit = _jit(self.n)
        # fill's weights: c*s where an actor has standing, 1 on an issue where these are all 0
        self.fill_w: np.ndarray | None = None
        self.fill_sum: np.ndarray | None = None
        if mask is not None:
            self.fill_w = np.where(mask, cap[:, None] * sal, 0.0)
            dead = self.fill_w.sum(axis=0) <= 0
            if dead.any():
                self.fill_w[:, dead] = np.where(mask[:, dead], 1.0, 0.0)
            self.fill_sum = self.fill_w.sum(axis=0)

    # -------------------------------------------------------------- one state
    def assess(self, x: np.ndarray) -> dict[str, Any]:
        """Utilities, risk attitudes and position probabilities of a state
        (KTAB ``setAllAUtil`` and ``pDist(-1)``)."""
        e = self.e
        dist = K.weighted_distance(x[:, None, :], x[None, :, :], self.sal[:, None, :])
        rn_util = K.bs_util(dist, np.zeros((self.n, 1)))
        c = self.coalitions(rn_util)
        p_act, _ = K.pce(e.pce, e.victory, c)
        risk = K.big_r(p_act, e.risk_range)
        own = K.bs_util(dist, K.est_nra(risk, risk, e.risk_adjust)[:, None])
        uniq, group = K.unique_indices(x, POS_TOL)
        prob = K.pce(e.pce, e.victory, self.coalitions(own[:, uniq]))[0]
        return {
            "x": x,
            "dist": dist,
            "risk": risk,
            "own": own,
            "uniq": uniq,
            "group": group,
            "prob": prob,
            "actor_prob": prob[_last_equivalent(x, uniq)],
        }

    def coalitions(self, u: np.ndarray) -> np.ndarray:
        """:func:`._smp_kernel.coalitions` of the actors (capabilities as weights) over the
        options of ``u`` ``(actors, options)`` or a batch of them ``(G, actors, options)``;
        compiled for many actors (the same bits)."""
        if self.jit is not None:
            return self.jit.coalitions_of(self.e.voting, self.cap, u)  # type: ignore[no-any-return]
        return K.coalitions(self.e.voting, self.cap, u)

    def fill(self, x: np.ndarray) -> np.ndarray:
        """Per issue, the c*s-weighted mean position (saliences times the arena weights) of
        the actors with standing there, ``(d,)``: where an outsider's coordinate is put."""
        assert self.mask is not None and self.fill_w is not None and self.fill_sum is not None
        return (self.fill_w * np.where(self.mask, x, 0.0)).sum(axis=0) / self.fill_sum  # type: ignore[no-any-return]

    def pin(self, x: np.ndarray) -> np.ndarray:
        """``x`` with every coordinate of an actor without standing on that issue set to
        :meth:`fill`: nobody's position, so that an outsider's own position there counts
        nowhere (docs/arenas.md). ``x`` itself without an arena."""
        if self.mask is None:
            return x
        return np.where(self.mask, x, self.fill(x)[None, :])  # type: ignore[no-any-return]

    def _moved(self, a: np.ndarray, b: np.ndarray) -> float:
        """Summed movement of the actors between two states (coordinates with standing)."""
        diff = (a - b) ** 2
        if self.mask is not None:
            diff = np.where(self.mask, diff, 0.0)
        return float(np.sqrt(diff.sum(axis=1)).sum())

    def _arena_outcome(
        self, x: np.ndarray, members: list[np.ndarray], prob: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Expected and modal outcome with an arena: per issue, over the distinct
        positions held by someone with standing there (the mean of those members),
        probabilities renormalised."""
        mask = self.mask
        assert mask is not None
        num, den = np.zeros(self.d), np.zeros(self.d)
        best, modal = np.full(self.d, -1.0), np.zeros(self.d)
        for g, mm in enumerate(members):
            count = mask[mm].sum(axis=0)
            has = count > 0
            centre = np.where(mask[mm], x[mm], 0.0).sum(axis=0) / np.maximum(count, 1)
            num += np.where(has, prob[g] * centre, 0.0)
            den += np.where(has, prob[g], 0.0)
            top = has & (prob[g] > best)
            modal, best = np.where(top, centre, modal), np.where(top, prob[g], best)
        return num / den, modal

    def outcome(self, st: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
        """The expected outcome of a state: the probability-weighted mean of its distinct
        positions (KTAB ``pDist(-1)``), and the most probable one. KTAB forms the distinct
        positions scanning actors in input order; here they are scanned in order of
        position (lexicographic), so the forecast does not depend on the actors' order."""
        e, x = self.e, st["x"]
        order = np.lexsort(x.T[::-1])
        uniq_sorted, group_sorted = K.unique_indices(x[order], POS_TOL)
        uniq = order[uniq_sorted]
        group = np.empty_like(group_sorted)
        group[order] = group_sorted
        prob = K.scalar_pce(e.voting, e.victory, e.pce, self.cap, st["own"][:, uniq])
        members = [np.flatnonzero(group == m) for m in range(len(uniq))]
        centres = np.array([x[mm].mean(axis=0) for mm in members])
        dist = {"actors": [mm.tolist() for mm in members], "probability": prob.tolist()}
        if self.mask is not None:
            expected, modal = self._arena_outcome(x, members, prob)
            return expected, modal, dist
        return prob @ centres, centres[int(np.argmax(prob))], dist

    def run(self) -> list[dict[str, Any]]:
        e = self.e
        states = [self.assess(self.pin(self.x0))]
        d01 = 0.0
        for it in range(1, e.rounds + 1):
            checkpoint()
            x_new = self.pin(self.step(states[-1]))
            states.append(self.assess(x_new))
            moved = self._moved(states[-1]["x"], states[-2]["x"])
            if it == 1:
                d01 = moved + MIN_SIG_DELTA
            ratio = moved / d01
            self.ratios.append(ratio)
            if it >= e.min_rounds and ratio < e.tolerance:
                self.converged = True
                break
        return states

    # ------------------------------------------------------------- utilities
    def _dist_h(self, h: np.ndarray, x: np.ndarray, dist: np.ndarray) -> np.ndarray:
        """h's estimate of the distances d(a, b), ``(len(h), n, n)``."""
        if not self.perceived:
            return np.broadcast_to(dist, (len(h), self.n, self.n))
        px = np.clip(x[None, :, :] + self.offset[h], 0.0, 1.0)  # (H, n, d)
        return K.weighted_distance(
            px[:, :, None, :], px[:, None, :, :], self.psal[h][:, :, None, :]
        )

    def _util_h(self, h: np.ndarray, st: dict[str, Any]) -> np.ndarray:
        """``aUtil[h](a, b)``: h's estimate of the utility to a of b's position."""
        r = st["risk"]
        dh = self._dist_h(h, st["x"], st["dist"])
        rh = K.est_nra(r[h][:, None], r[None, :], self.e.risk_adjust)  # (H, n)
        if self.jit is not None:
            if not self.perceived:  # everyone sees the same distances
                return self.jit.bs_util_shared(np.ascontiguousarray(st["dist"]), rh)  # type: ignore[no-any-return]
            return self.jit.bs_util(dh, rh)  # type: ignore[no-any-return]
        return K.bs_util(dh, rh[:, :, None])

    def _contest(
        self,
        u: np.ndarray,
        h: np.ndarray,
        k: np.ndarray,
        i: np.ndarray,
        j: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """KTAB ``SMPState::probEduChlg(h, k, i, j)`` for a batch: h's estimate of the
        probability that i beats j and of k's expected gain from i challenging j.
        ``u[b]`` is ``aUtil[h_b]``, ``(B, n, n)``."""
        e = self.e
        b = np.arange(len(h))
        uii, uij = u[b, i, i], u[b, i, j]
        uji, ujj = u[b, j, i], u[b, j, j]
        uki, ukj = u[b, k, i], u[b, k, j]
        eu_sq = uki + ukj
        u_kij = uki + uki
        u_kji = ukj + ukj
        w_i, w_j = self.w_est[h, i], self.w_est[h, j]
        s_j = self.s_est[h, j]
        v_i = K.vote(e.voting, w_i, uii, uij)
        v_j = K.vote(e.voting, w_j, uji, ujj)
        c_ij = K.MIN_CONTEST + np.maximum(v_i, 0) + np.maximum(v_j, 0)
        c_ji = K.MIN_CONTEST + np.maximum(-v_i, 0) + np.maximum(-v_j, 0)
        # third parties n: (B, n)
        uni = np.take_along_axis(u, i[:, None, None], axis=2)[:, :, 0]  # u[b, n, i]
        unj = np.take_along_axis(u, j[:, None, None], axis=2)[:, :, 0]
        unn = np.diagonal(u, axis1=1, axis2=2)
        w_n = self.w_est[h]  # (B, n)
        v_t = _third_party(e, w_n, uni, unj, unn, c_ij[:, None], c_ji[:, None])
        mask = np.ones(v_t.shape, dtype=bool)
        mask[b, i] = False
        mask[b, j] = False
        v_t = np.where(mask, v_t, 0.0)
        c_ij = K.seq_sum(np.column_stack([c_ij, np.maximum(v_t, 0)]), axis=1)
        c_ji = K.seq_sum(np.column_stack([c_ji, np.maximum(-v_t, 0)]), axis=1)
        p_ij = c_ij / (c_ij + c_ji)
        p_ji = c_ji / (c_ij + c_ji)
        eu_contest = p_ij * u_kij + p_ji * u_kji
        eu_chlg = (1 - s_j) * u_kij + s_j * eu_contest
        return p_ij, eu_chlg - eu_sq

    # ------------------------------------------------------------ challenges
    def best_challenges(self, st: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For every actor i, ``probEduChlg(i, i, i, j)`` over all j (KTAB
        ``bestChallengeUtils``, ``bestChallenge``): (target or -1, P[i beats it], gain).

        Vectorised over a chunk of initiators c, targets j and third parties t, arrays laid
        out ``(t, c, j)`` so the sum over third parties runs in KTAB's order."""
        n, rule = self.n, self.e.voting
        p_all = np.zeros((n, n))
        g_all = np.full((n, n), -np.inf)
        # NumPy holds (t, c, j) arrays; the compiled loop only the (c, a, b) utilities
        scratch = K.CHUNK_ELEMENTS * 4 if self.jit is not None else K.CHUNK_ELEMENTS // 2
        step = max(1, scratch // (n * n))
        everyone = np.arange(n)
        for a0 in range(0, n, step):
            hs = everyone[a0:a0 + step]
            c = len(hs)
            ci = np.arange(c)
            u = self._util_h(hs, st)  # (c, a, b) = aUtil[i_c](a, b)
            uii = u[ci, hs, hs][:, None]  # (c, 1)
            uij = u[ci, hs, :]  # (c, j)
            uji = u[ci, :, hs]  # (c, j): u[c, j, i_c]
            ujj = np.diagonal(u, axis1=1, axis2=2)  # (c, j)
            eu_sq = uii + uij
            u_kij = uii + uii
            u_kji = uij + uij
            w_est = self.w_est[hs]  # (c, a): i_c's estimate of a's weight
            v_i = K.vote(rule, w_est[ci, hs][:, None], uii, uij)
            v_j = K.vote(rule, w_est, uji, ujj)
            c_ij = K.MIN_CONTEST + np.maximum(v_i, 0) + np.maximum(v_j, 0)
            c_ji = K.MIN_CONTEST + np.maximum(-v_i, 0) + np.maximum(-v_j, 0)
            if self.jit is not None:
                c_ij, c_ji = self.jit.third_party_sums(
                    np.ascontiguousarray(u), np.ascontiguousarray(w_est), hs, c_ij, c_ji,
                    self.jit.RULES.index(rule), self.jit.COMMITS.index(self.e.third_party))
            else:
                c_ij, c_ji = self._third_party_sums(u, w_est, uji, ujj, c_ij, c_ji, hs, ci)
            p_ij = c_ij / (c_ij + c_ji)
            p_ji = c_ji / (c_ij + c_ji)
            s_j = self.s_est[hs]
            eu_chlg = (1 - s_j) * u_kij + s_j * (p_ij * u_kij + p_ji * u_kji)
            gain = eu_chlg - eu_sq
            gain[ci, hs] = -np.inf
            p_all[hs] = p_ij
            g_all[hs] = gain
        target = np.full(n, -1)
        prob = np.zeros(n)
        gain_best = np.zeros(n)
        best = np.argmax(g_all, axis=1)
        top = g_all[everyone, best]
        ok = top > MIN_SIG_EDU
        target[ok], prob[ok], gain_best[ok] = best[ok], p_all[everyone, best][ok], top[ok]
        return target, prob, gain_best

    def _third_party_sums(
        self,
        u: np.ndarray,
        w_est: np.ndarray,
        uji: np.ndarray,
        ujj: np.ndarray,
        c_ij: np.ndarray,
        c_ji: np.ndarray,
        hs: np.ndarray,
        ci: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The principals' coalitions ``(c, j)`` plus the third parties' votes (NumPy; the
        compiled :func:`._smp_jit.third_party_sums` gives the same bits)."""
        n = self.n
        v_t = _third_party(
            self.e,
            w_est.T[:, :, None],
            uji.T[:, :, None],  # u[c, t, i_c]
            u.transpose(1, 0, 2),  # u[c, t, j]
            ujj.T[:, :, None],  # u[c, t, t]
            c_ij[None],
            c_ji[None],
        )  # (t, c, j)
        buf = np.empty((n + 1, len(hs), n))
        c_ij = self._add_third(buf, c_ij, v_t, hs, ci)
        np.negative(v_t, out=v_t)
        c_ji = self._add_third(buf, c_ji, v_t, hs, ci)
        return c_ij, c_ji

    @staticmethod
    def _add_third(
        buf: np.ndarray, start: np.ndarray, v_t: np.ndarray, hs: np.ndarray, ci: np.ndarray
    ) -> np.ndarray:
        """``start`` plus the positive third-party votes, t in order, skipping t = i, j."""
        n = v_t.shape[0]
        buf[0] = start
        np.maximum(v_t, 0.0, out=buf[1:])
        buf[1 + hs, ci, :] = 0.0  # t == i
        jj = np.arange(n)
        buf[1 + jj, :, jj] = 0.0  # t == j
        return buf.sum(axis=0)

    # --------------------------------------------------------------- bargains
    def bargains(
        self, st: dict[str, Any], target: np.ndarray, prob: np.ndarray
    ) -> list[_Bargains]:
        """KTAB ``SMPState::doBCN(i)``: the bargains the challenges produce."""
        e, x, s = self.e, st["x"], self.sal
        ii = np.flatnonzero(target >= 0)
        jj = target[ii]
        if ii.size == 0:
            return []
        p = prob[ii][:, None]
        iij_i, iij_j = K.interpolate(e.interpolation, x[ii], s[ii], p, x[jj], s[jj], 1 - p)
        if e.bargain == "init-only":
            return [_Bargains(ii, jj, iij_i, iij_j)]
        # j's estimate of i's expected gain; KTAB passes it as the "probability" of i
        # (smpbcn.cpp: pjiJ = get<1>(Vjij)) - kept as in KTAB.
        g_ji = np.empty(len(ii))
        step = max(1, K.CHUNK_ELEMENTS // (self.n * self.n))
        for b0 in range(0, len(ii), step):
            sl = slice(b0, b0 + step)
            u_j = self._util_h(jj[sl], st)
            g_ji[sl] = self._contest(u_j, jj[sl], ii[sl], ii[sl], jj[sl])[1]
        q = g_ji[:, None]
        jij_i, jij_j = K.interpolate(e.interpolation, x[ii], s[ii], q, x[jj], s[jj], 1 - q)
        if e.bargain == "init-rcvr":
            return [_Bargains(ii, jj, iij_i, iij_j), _Bargains(ii, jj, jij_i, jij_j)]
        # power-weighted compromise; KTAB weighs j's view with i's capability (quirk kept)
        w_i = (self.cap[ii] * self.sal_sum[ii])[:, None]
        w_j = (self.cap[ii] * self.sal_sum[jj])[:, None]
        bp_i = (w_i * iij_i + w_j * jij_i) / (w_i + w_j)
        bp_j = (w_i * iij_j + w_j * jij_j) / (w_i + w_j)
        return [_Bargains(ii, jj, bp_i, bp_j)]

    def step(self, st: dict[str, Any]) -> np.ndarray:
        """One step: challenges, bargains, and each actor's choice among its bargains
        (KTAB ``SMPState::doBCN``, ``updateBestBrgnPositions``)."""
        e, n = self.e, self.n
        x, own = st["x"], st["own"]
        target, prob, gain = self.best_challenges(st)
        sets = self.bargains(st, target, prob)
        log: list[dict[str, Any]] = [
            {"initiator": int(i), "target": int(target[i]), "probability": float(prob[i]),
             "gain": float(gain[i])}
            for i in np.flatnonzero(target >= 0)
        ]
        x_new = x.copy()
        if not sets:
            self.challenges.append(log)
            return x_new
        # all bargains, initiator order; for init-rcvr the two of a pair stay together
        init = np.stack([b.init for b in sets], axis=1).ravel()
        rcvr = np.stack([b.rcvr for b in sets], axis=1).ravel()
        p_init = np.stack([b.pos_init for b in sets], axis=1).reshape(-1, self.d)
        p_rcvr = np.stack([b.pos_rcvr for b in sets], axis=1).reshape(-1, self.d)
        if self.mask is not None:  # a bargain moves nobody where it has no standing
            fill = self.fill(x)
            p_init = np.where(self.mask[init], p_init, fill[None, :])
            p_rcvr = np.where(self.mask[rcvr], p_rcvr, fill[None, :])
        r = st["risk"]
        # posUtil: utility to every actor a of each bargain's two positions, (n, m)
        pu_i = K.bs_util(
            K.weighted_distance(x[:, None, :], p_init[None, :, :], self.sal[:, None, :]),
            r[:, None],
        )
        pu_j = K.bs_util(
            K.weighted_distance(x[:, None, :], p_rcvr[None, :, :], self.sal[:, None, :]),
            r[:, None],
        )
        u_sq = K.seq_sum(own, axis=1) / n
        u_brg = (_bargain_utility(own, init, rcvr, pu_i, pu_j) if self.jit is None
                 else self.jit.bargain_utility(own, init, rcvr, pu_i, pu_j)) / n  # (n, m)
        chosen: list[int] = [-1] * n
        queues = [np.flatnonzero((init == k) | (rcvr == k)) for k in range(n)]
        sizes = np.array([len(q) for q in queues])
        for size in sorted(set(sizes[sizes > 0].tolist())):  # np.unique imports numpy.ma
            ks = np.flatnonzero(sizes == size)
            idx = np.array([queues[k] for k in ks])  # (G, size)
            u = np.concatenate(
                [np.broadcast_to(u_sq[None, :, None], (len(ks), n, 1)),
                 np.moveaxis(u_brg[:, idx], 0, 1)], axis=2,
            )  # (G, actors, 1 + size)
            p = K.pce(e.pce, e.victory, self.coalitions(u))[0]
            for g, k in enumerate(ks):
                if e.transitions == "deterministic":
                    pick = int(np.argmax(p[g]))
                else:
                    pick = int(rng_choice(self.rng, p[g]))
                if pick == 0:
                    continue
                bid = int(idx[g, pick - 1])
                chosen[k] = bid
                x_new[k] = p_init[bid] if init[bid] == k else p_rcvr[bid]
        adopters: dict[tuple[int, int], list[int]] = {}
        for a in range(n):  # who adopted the bargain of each challenge (i, j), ascending
            if chosen[a] >= 0:
                pair = (int(init[chosen[a]]), int(rcvr[chosen[a]]))
                adopters.setdefault(pair, []).append(a)
        for entry in log:
            entry["adopted_by"] = adopters.get((entry["initiator"], entry["target"]), [])
        self.challenges.append(log)
        return x_new


@dataclass
class _Draws:
    """The fixed inputs of the runs stepped together, one row per run (see :class:`_Run`)."""

    sal: np.ndarray  # (B, n, d)
    cap: np.ndarray  # (B, n)
    psal: np.ndarray  # (B, n, n, d)
    offset: np.ndarray  # (B, n, n, d)
    w_est: np.ndarray  # (B, n, n)
    s_est: np.ndarray  # (B, n, n)
    mask: np.ndarray | None  # (B, n, d)
    fill_w: np.ndarray | None  # (B, n, d)
    fill_sum: np.ndarray | None  # (B, d)

    def take(self, keep: np.ndarray) -> _Draws:
        """The runs ``keep`` (a boolean row mask)."""
        def rows(v: np.ndarray | None) -> Any:
            return None if v is None else v[keep]

        return _Draws(**{f.name: rows(getattr(self, f.name)) for f in fields(self)})


class _Lockstep:
    """Runs of the same numbers of actors and issues, arena use and perception flag (the
    Monte Carlo draws of a case), stepped together on arrays with a leading run axis, for
    their final states only (KTAB ``SMPState::stepBCN`` without its log).

    Every run gets :meth:`_Run.run`'s arithmetic: the same elementwise operations, and every
    sum along the same kind of axis (a leading axis, added in order; or the last axis,
    NumPy's pairwise sum of the same elements), so each final state equals its run's to the
    last bit (tests/test_smp_batch.py). Each run stops at its own step (``smpStopFn``) and
    leaves the arrays; the actors' queues of all runs are resolved together, grouped by
    length as in :meth:`_Run.step`; stochastic transitions draw from each run's own
    Generator in :meth:`_Run.step`'s order. The distinct positions' probabilities of every
    state (diagnostics) are not computed."""

    def __init__(self, runs: Sequence[_Run]) -> None:
        first = runs[0]
        self.e, self.n, self.perceived = first.e, first.n, first.perceived
        self.rngs = [r.rng for r in runs]
        self.x0 = np.stack([r.x0 for r in runs])

        def rows(name: str) -> Any:  # the runs' attribute, stacked (None: no arena)
            v = getattr(first, name)
            return None if v is None else np.stack([getattr(r, name) for r in runs])

        self.draws = _Draws(**{f.name: rows(f.name) for f in fields(_Draws)})

    @staticmethod
    def takes(run: _Run) -> bool:
        """Whether the lockstep gives ``run``'s results: NumPy loops (not the compiled
        ones) on at most :data:`LOCKSTEP_ELEMENTS` elements, initiator-only bargains and the
        conditional Condorcet election (the Markov elections iterate state by state)."""
        e = run.e
        return (run.jit is None and run.n**3 * run.d <= LOCKSTEP_ELEMENTS
                and e.bargain == "init-only" and e.pce == "conditional")

    def run(self) -> list[dict[str, np.ndarray]]:
        """The final state of every run: ``x`` and ``own`` (what :meth:`_Run.outcome` reads)."""
        e = self.e
        dr = self.draws
        x = self._pin(dr, self.x0)
        dist, risk, own = self._assess(dr, x)
        live = np.arange(len(x))
        finals: list[dict[str, np.ndarray]] = [{} for _ in live]
        d01 = np.zeros(len(x))
        for it in range(1, e.rounds + 1):
            checkpoint()
            x_new = self._pin(dr, self._step(dr, live, x, dist, risk, own))
            dist, risk, own = self._assess(dr, x_new)
            moved = self._moved(dr, x_new, x)
            x = x_new
            if it == 1:
                d01 = moved + MIN_SIG_DELTA
            stop = moved / d01 < e.tolerance if it >= e.min_rounds else np.zeros(len(x), bool)
            if it == e.rounds:
                stop[:] = True
            for b in np.flatnonzero(stop):
                finals[live[b]] = {"x": x[b], "own": own[b]}
            if stop.any():
                keep = ~stop
                live, x, dist, risk, own, d01 = (
                    live[keep], x[keep], dist[keep], risk[keep], own[keep], d01[keep])
                dr = dr.take(keep)
            if not live.size:
                break
        return finals

    # ---------------------------------------------------------- one state
    def _assess(self, dr: _Draws, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`_Run.assess`: distances, risk attitudes and utilities (the distinct
        positions' probabilities are diagnostics only)."""
        e = self.e
        dist = K.weighted_distance(x[:, :, None, :], x[:, None, :, :], dr.sal[:, :, None, :])
        rn_util = K.bs_util(dist, np.zeros((len(x), self.n, 1)))
        p_act = K.pce(e.pce, e.victory, K.coalitions(e.voting, dr.cap, rn_util))[0]
        risk = K.big_r(p_act, e.risk_range)
        own = K.bs_util(dist, K.est_nra(risk, risk, e.risk_adjust)[:, :, None])
        return dist, risk, own

    def _fill(self, dr: _Draws, x: np.ndarray) -> np.ndarray:
        """:meth:`_Run.fill` of every run, ``(B, d)``."""
        assert dr.mask is not None and dr.fill_w is not None
        return (dr.fill_w * np.where(dr.mask, x, 0.0)).sum(axis=1) / dr.fill_sum  # type: ignore[no-any-return]

    def _pin(self, dr: _Draws, x: np.ndarray) -> np.ndarray:
        """:meth:`_Run.pin` of every run."""
        if dr.mask is None:
            return x
        return np.where(dr.mask, x, self._fill(dr, x)[:, None, :])  # type: ignore[no-any-return]

    @staticmethod
    def _moved(dr: _Draws, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """:meth:`_Run._moved` of every run, ``(B,)``."""
        diff = (a - b) ** 2
        if dr.mask is not None:
            diff = np.where(dr.mask, diff, 0.0)
        return np.sqrt(diff.sum(axis=2)).sum(axis=1)  # type: ignore[no-any-return]

    # ---------------------------------------------------------- one step
    def _challenges(
        self, dr: _Draws, x: np.ndarray, dist: np.ndarray, risk: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`_Run.best_challenges` of every run: (target or -1, P[i beats it]),
        ``(B, n)``; arrays ``(B, i, a, b)``, the third parties' ``(t, B, i, j)``."""
        e, n = self.e, self.n
        if self.perceived:  # _Run._dist_h
            px = np.clip(x[:, None, :, :] + dr.offset, 0.0, 1.0)  # (B, h, a, d)
            dh = K.weighted_distance(
                px[:, :, :, None, :], px[:, :, None, :, :], dr.psal[:, :, :, None, :])
        else:
            dh = dist[:, None]
        rh = K.est_nra(risk[:, :, None], risk[:, None, :], e.risk_adjust)  # (B, h, a)
        u = K.bs_util(dh, rh[..., None])  # (B, i, a, b) = aUtil[i](a, b)
        ujj = np.diagonal(u, axis1=2, axis2=3)  # u[b, i, j, j]
        uji = np.diagonal(u, axis1=1, axis2=3).swapaxes(1, 2)  # u[b, i, j, i]
        uij = np.diagonal(u, axis1=1, axis2=2).swapaxes(1, 2)  # u[b, i, i, j]
        uii = np.diagonal(ujj, axis1=1, axis2=2)[:, :, None]  # u[b, i, i, i]
        eu_sq = uii + uij
        u_kij = uii + uii
        u_kji = uij + uij
        w_est = dr.w_est  # (B, i, a)
        v_i = K.vote(e.voting, np.diagonal(w_est, axis1=1, axis2=2)[:, :, None], uii, uij)
        v_j = K.vote(e.voting, w_est, uji, ujj)
        c_ij = K.MIN_CONTEST + np.maximum(v_i, 0) + np.maximum(v_j, 0)
        c_ji = K.MIN_CONTEST + np.maximum(-v_i, 0) + np.maximum(-v_j, 0)
        v_t = _third_party(
            e,
            w_est.transpose(2, 0, 1)[..., None],  # w_est[b, i, t]
            uji.transpose(2, 0, 1)[..., None],  # u[b, i, t, i]
            u.transpose(2, 0, 1, 3),  # u[b, i, t, j]
            ujj.transpose(2, 0, 1)[..., None],  # u[b, i, t, t]
            c_ij[None],
            c_ji[None],
        )  # (t, B, i, j)
        buf = np.empty((n + 1, *c_ij.shape))
        c_ij = self._add_third(buf, c_ij, v_t)
        np.negative(v_t, out=v_t)
        c_ji = self._add_third(buf, c_ji, v_t)
        p_ij = c_ij / (c_ij + c_ji)
        p_ji = c_ji / (c_ij + c_ji)
        s_j = dr.s_est
        eu_chlg = (1 - s_j) * u_kij + s_j * (p_ij * u_kij + p_ji * u_kji)
        gain = eu_chlg - eu_sq
        everyone = np.arange(n)
        gain[:, everyone, everyone] = -np.inf
        best = np.argmax(gain, axis=2)[..., None]
        ok = np.take_along_axis(gain, best, axis=2)[..., 0] > MIN_SIG_EDU
        prob = np.take_along_axis(p_ij, best, axis=2)[..., 0]
        return np.where(ok, best[..., 0], -1), np.where(ok, prob, 0.0)

    @staticmethod
    def _add_third(buf: np.ndarray, start: np.ndarray, v_t: np.ndarray) -> np.ndarray:
        """:meth:`_Run._add_third` of every run: ``start`` plus the positive third-party
        votes, t in order, skipping t = i, j."""
        n = v_t.shape[0]
        buf[0] = start
        np.maximum(v_t, 0.0, out=buf[1:])
        everyone = np.arange(n)
        buf[1 + everyone, :, everyone, :] = 0.0  # t == i
        buf[1 + everyone, :, :, everyone] = 0.0  # t == j
        return buf.sum(axis=0)  # type: ignore[no-any-return]

    def _step(
        self,
        dr: _Draws,
        live: np.ndarray,
        x: np.ndarray,
        dist: np.ndarray,
        risk: np.ndarray,
        own: np.ndarray,
    ) -> np.ndarray:
        """:meth:`_Run.step` of every run: challenges, bargains (:meth:`_Run.bargains`,
        one flat list, run by run in initiator order) and each actor's choice among its
        queue's, ``(B, n, d)``; ``live`` are the runs' places in :attr:`rngs`."""
        e, n = self.e, self.n
        target, prob = self._challenges(dr, x, dist, risk)
        bd, ii = np.nonzero(target >= 0)  # a bargain's run and initiator
        x_new = x.copy()
        if not bd.size:
            return x_new
        jj = target[bd, ii]
        p = prob[bd, ii][:, None]
        sal = dr.sal
        p_init, p_rcvr = K.interpolate(
            e.interpolation, x[bd, ii], sal[bd, ii], p, x[bd, jj], sal[bd, jj], 1 - p)
        if dr.mask is not None:  # a bargain moves nobody where it has no standing
            fill = self._fill(dr, x)[bd]
            p_init = np.where(dr.mask[bd, ii], p_init, fill)
            p_rcvr = np.where(dr.mask[bd, jj], p_rcvr, fill)
        # posUtil: utility to every actor a of each bargain's two positions, (m, a)
        xb, sb, rb = x[bd], sal[bd], risk[bd]
        pu_i = K.bs_util(K.weighted_distance(xb, p_init[:, None, :], sb), rb)
        pu_j = K.bs_util(K.weighted_distance(xb, p_rcvr[:, None, :], sb), rb)
        u_sq = K.seq_sum(own, axis=2) / n  # (B, a)
        m = len(bd)
        mm = np.arange(m)
        buf = np.empty((n + 2, m, n))  # (term, bargain, a), as _bargain_utility
        buf[0] = pu_i
        buf[1] = pu_j
        buf[2:] = own[bd].transpose(2, 0, 1)
        buf[2 + ii, mm, :] = 0.0
        buf[2 + jj, mm, :] = 0.0
        u_brg = buf.sum(axis=0) / n  # (m, a)
        # the queues: actor k of run b holds its bargains (b*n + k), bargains ascending
        owner = np.concatenate([bd * n + ii, bd * n + jj])
        order = np.lexsort((np.concatenate([mm, mm]), owner))
        queued = np.concatenate([mm, mm])[order]
        sizes = np.bincount(owner, minlength=len(x) * n)
        first = np.cumsum(sizes) - sizes
        for size in sorted(set(sizes[sizes > 0].tolist())):
            ks = np.flatnonzero(sizes == size)
            idx = queued[first[ks][:, None] + np.arange(size)]  # (G, size)
            runs = ks // n
            u = np.concatenate(
                [u_sq[runs][:, :, None], u_brg[idx].transpose(0, 2, 1)], axis=2
            )  # (G, actors, 1 + size)
            pv = K.pce(e.pce, e.victory, K.coalitions(e.voting, dr.cap[runs], u))[0]
            if e.transitions == "deterministic":
                pick = np.argmax(pv, axis=1)
            else:
                pick = np.array([rng_choice(self.rngs[live[b]], pv[g])
                                 for g, b in enumerate(runs)])
            moves = np.flatnonzero(pick > 0)
            bid = idx[moves, pick[moves] - 1]
            b, k = runs[moves], ks[moves] % n
            x_new[b, k] = np.where((ii[bid] == k)[:, None], p_init[bid], p_rcvr[bid])
        return x_new


def _jit(n: int) -> ModuleType | None:
    """The compiled third-party loop (:mod:`._smp_jit`) for ``n`` >= :data:`JIT_MIN_ACTORS`
    actors, else ``None`` (NumPy, the same bits; no Numba import for small cases)."""
    if n < JIT_MIN_ACTORS:
        return None
    from . import _smp_jit

    return _smp_jit


def _third_party(
    e: SMP,
    w_n: np.ndarray,
    uni: np.ndarray,
    unj: np.ndarray,
    unn: np.ndarray,
    c_i: np.ndarray,
    c_j: np.ndarray,
) -> np.ndarray:
    """KTAB ``Actor::vProbLittle`` then ``Actor::thirdPartyVoteSU``: third party n's
    vote in the contest i:j, after judging the "little conflict" of i, j and n.
    (In-place NumPy; every operation is KTAB's, in KTAB's order.)"""
    rule = e.voting
    v_n = K.vote(rule, w_n, uni, unj)
    # cni = c_i + v if v > 0 else c_i, cnj = c_j - v if v < 0 else c_j
    cni = np.maximum(v_n, 0.0)
    cni += c_i
    np.negative(v_n, out=v_n)
    cnj = np.maximum(v_n, 0.0, out=v_n)
    cnj += c_j
    pin = cni
    tot = cni + cnj
    np.divide(cni, tot, out=pin)
    pjn = np.subtract(1.0, pin, out=tot)
    tpc = e.third_party
    if tpc == "full":
        a_ikj, a_iji = uni + uni + uni, uni + uni + uni  # u_ik_def_j, u_i_def_jk
        two = unj + unj
        b_jik = two + unj  # u_j_def_ik
        b_jki = b_jik  # u_jk_def_i
    else:
        a_ikj = uni + uni + unn
        a_iji = uni + uni + (unn if tpc == "none" else uni)
        two = unj + unj
        b_jik = two + (unn if tpc == "none" else unj)
        b_jki = np.add(two, unn, out=two)
    u_ik_j = pin * a_ikj
    b_jik = np.multiply(pjn, b_jik, out=b_jik if b_jik is not b_jki else None)
    u_ik_j += b_jik
    u_i_jk = np.multiply(pin, a_iji, out=cnj)
    b_jki = np.multiply(pjn, b_jki, out=b_jki if b_jki.shape == pjn.shape else None)
    u_i_jk += b_jki
    return K.vote(rule, w_n, u_ik_j, u_i_jk)


def _bargain_utility(
    own: np.ndarray, init: np.ndarray, rcvr: np.ndarray, pu_i: np.ndarray, pu_j: np.ndarray
) -> np.ndarray:
    """KTAB ``updateBestBrgnPositions`` (``brgnUtil``): for every actor a and bargain m,
    u(I's new position) + u(J's new position) + the sum of u(other positions), added in
    KTAB's order; ``(n, m)``."""
    n = own.shape[0]
    m = len(init)
    out = np.empty((n, m))
    step = max(1, K.CHUNK_ELEMENTS // (n * (n + 2)))
    for b0 in range(0, m, step):
        sl = slice(b0, min(m, b0 + step))
        mm = np.arange(sl.stop - sl.start)
        buf = np.empty((n + 2, n, len(mm)))  # (term, a, bargain)
        buf[0] = pu_i[:, sl]
        buf[1] = pu_j[:, sl]
        buf[2:] = own.T[:, :, None]
        buf[2 + init[sl], :, mm] = 0.0
        buf[2 + rcvr[sl], :, mm] = 0.0
        out[:, sl] = buf.sum(axis=0)
    return out


def rng_choice(rng: np.random.Generator, p: np.ndarray) -> int:
    """A draw from the distribution ``p`` (KTAB ``PRNG::probSel``)."""
    p = np.asarray(p, dtype=float)
    return int(rng.choice(len(p), p=p / p.sum()))
