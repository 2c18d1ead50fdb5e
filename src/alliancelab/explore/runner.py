"""One runner for every executor: sequential, a process pool, or Dask distributed.

:func:`explore` samples the scenarios, writes the design and manifest to the store, then runs
the experiments still missing from the store in batches (many experiments per task: the model
is vectorised over a batch) on any :class:`concurrent.futures.Executor`, writing each batch to
the store as soon as it finishes. At most ``2 * workers + 1`` batches are in flight, so memory
stays flat however many experiments there are.

The executors are :class:`alliancelab.execution.Evaluator`'s. The model (the case as
arrays, the uncertainties, the policies) is shipped once per worker:

* a process pool the runner creates (``workers=N``) installs it with the pool's initializer
  and tasks carry only its key;
* a Dask executor (``Client.get_executor()``, ``scheduler=``) gets it scattered with
  ``broadcast=True`` and tasks carry the Dask future;
* any other executor receives it with each task; workers keep it in a per-process cache.

An experiment whose evaluation raises, or returns a non-finite outcome, is stored with
``ok = false`` and its error; the sweep goes on. A failure of the executor itself (a worker
process killed, a lost scheduler) stops the run with an error; what finished is stored and
a rerun resumes.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import math
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from ..core import limits
from ..core.case import Case
from ..core.errors import AllianceLabError
from ..core.rng import DEFAULT_SEED, versions
from ..execution import Evaluator, resolve
from ..execution.progress import ProgressLines
from ..execution.shared import CACHE as SHARED_CACHE
from ..scenarios.uncertainty import Uncertain, check_distribution, uncertainties
from . import samplers
from .model import DEFAULT_MODELS, ExperimentModel, Policy
from .model import policies as make_policies
from .results import Exploration, MemoryExploration
from .store import Store

#: manifest keys that identify an exploration (a rerun must agree on all of them).
IDENTITY = ("case_hash", "sampler", "distribution", "n", "parameters", "policies", "shocks",
            "models", "rounds", "n_scenarios", "n_experiments", "outcomes")

#: largest automatic batch: big enough to vectorise (BDM works in blocks of 256), small
#: enough that a worker's memory does not depend on the number of experiments.
MAX_BATCH = 1024

Progress = Callable[[int, int, int], None]  # (stored, total, failed)

#: the models this worker process keeps, by key (:mod:`alliancelab.execution.shared`).
_WORKER_MODELS = SHARED_CACHE


@dataclass(frozen=True)
class BatchResult:
    ids: np.ndarray
    ok: np.ndarray
    error: list[str | None]
    outcomes: np.ndarray
    seconds: float
    cpu_seconds: float = 0.0


def case_hash(case: Case) -> str:
    """SHA-256 of the case's canonical JSON."""
    return hashlib.sha256(case.model_dump_json().encode()).hexdigest()


# -- worker side ---------------------------------------------------------------------------


def run_batch(ref: ExperimentModel | str, ids: np.ndarray, X: np.ndarray) -> BatchResult:
    """Evaluate experiments ``ids`` (scenario rows ``X``); runs in a worker. A batch that
    raises is re-run one experiment at a time so only the failing ones are marked."""
    t0, c0 = time.perf_counter(), time.process_time()
    model: ExperimentModel = resolve(ref)
    K = len(model.outcome_names)
    errors: list[str | None] = [None] * len(ids)
    try:
        out = np.asarray(model.evaluate(ids, X), dtype=float).reshape(len(ids), K)
    except Exception:
        out = np.full((len(ids), K), np.nan)
        for r in range(len(ids)):
            try:
                out[r] = np.asarray(model.evaluate(ids[r:r + 1], X[r:r + 1]),
                                    dtype=float).reshape(K)
            except Exception as exc:  # noqa: BLE001 - recorded, never aborts the sweep
                errors[r] = f"{type(exc).__name__}: {exc}"
    bad = ~np.isfinite(out).all(axis=1)
    for r in map(int, np.flatnonzero(bad)):
        if errors[r] is None:
            cols = [model.outcome_names[j] for j in np.flatnonzero(~np.isfinite(out[r]))]
            errors[r] = "non-finite outcome: " + ", ".join(cols[:5])
    ok = np.array([e is None for e in errors], dtype=bool)
    return BatchResult(np.asarray(ids), ok, errors, out, time.perf_counter() - t0,
                       time.process_time() - c0)


# -- main side -----------------------------------------------------------------------------


def _batches(pending: np.ndarray, size: int) -> Iterator[np.ndarray]:
    for start in range(0, len(pending), size):
        yield pending[start:start + size]


def _manifest(case: Case, sampler: str, distribution: str, n: int,
              params: Sequence[Uncertain], pols: Sequence[Policy], shocks: Sequence[str],
              model: ExperimentModel, n_scen: int, entropy: int,
              seed: int | None) -> dict[str, Any]:
    vers = versions()
    for pkg in ("SALib", "duckdb", "distributed"):
        try:
            vers[pkg] = version(pkg)
        except PackageNotFoundError:
            vers[pkg] = "not installed"
    return {
        "case_name": case.name,
        "case_hash": case_hash(case),
        "sampler": sampler,
        "distribution": distribution,
        "n": int(n),
        "parameters": [
            {"name": p.label, "low": p.low, "high": p.high, "default": p.value,
             "boolean": p.boolean} for p in params
        ],
        "policies": [{"name": p.name, "levers": list(p.levers)} for p in pols],
        "shocks": list(shocks),
        "models": list(model.models),
        "rounds": model.rounds,
        "n_scenarios": int(n_scen),
        "n_experiments": int(n_scen * len(pols)),
        "outcomes": list(model.outcome_names),
        "seed": seed,
        "entropy": str(entropy),
        "seeds": "root SeedSequence(entropy); design: spawn_key (0, column) for lhs/mc, "
                 "(0,) for SALib samplers; experiment e: SeedSequence(entropy, "
                 "spawn_key=(1, e)) = root.spawn(2)[1].spawn(N)[e]",
        "versions": vers,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def explore(
    case: Case,
    *,
    n: int,
    sampler: str = "lhs",
    distribution: str = "triangular",
    levers: Sequence[str] = (),
    shocks: Sequence[str] = (),
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    models: Sequence[str] = DEFAULT_MODELS,
    rounds: int = 10,
    seed: int | None = None,
    store: str | Path | None = None,
    executor: cf.Executor | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    batch_size: int | None = None,
    progress: Progress | bool | None = None,
    overwrite: bool = False,
    model_factory: Callable[..., ExperimentModel] | None = None,
) -> Exploration:
    """Run (or resume) an exploration and return its :class:`~alliancelab.explore.results.
    Exploration`. The design samples the ranged numbers of the case with ``distribution``
    (``"triangular"``, mode at the stated value, as ``alliancelab run``; ``"uniform"``,
    ``"pert"`` or ``"truncnorm"``; :mod:`alliancelab.scenarios.uncertainty`) and the
    ``shocks`` on/off; ``include`` and ``exclude`` (glob patterns on the dotted labels,
    :func:`~alliancelab.scenarios.uncertainty.select`) narrow the ranged numbers varied,
    the others stay at their stated values. ``models`` are engine names of the registry and
    ``"dynamics"``. ``seed`` None resumes a store with its own seed and starts a new one
    with :data:`~alliancelab.core.rng.DEFAULT_SEED`. ``store`` is the directory (a fresh
    temporary one when None). Give at most one of ``executor`` (any Executor), ``workers``
    (a local process pool; 1 or None runs in this process) and ``scheduler`` (a Dask
    scheduler address, or ``"local:N"`` for a LocalCluster of N workers). ``progress`` is a
    callback ``(stored, total, failed)``, or True for plain lines on stderr
    (:class:`~alliancelab.execution.progress.ProgressLines`)."""
    if sum(x is not None for x in (executor, scheduler)) + (workers not in (None, 1)) > 1:
        raise AllianceLabError("give only one of executor, workers and scheduler",
                               field="workers")
    if progress is True:
        progress = ProgressLines().explore
    params, pols, n_scen = _plan(case, sampler, distribution, n, levers, shocks, include,
                                 exclude)
    if store is None:
        store = tempfile.mkdtemp(prefix="alliancelab-explore-")
    st = Store(store)
    try:
        existing = st.manifest()
        if existing is not None and overwrite:
            existing = None
        if existing is not None and seed is None:
            entropy = int(existing["entropy"])  # resume with the stored seed
        else:
            entropy = samplers.entropy_of(samplers.root_sequence(
                DEFAULT_SEED if seed is None else seed))
        factory = model_factory or ExperimentModel.build
        model = factory(case, params, pols, shocks=tuple(shocks), models=tuple(models),
                        rounds=rounds, entropy=entropy)
        manifest = _manifest(case, sampler, distribution, n, params, pols, shocks, model,
                             n_scen, entropy, seed)
        manifest.update(include=list(include), exclude=list(exclude))
        if existing is not None:
            diff = [k for k in (*IDENTITY, "entropy") if existing.get(k) != manifest[k]]
            if diff:
                raise AllianceLabError(
                    f"the store holds a different exploration (differs in {', '.join(diff)}); "
                    "choose another --store or pass --overwrite", file=str(st.directory))
        design_sha: list[str] = []
        if existing is None or not st.design_path.exists():  # rebuilt: must be as recorded
            with st.writing_design(None if existing is None
                                   else existing.get("design_sha256")) as design_sha:
                samplers.write_design(st.design_path, sampler, params, n,
                                      np.random.SeedSequence(entropy), distribution)
        if existing is None:
            st.create(manifest, model.outcome_names, design_sha256=design_sha[0])
        else:
            st.verify()  # a damaged store is refused before anything is added to it
        t0 = time.perf_counter()
        stats = _run(st, model, n_scen, pols, executor, workers, scheduler, batch_size,
                     progress or None)
        stats["wall_seconds"] = time.perf_counter() - t0
    finally:
        st.close()
    ex = Exploration(store)
    ex.run_stats = stats
    return ex


def _plan(case: Case, sampler: str, distribution: str, n: int, levers: Sequence[str],
          shocks: Sequence[str], include: Sequence[str], exclude: Sequence[str]
          ) -> tuple[list[Uncertain], list[Policy], int]:
    """(uncertainties, policies, scenarios) of an exploration, its options checked."""
    check_distribution(distribution)
    params = uncertainties(case, shocks, include=include, exclude=exclude)
    pols = make_policies(case, levers)
    n_scen = samplers.n_scenarios(sampler, n, len(params))
    limits.at_most("experiments", n_scen * len(pols), field="n")
    return params, pols, n_scen


def explore_in_memory(case: Case, *, n: int, sampler: str, seed: int,
                      levers: Sequence[str] = (), shocks: Sequence[str] = (),
                      models: Sequence[str] = DEFAULT_MODELS,
                      progress: Progress | None = None) -> MemoryExploration:
    """:func:`explore` (default distribution and rounds) run in this process without a
    store, for a caller that analyses the exploration and discards it (the sweep of
    ``alliancelab run``): the same design, manifest (the design's SHA-256 included), batches
    and numbers, the results kept in arrays (:class:`~alliancelab.explore.results.
    MemoryExploration`)."""
    distribution = "triangular"
    params, pols, n_scen = _plan(case, sampler, distribution, n, levers, shocks, (), ())
    entropy = samplers.entropy_of(samplers.root_sequence(seed))
    model = ExperimentModel.build(case, params, pols, shocks=tuple(shocks),
                                  models=tuple(models), entropy=entropy)
    manifest = _manifest(case, sampler, distribution, n, params, pols, shocks, model,
                         n_scen, entropy, seed)
    design = samplers.sample(sampler, params, n, np.random.SeedSequence(entropy), distribution)
    manifest.update(include=[], exclude=[], design_sha256=samplers.design_sha256(design))
    # as a store returns it: every value through its JSON
    manifest = {k: json.loads(json.dumps(v, sort_keys=True)) for k, v in manifest.items()}
    batches: list[BatchResult] = []
    t0 = time.perf_counter()
    stats = _evaluate(model, np.arange(n_scen * len(pols)), len(pols),
                      lambda start, stop: design[start:stop], batches.append,
                      (None, None, None, None), progress, (0, 0, n_scen * len(pols)),
                      "(in memory)")
    stats["wall_seconds"] = time.perf_counter() - t0
    ids = np.concatenate([b.ids for b in batches])
    order = np.argsort(ids, kind="stable")
    errors = [e for b in batches for e in b.error]
    ex = MemoryExploration(manifest, design, ids[order],
                           np.concatenate([b.ok for b in batches])[order],
                           [errors[i] for i in order],
                           np.concatenate([b.outcomes for b in batches])[order])
    ex.run_stats = stats
    return ex


def _run(st: Store, model: ExperimentModel, n_scen: int, pols: Sequence[Any],
         executor: cf.Executor | None, workers: int | None, scheduler: str | None,
         batch_size: int | None, progress: Progress | None) -> dict[str, float]:
    """Run the pending experiments; returns run statistics (experiments run, batches,
    seconds spent inside the model summed over workers)."""
    n_pol = len(pols)
    done = st.done_ids()
    mask = np.ones(n_scen * n_pol, dtype=bool)
    mask[done] = False
    pending = np.flatnonzero(mask)
    del mask

    def write(res: BatchResult) -> None:
        st.write(res.ids, res.ids // n_pol, [pols[j].name for j in res.ids % n_pol],
                 res.ok, res.error, res.outcomes, model.outcome_names)

    design = samplers.DesignReader(st.design_path)
    return _evaluate(model, pending, n_pol, design.rows, write,
                     (executor, workers, scheduler, batch_size), progress,
                     (*st.count(), n_scen * n_pol), str(st.directory))


def _evaluate(model: ExperimentModel, pending: np.ndarray, n_pol: int,
              rows: Callable[[int, int], np.ndarray], write: Callable[[BatchResult], None],
              how: tuple[cf.Executor | None, int | None, str | None, int | None],
              progress: Progress | None, counts: tuple[int, int, int], where: str
              ) -> dict[str, float]:
    """Run experiments ``pending`` (design rows ``rows(start, stop)``) in batches on the
    executor ``how`` = (executor, workers, scheduler, batch size), handing each finished
    batch to ``write``; ``counts`` are (stored, failed) experiments before and the total.
    Returns the run statistics of :func:`_run`."""
    executor, workers, scheduler, batch_size = how
    stats: dict[str, float] = {"experiments": 0, "batches": 0, "compute_seconds": 0.0,
                               "cpu_seconds": 0.0, "workers": 1}
    stored, failed, total = counts
    if progress:
        progress(stored, total, failed)
    if len(pending) == 0:
        return stats
    with Evaluator(workers, executor=executor, scheduler=scheduler, shared=model) as ev:
        stats["workers"] = ev.workers
        size = batch_size or int(min(MAX_BATCH,
                                     max(16, math.ceil(len(pending) / (8 * ev.workers)))))

        def tasks() -> Iterator[tuple[Any, ...]]:
            for ids in _batches(pending, size):
                scen = ids // n_pol
                yield ev.ref, ids, rows(int(scen[0]), int(scen[-1]) + 1)[scen - scen[0]]

        def executor_failed(exc: BaseException) -> AllianceLabError:
            return AllianceLabError(
                f"the executor failed ({type(exc).__name__}: {exc}); finished batches "
                "are stored - run the same command again to resume", file=where)

        for res in ev.stream(run_batch, tasks(), failed=executor_failed):
            write(res)
            stored += len(res.ids)
            stats["experiments"] += len(res.ids)
            stats["batches"] += 1
            stats["compute_seconds"] += res.seconds
            stats["cpu_seconds"] += res.cpu_seconds
            failed += int((~res.ok).sum())
            if progress:
                progress(stored, total, failed)
    return stats


def default_workers() -> int:
    return os.cpu_count() or 1
