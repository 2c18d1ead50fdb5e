"""Test helpers for alliancelab and for anyone testing an engine against its contract:

* :func:`check_engine` -- the engine contract as one call, as scikit-learn ships
  ``check_estimator`` (:mod:`alliancelab.testing.engine_checks`);
* Hypothesis strategies for random valid cases and the case transformations the contract is
  stated in (:mod:`alliancelab.testing.strategies`).

This side package needs Hypothesis, which the runtime package does not:
``pip install alliancelab[testing]``. No module of alliancelab imports it.
"""

try:
    import hypothesis  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        "alliancelab.testing needs Hypothesis, which is not installed: "
        "pip install alliancelab[testing]"
    ) from exc

from .engine_checks import CHECKS, EngineContractError, check_engine
from .strategies import (
    TYPICAL_SCALES,
    case_dicts,
    cases,
    names,
    notes,
    permutations_of,
    permuted,
    problems,
    scaled_capabilities,
    scales,
    unanimous_cases,
)

__all__ = [
    "CHECKS",
    "TYPICAL_SCALES",
    "EngineContractError",
    "case_dicts",
    "cases",
    "check_engine",
    "names",
    "notes",
    "permutations_of",
    "permuted",
    "problems",
    "scaled_capabilities",
    "scales",
    "unanimous_cases",
]
