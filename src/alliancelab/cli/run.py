"""``alliancelab run CASE [--shock NAME ...] [--lever NAME ...] [--out DIR]``: the main job.

Forecasts the case with several engines under Monte Carlo uncertainty, runs the perception
dynamics, measures the perception gap between the case's sides and the effect of every
shock and lever, prints a short summary and writes a self-contained HTML report plus
CSV/JSON results into DIR.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..cases import resolve_case, shipped_cases
from ..core.case import Case
from ..core.checks import non_negative_int, positive_int
from ..core.errors import AllianceLabError
from ..formats import read_case, read_text
from ..jobs.results import RunResults
from ..jobs.run import DEFAULT_ALLIANCE_DRAWS, DEFAULT_DRAWS, DEFAULT_MODELS, run_job
from ..jobs.sweep import check_options
from ..report import check_out_dir, write_outputs
from ..report.html import summary_table
from ..scenarios.interventions import check_names, intervention_names

DEFAULT_OUT = "alliancelab-out"
#: scenarios of the built-in exploration sweep (each crossed with every lever of the case).
DEFAULT_EXPLORE_N = 300


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "run",
        help="the main job: forecasts with uncertainty, dynamics, gaps, shocks and levers, "
        "and an HTML report",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    p.add_argument("case", help="case file (YAML, KTAB CSV, Scholz CSV) or shipped case name")
    p.add_argument("--shock", action="extend", nargs="+", default=[], metavar="NAME",
                   help="apply a shock defined in the case (repeatable)")
    p.add_argument("--lever", action="extend", nargs="+", default=[], metavar="NAME",
                   help="apply a policy lever defined in the case (repeatable)")
    p.add_argument("--out", default=DEFAULT_OUT, metavar="DIR",
                   help=f"output directory (default: ./{DEFAULT_OUT}/)")
    p.add_argument("--draws", type=int, default=DEFAULT_DRAWS, metavar="N",
                   help=f"Monte Carlo draws (default: {DEFAULT_DRAWS})")
    p.add_argument("--effect-draws", type=int, default=None, metavar="N",
                   help="draws for the bands of the shock and lever effects "
                   "(default: min(draws, 20))")
    p.add_argument("--effect-models", default=None, metavar="M1,M2",
                   help="engines whose shock and lever effects get Monte Carlo bands "
                   "(default: the one-shot engines among --models)")
    p.add_argument("--alliance-draws", type=int, default=None, metavar="N",
                   help="Monte Carlo draws that also evaluate the alliance models with every "
                   "shock and lever, for their 5-95%% bands (default: min(draws, "
                   f"{DEFAULT_ALLIANCE_DRAWS}); 0: the case as stated only; each draw costs "
                   "about 0.5 s of CPU for the shipped case)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="processes for the Monte Carlo (default: up to 2 CPU cores); the "
                   "results do not depend on it")
    p.add_argument("--seed", type=int, default=None, metavar="S",
                   help="seed (default: a fresh one, printed and recorded)")
    p.add_argument("--models", default=",".join(DEFAULT_MODELS), metavar="M1,M2",
                   help=f"engines side by side (default: {','.join(DEFAULT_MODELS)})")
    p.add_argument("--distribution", default="triangular", choices=["triangular", "uniform"],
                   help="how ranges are drawn (default: triangular, mode at the stated value)")
    p.add_argument("--explore-n", type=int, default=DEFAULT_EXPLORE_N, metavar="N",
                   help="scenarios of the built-in exploration sweep (Latin hypercube over "
                   "the case's ranges and shocks, crossed with every lever, compromise model, "
                   f"plus a Morris screening) for the report's Exploration section (default: "
                   f"{DEFAULT_EXPLORE_N}; 0 skips it)")
    p.add_argument("--explore-outcome", default=None, metavar="ISSUE",
                   help="the sweep's outcome of interest, an issue (default: the first)")
    p.add_argument("--explore-sense", default="max", choices=["max", "min"],
                   help="whether more of the outcome of interest is better (max, default) "
                   "or less (min), for the regret of the levers")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    _check_counts(args)
    path = resolve_case(args.case)
    raw = read_text(path).encode("utf-8")
    case = read_case(path)
    _check_interventions(case, args.shock, args.lever)
    _check_explore(case, args)
    out = check_out_dir(args.out)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    snapshots = other_snapshots(case, path)

    console = Console(stderr=True)
    started = time.perf_counter()
    with _progress(console) as tick:
        results = run_job(
            case,
            interventions=[*args.shock, *args.lever],
            models=models,
            draws=args.draws,
            effect_draws=args.effect_draws,
            seed=args.seed,
            distribution=args.distribution,
            case_source=str(path),
            case_bytes=raw,
            snapshots=snapshots,
            band_models=None if args.effect_models is None
            else [m.strip() for m in args.effect_models.split(",") if m.strip()],
            alliance_draws=args.alliance_draws,
            workers=_workers(args.workers),
            progress=tick,
            explore_n=args.explore_n,
            explore_outcome=args.explore_outcome,
            explore_sense=args.explore_sense,
        )
        tick("writing the report", 0, 1)
        command = _command(args, results.seed)
        target = write_outputs(results, out, command=command)
        tick("writing the report", 1, 1)
    print_summary(results, target, time.perf_counter() - started)
    return 0


def _check_counts(args: argparse.Namespace) -> None:
    """Bad counts fail before any work, named as on the command line."""
    positive_int(args.draws, "--draws")
    for value, flag in ((args.seed, "--seed"), (args.effect_draws, "--effect-draws"),
                        (args.alliance_draws, "--alliance-draws")):
        if value is not None:
            non_negative_int(value, flag)
    non_negative_int(args.explore_n, "--explore-n")


def _workers(requested: int | None) -> int:
    if requested is not None:
        return positive_int(requested, "--workers")
    return max(1, min(2, os.cpu_count() or 1))


def _check_explore(case: Case, args: argparse.Namespace) -> None:
    """A bad --explore-outcome fails before any work."""
    try:
        check_options(case, args.explore_n, args.explore_outcome, args.explore_sense)
    except AllianceLabError as exc:
        raise AllianceLabError(exc.message, field="--explore-outcome") from None


def _check_interventions(case: Case, shocks: list[str], levers: list[str]) -> None:
    """Unknown names fail before any work (:func:`check_names`, named as on the command
    line; a lever given as a shock says to use --lever, and the reverse)."""
    for kind, other, names in (("shock", "lever", shocks), ("lever", "shock", levers)):
        try:
            check_names(case, names, kind)
        except AllianceLabError as exc:
            known = intervention_names(case)
            bad = next((n for n in names if n not in known[f"{kind}s"]), None)
            hint = f"; use --{other}" if bad in known[f"{other}s"] else ""
            raise AllianceLabError(exc.message + hint, field=f"--{kind}") from None


def other_snapshots(case: Case, path: Path) -> dict[str, Case]:
    """Other dated snapshots of the same shipped case, for the perception-gap comparison:
    shipped files (and files beside this one) named like it with another year
    (``us_rok_2007`` for ``us_rok_2025``), keyed by their date."""
    shipped = shipped_cases()
    m = re.match(r"^(.*)_(\d{4})$", path.stem)
    candidates: list[Path] = []
    if m:
        prefix = m.group(1)
        candidates = [p for n, p in shipped.items()
                      if re.match(rf"^{re.escape(prefix)}_\d{{4}}$", n)]
        candidates += [p for p in path.parent.glob(f"{prefix}_[0-9][0-9][0-9][0-9].*")
                       if p.suffix in (".yaml", ".yml") and p.stem not in shipped]
    out: dict[str, Case] = {}
    seen = {path.resolve()}
    for p in candidates:
        if p.resolve() in seen:
            continue
        seen.add(p.resolve())
        other = read_case(p)
        if other.date is not None and other.date == case.date:
            continue
        out[str(other.date or p.stem)] = other
    return out


def _command(args: argparse.Namespace, seed: int) -> str:
    parts = ["alliancelab", "run", args.case]
    for s in args.shock:
        parts += ["--shock", s]
    for lv in args.lever:
        parts += ["--lever", lv]
    parts += ["--models", args.models, "--draws", str(args.draws)]
    if args.effect_draws is not None:
        parts += ["--effect-draws", str(args.effect_draws)]
    if args.alliance_draws is not None:
        parts += ["--alliance-draws", str(args.alliance_draws)]
    if args.effect_models is not None:
        parts += ["--effect-models", args.effect_models]
    if args.distribution != "triangular":
        parts += ["--distribution", args.distribution]
    if args.explore_n != DEFAULT_EXPLORE_N:
        parts += ["--explore-n", str(args.explore_n)]
    if args.explore_outcome is not None:
        parts += ["--explore-outcome", args.explore_outcome]
    if args.explore_sense != "max":
        parts += ["--explore-sense", args.explore_sense]
    parts += ["--seed", str(seed), "--out", str(args.out)]
    return shlex.join(parts)


class _progress:
    """A rich progress bar per stage of the job (on stderr; transient)."""

    def __init__(self, console: Console) -> None:
        self._bar = Progress(TextColumn("{task.description:<26}"), BarColumn(),
                             MofNCompleteColumn(), TimeElapsedColumn(),
                             console=console, transient=True)
        self._tasks: dict[str, int] = {}

    def __enter__(self) -> _progress:
        self._bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.__exit__(*exc)  # type: ignore[arg-type]

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage not in self._tasks:
            self._tasks[stage] = self._bar.add_task(stage, total=total)
        self._bar.update(self._tasks[stage], completed=done, total=total)  # type: ignore[arg-type]


def print_summary(results: RunResults, target: Path, elapsed: float) -> None:
    """The short summary: forecast per issue with bands per model, the seed, the report."""
    console = Console()
    console.print(_forecast_table(results))
    alliance = results.alliance
    if alliance is not None and len(alliance):
        base = alliance[alliance["kind"] == "baseline"]
        parts = [f"{r.item} {r.value:.2f} [{r.p5:.2f}, {r.p95:.2f}]"
                 for r in base.itertuples() if r.item in results.alliance_headlines]
        if parts:
            console.print("alliance models, as stated [5%, 95%]: " + " · ".join(parts))
    for note in results.notes:
        console.print(f"[yellow]note:[/yellow] {note}")
    console.print(
        f"seed [bold]{results.seed}[/bold] · {results.n_draws} draws · "
        f"{elapsed:.1f} s · report: [bold]{target / 'report.html'}[/bold]"
    )


def _forecast_table(results: RunResults) -> Table:
    df = summary_table(results)
    scen = " + ".join(results.interventions) if results.interventions else "baseline"
    table = Table(title=f"{results.case.name}: {scen} - median [5%, 95%]",
                  title_justify="left")
    table.add_column("issue", style="bold", no_wrap=True)
    table.add_column("units")
    table.add_column("status quo", justify="right")
    for m in results.models:
        table.add_column(m, justify="right")
    rows: list[dict[str, Any]] = df.to_dict("records")
    for d in rows:
        table.add_row(str(d["issue"]), str(d["units"]), str(d["status quo"]),
                      *(str(d[m]) for m in results.models))
    return table
