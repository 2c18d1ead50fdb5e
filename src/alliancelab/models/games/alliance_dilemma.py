"""The alliance security dilemma (Snyder 1984) and the autonomy-security trade-off (Morrow 1991).

Snyder, G. H. (1984) "The security dilemma in alliance politics", *World Politics* 36(4):
461-495. Two allies each choose to commit strongly (C) or weakly (D) to the alliance -- the
*alliance game*, which Snyder likens to a Prisoner's Dilemma or, with strong mutual
dependence, an assurance game. The costs are *abandonment* (one commits, the partner does not:
"the ally may realign, ... fail to make good on its explicit commitments, or fail to provide
support in contingencies where support is expected") and *entrapment* (being dragged into a
conflict over an ally's interests that one does not share). Weakening one's commitment cuts
entrapment risk and raises abandonment risk; strengthening it does the reverse (pp. 466-468).
In the *adversary game* each ally stands firm toward or conciliates the common adversary;
firmness reassures the partner and deters, but risks provoking the adversary.

Payoffs used here (one row player's view, partner's move second):

    u(C, C) = b - k          mutual strong commitment: security b, cost k (incl. exposure)
    u(C, D) = -k - a         abandoned: the investment and the loss a of an unreliable ally
    u(D, C) = b - r          free ride on the partner's commitment, risking its reaction r
    u(D, D) = 0              weak alliance (reference)

With k, a >= 0, weak commitment is the best reply to a weak partner. If r < k, it is also the
best reply to a committed partner: Snyder's Prisoner's Dilemma (D dominant). If r > k, strong
commitment answers strong commitment: an assurance game with two pure equilibria and a
mixed one. Play is
computed as the logit quantal-response equilibrium on its principal branch (McKelvey &
Palfrey 1995, *Games and Economic Behavior* 10: 6-38), which is unique, smooth in the
parameters and tends to a Nash equilibrium as ``lam`` grows; :func:`nash_2x2` lists the exact
equilibria. ROK abandonment risk = P(US commits weakly); ROK entrapment risk = P(both commit
strongly) x P(the US is drawn into a conflict with an adversary Seoul does not fear equally).

Morrow, J. D. (1991) "Alliances and asymmetry: an alternative to the capability aggregation
model of alliances", *American Journal of Political Science* 35(4): 904-933. States value
security s and autonomy a; in an asymmetric alliance the minor power gives the major power
autonomy (bases, policy concessions) in exchange for security. With utility
U = ln s + gamma ln a (Morrow's convex indifference curves, here Cobb-Douglas) and a price of
``k`` units of security per unit of autonomy conceded, the minor power concedes

    x* = (k a0 - gamma s0) / (k (1 + gamma))     (0 if negative, < a0)

from the first-order condition k / (s0 + k x) = gamma / (a0 - x).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from ...core.errors import AllianceLabError


def nash_2x2(a: np.ndarray, b: np.ndarray) -> list[tuple[float, float]]:
    """All Nash equilibria of a 2x2 bimatrix game as (P(row plays 0), P(col plays 0))."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    eq: list[tuple[float, float]] = []
    for i in range(2):
        for j in range(2):
            if a[i, j] >= a[1 - i, j] and b[i, j] >= b[i, 1 - j]:
                eq.append((1.0 - i, 1.0 - j))
    # fully mixed: row mixes to make column indifferent and vice versa
    den_p = b[0, 0] - b[0, 1] - b[1, 0] + b[1, 1]
    den_q = a[0, 0] - a[1, 0] - a[0, 1] + a[1, 1]
    if den_p != 0 and den_q != 0:
        p = (b[1, 1] - b[1, 0]) / den_p
        q = (a[1, 1] - a[0, 1]) / den_q
        if 0 < p < 1 and 0 < q < 1:
            eq.append((float(p), float(q)))
    return eq


def logit_qre_2x2(a: np.ndarray, b: np.ndarray, lam: float, steps: int = 25
                  ) -> tuple[float, float]:
    """Principal-branch logit QRE (P(row 0), P(col 0)) traced from lam = 0."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    scale = max(np.ptp(a), np.ptp(b), 1e-12)
    a, b = a / scale, b / scale

    def resid(x: np.ndarray, lm: float) -> np.ndarray:
        p, q = 1 / (1 + np.exp(-x[0])), 1 / (1 + np.exp(-x[1]))
        du_row = q * (a[0, 0] - a[1, 0]) + (1 - q) * (a[0, 1] - a[1, 1])
        du_col = p * (b[0, 0] - b[0, 1]) + (1 - p) * (b[1, 0] - b[1, 1])
        return np.array([x[0] - lm * du_row, x[1] - lm * du_col])

    r0, r1 = float(a[0, 0] - a[1, 0]), float(a[0, 1] - a[1, 1])
    c0, c1 = float(b[0, 0] - b[0, 1]), float(b[1, 0] - b[1, 1])
    x = np.zeros(2)
    for lm in np.linspace(0, lam, steps + 1)[1:]:
        nx = _newton_2x2(x, float(lm), r0, r1, c0, c1)
        x = nx if nx is not None else optimize.root(resid, x, args=(lm,), method="hybr",
                                                    tol=1e-12).x
    return float(1 / (1 + np.exp(-x[0]))), float(1 / (1 + np.exp(-x[1])))


def _newton_2x2(x: np.ndarray, lm: float, r0: float, r1: float, c0: float, c1: float,
                tol: float = 1e-13, max_iter: int = 50) -> np.ndarray | None:
    """The logit QRE's fixed point x = lm * (gains of row 0 and col 0) near ``x`` (logits)
    by Newton's method with the exact 2 x 2 Jacobian: gain of row 0 = q r0 + (1 - q) r1,
    of col 0 = p c0 + (1 - p) c1 (p, q the logistic of x). None when it does not
    converge (the caller then uses ``scipy.optimize.root``)."""
    x0, x1 = float(x[0]), float(x[1])
    for _ in range(max_iter):
        try:
            p, q = 1 / (1 + math.exp(-x0)), 1 / (1 + math.exp(-x1))
        except OverflowError:
            return None
        f0 = x0 - lm * (q * r0 + (1 - q) * r1)
        f1 = x1 - lm * (p * c0 + (1 - p) * c1)
        j01 = -lm * (r0 - r1) * q * (1 - q)  # d f0 / d x1 (d f0 / d x0 = 1)
        j10 = -lm * (c0 - c1) * p * (1 - p)  # d f1 / d x0 (d f1 / d x1 = 1)
        det = 1.0 - j01 * j10
        if not math.isfinite(det) or abs(det) < 1e-12:
            return None
        d0, d1 = (f0 - j01 * f1) / det, (f1 - j10 * f0) / det
        x0, x1 = x0 - d0, x1 - d1
        if max(abs(d0), abs(d1)) <= tol * (1.0 + max(abs(x0), abs(x1))):
            return np.array([x0, x1])
    return None


@dataclass(frozen=True)
class AllyPayoffs:
    """One ally's stakes in Snyder's alliance game (see module docstring)."""

    benefit: float  # b: security from the partner's strong commitment
    cost: float  # k: cost of one's own strong commitment (incl. entrapment exposure)
    abandonment_loss: float  # a: extra loss when one commits and the partner does not
    reaction: float  # r: cost of free-riding on a committed partner (its resentment)

    def matrix(self) -> np.ndarray:
        """Payoffs indexed [own move, partner move], move 0 = C (strong), 1 = D (weak)."""
        b, k, a, r = self.benefit, self.cost, self.abandonment_loss, self.reaction
        return np.array([[b - k, -k - a], [b - r, 0.0]])


@dataclass(frozen=True)
class DilemmaResult:
    p_commit_rok: float
    p_commit_us: float
    abandonment: float
    entrapment: float
    equilibria: tuple[tuple[float, float], ...]
    game: str


def alliance_game(rok: AllyPayoffs, us: AllyPayoffs, conflict_propensity: float,
                  lam: float = 4.0) -> DilemmaResult:
    """Snyder's alliance game between ROK (row) and the US (column).

    ``conflict_propensity`` (0-1): chance that the US is drawn into a conflict with an
    adversary Seoul does not fear equally -- the occasion for entrapment."""
    if not 0.0 <= conflict_propensity <= 1.0:
        raise AllianceLabError("conflict propensity must lie in [0, 1]")
    a = rok.matrix()
    b = us.matrix().T  # column player's payoffs indexed [row move, col move]
    p, q = logit_qre_2x2(a, b, lam)
    eqs = tuple(nash_2x2(a, b))
    pure = [e for e in eqs if e[0] in (0.0, 1.0) and e[1] in (0.0, 1.0)]
    kind = ("prisoners-dilemma" if pure == [(0.0, 0.0)] else
            "assurance" if len(pure) == 2 else "other")
    return DilemmaResult(p, q, 1.0 - q, p * q * conflict_propensity, eqs, kind)


def adversary_game_firmness(threat: float, provocation: float, lam: float = 4.0) -> float:
    """Snyder's adversary game reduced to one ally's choice: stand firm (deters the threat,
    value ``threat``) or conciliate (avoids provoking, value ``provocation``); the logit
    choice probability of firmness, P = 1 / (1 + exp(-lam (threat - provocation)))."""
    return float(1.0 / (1.0 + np.exp(-lam * (threat - provocation))))


def morrow_concession(s0: float, a0: float, price: float, gamma: float) -> tuple[float, float]:
    """Minor power's optimal autonomy concession x* and the security it gains (k x*),
    Morrow (1991) trade-off with U = ln s + gamma ln a (see module docstring)."""
    if min(s0, a0, price, gamma) <= 0:
        raise AllianceLabError("Morrow trade-off needs positive s0, a0, price and gamma")
    x = (price * a0 - gamma * s0) / (price * (1.0 + gamma))
    x = min(max(x, 0.0), a0)
    return x, price * x


def morrow_gain(s0: float, a0: float, price: float, gamma: float) -> float:
    """Utility gain of the minor power from the asymmetric alliance (>= 0 by construction)."""
    x, ds = morrow_concession(s0, a0, price, gamma)
    return float(np.log(s0 + ds) + gamma * np.log(a0 - x) - np.log(s0) - gamma * np.log(a0))
