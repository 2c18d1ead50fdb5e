"""``/api/info``: the engines available, the samplers, the limits and the case given on
the command line."""

from __future__ import annotations

from typing import Any

from ... import MODELS
from ...explore import SAMPLERS
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
        "initial_case": settings.initial_case,
    }
