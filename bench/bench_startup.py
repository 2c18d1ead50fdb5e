"""Benchmark: start-up of the ``alliancelab`` command as whole processes (issue 15).

Times, like hyperfine, the median wall-clock seconds of N runs (after warm-up runs) of

* ``alliancelab --help`` (target 0.15 s), and
* ``alliancelab forecast dummyData-a040.csv --model smp --json`` (target 0.3 s, i.e. about
  0.05 x KTAB's smpc -O2 on that case): a KTAB CSV of 40 actors and 2 dimensions, built by
  ``bench_smp.random_case(40, 2, 40)`` as in bench_smp.py, in a temporary folder,

each started with :mod:`subprocess` (output discarded), and the bare interpreter
(``python -c pass``) for reference. Prints measured, target and ratio per command and exits
1 when a median misses its target (2 when a command fails).

    python bench/bench_startup.py [--runs 15] [--warmup 2] [--command 'python -m alliancelab']

``--command`` replaces the ``alliancelab`` console script (default: the one beside this
Python, else ``python -m alliancelab``).
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGET_HELP = 0.15
TARGET_FORECAST = 0.30


def default_command() -> list[str]:
    """The ``alliancelab`` script of this Python's environment, else ``python -m``."""
    beside = Path(sys.executable).with_name("alliancelab")
    if beside.is_file():
        return [str(beside)]
    found = shutil.which("alliancelab")
    return [found] if found else [sys.executable, "-m", "alliancelab"]


def time_runs(argv: list[str], runs: int, warmup: int) -> list[float]:
    """Wall-clock seconds of ``runs`` whole-process runs of ``argv`` (after ``warmup``)."""
    times = []
    for i in range(warmup + runs):
        start = time.perf_counter()
        proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              check=False)
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            raise RuntimeError(f"{shlex.join(argv)} exited with {proc.returncode}: "
                               f"{proc.stderr.decode(errors='replace').strip()}")
        if i >= warmup:
            times.append(elapsed)
    return times


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
    print(f"command: {shlex.join(cmd)}; median of {args.runs} runs after {args.warmup} warm-up")
    missed = False
    with tempfile.TemporaryDirectory() as tmp:
        case = write_a040(Path(tmp))
        rows = [
            ("python -c pass", [sys.executable, "-c", "pass"], None),
            ("alliancelab --help", [*cmd, "--help"], TARGET_HELP),
            ("forecast a040 --model smp", [*cmd, "forecast", str(case), "--model", "smp",
                                           "--json"], TARGET_FORECAST),
        ]
        print(f"{'what':<28} {'median s':>9} {'min s':>7} {'max s':>7} {'target s':>9} "
              f"{'ratio':>6}")
        for label, argv, target in rows:
            try:
                times = time_runs(argv, args.runs, args.warmup)
            except RuntimeError as exc:
                print(f"{label}: failed: {exc}")
                return 2
            med = statistics.median(times)
            tail = f" {'-':>9} {'-':>6}"
            if target is not None:
                ratio = med / target
                missed |= ratio > 1.0
                tail = f" {target:>9.2f} {ratio:>6.2f}" + ("  MISSED" if ratio > 1.0 else "")
            print(f"{label:<28} {med:>9.3f} {min(times):>7.3f} {max(times):>7.3f}{tail}",
                  flush=True)
    print("target: median <= target (ratio <= 1)" + ("; MISSED" if missed else ""))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
