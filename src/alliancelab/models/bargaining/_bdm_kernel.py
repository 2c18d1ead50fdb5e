"""Compiled inner loops of :mod:`.bdm_scholz` (Numba), for many draws at once.

Arrays are laid out actors first, draws last (``[i, j, m]``), so every innermost loop runs
over the draws and vectorises. Each function does, element by element and in the same order,
the arithmetic of the NumPy formulation it replaces (kept in the docstrings), so results are
identical to the last bit: only the temporaries and the passes over memory are gone. The
powers ``d**r`` stay in NumPy, whose SIMD ``power`` is faster than a scalar loop (and
gives other bits than the scalar ``pow`` a loop here would call: they must not move).

Issue 15: the security and risk exponents of a round in one loop (:func:`risk`), U_sq from
the diagonal of the powered U_s bases (base 0.5: the same ``power``, the same bits as
``0.5 ** r``), the offers chosen per receiver from rows that stay in cache (first near
proposer as a minimum: the conditional store "j if near else chosen" compiled to a masked
scatter), and a, b and the offer kinds stored only when diagnostics are recorded.
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
    wd = np.empty((n, m))
    for k in range(n):
        for i in range(n):
            for d in range(m):
                wdist[k, i, d] = (dist[k, i, d] if zero[k, i, d] != 0.0 else 0.0) * w[k, d]
    for i in range(n):
        for d in range(m):
            wd[i, d] = wdist[0, i, d]
    for k in range(1, n):  # a separate pass: faster than summing in the loop above
        for i in range(n):
            for d in range(m):
                wd[i, d] += wdist[k, i, d]
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
def risk(dist: np.ndarray, p1: np.ndarray, s: np.ndarray, tol: float, sec: np.ndarray,
         r: np.ndarray) -> None:  # pragma: no cover
    """The risk pass with every r = 1: security ``sec[i] = 2 (1 - 2 s_i) sum_j D_ij +
    4 s_i sum_j D_ij P_ji`` (both sums over j in order, from 0.0, as NumPy's ``sum`` over a
    middle axis) and the risk exponents ``r`` of :func:`._eu.risk_exponent` over the actors,
    with NumPy's NaN propagation in the max, min and clip."""
    n, _, m = dist.shape
    sd = np.empty(m)
    sdp = np.empty(m)
    for i in range(n):
        sd[:] = 0.0
        sdp[:] = 0.0
        for j in range(n):
            for d in range(m):
                sd[d] += dist[i, j, d]
                sdp[d] += dist[i, j, d] * p1[j, i, d]
        for d in range(m):
            sec[i, d] = 2.0 * (1.0 - 2.0 * s[i, d]) * sd[d] + 4.0 * s[i, d] * sdp[d]
    for d in range(m):
        hi = sec[0, d]
        lo = sec[0, d]
        for i in range(1, n):
            v = sec[i, d]
            hi = v if (v > hi or v != v) else hi
            lo = v if (v < lo or v != v) else lo
        spread = hi - lo
        ahi, alo = abs(hi), abs(lo)
        big = ahi if (ahi > alo or ahi != ahi) else alo
        big = big if (big > 1.0 or big != big) else 1.0
        flat = spread <= tol * big
        for i in range(n):
            rr = 0.0 if flat else (2.0 * sec[i, d] - hi - lo) / spread
            rr = -1.0 if rr < -1.0 else (1.0 if rr > 1.0 else rr)
            r[i, d] = (1.0 - rr / 3.0) / (1.0 + rr / 3.0)


@njit(cache=True, nogil=True, error_model="numpy")
def _choose(
    conf: np.ndarray,
    adx: np.ndarray,
    comp: np.ndarray,
    comp_key: np.ndarray,
    comp_pos: np.ndarray,
    x: np.ndarray,
    enforce: np.ndarray,
    perm: np.ndarray,
    tol_x: np.ndarray,
    tol_eu: float,
    input_order: bool,
    lim_f: np.ndarray,
    lim_p: np.ndarray,
    cnt_f: np.ndarray,
    cnt_p: np.ndarray,
    j_f: np.ndarray,
    j_p: np.ndarray,
) -> None:  # pragma: no cover
    """A receiver's confrontation and compromise, as :func:`._eu.select` on the receiver's
    rows ``(n, m)`` (proposers j where ``conf``, ``comp``), keyed by ``adx`` and
    ``comp_key``: the offers whose keys are within ``tol_x`` of the smallest (``lim_*``,
    scratch) are near; the first near j, unless several are -- then ties go to the highest
    ``enforce`` (within ``tol_eu``), then the lowest target (x_j, the compromise position;
    within ``tol_x``), then the lowest canonical place ``perm`` -- or, with
    ``input_order``, straight to the lowest place. ``cnt_*``: how many are near (0: no
    offer), ``j_*``: the chosen proposer."""
    n, m = conf.shape
    lim_f[:] = np.inf
    lim_p[:] = np.inf
    for j in range(n):
        for d in range(m):
            lim_f[d] = min(lim_f[d], adx[j, d] if conf[j, d] else np.inf)
            lim_p[d] = min(lim_p[d], comp_key[j, d] if comp[j, d] else np.inf)
    for d in range(m):
        lim_f[d] += tol_x[d]
        lim_p[d] += tol_x[d]
        cnt_f[d] = 0
        cnt_p[d] = 0
        j_f[d] = n
        j_p[d] = n
    # the first near j as a minimum (n: none), two loops: unconditional stores vectorise,
    # where "j if near else j_f" becomes a masked scatter
    for j in range(n):
        for d in range(m):
            near = conf[j, d] & (adx[j, d] <= lim_f[d])
            cnt_f[d] += near
            j_f[d] = min(j_f[d], j if near else n)
        for d in range(m):
            near = comp[j, d] & (comp_key[j, d] <= lim_p[d])
            cnt_p[d] += near
            j_p[d] = min(j_p[d], j if near else n)
    for d in range(m):
        j_f[d] = 0 if j_f[d] == n else j_f[d]
        j_p[d] = 0 if j_p[d] == n else j_p[d]
        if cnt_f[d] > 1:  # rare: break the tie
            j_f[d] = _break_tie(conf, adx, enforce, x, perm, lim_f[d], tol_x[d], tol_eu,
                                input_order, d)
        if cnt_p[d] > 1:
            j_p[d] = _break_tie(comp, comp_key, enforce, comp_pos, perm, lim_p[d], tol_x[d],
                                tol_eu, input_order, d)


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
    d: int,
) -> int:  # pragma: no cover
    """The proposer of the receiver's offer among the near ones (key <= ``lim``) in draw d:
    the highest ``enforce`` (within ``tol_eu``), then the lowest ``target`` (within
    ``tol_x``), then the lowest canonical place -- or straight to the lowest place."""
    n = mask.shape[0]
    emax = -np.inf
    for j in range(n):
        if mask[j, d] and key[j, d] <= lim:
            emax = max(emax, enforce[j, d])
    tmin = np.inf
    for j in range(n):
        if mask[j, d] and key[j, d] <= lim and enforce[j, d] >= emax - tol_eu:
            tmin = min(tmin, target[j, d])
    best = _BIG
    chosen = 0
    for j in range(n):
        near = mask[j, d] and key[j, d] <= lim
        if near and not input_order:
            near = enforce[j, d] >= emax - tol_eu and target[j, d] <= tmin + tol_x
        if near and perm[j, d] < best:
            best = perm[j, d]
            chosen = j
    return chosen


@njit(cache=True, nogil=True, error_model="numpy")
def _pair(
    x: np.ndarray,
    s: np.ndarray,
    p: np.ndarray,
    dist: np.ndarray,
    powers: np.ndarray,
    usq: np.ndarray,
    tie_tol: float,
    i: int,
    j: int,
    d: int,
) -> tuple[float, float, bool, bool, float, float]:  # pragma: no cover
    """Receiver i and proposer j in draw d (see :func:`decide`): a, b, confrontation?,
    compromise?, the compromise position and its rank key (0 where there is none)."""
    zero = max(0.5 - 0.5 * dist[i, j, d], 0.0) == 0.0
    us = (0.0 if zero else powers[1, i, j, d]) * -4.0 + 2.0
    uf = powers[2, i, j, d] * -4.0 + 2.0
    gap = us - uf
    base = us - usq[d]
    av = base - (1.0 - p[i, j, d]) * gap * s[j, d]
    bv = base - (1.0 - p[j, i, d]) * gap * s[i, d]
    cf = (av > tie_tol) & (bv > av + tie_tol)
    cp = (av < -tie_tol) & (bv > tie_tol - av)
    xi, xj, abs_a = x[i, d], x[j, d], -av
    bs = bv if cp else 1.0  # no division by zero where there is no compromise
    pos = xi + (xj - xi) * (abs_a / bs) if cp else 0.0
    key = (abs_a * xi + bv * xj) / (abs_a + bs) if cp else 0.0
    return av, bv, cf, cp, pos, key


@njit(cache=True, nogil=True, error_model="numpy")
def decide(
    x: np.ndarray,
    s: np.ndarray,
    p: np.ndarray,
    dist: np.ndarray,
    powers: np.ndarray,
    q: float,
    adx: np.ndarray,
    perm: np.ndarray,
    tol_x: np.ndarray,
    tie_tol: float,
    input_order: bool,
    record: bool,
    a: np.ndarray,
    b: np.ndarray,
    kind: np.ndarray,
    new: np.ndarray,
    offer: np.ndarray,
    proposer: np.ndarray,
) -> None:  # pragma: no cover
    """Offers and moves of one round (Scholz eqs. 15, 16, 24-25a, 36; the reference's rule).

    ``powers[1]``, ``powers[2]``: the bases of :func:`distances` raised to r_i, so
    U_s = 2 - 4 powers[1] (0 where the base was 0), U_f = 2 - 4 powers[2] and, from the
    diagonal (base 0.5), U_sq = 2 - 4 (0.5)^r_i.
    a[i, j] = (U_s - Q U_sq) - s_j (1 - P_ij)(U_s - U_f), b[i, j] the same with s_i and
    P_ji; confrontation where b > a > 0, compromise where b > 0 > a and b > |a| (both with
    ``tie_tol``); compromise position x_i + (x_j - x_i)|a|/b, ranked by
    (|a| x_i + b x_j)/(|a| + b). Each receiver takes its nearest confrontation, else its
    lowest-ranked compromise, else stays. Writes the new positions, the offer taken and its
    proposer, and, with ``record``, a, b and kind (without, they are not touched: three
    fewer streams of stores). One pass per receiver i: its offers are chosen from rows
    ``(n, m)`` that stay in cache."""
    n, _, m = p.shape
    usq = np.empty(m)
    b_row = np.empty((n, m))
    comp_pos = np.empty((n, m))
    comp_key = np.empty((n, m))
    conf = np.empty((n, m), dtype=np.bool_)
    comp = np.empty((n, m), dtype=np.bool_)
    lim_f = np.empty(m)
    lim_p = np.empty(m)
    cnt_f = np.empty(m, dtype=np.int64)
    cnt_p = np.empty(m, dtype=np.int64)
    j_f = np.empty(m, dtype=np.int64)
    j_p = np.empty(m, dtype=np.int64)
    for i in range(n):
        for d in range(m):
            usq[d] = q * (2.0 - 4.0 * powers[1, i, i, d])
        for j in range(n):
            if record:
                for d in range(m):
                    av, bv, cf, cp, pos, key = _pair(x, s, p, dist, powers, usq, tie_tol, i, j, d)
                    a[i, j, d] = av
                    b_row[j, d] = bv
                    kind[i, j, d] = cf * CONFRONTATION + cp * COMPROMISE  # never both
                    conf[j, d] = cf
                    comp[j, d] = cp
                    comp_pos[j, d] = pos
                    comp_key[j, d] = key
            else:
                for d in range(m):
                    av, bv, cf, cp, pos, key = _pair(x, s, p, dist, powers, usq, tie_tol, i, j, d)
                    b_row[j, d] = bv
                    conf[j, d] = cf
                    comp[j, d] = cp
                    comp_pos[j, d] = pos
                    comp_key[j, d] = key
        if record:
            b[i] = b_row
        _choose(conf, adx[i], comp, comp_key, comp_pos, x, b_row, perm, tol_x, tie_tol,
                input_order, lim_f, lim_p, cnt_f, cnt_p, j_f, j_p)
        for d in range(m):
            hc, hp = cnt_f[d] > 0, cnt_p[d] > 0
            new[i, d] = x[j_f[d], d] if hc else (comp_pos[j_p[d], d] if hp else x[i, d])
            offer[i, d] = CONFRONTATION if hc else (COMPROMISE if hp else NONE)
            proposer[i, d] = j_f[d] if hc else j_p[d]
