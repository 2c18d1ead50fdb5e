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

Computation: an issue's rounds run at once for all the problems of a batch whose actors
with standing on it are the same (``solve_batch``, e.g. the Monte Carlo draws of a case;
problems on a leading axis); of actor i's world only the pairs that i's calculations use
are computed (i facing j, j facing i), and the problems in which nobody misperceives play
in the one true world. Every number is computed as for the problem alone (the same
operations, each sum over the same axis in the same order), so a forecast does not depend
on the batch it is solved in, to the last bit. Problems of a batch with the same inputs on
an issue (every bit: the scenarios of a case mostly leave an issue as the baseline has it)
play it once, and each gets those rounds.

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
from .arena import hull, weights
from .base import Engine, Outcome
from .median import weighted_median

RANGE_MODES = ("current", "initial", "scale")
#: per-round diagnostics of :meth:`BDM._bargain` that hold an actor index or an offer code
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
    """U_s, U_f, U_b, U_w, U_sq (eqs. 15, 16, 22, 23, 24) for normalised distances ``d``
    = |x_i - x_j|/R, ``dmu`` = |x_i - mu|/R and challenger exponents ``r`` (broadcast)."""

    def u(base: np.ndarray) -> np.ndarray:
        return 2.0 - 4.0 * np.maximum(base, 0.0) ** r  # type: ignore[no-any-return]

    both = 0.25 * (dmu + d)
    return u(0.5 - 0.5 * d), u(0.5 + 0.5 * d), u(0.5 - both), u(0.5 + both), 2.0 - 4.0 * 0.5**r


def _expected(
    d: np.ndarray, dmu: np.ndarray, prob: np.ndarray, tee: np.ndarray, sj: np.ndarray,
    r: np.ndarray, q: float,
) -> np.ndarray:
    """E^i(U_ij) (eq. 25a) element by element (arguments broadcast): challenger i's
    distance terms ``d``, ``dmu``, probability, T and exponent, j's salience ``sj``."""
    us, uf, ub, uw, usq = _utilities(d, dmu, r)
    return (  # type: ignore[no-any-return]
        sj * (prob * us + (1.0 - prob) * uf)
        + (1.0 - sj) * us
        - q * usq
        - (1.0 - q) * (tee * ub + (1.0 - tee) * uw)
    )


#: what :func:`_views` gives per pair: d/R, |x_i - mu|/R, P^i, T, each ``(B, i, j)``
_View = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _median(x: np.ndarray, c: np.ndarray, s: np.ndarray) -> np.ndarray:
    """mu, the c*s weighted median of every world (last axis: the actors); by capability,
    then equally, in a world where nobody has weight."""
    w_ = c * s
    dead = w_.sum(axis=-1) <= 0
    w_ = np.where(dead[..., None], np.where(c.sum(axis=-1, keepdims=True) > 0, c, 1.0), w_)
    return weighted_median(np.moveaxis(x, -1, 0), np.moveaxis(w_, -1, 0))


def _share(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """P = num / den, 1/2 where nobody votes (eq. 30)."""
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.5)  # type: ignore[no-any-return]


def _views(
    x: np.ndarray, c: np.ndarray, s: np.ndarray, big_r: np.ndarray
) -> tuple[_View, _View]:
    """Actor i's own world i (``x``, ``c``, ``s`` ``(B, i, n)``: world i's positions, ...;
    ``big_r`` ``(B, i)``), the pairs that i's calculations use: i facing j (``row[b, i, j]``)
    and j facing i (``col[b, i, j]``). Every number as if the whole world were computed:
    the votes summed over the voters k in order, on an axis that is not the last. One world
    ``(B, 1, n)``: the true one of everybody (:func:`_one_world`)."""
    if x.shape[-2] == 1:
        return _one_world(x[:, 0], c[:, 0], s[:, 0], big_r[:, 0])
    n = x.shape[-1]
    ar = np.arange(n)
    mu = _median(x, c, s)  # (B, i)
    adx = np.ascontiguousarray(np.abs(x[..., :, None] - x[..., None, :]))  # [b, w, k, j]
    to_me = np.abs(x - x[..., ar, ar][..., None])  # [b, w, k] = |x_k - x_w| in world w
    wk = (c * s)[..., None]  # voter k's weight, [b, w, k, 1]
    # arg = |x_k - x_j| - |x_k - x_i| (eq. 31) for i = w (row) and for j = w (column)
    arg_row = np.ascontiguousarray(adx - to_me[..., None])
    arg_col = np.ascontiguousarray(to_me[..., None] - adx)
    den = (wk * np.abs(arg_row)).sum(axis=-2)  # |arg| is the same for both (exactly)
    p_row = _share((wk * np.maximum(arg_row, 0.0)).sum(axis=-2), den)
    p_col = _share((wk * np.maximum(arg_col, 0.0)).sum(axis=-2), den)
    dmu = np.abs(x - mu[..., None])  # [b, w, i]
    d_row = adx[..., ar, ar, :]  # |x_w - x_j|
    t_row = (dmu[..., ar, ar][..., None] < d_row).astype(float)
    t_col = (dmu < to_me).astype(float)
    scale = big_r[..., None]
    row = (d_row / scale, (dmu[..., ar, ar] / big_r)[..., None], p_row, t_row)
    return row, (to_me / scale, dmu / scale, p_col, t_col)


def _one_world(
    x: np.ndarray, c: np.ndarray, s: np.ndarray, big_r: np.ndarray
) -> tuple[_View, _View]:
    """:func:`_views` when everyone's world is the true one (``x``, ``c``, ``s`` ``(B, n)``,
    ``big_r`` ``(B,)``): its pairs (i, j), the same numbers, computed once."""
    mu = _median(x, c, s)  # (B,)
    adx = np.abs(x[:, :, None] - x[:, None, :])  # [b, i, j]
    arg = adx[:, :, None, :] - adx[:, :, :, None]  # [b, k, i, j]
    wk = (c * s)[:, :, None, None]
    prob = _share((wk * np.maximum(arg, 0.0)).sum(axis=1), (wk * np.abs(arg)).sum(axis=1))
    dmu = np.abs(x - mu[:, None])
    tee = (dmu[:, :, None] < adx).astype(float)
    d = adx / big_r[:, None, None]
    dm = dmu / big_r[:, None]
    row = (d, dm[:, :, None], prob, tee)
    return row, (d.transpose(0, 2, 1), dm[:, None, :], prob.transpose(0, 2, 1),
                 tee.transpose(0, 2, 1))


#: x0 ``(B, n)``; displacement, capabilities, saliences per world ``(B, i, j)``; lo, hi;
#: whether nobody misperceives ``(B,)``
_Issue = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
               np.ndarray]


def _security(col: _View, s_own: np.ndarray, q: float) -> np.ndarray:
    """Sec_i = sum_{j != i} E^j(U_ji) in i's world, every r = 1 (eq. 34 as printed), from
    :func:`_views`' columns ``(B, i, j)`` and s_i ``(B, i, 1)``: the sum over j along the
    last axis of a contiguous array (NumPy's pairwise order, as for one column alone)."""
    n = s_own.shape[1]
    own = np.ascontiguousarray(_expected(*col, s_own, np.ones((1, 1, n)), q))
    return own.sum(axis=-1) - own[:, np.arange(n), np.arange(n)]  # type: ignore[no-any-return]


class _Stack:
    """Problems with the same actors and issues as arrays, problems on a leading axis."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        def of(name: str) -> np.ndarray:
            return np.stack([np.asarray(getattr(p, name)) for p in problems])

        self.capability, self.position, self.salience = (
            of("capability"), of("position"), of("salience"))
        self.weight, self.lower, self.upper = of("weight"), of("lower"), of("upper")
        self.ppos, self.psal, self.pcap = (
            of("perceived_position"), of("perceived_salience"), of("perceived_capability"))

    def issue(self, rows: np.ndarray, k: int, idx: np.ndarray) -> _Issue:
        """Issue ``k`` of problems ``rows`` among the actors ``idx``: true positions, and
        per actor world the displacement of positions, capabilities, saliences ``(B, i, j)``
        (the true ones for everyone in a problem without misperceptions on ``k``); the
        scale ends and whether nobody misperceives ``(B,)``. Capabilities times the arena
        weight, as estimated too."""
        b, i, j = rows[:, None, None], idx[None, :, None], idx[None, None, :]
        w = self.weight[rows[:, None], idx[None, :], k]
        c = (self.capability[rows[:, None], idx[None, :]] * w).astype(float)
        pcap_k = self.pcap[b, i, j] * w[:, None, :]
        x0 = self.position[rows[:, None], idx[None, :], k].astype(float)
        s = self.salience[rows[:, None], idx[None, :], k].astype(float)
        eye = np.eye(len(idx), dtype=bool)
        ppos = np.where(eye, x0[:, None, :], self.ppos[b, i, j, k])
        psal = np.where(eye, s[:, None, :], self.psal[b, i, j, k])
        pcap = np.where(eye, c[:, None, :], pcap_k)
        shared = (
            np.all(ppos == x0[:, None, :], axis=(1, 2))
            & np.all(psal == s[:, None, :], axis=(1, 2))
            & np.all(pcap == c[:, None, :], axis=(1, 2))
        )[:, None, None]
        delta = np.where(shared, 0.0, ppos - x0[:, None, :])
        cw = np.where(shared, c[:, None, :], pcap)
        sw = np.where(shared, s[:, None, :], psal)
        lower, upper = self.lower[rows, k].astype(float), self.upper[rows, k].astype(float)
        x_lo, x_hi = x0.min(axis=1), x0.max(axis=1)
        lo = np.where(x_lo < lower, x_lo, lower)  # as min(lower, x_lo), -0.0 included
        hi = np.where(x_hi > upper, x_hi, upper)
        return x0, delta, cw, sw, lo, hi, shared[:, 0, 0]


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
        stack = _Stack([problem])
        per_issue = [self._participants(problem, stack, k) for k in range(d)]
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
        """The forecasts only: :meth:`_solve`'s rounds, but each issue played for all the
        problems whose actors with standing on it are the same at once (:meth:`_bargain`),
        and only the final round's median (the same numbers per problem, so the forecasts
        equal :meth:`_solve`'s bit for bit, however the problems are batched)."""
        if not problems:
            return np.empty((0, 0))
        stack = _Stack(problems)
        final = stack.position.astype(float)  # (N, n, d); non-participants hold
        wts = np.stack([weights(p.capability, p.salience, p.weight) for p in problems])
        standing = stack.weight > 0
        out = np.empty(final.shape[::2])
        for k in range(final.shape[2]):
            for rows, idx in _groups(standing[:, :, k]):
                if len(idx) >= 2:
                    issue = stack.issue(rows, k, idx)
                    first, copies = _distinct(issue)
                    if len(first) < len(rows):
                        issue = _issue_rows(issue, first)
                    x = self._play(issue, record=False)[0]
                    final[rows[:, None], idx[None, :], k] = x[copies, -1]
                sub = (rows[:, None], idx[None, :], k)
                out[rows, k] = weighted_median(final[sub].T, wts[sub].T)
        lo, hi = hull(stack.position, standing)
        return np.clip(out, lo, hi)  # type: ignore[no-any-return]

    def _participants(
        self, problem: Problem, stack: _Stack, k: int
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Issue ``k`` played by the actors with standing on it (:mod:`.arena`): their
        capabilities, and every estimate of them, times their arena weight. The others hold
        their positions and get empty diagnostics (NaN, offer code 0)."""
        idx = np.flatnonzero(problem.standing[:, k])
        n = problem.n_actors
        rounds = np.repeat(problem.position[None, :, k], self.rounds + 1, axis=0)
        if len(idx) < 2:  # nobody to bargain with
            return rounds, _empty_diagnostics(self.rounds, n)
        x, diag = self._play(stack.issue(np.zeros(1, dtype=int), k, idx), record=True)
        if len(idx) == n:
            rounds = x[0]
        else:
            rounds[:, idx] = x[0]
        full = _empty_diagnostics(self.rounds, n)
        for key, value in diag.items():
            if value.ndim == 4:
                full[key][:, idx[:, None], idx[None, :]] = value[0]
            else:
                full[key][:, idx] = idx[value[0]] if key == "proposer" else value[0]
        return rounds, full

    def _play(
        self, issue: _Issue, record: bool
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """:meth:`_bargain` for the problems of ``issue`` (:meth:`_Stack.issue`), those in
        which nobody misperceives in one world (the same numbers, computed once)."""
        x0, delta, cw, sw, lo, hi, shared = issue
        parts = [(m, w) for m, w in ((shared, 1), (~shared, x0.shape[1])) if m.any()]
        done = [self._bargain(x0[m], delta[m, :w], cw[m, :w], sw[m, :w], lo[m], hi[m], record)
                for m, w in parts]
        if len(done) == 1:
            return done[0]
        rounds = np.empty((len(x0), *done[0][0].shape[1:]))
        diag: dict[str, np.ndarray] = {}
        for (m, _), (x, dg) in zip(parts, done, strict=True):
            rounds[m] = x
            for key, value in dg.items():
                diag.setdefault(key, np.empty((len(x0), *value.shape[1:]), value.dtype))[m] = value
        return rounds, diag

    def _bargain(
        self, x0: np.ndarray, delta: np.ndarray, cw: np.ndarray, sw: np.ndarray,
        lo: np.ndarray, hi: np.ndarray, record: bool = True,
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """One issue for B problems at once (the arrays of :meth:`_Stack.issue`): the
        rounds ``(B, R+1, n)`` and, when ``record``, the diagnostics ``(B, R, n[, n])``
        (else an empty dict). One world per actor, i's world in row i (``(B, n, n)``), or
        one for all (``(B, 1, n)``)."""
        n = x0.shape[1]
        tol = self.tie_tol
        lo3, hi3 = lo[:, None, None], hi[:, None, None]
        r0 = np.ptp(np.clip(x0[:, None, :] + delta, lo3, hi3), axis=-1)
        scale_r = np.broadcast_to((hi - lo)[:, None], r0.shape)
        span = np.ptp(x0, axis=1)
        tol_x = (tol * np.where(span != 0, span, 1.0))[:, None, None]
        x = x0.copy()
        out = [x.copy()]
        rec: dict[str, list[np.ndarray]] = {key: [] for key in _RECORDED}
        eye = np.arange(n)
        for _ in range(self.rounds):
            checkpoint()
            xw = np.clip(x[:, None, :] + delta, lo3, hi3)
            if self.range_mode == "current":
                big_r = np.ptp(xw, axis=-1)
            else:
                big_r = r0 if self.range_mode == "initial" else scale_r
            row, col = _views(xw, cw, sw, np.where(big_r > 0, big_r, 1.0))
            s_own = np.broadcast_to(sw, (len(x), n, n))[:, eye, eye][..., None]  # s_i, i's world
            sec = _security(col, s_own, self.q)
            r = _eu.risk_exponent(sec, tol)
            # decision pass: challengers use their own r (i in row, j in column)
            a = _expected(*row, sw, r[:, :, None], self.q)  # a[i, j] = E^i(U_ij)
            if delta.shape[1] == 1:  # one world: b[i, j] = E^j(U_ji) = a[j, i], the same numbers
                b = a.transpose(0, 2, 1)
            else:
                b = _expected(*col, s_own, r[:, None, :], self.q)  # b[i, j] = E^j(U_ji)
            x, moves = self._moves(x, a, b, tol_x)
            out.append(x.copy())
            if record:
                for key, value in zip(_RECORDED, (r, sec, row[2], a, b, *moves), strict=True):
                    rec[key].append(value)
        return np.stack(out, axis=1), (
            {key: np.stack(v, axis=1) for key, v in rec.items()} if record else {})

    def _moves(
        self, x: np.ndarray, a: np.ndarray, b: np.ndarray, tol_x: np.ndarray
    ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Everyone's new position ``(B, i)`` from a = E^i(U_ij), b = E^j(U_ji) ``(B, i, j)``
        (fig. 6, §6.2), and the offer kinds, accepted kinds and proposers."""
        tol = self.tie_tol
        n = x.shape[1]
        dx = x[:, None, :] - x[:, :, None]
        valid = dx != 0
        conf = valid & (a > tol) & (b > a + tol)
        comp = valid & (a < -tol) & (b > tol - a)
        capit = valid & (a < -tol) & (b > tol) & ~comp
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.where(comp, np.abs(a) / np.where(comp, b, 1.0), 1.0)
        target = np.where(comp, x[:, :, None] + dx * frac, x[:, None, :])
        move = np.abs(target - x[:, :, None])
        order = np.broadcast_to(np.arange(n), a.shape)
        new = x.copy()
        kind = np.zeros(x.shape, dtype=int)
        who = np.zeros(x.shape, dtype=int)
        for code, mask in ((_eu.CAPITULATION, capit), (_eu.COMPROMISE, comp),
                           (_eu.CONFRONTATION, conf)):
            if self.offer_selection == "least-move":
                has, j = _eu.select(mask, move, b, target, order, tol_x, tol)
            else:
                has, j = _eu.select(mask, -b, -move, target, order, tol_x, tol, tol_key=tol)
            new = np.where(has, np.take_along_axis(target, j[..., None], axis=-1)[..., 0], new)
            kind = np.where(has, code, kind)
            who = np.where(has, j, who)
        offered = np.select([conf, comp, capit],
                            [_eu.CONFRONTATION, _eu.COMPROMISE, _eu.CAPITULATION], 0)
        return new, (offered, kind, who)


#: the per-round diagnostics of :meth:`BDM._bargain`, in the order it records them
_RECORDED = ("risk_exponent", "security", "probability", "eu_challenge", "eu_response",
             "offer_type", "accepted", "proposer")


def _distinct(issue: _Issue) -> tuple[np.ndarray, np.ndarray]:
    """The problems of ``issue`` (:meth:`_Stack.issue`) whose arrays differ from every
    earlier one's in some bit (``first``), and for each problem the one of those with its
    very arrays (``copies``, positions in ``first``). :meth:`BDM._play` plays an issue from
    these arrays alone, the same way in any batch (module docstring), so playing the first
    of each set of copies gives every copy its numbers: the effects' scenarios mostly leave
    an issue as the baseline has it."""
    n = len(issue[0])
    key = np.concatenate([np.ascontiguousarray(a, dtype=float).reshape(n, -1) for a in issue],
                         axis=1)
    seen: dict[bytes, int] = {}  # a problem's bits (-0.0 is not 0.0) -> its set
    copies = np.array([seen.setdefault(row.tobytes(), len(seen)) for row in key])
    first = np.unique(copies, return_index=True)[1]  # sets are numbered as first met
    return first, copies


def _issue_rows(issue: _Issue, rows: np.ndarray) -> _Issue:
    """The problems ``rows`` of ``issue``."""
    x0, delta, cw, sw, lo, hi, shared = issue
    return (x0[rows], delta[rows], cw[rows], sw[rows], lo[rows], hi[rows], shared[rows])


def _groups(standing: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """The problems (rows of ``standing`` ``(N, n)``) with the same actors with standing:
    (their row indices, those actors' indices), in order of first appearance."""
    by: dict[bytes, list[int]] = {}
    for row, mask in enumerate(standing):
        by.setdefault(mask.tobytes(), []).append(row)
    return [(np.array(rows), np.flatnonzero(standing[rows[0]])) for rows in by.values()]
