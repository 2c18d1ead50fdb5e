"""The ``alliancelab`` command line. Each sub-command is a module of this package.

A user's mistake prints one line on stderr and exits with code 2; nothing is written.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from ..core.errors import AllianceLabError

#: sub-command name -> module in alliancelab.cli (each has ``add_parser`` and ``run``).
COMMANDS = {
    "forecast": "forecast",
    "convert": "convert",
    "cases": "cases",
    "backtest": "backtest",
    "hindcast": "hindcast",
    "run": "run",
    "explore": "explore",
    "report": "report",
    "serve": "serve",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="alliancelab", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for module in COMMANDS.values():
        mod = importlib.import_module(f"{__package__}.{module}")
        mod.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
    except AllianceLabError as exc:
        case_arg = getattr(args, "case", None)
        if exc.file is None and isinstance(case_arg, str):
            exc = exc.located(file=case_arg)  # e.g. too few actors for the model
        print(f"alliancelab: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("alliancelab: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    return code


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"alliancelab {version('alliancelab')}"
    except PackageNotFoundError:
        return "alliancelab (not installed)"


if __name__ == "__main__":
    sys.exit(main())
