"""Workers die with their parent (issue 13, item 4): SIGKILL ``alliancelab explore
--workers 2`` or ``alliancelab run --workers 2`` while its process pool is busy, and no
pool worker survives (checked with psutil on the real processes)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

DATA = Path(__file__).parent / "data"


def _pool_workers(proc: subprocess.Popen[bytes], n: int, timeout: float = 120) -> list[object]:
    """The parent's child processes, once there are ``n`` of them and they are working."""
    parent = psutil.Process(proc.pid)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the command ended before its pool started"
        kids = parent.children(recursive=True)
        if len(kids) >= n and sum(k.cpu_times().user for k in kids) > 0.2:
            return kids
        time.sleep(0.1)
    raise AssertionError(f"no pool of {n} workers within {timeout} s")


def _kill_and_check(cmd: list[str]) -> None:
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        kids = _pool_workers(proc, 2)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        gone, alive = psutil.wait_procs(kids, timeout=20)
        alive = [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        assert not alive, f"pool workers outlived their parent: {[p.pid for p in alive]}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for k in psutil.Process().children(recursive=True):
            if k.pid != proc.pid and "alliancelab" in " ".join(k.cmdline()):
                k.kill()


def test_explore_workers_die_with_a_sigkilled_parent(tmp_path: Path) -> None:
    _kill_and_check([sys.executable, "-m", "alliancelab", "explore",
                     str(DATA / "explore_case.yaml"), "--n", "20000", "--workers", "2",
                     "--models", "compromise,bdm-scholz", "--batch-size", "50",
                     "--store", str(tmp_path / "store")])


def test_run_workers_die_with_a_sigkilled_parent(tmp_path: Path) -> None:
    _kill_and_check([sys.executable, "-m", "alliancelab", "run", "us_rok_2025",
                     "--workers", "2", "--draws", "4000", "--explore-n", "0",
                     "--out", str(tmp_path / "out")])


def test_a_worker_of_a_live_parent_keeps_working() -> None:
    """The watch does not end the workers of a parent that is alive."""
    from alliancelab.execution import Evaluator

    me = psutil.Process()
    # other children of this test process (e.g. a browser an earlier test left closing) may
    # come and go: only the pool's, started by the first map, are looked at
    before = {c.pid for c in me.children(recursive=True)}
    with Evaluator(workers=2) as ev:
        first = ev.map(os.getpid, [()] * 4)
        workers = {c.pid for c in me.children(recursive=True)} - before
        time.sleep(1.2)  # longer than the fallback watcher's poll
        again = ev.map(os.getpid, [()] * 4)
        alive = {pid for pid in workers if _running(pid)}
    # the pool may hand a quick batch to one worker only: compare with the pool's processes
    assert os.getpid() not in first and set(first) | set(again) <= workers
    assert workers and alive == workers


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
