"""``alliancelab forecast CASE --model M``: forecast a case and show the rounds."""

from __future__ import annotations

import argparse
import sys

from ..api import forecast
from ..bargaining import ENGINES
from ..cases import resolve_case
from ..formats import read_case
from ..result import Forecast


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("forecast", help="forecast a case with one engine")
    p.add_argument("case", help="case file (YAML, KTAB CSV, Scholz CSV) or shipped case name")
    p.add_argument("--model", default="compromise", choices=list(ENGINES))
    p.add_argument("--rounds", type=int, default=None, help="rounds for iterative models")
    p.add_argument("--seed", type=int, default=None, help="seed (recorded with the result)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    case = read_case(resolve_case(args.case))
    result = forecast(case, args.model, rng=args.seed, rounds=args.rounds)
    if args.json:
        sys.stdout.write(result.to_json(indent=2) + "\n")
    else:
        print_forecast(result)
    return 0


def print_forecast(result: Forecast) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"Forecast - {result.model}")
    table.add_column("issue")
    table.add_column("forecast", justify="right")
    for issue, value in zip(result.issues, result.forecast, strict=True):
        table.add_row(issue, f"{value:.4g}")
    console.print(table)
    for k, issue in enumerate(result.issues):
        rounds = Table(title=f"Positions by round - {issue}")
        rounds.add_column("actor")
        for r in range(result.rounds.shape[0]):
            rounds.add_column(f"r{r}", justify="right")
        for i, actor in enumerate(result.actors):
            rounds.add_row(
                actor, *(f"{result.rounds[r, i, k]:.4g}" for r in range(result.rounds.shape[0]))
            )
        console.print(rounds)
    console.print(f"seed: {result.seed}")
