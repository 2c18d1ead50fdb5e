"""Negotiation engines, one module each, behind one registry."""

from __future__ import annotations

import importlib

from ...core.problem import Problem
from .base import Engine, Outcome

#: model name -> "module:Class"; modules are imported on first use.
ENGINES: dict[str, str] = {
    "compromise": "compromise:Compromise",
    "median": "median:Median",
    "nash": "nash:Nash",
    "bdm": "bdm:BDM",
    "bdm-scholz": "bdm_scholz:BDMScholz",
    "smp": "smp:SMP",
    "exchange": "exchange:Exchange",
}


def engine_class(model: str) -> type[Engine]:
    """The engine class registered under ``model``."""
    from ...core.errors import AllianceLabError

    try:
        target = ENGINES[model]
    except KeyError:
        raise AllianceLabError(
            f"unknown model {model!r}; choose one of {', '.join(ENGINES)}", field="model"
        ) from None
    module, cls = target.split(":")
    return getattr(importlib.import_module(f"{__name__}.{module}"), cls)  # type: ignore[no-any-return]


__all__ = ["ENGINES", "Engine", "Outcome", "Problem", "engine_class"]
