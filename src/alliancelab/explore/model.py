"""The experiment function: parameters -> outcomes, vectorised over a batch of experiments.

A batch of ``m`` experiments becomes stacked :class:`~alliancelab.models.bargaining.Problem` arrays
(capability ``(m, n)``, position and salience ``(m, n, d)``): each uncertain path
``actors.<a>.capability`` / ``.positions.<issue>`` / ``.saliences.<issue>`` maps to one array
entry, which takes the sampled value; then the scenario's shocks and the policy's levers apply
their :class:`~alliancelab.core.case.Change` edits (``set`` / ``add`` / ``scale``, in case order:
shocks, then levers - scenario first, policy second); positions are clipped to the issue's
scale, saliences to 0-1, capabilities to >= 0 (as the case validator demands).

Outcomes, one column per engine and issue:

* ``compromise.<issue>`` - Achen's compromise model, Thomson et al. (2006) eq. 4.1, with the
  fallback of :func:`alliancelab.models.bargaining.compromise.weights` for an all-zero issue;
* ``bdm.<issue>`` - Bueno de Mesquita's expected-utility model as replicated by Scholz,
  Calbert & Smith (2011), run per issue by ``bargaining.bdm_scholz.simulate_batch``; the
  forecast is the c*s-weighted median ("median voter") of the last round's positions, the
  quantity Scholz et al. report per round and the ``bdm-scholz`` engine's forecast;
* ``dynamics.<issue>`` and ``dynamics.<indicator>`` - when the case-and-dynamics module
  is installed and ``dynamics`` is among the models: the final round of
  :func:`alliancelab.models.dynamics.simulate` on the case with the sampled values, the scenario's
  shocks and the policy's levers, seeded with the experiment's own ``SeedSequence``. This
  path rebuilds and validates one case per experiment and is far slower than the arrays.

Changes whose targets are not in the bargaining arrays (perceptions, dynamics parameters,
links) only act through the dynamics.
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..core.case import Case
from ..core.errors import AllianceLabError
from ..core.problem import Problem
from ..models.bargaining.median import weighted_median
from ..scenarios.parameters import (
    KIND_CAP,
    KIND_POS,
    KIND_SAL,
    KIND_SQ,
    Policy,
    Uncertainty,
    case_with,
    value_locations,
)
from .samplers import experiment_seed

MODELS = ("compromise", "bdm", "dynamics")
_OPS = {"set": 0, "add": 1, "scale": 2, "converge": 3}


def bdm_batch() -> object | None:
    """``bargaining.bdm_scholz.simulate_batch`` when that module provides it."""
    try:
        mod = importlib.import_module("alliancelab.models.bargaining.bdm_scholz")
    except ImportError:
        return None
    return getattr(mod, "simulate_batch", None)


def dynamics_module() -> object | None:
    try:
        return importlib.import_module("alliancelab.models.dynamics")
    except ImportError:
        return None


@dataclass(frozen=True)
class ArrayChange:
    """One :class:`~alliancelab.core.case.Change` resolved to array entries ``(actor, issue)``
    of one kind (``issue`` is -1 for capability, ``actor`` -1 for the status quo)."""

    kind: int
    op: int
    value: float
    entries: tuple[tuple[int, int], ...]


def _select_actors(case: Case, selector: str) -> list[int]:
    """Actor indices for a name, ``*`` or ``group:A+B`` (every actor of group A or B)."""
    names = case.actor_names
    if selector == "*":
        return list(range(len(names)))
    if selector.startswith("group:"):
        groups = set(selector[len("group:"):].split("+"))
        return [i for i, a in enumerate(case.actors) if a.group in groups]
    return [names.index(selector)] if selector in names else []


def resolve_target(case: Case, target: str) -> tuple[int, list[tuple[int, int]]] | None:
    """The bargaining-array entries a change's ``target`` touches, or None when it touches
    none (perceptions, dynamics, links: those act only through the dynamics)."""
    issues = case.issue_names
    if target.startswith("issues."):
        rest = target[len("issues."):]
        if not rest.endswith(".status_quo"):
            return None
        sel = rest[: -len(".status_quo")]
        ks = range(len(issues)) if sel == "*" else ([issues.index(sel)] if sel in issues else [])
        return KIND_SQ, [(-1, k) for k in ks]
    if not target.startswith("actors."):
        return None
    rest = target[len("actors."):]
    candidates = [*case.actor_names, "*"]
    selector = next((c for c in sorted(candidates, key=len, reverse=True)
                     if rest.startswith(c + ".")), None)
    if selector is None and rest.startswith("group:"):
        selector = rest.split(".", 1)[0]
    if selector is None:
        return None
    actors = _select_actors(case, selector)
    field_path = rest[len(selector) + 1:]
    if field_path == "capability":
        return KIND_CAP, [(i, -1) for i in actors]
    kind_name, _, key = field_path.partition(".")
    if kind_name not in ("positions", "saliences") or not key:
        return None
    ks = range(len(issues)) if key == "*" else ([issues.index(key)] if key in issues else [])
    return (KIND_POS if kind_name == "positions" else KIND_SAL), [
        (i, k) for k in ks for i in actors]


def compile_interventions(case: Case) -> dict[str, tuple[ArrayChange, ...]]:
    """Each shock's and lever's changes that touch the bargaining arrays, in order."""
    out: dict[str, tuple[ArrayChange, ...]] = {}
    for iv in [*case.shocks, *case.levers]:
        changes = []
        for ch in iv.changes:
            hit = resolve_target(case, ch.target)
            if hit is not None and hit[1]:
                changes.append(ArrayChange(hit[0], _OPS[ch.op], float(ch.value),
                                           tuple(hit[1])))
        out[iv.name] = tuple(changes)
    return out


def apply_intervention(changes: Sequence[ArrayChange], mask: np.ndarray, cap: np.ndarray,
                       pos: np.ndarray, sal: np.ndarray, sq: np.ndarray, lower: np.ndarray,
                       upper: np.ndarray) -> None:
    """Apply one intervention's changes, in place, to the experiments selected by ``mask``,
    with the semantics of :func:`alliancelab.scenarios.interventions.apply_changes`: ``set``, ``add``,
    ``scale``, or ``converge`` (each matched number moves the fraction ``value`` toward the
    mean of all matched numbers, weighted by the actors' capabilities as they stood before
    the intervention); each result is clipped to its valid interval at once."""
    rows = np.flatnonzero(mask)[:, None]
    cap0 = cap[rows[:, 0]]
    for ch in changes:
        a = np.array([e[0] for e in ch.entries])
        k = np.array([e[1] for e in ch.entries])
        idx: tuple[np.ndarray, ...]
        if ch.kind == KIND_CAP:
            arr, idx = cap, (rows, a[None, :])
            lo, hi = np.zeros(len(a)), np.full(len(a), np.inf)
        elif ch.kind == KIND_SQ:
            arr, idx = sq, (rows, k[None, :])
            lo, hi = lower[k], upper[k]
        else:
            arr = pos if ch.kind == KIND_POS else sal
            idx = (rows, a[None, :], k[None, :])
            lo, hi = (lower[k], upper[k]) if ch.kind == KIND_POS else (
                np.zeros(len(a)), np.ones(len(a)))
        old = arr[idx]
        if ch.op == _OPS["set"]:
            new = np.full_like(old, ch.value)
        elif ch.op == _OPS["add"]:
            new = old + ch.value
        elif ch.op == _OPS["scale"]:
            new = old * ch.value
        else:
            w = np.ones_like(old) if ch.kind == KIND_SQ else cap0[:, a]
            total = w.sum(axis=1, keepdims=True)
            mean = np.where(total > 0, (w * old).sum(axis=1, keepdims=True)
                            / np.where(total > 0, total, 1.0), 0.0)
            new = old + ch.value * (mean - old)
        arr[idx] = np.clip(new, lo, hi)


@dataclass(frozen=True, eq=False)
class ExperimentModel:
    """Everything a worker needs to run experiments; picklable and shipped once per worker
    (see :mod:`alliancelab.explore.runner`)."""

    case: Case
    params: tuple[Uncertainty, ...]
    policies: tuple[Policy, ...]
    shocks: tuple[str, ...] = ()
    models: tuple[str, ...] = ("compromise", "bdm")
    rounds: int = 10
    entropy: int = 0
    outcome_names: tuple[str, ...] = field(default=())
    key: str = ""

    @classmethod
    def build(cls, case: Case, params: Sequence[Uncertainty], policies: Sequence[Policy],
              shocks: Sequence[str] = (), models: Sequence[str] = ("compromise", "bdm"),
              rounds: int = 10, entropy: int = 0) -> ExperimentModel:
        models = tuple(dict.fromkeys(models))
        for m in models:
            if m not in MODELS:
                raise AllianceLabError(
                    f"unknown model {m!r}; choose from {', '.join(MODELS)}", field="models"
                )
        if "bdm" in models and bdm_batch() is None:
            raise AllianceLabError(
                "the BDM batch engine (bargaining.bdm_scholz.simulate_batch) is not installed",
                field="models",
            )
        if "dynamics" in models and dynamics_module() is None:
            raise AllianceLabError("alliancelab.models.dynamics is not installed", field="models")
        names: list[str] = []
        for m in models:
            if m == "dynamics":
                names.extend(_dynamics_names(case))
            else:
                names.extend(f"{m}.{issue}" for issue in case.issue_names)
        digest = hashlib.sha256(
            "|".join([case.model_dump_json(), repr(params), repr(policies), repr(shocks),
                      repr(models), str(rounds), str(entropy)]).encode()
        ).hexdigest()[:16]
        return cls(case, tuple(params), tuple(policies), tuple(shocks), models, int(rounds),
                   int(entropy), tuple(names), digest)

    # -- arrays --------------------------------------------------------------------------
    def _base(self) -> tuple[Problem, dict[str, tuple[ArrayChange, ...]]]:
        cached = getattr(self, "_cache", None)
        if cached is None:
            cached = (Problem.from_case(self.case), compile_interventions(self.case))
            object.__setattr__(self, "_cache", cached)
        return cached  # type: ignore[no-any-return]

    def arrays(self, ids: np.ndarray, X: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Stacked capability ``(m, n)``, position, salience ``(m, n, d)``, status quo
        ``(m, d)`` for experiments ``ids`` with scenario rows ``X`` ``(m, P)``."""
        base, changes = self._base()
        m = len(ids)
        n, d = base.position.shape
        cap = np.repeat(base.capability[None, :], m, axis=0)
        pos = np.repeat(base.position[None], m, axis=0)
        sal = np.repeat(base.salience[None], m, axis=0)
        sq = np.repeat(base.status_quo[None], m, axis=0)
        for p, par in enumerate(self.params):
            if par.kind == KIND_CAP:
                cap[:, par.actor] = X[:, p]
            elif par.kind == KIND_POS:
                pos[:, par.actor, par.issue] = X[:, p]
            elif par.kind == KIND_SAL:
                sal[:, par.actor, par.issue] = X[:, p]
            elif par.kind == KIND_SQ:
                sq[:, par.issue] = X[:, p]
        active = self.active_interventions(ids, X)
        for name, mask in active:
            if mask.any() and changes.get(name):
                apply_intervention(changes[name], mask, cap, pos, sal, sq, base.lower,
                                   base.upper)
        np.clip(pos, base.lower, base.upper, out=pos)
        np.clip(sal, 0.0, 1.0, out=sal)
        np.maximum(cap, 0.0, out=cap)
        return cap, pos, sal, sq

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
        cap, pos, sal, _ = self.arrays(ids, X)
        cols: list[np.ndarray] = []
        for m in self.models:
            if m == "compromise":
                cols.append(compromise_batch(cap, pos, sal))
            elif m == "bdm":
                cols.append(self._bdm(cap, pos, sal))
            else:
                cols.append(self._dynamics(ids, X))
        return np.concatenate(cols, axis=1) if cols else np.empty((len(ids), 0))

    def _bdm(self, cap: np.ndarray, pos: np.ndarray, sal: np.ndarray) -> np.ndarray:
        """BDM per issue, all issues of the batch in one ``simulate_batch`` call; identical
        one-issue inputs (e.g. an issue a lever does not touch, across the policies of a
        scenario) are run once - the engine is deterministic, so this changes no number."""
        simulate_batch = bdm_batch()
        assert simulate_batch is not None
        m, n, d = pos.shape
        x0 = pos.transpose(0, 2, 1).reshape(m * d, n)
        s0 = sal.transpose(0, 2, 1).reshape(m * d, n)
        c0 = np.repeat(cap, d, axis=0)
        rows = np.ascontiguousarray(np.concatenate([c0, x0, s0], axis=1))
        # rows as opaque byte strings: only bit-identical inputs are merged, and a 1-D
        # unique is ~3x faster than unique(axis=0)
        keys = rows.view(np.dtype((np.void, rows.itemsize * rows.shape[1]))).ravel()
        _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        rounds = simulate_batch(c0[first], x0[first], s0[first], rounds=self.rounds)  # type: ignore[operator]
        last = np.asarray(rounds)[:, -1, :]
        w = _cs_weights(c0[first], s0[first])
        med = weighted_median(last.T, w.T)
        med = np.clip(med, x0[first].min(axis=1), x0[first].max(axis=1))
        return med[inverse.reshape(-1)].reshape(m, d)

    def _dynamics(self, ids: np.ndarray, X: np.ndarray) -> np.ndarray:
        dyn = dynamics_module()
        locations = value_locations(self.case)
        real = [(p, par) for p, par in enumerate(self.params) if not par.boolean]
        active = self.active_interventions(ids, X)
        out = np.empty((len(ids), len(_dynamics_names(self.case))))
        for r, e in enumerate(ids):
            case = case_with(self.case, {par.name: X[r, p] for p, par in real}, locations)
            names = [name for name, mask in active if mask[r]]
            sim = dyn.simulate(case, model="compromise", interventions=names,  # type: ignore[attr-defined]
                               rng=experiment_seed(self.entropy, int(e)))
            final, ind = sim.final_outcomes(), sim.final_indicators()
            out[r] = [final[i] for i in case.issue_names] + [ind[k] for k in sorted(ind)]
        return out


def _cs_weights(cap: np.ndarray, sal: np.ndarray) -> np.ndarray:
    """c*s weights ``(m, n)`` with the engines' fallback (capability, then equal weights)
    for an experiment whose weights are all zero."""
    w = cap * sal
    dead = w.sum(axis=1) <= 0
    if dead.any():
        fb = np.where(cap.sum(axis=1, keepdims=True) > 0, cap, 1.0)
        w[dead] = fb[dead]
    return w


def compromise_batch(cap: np.ndarray, pos: np.ndarray, sal: np.ndarray) -> np.ndarray:
    """Thomson et al. (2006) eq. 4.1 for a batch: ``(m, d)``; an issue where every c*s is
    zero falls back to capability weights, then to equal weights (as the engine does)."""
    w = cap[:, :, None] * sal
    dead = w.sum(axis=1) <= 0  # (m, d)
    if dead.any():
        fb = np.where(cap.sum(axis=1, keepdims=True) > 0, cap, 1.0)  # (m, n)
        w = np.where(dead[:, None, :], fb[:, :, None], w)
    f = (w * pos).sum(axis=1) / w.sum(axis=1)
    return np.clip(f, pos.min(axis=1), pos.max(axis=1))


def _dynamics_names(case: Case) -> list[str]:
    """Outcome names of the dynamics (one dry run on the stated case)."""
    dyn = dynamics_module()
    sim = dyn.simulate(case, model="compromise", rng=0)  # type: ignore[attr-defined]
    return [f"dynamics.{i}" for i in case.issue_names] + [
        f"dynamics.{k}" for k in sorted(sim.final_indicators())
    ]
