"""Burden-sharing in alliances: the pure public-good model and the joint-product model.

Olson & Zeckhauser (1966), "An economic theory of alliances", *Review of Economics and
Statistics* 48(3): 266-279. Deterrence is a pure public good Q = sum_j q_j. Ally i with income
I_i chooses its defence q_i >= 0, consuming x_i = I_i - q_i, taking the others' q as given
(Nash-Cournot). With Cobb-Douglas preferences U_i = x_i^(1-beta) Q^beta the best reply is

    q_i = max(0, beta I_i - (1 - beta) Q_-i)                                        (1)

and in the Nash equilibrium every contributor has I_i > (1 - beta) Q / beta and

    q_i = I_i - (1 - beta) Q / beta,   Q = beta sum_{j in C} I_j / (beta + |C| (1 - beta))   (2)

so the burden q_i / I_i = 1 - (1 - beta) Q / (beta I_i) rises with income: the larger allies
bear a disproportionate share (the *exploitation hypothesis*), and small allies may free-ride
entirely.

Sandler (1977), "Impurity of defense: an application to the economics of alliances",
*Kyklos* 30(3): 443-460; Sandler & Hartley (1999) *The Political Economy of NATO*, ch. 2;
Sandler & Hartley (2001) *J. Economic Literature* 39(3): 869-896. Defence is a *joint
product*: each unit q_i yields the alliance-wide public good Q and an ally-specific private
benefit (here proportional to q_i, e.g. domestic security, disaster relief, colonial or
regional interests). With U_i = (1-beta-gamma) ln x_i + beta ln Q + gamma ln q_i the best
reply solves

    (1-beta-gamma) / (I_i - q_i) = beta / (q_i + Q_-i) + gamma / q_i                 (3)

(a quadratic in q_i; the positive root). The private benefit gamma > 0 keeps every ally
contributing and pulls burdens towards equality: as gamma grows relative to beta, the spread
of burdens between large and small allies narrows (in this deterministic model the ranks stay
ordered by income), so the observed size-burden correlation should weaken -- the
joint-product model's reading of NATO after the move to flexible response (Sandler & Hartley
1999, ch. 2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...core.errors import AllianceLabError


@dataclass(frozen=True)
class Equilibrium:
    """Nash equilibrium contributions ``q`` (same units as income), total ``Q``, burdens
    ``q / I`` and shares of the total ``q / Q``; ``iterations`` of the best-reply solver."""

    q: np.ndarray
    total: float
    burden: np.ndarray
    share: np.ndarray
    iterations: int


def _check(income: np.ndarray, beta: float, gamma: float = 0.0) -> np.ndarray:
    inc = np.asarray(income, dtype=float)
    if inc.ndim != 1 or len(inc) < 1 or (inc <= 0).any() or not np.isfinite(inc).all():
        raise AllianceLabError("incomes must be a non-empty vector of positive numbers")
    if not (0 < beta < 1 and 0 <= gamma < 1 and beta + gamma < 1):
        raise AllianceLabError("need 0 < beta, 0 <= gamma and beta + gamma < 1")
    return inc


def _finish(q: np.ndarray, inc: np.ndarray, it: int) -> Equilibrium:
    total = float(q.sum())
    share = q / total if total > 0 else np.full(len(q), 1.0 / len(q))
    return Equilibrium(q, total, q / inc, share, it)


def olson_zeckhauser(income: np.ndarray, beta: float) -> Equilibrium:
    """Nash equilibrium of the pure public-good alliance, eq. (2): the contributor set is the
    richest k allies for the largest k consistent with I_i > (1 - beta) Q / beta."""
    inc = _check(income, beta)
    order = np.argsort(-inc)
    q = np.zeros(len(inc))
    for k in range(len(inc), 0, -1):
        c = order[:k]
        total = beta * inc[c].sum() / (beta + k * (1 - beta))
        qc = inc[c] - (1 - beta) * total / beta
        if (qc > 0).all():
            q[c] = qc
            return _finish(q, inc, k)
    raise AssertionError("unreachable: the richest ally alone always contributes")


def best_reply_joint(income: float, others: float, beta: float, gamma: float) -> float:
    """Best reply of eq. (3) (eq. (1) when gamma = 0)."""
    if gamma == 0:
        return max(0.0, beta * income - (1 - beta) * others)
    alpha = 1 - beta - gamma
    # alpha q (q + O) = (I - q) (beta q + gamma (q + O))  ->  a q^2 + b q + c = 0
    a = alpha + beta + gamma
    b = alpha * others - income * (beta + gamma) + gamma * others
    c = -gamma * others * income
    disc = b * b - 4 * a * c
    return float((-b + np.sqrt(disc)) / (2 * a))


def joint_product(income: np.ndarray, beta: float, gamma: float, *, tol: float = 1e-12,
                  max_iter: int = 10_000) -> Equilibrium:
    """Nash equilibrium of the joint-product model by Gauss-Seidel best replies, eq. (3).
    With ``gamma = 0`` it coincides with :func:`olson_zeckhauser`."""
    inc = _check(income, beta, gamma)
    if gamma == 0:
        return olson_zeckhauser(inc, beta)
    q = (beta + gamma) * inc / len(inc)
    for it in range(1, max_iter + 1):
        prev = q.copy()
        for i in range(len(inc)):
            q[i] = best_reply_joint(inc[i], q.sum() - q[i], beta, gamma)
        if np.max(np.abs(q - prev)) <= tol * max(1.0, float(inc.max())):
            return _finish(q, inc, it)
    raise AllianceLabError("joint-product best replies did not converge")


def spearman_size_burden(income: np.ndarray, burden: np.ndarray) -> float:
    """Spearman rank correlation of size and burden (the exploitation-hypothesis statistic)."""
    from scipy import stats

    return float(stats.spearmanr(income, burden).statistic)
