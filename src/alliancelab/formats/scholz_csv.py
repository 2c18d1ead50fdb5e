"""The Scholz et al. replication CSV: ``Actor,Capability,Position,Salience``, one issue,
salience on 0-1 (GitHub jmckib/bdm-scholz-expected-utility-model, ``*.csv`` inputs).

The file carries no scale, so the issue's scale is the range of the positions (BDM's R),
widened to one unit either side when every actor stands at the same position.
"""

from __future__ import annotations

import csv
import io
import math

from ..core.case import Case
from ..core.errors import CaseError
from ._cells import parse_number
from .yaml_case import validate

HEADER = ["Actor", "Capability", "Position", "Salience"]


def sniff(text: str) -> bool:
    first = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
    return [c.strip().lower() for c in first.split(",")] == [h.lower() for h in HEADER]


def read(text: str, file: str) -> Case:
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    rows = []
    try:
        for row in reader:
            rows.append(row)
    except csv.Error as exc:
        raise CaseError(f"broken CSV: {exc}", file=file, line=reader.line_num) from None
    if not rows or [c.strip().lower() for c in rows[0]] != [h.lower() for h in HEADER]:
        raise CaseError(f"line 1 must be the header {','.join(HEADER)}", file=file, line=1)
    actors = []
    seen: dict[str, int] = {}
    for lineno, row in enumerate(rows[1:], start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != 4:
            raise CaseError(f"expected 4 columns, found {len(row)}", file=file, line=lineno)
        name = row[0].strip()
        if not name:
            raise CaseError("empty actor name", file=file, line=lineno, field="Actor")
        if name in seen:
            raise CaseError(
                f"duplicate actor {name!r} (first on line {seen[name]})",
                file=file,
                line=lineno,
                field="Actor",
            )
        seen[name] = lineno
        actors.append((name, *_numbers(row, file, lineno), lineno))
    if not actors:
        raise CaseError("no actor rows after the header", file=file, line=2)
    lo = min(a[2] for a in actors)
    hi = max(a[2] for a in actors)
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if not math.isfinite(hi - lo):
        raise CaseError(
            "positions lie too far apart (their range overflows)", file=file, field="Position"
        )
    data = {
        "name": file.rsplit("/", 1)[-1].rsplit(".", 1)[0] or "case",
        "issues": [{"name": "issue", "scale": {"min": lo, "max": hi}}],
        "actors": [
            {
                "name": name,
                "capability": cap,
                "positions": {"issue": pos},
                "saliences": {"issue": sal},
            }
            for name, cap, pos, sal, _ in actors
        ],
    }
    return validate(data, file=file)


def _numbers(row: list[str], file: str, lineno: int) -> tuple[float, float, float]:
    """Capability (>= 0), position and salience (0-1) of one row."""
    cap, pos, sal = (parse_number(row[k], file, lineno, HEADER[k]) for k in (1, 2, 3))
    if cap < 0:
        raise CaseError(
            f"capability must be >= 0, got {cap:g}", file=file, line=lineno, field="Capability"
        )
    if not 0 <= sal <= 1:
        raise CaseError(
            f"salience must lie in [0, 1], got {sal:g}",
            file=file,
            line=lineno,
            field="Salience",
        )
    return cap, pos, sal


def write(case: Case) -> str:
    if len(case.issues) != 1:
        raise CaseError(
            f"the Scholz CSV format holds one issue; this case has {len(case.issues)}",
            field="format",
        )
    issue = case.issues[0].name
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(HEADER)
    for a in case.actors:
        w.writerow(
            [
                a.name,
                _fmt(a.capability.value),
                _fmt(a.positions[issue].value),
                _fmt(a.saliences[issue].value),
            ]
        )
    return out.getvalue()


def _fmt(x: float) -> str:
    return repr(float(x)) if not float(x).is_integer() else str(int(x))
