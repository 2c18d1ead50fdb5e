"""The all-NumPy formulation of ``bdm-scholz``'s batch kernel as it stood before the compiled
kernel (commit 589b8b6), kept only as a test oracle: ``bargaining._bdm_kernel`` claims to do
the same arithmetic in the same order, so the two must agree to the last bit
(tests/test_bdm_kernel.py). Diagnostics recording is left out."""

from __future__ import annotations

import numpy as np

from alliancelab.models.bargaining import _eu


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
    input_order: bool = False,
) -> np.ndarray:
    """One block of draws ``(m, n)``; returns positions ``(m, rounds+1, n)``."""
    m, n = position.shape
    if m == 1:
        # With one draw NumPy would sum over the actors with its pairwise (unrolled)
        # summation instead of in order; two copies keep every block's rounding the same,
        # so a draw gives the same bits alone and in a batch.
        two = [np.repeat(v, 2, axis=0) for v in (capability, position, salience)]
        return _run(two[0], two[1], two[2], rounds, q, tie_tol, input_order)[:1]
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
        x = new
        out[t] = x
    # back to draws first and to the input order
    positions = np.take_along_axis(out.transpose(2, 0, 1), inv[:, None, :], axis=2)
    return positions


def simulate(capability: np.ndarray, position: np.ndarray, salience: np.ndarray,
             rounds: int = 10, q: float = 1.0, tie_tol: float = 1e-14,
             input_order: bool = False, chunk: int = 512) -> np.ndarray:
    """Positions ``(m, rounds + 1, n)``, as ``bdm_scholz.simulate_batch``."""
    out = np.empty((position.shape[0], rounds + 1, position.shape[1]))
    for lo in range(0, position.shape[0], chunk):
        sl = slice(lo, lo + chunk)
        out[sl] = _run(capability[sl], position[sl], salience[sl], rounds, q, tie_tol,
                       input_order)
    return out
