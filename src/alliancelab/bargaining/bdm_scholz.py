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

:func:`simulate_batch` runs many cases of one issue at once (Monte Carlo draws), vectorised
with NumPy; the engine itself calls it, so both give identical numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _eu
from .base import Engine, Outcome
from .problem import Problem

#: draws per block in :func:`simulate_batch` (keeps the temporaries in cache)
CHUNK = 512
#: default tolerance below which two expected utilities (or positions, times the range) tie
TIE_TOL = 1e-14
#: how ties between different offers are broken
TIES = ("invariant", "input-order")


def _votes(dist: np.ndarray, w: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Win probabilities ``out[i, j, :]`` with one normaliser per draw (the reference's quirk).

    Arrays are laid out actors first, draws last (long contiguous inner loops):
    ``dist[k, i, :]`` is voter k's (risk-adjusted) distance to i, ``w[k, :]`` = c_k s_k.
    num[i, j] = sum_k w_k max(0, D_kj - D_ki) is computed as (T_ij + S_ij)/2 with
    S_ij = sum_k w_k (D_kj - D_ki) and T_ij = sum_k w_k |D_kj - D_ki| over the pairs i < j
    only; the normaliser sum_{k, a, b} |v_k(a, b)| is 2 sum_{i<j} T_ij.
    """
    n, _, m = dist.shape
    wdist = dist * w[:, None, :]  # w_k D_ki; w_k >= 0, so w_k |D_kj - D_ki| = |wD_kj - wD_ki|
    wd = wdist.sum(axis=0)  # sum_k w_k D_ki, (n, m)
    den = np.zeros(m)
    for i in range(n - 1):  # pairs (i, j > i): slices, no gathers
        diff = wdist[:, i + 1 :, :] - wdist[:, i : i + 1, :]
        np.abs(diff, out=diff)
        t = diff.sum(axis=0)  # T_ij, (n - i - 1, m)
        s = wd[i + 1 :] - wd[i]  # S_ij
        den += t.sum(axis=0)
        out[i, i + 1 :] = t + s
        out[i + 1 :, i] = t - s
    den *= 2.0
    np.maximum(out, 0.0, out=out)
    out *= np.where(den > 0, 0.5 / np.where(den > 0, den, 1.0), 0.0)
    return out


def _risk(sec: np.ndarray, tol: float) -> np.ndarray:
    """:func:`._eu.risk_exponent` over the actors, axis 0."""
    return _eu.risk_exponent(sec.T, tol).T  # type: ignore[no-any-return]


def _select(
    mask: np.ndarray,
    key: np.ndarray,
    enforce: np.ndarray,
    target: np.ndarray,
    perm: np.ndarray,
    tol_x: np.ndarray,
    tol_eu: float,
    input_order: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`._eu.select` for the draws-last layout: receivers i on axis 0, proposers j on
    axis 1, draws on axis 2; ``perm[j, m]`` is j's place in the input. ``input_order``:
    break every tie by the place in the input, as the reference does."""
    k = np.where(mask, key, np.inf)
    near = k <= k.min(axis=1, keepdims=True) + tol_x
    near &= mask
    count = near.sum(axis=1)
    chosen = near.argmax(axis=1)
    tied = count > 1
    if tied.any():  # rare: resolve on the tied receivers only
        ii, mm = np.nonzero(tied)
        nr = near[ii, :, mm]  # (r, n)
        if not input_order:
            en = enforce[ii, :, mm]
            e = np.where(nr, en, -np.inf)
            nr &= en >= e.max(axis=1, keepdims=True) - tol_eu
            tg = target[ii, :, mm]
            tt = np.where(nr, tg, np.inf)
            nr &= tg <= tt.min(axis=1, keepdims=True) + tol_x[0, 0, mm][:, None]
        big = np.iinfo(np.int64).max
        chosen[ii, mm] = np.argmin(np.where(nr, perm[:, mm].T, big), axis=1)
    return count > 0, chosen


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
    tol_x = (tie_tol * big_r)[None, None, :]
    out = np.empty((rounds + 1, n, m))
    out[0] = x
    rec: dict[str, list[np.ndarray]] = {
        k: [] for k in ("r", "sec", "p", "a", "b", "kind", "offer", "proposer")
    }
    s_row = s[:, None, :]  # s_i
    s_col = s[None, :, :]  # s_j
    p1 = np.zeros((n, n, m))
    p = np.zeros((n, n, m))
    draw = np.arange(m)
    for t in range(1, rounds + 1):
        dx = x[None, :, :] - x[:, None, :]  # [i, j] = x_j - x_i
        adx = np.abs(dx)
        dist = adx / big_r
        # 1. risk pass, r = 1: U_s = 2d, U_f = -2d, U_sq = 0, so E^i(U_ji) =
        #    2 d_ij (1 - 2 s_i (1 - P_ji)) and Sec_i = sum_j of it
        _votes(dist, w, p1)
        dp = dist * p1.transpose(1, 0, 2)
        sec = 2.0 * (1.0 - 2.0 * s) * dist.sum(axis=1) + 4.0 * s * dp.sum(axis=1)
        r = _risk(sec, tie_tol)
        # 2. decision pass with the new r (voter k uses its own r_k in the probability)
        rr = r[:, None, :]
        _votes(dist**rr, w, p)
        half = 0.5 * dist
        us = np.maximum(0.5 - half, 0.0)
        np.power(us, rr, out=us)
        us *= -4.0
        us += 2.0
        uf = half
        uf += 0.5
        np.power(uf, rr, out=uf)
        uf *= -4.0
        uf += 2.0
        usq = q * (2.0 - 4.0 * 0.5**rr)
        gap = us - uf  # U_s - U_f
        base = us - usq
        # a = s_j (P U_s + (1-P) U_f) + (1-s_j) U_s - Q U_sq = U_s - Q U_sq - s_j (1-P)(U_s-U_f)
        a = 1.0 - p
        a *= gap
        a *= s_col
        np.subtract(base, a, out=a)
        bb = 1.0 - p.transpose(1, 0, 2)
        bb *= gap
        bb *= s_row
        np.subtract(base, bb, out=bb)
        # where x_i = x_j, a = b exactly, so neither test passes: no mask needed
        conf = (a > tie_tol) & (bb > a + tie_tol)
        comp = (a < -tie_tol) & (bb > tie_tol - a)
        # compromise positions and the reference's ranking key, where there is a compromise
        ci = np.nonzero(comp)
        abs_a, abs_b = -a[ci], bb[ci]
        xi_c, xj_c = x[ci[0], ci[2]], x[ci[1], ci[2]]
        comp_pos = np.zeros((n, n, m))
        comp_pos[ci] = xi_c + (xj_c - xi_c) * (abs_a / abs_b)
        comp_key = np.zeros((n, n, m))
        comp_key[ci] = (abs_a * xi_c + abs_b * xj_c) / (abs_a + abs_b)
        xj = np.broadcast_to(x[None, :, :], (n, n, m))
        has_conf, j_conf = _select(conf, adx, bb, xj, perm, tol_x, tie_tol, input_order)
        has_comp, j_comp = _select(comp, comp_key, bb, comp_pos, perm, tol_x, tie_tol,
                                      input_order)
        new_conf = x[j_conf, draw]
        new_comp = np.take_along_axis(comp_pos, j_comp[:, None, :], axis=1)[:, 0, :]
        new = np.where(has_conf, new_conf, np.where(has_comp, new_comp, x))
        if record:
            kind = np.where(conf, _eu.CONFRONTATION, np.where(comp, _eu.COMPROMISE, _eu.NONE))
            rec["r"].append(r.T)
            rec["sec"].append(sec.T)
            rec["p"].append(p.transpose(2, 0, 1).copy())
            rec["a"].append(a.transpose(2, 0, 1))
            rec["b"].append(bb.transpose(2, 0, 1))
            rec["kind"].append(kind.astype(np.int8).transpose(2, 0, 1))
            rec["offer"].append(
                np.where(has_conf, _eu.CONFRONTATION, np.where(has_comp, _eu.COMPROMISE, 0)).T
            )
            rec["proposer"].append(np.where(has_conf, j_conf, j_comp).T)
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
) -> np.ndarray:
    """Run ``bdm-scholz`` on m independent one-issue cases at once.

    ``capability``, ``position``, ``salience``: arrays ``(m, n)`` (one row per draw;
    ``capability`` may also be ``(n,)``). Returns positions ``(m, rounds + 1, n)``, row 0
    the input -- the same numbers :class:`BDMScholz` gives for each draw.
    """
    pos = np.asarray(position, dtype=float)
    if pos.ndim != 2:
        raise ValueError("position must be (m, n)")
    cap = np.broadcast_to(np.asarray(capability, dtype=float), pos.shape)
    sal = np.broadcast_to(np.asarray(salience, dtype=float), pos.shape)
    rounds = _eu.check_rounds(rounds)
    q = _eu.check_unit(q, "q")
    tie_tol = _eu.check_tol(tie_tol)
    by_order = _eu.check_choice(ties, "ties", TIES) == "input-order"
    out = np.empty((pos.shape[0], rounds + 1, pos.shape[1]))
    for lo in range(0, pos.shape[0], max(1, int(chunk))):
        hi = lo + max(1, int(chunk))
        out[lo:hi] = _run(cap[lo:hi], pos[lo:hi], sal[lo:hi], rounds, q, tie_tol, False,
                          by_order)[0]
    return out


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

    def solve(self, problem: Problem, rng: np.random.Generator) -> Outcome:
        n, d = problem.position.shape
        cap = np.broadcast_to(problem.capability, (d, n))
        pos, diag = _run(
            np.ascontiguousarray(cap),
            np.ascontiguousarray(problem.position.T),
            np.ascontiguousarray(problem.salience.T),
            self.rounds,
            self.q,
            self.tie_tol,
            True,
            self.ties == "input-order",
        )
        return finish(problem, pos, diag)


def finish(problem: Problem, pos: np.ndarray, diag: dict[str, np.ndarray]) -> Outcome:
    """Assemble an :class:`Outcome` from per-issue results (issues as the leading axis)."""
    rounds = np.ascontiguousarray(pos.transpose(1, 2, 0))  # (R+1, n, d)
    rounds[0] = problem.position  # bit-exact input
    summary = _eu.summaries(rounds, problem.capability, problem.salience)

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
