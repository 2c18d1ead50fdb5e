"""Reading one numeric CSV cell, with the one-line error every CSV reader gives."""

from __future__ import annotations

import math

from ..core.errors import CaseError


def parse_number(cell: str, file: str, line: int, field: str) -> float:
    """``cell`` as a finite float, or a :class:`CaseError` naming file, line and field."""
    text = cell.strip()
    if not text:
        raise CaseError("missing value", file=file, line=line, field=field)
    try:
        value = float(text)
    except ValueError:
        raise CaseError(f"not a number: {text!r}", file=file, line=line, field=field) from None
    if not math.isfinite(value):
        raise CaseError(f"must be a finite number, got {text!r}", file=file, line=line, field=field)
    return value
