"""KTAB's SMP CSV format (GitHub KAPSARC/KTAB, ``examples/smp/libsrc/smpread.cpp``
``SMPModel::csvRead``; samples in ``examples/smp/doc/*.csv``)::

    DummyData_3Dim ,"Dummy scenario to test reading format",7,3,
    Actor,Description,Power,Pstn1,Sal1,Pstn2,Sal2,Pstn3,Sal3,
    SActor-00, Random Spatial Actor, 102.543, 75.79, 49.53,  6.37,  5.91, 70.45, 28.15,

Line 1: scenario name, description, number of actors, number of dimensions; line 2: the
header (actor, description, capability, then a position and a salience column per
dimension; the position columns name the dimensions); then one row per actor. Positions and
saliences are on 0-100 and an actor's saliences sum to at most 100. Fields are split at
commas (KTAB's minicsv: no quoting of commas; ``$$`` stands for a comma inside a field);
white space around a field and one pair of surrounding double quotes are removed; a
trailing comma and blank lines are allowed.

Reading gives issues on 0-100 scales and saliences divided by 100. Writing exports any
case: positions rescaled from the issue's scale to 0-100, saliences times 100 and, where
an actor's saliences sum to more than 1, divided by that sum (KTAB refuses totals above
100). The CSV holds no scale labels, status quo, sources, notes or perceptions.
"""

from __future__ import annotations

import math

from ..core import limits
from ..core.case import Case
from ..core.errors import CaseError
from ._cells import parse_number
from .yaml_case import validate

#: KTAB ``Model::maxNumActor`` and its sanity limit on a capability (smpread.cpp).
MAX_ACTORS = 250
MAX_CAPABILITY = 1e8
#: Slack on the salience total, for decimal fractions that add up to 100 in floating point.
SUM_SLACK = 1e-9
#: The writer normalises an actor's saliences only when they sum to more than 1 + this.
SALIENCE_SLACK = 1e-12


def _fields(line: str) -> list[str]:
    """A line's fields, trailing empty fields dropped."""
    cells = [_clean(c) for c in line.split(",")]
    while cells and cells[-1] == "":
        cells.pop()
    return cells


def _clean(cell: str) -> str:
    cell = cell.strip()
    if len(cell) >= 2 and cell[0] == '"' and cell[-1] == '"':
        cell = cell[1:-1]
    return cell.replace("$$", ",")


def _int_field(cell: str) -> int | None:
    try:
        value = float(cell)
    except ValueError:
        return None
    if not math.isfinite(value) or not value.is_integer():
        return None
    return int(value)


def sniff(text: str) -> bool:
    """True when line 1 reads ``name, description, <actors>, <dimensions>`` and line 2 has
    at least five columns (KTAB's layout)."""
    lines = [ln for ln in text.lstrip("\ufeff").splitlines() if ln.strip()]
    if len(lines) < 2:
        return False
    first = _fields(lines[0])
    if len(first) != 4 or _int_field(first[2]) is None or _int_field(first[3]) is None:
        return False
    return len(_fields(lines[1])) >= 5


def _within_limits(n_act: int, n_dim: int, file: str, line: int) -> None:
    """The counts line 1 announces within :mod:`alliancelab.core.limits`, checked before
    any row is read."""
    for what, count in (("actors", n_act), ("issues", n_dim)):
        problem = limits.excess(what, count)
        if problem is not None:
            raise CaseError(problem, file=file, line=line, field=what)


def read(text: str, file: str) -> Case:
    """Parse a KTAB SMP CSV; every error names its line."""
    lines = text.lstrip("\ufeff").splitlines()
    numbered = [(k + 1, ln) for k, ln in enumerate(lines) if ln.strip()]
    if not numbered:
        raise CaseError("file is empty", file=file)
    line1, first = numbered[0][0], _fields(numbered[0][1])
    n_act, n_dim = _scenario_line(first, file, line1)
    _within_limits(n_act, n_dim, file, line1)
    if len(numbered) < 2:
        raise CaseError("the header line is missing", file=file, line=line1 + 1)
    n_col = 3 + 2 * n_dim
    line2, header = numbered[1][0], _fields(numbered[1][1])
    if len(header) != n_col:
        raise CaseError(
            f"header must have {n_col} columns (actor, description, capability and a "
            f"position and salience per dimension for {n_dim} dimensions), found {len(header)}",
            file=file, line=line2,
        )
    issue_names = _unique_names([header[3 + 2 * k] or f"Dim{k + 1}" for k in range(n_dim)])

    actors: list[dict[str, object]] = []
    seen: dict[str, int] = {}
    for lineno, raw in numbered[2:]:
        row = _fields(raw)
        if len(actors) == n_act:
            raise CaseError(
                f"more actor rows than the {n_act} announced on line {line1}",
                file=file, line=lineno,
            )
        if len(row) != n_col:
            raise CaseError(
                f"expected {n_col} columns, found {len(row)}", file=file, line=lineno
            )
        name = row[0]
        if not name:
            raise CaseError("empty actor name", file=file, line=lineno, field=header[0] or "Actor")
        if name in seen:
            raise CaseError(
                f"duplicate actor {name!r} (first on line {seen[name]})",
                file=file, line=lineno, field=header[0] or "Actor",
            )
        seen[name] = lineno
        actors.append(_actor_row(row, header, issue_names, file, lineno))
    if len(actors) != n_act:
        last = numbered[-1][0]
        raise CaseError(
            f"line {line1} announces {n_act} actors but the file has {len(actors)} actor rows",
            file=file, line=last + 1 if len(numbered) > 2 else line2 + 1,
        )
    data: dict[str, object] = {
        "name": first[0] or file.rsplit("/", 1)[-1].rsplit(".", 1)[0] or "case",
        "issues": [{"name": nm, "scale": {"min": 0.0, "max": 100.0}} for nm in issue_names],
        "actors": actors,
    }
    if first[1]:
        data["description"] = first[1]
    return validate(data, file=file)


def _scenario_line(first: list[str], file: str, line1: int) -> tuple[int, int]:
    """Line 1: the numbers of actors and of dimensions, checked."""
    if len(first) != 4:
        raise CaseError(
            "line 1 must read: scenario name, description, number of actors, number of "
            f"dimensions (found {len(first)} fields)",
            file=file,
            line=line1,
        )
    n_act, n_dim = _int_field(first[2]), _int_field(first[3])
    if n_act is None or not 1 <= n_act <= MAX_ACTORS:
        raise CaseError(
            f"number of actors must be a whole number in 1..{MAX_ACTORS}, got {first[2]!r}",
            file=file, line=line1, field="actors",
        )
    if n_dim is None or n_dim < 1:
        raise CaseError(
            f"number of dimensions must be a whole number >= 1, got {first[3]!r}",
            file=file, line=line1, field="dimensions",
        )
    return n_act, n_dim


def _actor_row(
    row: list[str], header: list[str], issue_names: list[str], file: str, lineno: int
) -> dict[str, object]:
    """One actor row as case data: capability, positions and saliences checked."""
    name = row[0]
    cap = parse_number(row[2], file, lineno, header[2] or "capability")
    if cap < 0:
        raise CaseError(
            f"capability must be >= 0, got {cap:g}", file=file, line=lineno, field=header[2]
        )
    if cap > MAX_CAPABILITY:
        raise CaseError(
            f"capability must be <= {MAX_CAPABILITY:g} (KTAB's limit), got {cap:g}",
            file=file, line=lineno, field=header[2],
        )
    pos, sal = {}, {}
    total = 0.0
    for k, issue in enumerate(issue_names):
        p_col, s_col = header[3 + 2 * k], header[4 + 2 * k]
        p = parse_number(row[3 + 2 * k], file, lineno, p_col)
        s = parse_number(row[4 + 2 * k], file, lineno, s_col)
        if not 0 <= p <= 100:
            raise CaseError(
                f"position must lie in [0, 100], got {p:g}", file=file, line=lineno, field=p_col
            )
        if not 0 <= s <= 100:
            raise CaseError(
                f"salience must lie in [0, 100], got {s:g}", file=file, line=lineno, field=s_col
            )
        total += s
        pos[issue], sal[issue] = p, s / 100.0
    if total > 100 + SUM_SLACK:
        raise CaseError(
            f"saliences of {name!r} sum to {total:g}; KTAB allows at most 100",
            file=file, line=lineno,
        )
    actor: dict[str, object] = {"name": name, "capability": cap, "positions": pos,
                                "saliences": sal}
    if row[1]:
        actor["description"] = row[1]
    return actor


def write(case: Case) -> str:
    """The case as a KTAB SMP CSV (see the module docstring for the rescaling)."""
    issues = case.issues
    lines = [
        ",".join([_text(case.name), _text(case.description or ""),
                  str(len(case.actors)), str(len(issues))]) + ",",
        ",".join(
            ["Actor", "Description", "Power"]
            + [c for i in issues for c in (_text(i.name), _text(f"{i.name} Salience"))]
        ) + ",",
    ]
    for a in case.actors:
        sal = [a.saliences[i.name].value for i in issues]
        total = sum(sal)
        if total > 1.0 + SALIENCE_SLACK:
            sal = [s / total for s in sal]
        cells = [_text(a.name), _text(a.description or ""), _num(a.capability.value)]
        for issue, s in zip(issues, sal, strict=True):
            cells += [_num(_to_100(a.positions[issue.name].value, issue.scale.min,
                                   issue.scale.max)), _percent(s)]
        lines.append(",".join(cells) + ",")
    return "\n".join(lines) + "\n"


def _to_100(x: float, lo: float, hi: float) -> float:
    if lo == 0.0 and hi == 100.0:
        return x
    return min(100.0, max(0.0, (x - lo) / (hi - lo) * 100.0))


def _text(s: str) -> str:
    """A text field: commas as KTAB's ``$$``, line breaks as spaces, in double quotes."""
    s = s.replace(",", "$$").replace("\r", " ").replace("\n", " ")
    return f'"{s}"'


def _num(x: float) -> str:
    """The shortest text that reads back as ``x`` exactly."""
    x = float(x) + 0.0  # no "-0"
    return str(int(x)) if x.is_integer() and abs(x) < 1e15 else repr(x)


def _percent(s: float) -> str:
    """A 0-1 salience on 0-100: the shortest text whose value / 100 reads back as ``s``."""
    s = min(1.0, max(0.0, float(s)))
    for digits in (15, 16, 17):
        text = f"{s * 100.0:.{digits}g}"
        if float(text) / 100.0 == s:
            return text
    return f"{s * 100.0:.15g}"  # no decimal reads back exactly; the nearest short one


def _unique_names(names: list[str]) -> list[str]:
    out: list[str] = []
    for nm in names:
        candidate, k = nm, 2
        while candidate in out:
            candidate, k = f"{nm} ({k})", k + 1
        out.append(candidate)
    return out
