"""``alliancelab explore CASE --n N --sampler S``: sample a case's uncertainties (and chosen
shocks), cross them with the chosen levers, run the engines and stream the outcomes to a
resumable store (see docs/explore.md)."""

from __future__ import annotations

import argparse
import contextlib
import gc
import re
import shlex
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..cases import resolve_case
from ..core import units
from ..core.errors import AllianceLabError
from . import _logging
from ._defaults import DEFAULT_SEED, DISTRIBUTIONS, SAMPLERS
from ._defaults import EXPLORE_DEFAULT_MODELS as DEFAULT_MODELS
from ._defaults import EXPLORE_MODELS as MODELS
from ._output import NO_WRAP, Col, console, fitted_table, frame_table, print_csv, print_json

if TYPE_CHECKING:
    from ..core.case import Case, Scale
    from ..explore import Exploration


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("explore", help="explore many variants of a case (resumable, parallel)")
    p.add_argument("case", help="case file or shipped case name")
    p.add_argument("--n", type=int, default=1000,
                   help="samples (scenarios for lhs/mc; base samples for sobol; "
                        "trajectories for morris)")
    p.add_argument("--sampler", choices=SAMPLERS, default="lhs")
    p.add_argument("--distribution", choices=DISTRIBUTIONS, default="triangular",
                   help="how the ranged numbers are drawn: triangular with the mode at the "
                        "stated value (as alliancelab run), uniform on the range, pert "
                        "(beta-PERT, mode at the stated value) or truncnorm (normal at the "
                        "stated value, the range as its 95%% interval, truncated to it)")
    p.add_argument("--include", action="append", default=[], metavar="PATTERN",
                   help="vary only the ranged values whose dotted label matches PATTERN "
                        "(glob, e.g. 'actors.*.capability'; repeat); others stay as stated")
    p.add_argument("--exclude", action="append", default=[], metavar="PATTERN",
                   help="keep the ranged values matching PATTERN at their stated values "
                        "(glob; repeat)")
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
    p.add_argument("--seed", type=int, default=None,
                   help=f"seed (default: the store's when resuming, else {DEFAULT_SEED}, so "
                        "the same command gives the same results; recorded in the manifest)")
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
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true",
                     help="print the summary (counts, outcomes by policy) as one JSON document")
    fmt.add_argument("--csv", action="store_true",
                     help="print the outcomes by policy (5%%, median, 95%%) as CSV")
    p.set_defaults(handler=run)


def _names(given: list[str], known: list[str]) -> list[str]:
    return list(known) if given == ["all"] else given


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from ..core.io import atomic_write_text, check_outputs
    from ..explore import explore
    from ..formats import read_case

    case = read_case(resolve_case(args.case))
    gc.freeze()  # as in ``alliancelab run``: long-lived objects out of the collector's way
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    prim_spec = _parse_prim(args.prim) if args.prim else None
    _check_outcomes(case, models, args.analyse, prim_spec)
    check_outputs((args.store, "--store", True), (args.parquet, "--parquet", False),
                  (args.report, "--report", False), (args.ema, "--ema", True))
    with _Progress() as bar:
        t0 = time.perf_counter()
        ex = explore(
            case, n=args.n, sampler=args.sampler, distribution=args.distribution,
            levers=_names(args.lever, [lv.name for lv in case.levers]),
            shocks=_names(args.shock, [s.name for s in case.shocks]),
            include=args.include, exclude=args.exclude, models=models, rounds=args.rounds,
            seed=args.seed, store=args.store,
            workers=args.workers, scheduler=args.scheduler, batch_size=args.batch_size,
            progress=bar.update, overwrite=args.overwrite,
        )
        elapsed = time.perf_counter() - t0
    print_summary(ex, case, elapsed, "json" if args.json else "csv" if args.csv else None)
    # with --json or --csv, stdout holds that document alone: the other lines go to stderr
    with contextlib.redirect_stdout(sys.stderr) if args.json or args.csv \
            else contextlib.nullcontext():
        if args.parquet:
            print(f"results: {ex.export_parquet(args.parquet)}")
        if args.ema:
            out = Path(args.ema)
            out.mkdir(parents=True, exist_ok=True)
            experiments, outcomes = ex.to_ema()
            atomic_write_text(out / "experiments.csv", experiments.to_csv(index=False))
            atomic_write_text(out / "outcomes.csv", pd.DataFrame(outcomes).to_csv(index=False))
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
    from ..explore.model import outcome_names

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
    from ..report.explore import write_report

    kw = _prim_options(prim_spec)
    m = ex.manifest
    parts = ["alliancelab", "explore", args.case, "--n", str(m["n"]), "--sampler", m["sampler"],
             "--distribution", m["distribution"]]
    for pol in m["policies"][1:]:
        parts += ["--lever", pol["name"]]
    for shock in m["shocks"]:
        parts += ["--shock", shock]
    for flag in ("include", "exclude"):
        for pattern in m.get(flag, []):
            parts += [f"--{flag}", pattern]
    parts += ["--models", ",".join(m["models"]), "--rounds", str(m["rounds"]),
              "--store", str(ex.directory), "--seed", str(m["entropy"])]
    if outcome:
        parts += ["--analyse", outcome, "--sense", sense]
    if args.prim:
        parts += ["--prim", args.prim]
    parts += ["--report", path]
    with _logging.stage("explore: writing the report"):
        out = write_report(ex, path, outcome=outcome, sense=sense, command=shlex.join(parts),
                           **kw)
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
        from rich.console import Console

        self.console = Console(stderr=True)
        # a bar on a terminal, unless -q
        self.live = self.console.is_terminal and _logging.log.isEnabledFor(_logging.PROGRESS)
        self._bar: Any = None
        self._task: Any = None
        self._last = 0.0
        self._t0 = time.perf_counter()
        self._first: int | None = None
        self._shown = False  # a line once the first batch is stored, then at most 1/s

    def __enter__(self) -> _Progress:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

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
        if not _logging.log.isEnabledFor(_logging.PROGRESS):
            return  # -q
        now = time.perf_counter()
        if self._first is None:
            self._first, self._t0 = done, now
        rate = (done - self._first) / max(now - self._t0, 1e-9)
        if self._bar is not None:
            if self._task is None:
                self._task = self._bar.add_task("explore", total=total, rate="-", failed=0)
            self._bar.update(self._task, completed=done, rate=f"{rate:,.0f}", failed=failed)
        elif done > 0 and (now - self._last >= 1.0 or done == total or not self._shown):
            self._last, self._shown = now, done > 0
            eta = f"ETA {(total - done) / rate:,.0f} s" if rate > 0 else "ETA unknown"
            print(f"explore: {done}/{total} experiments stored, {failed} failed, "
                  f"{rate:,.0f} exp/s, {eta}", file=sys.stderr, flush=True)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


#: the columns of ``alliancelab explore --csv`` (and of the JSON document's ``outcomes``).
CSV_COLUMNS = ("outcome", "policy", "units", "n", "q05", "q50", "q95", "decimals")


def outcome_scale(case: Case | None, outcome: str) -> Scale | None:
    """The scale of an outcome ``<model>.<issue>`` (``None`` for an indicator of the
    dynamics, ``dynamics.<indicator>``, or without the case)."""
    issue = outcome.split(".", 1)[-1]
    return next((i.scale for i in case.issues if i.name == issue), None) if case else None


def outcome_rows(ex: Exploration, case: Case | None) -> list[dict[str, Any]]:
    """One dict per (outcome, policy): the 5%, 50% and 95% quantiles over the experiments
    stored (``q05``, ``q50``, ``q95``), with the outcome's units and, as text at its issue's
    precision (an index's: 3 decimals on 0-1), ``low``, ``median``, ``high``."""
    import numpy as np

    from ..core.case import Scale

    q = ex.summary(ex.outcomes)
    rows = []
    for r in q.itertuples():
        sc = outcome_scale(case, str(r.outcome))
        issue = sc is not None
        if sc is None:  # an index: a step of a thousandth of its largest value (0-1: 0.001)
            top = max(abs(float(x)) for x in (r.q05, r.q50, r.q95, 1.0) if np.isfinite(x))
            sc = Scale(min=0.0, max=top)
        rows.append({"outcome": r.outcome, "policy": r.policy,
                     "units": (sc.units or "") if issue else "index",
                     "n": int(r.n), "q05": float(r.q05), "q50": float(r.q50),
                     "q95": float(r.q95), "decimals": units.decimals(sc),
                     "low": units.value(r.q05, sc), "median": units.value(r.q50, sc),
                     "high": units.value(r.q95, sc)})
    return rows


def summary_document(ex: Exploration, case: Case | None,
                     elapsed: float | None) -> dict[str, Any]:
    """The summary as one JSON-ready document: the counts and the outcomes by policy."""
    m = ex.manifest
    return {"case": m["case_name"], "stored": ex.n_stored, "experiments": ex.n_experiments,
            "complete": ex.complete,
            "failed": ex.n_failed, "scenarios": m["n_scenarios"], "policies": ex.policies,
            "sampler": m["sampler"], "uncertainties": len(ex.parameters),
            "seed": m["entropy"], "store": str(ex.directory),
            "seconds": None if elapsed is None else round(elapsed, 1),
            "outcomes": [{c: r[c] for c in CSV_COLUMNS} for r in outcome_rows(ex, case)]}


def print_summary(ex: Exploration, case: Case | None, elapsed: float | None,
                  fmt: str | None = None) -> None:
    """What was stored, and the outcomes by policy (5%, median, 95%) in each outcome's
    units (``case`` gives the issues' scales); ``fmt`` ``"json"`` or ``"csv"`` prints
    :func:`summary_document` or the table."""
    from rich.text import Text

    if fmt == "json":
        print_json(summary_document(ex, case, elapsed))
        return
    rows = outcome_rows(ex, case)
    if fmt == "csv":
        print_csv(rows, CSV_COLUMNS)
        return
    out = console()
    m = ex.manifest
    took = "" if elapsed is None else f", {elapsed:.1f} s"
    state = "" if ex.complete else " (not complete: the figures are of those stored)"
    out.print(Text.assemble(
        (m["case_name"], "bold"),
        f": {ex.n_stored:,}/{ex.n_experiments:,} experiments stored{state} "
        f"({m['n_scenarios']:,} scenarios x {len(ex.policies)} "
        f"{'policy' if len(ex.policies) == 1 else 'policies'}, sampler "
        f"{m['sampler']}, {len(ex.parameters)} uncertainties), {ex.n_failed:,} failed{took}; "
        f"seed {m['entropy']}; store {ex.directory}"))
    cols = [Col("outcome (units)", False), Col("policy", False), Col("5%"), Col("median"),
            Col("95%")]
    cells, last = [], None
    for r in rows:  # the outcome named on its first policy's row only
        name = f"{r['outcome']} ({r['units']})" if r["units"] else str(r["outcome"])
        cells.append([name if r["outcome"] != last else "", r["policy"], r["low"],
                      r["median"], r["high"]])
        last = r["outcome"]
    title = "Outcomes by policy: 5%, median, 95% over the experiments"
    out.print(fitted_table(cols, cells, out.width, title=title, text_min=NO_WRAP)
              or fitted_table(cols, cells, out.width, title=title)
              or fitted_table(cols, cells, out.width, title=title, text_min=6))


def _analyse(ex: Exploration, outcome: str, sense: str) -> None:
    from rich.console import Console

    from ..report.figures_explore import tornado

    console = Console()
    sampler = ex.manifest["sampler"]
    if sampler in ("sobol", "morris"):
        with _logging.stage("explore: %s sensitivity of %s", sampler, outcome):
            idx = ex.sensitivity(outcome)
        console.print(frame_table(idx.head(15), console.width,
                                  title=f"Sensitivity of {outcome} ({sampler})"))
        path = ex.directory / f"tornado-{outcome}.html"
        tornado(idx, title=f"{outcome}: {sampler} indices").write_html(
            path, include_plotlyjs=True)
        console.print(f"tornado chart: {path}")
    if len(ex.policies) > 1:
        with _logging.stage("explore: regret of each policy on %s", outcome):
            rb = ex.robustness(outcome, sense=sense)
        console.print(frame_table(rb.summary, console.width,
                                  title=f"Regret of each policy on {outcome} ({sense})"))
        console.print(f"most robust (minimax regret): [bold]{rb.most_robust}[/]")
        if rb.failure_box is not None:
            b = rb.failure_box.select(0.5)
            console.print(f"it fails (top-decile regret) mostly where "
                          f"(coverage {rb.failure_box.boxes[b].coverage:.2f}, density "
                          f"{rb.failure_box.boxes[b].density:.2f}):")
            console.print(frame_table(rb.failure_box.limits(b), console.width))


def _prim(ex: Exploration, outcome: str, op: str, x: float) -> None:
    from rich.console import Console

    from ..report.figures_explore import tradeoff_plot

    console = Console()
    with _logging.stage("explore: PRIM boxes for %s %s %g", outcome, op, x):
        res = ex.prim(outcome, x, direction="above" if op == ">" else "below")
    b = res.select(0.5)
    box = res.boxes[b]
    console.print(f"[bold]PRIM: {outcome} {op} {x:g}[/] - box {b}: coverage "
                  f"{box.coverage:.2f}, density {box.density:.2f}, mass {box.mass:.2f}")
    console.print(frame_table(res.limits(b), console.width))
    path = ex.directory / "prim-tradeoff.html"
    tradeoff_plot(res, title=f"PRIM: {outcome} {op} {x:g}").write_html(
        path, include_plotlyjs=True)
    console.print(f"coverage-density trade-off: {path}")
