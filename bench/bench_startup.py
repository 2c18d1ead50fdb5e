"""Benchmark: start-up of the ``alliancelab`` command as whole processes (issue 15).

Times, like hyperfine, N runs (after warm-up runs) of

* ``alliancelab --help``, ``python -m alliancelab --help`` and ``alliancelab forecast
  --help`` (target 0.15 s each),
* ``alliancelab forecast dummyData-a040.csv --model smp --json`` (target 0.3 s, i.e. about
  0.05 x KTAB's smpc -O2 on that case): a KTAB CSV of 40 actors and 2 dimensions, built by
  ``bench_smp.random_case(40, 2, 40)`` as in bench_smp.py, in a temporary folder, and
* ``alliancelab forecast ec_emissions.csv --model bdm-scholz --json`` (target 0.3 s): the
  10 actors of the EC emission-standards case (tests/data), one forecast, no JIT,

each started with :mod:`subprocess` (output discarded), and the bare interpreter
(``python -c pass``) for reference. The children run with Python's bytecode cache on, as a
user's Python has it (``PYTHONDONTWRITEBYTECODE`` is dropped from their environment, so the
warm-up runs write the ``__pycache__`` an editable install lacks, as a first run would;
without it every start compiles the package's ~40 modules from source, ~40 ms). Prints per
command the minimum, median and maximum wall
seconds, the minimum CPU seconds (user + sys of the child), the target and the ratio of the
*minimum* wall time to it (the minimum is the least disturbed by other work on a shared
machine; the CPU time says how loaded it was). Exits 1 when a minimum misses its target
(2 when a command fails).

    python bench/bench_startup.py [--runs 15] [--warmup 2] [--command 'python -m alliancelab']

``--command`` replaces the ``alliancelab`` console script (default: the one beside this
Python, else ``python -m alliancelab``).
"""

from __future__ import annotations

import argparse
import os
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
EC = HERE.parent / "tests" / "data" / "ec_emissions.csv"
TARGET_HELP = 0.15
TARGET_FORECAST = 0.30


def default_command() -> list[str]:
    """The ``alliancelab`` script of this Python's environment, else ``python -m``."""
    beside = Path(sys.executable).with_name("alliancelab")
    if beside.is_file():
        return [str(beside)]
    found = shutil.which("alliancelab")
    return [found] if found else [sys.executable, "-m", "alliancelab"]


def child_env() -> dict[str, str]:
    """This environment with Python's bytecode cache on (see the module docstring)."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def time_runs(argv: list[str], runs: int, warmup: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU (user + sys) seconds of ``runs`` whole-process runs of ``argv``
    (after ``warmup``)."""
    times, cpus = [], []
    for i in range(warmup + runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              check=False, env=child_env())
        elapsed = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            raise RuntimeError(f"{shlex.join(argv)} exited with {proc.returncode}: "
                               f"{proc.stderr.decode(errors='replace').strip()}")
        if i >= warmup:
            times.append(elapsed)
            cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return times, cpus


def write_a040(folder: Path) -> Path:
    """KTAB's dummyData-a040 as bench_smp.py builds it (40 actors, 2 dimensions, seed 40)."""
    sys.path.insert(0, str(HERE))
    from bench_smp import SIZES, random_case

    from alliancelab.formats import write_case

    d, seed = SIZES[40]
    path = folder / "dummyData-a040.csv"
    write_case(random_case(40, d, seed), path, fmt="ktab")
    return path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15, help="timed runs per command (default 15)")
    ap.add_argument("--warmup", type=int, default=2, help="untimed runs first (default 2)")
    ap.add_argument("--command", default=None,
                    help="how to start alliancelab (default: the console script)")
    args = ap.parse_args()
    cmd = shlex.split(args.command) if args.command else default_command()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"command: {shlex.join(cmd)}; {args.runs} runs after {args.warmup} warm-up; "
          f"{os.cpu_count()} CPUs, load average {load:.1f}; bytecode cache on"
          + (" (PYTHONDONTWRITEBYTECODE dropped)" if "PYTHONDONTWRITEBYTECODE" in os.environ
             else ""))
    missed = False
    with tempfile.TemporaryDirectory() as tmp:
        case = write_a040(Path(tmp))
        rows = [
            ("python -c pass", [sys.executable, "-c", "pass"], None),
            ("alliancelab --help", [*cmd, "--help"], TARGET_HELP),
            ("python -m alliancelab --help", [sys.executable, "-m", "alliancelab", "--help"],
             TARGET_HELP),
            ("alliancelab forecast --help", [*cmd, "forecast", "--help"], TARGET_HELP),
            ("forecast a040 --model smp", [*cmd, "forecast", str(case), "--model", "smp",
                                           "--json"], TARGET_FORECAST),
            ("forecast EC --model bdm-scholz", [*cmd, "forecast", str(EC), "--model",
                                                "bdm-scholz", "--json"], TARGET_FORECAST),
        ]
        print(f"{'what':<31} {'min s':>7} {'median s':>9} {'max s':>7} {'CPU s':>6} "
              f"{'target s':>9} {'ratio':>6}")
        for label, argv, target in rows:
            try:
                times, cpus = time_runs(argv, args.runs, args.warmup)
            except RuntimeError as exc:
                print(f"{label}: failed: {exc}")
                return 2
            best = min(times)
            tail = f" {'-':>9} {'-':>6}"
            if target is not None:
                ratio = best / target
                missed |= ratio > 1.0
                tail = f" {target:>9.2f} {ratio:>6.2f}" + ("  MISSED" if ratio > 1.0 else "")
            print(f"{label:<31} {best:>7.3f} {statistics.median(times):>9.3f} "
                  f"{max(times):>7.3f} {min(cpus):>6.3f}{tail}", flush=True)
    print("target: minimum wall <= target (ratio <= 1)" + ("; MISSED" if missed else ""))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
