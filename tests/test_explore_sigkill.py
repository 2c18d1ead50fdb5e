"""Nothing lost, nothing duplicated: kill ``alliancelab explore`` with SIGKILL mid-run,
run the same command again, and every experiment is stored exactly once - with the same
numbers an uninterrupted run gives."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest

DATA = Path(__file__).parent / "data"


def _cmd(store: Path) -> list[str]:
    return [sys.executable, "-m", "alliancelab", "explore", str(DATA / "explore_case.yaml"),
            "--n", "6000", "--sampler", "lhs", "--lever", "sustained_presence",
            "--lever", "common_vision", "--shock", "china_retaliation",
            "--models", "compromise,bdm-scholz",
            "--store", str(store), "--seed", "5", "--batch-size", "50"]


def _stored(store: Path) -> pd.DataFrame:
    con = duckdb.connect(str(store / "explore.duckdb"), read_only=True)
    try:
        return con.execute("SELECT * FROM results ORDER BY experiment_id").df()
    finally:
        con.close()


@pytest.mark.slow
def test_sigkill_then_rerun_stores_every_experiment_once(tmp_path):
    store = tmp_path / "killed"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(_cmd(store), stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            text=True, env=env)
    deadline = time.monotonic() + 90
    assert proc.stderr is not None
    for line in proc.stderr:  # progress lines: "explore: DONE/TOTAL experiments stored, ..."
        if line.startswith("explore: ") and not line.startswith("explore: 0/"):
            break
        assert time.monotonic() < deadline, "no progress"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    partial = _stored(store)
    total = 6000 * 3
    assert 0 < len(partial) < total, "the kill must land mid-run"

    rerun = subprocess.run(_cmd(store), capture_output=True, text=True, env=env, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    final = _stored(store)
    assert final["experiment_id"].tolist() == list(range(total))  # each once, none missing
    assert final["ok"].all()
    # the experiments that survived the kill are untouched by the rerun
    merged = partial.merge(final, on="experiment_id", suffixes=("_a", "_b"))
    assert len(merged) == len(partial)
    for col in [c for c in partial.columns if c.startswith(("compromise.", "bdm-scholz."))]:
        assert (merged[f"{col}_a"] == merged[f"{col}_b"]).all()

    clean = tmp_path / "clean"
    subprocess.run(_cmd(clean), check=True, capture_output=True, env=env, timeout=300)
    pd.testing.assert_frame_equal(final, _stored(clean))
