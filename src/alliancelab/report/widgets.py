"""The building blocks every HTML report shares: a figure as plain plotly JSON
(:class:`Figure`) and as an inline ``<div>``, a frame as an escaped table, numbers for people
(:mod:`alliancelab.core.units`, the one formatter of the console, the reports and the web
app), an issue's scale in words, the page templates."""

from __future__ import annotations

import base64
import html
import re
from functools import cached_property
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from ..core import units

PLOT_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["lasso2d", "select2d"],
    "toImageButtonOptions": {"format": "png", "scale": 2},
}


class Figure(dict[str, Any]):
    """A figure as plotly's JSON, ``{"data": [trace, ...], "layout": {...}}``, built as plain
    data (numbers as lists or numpy arrays) without the validation of plotly's graph
    objects: :func:`fig_html` embeds it as it is. Any other attribute (``fig.data``,
    ``fig.layout``, ``fig.to_json()``, ``fig.write_html(...)``) is that of the validated
    ``plotly.graph_objects.Figure`` of the same JSON (:attr:`figure`), made on first use: change
    the dict before, not after."""

    @cached_property
    def figure(self) -> go.Figure:
        """The ``plotly.graph_objects.Figure`` of this JSON (validated once)."""
        return go.Figure(self)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.figure, name)


#: plotly.js's names of the numpy dtypes it reads as typed arrays
_TYPED = {"int8": "i1", "uint8": "u1", "int16": "i2", "uint16": "u2", "int32": "i4",
          "uint32": "u4", "float32": "f4", "float64": "f8"}
#: keys whose arrays plotly.py never encodes
_PLAIN_KEYS = frozenset({"geojson", "layer", "layers", "range"})


def _typed_array(v: np.ndarray) -> Any:
    """A numeric numpy array as the typed array (base64) plotly.py sends for it (64-bit
    integers narrowed to the smallest that holds them); other arrays as they are."""
    if v.size == 0 or v.dtype.kind not in "iuf":
        return v
    if v.dtype == np.int64 or v.dtype == np.uint64:
        lo, hi = v.min(), v.max()
        kinds = ("int8", "int16", "int32") if v.dtype == np.int64 else ("uint8", "uint16",
                                                                        "uint32")
        narrow = next((k for k in kinds if np.iinfo(k).min <= lo and hi <= np.iinfo(k).max),
                      None)
        if narrow is None:
            return v
        v = v.astype(narrow)
    short = _TYPED.get(str(v.dtype))
    if short is None:
        return v
    spec = {"dtype": short, "bdata": base64.b64encode(v.tobytes()).decode("ascii")}
    if v.ndim > 1:
        spec["shape"] = str(v.shape)[1:-1]
    return spec


def _encoded(obj: Any) -> Any:
    """``obj`` (plotly JSON) with its numpy arrays as plotly.py's typed arrays, as
    ``plotly.graph_objects.Figure.to_dict`` encodes them; ``obj`` itself is left as it is."""
    if isinstance(obj, dict):
        return {k: v if k in _PLAIN_KEYS else
                _typed_array(v) if isinstance(v, np.ndarray) else _encoded(v)
                for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_encoded(v) for v in obj]
    return obj


def fig_html(fig: Figure | go.Figure | None, div_id: str) -> str:
    """A figure as a ``<div>`` plus its inline script (no plotly.js; the page has it once). A
    :class:`Figure` is embedded as it is, without plotly's validation."""
    if fig is None:
        return ""
    opts: dict[str, Any] = dict(full_html=False, include_plotlyjs=False, include_mathjax=False,
                                config=PLOT_CONFIG, div_id=f"fig-{div_id}")
    if isinstance(fig, Figure):
        return str(pio.to_html(_encoded(fig), validate=False, **opts))
    return str(fig.to_html(**opts))


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
