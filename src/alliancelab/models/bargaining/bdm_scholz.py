"""``bdm-scholz``: Bueno de Mesquita's expected-utility model exactly as the public
reference implementation of Scholz, Calbert & Smith (2011) computes it
(GitHub jmckib/bdm-scholz-expected-utility-model, ``bdm_scholz_model.py``, which
reproduces the paper's Table 2; Python 3 port dmasad/bdm-scholz-expected-utility-model).

One round (``BDMScholzModel.update_risk_aversions`` then ``update_positions``):

1. Risk pass, every r = 1: security ("danger") of i, Sec_i = sum_{j != i} E^i(U_ji);
   R_i = (2 Sec_i - max Sec - min Sec)/(max Sec - min Sec); r_i = (1 - R_i/3)/(1 + R_i/3)
   (Scholz eqs. 32-34, 33).
2. Decision pass with the new r. For receiver i and proposer j (x_i != x_j), both
   expected utilities are computed *from i's perspective, with i's r_i*:
   a = E(U_ij) = s_j [P_ij U_s + (1 - P_ij) U_f] + (1 - s_j) U_s - Q U_sq,
   b = E(U_ji) = s_i [P_ji U_s + (1 - P_ji) U_f] + (1 - s_i) U_s - Q U_sq, with
   U_s = 2 - 4(0.5 - 0.5 |x_i - x_j|/R)^r_i, U_f = 2 - 4(0.5 + 0.5 |x_i - x_j|/R)^r_i,
   U_sq = 2 - 4 (0.5)^r_i (Scholz eqs. 15, 16, 24, 25a).
3. P_ij = sum_k max(0, v_k(i, j)) / sum_k sum_a sum_b |v_k(a, b)|, the votes
   v_k(i, j) = c_k s_k [(|x_k - x_j|/R)^r_k - (|x_k - x_i|/R)^r_k] -- one total over all
   ordered pairs of actors, not per pair (eq. 31 normalises per pair).
4. Offers: confrontation if b > a > 0 (i moves to x_j); compromise if b > 0 > a and
   b > |a| (i moves to x_i + (x_j - x_i)|a/b|, eq. 36). The reference's capitulation test
   (``eu_ji < abs(eu_ji)``) is never true, so capitulation never happens.
5. Each actor takes a confrontation if it has one (the one nearest its position), else a
   compromise (the one with the smallest (|a| x_i + |b| x_j)/(|a| + |b|), a weighted mean
   of the two positions -- not the smallest move); everybody moves at once.
6. R is the range of the *initial* positions throughout; Q = 1 by default (the reference
   subtracts only Q U_sq: with Q < 1 the (1-Q)(T U_b + (1-T) U_w) term of eq. 25a is
   missing there, and here too).

Differences from the reference, all invisible on its own cases (docs/bdm.md lists them
with the differences from ``bdm``): ties between different offers are broken by rules that
do not depend on the order of the actors (:func:`._eu.select`; ``ties="input-order"``
restores the reference's "first listed wins", which does); comparisons that rounding
decides (values within ``tie_tol``) count as ties; where every security level is equal the
reference divides by zero and we set r = 1; a case with all positions equal (R = 0)
returns the positions unchanged, and with no votes at all (every c*s = 0) P = 0, instead
of dividing by zero. Sums run over the
actors in a canonical order (initial position, capability, salience), so that permuting
the actors changes no bit of the result.

The forecast of an issue is the c*s weighted median of the final round's positions (the
"median voter position" Scholz et al. report; Table 2 gives median and mean per round, both
are in the diagnostics). Multi-issue cases are run issue by issue. Perceived positions,
saliences and capabilities are ignored (the reference has none; ``bdm`` uses them).

:func:`simulate_batch` runs many cases of one issue at once (Monte Carlo draws): the powers
in NumPy, the rest in the compiled loops of :mod:`._bdm_kernel` (identical to the last bit to
the earlier all-NumPy formulation, 2-3x faster); the engine itself calls it, so both give
identical numbers. Blocks smaller than :data:`JIT_MIN_ELEMENTS` (a single forecast of a few
actors) run the same loops in plain NumPy, :mod:`._bdm_numpy` (the same bits), so that they
do not pay Numba's import (issue 15).
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Sequence
from types import ModuleType
from typing import Any

import numpy as np

from ...core.limits import checkpoint
from ...core.problem import Problem
from . import _bdm_numpy, _eu, arena
from .base import Engine, Outcome
from .median import weighted_median

#: draws per block in :func:`simulate_batch` (keeps the temporaries in cache)
CHUNK = 512
#: default tolerance below which two expected utilities (or positions, times the range) tie
TIE_TOL = 1e-14
#: how ties between different offers are broken
TIES = ("invariant", "input-order")
#: blocks of at least this many pair-draw elements (draws x actors^2) run in the compiled
#: kernel (:mod:`._bdm_kernel`, Numba), smaller ones in its NumPy twin (:mod:`._bdm_numpy`,
#: the same bits); see :func:`_kernel`.
JIT_MIN_ELEMENTS = 20_000


def _kernel(m: int, n: int) -> ModuleType:
    """The kernel for a block of ``m`` draws of ``n`` actors: the NumPy twin below
    :data:`JIT_MIN_ELEMENTS` (no JIT: a single forecast of a few actors does not import
    Numba, which costs more than the whole model), else the compiled loops."""
    if m * n * n < JIT_MIN_ELEMENTS:
        return _bdm_numpy
    from . import _bdm_kernel

    return _bdm_kernel


def _run(
    capability: np.ndarray,
    position: np.ndarray,
    salience: np.ndarray,
    rounds: int,
    q: float,
    tie_tol: float,
    record: bool,
    input_order: bool = False,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """One block of draws ``(m, n)``; returns positions ``(m, rounds+1, n)`` and, if
    ``record``, the per-round diagnostics in input order (draws first)."""
    m, n = position.shape
    if m == 1:
        # With one draw NumPy would sum over the actors with its pairwise (unrolled)
        # summation instead of in order; two copies keep every block's rounding the same,
        # so a draw gives the same bits alone and in a batch.
        two = [np.repeat(v, 2, axis=0) for v in (capability, position, salience)]
        pos2, diag2 = _run(two[0], two[1], two[2], rounds, q, tie_tol, record, input_order)
        return pos2[:1], {k: v[:, :1] for k, v in diag2.items()}
    kernel = _kernel(m, n)
    # canonical order: initial position, then capability, then salience (stable)
    perm_mn = np.lexsort((salience, capability, position), axis=-1)
    inv = np.argsort(perm_mn, axis=-1)
    # draws-last layout from here on: (n, m), (n, n, m)
    perm = np.ascontiguousarray(perm_mn.T)
    c = np.take_along_axis(capability, perm_mn, axis=-1).T
    x = np.ascontiguousarray(np.take_along_axis(position, perm_mn, axis=-1).T)
    s = np.ascontiguousarray(np.take_along_axis(salience, perm_mn, axis=-1).T)
    w = np.ascontiguousarray(c * s)
    rng_ = x.max(axis=0) - x.min(axis=0)
    big_r = np.where(rng_ > 0, rng_, 1.0)  # R = 0: everybody agrees, nobody moves
    tol_x = tie_tol * big_r
    out = np.empty((rounds + 1, n, m))
    out[0] = x
    rec: dict[str, list[np.ndarray]] = {
        k: [] for k in ("r", "sec", "p", "a", "b", "kind", "offer", "proposer")
    }
    p1 = np.empty((n, n, m))
    p = np.empty((n, n, m))
    a = np.empty((n, n, m))
    bb = np.empty((n, n, m))
    kind = np.empty((n, n, m), dtype=np.int8)
    offer = np.empty((n, m), dtype=np.int8)
    proposer = np.empty((n, m), dtype=np.int64)
    adx = np.empty((n, n, m))
    dist = np.empty((n, n, m))
    bases = np.empty((3, n, n, m))
    for t in range(1, rounds + 1):
        checkpoint()
        kernel.distances(x, big_r, adx, dist, bases)
        # 1. risk pass, r = 1: U_s = 2d, U_f = -2d, U_sq = 0, so E^i(U_ji) =
        #    2 d_ij (1 - 2 s_i (1 - P_ji)) and Sec_i = sum_j of it
        kernel.votes(dist, w, p1, dist)
        sec = np.empty((n, m))
        r = np.empty((n, m))
        kernel.risk(dist, p1, s, tie_tol, sec, r)
        # 2. decision pass with the new r: dist**r_k (voter k's own r in the probability),
        #    and the bases of U_s and U_f raised to r_i (in place: the bases are remade
        #    every round); U_sq = 2 - 4 (0.5)^r_i comes from the diagonal of the U_s bases
        powers = np.power(bases, r[None, :, None, :], out=bases)
        kernel.votes(powers[0], w, p, dist)
        new = np.empty((n, m))
        kernel.decide(x, s, p, dist, powers, q, adx, perm, tol_x, tie_tol, input_order,
                      record, a, bb, kind, new, offer, proposer)
        if record:
            rec["r"].append(r.T)
            rec["sec"].append(sec.T)
            rec["p"].append(p.transpose(2, 0, 1).copy())
            rec["a"].append(a.transpose(2, 0, 1).copy())
            rec["b"].append(bb.transpose(2, 0, 1).copy())
            rec["kind"].append(kind.transpose(2, 0, 1).copy())
            rec["offer"].append(offer.T.copy())
            rec["proposer"].append(proposer.T.copy())
        x = new
        out[t] = x
    # back to draws first and to the input order
    positions = np.take_along_axis(out.transpose(2, 0, 1), inv[:, None, :], axis=2)
    diag: dict[str, np.ndarray] = {}
    if record:
        def vec(v: list[np.ndarray]) -> np.ndarray:  # (R, m, n) in input order
            return np.stack([np.take_along_axis(a, inv, axis=1) for a in v])

        def mat(v: list[np.ndarray]) -> np.ndarray:  # (R, m, n, n) in input order
            ii = inv[:, :, None]
            return np.stack(
                [np.take_along_axis(np.take_along_axis(a, ii, axis=1), inv[:, None, :], axis=2)
                 for a in v]
            )

        diag = {
            "risk_exponent": vec(rec["r"]),
            "security": vec(rec["sec"]),
            "probability": mat(rec["p"]),
            "eu_challenge": mat(rec["a"]),
            "eu_response": mat(rec["b"]),
            "offer_type": mat(rec["kind"]),
            "accepted": vec(rec["offer"]),
            # proposer index (sorted space) -> input index
            "proposer": vec([np.take_along_axis(perm_mn, j, axis=1) for j in rec["proposer"]]),
        }
    return positions, diag


def simulate_batch(
    capability: np.ndarray,
    position: np.ndarray,
    salience: np.ndarray,
    rounds: int = 10,
    *,
    q: float = 1.0,
    tie_tol: float = TIE_TOL,
    ties: str = "invariant",
    chunk: int = CHUNK,
    threads: int | None = None,
) -> np.ndarray:
    """Run ``bdm-scholz`` on m independent one-issue cases at once.

    ``capability``, ``position``, ``salience``: arrays ``(m, n)`` (one row per draw;
    ``capability`` may also be ``(n,)``). Returns positions ``(m, rounds + 1, n)``, row 0
    the input -- the same numbers :class:`BDMScholz` gives for each draw.

    The blocks of ``chunk`` draws are independent; ``threads`` of them run at once (the
    compiled kernel and NumPy's large loops release the GIL), by default one per available
    CPU in the main process and one in a worker process (whose pool already uses the
    CPUs). The results do not depend on the number of threads.
    """
    pos = np.asarray(position, dtype=float)
    if pos.ndim != 2:
        raise ValueError("position must be (m, n)")
    cap = np.broadcast_to(np.asarray(capability, dtype=float), pos.shape)
    sal = np.broadcast_to(np.asarray(salience, dtype=float), pos.shape)
    if not (np.isfinite(pos).all() and np.isfinite(cap).all() and np.isfinite(sal).all()):
        raise ValueError("capability, position and salience must be finite")
    rounds = _eu.check_rounds(rounds)
    q = _eu.check_unit(q, "q")
    tie_tol = _eu.check_tol(tie_tol)
    by_order = _eu.check_choice(ties, "ties", TIES) == "input-order"
    out = np.empty((pos.shape[0], rounds + 1, pos.shape[1]))
    step = max(1, int(chunk))
    starts = range(0, pos.shape[0], step)

    def block(lo: int) -> None:
        hi = lo + step
        out[lo:hi] = _run(cap[lo:hi], pos[lo:hi], sal[lo:hi], rounds, q, tie_tol, False,
                          by_order)[0]

    k = min(_threads(threads), len(starts))
    if k <= 1:
        for lo in starts:
            block(lo)
        return out
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=k, thread_name_prefix="bdm-scholz") as pool:
        # each block in a copy of the caller's context: its time limit (core.limits) holds
        futures = [pool.submit(contextvars.copy_context().run, block, lo) for lo in starts]
        try:
            for f in futures:
                f.result()
        except BaseException:
            for f in futures:
                f.cancel()
            raise
    return out


def _threads(requested: int | None) -> int:
    """Threads for :func:`simulate_batch`: ``requested``, else the CPUs this process may
    use in the main process, and 1 in a worker process (its pool has the other CPUs)."""
    if requested is not None:
        return max(1, int(requested))
    import multiprocessing  # here: a single forecast does not need it

    if multiprocessing.parent_process() is not None:
        return 1
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class BDMScholz(Engine):
    """Bueno de Mesquita's expected-utility model as the Scholz et al. reference code runs it.

    Options: ``rounds`` (10, as the reference's published run), ``q`` (probability of the
    status quo, 1.0 as Scholz et al. chose), ``tie_tol`` (1e-14: expected utilities closer
    than this, and positions closer than this times the range, count as equal), ``ties``
    ("invariant": ties between different offers go to the most enforceable offer, then the
    lower position, whatever the order of the actors; "input-order": to the actor listed
    first, exactly as the reference -- which then depends on the order of the actors).
    """

    name = "bdm-scholz"
    min_actors = 2
    iterative = True

    def __init__(
        self, rounds: int = 10, q: float = 1.0, tie_tol: float = TIE_TOL, ties: str = "invariant"
    ) -> None:
        self.rounds = _eu.check_rounds(rounds)
        self.q = _eu.check_unit(q, "q")
        self.tie_tol = _eu.check_tol(tie_tol)
        self.ties = _eu.check_choice(ties, "ties", TIES)

    def _solve(self, problem: Problem, rng: np.random.Generator) -> Outcome:
        """Every issue with the actors that take part in it (:mod:`.arena`): capabilities
        times the arena weights; issues with the same participants run as one block."""
        n, d = problem.position.shape
        groups = arena.issue_groups(problem)
        pos = np.empty((d, self.rounds + 1, n))
        diag: dict[str, np.ndarray] = {}
        for idx, ks in groups:
            sub = np.ix_(idx, ks)
            cap = problem.capability[idx][None, :] * problem.weight[sub].T
            p_k, d_k = self._block(cap, problem.position[sub].T, problem.salience[sub].T)
            if len(groups) == 1 and len(idx) == n:  # everyone on every issue
                pos, diag = p_k, d_k
                break
            pos[ks] = problem.position.T[ks][:, None, :]
            pos[np.ix_(ks, np.arange(self.rounds + 1), idx)] = p_k
            _scatter(diag, d_k, idx, ks, n, d)
        return finish(problem, pos, diag)

    def _block(
        self, cap: np.ndarray, pos: np.ndarray, sal: np.ndarray
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """:func:`_run` on issues ``(m, n)`` as draws; with fewer than two participants
        nobody bargains (positions stay, diagnostics empty)."""
        m, n = pos.shape
        if n < 2:
            return np.repeat(pos[:, None, :], self.rounds + 1, axis=1), _blank(
                self.rounds, m, n
            )
        return _run(
            np.ascontiguousarray(cap),
            np.ascontiguousarray(pos),
            np.ascontiguousarray(sal),
            self.rounds,
            self.q,
            self.tie_tol,
            True,
            self.ties == "input-order",
        )

    def _solve_batch(
        self, problems: Sequence[Problem], rngs: Sequence[np.random.Generator]
    ) -> np.ndarray:
        """All draws through :func:`simulate_batch`, one issue at a time (draws with the
        same participants together); the same bits as :meth:`_solve` draw by draw."""
        if not problems:
            return np.empty((0, 0))
        cap, pos, sal, wt = arena.stacked(problems)
        out = np.empty((len(problems), pos.shape[2]))
        for k in range(pos.shape[2]):
            stand = wt[:, :, k] > 0
            keys = [row.tobytes() for row in stand]
            for key in dict.fromkeys(keys):
                rows = np.flatnonzero([kk == key for kk in keys])
                idx = np.flatnonzero(stand[rows[0]])
                sub = np.ix_(rows, idx)
                c, x, s, w = cap[sub], pos[sub][:, :, k], sal[sub][:, :, k], wt[sub][:, :, k]
                final = x
                if len(idx) >= 2:
                    final = simulate_batch(c * w, x, s, self.rounds, q=self.q,
                                           tie_tol=self.tie_tol, ties=self.ties)[:, -1, :]
                med = weighted_median(final.T, _column_weights(c.T, s.T, w.T))
                out[rows, k] = np.clip(med, x.min(axis=1), x.max(axis=1))
        return out


def _column_weights(c: np.ndarray, s: np.ndarray, w: np.ndarray) -> np.ndarray:
    """:func:`.arena.weights` for one issue of many draws (columns): ``c s w``, where a
    column is all zero ``c w``, then ``w``."""
    out = c * s * w
    dead = out.sum(axis=0) <= 0
    if dead.any():
        fb = c * w
        out[:, dead] = np.where(fb[:, dead].sum(axis=0) <= 0, w[:, dead], fb[:, dead])
    return out  # type: ignore[no-any-return]


#: diagnostics of :func:`_run` (draws second) -> fill value for actors who take no part
_DIAG_FILL: dict[str, float] = {
    "risk_exponent": np.nan, "security": np.nan, "probability": np.nan,
    "eu_challenge": np.nan, "eu_response": np.nan, "offer_type": 0, "accepted": 0,
    "proposer": 0,
}
_INT_DIAG = ("offer_type", "accepted", "proposer")


def _blank(rounds: int, m: int, n: int) -> dict[str, np.ndarray]:
    """Diagnostics of ``rounds`` rounds in which nobody bargains."""
    out: dict[str, np.ndarray] = {}
    for key, fill in _DIAG_FILL.items():
        shape = (rounds, m, n, n) if key in _PAIR_DIAG else (rounds, m, n)
        out[key] = np.full(shape, fill, dtype=np.int64 if key in _INT_DIAG else float)
    return out


_PAIR_DIAG = ("probability", "eu_challenge", "eu_response", "offer_type")


def _scatter(
    into: dict[str, np.ndarray],
    part: dict[str, np.ndarray],
    idx: np.ndarray,
    ks: np.ndarray,
    n: int,
    d: int,
) -> None:
    """Put the diagnostics of a block (issues ``ks``, actors ``idx``) into the full arrays
    (all issues, all actors; created on first use)."""
    rounds = part["accepted"].shape[0]
    if not into:
        into.update(_blank(rounds, d, n))
    r = np.arange(rounds)
    for key, value in part.items():
        if key == "proposer":
            value = idx[value]  # index among the participants -> index in the case
        if key in _PAIR_DIAG:
            into[key][np.ix_(r, ks, idx, idx)] = value
        else:
            into[key][np.ix_(r, ks, idx)] = value


def finish(problem: Problem, pos: np.ndarray, diag: dict[str, np.ndarray]) -> Outcome:
    """Assemble an :class:`Outcome` from per-issue results (issues as the leading axis)."""
    rounds = np.ascontiguousarray(pos.transpose(1, 2, 0))  # (R+1, n, d)
    rounds[0] = problem.position  # bit-exact input
    summary = _eu.summaries(rounds, problem.capability, problem.salience, problem.weight)

    def issue_last(a: np.ndarray) -> np.ndarray:  # (R, d, ...) -> (R, ..., d)
        return np.moveaxis(a, 1, -1)

    kind = issue_last(diag["accepted"])
    proposer = issue_last(diag["proposer"])
    eu_a, eu_b = issue_last(diag["eu_challenge"]), issue_last(diag["eu_response"])
    diagnostics: dict[str, Any] = {
        **summary,
        "forecast_rule": "c*s weighted median of the final round's positions",
        "risk_exponent": issue_last(diag["risk_exponent"]),
        "security": issue_last(diag["security"]),
        "probability": issue_last(diag["probability"]),
        "eu_challenge": eu_a,
        "eu_response": eu_b,
        "offer_type": issue_last(diag["offer_type"]),
        "offer_types": list(_eu.OFFER_TYPES),
        "offers": _eu.offer_list(
            rounds, problem.actors, problem.issues, kind, proposer, eu_a, eu_b
        ),
    }
    return Outcome(rounds=rounds, forecast=summary["median"][-1].copy(), diagnostics=diagnostics)
