"""Multi-round dynamics: perceptions -> positions -> bargaining -> outcomes -> perceptions.

One simulation round ``t = 1..T`` (docs/dynamics.md has the derivation and the literature):

1. **Stages** (``stages``: round -> case, the shocks and levers due by that round applied;
   :class:`alliancelab.scenarios.scenario.Scenario` builds them from each intervention's
   ``at_round``) take effect at their round: from then on the case is the intervened one,
   and its perceptions and misestimates enter as a jump; round 0 is always the case as
   written.
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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ..core.case import Case, IndicatorTerm
from ..core.checks import positive_int
from ..core.errors import AllianceLabError
from ..core.limits import checkpoint
from ..core.rng import RngLike, make_rng
from .bargaining import Engine, Problem, engine_class

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
    every perception of the case (``"threats.<k>"`` for each threat an actor perceives,
    ``"partner_reliability"``) to ``(T+1, n)`` arrays (NaN where an actor has none);
    ``indicators`` maps each indicator of the case to a ``(T+1,)`` array; ``parameters`` are
    the dynamics parameters in force at the end, ``schedule`` the round at which each
    intervention took effect (as the caller recorded it).
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
    """``threats.<k>`` for every threat any actor perceives (in order of appearance), then
    ``partner_reliability``; links and feedback must name one of them."""
    keys: list[str] = []
    for case in cases:
        for actor in case.actors:
            for k in actor.perceptions.threats:
                if f"threats.{k}" not in keys:
                    keys.append(f"threats.{k}")
    keys.append("partner_reliability")
    for case in cases:
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
    problem = Problem.from_case(case).normalised()  # capability weights cannot overflow
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
    stages: Mapping[int, Case] | None = None,
    schedule: Mapping[str, int] | None = None,
    rng: RngLike = None,
) -> Simulation:
    """Simulate ``case`` over ``rounds`` rounds (default the case's ``dynamics.rounds``) with
    the bargaining ``model``.

    ``stages`` maps a round ``r >= 1`` to the case in force from that round on: the case
    with the interventions due by then applied, built by
    :class:`alliancelab.scenarios.scenario.Scenario` (this module knows no interventions).
    Round 0 is always ``case``; a stage after the horizon never acts. ``schedule``
    (intervention name -> round) is recorded on the result."""
    stage_cases = _stage_cases(case, stages)
    keys = _perception_keys(list(stage_cases.values()))
    compiled = {r: _compile(c, keys) for r, c in stage_cases.items()}
    for stage in compiled.values():
        _check_params(stage.params)
    base = compiled[0]
    if rounds is None:
        rounds = int(round(base.params["rounds"]))
    rounds = positive_int(rounds, "rounds", limit="rounds")
    engine = _engine(model)
    engine.check(base.problem)
    generator, seed = make_rng(rng)

    path = _Path.start(base, rounds, engine, generator)
    cur, allied = base, _allied(case, base)
    for t in range(1, rounds + 1):
        checkpoint()
        perc, est = path.P[t - 1].copy(), path.E[t - 1]
        if t in compiled:  # interventions due now: jump to the new stage's perceptions/estimates
            new = compiled[t]
            perc = perc + np.nan_to_num(new.perception - cur.perception)
            est = est + (new.est_pos - cur.est_pos)
            path.est_sal = path.est_sal + (new.est_sal - cur.est_sal)
            cur, allied = new, _allied(stage_cases[t], new)
        path.advance(t, cur, allied, perc, est, engine, generator)

    reached = max(r for r in stage_cases if r <= rounds)
    state = _State(path.X, path.Y, path.P, path.E, path.caps, path.lower, path.width, keys,
                   base.problem.actors, base.problem.issues, cur.groups)
    indicators = {
        ind.name: sum((_term(term, state) for term in ind.terms), np.zeros(rounds + 1))
        for ind in stage_cases[reached].indicators
    }
    return Simulation(
        case_name=case.name,
        model=model,
        actors=base.problem.actors,
        issues=base.problem.issues,
        interventions=tuple(schedule or ()),
        positions=path.X,
        outcomes=path.Y,
        perceptions={k: path.P[:, :, j] for j, k in enumerate(keys)},
        indicators=indicators,
        seed=seed,
        groups=cur.groups,
        forecasts=path.F,
        parameters={k: float(v) for k, v in compiled[reached].params.items()},
        schedule=dict(schedule or {}),
    )


@dataclass
class _Path:
    """The trajectory being simulated: positions ``X``, outcomes ``Y``, forecasts ``F``,
    perceptions ``P``, misestimates ``E``, capabilities per round, and the current
    misestimates of saliences."""

    X: np.ndarray
    Y: np.ndarray
    F: np.ndarray
    P: np.ndarray
    E: np.ndarray
    caps: np.ndarray
    est_sal: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    threat_cols: np.ndarray

    @property
    def width(self) -> np.ndarray:
        return self.upper - self.lower

    @classmethod
    def start(cls, base: _Arrays, rounds: int, engine: Engine,
              generator: np.random.Generator) -> _Path:
        """Arrays for ``rounds`` rounds with round 0 filled in (the case as written)."""
        p0 = base.problem
        n, d, m, t1 = p0.n_actors, p0.n_issues, len(base.keys), rounds + 1
        path = cls(X=np.empty((t1, n, d)), Y=np.empty((t1, d)), F=np.empty((t1, d)),
                   P=np.empty((t1, n, m)), E=np.empty((t1, n, n, d)), caps=np.empty((t1, n)),
                   est_sal=base.est_sal.copy(), lower=p0.lower, upper=p0.upper,
                   threat_cols=np.array([k.startswith("threats.") for k in base.keys],
                                        dtype=bool))
        path.X[0], path.P[0], path.E[0] = p0.position, base.perception, base.est_pos
        path.caps[0] = p0.capability
        path.F[0] = engine.solve(p0, generator).forecast
        path.Y[0] = np.where(np.isnan(p0.status_quo), path.F[0], p0.status_quo)
        return path

    def advance(self, t: int, cur: _Arrays, allied: np.ndarray, perc: np.ndarray,
                est: np.ndarray, engine: Engine, generator: np.random.Generator) -> None:
        """Round ``t`` (steps 2-6 of the module docstring) from the perceptions ``perc``
        and misestimates ``est`` it starts with."""
        lam = cur.params["adjustment_speed"]
        conv = cur.params["threat_convergence"]
        learn = cur.params["estimate_learning"]
        p1 = cur.problem
        width = self.width
        if t >= 2:
            dy = (self.Y[t - 1] - self.Y[t - 2]) / width
            perc = perc + np.einsum("kim,k->im", cur.feedback_w, dy)
        if conv > 0 and allied.any():
            cols = self.threat_cols
            block = perc[allied][:, cols]
            mean = _weighted_mean(block[None], p1.capability[allied][None], np.ones(
                allied.sum(), dtype=bool)[None])[0]
            perc[np.ix_(allied, cols)] = block + conv * (mean[None, :] - block)
        self.P[t] = np.clip(perc, 0.0, 1.0)
        self.E[t] = est * (1.0 - learn)
        self.est_sal = self.est_sal * (1.0 - learn)
        delta = np.nan_to_num(self.P[t] - self.P[0])
        self.X[t] = np.clip(
            p1.position + width * np.einsum("mik,im->ik", cur.link_w, delta),
            self.lower, self.upper,
        )
        self.caps[t] = p1.capability
        problem = replace(
            p1,
            position=self.X[t],
            perceived_position=np.clip(self.X[t][None, :, :] + self.E[t], self.lower,
                                       self.upper),
            perceived_salience=np.clip(p1.salience[None, :, :] + self.est_sal, 0.0, 1.0),
        )
        self.F[t] = engine.solve(problem, generator).forecast
        self.Y[t] = self.Y[t - 1] + lam * (self.F[t] - self.Y[t - 1])


def _stage_cases(case: Case, stages: Mapping[int, Case] | None) -> dict[int, Case]:
    """``{0: case}`` plus the stages by round, each checked to have the case's actors and
    issues."""
    out = {0: case}
    for r, stage in sorted((stages or {}).items()):
        r = positive_int(r, "stages")
        if stage.actor_names != case.actor_names or stage.issue_names != case.issue_names:
            raise AllianceLabError(f"the case of round {r} must have the actors and issues of "
                                   f"case {case.name!r}", field="stages")
        out[r] = stage
    return out


def _engine(model: str) -> Engine:
    try:
        cls = engine_class(model)
    except ImportError:
        raise AllianceLabError(
            f"model {model!r} is registered but its engine is not installed", field="model"
        ) from None
    return cls()


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
