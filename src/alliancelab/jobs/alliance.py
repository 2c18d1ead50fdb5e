"""The case's plug-in models (``case.plugin``, e.g. :mod:`alliancelab.cases.us_rok`) over
the baseline and every shock and lever, on the case as stated and on Monte Carlo draws.

A plug-in is a module with ``evaluate(case) -> (indicators, labels)``: numeric indicators
(averaged into bands) and categorical labels (e.g. an equilibrium family, counted as shares
of the draws); optionally ``HEADLINES``, the indicators the console summary shows, and
``evaluate_many(cases)``, the list of ``evaluate(case)`` computed together (faster; when it
raises, the cases are evaluated one by one, so that a failure stays with its case). A case
without ``plugin`` has no alliance-model tables; a plug-in that cannot be imported, or has
no ``evaluate``, is the one-line error. Each scenario is the case with
its interventions applied (:attr:`alliancelab.scenarios.scenario.Scenario.case`); common
random numbers: the effect in a draw is the difference on the same drawn case.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from ..core.case import Case
from ..core.errors import AllianceLabError
from ..execution import Evaluator, Pending, chunk_bounds
from ..scenarios.scenario import Scenario
from ..scenarios.uncertainty import Draws, Uncertain
from .effects import (
    EFFECT_COLUMNS,
    EffectTask,
    Metrics,
    PendingEffects,
    ScenarioSet,
    Tick,
    bands,
    measure_all,
    variant_case,
)

__all__ = ["ALLIANCE_COLUMNS", "LABEL_COLUMNS", "AllianceTables", "PendingAlliance",
           "alliance_label_table", "alliance_tables", "load_plugin",
           "submit_alliance", "submit_variants", "variants_task"]

#: the alliance table: the effect columns, the 5/50/95% of the value over the draws, and the
#: number of draws with a finite value.
ALLIANCE_COLUMNS = [*EFFECT_COLUMNS, "p5", "p50", "p95", "draws"]
LABEL_COLUMNS = ["scenario", "kind", "item", "label", "share", "draws", "stated", "modal"]

#: one scenario's (indicators, labels, error or None).
AllianceEval = tuple[dict[str, float], dict[str, str], str | None]
#: chunks of variants per worker in :func:`submit_variants` (fewer, bigger chunks amortise
#: the per-call costs; a few per worker keep the workers evenly loaded).
CHUNKS_PER_WORKER = 3
#: games whose solver may fail, by the indicator that flags it.
SOLVER_FLAGS = (("solver.aeg_failed", "asymmetric escalation game"),
                ("solver.tcg_failed", "tripartite crisis game"))


@dataclass(frozen=True)
class AllianceTables:
    """``effects``: rows for the effects table (metric ``alliance model``); ``table``:
    :data:`ALLIANCE_COLUMNS`; ``labels``: :func:`alliance_label_table`. The tables are
    None when the case has no plug-in (or it does not fit the case, with a note);
    ``headlines`` are the plug-in's ``HEADLINES``."""

    effects: pd.DataFrame
    table: pd.DataFrame | None = None
    labels: pd.DataFrame | None = None
    headlines: tuple[str, ...] = ()


def load_plugin(case: Case) -> ModuleType | None:
    """The case's plug-in module (checked to have ``evaluate``), or None when the case
    names none."""
    if case.plugin is None:
        return None
    try:
        module = importlib.import_module(case.plugin)
    except ImportError as exc:
        raise AllianceLabError(f"cannot import the plug-in {case.plugin!r} "
                               f"({type(exc).__name__}: {exc})", field="plugin") from None
    if not callable(getattr(module, "evaluate", None)):
        raise AllianceLabError(f"the plug-in {case.plugin!r} has no evaluate(case) -> "
                               "(indicators, labels)", field="plugin")
    return module


def _alliance_task(case: Case, params: tuple[Uncertain, ...], sample: np.ndarray | None,
                   combos: list[tuple[str, ...]]) -> list[AllianceEval]:
    """The plug-in on one variant of the case under every combination of interventions."""
    base = variant_case(case, params, sample)
    return _evaluate_all(case, [[Scenario(base, combo) for combo in combos]])[0]


def _evaluate_all(case: Case, variants: list[list[Scenario]]) -> list[list[AllianceEval]]:
    """The plug-in of ``case`` on each scenario of each variant of it: all of them in one
    ``evaluate_many`` when the plug-in has it; when that raises, variant by variant, and a
    variant whose ``evaluate_many`` raises case by case, so that a failure stays with its
    case."""
    module = load_plugin(case)
    assert module is not None
    many = getattr(module, "evaluate_many", None)
    if callable(many):
        try:
            flat = iter([_checked(ind, lab)
                         for ind, lab in many([sc.case for v in variants for sc in v])])
            return [[next(flat) for _ in v] for v in variants]
        except Exception:  # noqa: BLE001, S110 - one case failed: find which
            pass
    if len(variants) > 1:
        return [_evaluate_all(case, [v])[0] for v in variants]
    out: list[AllianceEval] = []
    for sc in variants[0]:
        try:
            out.append(_checked(*module.evaluate(sc.case)))
        except Exception as exc:  # noqa: BLE001 - a plug-in failing on one variant
            out.append(({}, {}, f"{type(exc).__name__}: {exc}"))
    return [out]


def _checked(ind: Mapping[str, Any], lab: Mapping[str, Any]) -> AllianceEval:
    return ({str(k): float(v) for k, v in ind.items()},
            {str(k): str(v) for k, v in lab.items()}, None)


def variants_task(case: Case, params: tuple[Uncertain, ...], samples: list[np.ndarray | None],
                  combos: list[tuple[str, ...]], effects: list[EffectTask], n_alliance: int
                  ) -> tuple[list[list[tuple[Metrics, dict[str, str]]]],
                             list[list[AllianceEval]]]:
    """Variants of the case (``samples``: a Monte Carlo draw each, None for the case as
    stated) under every combination of interventions, computed together: the effect
    measurements of the first ``len(effects)`` of them
    (:func:`~alliancelab.jobs.effects.measure_all`) and the plug-in evaluations of the
    first ``n_alliance`` (:func:`_evaluate_all`), on the same scenario objects, so each
    intervened case is built once for both."""
    bases = [variant_case(case, params, s) for s in samples]
    scenarios = [[Scenario(base, combo) for combo in combos] for base in bases]
    measured = measure_all(list(zip(scenarios[:len(effects)], effects, strict=True))) \
        if effects else []
    return measured, _evaluate_all(case, scenarios[:n_alliance]) if n_alliance else []


def alliance_tables(case: Case, mc: Draws, sets: list[ScenarioSet], n_draws: int,
                    evaluator: Evaluator, tick: Tick, notes: list[str]) -> AllianceTables:
    """The plug-in on the case as stated and on ``n_draws`` Monte Carlo draws, each under
    the baseline and every scenario of ``sets`` (see the module docstring)."""
    return submit_alliance(case, mc, sets, n_draws, evaluator, notes).result(tick, notes)


@dataclass
class PendingAlliance:
    """The plug-in evaluations :func:`submit_alliance` started; :meth:`result` collects
    the :class:`AllianceTables` (empty when ``pending`` is None)."""

    sets: list[ScenarioSet]
    pending: Pending | None = None
    headlines: tuple[str, ...] = ()
    #: when set, each task returns a tuple whose item ``part`` is the evaluations of its
    #: variants that have them, as in :func:`variants_task`
    part: int | None = None

    def result(self, tick: Tick, notes: list[str]) -> AllianceTables:
        """:func:`alliance_tables`'s tables; ``tick("alliance models", done, total)``."""
        if self.pending is None:
            return AllianceTables(pd.DataFrame(columns=EFFECT_COLUMNS))
        total = len(self.pending)
        raw = self.pending.result(tick=lambda done: tick("alliance models", done, total))
        per = raw if self.part is None else [v for r in raw for v in r[self.part]]
        labels = ["baseline", *(s.label for s in self.sets)]
        kinds = ["baseline", *(s.kind for s in self.sets)]
        _failure_notes(per, len(per) * (len(self.sets) + 1), notes)
        table = _alliance_rows(per, labels, kinds)
        effects = table[table["kind"] != "baseline"][EFFECT_COLUMNS].reset_index(drop=True)
        return AllianceTables(effects, table, alliance_label_table(per, labels, kinds),
                              self.headlines)


def submit_alliance(case: Case, mc: Draws, sets: list[ScenarioSet], n_draws: int,
                    evaluator: Evaluator, notes: list[str]) -> PendingAlliance:
    """:func:`alliance_tables` started on ``evaluator`` (see :meth:`Evaluator.submit_map
    <alliancelab.execution.Evaluator.submit_map>`), collected by
    :meth:`PendingAlliance.result`. The plug-in is tried on the case as stated first, here:
    when it does not fit the case, nothing is started and ``notes`` says why."""
    headlines = _fitting_plugin(case, notes)
    if headlines is None:
        return PendingAlliance(sets)
    combos: list[tuple[str, ...]] = [(), *(s.interventions for s in sets)]
    tasks = [(case, mc.params, None if j == 0 else mc.samples[j - 1], combos)
             for j in range(n_draws + 1)]
    return PendingAlliance(sets, evaluator.submit_map(_alliance_task, tasks), headlines)


def _fitting_plugin(case: Case, notes: list[str]) -> tuple[str, ...] | None:
    """The ``HEADLINES`` of the case's plug-in when it evaluates the case as stated; None
    (with a note when it fails on the case) otherwise."""
    module = load_plugin(case)
    if module is None:
        return None
    try:
        module.evaluate(case)
    except Exception as exc:  # noqa: BLE001 - the plug-in may not fit this case
        notes.append(f"alliance models ({case.plugin}) not applied to this case "
                     f"({type(exc).__name__}: {exc})")
        return None
    return tuple(getattr(module, "HEADLINES", ()))


def submit_variants(case: Case, mc: Draws, sets: list[ScenarioSet], effects: list[EffectTask],
                    n_alliance: int, evaluator: Evaluator, notes: list[str]
                    ) -> tuple[PendingEffects, PendingAlliance]:
    """The effects (``effects``: the case as stated, then the first draws; see
    :func:`~alliancelab.jobs.effects.effect_tasks`) and the plug-in on the case as stated
    and ``n_alliance`` draws, started on ``evaluator`` in chunks of consecutive variants,
    about :data:`CHUNKS_PER_WORKER` per worker, each one task (:func:`variants_task`): a
    chunk's variants are computed together, and a variant that both need builds its
    intervened cases once. Gives what :func:`~alliancelab.jobs.effects.submit_effects` and
    :func:`submit_alliance` give (ticking once per chunk); ``notes`` says when the plug-in
    does not fit the case."""
    headlines = _fitting_plugin(case, notes)
    effects = effects if sets else []
    n_ally = 0 if headlines is None else n_alliance + 1
    n = max(len(effects), n_ally)
    combos: list[tuple[str, ...]] = [(), *(s.interventions for s in sets)]
    samples = [None if j == 0 else mc.samples[j - 1] for j in range(n)]
    size = -(-n // (CHUNKS_PER_WORKER * evaluator.workers))
    tasks = [(case, mc.params, samples[a:b], combos, effects[a:b], max(0, min(b, n_ally) - a))
             for a, b in chunk_bounds(n, size)]
    pending = evaluator.submit_map(variants_task, tasks) if tasks else None
    return (PendingEffects(sets, pending if effects else None, part=0),
            PendingAlliance(sets, pending if n_ally else None, headlines or (), part=1))


def _failure_notes(per: list[list[AllianceEval]], total: int, notes: list[str]) -> None:
    errors = [e for pv in per for _, _, e in pv if e]
    if errors:
        notes.append(f"alliance models failed on {len(errors)} of {total} variants "
                     f"({errors[0]}); those variants are left out of the bands")
    for key, game in SOLVER_FLAGS:
        failed = sum(ind.get(key, 0.0) > 0 for pv in per for ind, _, _ in pv)
        if failed:
            notes.append(f"alliance models: the {game} solver found no equilibrium on "
                         f"{failed} of {total} variants; its indicators are left out of the "
                         "bands there")


def _alliance_rows(per: list[list[AllianceEval]], labels: list[str],
                   kinds: list[str]) -> pd.DataFrame:
    """:data:`ALLIANCE_COLUMNS`: per scenario and indicator, the stated value and effect,
    the bands of the value and (not for the baseline) of the effect over the draws."""
    items = list(dict.fromkeys(k for pv in per for ind, _, _ in pv for k in ind))
    draws = per[1:]
    # (scenario, item, draw): the values over the draws
    vals = np.array([[[pv[k][0].get(item, np.nan) for pv in draws] for item in items]
                     for k in range(len(labels))], dtype=float).reshape(
                         len(labels), len(items), len(draws))
    n_rows = len(labels) * len(items)
    value_bands = bands(vals.reshape(n_rows, len(draws)), len(draws))
    effect_bands = bands((vals[1:] - vals[:1]).reshape(n_rows - len(items), len(draws)),
                         len(draws))
    rows = []
    for k, (label, kind) in enumerate(zip(labels, kinds, strict=True)):
        for i, item in enumerate(items):
            stated = per[0][k][0].get(item, np.nan)
            base_stated = per[0][0][0].get(item, np.nan)
            p5, p50, p95 = value_bands[k * len(items) + i]
            e5, e50, e95 = effect_bands[(k - 1) * len(items) + i] if k > 0 else (np.nan,) * 3
            rows.append({"scenario": label, "kind": kind, "metric": "alliance model",
                         "model": "", "item": item, "baseline": base_stated, "value": stated,
                         "effect": stated - base_stated, "p5": p5, "p50": p50, "p95": p95,
                         "draws": int(np.isfinite(vals[k, i]).sum()),
                         "effect_p5": e5, "effect_p50": e50, "effect_p95": e95})
    return pd.DataFrame(rows, columns=ALLIANCE_COLUMNS)


def alliance_label_table(per: list[list[AllianceEval]], labels: list[str],
                         kinds: list[str]) -> pd.DataFrame | None:
    """Categorical results (e.g. the AEG's equilibrium family), which cannot be averaged:
    per scenario and item, the share of the draws giving each label (over the stated case
    alone when there are no draws), whether the stated case gives it, and whether it is
    the modal label."""
    draws = per[1:] if len(per) > 1 else per[:1]
    rows = []
    for k, (label, kind) in enumerate(zip(labels, kinds, strict=True)):
        stated = per[0][k][1]
        for item in dict.fromkeys(i for pv in per for i in pv[k][1]):
            seen = [pv[k][1][item] for pv in draws if item in pv[k][1]]
            if not seen:
                continue
            counts = pd.Series(seen).value_counts(sort=False)
            top = max(counts.items(), key=lambda kv: (kv[1], kv[0] == stated.get(item)))
            for lab, cnt in counts.items():
                rows.append({"scenario": label, "kind": kind, "item": item, "label": lab,
                             "share": cnt / len(seen), "draws": len(seen),
                             "stated": stated.get(item) == lab, "modal": lab == top[0]})
    return pd.DataFrame(rows, columns=LABEL_COLUMNS) if rows else None
