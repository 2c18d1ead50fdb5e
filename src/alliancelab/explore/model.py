"""The experiment function: parameters -> outcomes, vectorised over a batch of experiments.

A batch of ``m`` experiments becomes ``m`` :class:`~alliancelab.core.problem.Problem`
variants at once (:class:`~alliancelab.scenarios.batch.ProblemBatch`): every sampled number
goes to its Problem entries (perceived estimates included, and the estimates that follow
the truth follow the sampled truth), then the scenario's shocks and the policy's levers
apply, compiled to the arrays with the semantics of
:mod:`alliancelab.scenarios.interventions` (in order: shocks, then levers - scenario first,
policy second).

Models are the engines of the registry (:data:`alliancelab.models.bargaining.ENGINES`:
``compromise``, ``median``, ``nash``, ``bdm`` - the paper equations, ``bdm-scholz`` - the
Scholz et al. reference code, ``smp``) and ``dynamics``. Outcomes, one column per model and
issue:

* ``<engine>.<issue>`` - the engine's forecast, from
  :meth:`~alliancelab.models.bargaining.Engine.solve_batch` over the batch's Problems (the
  engines with a vectorised kernel - compromise, bdm-scholz - run the whole batch at once),
  each experiment with its own Generator, seeded ``SeedSequence(entropy, spawn_key=(1, e))``;
  ``rounds`` goes to ``bdm`` and ``bdm-scholz``, every other option is the engine's default.
  The two BDM engines run issue by issue and draw no random numbers, so a batch's distinct
  one-issue inputs run once each (:data:`BY_ISSUE`);
* ``dynamics.<issue>`` and ``dynamics.<indicator>`` - the final round of the perception
  dynamics (:func:`alliancelab.scenarios.scenario.simulate_scenario`, compromise engine) on
  the case with the sampled values and the experiment's shocks and levers, each at its
  ``at_round``. This path rebuilds and validates one case per experiment and is far slower
  than the arrays.

Changes whose targets are not in the Problem (threat perceptions, partner reliability,
dynamics parameters, links) only act through the dynamics.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

import numpy as np

from ..core.case import Case
from ..core.errors import AllianceLabError
from ..core.problem import Problem
from ..models.bargaining import ENGINES, Engine, engine_class
from ..scenarios.batch import ProblemBatch, compile_interventions, entries, truth_masks
from ..scenarios.interventions import check_names
from ..scenarios.scenario import simulate_scenario
from ..scenarios.uncertainty import Uncertain, with_values
from .samplers import experiment_seed

#: every model an exploration can run: the engines of the registry, then the dynamics.
MODELS = (*ENGINES, "dynamics")
#: the models of ``explore()`` and ``alliancelab explore`` when none are named.
DEFAULT_MODELS = ("compromise", "bdm-scholz")
#: the engines that take ``rounds`` (a fixed number of bargaining rounds).
ROUNDS_ENGINES = ("bdm", "bdm-scholz")
#: engines that forecast each issue from that issue's numbers alone and draw no random
#: numbers: a batch's distinct one-issue inputs are solved once each (levers and shocks leave
#: most issues of a scenario as they were, so across its policies most inputs repeat; the
#: numbers are the same as solving every experiment)
BY_ISSUE = ("bdm", "bdm-scholz")
#: above this share of distinct one-issue inputs the batch is solved whole
DISTINCT_SHARE = 0.7


@dataclass(frozen=True)
class Policy:
    """A combination of levers pulled together (``()`` is the no-lever policy ``none``)."""

    name: str
    levers: tuple[str, ...]


def policies(case: Case, levers: Sequence[str] = ()) -> list[Policy]:
    """``none`` plus one policy per requested lever (``a+b`` pulls levers a and b together)."""
    out = [Policy("none", ())]
    for spec in levers:
        parts = check_names(case, tuple(p.strip() for p in spec.split("+") if p.strip()),
                            "lever")
        name = "+".join(parts)
        if not parts or name in {q.name for q in out}:
            raise AllianceLabError(f"lever {spec!r} is empty or given twice", field="lever")
        out.append(Policy(name, parts))
    return out


def make_engine(model: str, rounds: int = 10) -> Engine:
    """The engine ``model`` of the registry (unknown names raise the one-line error)."""
    cls = engine_class(model)
    return cls(rounds=rounds) if model in ROUNDS_ENGINES else cls()  # type: ignore[call-arg]


def check_models(models: Sequence[str]) -> tuple[str, ...]:
    """``models`` without repeats; each an engine name or ``dynamics``."""
    out = tuple(dict.fromkeys(models))
    for m in out:
        if m not in MODELS:
            raise AllianceLabError(f"unknown model {m!r}; choose from {', '.join(MODELS)}",
                                   field="models")
    return out


def outcome_names(case: Case, models: Sequence[str]) -> tuple[str, ...]:
    """The outcome columns of ``models`` on ``case``: ``<model>.<issue>``, and for the
    dynamics also ``dynamics.<indicator>``."""
    names: list[str] = []
    for m in check_models(models):
        names.extend(_dynamics_names(case) if m == "dynamics"
                     else [f"{m}.{issue}" for issue in case.issue_names])
    return tuple(names)


class ExperimentRngs(Sequence[np.random.Generator]):
    """One Generator per experiment, ``default_rng(SeedSequence(entropy, spawn_key=(1,
    e)))``, made when an engine asks for it (deterministic engines never do)."""

    def __init__(self, entropy: int, ids: np.ndarray) -> None:
        self.entropy = int(entropy)
        self.ids = np.asarray(ids)

    def __len__(self) -> int:
        return len(self.ids)

    @overload
    def __getitem__(self, i: int) -> np.random.Generator: ...

    @overload
    def __getitem__(self, i: slice) -> Sequence[np.random.Generator]: ...

    def __getitem__(self, i: int | slice) -> Any:
        if isinstance(i, slice):
            return ExperimentRngs(self.entropy, self.ids[i])
        return np.random.default_rng(experiment_seed(self.entropy, int(self.ids[i])))

    def __iter__(self) -> Iterator[np.random.Generator]:
        return (self[i] for i in range(len(self)))


@dataclass(frozen=True)
class _Compiled:
    """What a worker derives from the model once: the base Problem and its truth masks,
    the Problem entries of each sampled value, the compiled interventions, the engines."""

    base: Problem
    follows: dict[str, np.ndarray]
    where: tuple[tuple[Any, ...], ...]
    changes: dict[str, tuple[Any, ...]]
    engines: dict[str, Engine]


@dataclass(frozen=True, eq=False)
class ExperimentModel:
    """Everything a worker needs to run experiments; picklable and shipped once per worker
    (see :mod:`alliancelab.explore.runner`). ``params`` are the design's columns: the ranged
    values, then the shocks as on/off uncertainties."""

    case: Case
    params: tuple[Uncertain, ...]
    policies: tuple[Policy, ...]
    shocks: tuple[str, ...] = ()
    models: tuple[str, ...] = DEFAULT_MODELS
    rounds: int = 10
    entropy: int = 0
    outcome_names: tuple[str, ...] = field(default=())
    key: str = ""

    @classmethod
    def build(cls, case: Case, params: Sequence[Uncertain], policies: Sequence[Policy],
              shocks: Sequence[str] = (), models: Sequence[str] = DEFAULT_MODELS,
              rounds: int = 10, entropy: int = 0) -> ExperimentModel:
        """Check the models (each engine once against the case's actors) and name the
        outcomes."""
        models = check_models(models)
        base = Problem.from_case(case)
        for m in models:
            if m != "dynamics":
                make_engine(m, rounds).check(base)
        digest = hashlib.sha256(
            "|".join([case.model_dump_json(), repr(params), repr(policies), repr(shocks),
                      repr(models), str(rounds), str(entropy)]).encode()
        ).hexdigest()[:16]
        return cls(case, tuple(params), tuple(policies), tuple(shocks), models, int(rounds),
                   int(entropy), outcome_names(case, models), digest)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_cache", None)  # rebuilt where the model runs
        return state

    def _compiled(self) -> _Compiled:
        cached = self.__dict__.get("_cache")
        if cached is None:
            used = [*self.shocks, *{lv for p in self.policies for lv in p.levers}]
            cached = _Compiled(
                Problem.from_case(self.case), truth_masks(self.case),
                tuple(entries(self.case, p.path) for p in self.params if not p.boolean),
                compile_interventions(self.case, used),
                {m: make_engine(m, self.rounds) for m in self.models if m != "dynamics"})
            object.__setattr__(self, "_cache", cached)
        return cached

    # -- arrays --------------------------------------------------------------------------
    def batch(self, ids: np.ndarray, X: np.ndarray) -> ProblemBatch:
        """The Problems of experiments ``ids`` with scenario rows ``X`` ``(m, P)``."""
        c = self._compiled()
        out = ProblemBatch(c.base, len(ids), c.follows)
        out.write(c.where, X[:, : len(c.where)])
        for name, mask in self.active_interventions(ids, X):
            out.apply(c.changes[name], mask)
        return out

    def active_interventions(self, ids: np.ndarray, X: np.ndarray
                             ) -> list[tuple[str, np.ndarray]]:
        """(intervention name, boolean mask over the batch), shocks first then levers."""
        out: list[tuple[str, np.ndarray]] = []
        first_shock = len(self.params) - len(self.shocks)
        for s, name in enumerate(self.shocks):
            out.append((name, X[:, first_shock + s] >= 0.5))
        pol = np.asarray(ids) % len(self.policies)
        for j, policy in enumerate(self.policies):
            for lever in policy.levers:
                out.append((lever, pol == j))
        return out

    # -- outcomes ------------------------------------------------------------------------
    def evaluate(self, ids: np.ndarray, X: np.ndarray) -> np.ndarray:
        """Outcomes ``(m, K)`` (columns :attr:`outcome_names`) for experiments ``ids``."""
        engines = self._compiled().engines
        batch: ProblemBatch | None = None
        problems: list[Problem] = []
        cols: list[np.ndarray] = []
        for m in self.models:
            if m == "dynamics":
                cols.append(self._dynamics(ids, X))
                continue
            if batch is None:
                batch = self.batch(ids, X)
                problems = batch.problems()
            if m in BY_ISSUE:
                cols.append(self._by_issue(engines[m], batch, problems, ids))
            else:
                cols.append(engines[m].solve_batch(problems, ExperimentRngs(self.entropy, ids)))
        return np.concatenate(cols, axis=1) if cols else np.empty((len(ids), 0))

    def _by_issue(self, engine: Engine, batch: ProblemBatch, problems: list[Problem],
                  ids: np.ndarray) -> np.ndarray:
        """A :data:`BY_ISSUE` engine's forecasts ``(m, d)``: each distinct one-issue input
        once, unless nearly all are distinct (as without policies to compare, where every
        experiment is a scenario of its own)."""
        m, d = len(problems), batch.base.n_issues
        whole = len(self.policies) < 2
        groups = [] if whole else [_distinct(batch.issue_keys(k)) for k in range(d)]
        if whole or sum(len(first) for first, _ in groups) > DISTINCT_SHARE * m * d:
            return engine.solve_batch(problems, ExperimentRngs(self.entropy, ids))
        out = np.empty((m, d))
        for k, (first, inverse) in enumerate(groups):
            one = engine.solve_batch(batch.issue_problems(first, k),
                                     ExperimentRngs(self.entropy, ids[first]))
            out[:, k] = one[inverse, 0]
        return out

    def _dynamics(self, ids: np.ndarray, X: np.ndarray) -> np.ndarray:
        values = [p for p in self.params if not p.boolean]
        active = self.active_interventions(ids, X)
        out = np.empty((len(ids), len(_dynamics_names(self.case))))
        for r, e in enumerate(ids):
            case = with_values(self.case, values, X[r, : len(values)])
            names = [name for name, mask in active if mask[r]]
            sim = simulate_scenario(case, names, model="compromise",
                                    rng=experiment_seed(self.entropy, int(e)))
            final, ind = sim.final_outcomes(), sim.final_indicators()
            out[r] = [final[i] for i in case.issue_names] + [ind[k] for k in sorted(ind)]
        return out


def _distinct(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(index of the first of each distinct row, row -> its distinct row): rows compared as
    raw bytes, so only bit-identical inputs are merged."""
    if keys.shape[1] == 0:
        return np.zeros(1, dtype=np.intp), np.zeros(len(keys), dtype=np.intp)
    rows = np.ascontiguousarray(keys, dtype=float)
    raw = rows.view(np.dtype((np.void, rows.itemsize * rows.shape[1]))).ravel()
    _, first, inverse = np.unique(raw, return_index=True, return_inverse=True)
    return first, inverse.reshape(-1)


def _dynamics_names(case: Case) -> list[str]:
    """Outcome names of the dynamics (one dry run on the stated case)."""
    sim = simulate_scenario(case, model="compromise", rng=0)
    return [f"dynamics.{i}" for i in case.issue_names] + [
        f"dynamics.{k}" for k in sorted(sim.final_indicators())
    ]
