"""Reader for DEU III, *Decision-making in the European Union III* (Arregui & Perarnaud 2021,
JEPP, doi:10.1080/13501763.2021.1991983; data doi:10.34810/data53, CC BY 4.0), in the
tab-separated layout of GitHub blksv/predictioneers_game ``deu3.csv``.

One row per controversial issue: 13 metadata columns, a position column ``p<actor>`` and a
salience column ``s<actor>`` per actor (0-100), the reference point ``rp`` and the decision
outcome ``out`` (0-100). The blksv copy adds a second line holding GDP weights under the
position columns. The cleaning rules (see docs/backtest.md) are:

* a blank cell, ``NA``/``NaN``/``.`` or the DEU sentinel ``999`` is *missing*;
* an actor without a position on an issue is absent from it (a state that was not yet a
  member, or one the experts recorded no position for) and is dropped from that issue;
  an actor with a position but no salience is dropped too (its weight is unknown);
  an actor with salience 0 stays (present, but it does not care);
* an issue without an outcome, or with fewer than :data:`MIN_ACTORS` actors left, is skipped
  and counted (:class:`Skipped`);
* the reference point ``rp`` becomes the issue's status quo when given, none otherwise;
* capabilities: ``gdp`` (default) - the weights of line 2, as in the blksv backtest;
  ``votes`` - Council votes (Amsterdam weights for acts adopted before 1 May 2004, Nice
  weights afterwards), Commission and Parliament given the largest state's votes, mirroring
  the GDP row; ``equal`` - every actor 1;
* the corrupted ``intro``/``finact`` dates are repaired (SOURCE.md hazard 4) and kept in the
  issue's ``meta``.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from ..core.case import Case
from ..core.errors import CaseError

Capability = Literal["gdp", "votes", "equal"]
CAPABILITIES: tuple[str, ...] = ("gdp", "votes", "equal")

#: fewest actors (with a position and a salience) an issue needs to be scored.
MIN_ACTORS = 2
#: cell texts read as missing; 999 is DEU's missing-value code.
MISSING_TEXT = frozenset({"", "na", "nan", "."})
SENTINELS = frozenset({999.0})
SCALE = (0.0, 100.0)

ACTOR_NAMES: dict[str, str] = {
    "com": "European Commission",
    "ep": "European Parliament",
    "at": "Austria",
    "be": "Belgium",
    "bu": "Bulgaria",
    "cr": "Croatia",
    "cy": "Cyprus",
    "cz": "Czech Republic",
    "dk": "Denmark",
    "ee": "Estonia",
    "fi": "Finland",
    "fr": "France",
    "de": "Germany",
    "el": "Greece",
    "hu": "Hungary",
    "ie": "Ireland",
    "it": "Italy",
    "lv": "Latvia",
    "lt": "Lithuania",
    "lu": "Luxembourg",
    "mt": "Malta",
    "nl": "Netherlands",
    "pl": "Poland",
    "pt": "Portugal",
    "ro": "Romania",
    "si": "Slovenia",
    "sk": "Slovakia",
    "es": "Spain",
    "se": "Sweden",
    "uk": "United Kingdom",
}
INSTITUTIONS = frozenset({"com", "ep"})

#: Council votes under the Treaty of Amsterdam (EU-15, qualified majority 62 of 87).
VOTES_AMSTERDAM: dict[str, float] = {
    "de": 10, "fr": 10, "it": 10, "uk": 10, "es": 8, "be": 5, "el": 5, "nl": 5, "pt": 5,
    "at": 4, "se": 4, "dk": 3, "ie": 3, "fi": 3, "lu": 2,
}
#: Council votes under the Treaty of Nice (from 1 Nov 2004; Bulgaria and Romania from 2007,
#: Croatia from 2013).
VOTES_NICE: dict[str, float] = {
    "de": 29, "fr": 29, "it": 29, "uk": 29, "es": 27, "pl": 27, "ro": 14, "nl": 13,
    "be": 12, "cz": 12, "el": 12, "hu": 12, "pt": 12, "at": 10, "bu": 10, "se": 10,
    "dk": 7, "ie": 7, "lt": 7, "sk": 7, "fi": 7, "cr": 7, "cy": 4, "ee": 4, "lv": 4,
    "lu": 4, "si": 4, "mt": 3,
}
ENLARGEMENT_2004 = date(2004, 5, 1)

_REQUIRED = ("isnr", "out")
_DMY = re.compile(r"^(\d{1,2})-(\d{1,2})-(\d{2}|\d{4})$")
_YMD = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


@dataclass(frozen=True)
class DeuIssue:
    """One scored DEU issue: a one-issue :class:`Case` of the actors present, the observed
    ``outcome`` (0-100) and ``meta`` (proposal, line, procedure, dates, dropped actors...)."""

    case: Case
    outcome: float
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.case.name


@dataclass(frozen=True)
class Skipped:
    """An issue row left out of the backtest, and why."""

    issue: str
    line: int
    reason: str


@dataclass(frozen=True)
class DeuData:
    """Everything read from a DEU file: the scored issues and the skipped rows."""

    file: str
    capability: str
    issues: tuple[DeuIssue, ...]
    skipped: tuple[Skipped, ...]
    rows: int

    def skipped_counts(self) -> dict[str, int]:
        """How many rows were skipped for each reason."""
        out: dict[str, int] = {}
        for s in self.skipped:
            out[s.reason] = out.get(s.reason, 0) + 1
        return out


def sniff(text: str) -> bool:
    """Whether ``text`` looks like a DEU file (tab-separated, ``isnr``/``out``, p/s pairs)."""
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    cols = [c.strip().strip('"').lower() for c in first.split("\t")]
    return all(c in cols for c in _REQUIRED) and len(_actor_codes(cols)) >= MIN_ACTORS


def read_deu(path: str | os.PathLike[str], capability: str = "gdp") -> DeuData:
    """Read and clean a DEU file (see the module docstring for the rules)."""
    from . import read_text

    return parse_deu(read_text(path), str(path), capability)


def parse_deu(text: str, file: str = "<string>", capability: str = "gdp") -> DeuData:
    """Parse the text of a DEU file into scored issues and skipped rows."""
    if capability not in CAPABILITIES:
        raise CaseError(
            f"unknown capability {capability!r}; choose one of {', '.join(CAPABILITIES)}",
            field="capability",
        )
    try:
        rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter="\t"))
    except csv.Error as exc:
        raise CaseError(f"not a readable tab-separated file: {exc}", file=file) from None
    if not rows:
        raise CaseError("file is empty", file=file)
    header, codes = _header(rows[0], file)
    col = {name: k for k, name in enumerate(header)}

    weights: dict[str, float] | None = None
    issues: list[DeuIssue] = []
    skipped: list[Skipped] = []
    seen: dict[str, int] = {}
    for lineno, row in enumerate(rows[1:], start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise CaseError(
                f"expected {len(header)} tab-separated columns, found {len(row)}",
                file=file,
                line=lineno,
            )
        cell = {name: row[k].strip() for name, k in col.items()}
        if not cell["isnr"]:
            if lineno != 2 or weights is not None:
                raise CaseError(
                    "row without an issue id (isnr)", file=file, line=lineno, field="isnr"
                )
            weights = _weights_row(cell, codes, file, lineno)
            continue
        isnr = cell["isnr"]
        if isnr in seen:
            raise CaseError(
                f"duplicate issue {isnr!r} (first on line {seen[isnr]})",
                file=file,
                line=lineno,
                field="isnr",
            )
        seen[isnr] = lineno
        row_out = _issue_row(cell, codes, weights, capability, file, lineno)
        if isinstance(row_out, Skipped):
            skipped.append(row_out)
        else:
            issues.append(row_out)
    if not seen:
        raise CaseError("no issue rows after the header", file=file, line=2)
    return DeuData(
        file=file, capability=capability, issues=tuple(issues), skipped=tuple(skipped),
        rows=len(seen),
    )


def _header(first: list[str], file: str) -> tuple[list[str], list[str]]:
    """The lower-case header and the actor codes, or the one-line error of a bad header."""
    header = [c.strip().lower() for c in first]
    if len(header) < 2:
        raise CaseError(
            "not a DEU file: line 1 is not a tab-separated header", file=file, line=1
        )
    missing = [c for c in _REQUIRED if c not in header]
    codes = _actor_codes(header)
    if missing or len(codes) < MIN_ACTORS:
        what = f"column(s) {', '.join(missing)}" if missing else "p<actor>/s<actor> column pairs"
        raise CaseError(f"not a DEU file: the header lacks {what}", file=file, line=1)
    dup = sorted({c for c in header if header.count(c) > 1})
    if dup:
        raise CaseError(f"duplicate column(s) {', '.join(dup)}", file=file, line=1)
    return header, codes


def _issue_row(
    cell: dict[str, str],
    codes: list[str],
    weights: dict[str, float] | None,
    capability: str,
    file: str,
    lineno: int,
) -> DeuIssue | Skipped:
    """One issue row: the scored issue, or why it is skipped."""
    isnr = cell["isnr"]
    out = _number(cell["out"], file, lineno, "out", scale=True)
    rp = _number(cell.get("rp", ""), file, lineno, "rp", scale=True)
    present: list[tuple[str, float, float]] = []
    no_position: list[str] = []
    no_salience: list[str] = []
    for code in codes:
        pos = _number(cell[f"p{code}"], file, lineno, f"p{code}", scale=True)
        sal = _number(cell[f"s{code}"], file, lineno, f"s{code}", scale=True)
        if pos is None:
            no_position.append(code)
        elif sal is None:
            no_salience.append(code)
        else:
            present.append((code, pos, sal))
    intro = repair_date(cell.get("intro", ""))
    final = repair_date(cell.get("finact", ""))
    meta: dict[str, Any] = {
        "issue": isnr,
        "proposal": cell.get("prnr", ""),
        "proposal_name": cell.get("prname", ""),
        "line": lineno,
        "council": cell.get("council", ""),
        "procedure": cell.get("proc", ""),
        "voting_rule": cell.get("counvte", ""),
        "intro": intro.isoformat() if intro else None,
        "final_act": final.isoformat() if final else None,
        "reference_point": rp,
        "absent": tuple(no_position),
        "dropped_no_salience": tuple(no_salience),
    }
    if out is None:
        return Skipped(isnr, lineno, "no outcome")
    if len(present) < MIN_ACTORS:
        return Skipped(isnr, lineno, f"fewer than {MIN_ACTORS} actors")
    caps = _capabilities(capability, [c for c, _, _ in present], weights, final or intro,
                         file, lineno)
    case = _case(isnr, cell, present, caps, rp, file, lineno)
    return DeuIssue(case=case, outcome=out, meta=meta)


def repair_date(text: str) -> date | None:
    """A DEU date, repaired (SOURCE.md hazard 4): ``dd-mm-yy`` and ``dd-mm-yyyy`` as written;
    ``yyyy-mm-dd``-shaped values are ``dd-mm-yy`` strings once misread as ``yy-mm-dd``, so
    day = the last two digits of the "year", month = the middle field, year = the last field.
    ``999``, blanks and impossible dates give ``None``."""
    s = text.strip().strip('"')
    try:
        if m := _DMY.match(s):
            d, mo, y = int(m[1]), int(m[2]), m[3]
            year = int(y) if len(y) == 4 else _century(int(y))
            return date(year, mo, d)
        if m := _YMD.match(s):
            return date(_century(int(m[3])), int(m[2]), int(m[1]) % 100)
    except ValueError:
        return None
    return None


def _century(yy: int) -> int:
    return 1900 + yy if yy >= 50 else 2000 + yy


def _actor_codes(header: list[str]) -> list[str]:
    """Actor codes in header order: ``p<code>`` columns with a matching ``s<code>``."""
    names = set(header)
    return [c[1:] for c in header if c.startswith("p") and len(c) > 1 and f"s{c[1:]}" in names]


def _number(
    text: str, file: str, line: int, field: str, *, scale: bool = False
) -> float | None:
    s = text.strip().strip('"').strip()
    if s.lower() in MISSING_TEXT:
        return None
    try:
        value = float(s)
    except ValueError:
        raise CaseError(f"not a number: {s!r}", file=file, line=line, field=field) from None
    if value in SENTINELS:
        return None
    if not math.isfinite(value):
        raise CaseError(f"must be a finite number, got {s!r}", file=file, line=line, field=field)
    if scale and not SCALE[0] <= value <= SCALE[1]:
        raise CaseError(
            f"{value:g} lies outside the DEU scale 0-100", file=file, line=line, field=field
        )
    return value


def _weights_row(cell: dict[str, str], codes: list[str], file: str, line: int) -> dict[str, float]:
    """The GDP row the blksv copy adds as line 2, under the position columns."""
    out: dict[str, float] = {}
    for code in codes:
        v = _number(cell[f"p{code}"], file, line, f"p{code}")
        if v is not None:
            if v < 0:
                raise CaseError(f"GDP weight must be >= 0, got {v:g}", file=file, line=line,
                                field=f"p{code}")
            out[code] = v
    if not out:
        raise CaseError("row without an issue id (isnr)", file=file, line=line, field="isnr")
    return out


def _capabilities(
    scheme: str,
    codes: list[str],
    weights: dict[str, float] | None,
    when: date | None,
    file: str,
    line: int,
) -> list[float]:
    if scheme == "equal":
        return [1.0] * len(codes)
    if scheme == "gdp":
        if weights is None:
            raise CaseError(
                "the file has no GDP row (line 2); use capability 'votes' or 'equal'",
                file=file,
                field="capability",
            )
        missing = [c for c in codes if c not in weights]
        if missing:
            raise CaseError(
                f"no GDP weight for actor(s) {', '.join(missing)} in line 2",
                file=file,
                line=line,
                field="capability",
            )
        return [weights[c] for c in codes]
    table = VOTES_AMSTERDAM if when is not None and when < ENLARGEMENT_2004 else VOTES_NICE
    largest = max(table.values())
    caps = []
    for c in codes:
        if c in INSTITUTIONS:
            caps.append(largest)
        elif c in table:
            caps.append(table[c])
        elif c in VOTES_NICE:  # a state recorded before it held Council votes
            caps.append(VOTES_NICE[c])
        else:
            raise CaseError(
                f"no Council votes known for actor {c!r}", file=file, line=line,
                field="capability",
            )
    return caps


def _case(
    isnr: str,
    cell: dict[str, str],
    present: list[tuple[str, float, float]],
    caps: list[float],
    rp: float | None,
    file: str,
    line: int,
) -> Case:
    from .yaml_case import validate

    issue: dict[str, Any] = {
        "name": isnr,
        "description": cell.get("prname") or None,
        "scale": {"min": SCALE[0], "max": SCALE[1]},
    }
    if rp is not None:
        issue["status_quo"] = {"value": rp, "source": "DEU III rp (reference point)"}
    data = {
        "name": isnr,
        "description": f"DEU III issue {isnr} ({cell.get('prname', '')})",
        "sources": {"DEU III": "Arregui & Perarnaud (2021), doi:10.34810/data53"},
        "issues": [issue],
        "actors": [
            {
                "name": ACTOR_NAMES.get(code, code),
                "group": "EU institution" if code in INSTITUTIONS else "member state",
                "capability": cap,
                "positions": {isnr: pos},
                "saliences": {isnr: sal / 100.0},
            }
            for (code, pos, sal), cap in zip(present, caps, strict=True)
        ],
        "meta": {"deu_line": line},
    }
    try:
        return validate(data, file=file)
    except CaseError as exc:
        raise exc.located(file=file, line=line) from None
