"""The main job, as a pure function: a case in, every result of ``alliancelab run`` out.

:func:`run_job` forecasts the case (with the chosen shocks and levers applied) with several
engines, runs a Monte Carlo over the case's stated ranges (:mod:`alliancelab.scenarios.uncertainty`),
simulates the perception dynamics, measures the US-ROK perception gap (and the other
shipped snapshots of the same case), and the effect of every shock and lever - each alone
and the chosen combination - on the forecasts, the dynamics' indicators and the gap. It
prints nothing and writes nothing: :mod:`alliancelab.report` turns the :class:`RunResults`
into files.

Common random numbers: the effect of an intervention under uncertainty is computed draw by
draw (the same drawn case with and without the intervention), so its band reflects the
uncertainty of the *effect*, not the sum of two independent bands.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..api import forecast
from ..core.case import Case, walk_values
from ..core.errors import AllianceLabError
from ..core.result import Forecast
from ..core.rng import versions
from ..models.bargaining import Problem, engine_class
from ..scenarios.uncertainty import Draws, draw, quantile_bands

#: engines the run compares by default (compromise, BDM, SMP side by side).
DEFAULT_MODELS: tuple[str, ...] = ("compromise", "bdm", "smp")
#: Monte Carlo draws by default; the main job on the shipped case stays well under a minute.
DEFAULT_DRAWS = 100
#: draws used for the bands of intervention effects (each costs one run per intervention).
DEFAULT_EFFECT_DRAWS = 20
#: model the perception dynamics bargain with.
DYNAMICS_MODEL = "compromise"
QUANTILES = (0.05, 0.5, 0.95)
#: where the optional alliance-model indicators come from (issue 4); see :func:`_alliance`.
ALLIANCE_MODULE = "alliancelab.cases.us_rok"
#: Monte Carlo draws on which the alliance models are evaluated (with every shock and lever)
#: for their bands by default. Each draw solves the deterrence games once per variant whose
#: game inputs differ (~45 ms per variant; about 0.5 s of CPU per draw for the shipped case's
#: 12 shocks and levers, ~20 s for 40 draws); see docs/alliance-models.md section 8.
DEFAULT_ALLIANCE_DRAWS = 40

Progress = Callable[[str, int, int], None]


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


@dataclass(frozen=True)
class ModelRun:
    """One engine on the scenario: the point forecast (case values as stated) and the
    Monte Carlo forecasts ``draws`` ``(N, d)`` with ``bands`` ``(3, d)`` = 5/50/95%."""

    model: str
    point: Forecast
    draws: np.ndarray
    bands: np.ndarray
    failures: int = 0
    first_failure: str | None = None


@dataclass(frozen=True)
class RunResults:
    """Everything ``alliancelab run`` computes. Tables are tidy pandas frames."""

    case: Case
    scenario: Case
    case_source: str
    case_hash: str
    interventions: tuple[str, ...]
    models: tuple[str, ...]
    seed: int
    n_draws: int
    n_effect_draws: int
    band_models: tuple[str, ...]
    alliance_draws: int
    distribution: str
    draws: Draws
    runs: dict[str, ModelRun]
    simulation: Any | None
    baseline_simulation: Any | None
    gaps: pd.DataFrame
    effects: pd.DataFrame
    alliance: pd.DataFrame | None
    movement: pd.DataFrame
    interactions: pd.DataFrame
    inputs: pd.DataFrame
    versions: dict[str, str]
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    #: the built-in exploration sweep (:mod:`alliancelab.jobs.sweep`); None when skipped.
    exploration: Any | None = None
    #: share of the alliance draws per categorical result (equilibrium family, game type)
    #: and scenario; see :func:`alliance_label_table`.
    alliance_labels: pd.DataFrame | None = None

    # -- tidy tables ---------------------------------------------------------------------
    def forecast_table(self) -> pd.DataFrame:
        """One row per (model, issue): point forecast, 5/50/95% bands, status quo, scale."""
        rows = []
        for model, run in self.runs.items():
            for k, issue in enumerate(self.scenario.issues):
                sq = issue.status_quo.value if issue.status_quo is not None else np.nan
                rows.append({
                    "model": model,
                    "issue": issue.name,
                    "forecast": float(run.point.forecast[k]),
                    "p5": float(run.bands[0, k]),
                    "p50": float(run.bands[1, k]),
                    "p95": float(run.bands[2, k]),
                    "status_quo": sq,
                    "units": issue.scale.units or "",
                    "scale_min": issue.scale.min,
                    "scale_max": issue.scale.max,
                    "low": issue.scale.low,
                    "high": issue.scale.high,
                    "draws": int(np.isfinite(run.draws[:, k]).sum()),
                })
        return pd.DataFrame(rows)

    def draws_table(self) -> pd.DataFrame:
        """Every Monte Carlo forecast: one row per (draw, model, issue)."""
        frames = []
        issues = list(self.scenario.issue_names)
        for model, run in self.runs.items():
            n = run.draws.shape[0]
            frames.append(pd.DataFrame({
                "draw": np.repeat(np.arange(n), len(issues)),
                "model": model,
                "issue": issues * n,
                "forecast": run.draws.reshape(-1),
            }))
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def trajectory_table(self) -> pd.DataFrame:
        """Positions per round: one row per (source, round, actor, issue). ``source`` is an
        engine (its own rounds) or ``dynamics`` (the perception-driven simulation)."""
        frames = []
        for model, run in self.runs.items():
            df = run.point.to_frame()
            df.insert(0, "source", model)
            frames.append(df)
        sim = self.simulation
        if sim is not None:
            t, n, d = sim.positions.shape
            idx = pd.MultiIndex.from_product(
                [range(t), sim.actors, sim.issues], names=["round", "actor", "issue"]
            )
            df = pd.DataFrame({"position": sim.positions.reshape(-1)}, index=idx).reset_index()
            df.insert(0, "source", "dynamics")
            frames.append(df)
        return pd.concat(frames, ignore_index=True)

    def dynamics_table(self) -> pd.DataFrame:
        """The simulation per round: outcome per issue, indicators, mean perceptions."""
        sim = self.simulation
        if sim is None:
            return pd.DataFrame(columns=["scenario", "round", "kind", "item", "value"])
        rows = []
        for label, s in (("baseline", self.baseline_simulation), ("scenario", sim)):
            if s is None:
                continue
            for r in range(s.outcomes.shape[0]):
                for k, issue in enumerate(s.issues):
                    rows.append((label, r, "outcome", issue, float(s.outcomes[r, k])))
                for name, arr in s.indicators.items():
                    rows.append((label, r, "indicator", name, float(arr[r])))
                for name, arr in s.perceptions.items():
                    for i, actor in enumerate(s.actors):
                        rows.append((label, r, "perception", f"{actor}: {name}", float(arr[r, i])))
        return pd.DataFrame(rows, columns=["scenario", "round", "kind", "item", "value"])

    def manifest(self, command: str | None = None) -> dict[str, Any]:
        """Provenance: seed, draws, versions, case hash, command line."""
        return {
            "tool": "alliancelab run",
            "command": command,
            "case": self.case.name,
            "case_source": self.case_source,
            "case_sha256": self.case_hash,
            "case_date": self.case.date,
            "interventions": list(self.interventions),
            "models": list(self.models),
            "seed": self.seed,
            "draws": self.n_draws,
            "effect_draws": self.n_effect_draws,
            "effect_band_models": list(self.band_models),
            "alliance_draws": self.alliance_draws,
            "distribution": self.distribution,
            "uncertain_parameters": len(self.draws.params),
            "dynamics_model": DYNAMICS_MODEL,
            "quantiles": list(QUANTILES),
            "versions": self.versions,
            "notes": list(self.notes),
        }


# -- the job ---------------------------------------------------------------------------


def _tick_as(tick: Progress, stage: str, done: int, total: int) -> None:
    """``tick`` for one stage (a picklable progress callback)."""
    tick(stage, done, total)


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
    snapshots: dict[str, Case] | None = None,
    band_models: Sequence[str] | None = None,
    alliance_draws: int | None = None,
    workers: int = 1,
    progress: Progress | None = None,
    explore_n: int = 0,
    explore_outcome: str | None = None,
    explore_sense: str = "max",
) -> RunResults:
    """Run everything ``alliancelab run`` reports (see the module docstring).

    ``explore_n`` > 0 adds the built-in exploration sweep (:mod:`alliancelab.jobs.sweep`:
    that many Latin-hypercube scenarios crossed with the levers, plus a Morris screening),
    analysed for ``explore_outcome`` (default the first issue) with ``explore_sense``
    ``"max"`` (more is better) or ``"min"``.

    ``snapshots`` maps a label (e.g. ``"2007"``) to other dated versions of the case for
    the perception-gap comparison; ``case_bytes`` is hashed for the manifest (the case's
    canonical JSON when omitted). ``seed`` ``None`` draws a fresh seed, which is recorded.
    ``band_models`` are the engines whose intervention effects get Monte Carlo bands
    (default: the one-shot engines; an iterative engine costs one full run per draw and
    intervention, so its effects are reported for the case as stated unless named here).
    ``alliance_draws`` of the Monte Carlo draws also evaluate the alliance models (issue 4)
    with every shock and lever, for their 5-95% bands (default: min(draws,
    ``DEFAULT_ALLIANCE_DRAWS``)); their equilibrium solvers cost far more than a forecast; 0
    reports them for the case as stated only.
    ``workers`` > 1 runs the Monte Carlo of the iterative engines and the intervention
    variants in that many processes; the results do not depend on it (every draw has its
    own seed).
    """
    tick = progress or _no_progress
    timings: dict[str, float] = {}
    notes: list[str] = []
    models = _check_models(models)
    if isinstance(draws, bool) or not isinstance(draws, int) or draws < 1:
        raise AllianceLabError(f"must be a positive integer, got {draws!r}", field="draws")
    n_eff = min(draws, DEFAULT_EFFECT_DRAWS) if effect_draws is None else int(effect_draws)
    if n_eff < 0:
        raise AllianceLabError(f"must be >= 0, got {effect_draws!r}", field="effect_draws")
    if alliance_draws is None:
        n_alliance = min(draws, DEFAULT_ALLIANCE_DRAWS)
    elif isinstance(alliance_draws, bool) or not isinstance(alliance_draws, int) \
            or alliance_draws < 0:
        raise AllianceLabError(f"must be a non-negative integer, got {alliance_draws!r}",
                               field="alliance_draws")
    else:
        n_alliance = min(alliance_draws, draws)
        if alliance_draws > draws:
            notes.append(f"alliance models: {alliance_draws} draws asked, {draws} drawn; "
                         f"using {draws}")
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1)[0])
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise AllianceLabError(f"must be a non-negative integer, got {seed!r}", field="seed")
    if band_models is None:
        band_models = tuple(m for m in models if not engine_class(m).iterative)
    band_models = tuple(m for m in band_models if m in models)
    interventions = tuple(interventions)
    names = _intervention_names(case)
    if names is None and interventions:
        raise AllianceLabError(
            "shocks and levers need alliancelab.scenarios.interventions, which is not installed",
            field="interventions",
        )
    if names is not None:
        known = [*names["shocks"], *names["levers"]]
        for name in interventions:
            if name not in known:
                raise AllianceLabError(
                    f"unknown shock or lever {name!r}; the case defines "
                    f"{', '.join(known) if known else 'none'}",
                    field="interventions",
                )
    scenario = _apply(case, interventions)
    from .sweep import check_options, explore_sweep

    explore_outcome = check_options(case, explore_n, explore_outcome, explore_sense)
    root = np.random.SeedSequence(seed)
    seq_draws, seq_models, seq_effects, seq_dyn = root.spawn(4)

    with _executor(workers) as executor:
        # 1. point forecasts and Monte Carlo on the scenario ------------------------------------
        t0 = time.perf_counter()
        mc = draw(case, draws, rng=seq_draws, distribution=distribution)
        if interventions:
            tick("preparing draws", 0, draws)
            scen_problems = []
            for i in range(draws):
                scen_problems.append(Problem.from_case(_apply(mc.case_at(i), interventions)))
                tick("preparing draws", i + 1, draws)
        else:
            scen_problems = mc.problems()
        runs: dict[str, ModelRun] = {}
        for model, mseq in zip(models, seq_models.spawn(len(models)), strict=True):
            point = forecast(scenario, model, rng=np.random.default_rng(mseq.spawn(1)[0]))
            out, failures, first = _forecast_many(
                scen_problems, model, mseq.spawn(draws),
                functools.partial(_tick_as, tick, f"Monte Carlo {model}", total=draws), executor,
            )
            bands = quantile_bands(out, QUANTILES)
            runs[model] = ModelRun(model, point, out, bands, failures, first)
            if failures:
                notes.append(f"{model}: {failures} of {draws} draws failed ({first})")
        timings["monte_carlo"] = time.perf_counter() - t0

        # 2. dynamics --------------------------------------------------------------------------
        t0 = time.perf_counter()
        simulate = _optional("alliancelab.models.dynamics", "simulate")
        sim = base_sim = None
        if simulate is None:
            notes.append("perception dynamics not available (alliancelab.models.dynamics missing)")
        else:
            base_sim = simulate(case, model=DYNAMICS_MODEL, rng=np.random.default_rng(seq_dyn))
            sim = (
                simulate(case, model=DYNAMICS_MODEL, interventions=interventions,
                         rng=np.random.default_rng(seq_dyn))
                if interventions else base_sim
            )
        timings["dynamics"] = time.perf_counter() - t0

        # 3. perception gaps -------------------------------------------------------------------
        gaps = _gaps(case, scenario, interventions, snapshots or {}, notes)

        # 4. effects of every shock and lever --------------------------------------------------
        t0 = time.perf_counter()
        effects = _effects(
            case, mc, names, interventions, models, band_models, n_eff, seq_effects,
            tick, notes, executor,
        )
        timings["effects"] = time.perf_counter() - t0

        # the built-in exploration sweep (its own child of the seed tree) ---------------------
        t0 = time.perf_counter()
        exploration = explore_sweep(case, explore_n, root.spawn(1)[0], outcome=explore_outcome,
                                    sense=explore_sense, notes=notes, progress=tick)
        if explore_n:
            timings["exploration"] = time.perf_counter() - t0

        # 5. alliance models (issue 4) over the Monte Carlo draws ------------------------------
        t0 = time.perf_counter()
        alliance_effects, alliance, alliance_labels = _alliance(
            case, mc, names, interventions, n_alliance, tick, notes, executor,
        )
        if not alliance_effects.empty:
            effects = pd.concat([effects, alliance_effects], ignore_index=True)
        timings["alliance models"] = time.perf_counter() - t0

        return RunResults(
            case=case,
            scenario=scenario,
            case_source=case_source,
            case_hash=_hash(case, case_bytes),
            interventions=interventions,
            models=models,
            seed=seed,
            n_draws=draws,
            n_effect_draws=n_eff,
            band_models=band_models,
            alliance_draws=n_alliance if alliance is not None else 0,
            distribution=distribution,
            draws=mc,
            runs=runs,
            simulation=sim,
            baseline_simulation=base_sim,
            gaps=gaps,
            effects=effects,
            alliance=alliance,
            movement=movement_table(runs, sim, scenario),
            interactions=interaction_table(runs),
            inputs=inputs_table(case),
            versions=_versions(),
            notes=notes,
            timings=timings,
            exploration=exploration,
            alliance_labels=alliance_labels,
        )


# -- pieces ----------------------------------------------------------------------------


@contextmanager
def _executor(workers: int) -> Iterator[Executor | None]:
    """A process pool of ``workers`` processes, or ``None`` (run here) for one worker."""
    if workers <= 1:
        yield None
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield pool


def _check_models(models: Sequence[str]) -> tuple[str, ...]:
    out = tuple(dict.fromkeys(m.strip() for m in models if m.strip()))
    if not out:
        raise AllianceLabError("name at least one model", field="models")
    for m in out:
        engine_class(m)  # raises the one-line error for an unknown or missing engine
    return out


def _optional(module: str, attr: str) -> Any | None:
    """``module.attr`` when the module exists (other parts of alliancelab land separately)."""
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name == module:
            return None
        raise
    return getattr(mod, attr, None)


def _intervention_names(case: Case) -> dict[str, list[str]] | None:
    fn = _optional("alliancelab.scenarios.interventions", "intervention_names")
    return None if fn is None else fn(case)


def _apply(case: Case, names: Sequence[str]) -> Case:
    if not names:
        return case
    fn = _optional("alliancelab.scenarios.interventions", "apply_interventions")
    if fn is None:
        raise AllianceLabError("alliancelab.scenarios.interventions is not installed", field="interventions")
    out: Case = fn(case, list(names))
    return out


def _solve_chunk(
    model: str, problems: list[Problem], seqs: list[np.random.SeedSequence],
) -> tuple[np.ndarray, int, str | None]:
    """Forecast every problem; a draw the engine cannot solve becomes NaN and is counted.

    An engine module may offer ``simulate_batch(problems, rngs) -> (N, d)`` for speed.
    """
    d = problems[0].n_issues if problems else 0
    out = np.full((len(problems), d), np.nan)
    batch = _batch_function(model)
    if batch is not None:
        out[:] = batch(problems, [np.random.default_rng(s) for s in seqs])
        return out, 0, None
    failures, first = 0, None
    solve = _solver(model)
    for i, (problem, s) in enumerate(zip(problems, seqs, strict=True)):
        try:
            out[i] = solve(problem, np.random.default_rng(s))
        except (ArithmeticError, ValueError, FloatingPointError, np.linalg.LinAlgError) as exc:
            failures += 1
            first = first or f"{type(exc).__name__}: {exc}"
    return out, failures, first


def _forecast_many(
    problems: list[Problem], model: str, seqs: list[np.random.SeedSequence],
    tick: Callable[[int], None], executor: Executor | None = None,
) -> tuple[np.ndarray, int, str | None]:
    """:func:`_solve_chunk` over chunks of the draws (in parallel on ``executor``)."""
    n = len(problems)
    cheap = not engine_class(model).iterative
    size = n if cheap or executor is None and n <= 50 else max(1, min(25, -(-n // 8)))
    bounds = [(a, min(a + size, n)) for a in range(0, n, size)]
    tasks = [(model, problems[a:b], seqs[a:b]) for a, b in bounds]
    parts = _map(None if cheap else executor, _solve_chunk, tasks,
                 lambda k: tick(bounds[k - 1][1] if executor is None or cheap else
                                min(n, k * size)))
    out = np.concatenate([p[0] for p in parts]) if parts else np.zeros((0, 0))
    failures = sum(p[1] for p in parts)
    first = next((p[2] for p in parts if p[2]), None)
    return out, failures, first


def _solver(model: str) -> Callable[[Problem, np.random.Generator], np.ndarray]:
    """The engine's ``solve`` with default options, returning the forecast. Used for the
    many Monte Carlo runs, where :func:`alliancelab.forecast`'s bookkeeping (versions,
    settings) per call would cost more than the solve itself."""
    engine = engine_class(model)()

    def solve(problem: Problem, rng: np.random.Generator) -> np.ndarray:
        if problem.n_actors < engine.min_actors:
            raise AllianceLabError(
                f"model {model!r} needs at least {engine.min_actors} actors", field="actors"
            )
        return np.asarray(engine.solve(problem, rng).forecast, dtype=float)

    return solve


def _batch_function(model: str) -> Callable[..., np.ndarray] | None:
    """An engine module's vectorised ``simulate_batch(problems, rngs)``, if it has one with
    that signature (checked by name of the parameters)."""
    import inspect

    cls = engine_class(model)
    fn = getattr(importlib.import_module(cls.__module__), "simulate_batch", None)
    if fn is None:
        return None
    try:
        params = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return None
    if params[:2] != ["problems", "rngs"]:
        return None
    return fn  # type: ignore[no-any-return]


def _gaps(
    case: Case, scenario: Case, interventions: tuple[str, ...], snapshots: dict[str, Case],
    notes: list[str],
) -> pd.DataFrame:
    """The perception gap (ROK minus US) of the case, of the scenario and of the snapshots."""
    gap = _optional("alliancelab.scenarios.perception", "perception_gap")
    cols = ["snapshot", "date", "kind", "item", "a_value", "b_value", "gap"]
    if gap is None:
        notes.append("perception gap not available (alliancelab.scenarios.perception missing)")
        return pd.DataFrame(columns=cols)
    if not _has_groups(case):
        notes.append("perception gap skipped: the case has no actors in groups 'US' and 'ROK'")
        return pd.DataFrame(columns=cols)
    frames = []
    entries = dict(snapshots)
    entries[_label(case)] = case
    order = sorted(entries, key=lambda k: (str(entries[k].date or ""), k))
    entries = {k: entries[k] for k in order}
    if interventions:
        entries[f"{_label(case)} + {' + '.join(interventions)}"] = scenario
    for label, c in entries.items():
        if not _has_groups(c):
            continue
        df = gap(c, "US", "ROK").copy()
        df.insert(0, "date", c.date or "")
        df.insert(0, "snapshot", label)
        frames.append(df[cols])
    return pd.concat(frames, ignore_index=True)


def _fresh(seq: np.random.SeedSequence) -> np.random.SeedSequence:
    """A copy of ``seq`` whose children start afresh (spawn() counts its children)."""
    return np.random.SeedSequence(seq.entropy, spawn_key=seq.spawn_key)


def _label(case: Case) -> str:
    return str(case.date) if case.date else case.name


def _has_groups(case: Case) -> bool:
    groups = {a.group for a in case.actors}
    return {"US", "ROK"} <= groups


def _gap_items(case: Case) -> dict[tuple[str, str], float]:
    gap = _optional("alliancelab.scenarios.perception", "perception_gap")
    if gap is None or not _has_groups(case):
        return {}
    df = gap(case, "US", "ROK")
    return {(str(r.kind), str(r.item)): float(r.gap) for r in df.itertuples()}


def _measure(
    c: Case, s: np.random.SeedSequence, j: int, models: tuple[str, ...],
    band_models: tuple[str, ...],
) -> tuple[dict[tuple[str, str, str], float], dict[str, str]]:
    """Every metric of one case, ``(metric, model, item) -> value``, and the optional parts
    that failed on it (``{part: error}``). ``j`` is the variant (0: the case as stated).
    The alliance models are evaluated separately (:func:`_alliance`)."""
    out: dict[tuple[str, str, str], float] = {}
    failed: dict[str, str] = {}
    problem = Problem.from_case(c)
    for model, ms in zip(models, s.spawn(len(models)), strict=True):
        if j > 0 and model not in band_models:
            continue
        try:
            f = _solver(model)(problem, np.random.default_rng(ms))
        except (ArithmeticError, ValueError, np.linalg.LinAlgError) as exc:
            failed[f"{model} forecast"] = f"{type(exc).__name__}: {exc}"
            f = np.full(problem.n_issues, np.nan)
        for issue, v in zip(problem.issues, f, strict=True):
            out[("forecast", model, issue)] = float(v)
    simulate = _optional("alliancelab.models.dynamics", "simulate")
    if simulate is not None:
        sim = simulate(c, model=DYNAMICS_MODEL, rng=np.random.default_rng(s))
        for issue, v in sim.final_outcomes().items():
            out[("dynamics outcome", DYNAMICS_MODEL, issue)] = float(v)
        for name, arr in sim.indicators.items():
            out[("indicator", DYNAMICS_MODEL, name)] = float(arr[-1])
    for (kind, item), v in _gap_items(c).items():
        out[(f"gap: {kind}", "", item)] = v
    return out, failed


def _variant_task(
    case: Case, params: tuple[Any, ...], sample: np.ndarray | None, j: int,
    combos: list[tuple[str, ...]], seq: np.random.SeedSequence, models: tuple[str, ...],
    band_models: tuple[str, ...],
) -> list[tuple[dict[tuple[str, str, str], float], dict[str, str]]]:
    """One variant of the case (the stated one, ``j == 0``, or draw ``j - 1``) measured under
    every combination of interventions, each with the same seed (common random numbers)."""
    from ..scenarios.uncertainty import with_values

    base = case if sample is None or not params else with_values(case, params, sample)
    return [_measure(_apply(base, combo), _fresh(seq), j, models, band_models)
            for combo in combos]


def _effects(
    case: Case,
    mc: Draws,
    names: dict[str, list[str]] | None,
    chosen: tuple[str, ...],
    models: tuple[str, ...],
    band_models: tuple[str, ...],
    n_eff: int,
    seq: np.random.SeedSequence,
    tick: Progress,
    notes: list[str],
    executor: Executor | None = None,
) -> pd.DataFrame:
    """Effect of each shock and lever alone, and of the chosen combination, on forecasts
    (per model), dynamics outcomes and indicators and the perception gap. Point effects use
    the case as stated; the 5-95% band of each effect comes from ``n_eff`` Monte Carlo draws
    with common random numbers."""
    cols = EFFECT_COLUMNS
    if names is None:
        notes.append("shock and lever effects not available (alliancelab.scenarios.interventions missing)")
        return pd.DataFrame(columns=cols)
    sets = _scenario_sets(names, chosen)
    combos: list[tuple[str, ...]] = [(), *(x[2] for x in sets)]
    labels = ["baseline", *(x[1] for x in sets)]
    draw_seeds = seq.spawn(n_eff + 1)
    tasks = [
        (case, mc.params, None if j == 0 else mc.samples[j - 1], j, combos, draw_seeds[j],
         models, band_models)
        for j in range(n_eff + 1)
    ]
    per_variant = _map(executor, _variant_task, tasks,
                       lambda done: tick("shocks and levers", done, len(tasks)))
    results = {lab: [pv[k][0] for pv in per_variant] for k, lab in enumerate(labels)}
    failed: dict[str, int] = {}
    first: dict[str, str] = {}
    for pv in per_variant:
        for _, fails in pv:
            for what, msg in fails.items():
                failed[what] = failed.get(what, 0) + 1
                first.setdefault(what, msg)
    for what, count in failed.items():
        notes.append(f"{what}: failed on {count} of {len(tasks) * len(combos)} variants "
                     f"({first[what]}); those variants are left out of the bands")
    rows = []
    base = results["baseline"]
    for kind, label, _ in sets:
        vals = results[label]
        for key, v in vals[0].items():
            b = base[0].get(key, np.nan)
            diffs = np.array([vals[j].get(key, np.nan) - base[j].get(key, np.nan)
                              for j in range(1, len(vals))])
            band = _band(diffs)
            rows.append({
                "scenario": label, "kind": kind, "metric": key[0], "model": key[1],
                "item": key[2], "baseline": b, "value": v, "effect": v - b,
                "effect_p5": band[0], "effect_p50": band[1], "effect_p95": band[2],
            })
    return pd.DataFrame(rows, columns=cols)


def _band(values: np.ndarray) -> np.ndarray:
    """5/50/95% of ``values`` over the draws (NaNs left out); NaNs without draws."""
    return quantile_bands(values[:, None])[:, 0] if values.size else np.full(3, np.nan)


EFFECT_COLUMNS = ["scenario", "kind", "metric", "model", "item", "baseline", "value", "effect",
                  "effect_p5", "effect_p50", "effect_p95"]
#: the alliance table: the effect columns, the 5/50/95% of the value over the draws, and the
#: number of draws with a finite value.
ALLIANCE_COLUMNS = [*EFFECT_COLUMNS, "p5", "p50", "p95", "draws"]
LABEL_COLUMNS = ["scenario", "kind", "item", "label", "share", "draws", "stated", "modal"]


def _scenario_sets(names: dict[str, list[str]] | None, chosen: tuple[str, ...]
                   ) -> list[tuple[str, str, tuple[str, ...]]]:
    """(kind, label, interventions) of every single shock and lever, and of the chosen
    combination when more than one is chosen."""
    if names is None:
        return []
    sets: list[tuple[str, str, tuple[str, ...]]] = [
        *(("shock", n, (n,)) for n in names["shocks"]),
        *(("lever", n, (n,)) for n in names["levers"]),
    ]
    if len(chosen) > 1:
        sets.append(("combination", " + ".join(chosen), chosen))
    return sets


AllianceEval = tuple[dict[str, float], dict[str, str], str | None]


def _alliance_function() -> Callable[[Case], tuple[dict[str, Any], dict[str, Any]]] | None:
    """The alliance module's ``evaluate(case) -> (indicators, labels)``, or its
    ``assess(case) -> indicators`` with no labels (the extension point: any module with
    ``assess``); ``None`` without the module."""
    evaluate = _optional(ALLIANCE_MODULE, "evaluate")
    if evaluate is not None:
        return evaluate  # type: ignore[no-any-return]
    assess = _optional(ALLIANCE_MODULE, "assess")
    if assess is None:
        return None
    return lambda c: (assess(c), {})


def _alliance_task(
    case: Case, params: tuple[Any, ...], sample: np.ndarray | None,
    combos: list[tuple[str, ...]],
) -> list[AllianceEval]:
    """The alliance models on one variant of the case (the stated one when ``sample`` is
    None) under every combination of interventions: (indicators, labels, error or None)."""
    from ..scenarios.uncertainty import with_values

    fn = _alliance_function()
    base = case if sample is None or not params else with_values(case, params, sample)
    out: list[AllianceEval] = []
    for combo in combos:
        try:
            ind, lab = fn(_apply(base, combo))  # type: ignore[misc]
            out.append(({str(k): float(v) for k, v in ind.items()},
                        {str(k): str(v) for k, v in lab.items()}, None))
        except Exception as exc:  # noqa: BLE001 - an optional model failing on a variant
            out.append(({}, {}, f"{type(exc).__name__}: {exc}"))
    return out


def _alliance(
    case: Case,
    mc: Draws,
    names: dict[str, list[str]] | None,
    chosen: tuple[str, ...],
    n_draws: int,
    tick: Progress,
    notes: list[str],
    executor: Executor | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame | None, pd.DataFrame | None]:
    """The alliance models (issue 4) on the case as stated and on ``n_draws`` Monte Carlo
    draws, each under the baseline and every shock and lever (common random numbers: the
    effect in a draw is the difference on the same drawn case).

    Returns the effect rows (for the effects table, metric ``alliance model``), the alliance
    table (:data:`ALLIANCE_COLUMNS`: the stated value, its effect, the 5/50/95% of the value
    and of the effect over the draws, and the number of finite draws) and the label table
    (:func:`alliance_label_table`). Without the module, or when it does not fit the case,
    the tables are ``None`` and a note says why."""
    empty = pd.DataFrame(columns=EFFECT_COLUMNS)
    fn = _alliance_function()
    if fn is None:
        return empty, None, None
    try:
        fn(case)
    except Exception as exc:  # noqa: BLE001 - the optional models may not fit the case
        notes.append(f"alliance models not applied to this case ({type(exc).__name__}: "
                     f"{exc})")
        return empty, None, None
    sets = _scenario_sets(names, chosen)
    combos: list[tuple[str, ...]] = [(), *(x[2] for x in sets)]
    labels = ["baseline", *(x[1] for x in sets)]
    kinds = ["baseline", *(x[0] for x in sets)]
    tasks = [(case, mc.params, None if j == 0 else mc.samples[j - 1], combos)
             for j in range(n_draws + 1)]
    per = _map(executor, _alliance_task, tasks,
               lambda done: tick("alliance models", done, len(tasks)))
    errors = [e for pv in per for _, _, e in pv if e]
    if errors:
        notes.append(f"alliance models failed on {len(errors)} of {len(per) * len(combos)} "
                     f"variants ({errors[0]}); those variants are left out of the bands")
    for key, game in (("solver.aeg_failed", "asymmetric escalation game"),
                      ("solver.tcg_failed", "tripartite crisis game")):
        failed = sum(ind.get(key, 0.0) > 0 for pv in per for ind, _, _ in pv)
        if failed:
            notes.append(f"alliance models: the {game} solver found no equilibrium on "
                         f"{failed} of {len(per) * len(combos)} variants; its indicators are "
                         f"left out of the bands there")
    items = list(dict.fromkeys(k for pv in per for ind, _, _ in pv for k in ind))
    rows = []
    for k, (label, kind) in enumerate(zip(labels, kinds, strict=True)):
        for item in items:
            stated = per[0][k][0].get(item, np.nan)
            base_stated = per[0][0][0].get(item, np.nan)
            vals = np.array([per[j][k][0].get(item, np.nan) for j in range(1, len(per))])
            band = _band(vals)
            row = {"scenario": label, "kind": kind, "metric": "alliance model", "model": "",
                   "item": item, "baseline": base_stated, "value": stated,
                   "effect": stated - base_stated, "p5": band[0], "p50": band[1],
                   "p95": band[2], "draws": int(np.isfinite(vals).sum())}
            if k == 0:
                row.update(effect_p5=np.nan, effect_p50=np.nan, effect_p95=np.nan)
            else:
                base_vals = np.array([per[j][0][0].get(item, np.nan)
                                      for j in range(1, len(per))])
                diffs = vals - base_vals
                eb = _band(diffs)
                row.update(effect_p5=eb[0], effect_p50=eb[1], effect_p95=eb[2])
            rows.append(row)
    alliance = pd.DataFrame(rows, columns=ALLIANCE_COLUMNS)
    effect_rows = alliance[alliance["kind"] != "baseline"][EFFECT_COLUMNS].reset_index(drop=True)
    return effect_rows, alliance, alliance_label_table(per, labels, kinds)


def alliance_label_table(per: list[list[AllianceEval]], labels: list[str],
                         kinds: list[str]) -> pd.DataFrame | None:
    """Categorical alliance results (e.g. the AEG's equilibrium family), which cannot be
    averaged: per scenario and item, the share of the draws giving each label (over the
    stated case alone when there are no draws), whether the stated case gives it, and
    whether it is the modal label."""
    draws = per[1:] if len(per) > 1 else per[:1]
    rows = []
    for k, (label, kind) in enumerate(zip(labels, kinds, strict=True)):
        items = list(dict.fromkeys(i for pv in per for i in pv[k][1]))
        for item in items:
            seen = [pv[k][1][item] for pv in draws if item in pv[k][1]]
            if not seen:
                continue
            counts = pd.Series(seen).value_counts(sort=False)
            top = max(counts.items(), key=lambda kv: (kv[1], kv[0] == per[0][k][1].get(item)))
            for lab, cnt in counts.items():
                rows.append({"scenario": label, "kind": kind, "item": item, "label": lab,
                             "share": cnt / len(seen), "draws": len(seen),
                             "stated": per[0][k][1].get(item) == lab, "modal": lab == top[0]})
    return pd.DataFrame(rows, columns=LABEL_COLUMNS) if rows else None


def _map(executor: Executor | None, fn: Callable[..., Any], tasks: list[tuple[Any, ...]],
         tick: Callable[[int], None]) -> list[Any]:
    """``[fn(*t) for t in tasks]``, in order, on ``executor`` when given; ``tick(done)``."""
    if executor is None:
        out = []
        for k, t in enumerate(tasks):
            out.append(fn(*t))
            tick(k + 1)
        return out
    futures = [executor.submit(fn, *t) for t in tasks]
    index = {f: k for k, f in enumerate(futures)}
    results: list[Any] = [None] * len(tasks)
    for done, f in enumerate(as_completed(futures), start=1):
        results[index[f]] = f.result()
        tick(done)
    return results


def movement_table(runs: dict[str, ModelRun], sim: Any | None, case: Case) -> pd.DataFrame:
    """Who moves toward whom: for each source of rounds (an iterative engine, or the
    dynamics), how far actor ``mover`` closed the distance to actor ``toward``'s starting
    position between the first and the last round, in scale widths averaged over issues
    (positive: moved toward; negative: moved away). The diagonal is the actor's own net
    movement (distance travelled, in scale widths)."""
    width = np.array([i.scale.width for i in case.issues])
    sources: list[tuple[str, tuple[str, ...], np.ndarray]] = []
    for model, run in runs.items():
        if run.point.rounds.shape[0] > 1:
            sources.append((model, run.point.actors, run.point.rounds))
    if sim is not None and sim.positions.shape[0] > 1:
        sources.append(("dynamics", tuple(sim.actors), sim.positions))
    rows = []
    for name, actors, rounds in sources:
        x0, xt = rounds[0] / width, rounds[-1] / width
        for i, a in enumerate(actors):
            for j, b in enumerate(actors):
                if i == j:
                    v = float(np.abs(xt[i] - x0[i]).mean())
                else:
                    v = float((np.abs(x0[i] - x0[j]) - np.abs(xt[i] - x0[j])).mean())
                rows.append({"source": name, "mover": a, "toward": b, "closed": v})
    return pd.DataFrame(rows, columns=["source", "mover", "toward", "closed"])


def interaction_table(runs: dict[str, ModelRun]) -> pd.DataFrame:
    """Who pressed whom, from the engines' diagnostics, for the point run of each engine:
    BDM-style ``offers`` (``proposer`` -> ``receiver``, by offer type: compromise,
    capitulation, confrontation) and SMP-style ``challenges`` (``initiator`` -> ``target``,
    ``adopted`` when the target adopted the bargain), counted over rounds and issues."""
    rows: dict[tuple[str, str, str, str], int] = {}
    for model, run in runs.items():
        diag = run.point.diagnostics
        actors = run.point.actors
        for offer in diag.get("offers") or []:
            if not isinstance(offer, dict) or offer.get("type") in (None, "none"):
                continue
            key = (model, str(offer.get("proposer")), str(offer.get("receiver")),
                   str(offer["type"]))
            rows[key] = rows.get(key, 0) + 1
        for rnd in diag.get("challenges") or []:
            for ch in rnd if isinstance(rnd, list) else []:
                if not isinstance(ch, dict) or "initiator" not in ch:
                    continue
                a, b = actors[int(ch["initiator"])], actors[int(ch["target"])]
                kind = "challenge, adopted" if int(ch["target"]) in ch.get("adopted_by", []) \
                    else "challenge"
                rows[(model, a, b, kind)] = rows.get((model, a, b, kind), 0) + 1
    return pd.DataFrame([(*k, v) for k, v in sorted(rows.items())],
                        columns=["source", "from", "to", "kind", "count"])


def inputs_table(case: Case) -> pd.DataFrame:
    """Every input number with its source: actor, issue, field, value, range, source, note."""
    rows = []
    issue_names = set(case.issue_names)
    for label, path, v in walk_values(case):
        actor = issue = ""
        fld = label
        if path[0] == "actors":
            actor = case.actors[int(path[1])].name
            rest = [str(p) for p in path[2:]]
            issue = next((p for p in rest if p in issue_names), "")
            fld = _field_name([p for p in rest if p != issue])
        elif path[0] == "issues":
            issue = case.issues[int(path[1])].name
            fld = ".".join(str(p) for p in path[2:])
        elif path[0] in ("links", "feedback"):
            link = getattr(case, str(path[0]))[int(path[1])]
            issue = link.issue
            who = ", ".join(link.actors) if link.actors else "all"
            fld = f"{path[0]}: {link.perception} -> {link.issue} ({who}) weight"
            if path[0] == "feedback":
                fld = f"feedback: {link.issue} -> {link.perception} ({who}) weight"
        source = v.source
        if source is None and path[0] in ("links", "feedback"):
            source = getattr(case, str(path[0]))[int(path[1])].source
        rows.append({
            "actor": actor,
            "issue": issue,
            "field": fld,
            "value": v.value,
            "range_low": v.range[0] if v.range else np.nan,
            "range_high": v.range[1] if v.range else np.nan,
            "source": source or "",
            "note": v.note or "",
            "path": label,
        })
    for kind in ("shocks", "levers"):
        for iv in getattr(case, kind):
            for ch in iv.changes:
                rows.append({
                    "actor": "", "issue": "",
                    "field": f"{kind[:-1]} {iv.name}: {ch.op} {ch.target}",
                    "value": ch.value, "range_low": np.nan, "range_high": np.nan,
                    "source": ch.source or iv.source or "", "note": iv.description or "",
                    "path": f"{kind}.{iv.name}",
                })
    return pd.DataFrame(rows)


_SINGULAR = {"positions": "position", "saliences": "salience"}


def _field_name(parts: list[str]) -> str:
    """``['perceptions', 'estimates', 'X', 'positions']`` -> ``'estimate of X: position'``."""
    if parts[:2] == ["perceptions", "estimates"] and len(parts) >= 4:
        return f"estimate of {parts[2]}: {_SINGULAR.get(parts[3], parts[3])}"
    if parts[:1] == ["perceptions"]:
        parts = parts[1:]
        if parts[:1] == ["threats"]:
            return "threat perceived: " + ".".join(parts[1:])
    return ".".join(_SINGULAR.get(p, p) for p in parts)


def _hash(case: Case, raw: bytes | None) -> str:
    data = raw if raw is not None else case.model_dump_json().encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def _versions() -> dict[str, str]:
    out = versions()
    from importlib.metadata import PackageNotFoundError, version

    for pkg in ("plotly", "jinja2", "rich"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


__all__ = [
    "DEFAULT_DRAWS",
    "DEFAULT_MODELS",
    "ModelRun",
    "RunResults",
    "inputs_table",
    "movement_table",
    "run_job",
]
