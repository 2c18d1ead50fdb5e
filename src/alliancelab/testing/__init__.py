"""Test helpers for alliancelab and for anyone testing an engine against its contract:
Hypothesis strategies for random valid cases (:mod:`alliancelab.testing.strategies`)."""

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
    "TYPICAL_SCALES",
    "case_dicts",
    "cases",
    "names",
    "notes",
    "permutations_of",
    "permuted",
    "problems",
    "scaled_capabilities",
    "scales",
    "unanimous_cases",
]
