"""Exploratory modelling at scale, in EMA Workbench's vocabulary: uncertainties, levers,
constants, scenarios, policies, experiments, outcomes (see docs/explore.md).

>>> from alliancelab.explore import explore
>>> ex = explore(case, n=1000, sampler="lhs", levers=["joint_threat_assessment"])  # doctest: +SKIP
>>> experiments, outcomes = ex.to_ema()  # doctest: +SKIP
"""

from __future__ import annotations

from ..scenarios.uncertainty import Uncertain, constants, uncertainties
from .model import DEFAULT_MODELS, MODELS, Policy, policies
from .results import Exploration
from .runner import explore
from .samplers import SAMPLERS

__all__ = [
    "DEFAULT_MODELS",
    "MODELS",
    "SAMPLERS",
    "Exploration",
    "Policy",
    "Uncertain",
    "constants",
    "explore",
    "policies",
    "uncertainties",
]
