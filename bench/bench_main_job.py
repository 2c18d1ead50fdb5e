"""Benchmark: the main job, ``alliancelab run us_rok_2025`` at default settings (100 draws,
the default effect, alliance-model and exploration draws, up to 2 worker processes), as a
whole process (issue 15: <= 3 s wall on 2 cores).

Each of ``--runs`` runs is started with :mod:`subprocess` into a temporary output folder
(output discarded); the wall time is measured around it and the CPU time (user + sys) of
the process and of every process it started and waited for (the worker pool) from
``resource.getrusage(RUSAGE_CHILDREN)``. Prints the minimum and median wall and the CPU of
the fastest run, with the target and the ratio (minimum wall / target: on a shared machine
the minimum is the least disturbed run); exits 1 when the minimum wall misses the target,
2 when a run fails. ``--seed`` fixes the seed (default 1) so every run computes the same.

    python bench/bench_main_job.py [--runs 3] [--case us_rok_2025] [-- EXTRA RUN OPTIONS]
"""

from __future__ import annotations

import argparse
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

from bench_startup import child_env, default_command  # bench/ is on sys.path when run as a script

TARGET_WALL = 3.0


def one_run(argv: list[str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + sys, children included) of one process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False,
                          env=child_env())
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{shlex.join(argv)} exited with {proc.returncode}: "
                           f"{proc.stderr.decode(errors='replace').strip()[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3, help="timed runs (default 3)")
    ap.add_argument("--case", default="us_rok_2025")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--command", default=None,
                    help="how to start alliancelab (default: the console script)")
    ap.add_argument("extra", nargs="*", help="more options for alliancelab run (after --)")
    args = ap.parse_args()
    cmd = shlex.split(args.command) if args.command else default_command()
    walls, cpus = [], []
    with tempfile.TemporaryDirectory(prefix="bench-main-job-") as tmp:
        argv = [*cmd, "run", args.case, "--seed", str(args.seed), "--out", f"{tmp}/out", "-q",
                *args.extra]
        print(f"command: {shlex.join(argv)}; {args.runs} runs")
        for k in range(args.runs):
            try:
                wall, cpu = one_run(argv)
            except RuntimeError as exc:
                print(f"run {k + 1}: failed: {exc}")
                return 2
            walls.append(wall)
            cpus.append(cpu)
            print(f"run {k + 1}: wall {wall:.2f} s, CPU {cpu:.2f} s", flush=True)
    best = min(range(len(walls)), key=walls.__getitem__)
    ratio = walls[best] / TARGET_WALL
    print(f"{'what':<26} {'min wall s':>10} {'median s':>9} {'CPU s':>7} {'target s':>9} "
          f"{'ratio':>6}")
    print(f"{'alliancelab run ' + args.case:<26} {walls[best]:>10.2f} "
          f"{statistics.median(walls):>9.2f} {cpus[best]:>7.2f} {TARGET_WALL:>9.2f} "
          f"{ratio:>6.2f}" + ("  MISSED" if ratio > 1 else ""))
    return 1 if ratio > 1 else 0


if __name__ == "__main__":
    sys.exit(main())
