"""``alliancelab hindcast``: every engine and the perception dynamics on the dated snapshots,
scored against what happened, with the naive baselines; and the SMA series (docs/hindcast.md).

Writes to ``--out`` (atomically): ``hindcast.csv`` (tidy, one row per snapshot x issue x
horizon x model), ``hindcast-summary.csv`` (model x snapshot x horizon), ``sma.csv``,
``sma-summary.csv``, ``hindcast.html`` (the report) and ``manifest.json`` (seed, versions,
inputs). Prints the tables (80 columns), or ``--json`` one JSON document, or ``--csv`` the tidy
CSV.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core import units
from ..core.errors import AllianceLabError
from ..core.io import check_writable
from ._help import first_paragraph
from ._logging import stage
from ._output import print_json, writing
from ._output import write_text as _write_text

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console
    from rich.table import Table

    from ..jobs.hindcast import Hindcast
    from ..jobs.sma_series import SmaSeries

#: alliancelab.jobs.hindcast.DEAD_BAND and REFERENCES, alliancelab.jobs.sma_series.WEIGHTS'
#: names, repeated so that --help needs no import (a test checks that they agree)
DEAD_BAND = 0.02
REFERENCES = ("outcomes", "case")
WEIGHTS = ("stated", "equal")
DEFAULT_OUT = "alliancelab-hindcast"
SERIES = ("all", "snapshots", "sma")

#: the precision of the SMA amounts: US$ 0.01 bn, KRW 1 bn (:func:`alliancelab.core.units.value`)
_USD = units.Span(0.0, 10.0)
_KRW = units.Span(0.0, 10_000.0)


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "hindcast", help="score every engine on the dated alliance snapshots and the SMA series "
        "against what happened, and against 'nothing changes'",
        description=first_paragraph(__doc__))
    p.add_argument("--models", default=None, metavar="M1,M2",
                   help="all, or comma-separated engines and dyn:<engine> (default: all)")
    p.add_argument("--snapshots", default=None, metavar="S1,S2",
                   help="comma-separated snapshot cases (default: every one with outcomes)")
    p.add_argument("--series", default="all", choices=SERIES,
                   help="the alliance snapshots, the SMA series, or both (default)")
    p.add_argument("--out", default=DEFAULT_OUT, metavar="DIR",
                   help=f"output folder (default ./{DEFAULT_OUT})")
    p.add_argument("--seed", type=int, default=0, metavar="S",
                   help="seed for stochastic engines (default 0)")
    p.add_argument("--dead-band", type=float, default=DEAD_BAND, metavar="F",
                   help=f"'no change' band, fraction of the scale width (default {DEAD_BAND})")
    p.add_argument("--reference", default="outcomes", choices=REFERENCES,
                   help="status quo: horizon-0 row of the outcome table (default) or the case's")
    p.add_argument("--fit-lambda", action="store_true",
                   help="add partial-adjustment rows, lambda fitted leave one snapshot out")
    p.add_argument("--sma-weights", default="stated", choices=WEIGHTS,
                   help="actor weights of the SMA cases (default: the stated judgements)")
    p.add_argument("--outcomes", default=None, metavar="CSV",
                   help="outcome table (default: the shipped one)")
    p.add_argument("--sma-table", default=None, metavar="CSV",
                   help="SMA table (default: the shipped one)")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print one JSON document")
    fmt.add_argument("--csv", action="store_true", help="print the tidy hindcast CSV")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..jobs.hindcast import parse_models, run_hindcast
    from ..jobs.sma_series import run_sma

    start = time.perf_counter()
    out = check_writable(args.out, "--out", folder=True)
    if args.csv and args.series == "sma":
        raise AllianceLabError("--csv prints the snapshot rows; use --series all or "
                               "snapshots", field="--csv")
    models = parse_models(args.models)
    snapshots = ([s.strip() for s in args.snapshots.split(",") if s.strip()]
                 if args.snapshots else None)
    if args.snapshots is not None and not snapshots:
        raise AllianceLabError("no snapshot given", field="--snapshots")
    h: Hindcast | None = None
    s: SmaSeries | None = None
    if args.series in ("all", "snapshots"):
        with stage("hindcast: forecasting the snapshots with %d models", len(models)):
            h = run_hindcast(snapshots, models, seed=args.seed, band=args.dead_band,
                             reference=args.reference, fit_lambda=args.fit_lambda,
                             outcomes=args.outcomes)
    if args.series in ("all", "sma"):
        with stage("hindcast: the SMA series with %d models", len(models)):
            s = run_sma(models, seed=args.seed, band=args.dead_band, weights=args.sma_weights,
                        path=args.sma_table)
    with stage("hindcast: writing the tables and the report into %s", out):
        files = _write(out, h, s, _command(args), time.perf_counter() - start)
    if args.json:
        print_json(_document(h, s, files))
    elif args.csv and h is not None:
        sys.stdout.write(h.rows.to_csv(index=False, float_format="%.10g"))
    else:
        _print(h, s, files)
    return 0


def _command(args: argparse.Namespace) -> str:
    """The command line that reproduces the run (every option spelled out)."""
    parts = ["alliancelab", "hindcast"]
    for key in ("models", "snapshots", "series", "out", "seed", "dead_band", "reference",
                "sma_weights", "outcomes", "sma_table"):
        value = getattr(args, key)
        if value is not None:
            parts += [f"--{key.replace('_', '-')}", str(value)]
    parts += [f"--{k.replace('_', '-')}" for k in ("fit_lambda", "json", "csv")
              if getattr(args, k)]
    return " ".join(shlex.quote(p) for p in parts)


def _manifest(h: Hindcast | None, s: SmaSeries | None, command: str | None,
              seconds: float) -> dict[str, Any]:
    from datetime import UTC, datetime
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as package_version

    from ..core.rng import versions

    v = versions()
    for pkg in ("plotly", "rich", "jinja2"):
        try:
            v[pkg] = package_version(pkg)
        except PackageNotFoundError:
            v[pkg] = "not installed"
    return {
        "command": command or "(Python API)",
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "seconds": round(seconds, 2),
        "seed": (h or s).seed if (h or s) is not None else None,  # type: ignore[union-attr]
        "versions": v,
        "snapshots": None if h is None else h.manifest(),
        "sma": None if s is None else s.manifest(),
    }


def _write(out: Path, h: Hindcast | None, s: SmaSeries | None, command: str | None,
           seconds: float) -> dict[str, str]:
    from ..core.result import jsonable
    from ..core.rng import versions
    from ..report.hindcast import write_report

    files: dict[str, str] = {}

    def put(name: str, text: str) -> None:
        _write_text(out / name, text, "--out")
        files[name] = str(out / name)

    if h is not None:
        put("hindcast.csv", h.rows.to_csv(index=False, float_format="%.10g"))
        put("hindcast-summary.csv", h.summary().to_csv(index=False, float_format="%.10g"))
    if s is not None:
        put("sma.csv", s.rows.to_csv(index=False, float_format="%.10g"))
        put("sma-summary.csv", s.summary().to_csv(index=False, float_format="%.10g"))
    version = versions().get("alliancelab", "")
    with writing(out / "hindcast.html", "--out"):
        write_report(out / "hindcast.html", h, s, command=command, version=version)
    files["hindcast.html"] = str(out / "hindcast.html")
    put("manifest.json", json.dumps(jsonable(_manifest(h, s, command, seconds)), indent=2)
        + "\n")
    return files


def _document(h: Hindcast | None, s: SmaSeries | None, files: dict[str, str]
              ) -> dict[str, Any]:
    from ..report.hindcast import reading

    doc: dict[str, Any] = {"files": files, "reading": reading(h, s)}
    if h is not None:
        doc["snapshots"] = {
            "best": h.best().to_dict(orient="records"),
            "pooled": h.pooled().to_dict(orient="records"),
            "summary": h.summary().to_dict(orient="records"),
            "target": h.target(),
            "lambdas": None if h.lambdas is None else h.lambdas.to_dict(orient="records"),
        }
    if s is not None:
        doc["sma"] = {"summary": s.summary().to_dict(orient="records"),
                      "cases": [c.__dict__ for c in s.cases],
                      "excluded": [{"number": n, "reason": r} for n, r in s.excluded]}
    return doc


def _table(title: str, df: pd.DataFrame, right: tuple[str, ...] = ()) -> Table:
    from rich import box
    from rich.table import Table

    t = Table(title=title, box=box.SIMPLE_HEAD, padding=(0, 1, 0, 0), title_justify="left",
              pad_edge=False, show_edge=False)
    for col in df.columns:
        t.add_column(str(col), justify="right" if col in right else "left", no_wrap=True)
    for row in df.itertuples(index=False):
        t.add_row(*("" if v is None or (isinstance(v, float) and v != v) else str(v)
                    for v in row))
    return t


#: console headers of the two snapshot tables (short, so that they fit 80 columns).
BEST_HEADERS = {"snapshot": "snap", "horizon": "h", "best model": "best model",
                "MAE": "MAE", "dir": "dir", "SQ MAE": "SQ MAE", "SQ dir": "SQ dir",
                "trend MAE": "tr MAE", "trend dir": "tr dir", "trend N": "tr N"}


def _print(h: Hindcast | None, s: SmaSeries | None, files: dict[str, str]) -> None:
    from rich.console import Console

    from ..report.hindcast import best_view, pooled_view, reading

    console = Console()
    if h is not None:
        b = best_view(h).rename(columns=BEST_HEADERS)
        console.print(_table("Hindcast: the best model per snapshot and horizon against the "
                             "baselines (MAE in scale widths; dir: direction hit rate; tr: "
                             "trend, N where defined)", b, right=tuple(b.columns[3:])))
        console.print()
        p = pooled_view(h).drop(columns=["kind"])
        p = p.rename(columns={"interval": "intv", "cells < SQ": "<SQ",
                              **{c: c.removeprefix("MAE ") for c in p.columns
                                 if c.startswith("MAE ")}})
        console.print(_table("Per model, all snapshots and horizons pooled (intv: interval "
                             "hits; <SQ: cells with a lower MAE than the status quo; MAE per "
                             "snapshot)", p, right=tuple(p.columns[1:])))
        console.print()
        for line in h.failures:
            console.print(f"[red]failed[/red] {line}")
    if s is not None:
        _print_sma(console, s)
    console.print()
    for line in reading(h, s):
        console.print(f"- {line}", highlight=False)
    console.print("written: " + ", ".join(files.values()), highlight=False)


def _print_sma(console: Console, s: SmaSeries) -> None:
    import pandas as pd

    m = s.summary()
    view = pd.DataFrame({
        "model": m["model"], "MAE": m["mae_widths"].map(lambda x: f"{x:.3f}"),
        "MAE %SQ": m["mae_pct_sq"].map(lambda x: f"{x:.1f}"),
        "dir": m["direction_hit_rate"].map(lambda x: f"{100 * x:.0f}%"), "N": m["n"],
        "MAE all": m["mae_widths_all"].map(lambda x: f"{x:.3f}"), "N all": m["n_all"],
    })
    console.print(_table("SMA series: MAE in scale widths and in % of the status quo (N: "
                         "public ask and offer; all: with assumed freeze offers)", view,
                         right=tuple(view.columns[1:])))
    console.print()
    rows = []
    for c in s.cases:
        mine = s.rows[(s.rows["number"] == c.number) & (s.rows["family"] == "model")]
        mine = mine.dropna(subset=["abs_error_widths"])
        best = mine.sort_values("abs_error_widths", kind="stable").iloc[0] if len(mine) else None
        span = _USD if c.currency == "USD" else _KRW  # US$ 0.01 bn, KRW 1 bn
        rows.append({"SMA": f"{c.number}{'' if c.headline else '*'}", "year": c.first_year,
                     "unit": "US$bn" if c.currency == "USD" else "KRWbn",
                     "SQ": units.value(c.status_quo, span), "ask": units.value(c.us_ask, span),
                     "offer": units.value(c.rok_offer, span),
                     "outcome": units.value(c.outcome, span),
                     "best": "" if best is None else best["model"],
                     "fc": "" if best is None else units.value(float(best["forecast"]), span)})
    cases = pd.DataFrame(rows)
    console.print(_table("SMA cases (* ROK offer not public: assumed freeze)", cases,
                         right=("year", "SQ", "ask", "offer", "outcome", "fc")))

