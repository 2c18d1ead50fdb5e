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

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..core.case import Case, IndicatorTerm
from ..core.checks import positive_int
from ..core.errors import AllianceLabError
from ..core.limits import checkpoint
from ..core.rng import RngLike, make_rng
from .bargaining import Engine, Problem, engine_class

__all__ = ["NEUTRAL", "Run", "Simulation", "simulate", "simulate_batch"]

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


#: the cases compiled last, by identity and perception keys (a case is immutable; an entry
#: keeps its case alive): the scenarios of a variant are simulated more than once
_COMPILED: dict[tuple[int, tuple[str, ...]], tuple[Case, _Arrays]] = {}


def _compiled(case: Case, keys: tuple[str, ...]) -> _Arrays:
    """``_compile(case, keys)``, shared by the calls on the same case: read it, never write."""
    hit = _COMPILED.get((id(case), keys))
    if hit is not None and hit[0] is case:
        return hit[1]
    arrays = _compile(case, keys)
    if len(_COMPILED) >= 64:  # forget the oldest (a web app's threads share the cache)
        _COMPILED.pop(next(iter(_COMPILED), (0, ())), None)
    _COMPILED[(id(case), keys)] = (case, arrays)
    return arrays


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


@dataclass(frozen=True)
class Run:
    """One simulation of :func:`simulate_batch`: ``case`` with its ``stages``, the
    ``schedule`` to record and its ``rng`` (see :func:`simulate`)."""

    case: Case
    stages: Mapping[int, Case] | None = None
    schedule: Mapping[str, int] | None = None
    rng: RngLike = None


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
    return simulate_batch([Run(case, stages, schedule, rng)], model=model, rounds=rounds)[0]


def simulate_batch(runs: Sequence[Run], *, model: str = "compromise",
                   rounds: int | None = None, indicators: bool = True) -> list[Simulation]:
    """:func:`simulate` of every run. Runs with the same actors, issues, perceptions and
    number of rounds are stepped together, on arrays with a leading run axis (the engine's
    ``solve_batch`` for the bargaining); each run gives what it gives alone, bit for bit.
    ``indicators=False`` leaves the case's indicators out (an empty ``indicators``), for a
    caller that reads only the trajectories."""
    prepared = [_Prepared.of(run, rounds) for run in runs]
    engine = _engine(model)
    for prep in prepared:
        engine.check(prep.compiled[0].problem)
    generators = [make_rng(run.rng) for run in runs]
    groups: dict[tuple[Any, ...], list[int]] = {}
    for k, prep in enumerate(prepared):
        p0 = prep.compiled[0].problem
        groups.setdefault((prep.keys, prep.rounds, p0.actors, p0.issues), []).append(k)
    out: list[Simulation | None] = [None] * len(runs)
    for members in groups.values():
        paths = _Paths.start([prepared[k] for k in members], engine,
                             [generators[k][0] for k in members])
        for t in range(1, paths.rounds + 1):
            checkpoint()
            paths.advance(t)
        for j, k in enumerate(members):
            out[k] = paths.simulation(j, model, generators[k][1], indicators)
    return out  # type: ignore[return-value]


@dataclass(frozen=True)
class _Prepared:
    """A run checked and compiled: its stages by round, their arrays, the perception keys
    and the number of rounds."""

    run: Run
    stage_cases: dict[int, Case]
    keys: tuple[str, ...]
    compiled: dict[int, _Arrays]
    rounds: int

    @classmethod
    def of(cls, run: Run, rounds: int | None) -> _Prepared:
        """``run`` prepared (a case shared by runs compiled once: :func:`_compiled`)."""
        stage_cases = _stage_cases(run.case, run.stages)
        keys = _perception_keys(list(stage_cases.values()))
        compiled = {r: _compiled(c, keys) for r, c in stage_cases.items()}
        for stage in compiled.values():
            _check_params(stage.params)
        if rounds is None:
            rounds = int(round(compiled[0].params["rounds"]))
        return cls(run, stage_cases, keys, compiled,
                   positive_int(rounds, "rounds", limit="rounds"))


@dataclass
class _Paths:
    """The trajectories of S runs being simulated, run on the leading axis: positions
    ``X`` ``(S, T+1, n, d)``, outcomes ``Y``, forecasts ``F``, perceptions ``P``,
    misestimates ``E``, capabilities per round; the current misestimates of saliences, the
    scale ends, and each run's current stage (:meth:`restack` gathers its arrays)."""

    runs: list[_Prepared]
    engine: Engine
    generators: list[np.random.Generator]
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
    cur: list[_Arrays]
    allied: np.ndarray
    now: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def rounds(self) -> int:
        return self.runs[0].rounds

    @property
    def width(self) -> np.ndarray:
        return self.upper - self.lower

    @classmethod
    def start(cls, runs: list[_Prepared], engine: Engine,
              generators: list[np.random.Generator]) -> _Paths:
        """Arrays for the runs' rounds with round 0 filled in (each case as written)."""
        bases = [r.compiled[0] for r in runs]
        p0 = [b.problem for b in bases]
        s, n, d, m, t1 = len(runs), p0[0].n_actors, p0[0].n_issues, len(runs[0].keys), \
            runs[0].rounds + 1
        paths = cls(
            runs=runs, engine=engine, generators=generators,
            X=np.empty((s, t1, n, d)), Y=np.empty((s, t1, d)), F=np.empty((s, t1, d)),
            P=np.empty((s, t1, n, m)), E=np.empty((s, t1, n, n, d)), caps=np.empty((s, t1, n)),
            est_sal=np.stack([b.est_sal for b in bases]),
            lower=np.stack([p.lower for p in p0]), upper=np.stack([p.upper for p in p0]),
            threat_cols=np.array([k.startswith("threats.") for k in runs[0].keys], dtype=bool),
            cur=list(bases),
            allied=np.stack([_allied(r.stage_cases[0], b) for r, b in zip(runs, bases,
                                                                         strict=True)]),
        )
        paths.X[:, 0] = [p.position for p in p0]
        paths.P[:, 0] = [b.perception for b in bases]
        paths.E[:, 0] = [b.est_pos for b in bases]
        paths.caps[:, 0] = [p.capability for p in p0]
        paths.F[:, 0] = engine.solve_batch(p0, generators)
        sq = np.stack([p.status_quo for p in p0])
        paths.Y[:, 0] = np.where(np.isnan(sq), paths.F[:, 0], sq)
        paths.restack()
        return paths

    def restack(self) -> None:
        """Gather the current stages' arrays and parameters along the run axis."""
        cur = self.cur
        self.now = {
            "position": np.stack([c.problem.position for c in cur]),
            "capability": np.stack([c.problem.capability for c in cur]),
            "salience": np.stack([c.problem.salience for c in cur]),
            "link_w": np.stack([c.link_w for c in cur]),
            "feedback_w": np.stack([c.feedback_w for c in cur]),
            **{k: np.array([float(c.params[k]) for c in cur])
               for k in ("adjustment_speed", "threat_convergence", "estimate_learning")},
        }

    def advance(self, t: int) -> None:
        """Round ``t`` of every run: the interventions due now (step 1 of the module
        docstring), then steps 2-6."""
        perc, est = self.P[:, t - 1].copy(), self.E[:, t - 1].copy()
        jumped = False
        for j, run in enumerate(self.runs):
            if t in run.compiled:  # jump to the new stage's perceptions and estimates
                new, old = run.compiled[t], self.cur[j]
                perc[j] = perc[j] + np.nan_to_num(new.perception - old.perception)
                est[j] = est[j] + (new.est_pos - old.est_pos)
                self.est_sal[j] = self.est_sal[j] + (new.est_sal - old.est_sal)
                self.cur[j] = new
                self.allied[j] = _allied(run.stage_cases[t], new)
                jumped = True
        if jumped:
            self.restack()
        now = self.now
        lam, conv, learn = (now["adjustment_speed"], now["threat_convergence"],
                            now["estimate_learning"])
        width = self.width
        if t >= 2:
            dy = (self.Y[:, t - 1] - self.Y[:, t - 2]) / width
            perc = perc + np.einsum("skim,sk->sim", now["feedback_w"], dy)
        consult = (conv > 0) & self.allied.any(axis=1)
        if consult.any():
            cols = self.threat_cols
            block = perc[:, :, cols]
            mean = _weighted_mean(block, now["capability"], self.allied)  # over the allies
            moved = block + conv[:, None, None] * (mean[:, None, :] - block)
            perc[:, :, cols] = np.where(consult[:, None, None] & self.allied[:, :, None],
                                        moved, block)
        self.P[:, t] = np.clip(perc, 0.0, 1.0)
        keep = (1.0 - learn)[:, None, None, None]
        self.E[:, t] = est * keep
        self.est_sal = self.est_sal * keep
        delta = np.nan_to_num(self.P[:, t] - self.P[:, 0])
        lo, hi = self.lower[:, None, :], self.upper[:, None, :]
        self.X[:, t] = np.clip(
            now["position"] + width[:, None, :] * np.einsum("smik,sim->sik", now["link_w"],
                                                            delta), lo, hi)
        self.caps[:, t] = now["capability"]
        perceived = np.clip(self.X[:, t][:, None] + self.E[:, t], lo[:, None], hi[:, None])
        perceived_sal = np.clip(now["salience"][:, None] + self.est_sal, 0.0, 1.0)
        problems = [_moved(c.problem, self.X[j, t], perceived[j], perceived_sal[j])
                    for j, c in enumerate(self.cur)]
        self.F[:, t] = self.engine.solve_batch(problems, self.generators)
        self.Y[:, t] = self.Y[:, t - 1] + lam[:, None] * (self.F[:, t] - self.Y[:, t - 1])

    def simulation(self, j: int, model: str, seed: int | None, with_indicators: bool = True
                   ) -> Simulation:
        """Run ``j``'s :class:`Simulation`, its indicators evaluated on the trajectory (none
        without ``with_indicators``)."""
        prep, cur = self.runs[j], self.cur[j]
        rounds, keys, p0 = prep.rounds, prep.keys, prep.compiled[0].problem
        reached = max(r for r in prep.stage_cases if r <= rounds)
        state = _State(self.X[j], self.Y[j], self.P[j], self.E[j], self.caps[j], self.lower[j],
                       self.width[j], keys, p0.actors, p0.issues, cur.groups)
        indicators = {
            ind.name: sum((_term(term, state) for term in ind.terms), np.zeros(rounds + 1))
            for ind in prep.stage_cases[reached].indicators
        } if with_indicators else {}
        schedule = prep.run.schedule
        return Simulation(
            case_name=prep.run.case.name,
            model=model,
            actors=p0.actors,
            issues=p0.issues,
            interventions=tuple(schedule or ()),
            positions=self.X[j],
            outcomes=self.Y[j],
            perceptions={k: self.P[j][:, :, i] for i, k in enumerate(keys)},
            indicators=indicators,
            seed=seed,
            groups=cur.groups,
            forecasts=self.F[j],
            parameters={k: float(v) for k, v in prep.compiled[reached].params.items()},
            schedule=dict(schedule or {}),
        )


def _moved(problem: Problem, position: np.ndarray, perceived_position: np.ndarray,
           perceived_salience: np.ndarray) -> Problem:
    """``replace(problem, position=..., perceived_position=..., perceived_salience=...)``
    without building the other arrays again (they are ``problem``'s own, already checked):
    every round bargains on one per run."""
    out = copy.copy(problem)
    out.__dict__.update(position=position, perceived_position=perceived_position,
                        perceived_salience=perceived_salience)
    return out


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
