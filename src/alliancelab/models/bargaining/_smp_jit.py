"""Compiled inner loop of :mod:`.smp` for many actors (Numba; issue 15).

The third parties' votes in every actor's best challenge (:meth:`.smp._Run.best_challenges`,
KTAB ``Actor::vProbLittle`` then ``thirdPartyVoteSU``) are the model's one loop of size
n^3 per step. This module runs it fused, element by element with the arithmetic of the NumPy
formulation in the same order (:func:`.smp._third_party` and ``_add_third``), so the
results are identical to the last bit (``tests/test_smp.py``); only the passes over memory
are gone. Imported only for cases of at least :data:`.smp.JIT_MIN_ACTORS` actors.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._smp_kernel import BINARY_TOL, MIN_COALITION, ODD_RULES

#: voting rules by code (``RULES.index(rule)``), as :func:`._smp_kernel.vote`
RULES = ("proportional", "binary", "prop-bin", "prop-cubic", "cubic", "asym-prospect")
#: third-party commitment by code
COMMITS = ("none", "semi", "full")


@njit(cache=True, nogil=True, error_model="numpy")
def _vote(rule: int, w: float, u_a: float, u_b: float) -> float:  # pragma: no cover
    """:func:`._smp_kernel.vote` for one pair of numbers."""
    du = u_a - u_b
    if rule == 0:
        return w * du
    if rule == 1:
        return w * min(max(du / BINARY_TOL, -1.0), 1.0)
    if rule == 2:
        return w * (0.8 * du + 0.2 * min(max(du / BINARY_TOL, -1.0), 1.0))
    if rule == 3:
        return w * (0.5 * du + 0.5 * (du * du * du))
    if rule == 4:
        return w * (du * du * du)
    if du < 0.0:
        return w * du
    if du > 0.0:
        return (2.0 * w * du) / 3.0
    return 0.0


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _little(
    rule: int, commit: int, w: float, uni: float, unj: float, unn: float, c_i: float,
    c_j: float,
) -> float:  # pragma: no cover
    """Third party n's vote in the contest i:j (KTAB ``vProbLittle``, ``thirdPartyVoteSU``),
    as :func:`.smp._third_party` computes it."""
    v = _vote(rule, w, uni, unj)
    cni = max(v, 0.0) + c_i
    cnj = max(-v, 0.0) + c_j
    pin = cni / (cni + cnj)
    pjn = 1.0 - pin
    two = unj + unj
    if commit == 2:  # full
        a_ikj = uni + uni + uni
        a_iji = a_ikj
        b_jik = two + unj
        b_jki = b_jik
    else:
        a_ikj = uni + uni + unn
        a_iji = uni + uni + (unn if commit == 0 else uni)
        b_jik = two + (unn if commit == 0 else unj)
        b_jki = two + unn
    u_ik_j = pin * a_ikj + pjn * b_jik
    u_i_jk = pin * a_iji + pjn * b_jki
    return _vote(rule, w, u_ik_j, u_i_jk)


@njit(cache=True, nogil=True, error_model="numpy")
def third_party_sums(
    u: np.ndarray,
    w_est: np.ndarray,
    hs: np.ndarray,
    c_ij: np.ndarray,
    c_ji: np.ndarray,
    rule: int,
    commit: int,
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
    """The principals' coalitions with the third parties' votes added.

    ``u[c]`` is initiator ``hs[c]``'s estimate of the utilities ``(a, b)``, ``w_est[c, t]``
    its estimate of t's weight; ``c_ij[c, j]`` and ``c_ji[c, j]`` the coalitions of
    ``hs[c]`` and of j. For every third party t (t != i, j), in order: its vote v_t in the
    contest i:j after judging the "little conflict" against ``c_ij`` and ``c_ji``; returns
    ``c_ij + sum_t max(v_t, 0)`` and ``c_ji + sum_t max(-v_t, 0)``, ``(c, n)`` each."""
    if rule == 0 and commit == 1:  # KTAB's defaults: a loop without branches
        return _sums_proportional_semi(u, w_est, hs, c_ij, c_ji)
    n_c, n, _ = u.shape
    out_ij = c_ij.copy()
    out_ji = c_ji.copy()
    for c in range(n_c):
        i = hs[c]
        for t in range(n):
            if t == i:
                continue
            uni = u[c, t, i]
            unn = u[c, t, t]
            w = w_est[c, t]
            for j in range(n):
                vt = _little(rule, commit, w, uni, u[c, t, j], unn, c_ij[c, j], c_ji[c, j])
                keep = 0.0 if j == t else 1.0  # t == j adds +0.0: the sums do not change
                out_ij[c, j] += max(vt, 0.0) * keep
                out_ji[c, j] += max(-vt, 0.0) * keep
    return out_ij, out_ji


@njit(cache=True, nogil=True, error_model="numpy")
def _sums_proportional_semi(
    u: np.ndarray, w_est: np.ndarray, hs: np.ndarray, c_ij: np.ndarray, c_ji: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
    """:func:`third_party_sums` for proportional voting and semi-commitment, written out
    (the same operations as :func:`_little` with those options, in the same order)."""
    n_c, n, _ = u.shape
    out_ij = c_ij.copy()
    out_ji = c_ji.copy()
    for c in range(n_c):
        i = hs[c]
        ci, cj, oi, oj = c_ij[c], c_ji[c], out_ij[c], out_ji[c]
        for t in range(n):
            if t == i:
                continue
            uni, unn, w, row = u[c, t, i], u[c, t, t], w_est[c, t], u[c, t]
            a_ikj = uni + uni + unn
            a_iji = uni + uni + uni
            for j in range(n):
                unj = row[j]
                v = w * (uni - unj)
                cni = max(v, 0.0) + ci[j]
                cnj = max(-v, 0.0) + cj[j]
                pin = cni / (cni + cnj)
                pjn = 1.0 - pin
                two = unj + unj
                u_ik_j = pin * a_ikj + pjn * (two + unj)
                u_i_jk = pin * a_iji + pjn * (two + unn)
                vt = w * (u_ik_j - u_i_jk)
                keep = 0.0 if j == t else 1.0  # t == j adds +0.0: the sums do not change
                oi[j] += max(vt, 0.0) * keep
                oj[j] += max(-vt, 0.0) * keep
    return out_ij, out_ji


def coalitions_of(rule: str, w: np.ndarray, u: np.ndarray) -> np.ndarray:
    """:func:`._smp_kernel.coalitions` (the same bits) for ``u`` ``(actors, options)`` or a
    batch ``(G, actors, options)``."""
    args = (RULES.index(rule), np.ascontiguousarray(w, dtype=float),
            np.ascontiguousarray(u, dtype=float), MIN_COALITION, rule in ODD_RULES)
    return coalitions(*args) if u.ndim == 2 else coalitions_batch(*args)  # type: ignore[no-any-return]


@njit(cache=True, nogil=True, error_model="numpy")
def coalitions_batch(rule: int, w: np.ndarray, u: np.ndarray, floor: float,
                     odd: bool) -> np.ndarray:  # pragma: no cover
    """:func:`coalitions` of every ``u[g]``, ``(G, options, options)``."""
    g_n, _, n_opt = u.shape
    out = np.empty((g_n, n_opt, n_opt))
    for g in range(g_n):
        out[g] = coalitions(rule, w, u[g], floor, odd)
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def coalitions(rule: int, w: np.ndarray, u: np.ndarray, floor: float,
               odd: bool) -> np.ndarray:  # pragma: no cover
    """:func:`._smp_kernel.coalitions` for ``u`` of shape ``(actors, options)``: ``c[a, b]``
    = ``floor`` plus the positive votes ``v_k(a:b)`` added actor by actor; for a rule that
    is not odd, above the diagonal the negative votes ``-v_k(b:a)``, as KTAB scans."""
    n_act, n_opt = u.shape
    c = np.empty((n_opt, n_opt))
    for a in range(n_opt):
        for b in range(n_opt):
            c[a, b] = floor
        for k in range(n_act):
            wk = w[k]
            uka = u[k, a]
            if rule == 0:  # proportional, written out: a loop without branches
                for b in range(n_opt):
                    c[a, b] += max(wk * (uka - u[k, b]), 0.0)
                continue
            if odd:
                for b in range(n_opt):
                    c[a, b] += max(_vote(rule, wk, uka, u[k, b]), 0.0)
                continue
            for b in range(a):
                c[a, b] += max(_vote(rule, wk, uka, u[k, b]), 0.0)
            for b in range(a + 1, n_opt):  # KTAB's neg[b, a]: the sum of max(-v_k(b:a), 0)
                c[a, b] += max(-_vote(rule, wk, u[k, b], uka), 0.0)
    for a in range(n_opt):
        c[a, a] = floor
    return c


@njit(cache=True, nogil=True, error_model="numpy")
def bs_util(sd: np.ndarray, r: np.ndarray) -> np.ndarray:  # pragma: no cover
    """:func:`._smp_kernel.bs_util` for distances ``sd`` ``(c, a, b)`` and risk attitudes
    ``r`` ``(c, a)``: ``(1 - sd)(1 + sd r)``, or ``(1 - sd)(1 + r)`` past sd = 1."""
    n_c, n_a, n_b = sd.shape
    u = np.empty((n_c, n_a, n_b))
    for c in range(n_c):
        for a in range(n_a):
            _util_row(sd[c, a], r[c, a], u[c, a])
    return u


@njit(cache=True, nogil=True, error_model="numpy")
def bs_util_shared(sd: np.ndarray, r: np.ndarray) -> np.ndarray:  # pragma: no cover
    """:func:`bs_util` where every c shares the distances ``sd`` ``(a, b)``."""
    n_c, n_a = r.shape
    n_b = sd.shape[1]
    u = np.empty((n_c, n_a, n_b))
    for c in range(n_c):
        for a in range(n_a):
            _util_row(sd[a], r[c, a], u[c, a])
    return u


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _util_row(sd: np.ndarray, ra: float, out: np.ndarray) -> None:  # pragma: no cover
    for b in range(sd.shape[0]):
        d = sd[b]
        dr = d * ra
        out[b] = (1.0 - d) * (1.0 + (ra if d > 1.0 else dr))


@njit(cache=True, nogil=True, error_model="numpy")
def bargain_utility(own: np.ndarray, init: np.ndarray, rcvr: np.ndarray, pu_i: np.ndarray,
                    pu_j: np.ndarray) -> np.ndarray:  # pragma: no cover
    """:func:`.smp._bargain_utility`: ``pu_i + pu_j`` plus ``own[a, k]`` for every k but the
    bargain's two parties, added k by k; ``(n, m)``."""
    n = own.shape[0]
    m = init.shape[0]
    out = np.empty((n, m))
    for a in range(n):
        for b in range(m):
            out[a, b] = pu_i[a, b] + pu_j[a, b]
        for k in range(n):
            v = own[a, k]
            for b in range(m):
                out[a, b] += 0.0 if (k == init[b] or k == rcvr[b]) else v
    return out
