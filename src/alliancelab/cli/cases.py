"""``alliancelab cases``: list the shipped cases."""

from __future__ import annotations

import argparse

from ..cases import shipped_cases
from ..formats import read_case


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("cases", help="list the shipped cases")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    for name, path in shipped_cases().items():
        case = read_case(path)
        print(f"{name:<20} {len(case.actors):>3} actors {len(case.issues):>3} issues  {case.name}")
    return 0
