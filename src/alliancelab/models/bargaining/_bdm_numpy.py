"""The loops of :mod:`._bdm_kernel` in plain NumPy, for small inputs (issue 15).

The same three functions with the same arguments (arrays actors first, draws last,
``[i, j, m]``; results written into the arrays passed in) and the same arithmetic in the
same order, element by element, so the results are identical to the last bit to the compiled
kernel's (``tests/test_bdm_kernel.py``). Sums that the kernel runs over the actors in order
run here as Python loops over the actors (or ``cumsum``, which adds in order), never as
NumPy's pairwise ``sum``. No JIT: a single forecast of a few actors does not pay Numba's
import and cache load (:data:`.bdm_scholz.JIT_MIN_ELEMENTS` picks the path).
"""

from __future__ import annotations

import numpy as np

from . import _eu
from ._eu import COMPROMISE, CONFRONTATION, NONE

_BIG = np.iinfo(np.int64).max


def distances(x: np.ndarray, big_r: np.ndarray, adx: np.ndarray, dist: np.ndarray,
              bases: np.ndarray) -> None:
    """As :func:`._bdm_kernel.distances`: ``adx[i, j] = |x_j - x_i|``, ``dist = adx / R``
    and the bases of the three powers of a round (zeros replaced by 1)."""
    np.abs(x[None, :, :] - x[:, None, :], out=adx)
    np.divide(adx, big_r[None, None, :], out=dist)
    half = 0.5 * dist
    us = np.maximum(0.5 - half, 0.0)
    bases[0] = np.where(dist != 0.0, dist, 1.0)
    bases[1] = np.where(us != 0.0, us, 1.0)
    np.add(half, 0.5, out=bases[2])


def votes(dist: np.ndarray, w: np.ndarray, out: np.ndarray, zero: np.ndarray) -> None:
    """As :func:`._bdm_kernel.votes`: win probabilities ``out[i, j, :]`` with one normaliser
    per draw; every sum over the voters k in the kernel's order."""
    n, _, m = dist.shape
    wdist = np.where(zero != 0.0, dist, 0.0) * w[:, None, :]  # (k, i, m)
    wd = wdist[0].copy()
    t = np.abs(wdist[0][None, :, :] - wdist[0][:, None, :])  # t[i, j] = |wD_0j - wD_0i|
    for k in range(1, n):
        wd += wdist[k]
        t += np.abs(wdist[k][None, :, :] - wdist[k][:, None, :])
    s = wd[None, :, :] - wd[:, None, :]  # s[i, j] = wd_j - wd_i
    np.maximum(t + s, 0.0, out=out)  # out[j, i] = max(t - s, 0): -s is s[j, i] exactly
    # the normaliser: sum over i of (sum over j > i of t[i, j]), both in order
    upper = np.triu(np.ones((n, n), dtype=bool), 1)[:, :, None]
    tsum = np.cumsum(np.where(upper, t, 0.0), axis=1)[:, -1, :]  # (i, m)
    den = np.cumsum(tsum[: n - 1], axis=0)[-1] if n > 1 else np.zeros(m)
    idx = np.arange(n)
    out[idx, idx, :] = 0.0
    den = den * 2.0
    scale = np.where(den > 0, 0.5 / np.where(den > 0, den, 1.0), 0.0)
    out *= scale[None, None, :]


def risk(dist: np.ndarray, p1: np.ndarray, s: np.ndarray, tol: float, sec: np.ndarray,
         r: np.ndarray) -> None:
    """As :func:`._bdm_kernel.risk`: security with every r = 1 and the risk exponents."""
    dp = dist * p1.transpose(1, 0, 2)
    sec[...] = 2.0 * (1.0 - 2.0 * s) * dist.sum(axis=1) + 4.0 * s * dp.sum(axis=1)
    r[...] = _eu.risk_exponent(sec.T, tol).T


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
    """As :func:`._bdm_kernel._select`: (has an offer ``(n, m)``, chosen proposer)."""
    lim = np.where(mask, key, np.inf).min(axis=1) + tol_x[None, :]  # (i, m)
    near = mask & (key <= lim[:, None, :])
    count = near.sum(axis=1)
    chosen = near.argmax(axis=1)  # the first near j
    tied = count > 1
    if tied.any():  # rare: break the tie as _break_tie does
        ii, mm = np.nonzero(tied)
        nr = near[ii, :, mm]  # (r, n)
        if not input_order:
            en = enforce[ii, :, mm]
            emax = np.where(nr, en, -np.inf).max(axis=1, keepdims=True)
            ok = nr & (en >= emax - tol_eu)
            tg = target[ii, :, mm]
            tmin = np.where(ok, tg, np.inf).min(axis=1, keepdims=True)
            nr = ok & (tg <= tmin + tol_x[mm][:, None])
        chosen[ii, mm] = np.argmin(np.where(nr, perm[:, mm].T, _BIG), axis=1)
    return count > 0, chosen


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
) -> None:
    """As :func:`._bdm_kernel.decide`: offers and moves of one round; writes a, b, kind
    (whatever ``record`` says: here they are the temporaries), the new positions, the offer
    taken and its proposer."""
    n, _, m = p.shape
    zero = np.maximum(0.5 - 0.5 * dist, 0.0) == 0.0
    us = np.where(zero, 0.0, powers[1]) * -4.0 + 2.0
    uf = powers[2] * -4.0 + 2.0
    gap = us - uf
    idx = np.arange(n)
    usq = q * (2.0 - 4.0 * powers[1][idx, idx, :])  # (0.5)^r_i: base 0.5 on the diagonal
    base = us - usq[:, None, :]
    np.subtract(base, (1.0 - p) * gap * s[None, :, :], out=a)
    np.subtract(base, (1.0 - p.transpose(1, 0, 2)) * gap * s[:, None, :], out=b)
    conf = (a > tie_tol) & (b > a + tie_tol)
    comp = (a < -tie_tol) & (b > tie_tol - a)
    kind[...] = conf * CONFRONTATION + comp * COMPROMISE  # never both
    xi = np.broadcast_to(x[:, None, :], (n, n, m))
    xj = np.broadcast_to(x[None, :, :], (n, n, m))
    abs_a = -a
    bs = np.where(comp, b, 1.0)  # no division by zero where there is no compromise
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        comp_pos = np.where(comp, xi + (xj - xi) * (abs_a / bs), 0.0)
        comp_key = np.where(comp, (abs_a * xi + b * xj) / (abs_a + bs), 0.0)
    has_conf, j_conf = _select(conf, adx, b, xj, perm, tol_x, tie_tol, input_order)
    has_comp, j_comp = _select(comp, comp_key, b, comp_pos, perm, tol_x, tie_tol, input_order)
    draw = np.arange(m)[None, :]
    new_comp = np.take_along_axis(comp_pos, j_comp[:, None, :], axis=1)[:, 0, :]
    new[...] = np.where(has_conf, x[j_conf, draw], np.where(has_comp, new_comp, x))
    offer[...] = np.where(has_conf, CONFRONTATION, np.where(has_comp, COMPROMISE, NONE))
    proposer[...] = np.where(has_conf, j_conf, j_comp)
