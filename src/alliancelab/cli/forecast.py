"""``alliancelab forecast CASE --model M``: forecast a case and show the rounds."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from ..cases import resolve_case
from ..core import units
from ..core.errors import AllianceLabError
from ._defaults import ENGINES
from ._logging import stage
from ._output import NO_WRAP, TEXT_MIN, Col, console, fitted_table, print_csv

if TYPE_CHECKING:
    from rich.table import Table

    from ..core.case import Case, Scale
    from ..core.result import Forecast


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("forecast", help="forecast a case with one engine")
    p.add_argument("case", help="case file (YAML, KTAB CSV, Scholz CSV) or shipped case name")
    p.add_argument("--model", default="compromise", choices=list(ENGINES))
    p.add_argument("--rounds", type=int, default=None, help="rounds for iterative models")
    p.add_argument("--seed", type=int, default=None, help="seed (recorded with the result)")
    p.add_argument("--by-round", action="store_true",
                   help="also print every actor's position in every round, per issue")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print one JSON document")
    fmt.add_argument("--csv", action="store_true",
                     help="print the forecast per issue as CSV (with --by-round: every "
                     "actor's position per round and issue)")
    p.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an engine option, e.g. --option disagreement=status_quo (repeatable; see docs)",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..api import forecast
    from ..core.checks import non_negative_int, positive_int
    from ..formats import read_case

    if args.rounds is not None:
        positive_int(args.rounds, "--rounds")
    if args.seed is not None:
        non_negative_int(args.seed, "--seed")
    options = parse_options(args.option)
    case = read_case(resolve_case(args.case))
    with stage("forecast: solving the case with %s", args.model):
        result = forecast(case, args.model, rng=args.seed, rounds=args.rounds, **options)
    if args.json:
        sys.stdout.write(result.to_json(indent=2) + "\n")
    elif args.csv:
        _print_csv(result, case, args.by_round)
    else:
        print_forecast(result, case, by_round=args.by_round)
    return 0


def parse_options(items: list[str]) -> dict[str, Any]:
    """``["k=v", ...]`` -> ``{k: v}``, each value read as a YAML scalar (number, bool, text)."""
    if not items:
        return {}
    import yaml  # here: only options need PyYAML (start-up, issue 15)

    options: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise AllianceLabError(f"expected KEY=VALUE, got {item!r}", field="--option")
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            value = raw
        if isinstance(value, dict | list):
            value = raw
        options[key] = value
    return options


#: the columns of ``alliancelab forecast --csv``, and with ``--by-round``.
CSV_COLUMNS = ("issue", "units", "status_quo", "forecast", "decimals")
ROUND_COLUMNS = ("round", "actor", "issue", "position")


def forecast_rows(result: Forecast, case: Case) -> list[dict[str, Any]]:
    """One dict per issue: the numbers (``forecast``, ``status_quo``, NaN when missing) and
    their text at the issue's precision (``forecast text``, ``status quo``)."""
    rows = []
    for issue, x in zip(case.issues, result.forecast, strict=True):
        sq = issue.status_quo.value if issue.status_quo is not None else float("nan")
        rows.append({"issue": issue.name, "units": issue.scale.units or "",
                     "status_quo": sq, "forecast": float(x),
                     "decimals": units.decimals(issue.scale),
                     "forecast text": units.value(x, issue.scale),
                     "status quo": "" if issue.status_quo is None
                     else units.value(sq, issue.scale)})
    return rows


def _print_csv(result: Forecast, case: Case, by_round: bool) -> None:
    if not by_round:
        print_csv(forecast_rows(result, case), CSV_COLUMNS)
        return
    print_csv(({"round": r, "actor": a, "issue": k, "position": float(result.rounds[r, i, j])}
               for r in range(result.rounds.shape[0]) for i, a in enumerate(result.actors)
               for j, k in enumerate(result.issues)), ROUND_COLUMNS)


def print_forecast(result: Forecast, case: Case, *, by_round: bool = False) -> None:
    """The forecast per issue in its units beside the status quo; with ``by_round``, every
    actor's position per round, per issue (rounds split over several tables to fit the
    console's width)."""
    from rich.text import Text

    out = console()
    rows = forecast_rows(result, case)
    cols = [Col("issue", False), Col("units", False), Col("status quo"), Col("forecast")]
    cells = [[r["issue"], r["units"], r["status quo"], r["forecast text"]] for r in rows]
    table = fitted_table(cols, cells, max(out.width, 40), title=f"Forecast - {result.model}")
    out.print(table)
    if by_round:
        for k, issue in enumerate(case.issues):
            for t in round_tables(result, k, issue.scale, out.width):
                out.print()
                out.print(t)
    hint = "" if by_round or result.n_rounds == 0 else \
        " · every actor's position in every round: --by-round"
    out.print(Text(f"seed: {result.seed}{hint}"))


def round_tables(result: Forecast, k: int, scale: Scale, width: int) -> list[Table]:
    """The positions by round on issue ``k``, one column per round, split into as few
    tables of about equal size as fit in ``width`` columns: with the actor names whole when
    that leaves room for three rounds a table, else with the names wrapped. No number is
    ever cut."""
    n = result.rounds.shape[0]
    values = [[units.value(result.rounds[r, i, k], scale) for r in range(n)]
              for i in range(len(result.actors))]
    name = result.issues[k] + (f" ({scale.units})" if scale.units else "")
    for text_min in (NO_WRAP, TEXT_MIN):
        for parts in range(1, n + 1):
            per = -(-n // parts)
            if text_min == NO_WRAP and per < min(n, 3):
                break
            tables = []
            for lo in range(0, n, per):
                hi = min(n, lo + per)
                cols = [Col("actor", False), *(Col(f"r{r}") for r in range(lo, hi))]
                cells = [[a, *values[i][lo:hi]] for i, a in enumerate(result.actors)]
                span = f", rounds {lo}-{hi - 1}" if per < n else ""
                t = fitted_table(cols, cells, width, text_min=text_min,
                                 title=f"Positions by round - {name}{span}")
                if t is None:
                    break
                tables.append(t)
            else:
                return tables
    return [t for lo in range(n) for t in round_tables_one(result, k, values, name, lo)]


def round_tables_one(result: Forecast, k: int, values: list[list[str]], name: str,
                     r: int) -> list[Table]:
    """Round ``r`` alone, for a console too narrow for anything else (the names wrap)."""
    cols = [Col("actor", False), Col(f"r{r}")]
    cells = [[a, values[i][r]] for i, a in enumerate(result.actors)]
    t = fitted_table(cols, cells, 80, title=f"Positions by round - {name}, round {r}")
    return [t] if t is not None else []
