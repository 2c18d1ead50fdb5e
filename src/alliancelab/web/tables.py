"""Frames and figures as JSON for the pages."""

from __future__ import annotations

import json
from typing import Any

from ..core.result import jsonable


def records(df: Any) -> list[dict[str, Any]]:
    """A pandas frame as a list of records (index included when named); ``[]`` for None."""
    if df is None:
        return []
    if any(n is not None for n in df.index.names):
        df = df.reset_index()
    return jsonable(df.to_dict(orient="records"))  # type: ignore[no-any-return]


def figure(fig: Any) -> dict[str, Any]:
    """A plotly figure as its JSON (data and layout)."""
    return json.loads(fig.to_json())  # type: ignore[no-any-return]
