"""Numbers for people, in an issue's units: the one place the console, the report and the web
app turn a float into text.

The precision of a position follows its issue's scale (:func:`decimals`): a resolution of
about a thousandth of the scale's width, so troops on a 0-40,000 scale print as ``24,810``,
US$ bn on a 0-10 scale as ``1.47``, 0-100 scales with one decimal (``58.4``), and a scale in
per cent (units beginning with ``%``, e.g. ``% of GDP``) with one decimal (``2.8 %``).
Thousands are separated by commas, and no function here ever writes an exponent
(``2.481e+04``), a ``nan`` or a ``-0``.

* :func:`value` -- a position at its scale's precision (``24,810``);
* :func:`with_units` -- the same with its units (``24,810 troops``, ``2.8 % of GDP``,
  ``58.4/100`` for a scale without units);
* :func:`band` -- median and 5-95% band (``24,810 [22,300, 27,100]``);
* :func:`signed` -- a change, with its sign (``+1,263``, ``-0.12``);
* :func:`number` -- any other number (an index, a share, a count) at about 3-4 significant
  digits (``0.273``, ``12.5``, ``1,234``);
* :func:`column` -- numbers that belong together (a table column) at one precision;
* :func:`percent` -- a share in [0, 1] as per cent (``27 %``);
* :func:`parse` -- the inverse, for tests and readers: ``"24,810"`` -> ``24810.0``.

Only the standard library; :class:`~alliancelab.core.case.Scale` (or anything with ``min``,
``max`` and ``units``) gives the scale.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import NamedTuple, Protocol

__all__ = ["MISSING", "ScaleLike", "Span", "band", "column", "decimals", "is_percent", "number",
           "parse", "percent", "signed", "value", "with_units"]

#: what a missing or non-finite number prints as.
MISSING = "n/a"
#: a position's resolution, as a share of its scale's width (a thousandth: 40 troops of
#: 40,000, US$ 0.01 bn of 10, 0.1 on a 0-100 scale).
RESOLUTION = 1e-3
#: the most decimals a position gets (a 0-1 scale).
MAX_DECIMALS = 3


class ScaleLike(Protocol):
    """What the functions read of a scale (:class:`alliancelab.core.case.Scale`)."""

    @property
    def min(self) -> float: ...

    @property
    def max(self) -> float: ...

    @property
    def units(self) -> str | None: ...


class Span(NamedTuple):
    """A scale without a case: the range a number lives on, for its precision (``Span(0,
    10)``: two decimals; ``Span(0, 10_000)``: none)."""

    min: float
    max: float
    units: str | None = None


def _finite(x: object) -> float | None:
    try:
        f = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _fixed(x: float, places: int) -> str:
    """``x`` with ``places`` decimals and thousands separators, never ``-0``."""
    text = f"{x:,.{places}f}"
    if text.startswith("-") and not any(c in "123456789" for c in text):
        text = text[1:]
    return text


def is_percent(scale: ScaleLike | None) -> bool:
    """The scale is in per cent (its units begin with ``%``, e.g. ``% of GDP``)."""
    return bool(scale is not None and (scale.units or "").strip().startswith("%"))


def decimals(scale: ScaleLike | None) -> int:
    """Decimals of a position on ``scale``: a step of about :data:`RESOLUTION` of its width,
    to the nearest power of ten (0 for troops on 0-40,000, 2 for US$ bn on 0-10 and on 1-7,
    1 on 0-100, 3 on 0-1); one for a scale in per cent; 2 without a scale."""
    if scale is None:
        return 2
    if is_percent(scale):
        return 1
    width = float(scale.max) - float(scale.min)
    if not math.isfinite(width) or width <= 0:
        return 2
    return max(0, min(MAX_DECIMALS, round(-math.log10(width * RESOLUTION))))


def value(x: object, scale: ScaleLike | None) -> str:
    """A position at its scale's precision, without units (``24,810``, ``1.47``, ``58.4``);
    :data:`MISSING` when not a finite number."""
    f = _finite(x)
    return MISSING if f is None else _fixed(f, decimals(scale))


def with_units(x: object, scale: ScaleLike) -> str:
    """A position with its units: ``24,810 troops``, ``1.47 US$ bn per year``,
    ``2.8 % of GDP``; a scale without units as a point on it: ``58.4/100`` (from 0) or
    ``5.2 on the 1-7 scale``."""
    text = value(x, scale)
    if text == MISSING:
        return text
    units = (scale.units or "").strip()
    if units:
        return f"{text} {units}"
    if float(scale.min) == 0:
        return f"{text}/{float(scale.max):g}"
    return f"{text} on the {float(scale.min):g}-{float(scale.max):g} scale"


def band(p5: object, p50: object, p95: object, scale: ScaleLike | None = None) -> str:
    """Median and 5-95% band at the scale's precision: ``24,810 [22,300, 27,100]``; without
    a scale, all three with the decimals :func:`number` gives the largest of them
    (``-0.124 [-0.195, -0.058]``). The median alone when the band is missing;
    :data:`MISSING` without a median."""
    if _finite(p50) is None:
        return MISSING
    if scale is None:
        mid, lo, hi = column((p50, p5, p95))
    else:
        mid, lo, hi = value(p50, scale), value(p5, scale), value(p95, scale)
    if MISSING in (lo, hi):
        return mid
    return f"{mid} [{lo}, {hi}]"


def signed(x: object, scale: ScaleLike | None = None, *, places: int | None = None) -> str:
    """A change with its sign, at the scale's precision (``+1,263``, ``-0.12``, ``0``), or
    with ``places`` decimals; with neither as :func:`number`."""
    f = _finite(x)
    if f is None:
        return MISSING
    if places is None and scale is not None:
        places = decimals(scale)
    text = number(f) if places is None else _fixed(f, places)
    if text.startswith("-") or not any(c in "123456789" for c in text):
        return text
    return "+" + text


def number(x: object) -> str:
    """Any number for people, about 3-4 significant digits, thousands separated, no exponent:
    ``1,234``, ``123``, ``12.5``, ``1.25``, ``0.125``, ``0.0012``; ``0`` for zero."""
    f = _finite(x)
    if f is None:
        return MISSING
    if f == 0:
        return "0"
    places = _places(abs(f))
    if places > 3:  # trailing zeros cut
        return _fixed(f, places).rstrip("0").rstrip(".") or "0"
    return _fixed(f, places)


def _places(a: float) -> int:
    """Decimals :func:`number` gives a magnitude ``a`` > 0: 0 from 100, 1 from 10, 2 from 1,
    three significant digits below (at most 8 decimals)."""
    if a >= 100:
        return 0
    if a >= 10:
        return 1
    if a >= 1:
        return 2
    return min(8, 2 - math.floor(math.log10(a)))


def column(values: Iterable[object]) -> list[str]:
    """Numbers that belong together (a table's column, a band) at one precision: the
    decimals :func:`number` gives the largest of them (``0.852``, ``0.006``, ``-0.016``);
    :data:`MISSING` for a missing one."""
    nums = [_finite(x) for x in values]
    top = max((abs(f) for f in nums if f is not None), default=0.0)
    places = 0 if top == 0 else _places(top)
    return [MISSING if f is None else _fixed(f, places) for f in nums]


def percent(share: object, places: int = 0) -> str:
    """A share in [0, 1] in per cent: ``0.273`` -> ``27 %`` (``places`` decimals)."""
    f = _finite(share)
    return MISSING if f is None else f"{_fixed(100 * f, places)} %"


def parse(text: str) -> float:
    """The number a function here printed: ``"24,810"`` -> ``24810.0``, ``"+1.5"`` -> 1.5,
    ``"27 %"`` -> 27.0; ``nan`` for :data:`MISSING`. Raises :class:`ValueError` on other
    text."""
    t = text.strip().removesuffix("%").strip()
    if t == MISSING:
        return math.nan
    return float(t.replace(",", ""))
