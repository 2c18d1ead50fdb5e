"""Multi-round dynamics: perceptions -> positions -> bargaining -> outcomes -> perceptions.

One simulation round ``t = 1..T`` (docs/dynamics.md has the derivation and the literature):

1. **Interventions** (shocks and levers named in ``interventions``) take effect at their
   ``at_round`` (default 1): from then on the case is the intervened one, and its perceptions
   and misestimates enter as a jump; round 0 is always the case as written.
2. **Feedback** (``case.feedback``, outcome -> perception): for every feedback entry,
   ``P[i, p] += weight * (y[t-1, k] - y[t-2, k]) / width_k`` for the listed actors (the
   outcome's move in the previous round, in scale widths).
3. **Consultation** (``dynamics.threat_convergence`` = c): every ``threats.*`` perception of
   the actors of the case's two ``sides`` moves the fraction c toward the
   allies' capability-weighted mean. Perceptions are clipped to 0-1.
4. **Learning** (``dynamics.estimate_learning`` = l): each actor's misestimate of another's
   position and salience (``perceptions.estimates`` minus the truth) shrinks by the factor
   ``1 - l`` (Fearon 1995: bargaining reveals private information).
5. **Links** (``case.links``, perception -> position): ideal positions are the (intervened)
   case positions plus ``width_k * sum(weight * (P[t, i, p] - P[0, i, p]))`` over the links
   that apply to actor i, clipped to the scale.
6. **Bargaining**: the chosen engine forecasts the outcome ``f_t`` from the ideal positions
   (with each actor's perceived positions ``X[j] + E[i, j]`` for the engines that use them),
   and the outcome adjusts partially (``dynamics.adjustment_speed`` = lambda):
   ``y[t] = y[t-1] + lambda * (f_t - y[t-1])``; ``y[0]`` is the status quo (the round-0
   forecast where an issue has none).

Indicators (``case.indicators``) are evaluated on the whole trajectory afterwards. Every
parameter comes from the case; when a case gives none the neutral value applies (no
consultation, no learning, lambda = 1: the outcome jumps to the forecast; 10 rounds).
Everything runs on numpy arrays; the pydantic case is read once per call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ..core.case import Case, IndicatorTerm
from ..core.errors import AllianceLabError
from ..core.rng import RngLike, make_rng
from .bargaining import Problem, engine_class

__all__ = ["NEUTRAL", "Simulation", "simulate"]

#: Parameters that switch a mechanism off, used when a case does not set them.
NEUTRAL: dict[str, float] = {
    "rounds": 10,
    "adjustment_speed": 1.0,
    "threat_convergence": 0.0,
    "estimate_learning": 0.0,
}


@dataclass(frozen=True)
class Simulation:
    """A simulated trajectory.

    ``positions`` ``(T+1, n, d)`` are the actors' ideal positions per round (moved by their
    perceptions); ``outcomes`` ``(T+1, d)`` the bargained outcome per round; ``forecasts``
    ``(T+1, d)`` the engine's forecast on that round's positions; ``perceptions`` maps
    ``"threats.dprk"``, ``"threats.china"``, ``"partner_reliability"`` (and any other
    perception in the case) to ``(T+1, n)`` arrays (NaN where an actor has none);
    ``indicators`` maps each indicator of the case to a ``(T+1,)`` array; ``parameters`` are
    the dynamics parameters in force at the end, ``schedule`` the round at which each
    intervention took effect.
    """

    case_name: str
    model: str
    actors: tuple[str, ...]
    issues: tuple[str, ...]
    interventions: tuple[str, ...]
    positions: np.ndarray
    outcomes: np.ndarray
    perceptions: dict[str, np.ndarray]
    indicators: dict[str, np.ndarray]
    seed: int | None = None
    groups: tuple[str | None, ...] = ()
    forecasts: np.ndarray | None = None
    parameters: dict[str, float] = field(default_factory=dict)
    schedule: dict[str, int] = field(default_factory=dict)

    @property
    def n_rounds(self) -> int:
        return int(self.outcomes.shape[0]) - 1

    def final_outcomes(self) -> dict[str, float]:
        """The last round's outcome per issue."""
        return {k: float(v) for k, v in zip(self.issues, self.outcomes[-1], strict=True)}

    def final_indicators(self) -> dict[str, float]:
        """The last round's value of every indicator."""
        return {k: float(v[-1]) for k, v in self.indicators.items()}

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: columns round, kind (outcome, position, perception, indicator), actor
        (empty for outcomes and indicators), item (issue, perception or indicator), value."""
        t1, n, d = self.positions.shape
        rounds = np.arange(t1)
        parts = [
            pd.DataFrame({
                "round": np.repeat(rounds, d), "kind": "outcome", "actor": "",
                "item": np.tile(self.issues, t1), "value": self.outcomes.reshape(-1),
            }),
            pd.DataFrame({
                "round": np.repeat(rounds, n * d), "kind": "position",
                "actor": np.tile(np.repeat(self.actors, d), t1),
                "item": np.tile(self.issues, t1 * n), "value": self.positions.reshape(-1),
            }),
        ]
        for key, arr in self.perceptions.items():
            parts.append(pd.DataFrame({
                "round": np.repeat(rounds, n), "kind": "perception",
                "actor": np.tile(self.actors, t1), "item": key, "value": arr.reshape(-1),
            }))
        for key, arr in self.indicators.items():
            parts.append(pd.DataFrame({
                "round": rounds, "kind": "indicator", "actor": "", "item": key, "value": arr,
            }))
        return pd.concat(parts, ignore_index=True)


# -- compiled arrays -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Arrays:
    problem: Problem
    groups: tuple[str | None, ...]
    keys: tuple[str, ...]  # perception keys
    perception: np.ndarray  # (n, m), NaN where missing
    est_pos: np.ndarray  # (n, n, d) misestimate of positions (estimate - truth)
    est_sal: np.ndarray  # (n, n, d)
    link_w: np.ndarray  # (m, n, d)
    feedback_w: np.ndarray  # (d, n, m)
    params: dict[str, float]


def _perception_keys(cases: Sequence[Case]) -> tuple[str, ...]:
    keys = ["threats.dprk", "threats.china", "partner_reliability"]
    for case in cases:
        for actor in case.actors:
            for k in actor.perceptions.threats:
                if f"threats.{k}" not in keys:
                    keys.append(f"threats.{k}")
        for kind in ("links", "feedback"):
            for item in getattr(case, kind):
                if item.perception not in keys:
                    raise AllianceLabError(
                        f"unknown perception {item.perception!r}; the case has "
                        f"{', '.join(keys)}",
                        field=kind,
                    )
    return tuple(keys)


def _compile(case: Case, keys: tuple[str, ...]) -> _Arrays:
    problem = Problem.from_case(case)
    n, d, m = problem.n_actors, problem.n_issues, len(keys)
    kidx = {k: i for i, k in enumerate(keys)}
    aidx = {a: i for i, a in enumerate(problem.actors)}
    iidx = {k: i for i, k in enumerate(problem.issues)}
    perc = np.full((n, m), np.nan)
    for i, actor in enumerate(case.actors):
        for k, v in actor.perceptions.threats.items():
            perc[i, kidx[f"threats.{k}"]] = v.value
        if actor.perceptions.partner_reliability is not None:
            perc[i, kidx["partner_reliability"]] = actor.perceptions.partner_reliability.value
    link_w = np.zeros((m, n, d))
    for link in case.links:
        rows = [aidx[a] for a in link.actors] if link.actors else list(range(n))
        link_w[kidx[link.perception], rows, iidx[link.issue]] += link.weight.value
    fb_w = np.zeros((d, n, m))
    for fb in case.feedback:
        rows = [aidx[a] for a in fb.actors] if fb.actors else list(range(n))
        fb_w[iidx[fb.issue], rows, kidx[fb.perception]] += fb.weight.value
    params = dict(NEUTRAL)
    params.update({k: v.value for k, v in case.dynamics.items()})
    return _Arrays(
        problem=problem,
        groups=tuple(a.group for a in case.actors),
        keys=keys,
        perception=perc,
        est_pos=problem.perceived_position - problem.position[None, :, :],
        est_sal=problem.perceived_salience - problem.salience[None, :, :],
        link_w=link_w,
        feedback_w=fb_w,
        params=params,
    )


def _weighted_mean(values: np.ndarray, weights: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Capability-weighted mean over the actor axis (axis 1 of ``(T, n, ...)``), NaN-aware
    (NaN where no selected actor has a value)."""
    w = np.where(mask, weights, 0.0)
    w = w.reshape(w.shape + (1,) * (values.ndim - w.ndim))
    valid = ~np.isnan(values)
    w = np.where(valid, w, 0.0)
    total = w.sum(axis=1)
    num = (np.where(valid, values, 0.0) * w).sum(axis=1)
    out = np.full(total.shape, np.nan)
    np.divide(num, total, out=out, where=total > 0)
    return out


def _zero_nan(x: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(x), 0.0, x)


# -- simulation ------------------------------------------------------------------------------


def simulate(
    case: Case,
    *,
    model: str = "compromise",
    rounds: int | None = None,
    interventions: Sequence[str] = (),
    rng: RngLike = None,
) -> Simulation:
    """Simulate ``case`` over ``rounds`` rounds (default the case's ``dynamics.rounds``) with
    the bargaining ``model``; each named shock or lever takes effect at its ``at_round``
    (default 1), cumulatively and in the order given."""
    from ..scenarios.interventions import apply_interventions, find_intervention

    if isinstance(interventions, str):
        interventions = (interventions,)
    interventions = tuple(interventions)
    schedule = {name: find_intervention(case, name).at_round for name in interventions}
    # one case per round at which something happens: all interventions due by then applied
    stage_cases = {0: case}
    for r in sorted(set(schedule.values())):
        stage_cases[r] = apply_interventions(
            case, [name for name in interventions if schedule[name] <= r]
        )
    keys = _perception_keys(list(stage_cases.values()))
    stages = {r: _compile(c, keys) for r, c in stage_cases.items()}
    for stage in stages.values():
        _check_params(stage.params)
    base = stages[0]
    if rounds is None:
        rounds = int(round(base.params["rounds"]))
    if isinstance(rounds, bool) or not isinstance(rounds, int | np.integer) or rounds < 1:
        raise AllianceLabError(f"must be a positive integer, got {rounds!r}", field="rounds")

    try:
        cls = engine_class(model)
    except ImportError:
        raise AllianceLabError(
            f"model {model!r} is registered but its engine is not installed", field="model"
        ) from None
    engine = cls()
    if base.problem.n_actors < cls.min_actors:
        raise AllianceLabError(
            f"model {model!r} needs at least {cls.min_actors} actors", field="actors"
        )
    generator, seed = make_rng(rng)

    p0 = base.problem
    n, d, m, t1 = p0.n_actors, p0.n_issues, len(keys), rounds + 1
    lower, upper = p0.lower, p0.upper
    width = upper - lower
    threat_cols = np.array([k.startswith("threats.") for k in keys], dtype=bool)

    X = np.empty((t1, n, d))
    Y = np.empty((t1, d))
    F = np.empty((t1, d))
    P = np.empty((t1, n, m))
    E = np.empty((t1, n, n, d))
    caps = np.empty((t1, n))

    X[0], P[0], E[0], caps[0] = p0.position, base.perception, base.est_pos, p0.capability
    F[0] = engine.solve(p0, generator).forecast
    Y[0] = np.where(np.isnan(p0.status_quo), F[0], p0.status_quo)
    est_sal = base.est_sal.copy()
    cur, cur_case = base, case
    allied = _allied(case, cur)

    for t in range(1, t1):
        perc = P[t - 1].copy()
        est = E[t - 1]
        if t in stages:  # interventions due now: jump to the new stage's perceptions/estimates
            new = stages[t]
            perc = perc + np.nan_to_num(new.perception - cur.perception)
            est = est + (new.est_pos - cur.est_pos)
            est_sal = est_sal + (new.est_sal - cur.est_sal)
            cur, cur_case = new, stage_cases[t]
            allied = _allied(cur_case, cur)
        lam = cur.params["adjustment_speed"]
        conv = cur.params["threat_convergence"]
        learn = cur.params["estimate_learning"]
        p1 = cur.problem
        if t >= 2:
            dy = (Y[t - 1] - Y[t - 2]) / width
            perc = perc + np.einsum("kim,k->im", cur.feedback_w, dy)
        if conv > 0 and allied.any():
            block = perc[allied][:, threat_cols]
            mean = _weighted_mean(block[None], p1.capability[allied][None], np.ones(
                allied.sum(), dtype=bool)[None])[0]
            perc[np.ix_(allied, threat_cols)] = block + conv * (mean[None, :] - block)
        P[t] = np.clip(perc, 0.0, 1.0)
        E[t] = est * (1.0 - learn)
        est_sal = est_sal * (1.0 - learn)
        delta = np.nan_to_num(P[t] - P[0])
        X[t] = np.clip(
            p1.position + width * np.einsum("mik,im->ik", cur.link_w, delta), lower, upper
        )
        caps[t] = p1.capability
        problem = replace(
            p1,
            position=X[t],
            perceived_position=np.clip(X[t][None, :, :] + E[t], lower, upper),
            perceived_salience=np.clip(p1.salience[None, :, :] + est_sal, 0.0, 1.0),
        )
        F[t] = engine.solve(problem, generator).forecast
        Y[t] = Y[t - 1] + lam * (F[t] - Y[t - 1])

    reached = max(r for r in stage_cases if r <= rounds)  # stages after the horizon never act
    last = stage_cases[reached]
    state = _State(X, Y, P, E, caps, lower, width, keys, p0.actors, p0.issues, cur.groups)
    indicators = {
        ind.name: sum((_term(term, state) for term in ind.terms), np.zeros(t1))
        for ind in last.indicators
    }
    return Simulation(
        case_name=case.name,
        model=model,
        actors=p0.actors,
        issues=p0.issues,
        interventions=interventions,
        positions=X,
        outcomes=Y,
        perceptions={k: P[:, :, j] for j, k in enumerate(keys)},
        indicators=indicators,
        seed=seed,
        groups=cur.groups,
        forecasts=F,
        parameters={k: float(v) for k, v in stages[reached].params.items()},
        schedule=schedule,
    )


def _check_params(params: dict[str, float]) -> None:
    for name in ("adjustment_speed", "threat_convergence", "estimate_learning"):
        v = float(params[name])
        if not 0.0 <= v <= 1.0:
            raise AllianceLabError(f"must lie in [0, 1], got {v:g}", field=f"dynamics.{name}")


def _allied(case: Case, arrays: _Arrays) -> np.ndarray:
    """Mask of the actors of the case's two sides (``case.sides``)."""
    groups = set(case.sides or ())
    return np.array([g in groups for g in arrays.groups], dtype=bool)


# -- indicators ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _State:
    X: np.ndarray
    Y: np.ndarray
    P: np.ndarray
    E: np.ndarray
    caps: np.ndarray
    lower: np.ndarray
    width: np.ndarray
    keys: tuple[str, ...]
    actors: tuple[str, ...]
    issues: tuple[str, ...]
    groups: tuple[str | None, ...]

    def select(self, names: list[str] | None) -> np.ndarray:
        if not names:
            return np.ones(len(self.actors), dtype=bool)
        chosen = set(names)
        return np.array(
            [a in chosen or g in chosen for a, g in zip(self.actors, self.groups, strict=True)]
        )


def _term(term: IndicatorTerm, s: _State) -> np.ndarray:
    """One indicator term over all rounds, ``(T+1,)``; see :class:`IndicatorTerm`."""
    w = term.weight.value
    t1 = s.Y.shape[0]
    issues = None if term.issue is None else [s.issues.index(term.issue)]
    if term.kind == "constant":
        return np.full(t1, w)
    if term.kind == "outcome":
        k = issues[0]  # type: ignore[index]
        return w * (s.Y[:, k] - s.lower[k]) / s.width[k]
    if term.kind == "outcome_change":
        change = np.zeros_like(s.Y)
        change[1:] = (np.abs(np.diff(s.Y, axis=0)) / s.width) ** term.power
        return w * (change[:, issues[0]] if issues else change.mean(axis=1))
    if term.kind in ("perception", "perception_gap"):
        if term.perception not in s.keys:
            raise AllianceLabError(
                f"unknown perception {term.perception!r}", field="indicators.terms.perception"
            )
        vals = s.P[:, :, s.keys.index(term.perception)]
        if term.kind == "perception":
            return w * _zero_nan(_weighted_mean(vals, s.caps, s.select(term.actors)[None]))
        a = _weighted_mean(vals, s.caps, s.select(term.a)[None])
        b = _weighted_mean(vals, s.caps, s.select(term.b)[None])
        return w * _zero_nan(np.abs(b - a))
    if term.kind == "position_gap":
        norm = (s.X - s.lower) / s.width  # (T, n, d)
        a = _weighted_mean(norm, s.caps, s.select(term.a)[None])
        b = _weighted_mean(norm, s.caps, s.select(term.b)[None])
        gap = np.abs(b - a)
        return w * _zero_nan(gap[:, issues[0]] if issues else gap.mean(axis=1))
    if term.kind == "misperception":
        err = np.abs(s.E) / s.width  # (T, n, n, d)
        err = err[..., issues[0]] if issues else err.mean(axis=-1)  # (T, n, n)
        targets = s.select(term.b)
        n = len(s.actors)
        pair = targets[None, :] & ~np.eye(n, dtype=bool)  # (n, n): j among targets, j != i
        counts = pair.sum(axis=1)
        per_perceiver = np.where(
            counts > 0, (err * pair).sum(axis=2) / np.maximum(counts, 1), np.nan
        )  # (T, n)
        return w * _zero_nan(_weighted_mean(per_perceiver, s.caps, s.select(term.a)[None]))
    raise AllianceLabError(f"unknown indicator term kind {term.kind!r}")  # pragma: no cover
