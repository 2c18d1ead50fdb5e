"""``alliancelab convert CASE --to FORMAT [-o OUT]``: export a case to another format."""

from __future__ import annotations

import argparse
import sys

from ..cases import resolve_case
from ..formats import FORMATS, format_case, read_case, write_case


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("convert", help="convert a case between YAML, KTAB CSV and Scholz CSV")
    p.add_argument("case")
    p.add_argument("--to", required=True, choices=FORMATS)
    p.add_argument("-o", "--output", help="file to write (default: stdout)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    case = read_case(resolve_case(args.case))
    if args.output:
        write_case(case, args.output, args.to)
    else:
        sys.stdout.write(format_case(case, args.to))
    return 0
