"""One runner for every executor: sequential, a process pool, or Dask distributed.

:func:`explore` samples the scenarios, writes the design and manifest to the store, then runs
the experiments still missing from the store in batches (many experiments per task: the model
is vectorised over a batch) on any :class:`concurrent.futures.Executor`, writing each batch to
the store as soon as it finishes. At most ``2 * workers + 1`` batches are in flight, so memory
stays flat however many experiments there are.

The model (the case as arrays, the uncertainties, the policies) is shipped once per worker:

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
import math
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..core.case import Case
from ..core.errors import AllianceLabError
from ..scenarios.parameters import policies as make_policies
from ..scenarios.parameters import uncertainties
from . import samplers
from .model import ExperimentModel
from .store import Store

#: manifest keys that identify an exploration (a rerun must agree on all of them).
IDENTITY = ("case_hash", "sampler", "n", "parameters", "policies", "shocks", "models",
            "rounds", "n_scenarios", "n_experiments", "outcomes")

#: largest automatic batch: big enough to vectorise (BDM works in blocks of 256), small
#: enough that a worker's memory does not depend on the number of experiments.
MAX_BATCH = 1024

Progress = Callable[[int, int, int], None]  # (stored, total, failed)

_WORKER_MODELS: dict[str, ExperimentModel] = {}


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


def _install(model: ExperimentModel) -> None:
    """Process-pool initializer: keep the model for the tasks that name it by key."""
    _WORKER_MODELS[model.key] = model


def _resolve(ref: ExperimentModel | str) -> ExperimentModel:
    if isinstance(ref, str):
        return _WORKER_MODELS[ref]
    if ref.key not in _WORKER_MODELS and len(_WORKER_MODELS) >= 8:
        _WORKER_MODELS.clear()  # a long-lived worker serving many explorations
    return _WORKER_MODELS.setdefault(ref.key, ref)


def run_batch(ref: ExperimentModel | str, ids: np.ndarray, X: np.ndarray) -> BatchResult:
    """Evaluate experiments ``ids`` (scenario rows ``X``); runs in a worker. A batch that
    raises is re-run one experiment at a time so only the failing ones are marked."""
    t0, c0 = time.perf_counter(), time.process_time()
    model = _resolve(ref)
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


class _Sequential(cf.Executor):
    """Runs each task at submission, in this process."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future[Any]:
        fut: cf.Future[Any] = cf.Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001
            fut.set_exception(exc)
        return fut


def _batches(pending: np.ndarray, size: int) -> Iterator[np.ndarray]:
    for start in range(0, len(pending), size):
        yield pending[start:start + size]


def _manifest(case: Case, sampler: str, n: int, params: Sequence[Any], pols: Sequence[Any],
              shocks: Sequence[str], model: ExperimentModel, n_scen: int, entropy: int,
              seed: int | None) -> dict[str, Any]:
    from ..core.rng import versions

    vers = versions()
    for pkg in ("SALib", "duckdb", "distributed"):
        try:
            from importlib.metadata import version

            vers[pkg] = version(pkg)
        except Exception:  # noqa: BLE001
            vers[pkg] = "not installed"
    return {
        "case_name": case.name,
        "case_hash": case_hash(case),
        "sampler": sampler,
        "n": int(n),
        "parameters": [
            {"name": p.name, "low": p.low, "high": p.high, "default": p.default,
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
    levers: Sequence[str] = (),
    shocks: Sequence[str] = (),
    models: Sequence[str] = ("compromise", "bdm"),
    rounds: int = 10,
    seed: int | None = None,
    store: str | Path | None = None,
    executor: cf.Executor | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    batch_size: int | None = None,
    progress: Progress | None = None,
    overwrite: bool = False,
    model_factory: Callable[..., ExperimentModel] | None = None,
) -> Any:
    """Run (or resume) an exploration and return its :class:`~alliancelab.explore.results.
    Exploration`. ``store`` is the directory (a fresh temporary one when None). Give at
    most one of ``executor`` (any Executor), ``workers`` (a local process pool; 1 or None
    runs in this process) and ``scheduler`` (a Dask scheduler address, or ``"local:N"`` for
    a LocalCluster of N workers)."""
    from .results import Exploration

    if sum(x is not None for x in (executor, scheduler)) + (workers not in (None, 1)) > 1:
        raise AllianceLabError("give only one of executor, workers and scheduler",
                               field="workers")
    params = uncertainties(case, shocks)
    pols = make_policies(case, levers)
    n_scen = samplers.n_scenarios(sampler, n, len(params))
    if store is None:
        import tempfile

        store = tempfile.mkdtemp(prefix="alliancelab-explore-")
    st = Store(store)
    try:
        existing = st.manifest()
        if existing is not None and overwrite:
            existing = None
        if existing is not None and seed is None:
            entropy = int(existing["entropy"])
        else:
            entropy = samplers.entropy_of(samplers.root_sequence(seed))
        factory = model_factory or ExperimentModel.build
        model = factory(case, params, pols, shocks=tuple(shocks), models=tuple(models),
                        rounds=rounds, entropy=entropy)
        manifest = _manifest(case, sampler, n, params, pols, shocks, model, n_scen, entropy,
                             seed)
        if existing is not None:
            diff = [k for k in (*IDENTITY, "entropy") if existing.get(k) != manifest[k]]
            if diff:
                raise AllianceLabError(
                    f"the store holds a different exploration (differs in {', '.join(diff)}); "
                    "choose another --store or pass --overwrite", file=str(st.directory))
        if existing is None or not st.design_path.exists():
            samplers.write_design(st.design_path, sampler, params, n,
                                  np.random.SeedSequence(entropy))
        if existing is None:
            st.create(manifest, model.outcome_names)
        t0 = time.perf_counter()
        stats = _run(st, model, n_scen, pols, executor, workers, scheduler, batch_size,
                     progress)
        stats["wall_seconds"] = time.perf_counter() - t0
    finally:
        st.close()
    ex = Exploration(store)
    ex.run_stats = stats
    return ex


def _run(st: Store, model: ExperimentModel, n_scen: int, pols: Sequence[Any],
         executor: cf.Executor | None, workers: int | None, scheduler: str | None,
         batch_size: int | None, progress: Progress | None) -> dict[str, float]:
    """Run the pending experiments; returns run statistics (experiments run, batches,
    seconds spent inside the model summed over workers)."""
    n_pol = len(pols)
    stats: dict[str, float] = {"experiments": 0, "batches": 0, "compute_seconds": 0.0,
                               "cpu_seconds": 0.0, "workers": 1}
    total = n_scen * n_pol
    done = st.done_ids()
    mask = np.ones(total, dtype=bool)
    mask[done] = False
    pending = np.flatnonzero(mask)
    del mask
    stored, failed = st.count()
    if progress:
        progress(stored, total, failed)
    if len(pending) == 0:
        return stats
    design = samplers.DesignReader(st.design_path)
    own: cf.Executor | None = None
    cluster: Any = None
    ref: Any = model
    try:
        if executor is None and scheduler is not None:
            executor, own, cluster = _dask_executor(scheduler)
        elif executor is None and workers not in (None, 1):
            if workers is None or workers < 1:
                raise AllianceLabError(f"must be >= 1, got {workers}", field="workers")
            own = executor = cf.ProcessPoolExecutor(
                max_workers=workers, initializer=_install, initargs=(model,))
            ref = model.key
        elif executor is None:
            own = executor = _Sequential()
        n_workers = _n_workers(executor, workers)
        stats["workers"] = n_workers
        client = getattr(executor, "_client", None)
        if client is not None and type(executor).__module__.startswith("distributed"):
            ref = client.scatter(model, broadcast=True, hash=False)
        size = batch_size or int(min(MAX_BATCH, max(16, math.ceil(len(pending) / (8 * n_workers)))))
        window = 2 * n_workers + 1
        inflight: set[cf.Future[BatchResult]] = set()
        batches = _batches(pending, size)
        exhausted = False
        while inflight or not exhausted:
            while not exhausted and len(inflight) < window:
                ids = next(batches, None)
                if ids is None:
                    exhausted = True
                    break
                scen = ids // n_pol
                X = design.rows(int(scen[0]), int(scen[-1]) + 1)[scen - scen[0]]
                inflight.add(executor.submit(run_batch, ref, ids, X))
            if not inflight:
                break
            finished, inflight = cf.wait(inflight, return_when=cf.FIRST_COMPLETED)
            for fut in finished:
                try:
                    res = fut.result()
                except Exception as exc:
                    raise AllianceLabError(
                        f"the executor failed ({type(exc).__name__}: {exc}); finished batches "
                        "are stored - run the same command again to resume",
                        file=str(st.directory)) from exc
                st.write(res.ids, res.ids // n_pol, [pols[j].name for j in res.ids % n_pol],
                         res.ok, res.error, res.outcomes, model.outcome_names)
                stored += len(res.ids)
                stats["experiments"] += len(res.ids)
                stats["batches"] += 1
                stats["compute_seconds"] += res.seconds
                stats["cpu_seconds"] += res.cpu_seconds
                failed += int((~res.ok).sum())
                if progress:
                    progress(stored, total, failed)
    finally:
        if own is not None:
            try:
                own.shutdown(wait=True, cancel_futures=True)
            except TypeError:  # executors without cancel_futures (Dask's ClientExecutor)
                own.shutdown(wait=True)
        if cluster is not None:
            cluster[0].close()
            if cluster[1] is not None:
                cluster[1].close()
    return stats


def _n_workers(executor: cf.Executor, workers: int | None) -> int:
    client = getattr(executor, "_client", None)
    if client is not None:
        try:
            return max(1, len(client.scheduler_info().get("workers", {})))
        except Exception:  # noqa: BLE001
            return 2
    return int(getattr(executor, "_max_workers", None) or workers or 1)


def _dask_executor(scheduler: str) -> tuple[cf.Executor, cf.Executor, Any]:
    """A Dask executor for ``tcp://HOST:PORT`` or ``local:N`` (a LocalCluster)."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise AllianceLabError("Dask is not installed: pip install 'alliancelab[dask]'",
                               field="scheduler") from None
    cluster = None
    if scheduler.startswith("local:"):
        cluster = LocalCluster(n_workers=int(scheduler.split(":", 1)[1]), threads_per_worker=1,
                               processes=True, dashboard_address=None)
        client = Client(cluster)
    else:
        try:
            client = Client(scheduler, timeout=20)
        except OSError as exc:
            raise AllianceLabError(f"cannot reach the Dask scheduler: {exc}",
                                   field="scheduler") from None
    ex = client.get_executor(pure=False)
    return ex, ex, (client, cluster)


def default_workers() -> int:
    return os.cpu_count() or 1
