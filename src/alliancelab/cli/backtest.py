"""``alliancelab backtest FILE``: score every engine against the DEU III outcomes.

Prints, per engine, the mean and median absolute error (0-100 scale) and the number of
issues scored, and writes the per-issue errors as CSV (atomically). Cleaning rules:
docs/backtest.md and :mod:`alliancelab.formats.deu`.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from ..core.io import atomic_write_text
from ..formats.deu import CAPABILITIES, read_deu
from ..jobs.backtest import Backtest, parse_models, run_backtest

DEFAULT_OUT = "deu3-backtest-errors.csv"


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "backtest", help="score every engine against the DEU III issue outcomes"
    )
    p.add_argument("file", help="DEU III file (tab-separated, e.g. shared/data/deu3/deu3.csv)")
    p.add_argument(
        "--models", default=None, help="comma-separated engines (default: all registered)"
    )
    p.add_argument(
        "--out", default=DEFAULT_OUT, help=f"per-issue error CSV (default: ./{DEFAULT_OUT})"
    )
    p.add_argument("--rounds", type=int, default=None, help="rounds for iterative models")
    p.add_argument(
        "--capability",
        default="gdp",
        choices=CAPABILITIES,
        help="actor capabilities: GDP row of the file (default), Council votes, or equal",
    )
    p.add_argument("--seed", type=int, default=0, help="seed for stochastic engines")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    models = parse_models(args.models)
    data = read_deu(args.file, args.capability)
    with _LazyProgress() as progress:
        result = run_backtest(data, models, rounds=args.rounds, seed=args.seed,
                              progress=progress)
    atomic_write_text(args.out, result.errors.to_csv(index=False, float_format="%.10g"))
    _print(result, data.rows, args.capability, args.out)
    return 0


def _print(result: Backtest, rows: int, capability: str, out: str) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(
        title=f"DEU III backtest: absolute error (AE) on the 0-100 scale, {capability} "
        "capabilities",
        caption="scored = issues scored; errors = issues the engine failed on; too few = "
        "issues below the engine's minimum of actors",
    )
    table.add_column("model")
    table.add_column("mean AE", justify="right")
    table.add_column("median AE", justify="right")
    table.add_column("scored", justify="right")
    table.add_column("errors", justify="right")
    table.add_column("too few", justify="right")
    table.add_column("seconds", justify="right")
    for rec in result.summary().itertuples(index=False):
        table.add_row(
            rec.model,
            _fmt(rec.mean_abs_error),
            _fmt(rec.median_abs_error),
            str(rec.n_scored),
            str(rec.n_errors),
            str(rec.n_too_few_actors),
            _fmt(rec.seconds),
        )
    console.print(table)
    skipped = ", ".join(f"{n} {why}" for why, n in result.skipped.items()) or "none"
    console.print(f"{rows} issue rows read, {result.n_issues} kept for scoring; "
                  f"skipped: {skipped}")
    errs = result.errors[result.errors["status"] == "error"]
    for model, group in errs.groupby("model", sort=False):
        console.print(f"{model}: {len(group)} issue(s) failed, e.g. {group['message'].iloc[0]}")
    console.print(f"per-issue errors written to {out}")


def _fmt(x: float) -> str:
    return "-" if x != x else f"{x:.2f}"


class _LazyProgress:
    """A rich progress bar (on stderr, terminals only) that appears once the run has taken
    more than a second."""

    def __init__(self, delay: float = 1.0) -> None:
        self.delay = delay
        self.start = time.monotonic()
        self.bar: Any = None
        self.task: Any = None

    def __enter__(self) -> _LazyProgress:
        self.start = time.monotonic()
        return self

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            if time.monotonic() - self.start < self.delay:
                return
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

            console = Console(stderr=True)
            if not console.is_terminal:
                self.delay = float("inf")
                return
            self.bar = Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=console,
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task("backtest", total=total)
        self.bar.update(self.task, completed=done)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()
