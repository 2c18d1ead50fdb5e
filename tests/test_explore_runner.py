"""The runner: executors, the store, failures, exports."""

from __future__ import annotations

import concurrent.futures as cf
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alliancelab.core.errors import AllianceLabError
from alliancelab.explore import Exploration, explore
from alliancelab.explore.model import ExperimentModel
from alliancelab.formats import read_case

DATA = Path(__file__).parent / "data"
LEVERS = ["sustained_presence", "common_vision"]
SHOCKS = ["china_retaliation"]


@pytest.fixture(scope="module")
def case():
    return read_case(DATA / "explore_case.yaml")


@pytest.fixture(scope="module")
def reference(case, tmp_path_factory):
    """A sequential run, the reference the other executors must reproduce."""
    return explore(case, n=60, sampler="lhs", levers=LEVERS, shocks=SHOCKS,
                   models=("compromise",), seed=11, store=tmp_path_factory.mktemp("ref"),
                   batch_size=16)


def test_sequential_run_is_complete(reference):
    res = reference.results()
    assert reference.complete and reference.n_failed == 0
    assert res["experiment_id"].tolist() == list(range(180))
    assert res["policy"].tolist()[:3] == ["none", *LEVERS]
    assert (res["scenario"] == res["experiment_id"] // 3).all()
    m = reference.manifest
    for key in ("case_hash", "sampler", "entropy", "versions", "seeds", "parameters"):
        assert key in m
    assert m["entropy"] == "11" and m["versions"]["numpy"] == np.__version__
    assert (reference.directory / "manifest.json").exists()


def test_process_pool_reproduces_sequential(case, reference, tmp_path):
    ex = explore(case, n=60, sampler="lhs", levers=LEVERS, shocks=SHOCKS,
                 models=("compromise",), seed=11, store=tmp_path, workers=2, batch_size=16)
    pd.testing.assert_frame_equal(ex.results(), reference.results())


def test_any_executor_is_accepted(case, reference, tmp_path):
    with cf.ThreadPoolExecutor(2) as pool:
        ex = explore(case, n=60, sampler="lhs", levers=LEVERS, shocks=SHOCKS,
                     models=("compromise",), seed=11, store=tmp_path, executor=pool,
                     batch_size=7)
    pd.testing.assert_frame_equal(ex.results(), reference.results())


class _Fragile(ExperimentModel):
    """The real model, except that experiments whose White House troop position is above
    25,000 raise - a stand-in for a model that breaks in part of the space."""

    def evaluate(self, ids, X):
        col = [p.label for p in self.params].index("actors.White House.positions.troops")
        if (X[:, col] > 25_000).any():
            raise FloatingPointError("diverged")
        return super().evaluate(ids, X)


def test_failing_experiments_are_recorded_not_fatal(case, tmp_path):
    progress = []
    ex = explore(case, n=40, sampler="lhs", levers=LEVERS, models=("compromise",), seed=2,
                 store=tmp_path, batch_size=10, model_factory=_Fragile.build,
                 progress=lambda *a: progress.append(a))
    res = ex.frame()
    bad = res["actors.White House.positions.troops"] > 25_000
    assert bad.any() and (~bad).any()
    assert ex.complete and ex.n_failed == int(bad.sum())
    assert (res.loc[bad, "error"] == "FloatingPointError: diverged").all()
    assert res.loc[~bad, "ok"].all() and res.loc[~bad, "error"].isna().all()
    assert res.loc[~bad, "compromise.troops"].notna().all()
    assert progress[-1] == (120, 120, int(bad.sum()))
    _, outcomes = ex.to_ema()
    assert np.isnan(outcomes["compromise.troops"][bad.to_numpy()]).all()


def test_rerun_of_a_finished_store_runs_nothing_and_other_settings_are_refused(
        case, reference):
    again = explore(case, n=60, sampler="lhs", levers=LEVERS, shocks=SHOCKS,
                    models=("compromise",), store=reference.directory)  # seed from store
    pd.testing.assert_frame_equal(again.results(), reference.results())
    with pytest.raises(AllianceLabError, match="differs in n"):
        explore(case, n=61, sampler="lhs", levers=LEVERS, shocks=SHOCKS,
                models=("compromise",), store=reference.directory)


def test_ema_and_tidy_shapes(reference):
    experiments, outcomes = reference.to_ema()
    assert len(experiments) == 180
    assert set(outcomes) == {"compromise.troops", "compromise.china_stance"}
    assert all(len(v) == 180 for v in outcomes.values())
    for col in ("scenario", "policy", "model", *LEVERS, "shock.china_retaliation"):
        assert col in experiments
    assert experiments["sustained_presence"].tolist()[:3] == [False, True, False]
    assert experiments["shock.china_retaliation"].dtype == bool
    tidy = reference.tidy()
    assert list(tidy.columns) == ["experiment_id", "scenario", "policy", "model", "outcome",
                                  "value"]
    assert len(tidy) == 360 and set(tidy["model"]) == {"compromise"}


def test_parquet_export(reference, tmp_path):
    path = reference.export_parquet(tmp_path / "r.parquet")
    back = pd.read_parquet(path)
    assert len(back) == 180 and "compromise.troops" in back


def test_dask_local_cluster_of_two_workers(case, reference, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        ex = explore(case, n=60, sampler="lhs", levers=LEVERS, shocks=SHOCKS,
                     models=("compromise",), seed=11, store=tmp_path,
                     executor=client.get_executor(pure=False), batch_size=16)
        assert len(client.scheduler_info()["workers"]) == 2
        # both workers ran batches (each keeps the model it received in its cache)
        cached = client.run(_cached_models)
        assert len(cached) == 2 and all(len(v) == 1 for v in cached.values())
    pd.testing.assert_frame_equal(ex.results(), reference.results())


def _cached_models():
    from alliancelab.explore import runner

    return list(runner._WORKER_MODELS)


def test_exploration_reopens_from_disk(reference):
    again = Exploration(reference.directory)
    assert again.n_stored == 180 and again.outcomes == reference.outcomes
