"""The building blocks every HTML report shares: a figure as an inline ``<div>``, a frame as
an escaped table, numbers for people, the page templates."""

from __future__ import annotations

import html
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

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
        x = float(x)
        if not np.isfinite(x):
            return ""
        if abs(x) >= 1000:
            return f"{x:,.0f}" if x == round(x) or abs(x) >= 10000 else f"{x:,.1f}"
        return f"{x:.4g}"
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
    """A number for people: thousands separators, no exponent, about 3-4 significant digits."""
    if not np.isfinite(x):
        return "n/a"
    a = abs(x)
    if a >= 1000:
        return f"{x:,.0f}"
    if a >= 100:
        return f"{x:.0f}"
    if a >= 10:
        return f"{x:.1f}"
    if a >= 1:
        return f"{x:.2f}"
    return f"{x:.3f}"


def template(name: str) -> str:
    """The text of the page template ``name`` (``report/templates``)."""
    return (resources.files(__package__) / "templates" / name).read_text(encoding="utf-8")
