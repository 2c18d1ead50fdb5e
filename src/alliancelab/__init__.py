"""alliancelab: model, forecast and stress-test alliance politics.

>>> import alliancelab
>>> case = alliancelab.read_case("case.yaml")                # doctest: +SKIP
>>> result = alliancelab.forecast(case, model="bdm", rng=1)  # doctest: +SKIP
>>> result.to_frame()                                        # doctest: +SKIP

The public names are loaded on first use (PEP 562 ``__getattr__``): ``import alliancelab``
imports neither NumPy nor pydantic, so the command line starts quickly (issue 15) and
``import alliancelab.cli`` pays only for what it uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .api import forecast
    from .core.case import Actor, Case, Issue, Value
    from .core.errors import AllianceLabError, CaseError
    from .core.result import Forecast
    from .formats import format_case, parse_case, read_case, write_case
    from .models.bargaining import Problem

    MODELS: tuple[str, ...]

__all__ = [
    "MODELS",
    "Actor",
    "AllianceLabError",
    "Case",
    "CaseError",
    "Forecast",
    "Issue",
    "Problem",
    "Value",
    "forecast",
    "format_case",
    "parse_case",
    "read_case",
    "write_case",
]


def __getattr__(name: str) -> Any:
    """Import a public name on first access and keep it in the module's namespace."""
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from . import api, formats
    from .core import case, errors, result
    from .models import bargaining

    found = {
        "MODELS": tuple(bargaining.ENGINES),
        "Actor": case.Actor, "Case": case.Case, "Issue": case.Issue, "Value": case.Value,
        "AllianceLabError": errors.AllianceLabError, "CaseError": errors.CaseError,
        "Forecast": result.Forecast, "Problem": bargaining.Problem, "forecast": api.forecast,
        "format_case": formats.format_case, "parse_case": formats.parse_case,
        "read_case": formats.read_case, "write_case": formats.write_case,
    }
    globals().update(found)
    return found[name]


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
