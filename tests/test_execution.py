"""The evaluator layer: one ordered map for sequential, process-pool and any-executor runs,
and the Monte Carlo of an engine on top of it, whose results do not depend on either."""

from __future__ import annotations

import concurrent.futures as cf
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alliancelab import read_case
from alliancelab.core.errors import AllianceLabError
from alliancelab.core.problem import Problem
from alliancelab.execution import Evaluator, Sequential, chunk_bounds, forecast_many, resolve
from alliancelab.jobs.run import run_job
from alliancelab.models.bargaining import engine_class
from alliancelab.scenarios.uncertainty import draw

DATA = Path(__file__).parent / "data"
MINI = DATA / "mini_alliance.yaml"


def square(x: int) -> int:
    return x * x


def squares(chunk: list[int], offset: int) -> list[int]:
    return [x * x + offset for x in chunk]


class Blob:
    def __init__(self, key: str) -> None:
        self.key = key


def resolved_key(ref: object) -> str:
    return str(resolve(ref).key)


@pytest.fixture(scope="module")
def problems() -> tuple[list[Problem], list[np.random.SeedSequence]]:
    case = read_case(MINI)
    return draw(case, 30, rng=5).problems(), np.random.SeedSequence(9).spawn(30)


def test_map_is_ordered_and_ticks_everywhere():
    tasks = [(k,) for k in range(40)]
    want = [k * k for k in range(40)]
    with cf.ThreadPoolExecutor(3) as pool:
        for ev in (Evaluator(), Evaluator(1), Evaluator(2), Evaluator(executor=pool)):
            with ev:
                ticks: list[int] = []
                assert ev.map(square, tasks, tick=ticks.append) == want
                assert ticks == list(range(1, 41))
                assert ev.map_chunks(squares, list(range(40)), size=7, args=(1,)) == \
                    [w + 1 for w in want]
                assert sorted(ev.stream(square, tasks, window=2)) == want
    assert isinstance(Evaluator().executor, Sequential)


def test_chunks_cover_the_items():
    assert chunk_bounds(10, 4) == [(0, 4), (4, 8), (8, 10)]
    assert chunk_bounds(0, 4) == [] and chunk_bounds(3, 0) == [(0, 1), (1, 2), (2, 3)]


def test_bad_settings_are_one_line_errors():
    with pytest.raises(AllianceLabError, match="only one of"):
        Evaluator(2, executor=Sequential())
    with pytest.raises(AllianceLabError, match="positive integer"):
        Evaluator(0)


def test_a_failing_task_stops_the_stream_with_its_error():
    with Evaluator() as ev, pytest.raises(ZeroDivisionError):
        ev.map(divmod, [(1, 1), (1, 0)])
    with Evaluator() as ev, pytest.raises(AllianceLabError, match="lost"):
        list(ev.stream(divmod, [(1, 0)], failed=lambda exc: AllianceLabError("lost")))


def _sorted_keys(d: dict[str, int]) -> list[str]:
    return sorted(d)


def test_submit_pickled_takes_the_argument_as_it_was_when_submitted():
    """The caller may change (or cache on) the argument while the task waits in the pool's
    queue: the task gets it as it was at submission; sequentially it runs at once."""
    for workers in (1, 2):
        with Evaluator(workers) as ev:
            arg = {f"k{i}": i for i in range(2000)}
            fut = ev.submit_pickled(_sorted_keys, arg)
            for i in range(2000, 4000):  # grows while a pool's feeder thread would pickle it
                arg[f"k{i}"] = i
            assert fut.result() == sorted(f"k{i}" for i in range(2000))


def test_a_shared_object_is_shipped_once_per_worker():
    blob = Blob("blob-1")
    with Evaluator(shared=blob) as ev:
        assert ev.ref is blob and ev.map(resolved_key, [(ev.ref,)]) == ["blob-1"]
    with Evaluator(2, shared=blob) as ev:
        assert ev.ref == "blob-1"  # installed by the pool's initializer
        assert ev.map(resolved_key, [(ev.ref,)] * 4) == ["blob-1"] * 4


@pytest.mark.parametrize("model", ["compromise", "bdm", "smp"])
def test_forecast_many_does_not_depend_on_chunks_or_workers(problems, model):
    probs, seqs = problems
    engine = engine_class(model)()
    want = np.array([engine.solve(p, np.random.default_rng(s)).forecast
                     for p, s in zip(probs, seqs, strict=True)])
    ticks: list[int] = []
    here = forecast_many(probs, model, seqs, tick=ticks.append)
    np.testing.assert_array_equal(here.values, want)
    assert here.failures == 0 and ticks[-1] == len(probs)
    with Evaluator(2) as ev:
        pooled = forecast_many(probs, model, seqs, evaluator=ev)
    np.testing.assert_array_equal(pooled.values, want)


def test_forecast_many_counts_failed_draws(problems, monkeypatch):
    """A chunk the batch cannot solve is solved draw by draw; the failing draw is NaN."""
    probs, seqs = problems
    cls = engine_class("compromise")
    solve = cls.solve

    def fragile(self, problem, rng):  # noqa: ANN001, ANN202
        if problem is probs[3]:
            raise FloatingPointError("diverged")
        return solve(self, problem, rng)

    def batch_fails(self, problems, rngs):  # noqa: ANN001, ANN202
        raise FloatingPointError("batch diverged")

    monkeypatch.setattr(cls, "solve", fragile)
    monkeypatch.setattr(cls, "solve_batch", batch_fails)
    out = forecast_many(probs, "compromise", seqs)
    assert out.failures == 1 and out.first_failure == "FloatingPointError: diverged"
    assert np.isnan(out.values[3]).all() and np.isfinite(np.delete(out.values, 3, 0)).all()


def test_forecast_many_checks_the_engine_once(problems):
    """Engine.check is the one min_actors check: too few actors is the one-line error."""
    from alliancelab.models.bargaining import ENGINES

    model = next((m for m in ENGINES if engine_class(m).min_actors > 1), None)
    if model is None:
        pytest.skip("every engine takes one actor")
    one = Problem.from_arrays(np.ones(1), np.zeros((1, 1)), np.ones((1, 1)))
    with pytest.raises(AllianceLabError, match="needs at least"):
        forecast_many([one], model, problems[1][:1])


def test_run_job_on_any_executor_gives_the_same_results():
    case = read_case(MINI)
    kw = dict(models=["compromise", "smp"], draws=6, effect_draws=2, seed=4)
    alone = run_job(case, **kw)
    with cf.ThreadPoolExecutor(2) as pool:
        pooled = run_job(case, executor=pool, **kw)
    pd.testing.assert_frame_equal(alone.forecast_table(), pooled.forecast_table())
    pd.testing.assert_frame_equal(alone.effects, pooled.effects)
    with pytest.raises(AllianceLabError, match="only one of"):
        run_job(case, workers=2, executor=Sequential(), **kw)
