"""``alliancelab forecast CASE --model M``: forecast a case and show the rounds."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import yaml
from rich.console import Console
from rich.table import Table

from ..api import forecast
from ..cases import resolve_case
from ..core.checks import non_negative_int, positive_int
from ..core.errors import AllianceLabError
from ..core.result import Forecast
from ..formats import read_case
from ..models.bargaining import ENGINES


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("forecast", help="forecast a case with one engine")
    p.add_argument("case", help="case file (YAML, KTAB CSV, Scholz CSV) or shipped case name")
    p.add_argument("--model", default="compromise", choices=list(ENGINES))
    p.add_argument("--rounds", type=int, default=None, help="rounds for iterative models")
    p.add_argument("--seed", type=int, default=None, help="seed (recorded with the result)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an engine option, e.g. --option disagreement=status_quo (repeatable; see docs)",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.rounds is not None:
        positive_int(args.rounds, "--rounds")
    if args.seed is not None:
        non_negative_int(args.seed, "--seed")
    options = parse_options(args.option)
    case = read_case(resolve_case(args.case))
    result = forecast(case, args.model, rng=args.seed, rounds=args.rounds, **options)
    if args.json:
        sys.stdout.write(result.to_json(indent=2) + "\n")
    else:
        print_forecast(result)
    return 0


def parse_options(items: list[str]) -> dict[str, Any]:
    """``["k=v", ...]`` -> ``{k: v}``, each value read as a YAML scalar (number, bool, text)."""
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


def print_forecast(result: Forecast) -> None:
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
