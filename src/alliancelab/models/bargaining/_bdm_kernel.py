"""Compiled inner loops of :mod:`.bdm_scholz` (Numba), for many draws at once.

Arrays are laid out actors first, draws last (``[i, j, m]``), so every innermost loop runs
over the draws and vectorises. Each function does, element by element and in the same order,
the arithmetic of the NumPy formulation it replaces (kept in the docstrings), so results are
identical to the last bit: only the temporaries and the passes over memory are gone. The
powers ``d**r`` stay in NumPy, whose SIMD ``power`` is faster than a scalar loop.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._eu import COMPROMISE, CONFRONTATION, NONE

_BIG = np.iinfo(np.int64).max


@njit(cache=True, nogil=True, error_model="numpy")
def _weighted(
    dist: np.ndarray, w: np.ndarray, zero: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
    """``wdist[k, i] = w_k D_ki`` (0 where ``zero`` is 0) and ``wd[i] = sum_k wdist[k, i]``,
    summed over k in order."""
    n, _, m = dist.shape
    wdist = np.empty((n, n, m))
    wd = np.zeros((n, m))
    for k in range(n):
        for i in range(n):
            for d in range(m):
                v = (dist[k, i, d] if zero[k, i, d] != 0.0 else 0.0) * w[k, d]
                wdist[k, i, d] = v
                wd[i, d] = v if k == 0 else wd[i, d] + v
    return wdist, wd


@njit(cache=True, nogil=True, error_model="numpy")
def votes(
    dist: np.ndarray, w: np.ndarray, out: np.ndarray, zero: np.ndarray
) -> None:  # pragma: no cover
    """Win probabilities ``out[i, j, :]`` with one normaliser per draw (Scholz et al.'s code).

    ``dist[k, i, :]``: voter k's (risk-adjusted) distance to i, taken as 0 where
    ``zero[k, i, :] == 0`` (see :func:`distances`); ``w[k, :]`` = c_k s_k.
    num[i, j] = sum_k w_k max(0, D_kj - D_ki) = max(0, T_ij + S_ij) with
    T_ij = sum_k |w_k D_kj - w_k D_ki| and S_ij = sum_k w_k D_kj - sum_k w_k D_ki (both summed
    over k in order); the normaliser is sum_{k,a,b} |v_k(a, b)| = 2 sum_i sum_{j>i} T_ij, and
    P_ij = num[i, j] * (0.5 / normaliser), 0 where the normaliser is 0.
    """
    n, _, m = dist.shape
    wdist, wd = _weighted(dist, w, zero)
    den = np.zeros(m)
    t = np.empty(m)
    tsum = np.empty(m)
    for i in range(n - 1):
        for j in range(i + 1, n):
            for d in range(m):
                t[d] = abs(wdist[0, j, d] - wdist[0, i, d])
            for k in range(1, n):
                for d in range(m):
                    t[d] += abs(wdist[k, j, d] - wdist[k, i, d])
            for d in range(m):
                s = wd[j, d] - wd[i, d]
                tsum[d] = t[d] if j == i + 1 else tsum[d] + t[d]
                out[i, j, d] = max(t[d] + s, 0.0)
                out[j, i, d] = max(t[d] - s, 0.0)
        for d in range(m):
            den[d] += tsum[d]
    _normalise(out, den)


@njit(cache=True, nogil=True, error_model="numpy")
def _normalise(out: np.ndarray, den: np.ndarray) -> None:  # pragma: no cover
    """``out[i, j, d] *= 0.5 / (2 den[d])``, 0 where ``den[d]`` is 0; the diagonal 0."""
    n, _, m = out.shape
    for i in range(n):
        for d in range(m):
            out[i, i, d] = 0.0
    for d in range(m):
        den[d] *= 2.0
        den[d] = 0.5 / den[d] if den[d] > 0 else 0.0
    for i in range(n):
        for j in range(n):
            for d in range(m):
                out[i, j, d] *= den[d]


@njit(cache=True, nogil=True, error_model="numpy")
def distances(x: np.ndarray, big_r: np.ndarray, adx: np.ndarray, dist: np.ndarray,
              bases: np.ndarray) -> None:  # pragma: no cover
    """adx[i, j] = |x_j - x_i|, dist = adx / R and the bases of the three powers of a round,
    ``bases[0] = dist``, ``bases[1] = max(0.5 - dist/2, 0)`` (U_s), ``bases[2] = dist/2 + 0.5``
    (U_f), with every 0 replaced by 1: NumPy's SIMD ``power`` leaves its fast path on zeros,
    and 0**r = 0 (r >= 1/2) is restored by the consumers from ``dist``."""
    n, _, m = adx.shape
    for i in range(n):
        for j in range(n):
            for d in range(m):
                v = abs(x[j, d] - x[i, d])
                adx[i, j, d] = v
                dv = v / big_r[d]
                dist[i, j, d] = dv
                half = 0.5 * dv
                us = max(0.5 - half, 0.0)
                bases[0, i, j, d] = dv if dv != 0.0 else 1.0
                bases[1, i, j, d] = us if us != 0.0 else 1.0
                bases[2, i, j, d] = half + 0.5


@njit(cache=True, nogil=True, error_model="numpy")
def _select(
    mask: np.ndarray,
    key: np.ndarray,
    enforce: np.ndarray,
    target: np.ndarray,
    perm: np.ndarray,
    tol_x: np.ndarray,
    tol_eu: float,
    input_order: bool,
    has: np.ndarray,
    chosen: np.ndarray,
) -> None:  # pragma: no cover
    """One offer per receiver i among the proposers j where ``mask[i, j, d]``: the smallest
    ``key`` (within ``tol_x``); ties go to the highest ``enforce`` (within ``tol_eu``), then
    the lowest ``target`` (within ``tol_x``), then the lowest canonical place ``perm`` -- or,
    with ``input_order``, straight to the lowest place. As :func:`._eu.select`."""
    n, _, m = mask.shape
    lim = np.empty(m)
    count = np.empty(m, dtype=np.int64)
    for i in range(n):
        lim[:] = np.inf
        for j in range(n):
            for d in range(m):
                lim[d] = min(lim[d], key[i, j, d] if mask[i, j, d] else np.inf)
        for d in range(m):
            lim[d] += tol_x[d]
            count[d] = 0
            chosen[i, d] = 0
        for j in range(n - 1, -1, -1):  # the last assignment is the first near j
            for d in range(m):
                near = mask[i, j, d] & (key[i, j, d] <= lim[d])
                count[d] += near
                chosen[i, d] = j if near else chosen[i, d]
        for d in range(m):
            has[i, d] = count[d] > 0
            if count[d] > 1:  # rare: break the tie
                chosen[i, d] = _break_tie(mask, key, enforce, target, perm, lim[d], tol_x[d],
                                          tol_eu, input_order, i, d)


@njit(cache=True, nogil=True, error_model="numpy")
def _break_tie(
    mask: np.ndarray,
    key: np.ndarray,
    enforce: np.ndarray,
    target: np.ndarray,
    perm: np.ndarray,
    lim: float,
    tol_x: float,
    tol_eu: float,
    input_order: bool,
    i: int,
    d: int,
) -> int:  # pragma: no cover
    """The proposer of receiver i's offer among the near ones (key <= ``lim``) in draw d:
    the highest ``enforce`` (within ``tol_eu``), then the lowest ``target`` (within
    ``tol_x``), then the lowest canonical place -- or straight to the lowest place."""
    n = mask.shape[1]
    emax = -np.inf
    for j in range(n):
        if mask[i, j, d] and key[i, j, d] <= lim:
            emax = max(emax, enforce[i, j, d])
    tmin = np.inf
    for j in range(n):
        if mask[i, j, d] and key[i, j, d] <= lim and enforce[i, j, d] >= emax - tol_eu:
            tmin = min(tmin, target[i, j, d])
    best = _BIG
    chosen = 0
    for j in range(n):
        near = mask[i, j, d] and key[i, j, d] <= lim
        if near and not input_order:
            near = enforce[i, j, d] >= emax - tol_eu and target[i, j, d] <= tmin + tol_x
        if near and perm[j, d] < best:
            best = perm[j, d]
            chosen = j
    return chosen


@njit(cache=True, nogil=True, error_model="numpy")
def decide(
    x: np.ndarray,
    s: np.ndarray,
    p: np.ndarray,
    dist: np.ndarray,
    powers: np.ndarray,
    usq: np.ndarray,
    adx: np.ndarray,
    perm: np.ndarray,
    tol_x: np.ndarray,
    tie_tol: float,
    input_order: bool,
    a: np.ndarray,
    b: np.ndarray,
    kind: np.ndarray,
    new: np.ndarray,
    offer: np.ndarray,
    proposer: np.ndarray,
) -> None:  # pragma: no cover
    """Offers and moves of one round (Scholz eqs. 15, 16, 24-25a, 36; the reference's rule).

    ``powers[1]``, ``powers[2]``: the bases of :func:`distances` raised to r_i, so
    U_s = 2 - 4 powers[1] (0 where the base was 0) and U_f = 2 - 4 powers[2].
    a[i, j] = (U_s - Q U_sq) - s_j (1 - P_ij)(U_s - U_f), b[i, j] the same with s_i and
    P_ji; confrontation where b > a > 0, compromise where b > 0 > a and b > |a| (both with
    ``tie_tol``); compromise position x_i + (x_j - x_i)|a|/b, ranked by
    (|a| x_i + b x_j)/(|a| + b). Each receiver takes its nearest confrontation, else its
    lowest-ranked compromise, else stays. Writes a, b, kind, the new positions, the offer
    taken and its proposer."""
    n, _, m = p.shape
    comp_pos = np.empty((n, n, m))
    comp_key = np.empty((n, n, m))
    conf = np.empty((n, n, m), dtype=np.bool_)
    comp = np.empty((n, n, m), dtype=np.bool_)
    xj_all = np.empty((n, n, m))
    for i in range(n):
        for j in range(n):
            for d in range(m):
                zero = max(0.5 - 0.5 * dist[i, j, d], 0.0) == 0.0
                us = (0.0 if zero else powers[1, i, j, d]) * -4.0 + 2.0
                uf = powers[2, i, j, d] * -4.0 + 2.0
                gap = us - uf
                base = us - usq[i, 0, d]
                a[i, j, d] = base - (1.0 - p[i, j, d]) * gap * s[j, d]
                b[i, j, d] = base - (1.0 - p[j, i, d]) * gap * s[i, d]
    for i in range(n):
        for j in range(n):
            for d in range(m):
                av, bv = a[i, j, d], b[i, j, d]
                cf = (av > tie_tol) & (bv > av + tie_tol)
                cp = (av < -tie_tol) & (bv > tie_tol - av)
                conf[i, j, d] = cf
                comp[i, j, d] = cp
                kind[i, j, d] = cf * CONFRONTATION + cp * COMPROMISE  # never both
                xi, xj, abs_a = x[i, d], x[j, d], -av
                bs = bv if cp else 1.0  # no division by zero where there is no compromise
                comp_pos[i, j, d] = xi + (xj - xi) * (abs_a / bs) if cp else 0.0
                comp_key[i, j, d] = (abs_a * xi + bv * xj) / (abs_a + bs) if cp else 0.0
                xj_all[i, j, d] = xj
    has_conf = np.empty((n, m), dtype=np.bool_)
    j_conf = np.empty((n, m), dtype=np.int64)
    has_comp = np.empty((n, m), dtype=np.bool_)
    j_comp = np.empty((n, m), dtype=np.int64)
    _select(conf, adx, b, xj_all, perm, tol_x, tie_tol, input_order, has_conf, j_conf)
    _select(comp, comp_key, b, comp_pos, perm, tol_x, tie_tol, input_order, has_comp, j_comp)
    for i in range(n):
        for d in range(m):
            hc, hp = has_conf[i, d], has_comp[i, d]
            new[i, d] = (x[j_conf[i, d], d] if hc
                         else (comp_pos[i, j_comp[i, d], d] if hp else x[i, d]))
            offer[i, d] = CONFRONTATION if hc else (COMPROMISE if hp else NONE)
            proposer[i, d] = j_conf[i, d] if hc else j_comp[i, d]
