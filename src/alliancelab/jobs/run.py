"""The main job, as a pure function: a case in, every result of ``alliancelab run`` out.

:func:`run_job` forecasts the scenario (the case with the chosen shocks and levers, through
:class:`~alliancelab.scenarios.scenario.Scenario`) with several engines, runs a Monte Carlo
over the case's stated ranges (:mod:`alliancelab.scenarios.uncertainty`), simulates the
perception dynamics, measures the perception gap between the case's sides (and the other
dated snapshots of the case), the effect of every shock and lever - each alone and the
chosen combination - on the forecasts, the dynamics' indicators and the gap
(:mod:`~alliancelab.jobs.effects`), and runs the case's plug-in models
(:mod:`~alliancelab.jobs.alliance`). It prints nothing and writes nothing:
:mod:`alliancelab.report` turns the :class:`~alliancelab.jobs.results.RunResults` into
files. Every evaluation goes through one :class:`~alliancelab.execution.Evaluator`: on a
pool, its work (the iterative engines' draws, then one task per variant of the case for the
effects and the plug-in, sharing the intervened cases) is submitted first and collected at
the end, while this process computes the point forecasts, the dynamics, the gaps and the
sweep (:meth:`~alliancelab.execution.Evaluator.submit_map`).

Seeds: one root ``SeedSequence(seed)`` spawns the draws, the engines (child 0 of each
engine's sequence seeds its point forecast, children 1..N its Monte Carlo draws), the
effects, the dynamics and the exploration sweep; every draw has its own seed, so the
results do not depend on the number of workers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..api import forecast
from ..core.case import Case
from ..core.checks import non_negative_int, positive_int
from ..core.errors import AllianceLabError
from ..core.problem import Problem
from ..core.result import Forecast
from ..core.rng import DEFAULT_SEED
from ..execution import Evaluator, PendingForecasts, case_hash, submit_forecasts, versions
from ..execution.progress import ProgressLines
from ..models.bargaining import engine_class
from ..models.dynamics import Simulation
from ..scenarios.scenario import Scenario, scenario
from ..scenarios.uncertainty import Draws, draw, quantile_bands
from .alliance import load_plugin, submit_variants
from .effects import EffectTask, VariantSeeds, effect_tasks, scenario_sets
from .gaps import gap_table
from .results import DYNAMICS_MODEL, QUANTILES, ModelRun, RunResults
from .sweep import check_options, explore_sweep
from .tables import inputs_table, interaction_table, movement_table

__all__ = ["DEFAULT_ALLIANCE_DRAWS", "DEFAULT_DRAWS", "DEFAULT_EFFECT_DRAWS", "DEFAULT_MODELS",
           "ModelRun", "RunResults", "inputs_table", "interaction_table", "movement_table",
           "run_job"]

#: engines the run compares by default (compromise, BDM, SMP side by side).
DEFAULT_MODELS: tuple[str, ...] = ("compromise", "bdm", "smp")
#: Monte Carlo draws by default; the main job on the shipped case stays well under a minute.
DEFAULT_DRAWS = 100
#: draws used for the bands of intervention effects (each costs one run per intervention).
DEFAULT_EFFECT_DRAWS = 20
#: Monte Carlo draws on which the plug-in models are evaluated (with every shock and lever)
#: for their bands by default. Each draw runs the plug-in once per variant (the dynamics of
#: all variants together, and the deterrence games where their inputs differ): about 0.1 s
#: of CPU per draw for the shipped case's 12 shocks and levers, most of it the games, ~5 s
#: for 40 draws; see docs/alliance-models.md section 8.
DEFAULT_ALLIANCE_DRAWS = 40
#: packages the report depends on, recorded beside the core ones.
REPORT_PACKAGES = ("plotly", "jinja2", "rich")

Progress = Callable[[str, int, int], None]


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


@dataclass(frozen=True)
class _Options:
    """The checked options of one run."""

    models: tuple[str, ...]
    draws: int
    effect_draws: int
    alliance_draws: int
    band_models: tuple[str, ...]
    seed: int


@dataclass(frozen=True)
class _Seeds:
    """The run's seed tree (see the module docstring)."""

    draws: np.random.SeedSequence
    points: tuple[np.random.SeedSequence, ...]
    monte_carlo: tuple[list[np.random.SeedSequence], ...]
    effects: np.random.SeedSequence
    dynamics: np.random.SeedSequence
    explore: np.random.SeedSequence

    @classmethod
    def tree(cls, seed: int, n_models: int, n_draws: int) -> _Seeds:
        root = np.random.SeedSequence(seed)
        seq_draws, seq_models, seq_effects, seq_dyn = root.spawn(4)
        per_model = seq_models.spawn(n_models)
        points = tuple(s.spawn(1)[0] for s in per_model)  # spawned before the draws' seeds
        return cls(seq_draws, points, tuple(s.spawn(n_draws) for s in per_model), seq_effects,
                   seq_dyn, root.spawn(1)[0])


def run_job(
    case: Case,
    *,
    interventions: Sequence[str] = (),
    models: Sequence[str] = DEFAULT_MODELS,
    draws: int = DEFAULT_DRAWS,
    effect_draws: int | None = None,
    seed: int | None = None,
    distribution: str = "triangular",
    case_source: str = "",
    case_bytes: bytes | None = None,
    snapshots: Mapping[str, Case] | None = None,
    band_models: Sequence[str] | None = None,
    alliance_draws: int | None = None,
    workers: int = 1,
    executor: Executor | None = None,
    progress: Progress | bool | None = None,
    explore_n: int = 0,
    explore_outcome: str | None = None,
    explore_sense: str = "max",
) -> RunResults:
    """Run everything ``alliancelab run`` reports (see the module docstring).

    ``effect_draws`` of the ``draws`` (default min(draws, ``DEFAULT_EFFECT_DRAWS``)) band
    the shock and lever effects of the ``band_models`` (default: the one-shot engines; an
    iterative one costs a full run per draw and intervention); ``alliance_draws`` (default
    min(draws, ``DEFAULT_ALLIANCE_DRAWS``); 0: as stated only) band the plug-in models.
    ``seed`` None is :data:`~alliancelab.core.rng.DEFAULT_SEED` (recorded). ``snapshots``:
    label -> other dated versions of the case, for the gap; ``case_bytes`` is hashed for the
    manifest (else the case's canonical JSON). ``workers`` > 1 (a process pool) or
    ``executor`` (any Executor, e.g. Dask's) run the iterative engines' Monte Carlo, the
    effects and the plug-in; the results do not depend on either. ``explore_n`` > 0 adds the
    built-in sweep (:mod:`alliancelab.jobs.sweep`) for ``explore_outcome`` (default the
    first issue), ``explore_sense`` ``"max"`` (more is better) or ``"min"``. ``progress`` is
    a callback ``(stage, done, total)``, or True for plain lines on stderr."""
    tick = ProgressLines() if progress is True else progress or _no_progress
    notes: list[str] = []
    opts = _options(models, draws, effect_draws, alliance_draws, seed, band_models, notes)
    scen = scenario(case, interventions)
    explore_outcome = check_options(case, explore_n, explore_outcome, explore_sense)
    load_plugin(case)  # a plug-in that cannot be loaded fails before any work
    seeds = _Seeds.tree(opts.seed, len(opts.models), opts.draws)
    timings: dict[str, float] = {}
    with Evaluator(workers, executor=executor) as ev:
        # the work for the evaluator is started first (all of it at once on a pool), what
        # runs in this process (point forecasts, dynamics, gaps, the sweep) meanwhile
        with _timed(timings, "monte_carlo"):
            mc = draw(case, opts.draws, rng=seeds.draws, distribution=distribution)
            pending_mc = _submit_monte_carlo(scen, mc, opts, seeds, ev, tick)
        alliance_notes: list[str] = []
        pending_effects, pending_alliance = submit_variants(
            case, mc, scenario_sets(case, scen.interventions), _effect_tasks(opts, seeds),
            opts.alliance_draws, ev, alliance_notes)
        with _timed(timings, "monte_carlo"):
            points = _point_forecasts(scen, opts, seeds)
        with _timed(timings, "dynamics"):
            base_sim, sim = _dynamics(scen, seeds.dynamics)
        gaps = gap_table(case, scen.case, scen.interventions, snapshots or {})
        with _timed(timings, "exploration" if explore_n else ""):
            explore_notes: list[str] = []
            exploration = explore_sweep(case, explore_n, seeds.explore, outcome=explore_outcome,
                                        sense=explore_sense, notes=explore_notes, progress=tick)
        with _timed(timings, "monte_carlo"):
            runs = _collect_monte_carlo(pending_mc, points, opts, tick, notes)
        # the tables of what is in already, while the pool finishes the variants
        movement, interactions = movement_table(runs, sim, scen.case), interaction_table(runs)
        inputs = inputs_table(case)
        with _timed(timings, "effects"):
            effects = pending_effects.result(tick, notes)
        notes += explore_notes
        with _timed(timings, "alliance models"):
            alliance = pending_alliance.result(tick, alliance_notes)
        notes += alliance_notes
    if not alliance.effects.empty:
        effects = pd.concat([effects, alliance.effects], ignore_index=True)
    return RunResults(
        case=case, scenario=scen.case, case_source=case_source,
        case_hash=case_hash(case, case_bytes), interventions=scen.interventions,
        models=opts.models, seed=opts.seed, n_draws=opts.draws,
        n_effect_draws=opts.effect_draws, band_models=opts.band_models,
        alliance_draws=opts.alliance_draws if alliance.table is not None else 0,
        distribution=distribution, draws=mc, runs=runs, simulation=sim,
        baseline_simulation=base_sim, gaps=gaps, effects=effects, alliance=alliance.table,
        movement=movement, interactions=interactions, inputs=inputs,
        versions=versions(*REPORT_PACKAGES), notes=notes,
        timings=timings, exploration=exploration, alliance_labels=alliance.labels,
        alliance_headlines=alliance.headlines,
    )


# -- steps ------------------------------------------------------------------------------


def _options(models: Sequence[str], draws: int, effect_draws: int | None,
             alliance_draws: int | None, seed: int | None,
             band_models: Sequence[str] | None, notes: list[str]) -> _Options:
    """Check the options before any work (the one-line error names the bad one)."""
    chosen = _check_models(models)
    draws = positive_int(draws, "draws", limit="draws")
    n_eff = min(draws, DEFAULT_EFFECT_DRAWS) if effect_draws is None \
        else non_negative_int(effect_draws, "effect_draws")
    n_alliance = min(draws, DEFAULT_ALLIANCE_DRAWS) if alliance_draws is None \
        else non_negative_int(alliance_draws, "alliance_draws")
    if n_alliance > draws:
        notes.append(f"alliance models: {n_alliance} draws asked, {draws} drawn; using {draws}")
        n_alliance = draws
    seed = non_negative_int(DEFAULT_SEED if seed is None else seed, "seed")
    if band_models is None:
        band_models = tuple(m for m in chosen if not engine_class(m).iterative)
    bands = tuple(m for m in band_models if m in chosen)
    return _Options(chosen, draws, n_eff, n_alliance, bands, seed)


def _check_models(models: Sequence[str]) -> tuple[str, ...]:
    out = tuple(dict.fromkeys(m.strip() for m in models if m.strip()))
    if not out:
        raise AllianceLabError("name at least one model", field="models")
    for m in out:
        engine_class(m)  # raises the one-line error for an unknown or missing engine
    return out


def _submit_monte_carlo(scen: Scenario, mc: Draws, opts: _Options, seeds: _Seeds,
                        ev: Evaluator, tick: Progress) -> dict[str, PendingForecasts]:
    """Each engine's forecasts of the scenario on every Monte Carlo draw of the case,
    started on ``ev`` (an iterative engine's chunks; a one-shot engine's batch runs when
    collected)."""
    problems = _draw_problems(scen, mc, tick)
    return {model: submit_forecasts(problems, model, seeds.monte_carlo[k], evaluator=ev)
            for k, model in enumerate(opts.models)}


def _point_forecasts(scen: Scenario, opts: _Options, seeds: _Seeds) -> dict[str, Forecast]:
    """Each engine's point forecast of the scenario (the case as stated)."""
    return {model: forecast(scen.case, model, rng=np.random.default_rng(seeds.points[k]))
            for k, model in enumerate(opts.models)}


def _collect_monte_carlo(pending: dict[str, PendingForecasts], points: dict[str, Forecast],
                         opts: _Options, tick: Progress, notes: list[str]
                         ) -> dict[str, ModelRun]:
    """Each engine's point forecast and Monte Carlo forecasts, with their bands."""
    runs: dict[str, ModelRun] = {}
    for model in opts.models:
        out = pending[model].result(tick=_stage(tick, f"Monte Carlo {model}", opts.draws))
        bands = quantile_bands(out.values, QUANTILES)
        runs[model] = ModelRun(model, points[model], out.values, bands, out.failures,
                               out.first_failure)
        if out.failures:
            notes.append(f"{model}: {out.failures} of {opts.draws} draws failed "
                         f"({out.first_failure})")
    return runs


def _draw_problems(scen: Scenario, mc: Draws, tick: Progress) -> list[Problem]:
    """The engines' arrays of the scenario on every draw (the interventions applied to
    each drawn case)."""
    if not scen.interventions:
        return mc.problems()
    n = len(mc)
    tick("preparing draws", 0, n)
    problems = []
    for i in range(n):
        problems.append(Scenario(mc.case_at(i), scen.interventions).problem())
        tick("preparing draws", i + 1, n)
    return problems


def _effect_tasks(opts: _Options, seeds: _Seeds) -> list[EffectTask]:
    """Every shock and lever alone and the chosen combination are measured on the case as
    stated with the point run's seeds (so the chosen scenario's row is the run's own
    result) and on the first ``effect_draws`` draws."""
    return effect_tasks(models=opts.models, band_models=opts.band_models,
                        n_draws=opts.effect_draws,
                        stated=VariantSeeds(seeds.points, seeds.dynamics), seq=seeds.effects)


def _dynamics(scen: Scenario, seq: np.random.SeedSequence
              ) -> tuple[Simulation, Simulation]:
    """The baseline's and the scenario's simulations (one seed: common random numbers)."""
    base = Scenario(scen.base).simulate(model=DYNAMICS_MODEL, rng=np.random.default_rng(seq))
    if not scen.interventions:
        return base, base
    return base, scen.simulate(model=DYNAMICS_MODEL, rng=np.random.default_rng(seq))


def _stage(tick: Progress, stage: str, total: int) -> Callable[[int], None]:
    """``tick`` for one stage of ``total`` steps."""
    return lambda done: tick(stage, done, total)


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    """Add the wall time of the block to ``stage`` (not at all for ``""``)."""
    t0 = time.perf_counter()
    yield
    if stage:
        timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - t0
