"""Many variants of one case at once, as stacked :class:`~alliancelab.core.problem.Problem`
arrays: the compiled, vectorised form of substituting values into a case
(:func:`alliancelab.scenarios.uncertainty.with_values`), applying shocks and levers to it
(:func:`alliancelab.scenarios.interventions.apply_interventions`) and building its arrays
(:meth:`Problem.from_case`) - with the same semantics, without building or validating a case
per variant (``tests/test_explore_batch.py`` checks the two agree on every shock and lever
of the shipped cases).

* :func:`entries` says where a number of the case (its location in ``case.model_dump()``,
  as :func:`~alliancelab.core.case.walk_values` gives it) lands in the Problem: a
  capability, position, salience, status quo, perceived estimate, arena influence weight,
  floor or ceiling. Numbers outside the Problem (threat perceptions, partner reliability,
  dynamics parameters, links) have no entry: they act only through the dynamics.
* :func:`compile_interventions` resolves each change's target once, with the target parser
  of :mod:`alliancelab.scenarios.interventions` itself, to array entries with their valid
  interval and, for ``converge``, their weight.
* :class:`ProblemBatch` holds ``m`` variants (experiments on a new leading axis):
  :meth:`~ProblemBatch.write` substitutes sampled values, :meth:`~ProblemBatch.apply` applies
  one intervention to the variants a mask selects (``set``, ``add``, ``scale``, ``converge``;
  each result clipped at once), :meth:`~ProblemBatch.problems` returns the Problems. As in
  :meth:`Problem.from_case`, an actor's perceived position, salience and capability of
  another follow the truth wherever the case states no estimate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from functools import lru_cache
from typing import Any

import numpy as np

from ..core.case import Case, Change, select_actors
from ..core.errors import AllianceLabError
from ..core.problem import Problem
from .interventions import _bounds, _resolve, check_names

__all__ = ["ACTOR_FIELDS", "ISSUE_FIELDS", "ArrayChange", "ProblemBatch", "compile_interventions",
           "entries", "truth_masks"]

Path = tuple[str | int, ...]
#: one entry of a Problem array: (field, index into the field)
Entry = tuple[str, tuple[int, ...]]

#: perceived field -> the field of the truth it follows where no estimate is stated
PERCEIVED = {"perceived_position": "position", "perceived_salience": "salience",
             "perceived_capability": "capability"}
_ACTOR_FIELDS = {"capability": "capability", "positions": "position", "saliences": "salience"}
_ESTIMATE_FIELDS = {"positions": "perceived_position", "saliences": "perceived_salience",
                    "capability": "perceived_capability"}
_ISSUE_FIELDS = ("status_quo", "floor", "ceiling")
#: the array fields of a Problem whose last axis is the issues, and the others
ISSUE_FIELDS = ("position", "salience", "lower", "upper", "status_quo", "perceived_position",
                "perceived_salience", "weight", "veto", "floor", "ceiling")
ACTOR_FIELDS = ("capability", "perceived_capability")


def entries(case: Case, path: Path) -> tuple[Entry, ...]:
    """The Problem entries the number at ``path`` sets (several for an influence weight
    given to a group); ``()`` for a number outside the Problem arrays."""
    if path[0] == "actors" and len(path) >= 3:
        return _actor_entries(case, path)
    if path[0] == "issues" and len(path) >= 3:
        k = int(path[1])
        if len(path) == 3 and path[2] in _ISSUE_FIELDS:
            return ((str(path[2]), (k,)),)
        if path[2:4] == ("arena", "influence") and len(path) == 5:
            return tuple(("weight", (a, k)) for a in select_actors(case, str(path[4])))
    return ()


def _actor_entries(case: Case, path: Path) -> tuple[Entry, ...]:
    i, kind = int(path[1]), path[2]
    if kind == "capability" and len(path) == 3:
        return (("capability", (i,)),)
    if kind in ("positions", "saliences") and len(path) == 4:
        return ((_ACTOR_FIELDS[str(kind)], (i, case.issue_names.index(str(path[3])))),)
    if path[2:4] == ("perceptions", "estimates") and len(path) >= 6:
        j = case.actor_names.index(str(path[4]))
        field = _ESTIMATE_FIELDS.get(str(path[5]))
        if field == "perceived_capability" and len(path) == 6:
            return ((field, (i, j)),)
        if field is not None and len(path) == 7:
            return ((field, (i, j, case.issue_names.index(str(path[6])))),)
    return ()


def truth_masks(case: Case) -> dict[str, np.ndarray]:
    """Perceived field -> bool array (its shape in the Problem): True where actor i's
    estimate of actor j is the truth (the case states none)."""
    n, d = len(case.actors), len(case.issues)
    out = {"perceived_position": np.ones((n, n, d), dtype=bool),
           "perceived_salience": np.ones((n, n, d), dtype=bool),
           "perceived_capability": np.ones((n, n), dtype=bool)}
    for i, actor in enumerate(case.actors):
        for other, est in actor.perceptions.estimates.items():
            path: Path = ("actors", i, "perceptions", "estimates", other)
            for kind, values in (("positions", est.positions), ("saliences", est.saliences)):
                for issue in values:
                    for field, idx in entries(case, (*path, kind, issue)):
                        out[field][idx] = False
            if est.capability is not None:
                out["perceived_capability"][i, case.actor_names.index(other)] = False
    return out


# -- interventions, compiled ---------------------------------------------------------------


@dataclass(frozen=True)
class _Part:
    """The entries of one Problem field a change touches: ``index`` one array per axis of
    the field; per entry its valid interval, the actor whose capability weighs it in a
    ``converge`` (-1: weight 1) and its share of its number (1 / entries of the number)."""

    field: str
    index: tuple[np.ndarray, ...]
    lo: np.ndarray
    hi: np.ndarray
    actor: np.ndarray
    share: np.ndarray


@dataclass(frozen=True)
class ArrayChange:
    """One :class:`~alliancelab.core.case.Change` resolved to Problem entries."""

    op: str
    value: float
    parts: tuple[_Part, ...]


def compile_interventions(case: Case, names: Sequence[str] | None = None
                          ) -> dict[str, tuple[ArrayChange, ...]]:
    """Each named shock's and lever's changes (default: every one of the case), in order,
    as :class:`ArrayChange` (changes that touch no Problem number are left out)."""
    items = [*case.shocks, *case.levers]
    if names is not None:
        wanted = set(check_names(case, names))
        items = [iv for iv in items if iv.name in wanted]
    out: dict[str, tuple[ArrayChange, ...]] = {}
    data: dict[str, Any] | None = None
    where: dict[int, Path] = {}
    for iv in items:
        if data is None:  # its changes see each other's numbers, not another intervention's
            data = case.model_dump()
            where = _containers(data)
        compiled = [_compile(case, ch, iv.name, data, where) for ch in iv.changes]
        out[iv.name] = tuple(c for c in compiled if c.parts)
        if any(ch.op == "set" for ch in iv.changes):
            data = None  # only a ``set`` writes into ``data``: the next one needs a fresh copy
    return out


def compile_change(case: Case, change: Change, label: str = "change",
                   data: dict[str, Any] | None = None) -> ArrayChange:
    """``change`` resolved by the target parser of
    :func:`~alliancelab.scenarios.interventions.apply_changes` on ``data`` (default
    ``case.model_dump()``), into which a ``set`` writes the numbers it creates, so that the
    next change of the same intervention finds them, as ``apply_changes`` does. (A target
    with ``*`` is resolved on the case as stated plus the intervention's own earlier
    changes: it does not see an estimate that another intervention creates.)"""
    data = case.model_dump() if data is None else data
    return _compile(case, change, label, data, _containers(data))


def _compile(case: Case, change: Change, label: str, data: dict[str, Any],
             where: dict[int, Path]) -> ArrayChange:
    """:func:`compile_change`, with ``where`` the paths of the containers of ``data``
    (:func:`_containers`, brought up to date here when resolving creates a container)."""
    scales = {i["name"]: (i["scale"]["min"], i["scale"]["max"]) for i in data["issues"]}
    leaves = list(_resolve(data, change.target.split("."), change.op == "set"))
    if not leaves:
        raise AllianceLabError(
            f"{label}: target {change.target!r} matches no number in case {case.name!r}",
            field="changes.target")
    if any(id(leaf.parent) not in where for leaf in leaves):  # a ``set`` created an estimate
        _containers(data, out=where)
    rows: dict[str, list[tuple[tuple[int, ...], float, float, int, float]]] = {}
    for leaf in leaves:
        path: Path = (*where[id(leaf.parent)], leaf.key)
        if path[0] == "issues" and "scale" in path:
            raise AllianceLabError(
                f"{label}: a change of an issue's scale ({change.target}) cannot be applied "
                "to many variants at once", field="changes.target")
        hits = entries(case, path)
        if change.op == "set" and _value(leaf) is None:
            leaf.parent[leaf.key] = {"value": float(change.value), "range": None}
        lo, hi = _bounds(leaf.kind, scales)
        for field, idx in hits:
            rows.setdefault(field, []).append(
                (idx, lo, hi, -1 if leaf.actor is None else int(leaf.actor), 1.0 / len(hits)))
    parts = []
    for field, got in rows.items():
        index = np.array([g[0] for g in got], dtype=np.intp)
        parts.append(_Part(field, tuple(index.T), *(np.array([g[c] for g in got])
                                                     for c in (1, 2, 3, 4))))
    return ArrayChange(change.op, float(change.value), tuple(parts))


def _value(leaf: Any) -> Any:
    parent = leaf.parent
    return parent.get(leaf.key) if isinstance(parent, dict) else parent[leaf.key]


def _containers(node: Any, path: Path = (), out: dict[int, Path] | None = None
                ) -> dict[int, Path]:
    """id of every dict and list under ``node`` -> its path (added to ``out``)."""
    out = {} if out is None else out
    out[id(node)] = path
    items = node.items() if isinstance(node, dict) else enumerate(node) \
        if isinstance(node, list) else ()
    for key, value in items:
        if isinstance(value, dict | list):
            _containers(value, (*path, key), out)
    return out


# -- the batch ------------------------------------------------------------------------------


class ProblemBatch:
    """``m`` variants of ``base`` (see the module docstring). Fields are copied per variant
    only once something writes to them; ``follows`` are :func:`truth_masks`."""

    def __init__(self, base: Problem, m: int, follows: dict[str, np.ndarray]) -> None:
        self.base = base
        self.m = int(m)
        self._arrays: dict[str, np.ndarray] = {}
        self._stated = {f: ~np.asarray(v) for f, v in follows.items()}  # the case's estimates
        self._follows = dict(follows)
        self._view: dict[str, np.ndarray] | None = None  # the perceived fields, until a write

    @classmethod
    def of(cls, case: Case, m: int) -> ProblemBatch:
        return cls(Problem.from_case(case), m, truth_masks(case))

    def array(self, field: str) -> np.ndarray:
        """Field ``field`` of every variant, ``(m, ...)``, writable."""
        arr = self._arrays.get(field)
        if arr is None:
            base = np.asarray(getattr(self.base, field))
            if field in PERCEIVED:  # only the estimates the case states; the rest follows
                arr = np.zeros((self.m, *base.shape))  # the truth (:meth:`_perceived`)
                stated = self._stated[field]
                arr[:, stated] = base[stated]
            else:
                arr = np.repeat(base[None], self.m, axis=0)
            self._arrays[field] = arr
        return arr

    def write(self, where: Sequence[tuple[Entry, ...]], values: np.ndarray) -> None:
        """Column ``p`` of ``values`` ``(m, P)`` into the entries ``where[p]``."""
        self._view = None
        values = np.asarray(values, dtype=float)
        if values.shape[1] != len(where):
            raise ValueError(f"{values.shape[1]} columns of values for {len(where)} entries")
        for field, (cols, index) in _write_plan(tuple(where)).items():
            self.array(field)[(slice(None), *index)] = values[:, cols]  # type: ignore[index]

    def apply(self, changes: Sequence[ArrayChange], mask: np.ndarray) -> None:
        """One intervention's changes, in order, to the variants ``mask`` selects, with the
        semantics of :func:`~alliancelab.scenarios.interventions.apply_changes`: a
        ``converge`` weighs each number by its actor's capability as it stood before the
        intervention; a number that is not there (a status quo, floor or ceiling the case
        leaves out, an estimate it does not state) is only created by ``set``."""
        rows = np.flatnonzero(mask)
        if rows.size == 0 or not changes:
            return
        self._view = None
        cap0 = self.array("capability")[rows]
        for ch in changes:
            olds = [self._get(p, rows) for p in ch.parts]
            there = [self._present(p, rows, old) for p, old in zip(ch.parts, olds, strict=True)]
            mean = _mean(ch, olds, there, cap0) if ch.op == "converge" else None
            for p, old, ok in zip(ch.parts, olds, there, strict=True):
                new = _updated(ch.op, ch.value, old, mean)
                if ch.op != "set":
                    new = np.where(ok, new, old)
                elif p.field in PERCEIVED:
                    self._estimate_stated(p, rows)
                self.array(p.field)[(rows[:, None], *p.index)] = np.clip(new, p.lo, p.hi)

    def _get(self, part: _Part, rows: np.ndarray) -> np.ndarray:
        arr = self._arrays.get(part.field)
        if arr is None:
            base = np.asarray(getattr(self.base, part.field))[part.index]
            return np.broadcast_to(base, (len(rows), len(part.lo))).copy()
        return arr[(rows[:, None], *part.index)]

    def _present(self, part: _Part, rows: np.ndarray, old: np.ndarray) -> np.ndarray:
        if part.field in PERCEIVED:
            follows = self._follows[part.field]
            if follows.ndim == len(part.index):
                return np.broadcast_to(~follows[part.index], old.shape)
            return ~follows[(rows[:, None], *part.index)]
        return np.isfinite(old) if part.field in _ISSUE_FIELDS else np.ones(old.shape, bool)

    def _estimate_stated(self, part: _Part, rows: np.ndarray) -> None:
        follows = self._follows[part.field]
        if follows.ndim == len(part.index):
            follows = self._follows[part.field] = np.repeat(follows[None], self.m, axis=0)
        follows[(rows[:, None], *part.index)] = False

    def _perceived(self) -> dict[str, np.ndarray]:
        """The perceived fields that differ from the base: the truth where no estimate is
        stated (a broadcast view when the case states none), the estimates elsewhere."""
        if self._view is not None:
            return self._view
        out: dict[str, np.ndarray] = {}
        for field, truth_field in PERCEIVED.items():
            if truth_field not in self._arrays and field not in self._arrays:
                continue
            truth = self.array(truth_field)
            follows = self._follows[field]
            if field not in self._arrays and bool(follows.all()):
                full = (self.m, truth.shape[1], *truth.shape[1:])
                out[field] = np.broadcast_to(truth[:, None], full)
            else:  # in place: the entries that follow the truth hold no estimate of their own
                out[field] = self.array(field)
                np.copyto(out[field], truth[:, None], where=follows)
        self._view = out
        return out

    def problems(self) -> list[Problem]:
        """The ``m`` Problems (unchanged fields are shared with the base, not copied)."""
        fields = {**self._arrays, **self._perceived()}
        state = {f.name: getattr(self.base, f.name) for f in dataclass_fields(self.base)}
        return [_variant(self.base, state, {f: a[r] for f, a in fields.items()})
                for r in range(self.m)]

    def issue_keys(self, k: int) -> np.ndarray:
        """``(m, L)``: the numbers that can differ between the variants on issue ``k`` - the
        issue-``k`` part of every field written to (of a perceived field only the estimates
        the case states, when no intervention creates one: the rest follows the truth) and
        every actor-level field written to. Variants with equal rows have equal one-issue
        problems (:meth:`issue_problems`)."""
        self._perceived()
        parts = [self._key_part(f, arr, k).reshape(self.m, -1) for f, arr in self._arrays.items()]
        return np.concatenate(parts, axis=1) if parts else np.zeros((self.m, 0))

    def _key_part(self, field: str, arr: np.ndarray, k: int) -> np.ndarray:
        part = arr[..., k] if field in ISSUE_FIELDS else arr
        stated = self._stated.get(field)
        if stated is None or self._follows[field].ndim != stated.ndim:
            return part
        return part[:, stated[..., k] if field in ISSUE_FIELDS else stated]

    def issue_problems(self, rows: np.ndarray, k: int) -> list[Problem]:
        """Variants ``rows`` restricted to issue ``k`` (one-issue Problems)."""
        fields = {f: a[..., k:k + 1] if f in ISSUE_FIELDS else a
                  for f, a in {**self._arrays, **self._perceived()}.items()}
        state = {f.name: getattr(self.base, f.name) for f in dataclass_fields(self.base)}
        state.update({f: np.asarray(state[f])[..., k:k + 1] for f in ISSUE_FIELDS})
        state["issues"] = (self.base.issues[k],)
        out = []
        for r in rows:
            one = object.__new__(type(self.base))
            one.__dict__.update(state)
            one.__dict__.update({f: a[r] for f, a in fields.items()})
            out.append(one)
        return out


@lru_cache(maxsize=8)
def _write_plan(where: tuple[tuple[Entry, ...], ...]
                ) -> dict[str, tuple[np.ndarray, tuple[np.ndarray, ...]]]:
    """:meth:`ProblemBatch.write` per field, in the order the fields first appear: the
    column of ``values`` each entry takes (the last one that names it) and the entries, one
    index array per axis of the field."""
    last: dict[str, dict[tuple[int, ...], int]] = {}
    for col, hits in enumerate(where):
        for field, idx in hits:
            last.setdefault(field, {})[idx] = col
    return {field: (np.array(list(got.values()), dtype=np.intp),
                    tuple(np.array(list(got), dtype=np.intp).reshape(len(got), -1).T))
            for field, got in last.items()}


def _variant(base: Problem, state: dict[str, Any], fields: dict[str, Any]) -> Problem:
    """``dataclasses.replace(base, **fields)`` without running ``__init__`` again (the base
    was checked; ``state`` is its fields by name; every field given is an array of the base's
    layout): a tenth of the time, for thousands of variants per batch."""
    out = object.__new__(type(base))
    out.__dict__.update(state)
    out.__dict__.update(fields)
    return out


def _mean(ch: ArrayChange, olds: list[np.ndarray], there: list[np.ndarray],
          cap0: np.ndarray) -> np.ndarray:
    """Per variant, the mean of the numbers a ``converge`` matched, each weighted by its
    actor's capability (1 without an actor) and counted once; 0 when the weights sum to 0."""
    num = np.zeros(cap0.shape[0])
    den = np.zeros(cap0.shape[0])
    for p, old, ok in zip(ch.parts, olds, there, strict=True):
        w = np.where(p.actor >= 0, cap0[:, np.maximum(p.actor, 0)], 1.0) * p.share * ok
        num += (w * np.where(ok, old, 0.0)).sum(axis=1)
        den += w.sum(axis=1)
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)[:, None]


def _updated(op: str, x: float, old: np.ndarray, mean: np.ndarray | None) -> np.ndarray:
    if op == "set":
        return np.full_like(old, x)
    if op == "add":
        return old + x
    if op == "scale":
        return old * x
    assert mean is not None
    return old + x * (mean - old)
