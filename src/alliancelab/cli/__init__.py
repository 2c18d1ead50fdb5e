"""The ``alliancelab`` command line. Each sub-command is a module of this package.

A user's mistake prints one line on stderr and exits with code 2; nothing is written.
``-q``/``-v`` set the ``alliancelab`` logger's level (see :mod:`alliancelab.cli._logging`).

A command module imports only argparse (and this package's light helpers) at its top; NumPy,
pandas, the engines, the jobs and the report are imported inside its handler, and a command
line naming a command builds (and imports) that command's parser alone, so
``alliancelab --help`` and every command start in a blink (issue 15;
``bench/bench_startup.py``).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

# The engines' matrices are small (actors x actors): BLAS threads only cost their start-up
# and compete with the Monte Carlo's worker processes; set before anything imports NumPy
# (a user's own setting stands).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from ..core import limits  # noqa: E402
from ..core.errors import AllianceLabError  # noqa: E402
from ..core.io import os_reason  # noqa: E402
from . import _logging  # noqa: E402
from ._help import HelpFormatter  # noqa: E402

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

DESCRIPTION = "Model, forecast and stress-test alliance politics."
EPILOG = ("'alliancelab COMMAND --help' shows a command's options. A mistake in the input "
          "prints one line on stderr and exits with code 2.")
VERBOSE_HELP = "more log lines on stderr: -v details (INFO), -vv debugging (DEBUG)"
QUIET_HELP = "errors only on stderr: no progress, no warnings"
LIMIT_HELP = (f"raise (or lower) a limit on the work, repeatable: {', '.join(limits.DEFAULTS)} "
              f"(defaults {', '.join(f'{v:,}' for v in limits.DEFAULTS.values())}; also "
              f"the environment variable {limits.ENV}=NAME=VALUE,...)")


class _Parser(argparse.ArgumentParser):
    """One-line usage errors (exit 2); plain help text with the defaults shown."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


class _SubParsers(argparse._SubParsersAction):  # type: ignore[type-arg]
    """Every sub-command also takes ``-q``/``-v`` after its name (``alliancelab backtest
    FILE -v``); there they default to nothing, so the top level's value stands."""

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        parser = super().add_parser(name, **kwargs)
        add_verbosity(parser, default=argparse.SUPPRESS)
        parser.add_argument("--limit", action="append", default=None, metavar="NAME=VALUE",
                            help=LIMIT_HELP)
        return parser


def add_verbosity(parser: argparse.ArgumentParser, default: Any = 0) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-v", "--verbose", action="count", default=default, help=VERBOSE_HELP)
    group.add_argument("-q", "--quiet", action="store_true",
                       default=False if default == 0 else default, help=QUIET_HELP)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or only of the command ``argv`` names (its first word
    that is not an option: the top-level options take no value)."""
    parser = _Parser(prog="alliancelab", description=DESCRIPTION, epilog=EPILOG)
    parser.register("action", "parsers", _SubParsers)
    parser.add_argument("--version", action=_Version, help="print the version and exit")
    add_verbosity(parser)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser,
                                metavar="COMMAND")
    named = next((a for a in argv or () if not a.startswith("-")), None)
    for name, module in COMMANDS.items():
        if named in COMMANDS and name != named:
            continue
        mod = importlib.import_module(f"{__package__}.{module}")
        mod.add_parser(sub)
    return parser


def verbosity(args: argparse.Namespace) -> int:
    """-1 for ``-q``, else the number of ``-v``."""
    return -1 if getattr(args, "quiet", False) else int(getattr(args, "verbose", 0) or 0)


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(argv).parse_args(argv)
    log = _logging.configure(verbosity(args))
    try:
        limits.configure(getattr(args, "limit", None))
        code: int = args.handler(args)
        sys.stdout.flush()
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
        _silence_stdout()  # the reader went away (``| head``): no complaint at exit
        return 0
    except OSError as exc:  # a full disk, a closed terminal: the environment, not a bug
        log.debug("the OSError in full", exc_info=log.isEnabledFor(logging.DEBUG))
        where = exc.filename if exc.filename is not None else "output"
        print(f"alliancelab: error: {where}: {os_reason(exc)}", file=sys.stderr)
        _silence_stdout()
        return 2
    return code


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # pragma: no cover - no real stdout
        pass


class _Version(argparse.Action):
    """``--version``, looked up only when asked for (importlib.metadata costs start-up)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        sys.stdout.write(_version() + "\n")
        parser.exit(0)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"alliancelab {version('alliancelab')}"
    except PackageNotFoundError:
        return "alliancelab (not installed)"


if __name__ == "__main__":
    sys.exit(main())
