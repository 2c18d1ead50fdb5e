"""Vectorised building blocks of KTAB's Spatial Model of Politics (SMP).

Each function restates one routine of KTAB (GitHub KAPSARC/KTAB, ``KTAB/kmodel/libsrc/
kmodel.cpp`` and ``examples/smp/libsrc/smp*.cpp``) as NumPy array operations; the KTAB
routine is named in each docstring. Positions are on KTAB's internal [0, 1] scale.
"""

from __future__ import annotations

import numpy as np

from ...core.errors import AllianceLabError

#: KTAB ``Model::coalitions``: floor of every coalition strength.
MIN_COALITION = 1e-8
#: KTAB ``SMPState::probEduChlg``: floor of the principals' coalitions.
MIN_CONTEST = 1e-10
#: KTAB ``Model::vote``: width of the binary response ramp.
BINARY_TOL = 1e-8
#: Elements a chunked ``(a, b, c)`` scratch array may take: 100,000 (800 kB) keeps a chunk's
#: temporaries in the L2 cache; 1,000,000 made SMP on 160 actors 1.6x slower (issue 15).
CHUNK_ELEMENTS = 100_000
#: voting rules odd in ``du`` to the last bit: ``vote(-du) == -vote(du)`` (asym-prospect is not)
ODD_RULES = ("proportional", "binary", "prop-bin", "prop-cubic", "cubic")


def seq_sum(a: np.ndarray, axis: int = -1) -> np.ndarray:
    """Sum along ``axis`` strictly left to right, as KTAB's loops add (keeps results equal
    to KTAB's to the last bit where it matters: positions are rounded to 4 decimals)."""
    return np.take(np.cumsum(a, axis=axis), -1, axis=axis)


def vote(rule: str, w: np.ndarray, u_a: np.ndarray, u_b: np.ndarray) -> np.ndarray:
    """KTAB ``Model::vote(vr, w, u_a, u_b)``: the influence ``w`` throws behind option a
    over option b, a function of ``du = u_a - u_b``; broadcasts."""
    du = u_a - u_b
    if rule == "proportional":
        return w * du
    if rule == "binary":
        return w * np.clip(du / BINARY_TOL, -1.0, 1.0)
    if rule == "prop-bin":
        return w * (0.8 * du + 0.2 * np.clip(du / BINARY_TOL, -1.0, 1.0))
    if rule == "prop-cubic":
        return w * (0.5 * du + 0.5 * (du * du * du))
    if rule == "cubic":
        return w * (du * du * du)
    if rule == "asym-prospect":
        return np.where(du < 0.0, w * du, np.where(du > 0.0, (2.0 * w * du) / 3.0, 0.0))
    raise ValueError(f"unknown voting rule {rule!r}")


def victory_matrix(model: str, c: np.ndarray) -> np.ndarray:
    """KTAB ``Model::vProb(vpm, C)``: ``p[i, j]`` = probability option i beats option j
    given coalition strengths ``C`` (KTAB fills the lower triangle and mirrors it)."""
    n = c.shape[-1]
    lo = np.tril(np.ones((n, n), dtype=bool), -1)
    ct = np.swapaxes(c, -1, -2)
    s1 = np.where(lo, c, ct)  # c(i, j) for the lower-left element (i > j)
    s2 = np.where(lo, ct, c)  # c(j, i)
    x1, x2 = _vp_terms(model, s1, s2)
    p_low = x1 / (x1 + x2)
    p_up = x2 / (x1 + x2)
    p = np.where(lo, p_low, np.swapaxes(p_up, -1, -2))
    p[..., np.arange(n), np.arange(n)] = 0.5
    return p


def _vp_terms(model: str, s1: np.ndarray, s2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if model == "linear":
        return s1, s2
    if model == "square":
        return s1 * s1, s2 * s2
    if model == "quartic":
        q1, q2 = s1 * s1, s2 * s2
        return q1 * q1, q2 * q2
    if model == "octic":
        q1, q2 = s1 * s1, s2 * s2
        q1, q2 = q1 * q1, q2 * q2
        return q1 * q1, q2 * q2
    if model == "binary":
        thresh, min_x = 1.10, 1e-6
        with np.errstate(divide="ignore", invalid="ignore"):
            r12 = s1 / (s1 + s2)
        p12 = (r12 * (thresh + 1.0) - 1.0) / (thresh - 1.0)
        x1 = np.where(s1 >= thresh * s2, 1.0, np.where(s2 >= thresh * s1, min_x, p12))
        x2 = np.where(s1 >= thresh * s2, min_x, np.where(s2 >= thresh * s1, 1.0, 1.0 - p12))
        return x1, x2
    raise ValueError(f"unknown victory-probability model {model!r}")


def coalitions(rule: str, w: np.ndarray, u: np.ndarray) -> np.ndarray:
    """KTAB ``Model::coalitions``: ``c[a, b]`` = strength of the coalition preferring option a
    to option b, ``u`` being ``(actors, options)`` utilities (or a batch of them,
    ``(G, actors, options)``) and ``w`` the actors' weights (with a batch, also one row of
    weights per member, ``(G, actors)``: the Monte Carlo draws of :class:`.smp._Lockstep`).

    KTAB scans the lower triangle only: for a > b it adds ``v_k(a:b)`` to ``c[a, b]`` when
    positive and ``-v_k(a:b)`` to ``c[b, a]`` when negative (this matters for asymmetric
    voting rules), starting from 1e-8 and adding actor by actor (reproduced: reductions
    over a leading axis add in order). Chunked over a to bound memory.

    For a rule that is odd in ``du`` (every rule but asym-prospect), ``-v_k(a:b)`` is
    ``v_k(b:a)`` to the last bit (IEEE negation is exact), so KTAB's ``c[b, a]`` equals the
    sum of the positive votes for b over a: the whole matrix is the positive sums, computed
    once (half the work, the same bits)."""
    if u.ndim == 3:
        g, n_act, n_opt = u.shape
        step = max(1, CHUNK_ELEMENTS // max(1, (n_act + 1) * n_opt * n_opt))
        return np.concatenate(
            [_coalitions_batch(rule, w[g0:g0 + step] if w.ndim == 2 else w, u[g0:g0 + step])
             for g0 in range(0, g, step)]
        )
    n_act, n_opt = u.shape
    odd = rule in ODD_RULES
    pos = np.empty((n_opt, n_opt))
    neg = pos if odd else np.empty((n_opt, n_opt))
    step = max(1, CHUNK_ELEMENTS // max(1, (n_act + 1) * n_opt))
    wk = w[:, None, None]
    for a0 in range(0, n_opt, step):
        a1 = min(n_opt, a0 + step)
        v = vote(rule, wk, u[:, a0:a1, None], u[:, None, :])  # (k, a, b)
        buf = np.empty((n_act + 1, a1 - a0, n_opt))
        buf[0] = MIN_COALITION
        np.maximum(v, 0.0, out=buf[1:])
        pos[a0:a1] = buf.sum(axis=0)
        if not odd:
            np.negative(v, out=v)
            np.maximum(v, 0.0, out=buf[1:])
            neg[a0:a1] = buf.sum(axis=0)
    if odd:
        c = pos
    else:
        lo = np.tril(np.ones((n_opt, n_opt), dtype=bool), -1)
        c = np.where(lo, pos, neg.T)
    np.fill_diagonal(c, MIN_COALITION)
    return c


def _coalitions_batch(rule: str, w: np.ndarray, u: np.ndarray) -> np.ndarray:
    """:func:`coalitions` for a batch ``u`` of shape ``(G, actors, options)``, weights ``w``
    ``(actors,)`` or ``(G, actors)``."""
    g, n_act, n_opt = u.shape
    v = vote(rule, w[..., :, None, None], u[:, :, :, None], u[:, :, None, :])  # (G, k, a, b)
    buf = np.empty((g, n_act + 1, n_opt, n_opt))
    buf[:, 0] = MIN_COALITION
    np.maximum(v, 0.0, out=buf[:, 1:])
    pos = buf.sum(axis=1)
    if rule in ODD_RULES:  # see coalitions: the negative sums are the transposed positive
        c = pos
    else:
        np.negative(v, out=v)
        np.maximum(v, 0.0, out=buf[:, 1:])
        neg = buf.sum(axis=1)
        lo = np.tril(np.ones((n_opt, n_opt), dtype=bool), -1)
        c = np.where(lo, pos, np.swapaxes(neg, -1, -2))
    c[:, np.arange(n_opt), np.arange(n_opt)] = MIN_COALITION
    return c


def cond_pce(pv: np.ndarray) -> np.ndarray:
    """KTAB ``Model::condPCE``: p_i proportional to prod_j P[i > j] (diagonal 1/2 included)."""
    p = np.cumprod(pv, axis=-1)[..., -1]
    return p / seq_sum(p)[..., None]


def markov_uniform_pce(pv: np.ndarray) -> np.ndarray:
    """KTAB ``Model::markovUniformPCE``: limit of the Markov chain with uniform challenges,
    damped (p + q) / 2 steps until the largest change is at most 1e-6."""
    n = pv.shape[0]
    p = np.full(n, 1.0 / n)
    for _ in range(1000):
        q = seq_sum(pv * (p[:, None] + p[None, :]), axis=1) / n
        change = np.abs(q - p).max()
        p = (p + q) / 2.0
        if change <= 1e-6:
            return p
    raise _no_convergence("markov-uniform")


def markov_incentive_pce(c: np.ndarray, pv: np.ndarray) -> np.ndarray:
    """KTAB ``Model::markovIncentivePCE`` ("Markov Voting with Incentives in KTAB"):
    challenge probabilities proportional to incentives ``C[i, j] * P[i > j]``; damped
    iteration until the largest change is at most 1e-8."""
    n = c.shape[0]
    inc = c * pv
    inc[np.diag_indices(n)] += 1e-10
    chlg = inc / seq_sum(inc, axis=0)[None, :]  # chlg[i, j] = P[i -> j]
    p = np.full(n, 1.0 / n)
    for _ in range(1000):
        ct = p[:, None] * chlg.T  # ct[i, j] = p_i * P[j -> i]
        q = seq_sum(pv * (ct + ct.T), axis=1)
        change = np.abs(q - p).max()
        p = (p + q) / 2.0
        if change <= 1e-8:
            return p
    raise _no_convergence("markov-incentive")


def _no_convergence(model: str) -> AllianceLabError:
    return AllianceLabError(
        f"smp: the {model} Condorcet election did not converge in 1000 iterations (KTAB stops "
        "here too); try pce='conditional' or another victory model",
        field="pce",
    )


def pce(model: str, victory: str, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """KTAB ``Model::probCE2``: (option probabilities, victory-probability matrix); ``c``
    may carry leading batch axes."""
    pv = victory_matrix(victory, c)
    if model == "conditional":
        p = cond_pce(pv)
    elif c.ndim > 2:
        p = np.stack([pce(model, victory, cg)[0] for cg in c])
    elif model == "markov-incentive":
        p = markov_incentive_pce(c, pv)
    elif model == "markov-uniform":
        p = markov_uniform_pce(pv)
    else:
        raise ValueError(f"unknown PCE model {model!r}")
    return p, pv


def scalar_pce(
    rule: str, victory: str, model: str, w: np.ndarray, u: np.ndarray
) -> np.ndarray:
    """KTAB ``Model::scalarPCE``: probabilities of ``u``'s options (columns); ``u`` may be a
    batch ``(G, actors, options)``."""
    return pce(model, victory, coalitions(rule, w, u))[0]


def big_r(p: np.ndarray, rng: str) -> np.ndarray:
    """KTAB ``Model::bigRfromProb``: risk attitudes from the probabilities of the actors'
    positions (last axis; leading axes are separate states); Min maps to [0, 1], Mid
    (default) to [-1/2, 1], Max to [-1, 1]. When every probability is equal KTAB divides by
    zero; we return risk neutrality (0)."""
    p_min, p_max = p.min(axis=-1, keepdims=True), p.max(axis=-1, keepdims=True)
    flat = ~(p_max > p_min)
    if flat.all():
        return np.zeros_like(p)
    with np.errstate(invalid="ignore", divide="ignore"):
        if rng == "min":
            r = (p - p_min) / (p_max - p_min)
        elif rng == "mid":
            r = (3 * p - (p_max + 2 * p_min)) / (2 * (p_max - p_min))
        elif rng == "max":
            r = (2 * p - (p_max + p_min)) / (p_max - p_min)
        else:
            raise ValueError(f"unknown risk range {rng!r}")
    return np.where(flat, 0.0, r) if flat.any() else r


def est_nra(r_h: np.ndarray, r_i: np.ndarray, adjust: str) -> np.ndarray:
    """KTAB ``Model::estNRA``: h's estimate of i's risk attitude; broadcasts."""
    if adjust == "full":
        return r_i + 0.0 * r_h
    if adjust == "two-thirds":
        return (r_h + (2.0 * r_i)) / 3.0
    if adjust == "half":
        return (r_h + r_i) / 2
    if adjust == "one-third":
        return ((2.0 * r_h) + r_i) / 3.0
    if adjust == "none":
        return r_h + 0.0 * r_i
    raise ValueError(f"unknown risk adjustment {adjust!r}")


def bs_util(sd: np.ndarray, r: np.ndarray) -> np.ndarray:
    """KTAB ``SMPModel::bsUtil``: utility of a salience-weighted distance ``sd`` for risk
    attitude ``r``: (1 - sd)(1 + sd r), or (1 - sd)(1 + r) past sd = 1."""
    u = (1 - sd) * (1 + sd * r)
    far = sd > 1
    if np.any(far):  # searches and round-off can drive sd > 1, slightly (KTAB's comment)
        u = np.where(far, (1 - sd) * (1 + r), u)
    return u


def weighted_distance(x_from: np.ndarray, x_to: np.ndarray, sal: np.ndarray) -> np.ndarray:
    """KTAB ``SMPModel::bvDiff``: sqrt(sum_k (s_k d_k)^2 / sum_k s_k^2); broadcasts over
    leading axes, last axis = issues. All-zero saliences give distance 0 (KTAB throws)."""
    ds = x_from - x_to
    if ds.shape == np.broadcast_shapes(ds.shape, sal.shape):  # in place: the same products
        ds *= sal
        ds *= ds
    else:
        ds = ds * sal
        ds = ds * ds
    num = ds.sum(axis=-1)
    den = (sal * sal).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.sqrt(num / den)
    return np.where(den > 0, out, 0.0)


def round4(x: np.ndarray) -> np.ndarray:
    """KTAB's ``round4`` in ``interpBrgnSnPm``: ``(int)(0.5 + 10000 x) / 10000``."""
    return np.trunc(0.5 + x * 10000.0) / 10000.0


def interpolate(
    method: str,
    t_i: np.ndarray,
    s_i: np.ndarray,
    p_i: np.ndarray,
    t_j: np.ndarray,
    s_j: np.ndarray,
    p_j: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """KTAB ``SMPActor::interpolateBrgn``: the bargain's positions for i and j, issue by
    issue; ``t`` positions, ``s`` saliences ``(..., d)``, ``p`` probabilities ``(..., 1)``."""
    min_w = 1e-6
    if method in ("s1p1", "s2p2"):
        e = 1 if method == "s1p1" else 2
        wik = (s_i**e) * (p_i**e)
        wjk = (s_j**e) * (p_j**e)
        b_i = round4(((wik + min_w) * t_i + wjk * t_j) / (wik + min_w + wjk))
        b_j = round4((wik * t_i + (min_w + wjk) * t_j) / (wik + min_w + wjk))
        return b_i, b_j
    if method == "s2pmax":
        di = np.where(p_j > p_i, p_j - p_i, 0.0)
        dj = np.where(p_i > p_j, p_i - p_j, 0.0)
        si2, sj2 = s_i * s_i, s_j * s_j
        dik = (di * sj2) / ((di * sj2) + min_w + ((1 - di) * si2))
        djk = (dj * si2) / ((dj * si2) + min_w + ((1 - dj) * sj2))
        return t_i + dik * (t_j - t_i), t_j + djk * (t_i - t_j)
    raise ValueError(f"unknown interpolation {method!r}")


def unique_indices(x: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """KTAB ``KBase::ueIndices`` with ``SMPState::equivNdx`` (Euclidean distance < tol):
    (indices of the first actor at each distinct position, each actor's group).

    The distances of all pairs are computed at once (the same bits as pair by pair: the
    same squares summed over the issues), then actors are scanned in order in plain
    Python, each joining the first distinct position within ``tol``."""
    n = len(x)
    near = (np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(axis=2)) < tol).tolist()
    uniq: list[int] = []
    group = np.empty(n, dtype=np.int64)
    for i in range(n):
        row = near[i]
        group[i] = next((g for g, u in enumerate(uniq) if row[u]), len(uniq))
        if group[i] == len(uniq):
            uniq.append(i)
    return np.array(uniq, dtype=np.int64), group
