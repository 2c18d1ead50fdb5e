"""alliancelab: model, forecast and stress-test alliance politics.

>>> import alliancelab
>>> case = alliancelab.read_case("case.yaml")                # doctest: +SKIP
>>> result = alliancelab.forecast(case, model="bdm", rng=1)  # doctest: +SKIP
>>> result.to_frame()                                        # doctest: +SKIP
"""

from .api import forecast
from .core.case import Actor, Case, Issue, Value
from .core.errors import AllianceLabError, CaseError
from .core.result import Forecast
from .formats import format_case, parse_case, read_case, write_case
from .models.bargaining import ENGINES, Problem

MODELS = tuple(ENGINES)

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
