"""The building blocks every HTML report shares: a figure as an inline ``<div>``, a frame as
an escaped table, numbers for people (:mod:`alliancelab.core.units`, the one formatter of the
console, the reports and the web app), an issue's scale in words, the page templates."""

from __future__ import annotations

import html
import re
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..core import units

PLOT_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["lasso2d", "select2d"],
    "toImageButtonOptions": {"format": "png", "scale": 2},
}

def fig_html(fig: go.Figure | None, div_id: str) -> str:
    """A figure as a ``<div>`` plus its inline script (no plotly.js; the page has it once)."""
    if fig is None:
        return ""
    return str(fig.to_html(full_html=False, include_plotlyjs=False, include_mathjax=False,
                           config=PLOT_CONFIG, div_id=f"fig-{div_id}"))


def _fmt(x: Any) -> str:
    if isinstance(x, float | np.floating):
        return "" if not np.isfinite(x) else units.number(float(x))
    return str(x)


def table_html(df: pd.DataFrame, *, numeric: tuple[str, ...] | None = None) -> str:
    """A DataFrame as an escaped HTML table; numeric columns right-aligned."""
    if df is None or df.empty:
        return "<p><i>(empty)</i></p>"
    cols = list(df.columns)
    num = set(numeric if numeric is not None else
              [c for c in cols if pd.api.types.is_numeric_dtype(df[c])])
    head = "".join(
        f'<th class="num">{html.escape(str(c))}</th>' if c in num
        else f"<th>{html.escape(str(c))}</th>"
        for c in cols
    )
    body = []
    for row in df.itertuples(index=False):
        cells = []
        for c, v in zip(cols, row, strict=True):
            cls = ' class="num"' if c in num else ""
            cells.append(f"<td{cls}>{html.escape(_fmt(v))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<table class="tbl"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>')


def num(x: float) -> str:
    """A number for people: thousands separators, no exponent, about 3-4 significant digits
    (:func:`alliancelab.core.units.number`); ``n/a`` when not finite."""
    return units.number(x)


def p_value(p: float) -> str:
    """A (quasi-)p-value: two significant digits, ``< 0.001`` below that."""
    if not np.isfinite(p):
        return units.MISSING
    return "< 0.001" if p < 0.001 else f"{p:.2g}" if p < 0.1 else f"{p:.2f}"


def _scale_end(x: float, label: str | None) -> str:
    """One end of a scale: its label alone when it already states the number
    (``40,000 (reinforced)``, ``US$10 bn a year``), else ``number (label)``."""
    text = f"{x:,.0f}" if float(x).is_integer() else f"{x:,g}"
    if not label:
        return text
    bare = f"{x:g}"
    if re.search(rf"(?<![\d.]){re.escape(bare)}(?![\d])", label.replace(",", "")):
        return label
    return f"{text} ({label})"


def scale_text(scale: Any) -> str:
    """An issue's scale in words: ``0 (full withdrawal) – 40,000 (reinforced)``."""
    return f"{_scale_end(scale.min, scale.low)} \u2013 {_scale_end(scale.max, scale.high)}"


def template(name: str) -> str:
    """The text of the page template ``name`` (``report/templates``)."""
    return (resources.files(__package__) / "templates" / name).read_text(encoding="utf-8")
