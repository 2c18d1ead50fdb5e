"""``alliancelab cases``: list the shipped cases (name, date, actors, issues, description), or
``--json`` one JSON document, or ``--csv`` one row per case."""

from __future__ import annotations

import argparse
from typing import Any

from ._help import first_paragraph
from ._output import print_csv, print_json

COLUMNS = ("name", "date", "actors", "issues", "description", "path")


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("cases", help="list the shipped cases",
                       description=first_paragraph(__doc__))
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print one JSON document")
    fmt.add_argument("--csv", action="store_true", help="print the list as CSV")
    p.set_defaults(handler=run)


def rows() -> list[dict[str, Any]]:
    """One record per shipped case."""
    from ..cases import shipped_cases
    from ..formats import read_case

    out = []
    for name, path in shipped_cases().items():
        case = read_case(path)
        out.append({"name": name, "date": case.date, "actors": len(case.actors),
                    "issues": len(case.issues), "description": case.description,
                    "path": str(path)})
    return out


def run(args: argparse.Namespace) -> int:
    records = rows()
    if args.json:
        print_json({"cases": records})
    elif args.csv:
        print_csv(records, COLUMNS)
    else:
        _print(records)
    return 0


def _print(records: list[dict[str, Any]]) -> None:
    """One line per case, the description shortened to the terminal's width (80 piped)."""
    import shutil

    width = shutil.get_terminal_size((80, 24)).columns
    name_w = max([len(r["name"]) for r in records] + [4])
    for r in records:
        head = (f"{r['name']:<{name_w}}  {r['date'] or '-':<10} {r['actors']:>3} actors "
                f"{r['issues']:>3} issues  ")
        room = max(width - len(head) - 1, 10)
        text = " ".join(str(r["description"] or "").split())
        if len(text) > room:
            text = text[: room - 1].rstrip() + "\N{HORIZONTAL ELLIPSIS}"
        print(head + text)
