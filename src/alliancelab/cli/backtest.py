"""``alliancelab backtest FILE``: score every engine against the DEU III outcomes.

Prints, per engine, the mean and median absolute error (0-100 scale) and the number of
issues scored (or ``--json`` one JSON document, or ``--csv`` the per-issue errors). Writes
nothing unless asked: ``--errors PATH`` writes the per-issue errors as CSV, ``--out DIR`` the
per-issue errors and the summary into DIR (atomically). Cleaning rules: docs/backtest.md and
:mod:`alliancelab.formats.deu`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.errors import AllianceLabError
from ..core.io import check_writable
from ._help import first_paragraph
from ._logging import Progress, log
from ._output import print_json, write_text

if TYPE_CHECKING:
    from ..jobs.backtest import Backtest

#: the file names written into --out DIR
ERRORS_NAME = "deu3-backtest-errors.csv"
SUMMARY_NAME = "deu3-backtest-summary.csv"
#: alliancelab.formats.deu.CAPABILITIES (repeated so that --help needs no import; a test
#: checks that the two agree)
CAPABILITIES = ("gdp", "votes", "equal")


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "backtest", help="score every engine against the DEU III issue outcomes",
        description=first_paragraph(__doc__),
    )
    p.add_argument("file", help="DEU III file (tab-separated, e.g. shared/data/deu3/deu3.csv)")
    p.add_argument("--models", default=None, metavar="M1,M2",
                   help="comma-separated engines, or all (default: all registered engines)")
    p.add_argument("--rounds", type=int, default=None, metavar="N",
                   help="rounds for iterative models (default: each engine's own)")
    p.add_argument("--capability", default="gdp", choices=CAPABILITIES,
                   help="actor capabilities: the file's GDP row, Council votes, or equal")
    p.add_argument("--seed", type=int, default=0, help="seed for stochastic engines")
    p.add_argument("--errors", default=None, metavar="PATH",
                   help="write the per-issue errors as CSV to PATH (default: not written)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help=f"write {ERRORS_NAME} and {SUMMARY_NAME} into DIR "
                   "(default: not written)")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true",
                     help="print one JSON document instead of the table")
    fmt.add_argument("--csv", action="store_true",
                     help="print the per-issue errors as CSV instead of the table")
    p.set_defaults(handler=run)


def _targets(args: argparse.Namespace) -> tuple[Path | None, Path | None]:
    """The --errors file and the --out folder, checked before the backtest runs."""
    errors = check_writable(args.errors, "--errors") if args.errors else None
    out = None
    if args.out:
        if Path(args.out).suffix.lower() == ".csv" and not Path(args.out).is_dir():
            raise AllianceLabError("names a folder; for one CSV file use --errors FILE.csv",
                                   file=args.out, field="--out")
        out = check_writable(args.out, "--out", folder=True)
    return errors, out


def run(args: argparse.Namespace) -> int:
    from ..core.checks import non_negative_int, positive_int
    from ..formats.deu import read_deu
    from ..jobs.backtest import parse_models, run_backtest

    if args.rounds is not None:
        positive_int(args.rounds, "--rounds")
    non_negative_int(args.seed, "--seed")
    errors_path, out = _targets(args)
    models = parse_models(args.models)
    data = read_deu(args.file, args.capability)
    log.info("backtest: %d issue rows read from %s; %d engines", data.rows, args.file,
             len(models))
    with Progress("backtest", "forecasts") as progress:
        result = run_backtest(data, models, rounds=args.rounds, seed=args.seed,
                              progress=progress)
    files = _write(result, errors_path, out)
    if args.json:
        print_json(_document(result, args, data.rows, files))
    elif args.csv:
        sys.stdout.write(_errors_csv(result))
    else:
        _print(result, data.rows, args.capability, files)
    return 0


def _errors_csv(result: Backtest) -> str:
    return str(result.errors.to_csv(index=False, float_format="%.10g"))


def _write(result: Backtest, errors_path: Path | None, out: Path | None) -> list[str]:
    files: list[str] = []
    text = _errors_csv(result) if errors_path or out else ""
    if errors_path is not None:
        files.append(str(write_text(errors_path, text, "--errors")))
    if out is not None:
        files.append(str(write_text(out / ERRORS_NAME, text, "--out")))
        summary = result.summary().to_csv(index=False, float_format="%.10g")
        files.append(str(write_text(out / SUMMARY_NAME, summary, "--out")))
    return files


def _failures(result: Backtest) -> dict[str, dict[str, Any]]:
    errs = result.errors[result.errors["status"] == "error"]
    return {str(model): {"issues": len(group), "example": str(group["message"].iloc[0])}
            for model, group in errs.groupby("model", sort=False)}


def _document(result: Backtest, args: argparse.Namespace, rows: int,
              files: list[str]) -> dict[str, Any]:
    return {
        "file": args.file, "capability": args.capability, "seed": result.seed,
        "rounds": args.rounds, "models": list(result.models), "rows_read": rows,
        "issues_scored": result.n_issues, "skipped": dict(result.skipped),
        "summary": result.summary().to_dict(orient="records"),
        "failures": _failures(result), "files": files,
    }


def _print(result: Backtest, rows: int, capability: str, files: list[str]) -> None:
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
    for name in ("mean AE", "median AE", "scored", "errors", "too few", "seconds"):
        table.add_column(name, justify="right")
    for rec in result.summary().itertuples(index=False):
        table.add_row(rec.model, _fmt(rec.mean_abs_error), _fmt(rec.median_abs_error),
                      str(rec.n_scored), str(rec.n_errors), str(rec.n_too_few_actors),
                      _fmt(rec.seconds))
    console.print(table)
    skipped = ", ".join(f"{n} {why}" for why, n in result.skipped.items()) or "none"
    console.print(f"{rows} issue rows read, {result.n_issues} kept for scoring; "
                  f"skipped: {skipped}", highlight=False)
    for model, fail in _failures(result).items():
        console.print(f"{model}: {fail['issues']} issue(s) failed, e.g. {fail['example']}",
                      highlight=False)
    if files:
        console.print("written: " + ", ".join(files), highlight=False)
    else:
        console.print("per-issue errors: not written (--errors FILE.csv or --out DIR)",
                      highlight=False)


def _fmt(x: float) -> str:
    return "-" if x != x else f"{x:.2f}"
