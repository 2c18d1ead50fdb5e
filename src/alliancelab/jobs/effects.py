"""The effect of every shock and lever - each alone, and the chosen combination - on the
forecasts (per engine), the dynamics' final outcomes and indicators, and the perception gap.

Every scenario is measured through :class:`~alliancelab.scenarios.scenario.Scenario`, the
one path for a case with interventions: the engines forecast the intervened case, the
dynamics run the base case with each intervention at its ``at_round`` - exactly as the run
itself does, so the chosen scenario's row here is the run's own result minus the baseline.

Point effects use the case as stated, with the point run's seeds; the 5-95% band of each
effect comes from Monte Carlo draws with common random numbers (the same drawn case and
the same seeds with and without the intervention), so it reflects the uncertainty of the
*effect*, not the sum of two independent bands.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..core.case import Case
from ..core.problem import Problem
from ..execution import Evaluator, Pending, solve_chunk
from ..models.dynamics import Simulation
from ..scenarios.interventions import intervention_names
from ..scenarios.scenario import Scenario, simulate_all
from ..scenarios.uncertainty import Draws, Uncertain, quantile_bands, with_values
from .gaps import gap_items
from .results import DYNAMICS_MODEL

__all__ = ["EFFECT_COLUMNS", "EffectTask", "PendingEffects", "ScenarioSet", "VariantSeeds",
           "bands", "effect_tasks", "measure", "measure_all", "scenario_sets", "shock_effects",
           "submit_effects", "variant_case"]

EFFECT_COLUMNS = ["scenario", "kind", "metric", "model", "item", "baseline", "value", "effect",
                  "effect_p5", "effect_p50", "effect_p95"]

#: ``(metric, model, item) -> value`` of one scenario.
Metrics = dict[tuple[str, str, str], float]
Tick = Callable[[str, int, int], None]


@dataclass(frozen=True)
class ScenarioSet:
    """One row group of the effects table: ``kind`` shock, lever or combination."""

    kind: str
    label: str
    interventions: tuple[str, ...]


@dataclass(frozen=True)
class VariantSeeds:
    """The seeds of one variant of the case: one per engine (aligned with the run's
    models) and one for the dynamics; every scenario of the variant uses them."""

    models: tuple[np.random.SeedSequence, ...]
    dynamics: np.random.SeedSequence

    @classmethod
    def of_draw(cls, seq: np.random.SeedSequence, n_models: int) -> VariantSeeds:
        """A draw's seeds: the first ``n_models`` children of ``seq`` and ``seq`` itself."""
        fresh = np.random.SeedSequence(seq.entropy, spawn_key=seq.spawn_key)
        return cls(tuple(fresh.spawn(n_models)), seq)


def scenario_sets(case: Case, chosen: Sequence[str]) -> list[ScenarioSet]:
    """Every single shock and lever, and the chosen combination when more than one is
    chosen."""
    names = intervention_names(case)
    sets = [*(ScenarioSet("shock", n, (n,)) for n in names["shocks"]),
            *(ScenarioSet("lever", n, (n,)) for n in names["levers"])]
    if len(chosen) > 1:
        sets.append(ScenarioSet("combination", " + ".join(chosen), tuple(chosen)))
    return sets


def variant_case(case: Case, params: tuple[Uncertain, ...], sample: np.ndarray | None) -> Case:
    """The case as stated (``sample`` None) or with one Monte Carlo draw substituted."""
    return case if sample is None or not params else with_values(case, params, sample)


def measure(scen: Scenario, solved: dict[str, np.ndarray | str], sim: Simulation
            ) -> tuple[Metrics, dict[str, str]]:
    """Every metric of one scenario, and the parts that failed on it (``{part: error}``):
    the forecast of each engine (``solved``: engine -> forecast or the failure's message),
    the dynamics' final outcomes and indicators (``sim``), and the perception gap of the
    intervened case."""
    out: Metrics = {}
    failed: dict[str, str] = {}
    issues = scen.case.issue_names
    for model, result in solved.items():
        if isinstance(result, str):
            failed[f"{model} forecast"] = result
            result = np.full(len(issues), np.nan)
        for issue, v in zip(issues, result, strict=True):
            out[("forecast", model, issue)] = float(v)
    for issue, v in sim.final_outcomes().items():
        out[("dynamics outcome", DYNAMICS_MODEL, issue)] = float(v)
    for name, v in sim.final_indicators().items():
        out[("indicator", DYNAMICS_MODEL, name)] = float(v)
    for (kind, item), v in gap_items(scen.case).items():
        out[(f"gap: {kind}", "", item)] = v
    return out, failed


def _variant_task(
    case: Case, params: tuple[Uncertain, ...], sample: np.ndarray | None,
    combos: list[tuple[str, ...]], seeds: VariantSeeds, models: tuple[str, ...],
    forecast: frozenset[str],
) -> list[tuple[Metrics, dict[str, str]]]:
    """One variant of the case measured under every combination of interventions."""
    base = variant_case(case, params, sample)
    return measure_all([([Scenario(base, combo) for combo in combos],
                         EffectTask(seeds, models, forecast))])[0]


@dataclass(frozen=True)
class EffectTask:
    """What :func:`measure` needs besides the scenario: the variant's seeds, the run's
    models and the engines to forecast with."""

    seeds: VariantSeeds
    models: tuple[str, ...]
    forecast: frozenset[str]


def measure_all(variants: Sequence[tuple[Sequence[Scenario], EffectTask]]
                ) -> list[list[tuple[Metrics, dict[str, str]]]]:
    """:func:`measure` on each scenario of each variant (``(scenarios, task)``, the
    baseline first), all computed together: the dynamics of every scenario stepped together
    and each engine's forecasts of all of them in one batch. Common random numbers: within
    a variant, each engine, and the dynamics, use one seed (the variant's) for every
    scenario."""
    scenarios = [sc for scs, _ in variants for sc in scs]
    sims = iter(simulate_all(scenarios, [_dynamics_rng(t.seeds) for scs, t in variants
                                         for _ in scs], model=DYNAMICS_MODEL))
    engines = [[(model, seq) for model, seq in zip(t.models, t.seeds.models, strict=True)
                if model in t.forecast] for _, t in variants]
    chunks: dict[str, list[tuple[Problem, np.random.SeedSequence]]] = {}
    for (scs, _), used in zip(variants, engines, strict=True):
        problems = [sc.problem() for sc in scs]
        for model, seq in used:
            chunks.setdefault(model, []).extend((p, seq) for p in problems)
    results = {model: iter(solve_chunk(chunk, model)) for model, chunk in chunks.items()}
    out = []
    for (scs, _), used in zip(variants, engines, strict=True):
        solved = {model: [next(results[model]) for _ in scs] for model, _ in used}
        out.append([measure(sc, {model: r[k] for model, r in solved.items()}, next(sims))
                    for k, sc in enumerate(scs)])
    return out


def _dynamics_rng(seeds: VariantSeeds) -> np.random.Generator:
    return np.random.default_rng(seeds.dynamics)


def effect_tasks(*, models: tuple[str, ...], band_models: tuple[str, ...], n_draws: int,
                 stated: VariantSeeds, seq: np.random.SeedSequence) -> list[EffectTask]:
    """The :class:`EffectTask` of the case as stated (every engine, the seeds ``stated``)
    and of the first ``n_draws`` Monte Carlo draws (the ``band_models``, seeds spawned from
    ``seq``), in that order."""
    draw_seeds = seq.spawn(n_draws + 1)
    return [EffectTask(stated, models, frozenset(models)),
            *(EffectTask(VariantSeeds.of_draw(draw_seeds[j], len(models)), models,
                         frozenset(band_models)) for j in range(1, n_draws + 1))]


def shock_effects(
    case: Case, mc: Draws, sets: list[ScenarioSet], *, models: tuple[str, ...],
    band_models: tuple[str, ...], n_draws: int, stated: VariantSeeds,
    seq: np.random.SeedSequence, evaluator: Evaluator, tick: Tick, notes: list[str],
) -> pd.DataFrame:
    """The effects table (:data:`EFFECT_COLUMNS`): the case as stated with the seeds
    ``stated`` (every engine), and ``n_draws`` Monte Carlo draws seeded from ``seq`` (the
    ``band_models`` only) for the bands. Failures are counted in ``notes``."""
    return submit_effects(case, mc, sets, models=models, band_models=band_models,
                          n_draws=n_draws, stated=stated, seq=seq,
                          evaluator=evaluator).result(tick, notes)


@dataclass
class PendingEffects:
    """The effects :func:`submit_effects` started; :meth:`result` collects the table."""

    sets: list[ScenarioSet]
    pending: Pending | None
    #: when set, each task returns a tuple whose item ``part`` is the measurements of its
    #: variants that have them, as in :func:`alliancelab.jobs.alliance.variants_task`
    part: int | None = None

    def result(self, tick: Tick, notes: list[str]) -> pd.DataFrame:
        """:func:`shock_effects`'s table; ``tick("shocks and levers", done, total)``."""
        if self.pending is None:
            return pd.DataFrame(columns=EFFECT_COLUMNS)
        total = len(self.pending)
        raw = self.pending.result(tick=lambda done: tick("shocks and levers", done, total))
        per_variant = raw if self.part is None else [v for r in raw for v in r[self.part]]
        _failure_notes(per_variant, len(per_variant) * (len(self.sets) + 1), notes)
        return _effect_rows(per_variant, self.sets)


def submit_effects(
    case: Case, mc: Draws, sets: list[ScenarioSet], *, models: tuple[str, ...],
    band_models: tuple[str, ...], n_draws: int, stated: VariantSeeds,
    seq: np.random.SeedSequence, evaluator: Evaluator,
) -> PendingEffects:
    """:func:`shock_effects` started on ``evaluator`` (see :meth:`Evaluator.submit_map
    <alliancelab.execution.Evaluator.submit_map>`), collected by
    :meth:`PendingEffects.result`."""
    if not sets:
        return PendingEffects(sets, None)
    combos: list[tuple[str, ...]] = [(), *(s.interventions for s in sets)]
    per = effect_tasks(models=models, band_models=band_models, n_draws=n_draws,
                       stated=stated, seq=seq)
    tasks = [(case, mc.params, None if j == 0 else mc.samples[j - 1], combos, t.seeds,
              t.models, t.forecast) for j, t in enumerate(per)]
    return PendingEffects(sets, evaluator.submit_map(_variant_task, tasks))


def _failure_notes(per_variant: list[list[tuple[Metrics, dict[str, str]]]], total: int,
                   notes: list[str]) -> None:
    failed: dict[str, int] = {}
    first: dict[str, str] = {}
    for pv in per_variant:
        for _, fails in pv:
            for what, msg in fails.items():
                failed[what] = failed.get(what, 0) + 1
                first.setdefault(what, msg)
    for what, count in failed.items():
        notes.append(f"{what}: failed on {count} of {total} variants ({first[what]}); those "
                     "variants are left out of the bands")


def _effect_rows(per_variant: list[list[tuple[Metrics, dict[str, str]]]],
                 sets: list[ScenarioSet]) -> pd.DataFrame:
    """Value minus baseline per metric on the stated case, with the 5/50/95% of the
    draw-by-draw differences."""
    base = [pv[0][0] for pv in per_variant]
    rows: list[dict[str, Any]] = []
    diffs: list[list[float]] = []  # per row, the draws' differences
    for k, s in enumerate(sets, start=1):
        vals = [pv[k][0] for pv in per_variant]
        for key, v in vals[0].items():
            b = base[0].get(key, np.nan)
            diffs.append([vals[j].get(key, np.nan) - base[j].get(key, np.nan)
                          for j in range(1, len(vals))])
            rows.append({"scenario": s.label, "kind": s.kind, "metric": key[0],
                         "model": key[1], "item": key[2], "baseline": b, "value": v,
                         "effect": v - b})
    out = pd.DataFrame(rows, columns=EFFECT_COLUMNS)
    out[["effect_p5", "effect_p50", "effect_p95"]] = bands(diffs, len(per_variant) - 1)
    return out


def bands(rows: np.ndarray | Sequence[Sequence[float]], n_draws: int) -> np.ndarray:
    """5/50/95% of each row of ``n_draws`` values over the draws (NaNs left out; NaNs
    without draws), all rows at once: ``(rows, 3)``."""
    if not n_draws:
        return np.full((len(rows), 3), np.nan)
    return quantile_bands(np.array(rows, dtype=float).reshape(len(rows), n_draws).T).T
