"""A command's outputs: files written atomically, checked before the work starts, and a
file-system failure reported as the user's one-line error (exit 2), never a traceback.

Output paths are looked at before a long job runs with
:func:`alliancelab.core.io.check_writable` (a folder where a file is wanted, a parent that is
a regular file, a read-only or unwritable place); :func:`write_text` writes through
:func:`alliancelab.core.io.atomic_write_text` and turns an :class:`OSError` (including a full
disk) into :class:`~alliancelab.core.errors.AllianceLabError`; :func:`writing` does the same
around any other writer. :func:`print_json` and :func:`print_csv` print a command's results
on stdout.

Tables a person reads: :func:`fitted_table` lays out a rich table in the console's width so
that numbers are never cut (a numeric column is exactly as wide as its longest cell; text
columns - names, units - take the rest and wrap) or says that it cannot
(``None``, and the command chooses a narrower layout). Numbers are formatted beforehand with
:mod:`alliancelab.core.units`. Only the standard library is imported at module level (rich
when a table is built).
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from ..core.errors import AllianceLabError
from ..core.io import check_writable, os_reason

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

@contextlib.contextmanager
def writing(path: str | os.PathLike[str], option: str | None = None) -> Iterator[None]:
    """Around a write of ``path``: an :class:`OSError` becomes a one-line user error naming
    the path and the option it came from."""
    try:
        yield
    except OSError as exc:
        raise AllianceLabError(f"cannot write: {os_reason(exc)}", file=str(path),
                               field=option) from None


def write_text(path: str | os.PathLike[str], text: str, option: str | None = None) -> Path:
    """Write ``text`` atomically (a temporary file renamed into place; parents created)."""
    from ..core.io import atomic_write_text

    p = check_writable(path, option)
    with writing(p, option):
        atomic_write_text(p, text)
    return p


def print_json(document: Any) -> None:
    """One JSON document on stdout (NumPy numbers and NaN made JSON-safe)."""
    from ..core.result import jsonable

    sys.stdout.write(json.dumps(jsonable(document), indent=2) + "\n")


def csv_text(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """Rows as CSV text with a header (``None`` as an empty cell)."""
    import io

    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n",
                       extrasaction="ignore")
    w.writeheader()
    for row in rows:
        w.writerow({k: "" if row.get(k) is None else row.get(k) for k in columns})
    return buf.getvalue()


def print_csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> None:
    sys.stdout.write(csv_text(rows, columns))


# --------------------------------------------------------------------------- console tables
#: a text column (names, units) is never made narrower than this, unless its text is shorter.
TEXT_MIN = 12
#: ``text_min`` that keeps every text column at its natural width (nothing wraps).
NO_WRAP = 10**6


class Col(NamedTuple):
    """A column of :func:`fitted_table`: its header, and whether it holds numbers (right
    aligned, never wrapped or cut) or text (wrapped to the width left)."""

    header: str
    numeric: bool = True


def console(*, stderr: bool = False) -> Console:
    """The rich console a command prints on (its width from the terminal or ``COLUMNS``,
    80 when piped); no automatic colouring of numbers."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def cell_width(text: str) -> int:
    """Columns the longest line of ``text`` takes."""
    return max((len(line) for line in str(text).splitlines()), default=0)


def wrap_text(text: str, width: int) -> str:
    """``text`` in lines of at most ``width`` characters, broken after a space, ``_``, ``-``,
    ``.``, ``+`` or ``/`` where possible (``strategic_`` / ``flexibility``), else cut into
    pieces; the lines already in ``text`` are kept."""
    out: list[str] = []
    for line in str(text).splitlines() or [""]:
        parts = re.findall(r"[^ _/.+-]*[ _/.+-]+|[^ _/.+-]+$", line) or [line]
        cur = ""
        for part in parts:
            if cur and len((cur + part).rstrip()) > width:
                out.append(cur.rstrip())
                cur = ""
            while len(part.rstrip()) > width:
                out.append(part[:width])
                part = part[width:]
            cur += part
        out.append(cur.rstrip())
    return "\n".join(out)


def _natural(col: Col, cells: Sequence[str]) -> int:
    header = max((len(w) for w in col.header.split()), default=0) if col.numeric \
        else len(col.header)
    return max([header, *(cell_width(c) for c in cells)])


def _shrink(widths: list[int], floors: list[int], room: int) -> list[int] | None:
    """Narrow the widest text columns, one column at a time, until they fit in ``room``."""
    widths = list(widths)
    while sum(widths) > room:
        k = max(range(len(widths)), key=lambda i: (widths[i] - floors[i], widths[i]))
        if widths[k] <= floors[k]:
            return None
        widths[k] -= 1
    return widths


def column_widths(columns: Sequence[Col], rows: Sequence[Sequence[str]], width: int, *,
                  text_min: int = TEXT_MIN) -> list[int] | None:
    """The width of each column so that the table fits in ``width`` characters, numeric
    columns at their natural width, text columns at least ``text_min`` (or their natural
    width, if less); ``None`` when it cannot fit."""
    natural = [_natural(c, [r[k] for r in rows]) for k, c in enumerate(columns)]
    text = [k for k, c in enumerate(columns) if not c.numeric]
    room = width - (3 * len(columns) - 1) - sum(
        w for k, w in enumerate(natural) if k not in text)
    if room < 0:
        return None
    fitted = _shrink([natural[k] for k in text],
                     [min(natural[k], text_min) for k in text], room) if text else []
    if fitted is None:
        return None
    out = list(natural)
    for k, w in zip(text, fitted, strict=True):
        out[k] = w
    # room to spare once every text column is whole: a numeric header on one line
    spare = width - (3 * len(columns) - 1) - sum(out)
    if fitted == [natural[k] for k in text]:
        for k, c in enumerate(columns):
            grow = len(c.header) - out[k] if c.numeric else 0
            if 0 < grow <= spare:
                out[k] += grow
                spare -= grow
    return out


def fitted_table(columns: Sequence[Col], rows: Sequence[Sequence[str]], width: int, *,
                 title: str | None = None, caption: str | None = None,
                 text_min: int = TEXT_MIN, show_header: bool = True) -> Table | None:
    """A rich table of ``rows`` (cells as text, ``\\n`` for a second line) no wider than
    ``width``, or ``None`` when its numbers cannot fit (see :func:`column_widths`). Text
    cells are wrapped by :func:`wrap_text`; a numeric column's header wraps at spaces."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    widths = column_widths(columns, rows, width, text_min=text_min)
    if widths is None:
        return None
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, title=title, caption=caption,
                  title_justify="left", caption_justify="left", title_style="bold",
                  show_header=show_header)
    for col, w in zip(columns, widths, strict=True):
        table.add_column(wrap_text(col.header, w), justify="right" if col.numeric else "left",
                         no_wrap=True, min_width=w if col.numeric else None, max_width=w)
    for row in rows:
        table.add_row(*(Text(c if col.numeric else wrap_text(c, w))
                        for c, col, w in zip(row, columns, widths, strict=True)))
    return table


def frame_table(df: Any, width: int, *, title: str | None = None,
                index: bool = True) -> Table:
    """A pandas DataFrame as a fitted table for people: each numeric column at one precision
    (:func:`alliancelab.core.units.column`: no exponent, thousands separated), the index (if
    ``index``) and text columns wrapped to fit ``width``."""
    from ..core import units

    frame = df.reset_index() if index else df
    numeric = [bool(frame[c].dtype.kind in "iuf") for c in frame.columns]
    cols = [Col(str(c), n) for c, n in zip(frame.columns, numeric, strict=True)]
    texts = [units.column(frame[c]) if n else [str(v) for v in frame[c]]
             for c, n in zip(frame.columns, numeric, strict=True)]
    rows = [list(r) for r in zip(*texts, strict=True)]
    table = fitted_table(cols, rows, width, title=title) or fitted_table(
        cols, rows, width, title=title, text_min=4)
    if table is None:  # too many numeric columns for the width: let rich wrap them
        table = fitted_table([Col(c.header, False) for c in cols], rows, width, title=title,
                             text_min=1)
    assert table is not None
    return table
