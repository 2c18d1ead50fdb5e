"""Short displays of results for a console and a notebook: one-line reprs and compact HTML.

Every result type (:class:`~alliancelab.core.case.Case`, :class:`~alliancelab.core.result.
Forecast`, :class:`~alliancelab.jobs.results.RunResults`, :class:`~alliancelab.explore.
Exploration`, :class:`~alliancelab.analysis.discovery.PrimResult`) shows itself with
:func:`short` (a ``repr`` of at most :data:`MAX_REPR` characters naming what it is) and
:func:`html_card` (its ``_repr_html_``: a title, a line of facts and a small table), so a
notebook cell shows a summary instead of every array.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from html import escape

#: the longest repr of a result (a notebook or a console line, not a dump).
MAX_REPR = 300
#: rows of a table in an HTML card before the rest is summarised as "... N more".
MAX_ROWS = 20


def number(x: float | int | None) -> str:
    """``x`` at a precision a person reads: thousands separated and no decimals from 1000
    on, two decimals from 1, three significant digits below; ``-`` for None or NaN."""
    if x is None:
        return "-"
    v = float(x)
    if math.isnan(v):
        return "-"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v == int(v) and abs(v) < 1e15:
        return f"{int(v):,}"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 1:
        return f"{v:.2f}"
    return f"{v:.3g}"


def names(items: Sequence[str], limit: int = 4) -> str:
    """The first ``limit`` names joined by commas, then ``+N more``."""
    shown = ", ".join(items[:limit])
    return shown + (f", +{len(items) - limit} more" if len(items) > limit else "")


def short(kind: str, *facts: str) -> str:
    """``Kind(fact; fact; ...)`` cut to :data:`MAX_REPR` characters."""
    text = f"{kind}({'; '.join(f for f in facts if f)})"
    if len(text) > MAX_REPR:
        text = text[: MAX_REPR - 2] + "…)"
    return text


def html_card(title: str, facts: Iterable[str], header: Sequence[str] = (),
              rows: Sequence[Sequence[object]] = ()) -> str:
    """A compact HTML summary: a bold title, the facts on one line, and a table of ``rows``
    (at most :data:`MAX_ROWS`; numbers formatted by :func:`number`)."""
    parts = [f"<div class='alliancelab-card'><strong>{escape(title)}</strong>"]
    line = " · ".join(escape(f) for f in facts if f)
    if line:
        parts.append(f"<div>{line}</div>")
    if rows:
        parts.append("<table><thead><tr>")
        parts += [f"<th style='text-align:left'>{escape(h)}</th>" for h in header]
        parts.append("</tr></thead><tbody>")
        for row in rows[:MAX_ROWS]:
            cells = "".join(f"<td style='text-align:{_align(c)}'>{escape(_cell(c))}</td>"
                            for c in row)
            parts.append(f"<tr>{cells}</tr>")
        if len(rows) > MAX_ROWS:
            parts.append(f"<tr><td colspan='{max(len(header), 1)}'>… {len(rows) - MAX_ROWS} "
                         "more</td></tr>")
        parts.append("</tbody></table>")
    parts.append("</div>")
    return "".join(parts)


def _cell(c: object) -> str:
    if isinstance(c, str | bool) or c is None:
        return "-" if c is None else str(c)
    if isinstance(c, int | float):
        return number(c)
    try:  # numpy scalars
        return number(float(c))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(c)


def _align(c: object) -> str:
    """Numbers, and text that starts like one (a band ``5.1 [4.2, 6.0]``), on the right."""
    if isinstance(c, str):
        return "right" if c[:1].isdigit() or c[:2].lstrip("-")[:1].isdigit() else "left"
    return "left" if c is None else "right"
