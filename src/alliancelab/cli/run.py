"""``alliancelab run CASE [--shock NAME ...] [--lever NAME ...] [--out DIR]``: the main job.

Forecasts the case with several engines under Monte Carlo uncertainty, runs the perception
dynamics, measures the perception gap between the case's sides and the effect of every
shock and lever, prints a short summary and writes a self-contained HTML report plus
CSV/JSON results into DIR.
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import shlex
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..cases import resolve_case, shipped_cases
from ..core.errors import AllianceLabError
from . import _logging
from ._defaults import DEFAULT_ALLIANCE_DRAWS, DEFAULT_DRAWS, DEFAULT_SEED, DISTRIBUTIONS
from ._defaults import RUN_DEFAULT_MODELS as DEFAULT_MODELS
from ._output import NO_WRAP, TEXT_MIN, Col, console, fitted_table, print_csv, print_json

if TYPE_CHECKING:
    from rich.table import Table

    from ..core.case import Case
    from ..jobs.results import RunResults

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
                   "about 0.1 s of CPU for the shipped case)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="processes for the Monte Carlo (default: up to 2 CPU cores); the "
                   "results do not depend on it")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, metavar="S",
                   help=f"seed (default: {DEFAULT_SEED}, so the same command gives the same "
                   "report; printed and recorded)")
    p.add_argument("--models", default=",".join(DEFAULT_MODELS), metavar="M1,M2",
                   help=f"engines side by side (default: {','.join(DEFAULT_MODELS)})")
    p.add_argument("--distribution", default="triangular", choices=DISTRIBUTIONS,
                   help="how ranges are drawn (default: triangular, mode at the stated value; "
                   "uniform, pert or truncnorm: see docs/explore.md)")
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
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true",
                     help="print the summary as one JSON document (headlines, forecasts)")
    fmt.add_argument("--csv", action="store_true",
                     help="print the forecasts (issue, model, status quo, 5/50/95%%) as CSV")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..execution import Evaluator
    from ..formats import read_case, read_text
    from ..jobs.run import run_job
    from ..report import check_out_dir, write_outputs

    _check_counts(args)
    path = resolve_case(args.case, strict=True)
    raw = read_text(path).encode("utf-8")
    case = read_case(path)
    _check_interventions(case, args.shock, args.lever)
    _check_explore(case, args)
    out = check_out_dir(args.out)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    snapshots = _Snapshots(case, path)

    # what is loaded now lives as long as the process: out of the collector's way (each
    # collection would walk it again), and shared unchanged with the forked workers
    gc.freeze()
    started = time.perf_counter()
    # one pool for the job and the report (its data files are made there while the page is
    # rendered here)
    with _progress() as tick, Evaluator(_workers(args.workers)) as pool:
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
            executor=pool.executor,
            progress=tick,
            explore_n=args.explore_n,
            explore_outcome=args.explore_outcome,
            explore_sense=args.explore_sense,
        )
        tick("writing the report", 0, 1)
        command = _command(args, results.seed)
        target = write_outputs(results, out, command=command, evaluator=pool)
        tick("writing the report", 1, 1)
    print_summary(results, target, time.perf_counter() - started,
                  "json" if args.json else "csv" if args.csv else None)
    return 0


def _check_counts(args: argparse.Namespace) -> None:
    """Bad counts fail before any work, named as on the command line."""
    from ..core.checks import non_negative_int, positive_int

    positive_int(args.draws, "--draws")
    for value, flag in ((args.seed, "--seed"), (args.effect_draws, "--effect-draws"),
                        (args.alliance_draws, "--alliance-draws")):
        if value is not None:
            non_negative_int(value, flag)
    non_negative_int(args.explore_n, "--explore-n")


def _workers(requested: int | None) -> int:
    from ..core.checks import positive_int

    if requested is not None:
        return positive_int(requested, "--workers")
    return max(1, min(2, os.cpu_count() or 1))


def _check_explore(case: Case, args: argparse.Namespace) -> None:
    """A bad --explore-outcome fails before any work."""
    from ..jobs.sweep import check_options

    try:
        check_options(case, args.explore_n, args.explore_outcome, args.explore_sense)
    except AllianceLabError as exc:
        raise AllianceLabError(exc.message, field="--explore-outcome") from None


def _check_interventions(case: Case, shocks: list[str], levers: list[str]) -> None:
    """Unknown names fail before any work (:func:`check_names`, named as on the command
    line; a lever given as a shock says to use --lever, and the reverse)."""
    from ..scenarios.interventions import check_names, intervention_names

    for kind, other, names in (("shock", "lever", shocks), ("lever", "shock", levers)):
        try:
            check_names(case, names, kind)
        except AllianceLabError as exc:
            known = intervention_names(case)
            bad = next((n for n in names if n not in known[f"{kind}s"]), None)
            hint = f"; use --{other}" if bad in known[f"{other}s"] else ""
            raise AllianceLabError(exc.message + hint, field=f"--{kind}") from None


class _Snapshots(Mapping[str, "Case"]):
    """:func:`other_snapshots`, read when first looked at: inside the job, while the pool
    works (reading and checking three shipped snapshots takes ~0.1 s). A broken one is the
    same one-line error, raised then."""

    def __init__(self, case: Case, path: Path) -> None:
        self._args = (case, path)
        self._read: dict[str, Case] | None = None

    def _cases(self) -> dict[str, Case]:
        if self._read is None:
            self._read = other_snapshots(*self._args)
        return self._read

    def __getitem__(self, key: str) -> Case:
        return self._cases()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._cases())

    def __len__(self) -> int:
        return len(self._cases())


def other_snapshots(case: Case, path: Path) -> dict[str, Case]:
    """Other dated snapshots of the same shipped case, for the perception-gap comparison:
    shipped files (and files beside this one) named like it with another year
    (``us_rok_2007`` for ``us_rok_2025``), keyed by their date."""
    from ..formats import read_case

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
    """Progress of the job's stages on stderr: each stage (``tick(stage, done, total)``) is an
    :class:`alliancelab.cli._logging.Progress` - a transient bar on a terminal, plain lines
    when piped, nothing for a stage quicker than a second or with ``-q``."""

    def __init__(self) -> None:
        self._stage = ""
        self._bar: _logging.Progress | None = None

    def __enter__(self) -> _progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)
            self._bar = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self._stage or self._bar is None:
            self.__exit__(None, None, None)
            self._stage, self._bar = stage, _logging.Progress(stage).__enter__()
        self._bar(done, total)


# -- the summary: on the console, or as JSON / CSV --------------------------------------------

#: the columns of ``alliancelab run --csv`` (one row per issue and model).
CSV_COLUMNS = ("issue", "units", "model", "status_quo", "p5", "p50", "p95", "decimals")


def summary_document(results: RunResults, target: Path, elapsed: float) -> dict[str, Any]:
    """The summary as one JSON-ready document: what the console summary and the report's
    Summary section say (:func:`alliancelab.report.summary.summary`), with the numbers."""
    from ..report.summary import summary

    s = summary(results)
    return {
        "case": results.case.name, "scenario": s.scenario, "seed": results.seed,
        "draws": results.n_draws, "models": list(results.models), "text": s.text,
        "kpis": [dict(k) for k in s.kpis],
        "headlines": [{"name": n, "value": v, "meaning": m} for n, v, m in s.headlines],
        "forecasts": [{c: r[c] for c in (*CSV_COLUMNS, "band")} for r in s.forecasts],
        "notes": list(s.notes), "seconds": round(elapsed, 1),
        "report": str(target / "report.html"),
    }


def print_summary(results: RunResults, target: Path, elapsed: float,
                  fmt: str | None = None) -> None:
    """The summary on stdout: as the report's Summary section says it (the lead, the key
    counts, the headline numbers each with its meaning, the forecast per issue and model in
    the issue's units, the notes), then the seed and the report's path; ``fmt`` ``"json"``
    or ``"csv"`` prints :func:`summary_document` or its forecasts instead."""
    from rich.padding import Padding
    from rich.text import Text

    from ..report.summary import summary

    if fmt == "json":
        print_json(summary_document(results, target, elapsed))
        return
    s = summary(results)
    if fmt == "csv":
        print_csv(s.forecasts, CSV_COLUMNS)
        return
    out = console()
    out.print(Text(f"{results.case.name}: {s.scenario}", style="bold"))
    out.print(Text(s.text))
    kpis = [[k["value"], k["label"]] for k in s.kpis]
    out.print(fitted_table([Col("value"), Col("what", False)], kpis, out.width,
                           show_header=False) or Text("\n".join(" ".join(k) for k in kpis)))
    if s.headlines:
        out.print()
        out.print(Text("Headline numbers, median [5%, 95%] over the draws", style="bold"))
        for name, value, meaning in s.headlines:
            out.print(Padding(Text.assemble((name, "bold"), ": ", value), (0, 0, 0, 2),
                              expand=False))
            out.print(Padding(Text(meaning, style="dim"), (0, 0, 0, 6), expand=False))
    out.print()
    out.print(forecast_table(results.models, s.forecasts, out.width))
    for note in s.notes:
        out.print(Text.assemble(("note: ", "yellow"), note))
    out.print(Text.assemble("seed ", (str(results.seed), "bold"),
                            f" · {results.n_draws} draws · {elapsed:.1f} s · report: ",
                            (str(target / "report.html"), "bold")))


def forecast_table(models: Sequence[str], rows: Sequence[dict[str, Any]],
                   width: int) -> Table:
    """The forecast per issue and model, ``median [5%, 95%]`` in the issue's units, in
    ``width`` columns without cutting a number: the band beside the median when it fits
    (the units beside the issue or under it), else under the median, else one row per issue
    and model."""
    issues: dict[str, dict[str, Any]] = {}
    for r in rows:
        issues.setdefault(r["issue"], {"units": r["units"], "sq": r["status quo"]})[
            r["model"]] = r
    title = "Forecast per issue: median [5%, 95%]"
    wide = [Col("issue", False), Col("units", False), Col("status quo"),
            *(Col(m) for m in models)]
    wide_cells = [[name, d["units"], d["sq"], *(d[m]["band"] for m in models)]
                  for name, d in issues.items()]
    narrow = [Col("issue (units)", False), Col("status quo"), *(Col(m) for m in models)]
    names = [f"{name}\n({d['units']})" if d["units"] else name for name, d in issues.items()]
    inline_cells = [[n, d["sq"], *(d[m]["band"] for m in models)]
                    for n, d in zip(names, issues.values(), strict=True)]
    narrow_cells = [[n, d["sq"],
                     *(f"{d[m]['median']}\n{d[m]['low']}\u2013{d[m]['high']}" for m in models)]
                    for n, d in zip(names, issues.values(), strict=True)]
    long = [Col("issue", False), Col("units", False), Col("model", False), Col("status quo"),
            Col("median"), Col("5%"), Col("95%")]
    long_cells = [[r["issue"], r["units"], r["model"], r["status quo"], r["median"], r["low"],
                   r["high"]] for r in rows]
    under = "Forecast per issue: median, and under it the 5\u201395% band"
    # names whole if any layout allows it, the band beside the median before under it
    table = None
    for cols, cells, text_min, head in (
            (wide, wide_cells, NO_WRAP, title), (narrow, inline_cells, NO_WRAP, title),
            (narrow, narrow_cells, NO_WRAP, under),
            (narrow, narrow_cells, TEXT_MIN, under), (long, long_cells, 8, title)):
        table = table or fitted_table(cols, cells, width, title=head, text_min=text_min)
    if table is None:  # a console narrower than the long layout: let it wrap
        table = fitted_table(long, long_cells, 80, title=title)
    assert table is not None  # the long layout fits in 80 columns
    return table
