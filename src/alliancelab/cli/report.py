"""``alliancelab report STORE [--out FILE.html]``: the HTML report of an exploration store
(``alliancelab explore --store STORE``), finished or not - nothing is run, the report shows
the experiments stored so far and says how many are complete and how many failed."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from ..core.errors import AllianceLabError
from ..explore import Exploration
from ..report.explore import write_report
from .explore import _parse_prim, _prim_options


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "report", help="HTML report of an exploration store (alliancelab explore --store DIR)",
        description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("store", help="the exploration's store directory")
    p.add_argument("--out", default=None, metavar="FILE.html",
                   help="report file (default: STORE/report.html)")
    p.add_argument("--outcome", default=None, metavar="OUTCOME",
                   help="outcome of interest for sensitivity, PRIM and regret (default: the "
                        "first, e.g. compromise.<first issue>)")
    p.add_argument("--sense", choices=("max", "min"), default="max",
                   help="whether more of OUTCOME is better (max) or worse (min)")
    p.add_argument("--prim", metavar="'OUTCOME>X'", default=None,
                   help="PRIM boxes for OUTCOME above (>) or below (<) X (default: OUTCOME in "
                        "its worst quartile)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    store = Path(args.store)
    if not (store / "explore.duckdb").is_file():
        raise AllianceLabError("no exploration in this directory (no explore.duckdb)",
                               file=str(store))
    kw = _prim_options(_parse_prim(args.prim) if args.prim else None)
    ex = Exploration(store)
    out = Path(args.out) if args.out else store / "report.html"
    parts = ["alliancelab", "report", str(store), "--out", str(out)]
    if args.outcome:
        parts += ["--outcome", args.outcome]
    parts += ["--sense", args.sense] + (["--prim", args.prim] if args.prim else [])
    write_report(ex, out, outcome=args.outcome, sense=args.sense, command=shlex.join(parts),
                 **kw)
    print(f"{ex!r}\nreport: {out}")
    return 0
