"""``/api/info``: the engines available, the samplers, the limits, the case given on
the command line, and the report's theme (plotly template layout and engine colours,
:mod:`alliancelab.report.theme`) that the page's charts use."""

from __future__ import annotations

from typing import Any

from ... import MODELS
from ...core import limits
from ...explore import SAMPLERS
from ...report.theme import MODEL_COLOURS, template_layout
from ..deps import ModelsDep, SettingsDep
from ..routing import api_router
from ..version import version

router = api_router("info")


@router.get("/info", summary="Engines, limits and the case given on the command line")
def info(settings: SettingsDep, models: ModelsDep) -> dict[str, Any]:
    return {
        "version": version(),
        "models": models,
        "all_models": list(MODELS),
        "samplers": list(SAMPLERS),
        "max_upload_bytes": settings.max_upload_bytes,
        "max_draws": settings.max_draws,
        "max_experiments": settings.max_experiments,
        "max_jobs": settings.max_jobs,
        "request_seconds": settings.request_seconds,
        "limits": limits.current(),
        "initial_case": settings.initial_case,
        "theme": {"layout": template_layout(), "models": MODEL_COLOURS},
    }
