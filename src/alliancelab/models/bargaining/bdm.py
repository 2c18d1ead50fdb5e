"""``bdm``: Bueno de Mesquita's expected-utility model following the equations of Scholz,
Calbert & Smith (2011), "Unravelling Bueno De Mesquita's group decision model" (JTP 23(4);
equation numbers of the ICAART 2011 version and its Appendix algorithm), which assembles
BDM (1985, 1994, 1997). Each issue is run on its own (the model is one-dimensional).

One round, for every actor's world of perceptions (see below):

* mu = the Condorcet winner of the pairwise votes (Appendix step 3, eq. 28-29): on a line
  with these linear votes, the c*s weighted median (midpoint of the median interval on a
  tie); R = x_max - x_min of the positions (``range_mode="current"``, default; "initial"
  keeps round 0's range, "scale" uses the issue's scale).
* Utilities of i facing j with exponent r (eqs. 15, 16, 22, 23, 24):
  U_s = 2 - 4(0.5 - 0.5 d_ij)^r, U_f = 2 - 4(0.5 + 0.5 d_ij)^r,
  U_b = 2 - 4(0.5 - 0.25(d_i,mu + d_ij))^r, U_w = 2 - 4(0.5 + 0.25(d_i,mu + d_ij))^r,
  U_sq = 2 - 4 (0.5)^r, distances divided by R. T = 1 iff |x_i - mu| < |x_i - x_j| (j's
  expected uncoerced move to mu helps i: cases 1 and 3A of Scholz figs. 1-4), else 0.
* P^i = sum_{k: arg > 0} c_k s_k arg / sum_k c_k s_k |arg|, arg = |x_k - x_j| - |x_k - x_i|
  (eqs. 30-31: linear votes, normalised per pair, so P^i + P^j = 1; 1/2 if nobody votes).
* E^i(U_ij) = s_j [P^i U_s + (1 - P^i) U_f] + (1 - s_j) U_s - Q U_sq
  - (1 - Q)[T U_b + (1 - T) U_w]  (eqs. 5-7, 25a), Q = 1 by default (Scholz's choice).
* Risk: first pass with every r = 1; Sec_i = sum_{j != i} E^i(U_ji) (eq. 34 as printed);
  R_i = (2 Sec_i - max - min)/(max - min), r_i = (1 - R_i/3)/(1 + R_i/3) (eqs. 33-34);
  second pass with these r: i's own utilities use r_i, and j's expected utility E^j(U_ji)
  uses r_j ("for expected utility equations with a j superscript, j's risk taking propensity
  is used", BDM 1985 p. 158, quoted by Scholz §3).
* Receiver i, proposer j, a = E^i(U_ij), b = E^j(U_ji) (fig. 6 from i's viewpoint):
  confrontation (a > 0, b > a): i moves to x_j; compromise (a < 0 < b, b > |a|):
  i moves to x_i + (x_j - x_i)|a/b| (eq. 36); capitulation / compel (a < 0 < b,
  |a| >= b): i moves to x_j; otherwise (stalemate, or i has the upper hand) i stays.
  The moves of j towards i are the same test made with j as the receiver.
* Offer selection (§6.2): a confrontation if any, else a compromise, else a capitulation;
  within the kind, the one that moves i least (``offer_selection="least-move"``) or the
  most enforceable one, largest E^j(U_ji) (``"enforceability"``); remaining ties as in
  :func:`._eu.select`. Everyone moves at once; ``rounds`` rounds (no stopping rule: Scholz
  et al. note that the model does not settle).

Perspective: where the case gives actor i's estimates of j (``Problem.perceived_position``,
``perceived_salience``, ``perceived_capability``, [i, j]), i's calculations -- the median,
range, probabilities, T and both expected utilities a and b of i's offers, and i's
security level -- are made in i's world: j's salience and capability as i estimates them,
and j's position displaced by i's initial misperception (estimate - truth at round 0,
carried along as j moves, clipped to the scale). i knows its own values; risk exponents and
the positions actors move to are the true ones. With no estimates every world is the true
one and the model is the plain one.

The forecast is the c*s weighted median of the final round's positions. docs/bdm.md lists
every difference from ``bdm-scholz`` (the reference code).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ...core.limits import checkpoint
from ...core.problem import Problem
from . import _eu
from .base import Engine, Outcome
from .median import weighted_median

RANGE_MODES = ("current", "initial", "scale")
#: per-round diagnostics of :meth:`BDM._issue` that hold an actor index or an offer code
_CODES = ("offer_type", "accepted", "proposer")


def _empty_diagnostics(rounds: int, n: int) -> dict[str, np.ndarray]:
    """The diagnostics of an issue on which nobody bargains: NaN, offer code 0 ("none")."""
    out: dict[str, np.ndarray] = {}
    for key in ("risk_exponent", "security", "accepted", "proposer"):
        out[key] = np.zeros((rounds, n), dtype=int) if key in _CODES else np.full(
            (rounds, n), np.nan)
    for key in ("probability", "eu_challenge", "eu_response", "offer_type"):
        out[key] = np.zeros((rounds, n, n), dtype=int) if key in _CODES else np.full(
            (rounds, n, n), np.nan)
    return out
SELECTIONS = ("least-move", "enforceability")


def _utilities(
    d: np.ndarray, dmu: np.ndarray, r: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """U_s, U_f, U_b, U_w, U_sq (eqs. 15, 16, 22, 23, 24) for normalised distances
    ``d`` (..., i, j), ``dmu`` (..., i, 1) = |x_i - mu|/R and row exponents ``r`` (..., i, 1)."""

    def u(base: np.ndarray) -> np.ndarray:
        return 2.0 - 4.0 * np.maximum(base, 0.0) ** r  # type: ignore[no-any-return]

    both = 0.25 * (dmu + d)
    return u(0.5 - 0.5 * d), u(0.5 + 0.5 * d), u(0.5 - both), u(0.5 + both), 2.0 - 4.0 * 0.5**r


def _world(
    x: np.ndarray, c: np.ndarray, s: np.ndarray, big_r: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per world (leading axis): distances d_ij/R, |x_i - mu|/R, P^i[i, j], T[i, j]."""
    w_ = c * s
    dead = w_.sum(axis=1) <= 0
    w_ = np.where(dead[:, None], np.where(c.sum(axis=1, keepdims=True) > 0, c, 1.0), w_)
    mu = weighted_median(x.T, w_.T)  # one median per world (column), in one call
    adx = np.abs(x[:, :, None] - x[:, None, :])  # (w, i, j)
    # arg[k, i, j] = |x_k - x_j| - |x_k - x_i| (votes of k for i against j, eq. 31)
    arg = adx[:, :, None, :] - adx[:, :, :, None]  # (w, k, i, j)
    wk = (c * s)[:, :, None, None]
    num = (wk * np.maximum(arg, 0.0)).sum(axis=1)
    den = (wk * np.abs(arg)).sum(axis=1)
    prob = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.5)
    dmu = np.abs(x - mu[:, None])
    tee = (dmu[:, :, None] < adx).astype(float)
    scale = big_r[:, None, None]
    return adx / scale, (dmu / big_r[:, None])[:, :, None], prob, tee


def _eu_matrix(
    d: np.ndarray,
    dmu: np.ndarray,
    prob: np.ndarray,
    tee: np.ndarray,
    s: np.ndarray,
    r: np.ndarray,
    q: float,
) -> np.ndarray:
    """E^i(U_ij)[w, i, j] (eq. 25a) with exponent ``r[w, i]`` for challenger i."""
    us, uf, ub, uw, usq = _utilities(d, dmu, r[:, :, None])
    sj = s[:, None, :]
    return (  # type: ignore[no-any-return]
        sj * (prob * us + (1.0 - prob) * uf)
        + (1.0 - sj) * us
        - q * usq
        - (1.0 - q) * (tee * ub + (1.0 - tee) * uw)
    )


class BDM(Engine):
    """Bueno de Mesquita's expected-utility model as the papers write it (Scholz et al. 2011).

    Options: ``rounds`` (10), ``q`` (probability of the status quo, 1.0), ``range_mode``
    ("current", "initial", "scale"), ``offer_selection`` ("least-move", "enforceability"),
    ``tie_tol`` (1e-14: expected utilities closer than this, and positions closer than this
    times the range, count as equal).
    """

    name = "bdm"
    min_actors = 2
    iterative = True

    def __init__(
        self,
        rounds: int = 10,
        q: float = 1.0,
        range_mode: str = "current",
        offer_selection: str = "least-move",
        tie_tol: float = 1e-14,
    ) -> None:
        self.rounds = _eu.check_rounds(rounds)
        self.q = _eu.check_unit(q, "q")
        self.range_mode = _eu.check_choice(range_mode, "range_mode", RANGE_MODES)
        self.offer_selection = _eu.check_choice(offer_selection, "offer_selection", SELECTIONS)
        self.tie_tol = _eu.check_tol(tie_tol)

    def _solve(self, problem: Problem, rng: np.random.Generator) -> Outcome:
        n, d = problem.position.shape
        per_issue = [self._participants(problem, k) for k in range(d)]
        rounds = np.stack([p[0] for p in per_issue], axis=-1)  # (R+1, n, d)
        rounds[0] = problem.position
        summary = _eu.summaries(rounds, problem.capability, problem.salience, problem.weight)
        diag = {key: np.stack([p[1][key] for p in per_issue], axis=-1) for key in per_issue[0][1]}
        offers = _eu.offer_list(
            rounds,
            problem.actors,
            problem.issues,
            diag.pop("accepted"),
            diag.pop("proposer"),
            diag["eu_challenge"],
            diag["eu_response"],
        )
        diagnostics: dict[str, Any] = {
            **summary,
            "forecast_rule": "c*s weighted median of the final round's positions",
            **diag,
            "offer_types": list(_eu.OFFER_TYPES),
            "offers": offers,
        }
        return Outcome(rounds=rounds, forecast=summary["median"][-1].copy(),
                       diagnostics=diagnostics)

    def _solve_batch(
        self, problems: Sequence[Problem], rngs: Sequence[np.random.Generator]
    ) -> np.ndarray:
        """The forecasts only: :meth:`_solve`'s rounds, but the summary of the final round
        alone and no offer list (the same functions on the same numbers, so the forecasts
        equal :meth:`_solve`'s bit for bit)."""
        d = problems[0].n_issues if problems else 0
        out = np.empty((len(problems), d))
        for r, problem in enumerate(problems):
            final = np.stack([self._participants(problem, k, record=False)[0][-1]
                              for k in range(d)], axis=-1)  # (n, d)
            ends = np.stack([problem.position, final])
            summary = _eu.summaries(ends, problem.capability, problem.salience, problem.weight)
            out[r] = summary["median"][-1]
        return out

    def _participants(
        self, problem: Problem, k: int, record: bool = True
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Issue ``k`` played by the actors with standing on it (:mod:`.arena`): their
        capabilities, and every estimate of them, times their arena weight. The others hold
        their positions and get empty diagnostics (NaN, offer code 0). ``record=False``:
        the rounds only, no diagnostics (an empty dict)."""
        idx = np.flatnonzero(problem.standing[:, k])
        n = problem.n_actors
        w = problem.weight[idx, k]
        c = problem.capability[idx] * w
        pcap = problem.perceived_capability[np.ix_(idx, idx)] * w[None, :]
        if len(idx) < 2:  # nobody to bargain with
            rounds = np.repeat(problem.position[None, :, k], self.rounds + 1, axis=0)
            return rounds, _empty_diagnostics(self.rounds, n) if record else {}
        x, diag = self._issue(problem, k, idx, c, pcap, record)
        if len(idx) == n:
            return x, diag
        rounds = np.repeat(problem.position[None, :, k], self.rounds + 1, axis=0)
        rounds[:, idx] = x
        if not record:
            return rounds, {}
        full = _empty_diagnostics(self.rounds, n)
        for key, value in diag.items():
            if value.ndim == 3:
                full[key][:, idx[:, None], idx[None, :]] = value
            else:
                full[key][:, idx] = idx[value] if key == "proposer" else value
        return rounds, full

    def _issue(
        self, problem: Problem, k: int, idx: np.ndarray, c: np.ndarray, pcap_k: np.ndarray,
        record: bool = True,
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        n = len(idx)
        tol = self.tie_tol
        x0 = problem.position[idx, k].astype(float)
        c = c.astype(float)
        s = problem.salience[idx, k].astype(float)
        eye = np.eye(n, dtype=bool)
        ppos = np.where(eye, x0[None, :], problem.perceived_position[np.ix_(idx, idx)][:, :, k])
        psal = np.where(eye, s[None, :], problem.perceived_salience[np.ix_(idx, idx)][:, :, k])
        pcap = np.where(eye, c[None, :], pcap_k)
        shared = (
            np.array_equal(ppos, np.broadcast_to(x0, (n, n)))
            and np.array_equal(psal, np.broadcast_to(s, (n, n)))
            and np.array_equal(pcap, np.broadcast_to(c, (n, n)))
        )
        if shared:  # one world, the true one
            delta, cw, sw = np.zeros((1, n)), c[None, :], s[None, :]
        else:  # one world per actor
            delta, cw, sw = ppos - x0[None, :], pcap, psal
        lo = min(float(problem.lower[k]), float(x0.min()))
        hi = max(float(problem.upper[k]), float(x0.max()))
        world_of = np.zeros(n, dtype=int) if shared else np.arange(n)
        x = x0.copy()
        r0 = np.ptp(np.clip(x0[None, :] + delta, lo, hi), axis=1)
        out = [x.copy()]
        rec: dict[str, list[np.ndarray]] = {
            key: []
            for key in ("risk_exponent", "security", "probability", "eu_challenge",
                        "eu_response", "offer_type", "accepted", "proposer")
        }
        scale_r = np.full(delta.shape[0], hi - lo)
        for _ in range(self.rounds):
            checkpoint()
            xw = np.clip(x[None, :] + delta, lo, hi)
            if self.range_mode == "current":
                big_r = np.ptp(xw, axis=1)
            elif self.range_mode == "initial":
                big_r = r0
            else:
                big_r = scale_r
            big_r = np.where(big_r > 0, big_r, 1.0)
            dist, dmu, prob, tee = _world(xw, cw, sw, big_r)
            # risk pass, every r = 1: Sec_i = sum_{j != i} E^i(U_ji) in i's world
            eu1 = _eu_matrix(dist, dmu, prob, tee, sw, np.ones_like(xw), self.q)
            own = eu1[world_of]  # (n, j, i): actor i's world
            sec = np.array([own[i, :, i].sum() - own[i, i, i] for i in range(n)])
            r = _eu.risk_exponent(sec, tol)
            # decision pass: challenger rows use their own r
            eu = _eu_matrix(dist, dmu, prob, tee, sw, np.broadcast_to(r, xw.shape), self.q)
            ew = eu[world_of]
            a = ew[np.arange(n), np.arange(n), :]  # a[i, j] = E^i(U_ij), i's world
            b = ew[np.arange(n), :, np.arange(n)]  # b[i, j] = E^j(U_ji), i's world
            p_own = prob[world_of][np.arange(n), np.arange(n), :]
            dx = x[None, :] - x[:, None]
            valid = dx != 0
            conf = valid & (a > tol) & (b > a + tol)
            comp = valid & (a < -tol) & (b > tol - a)
            capit = valid & (a < -tol) & (b > tol) & ~comp
            with np.errstate(divide="ignore", invalid="ignore"):
                frac = np.where(comp, np.abs(a) / np.where(comp, b, 1.0), 1.0)
            target = np.where(comp, x[:, None] + dx * frac, x[None, :])
            move = np.abs(target - x[:, None])
            tol_x = tol * float(np.ptp(x0) or 1.0)
            order = np.broadcast_to(np.arange(n), (n, n))
            new = x.copy()
            kind = np.zeros(n, dtype=int)
            who = np.zeros(n, dtype=int)
            for code, mask in ((_eu.CAPITULATION, capit), (_eu.COMPROMISE, comp),
                               (_eu.CONFRONTATION, conf)):
                if self.offer_selection == "least-move":
                    has, j = _eu.select(mask, move, b, target, order, tol_x, tol)
                else:
                    has, j = _eu.select(mask, -b, -move, target, order, tol_x, tol,
                                        tol_key=tol)
                new = np.where(has, target[np.arange(n), j], new)
                kind = np.where(has, code, kind)
                who = np.where(has, j, who)
            x = new
            out.append(x.copy())
            if not record:
                continue
            rec["risk_exponent"].append(r)
            rec["security"].append(sec)
            rec["probability"].append(p_own)
            rec["eu_challenge"].append(a)
            rec["eu_response"].append(b)
            rec["offer_type"].append(
                np.select([conf, comp, capit],
                          [_eu.CONFRONTATION, _eu.COMPROMISE, _eu.CAPITULATION], 0)
            )
            rec["accepted"].append(kind)
            rec["proposer"].append(who)
        return np.stack(out), {key: np.stack(v) for key, v in rec.items()} if record else {}
