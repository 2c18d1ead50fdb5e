"""``alliancelab explore CASE --n N --sampler S``: sample a case's uncertainties (and chosen
shocks), cross them with the chosen levers, run the engines and stream the outcomes to a
resumable store (see docs/explore.md)."""

from __future__ import annotations

import argparse
import re
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from ..cases import resolve_case
from ..core.case import Case
from ..core.errors import AllianceLabError
from ..explore import DEFAULT_MODELS, MODELS, SAMPLERS, Exploration, explore
from ..explore.model import outcome_names
from ..explore.store import Store
from ..formats import read_case
from ..report.explore import write_report
from ..report.figures_explore import tornado, tradeoff_plot
from ..scenarios.uncertainty import DISTRIBUTIONS


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("explore", help="explore many variants of a case (resumable, parallel)")
    p.add_argument("case", help="case file or shipped case name")
    p.add_argument("--n", type=int, default=1000,
                   help="samples (scenarios for lhs/mc; base samples for sobol; "
                        "trajectories for morris)")
    p.add_argument("--sampler", choices=SAMPLERS, default="lhs")
    p.add_argument("--distribution", choices=DISTRIBUTIONS, default="triangular",
                   help="how the ranged numbers are drawn: triangular with the mode at the "
                        "stated value (as alliancelab run) or uniform on the range")
    p.add_argument("--lever", action="append", default=[], metavar="NAME",
                   help="a lever to compare (repeat; 'a+b' pulls two together; 'all')")
    p.add_argument("--shock", action="append", default=[], metavar="NAME",
                   help="a shock to sample as an on/off uncertainty (repeat; 'all')")
    p.add_argument("--models", default=",".join(DEFAULT_MODELS),
                   help=f"comma-separated engines and/or dynamics: {', '.join(MODELS)} "
                        f"(default {','.join(DEFAULT_MODELS)})")
    p.add_argument("--rounds", type=int, default=10,
                   help="rounds of the bdm and bdm-scholz engines")
    p.add_argument("--store", default="alliancelab-explore", help="store directory")
    p.add_argument("--overwrite", action="store_true",
                   help="replace a different exploration already in the store")
    grp = p.add_mutually_exclusive_group()
    grp.add_argument("--workers", type=int, default=None,
                     help="local worker processes (default 1: in this process)")
    grp.add_argument("--scheduler", default=None,
                     help="Dask scheduler address tcp://HOST:PORT, or local:N for a "
                          "LocalCluster of N workers")
    p.add_argument("--batch-size", type=int, default=None, help="experiments per task")
    p.add_argument("--seed", type=int, default=None, help="seed (recorded in the manifest)")
    p.add_argument("--analyse", metavar="OUTCOME", default=None,
                   help="after the run: sensitivity (sobol/morris) and lever robustness for "
                        "OUTCOME; charts are written to the store")
    p.add_argument("--sense", choices=("max", "min"), default="max",
                   help="whether more of --analyse OUTCOME is better (max) or worse (min)")
    p.add_argument("--prim", metavar="'OUTCOME>X'", default=None,
                   help="scenario discovery: PRIM boxes for OUTCOME above (>) or below (<) X")
    p.add_argument("--report", metavar="FILE.html", default=None,
                   help="write a self-contained HTML report (manifest, outcome distributions, "
                        "sensitivity with a tornado chart, PRIM boxes, regret of the levers) "
                        "for --analyse OUTCOME (default: the first outcome) and --prim")
    p.add_argument("--parquet", metavar="FILE", default=None, help="export results to Parquet")
    p.add_argument("--ema", metavar="DIR", default=None,
                   help="export EMA Workbench's (experiments, outcomes) as DIR/experiments.csv "
                        "and DIR/outcomes.csv")
    p.set_defaults(handler=run)


def _names(given: list[str], known: list[str]) -> list[str]:
    return list(known) if given == ["all"] else given


def run(args: argparse.Namespace) -> int:
    case = read_case(resolve_case(args.case))
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    prim_spec = _parse_prim(args.prim) if args.prim else None
    _check_outcomes(case, models, args.analyse, prim_spec)
    with _Progress() as bar:
        t0 = time.perf_counter()
        ex = explore(
            case, n=args.n, sampler=args.sampler, distribution=args.distribution,
            levers=_names(args.lever, [lv.name for lv in case.levers]),
            shocks=_names(args.shock, [s.name for s in case.shocks]),
            models=models, rounds=args.rounds, seed=args.seed, store=args.store,
            workers=args.workers, scheduler=args.scheduler, batch_size=args.batch_size,
            progress=bar.update, overwrite=args.overwrite,
        )
        elapsed = time.perf_counter() - t0
    _summary(ex, elapsed)
    if args.parquet:
        print(f"results: {ex.export_parquet(args.parquet)}")
    if args.ema:
        out = Path(args.ema)
        out.mkdir(parents=True, exist_ok=True)
        experiments, outcomes = ex.to_ema()
        experiments.to_csv(out / "experiments.csv", index=False)
        pd.DataFrame(outcomes).to_csv(out / "outcomes.csv", index=False)
        print(f"EMA Workbench shape: {out / 'experiments.csv'}, {out / 'outcomes.csv'}")
    if args.analyse:
        _analyse(ex, args.analyse, args.sense)
    if prim_spec:
        _prim(ex, *prim_spec)
    if args.report:
        _report(ex, args.report, args.analyse, args.sense, prim_spec, args)
    return 0


def _check_outcomes(case: Case, models: list[str], analyse: str | None,
                    prim_spec: tuple[str, str, float] | None) -> None:
    """Outcome names given on the command line exist, checked before the sweep runs."""
    wanted = [o for o in (analyse, prim_spec[0] if prim_spec else None) if o]
    if not wanted:
        return
    names = outcome_names(case, models)
    for o in wanted:
        if o not in names:
            raise AllianceLabError(f"unknown outcome {o!r}; choose from {', '.join(names)}",
                                   field="--analyse" if o == analyse else "--prim")


def _report(ex: Exploration, path: str, outcome: str | None, sense: str,
            prim_spec: tuple[str, str, float] | None, args: argparse.Namespace) -> None:
    kw = _prim_options(prim_spec)
    m = ex.manifest
    parts = ["alliancelab", "explore", args.case, "--n", str(m["n"]), "--sampler", m["sampler"],
             "--distribution", m["distribution"]]
    for pol in m["policies"][1:]:
        parts += ["--lever", pol["name"]]
    for shock in m["shocks"]:
        parts += ["--shock", shock]
    parts += ["--models", ",".join(m["models"]), "--rounds", str(m["rounds"]),
              "--store", str(ex.directory), "--seed", str(m["entropy"])]
    if outcome:
        parts += ["--analyse", outcome, "--sense", sense]
    if args.prim:
        parts += ["--prim", args.prim]
    parts += ["--report", path]
    out = write_report(ex, path, outcome=outcome, sense=sense, command=shlex.join(parts), **kw)
    print(f"report: {out}")


def _prim_options(prim_spec: tuple[str, str, float] | None) -> dict[str, Any]:
    """``write_report``'s PRIM keywords for a parsed ``--prim 'OUTCOME>X'``."""
    if not prim_spec:
        return {}
    return {"prim_outcome": prim_spec[0], "threshold": prim_spec[2],
            "direction": "above" if prim_spec[1] == ">" else "below"}


def _parse_prim(text: str) -> tuple[str, str, float]:
    m = re.fullmatch(r"\s*([^<>]+?)\s*([<>])\s*([-+0-9.eE]+)\s*", text)
    if not m:
        raise AllianceLabError(f"expected OUTCOME>X or OUTCOME<X, got {text!r}", field="prim")
    return m.group(1), m.group(2), float(m.group(3))


class _Progress:
    """A rich progress bar (rate, ETA) on a terminal; plain lines at most once a second
    otherwise (logs of batch jobs)."""

    def __init__(self) -> None:
        self.console = Console(stderr=True)
        self.live = self.console.is_terminal
        self._bar: Any = None
        self._task: Any = None
        self._last = 0.0
        self._t0 = time.perf_counter()
        self._first: int | None = None
        self._shown = False  # a line once the first batch is stored, then at most 1/s

    def __enter__(self) -> _Progress:
        if self.live:
            self._bar = Progress(
                TextColumn("explore"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[rate]:>9} exp/s"),
                TextColumn("failed {task.fields[failed]}"),
                TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                console=self.console,
            )
            self._bar.start()
        return self

    def update(self, done: int, total: int, failed: int) -> None:
        now = time.perf_counter()
        if self._first is None:
            self._first, self._t0 = done, now
        rate = (done - self._first) / max(now - self._t0, 1e-9)
        if self._bar is not None:
            if self._task is None:
                self._task = self._bar.add_task("explore", total=total, rate="-", failed=0)
            self._bar.update(self._task, completed=done, rate=f"{rate:,.0f}", failed=failed)
        elif now - self._last >= 1.0 or done == total or (done > 0 and not self._shown):
            self._last, self._shown = now, done > 0
            eta = (total - done) / rate if rate > 0 else float("nan")
            print(f"explore: {done}/{total} experiments stored, {failed} failed, "
                  f"{rate:,.0f} exp/s, ETA {eta:,.0f} s", file=sys.stderr, flush=True)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


def _summary(ex: Exploration, elapsed: float) -> None:
    console = Console()
    m = ex.manifest
    console.print(
        f"[bold]{m['case_name']}[/]: {ex.n_stored}/{ex.n_experiments} experiments stored "
        f"({m['n_scenarios']} scenarios x {len(ex.policies)} policies, sampler {m['sampler']}, "
        f"{len(ex.parameters)} uncertainties), {ex.n_failed} failed, {elapsed:.1f} s; "
        f"seed entropy {m['entropy']}; store {ex.directory}")
    with Store(ex.directory) as st:
        q = st.summary(ex.outcomes)
    table = Table(title="Outcomes by policy")
    for c in ("outcome", "policy", "5%", "median", "95%"):
        table.add_column(c, justify="right" if c[0].isdigit() or c == "median" else "left")
    q = q.set_index(["outcome", "policy"])
    for outcome in ex.outcomes:
        for pol in ex.policies:
            if (outcome, pol) in q.index:
                r = q.loc[(outcome, pol)]
                table.add_row(outcome, pol, *(f"{r[c]:.4g}" for c in ("q05", "q50", "q95")))
    console.print(table)


def _analyse(ex: Exploration, outcome: str, sense: str) -> None:
    console = Console()
    sampler = ex.manifest["sampler"]
    if sampler in ("sobol", "morris"):
        idx = ex.sensitivity(outcome)
        console.print(f"[bold]Sensitivity of {outcome} ({sampler})[/]")
        console.print(idx.head(15).round(4).to_string())
        path = ex.directory / f"tornado-{outcome}.html"
        tornado(idx, title=f"{outcome}: {sampler} indices").write_html(
            path, include_plotlyjs=True)
        console.print(f"tornado chart: {path}")
    if len(ex.policies) > 1:
        rb = ex.robustness(outcome, sense=sense)
        console.print(f"[bold]Regret of each policy on {outcome} ({sense})[/]")
        console.print(rb.summary.round(4).to_string())
        console.print(f"most robust (minimax regret): [bold]{rb.most_robust}[/]")
        if rb.failure_box is not None:
            b = rb.failure_box.select(0.5)
            console.print(f"it fails (top-decile regret) mostly where "
                          f"(coverage {rb.failure_box.boxes[b].coverage:.2f}, density "
                          f"{rb.failure_box.boxes[b].density:.2f}):")
            console.print(rb.failure_box.limits(b).round(4).to_string())


def _prim(ex: Exploration, outcome: str, op: str, x: float) -> None:
    console = Console()
    res = ex.prim(outcome, x, direction="above" if op == ">" else "below")
    b = res.select(0.5)
    box = res.boxes[b]
    console.print(f"[bold]PRIM: {outcome} {op} {x:g}[/] - box {b}: coverage "
                  f"{box.coverage:.2f}, density {box.density:.2f}, mass {box.mass:.2f}")
    console.print(res.limits(b).round(4).to_string())
    path = ex.directory / "prim-tradeoff.html"
    tradeoff_plot(res, title=f"PRIM: {outcome} {op} {x:g}").write_html(
        path, include_plotlyjs=True)
    console.print(f"coverage-density trade-off: {path}")
