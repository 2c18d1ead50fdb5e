"""``alliancelab report STORE [--out FILE.html]``: the HTML report of an exploration store
(``alliancelab explore --store STORE``), finished or not - nothing is run, the report shows
the experiments stored so far and says how many are complete and how many failed."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..cases import resolve_case
from ..core.errors import AllianceLabError
from . import _logging
from .explore import _parse_prim, _prim_options, print_summary

if TYPE_CHECKING:
    from ..core.case import Case
    from ..explore import Exploration


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
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true",
                     help="print the store's summary (counts, outcomes by policy) as one JSON "
                          "document")
    fmt.add_argument("--csv", action="store_true",
                     help="print the outcomes by policy (5%%, median, 95%%) as CSV")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..core.io import check_outputs
    from ..explore import Exploration
    from ..report.explore import write_report

    store = Path(args.store)
    if not (store / "explore.duckdb").exists():  # a FIFO or a device: Store says so
        raise AllianceLabError("no exploration in this directory (no explore.duckdb)",
                               file=str(store))
    kw = _prim_options(_parse_prim(args.prim) if args.prim else None)
    out = Path(args.out) if args.out else store / "report.html"
    check_outputs((out, "--out", False))
    ex = Exploration(store)
    parts = ["alliancelab", "report", str(store), "--out", str(out)]
    if args.outcome:
        parts += ["--outcome", args.outcome]
    parts += ["--sense", args.sense] + (["--prim", args.prim] if args.prim else [])
    with _logging.stage("report: analysing %s stored experiments", f"{ex.n_stored:,}"):
        write_report(ex, out, outcome=args.outcome, sense=args.sense,
                     command=shlex.join(parts), **kw)
    fmt = "json" if args.json else "csv" if args.csv else None
    print_summary(ex, store_case(ex), None, fmt)
    print(f"report: {out}", file=sys.stderr if fmt else sys.stdout)
    return 0


def store_case(ex: Exploration) -> Case | None:
    """The shipped case an exploration was made of, for its issues' units and scales
    (``None`` when its name is not a shipped case)."""
    from ..formats import read_case

    try:
        return read_case(resolve_case(str(ex.manifest["case_name"])))
    except AllianceLabError:
        return None
