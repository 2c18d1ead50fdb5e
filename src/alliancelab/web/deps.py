"""What the routes get from the app (FastAPI dependencies): its settings, workspace, jobs
and the engines available on this installation, kept in ``app.state``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from .. import MODELS
from ..core.errors import AllianceLabError
from ..models.bargaining import engine_class
from .jobs import Jobs
from .settings import Settings
from .workspace import Workspace


def available_models() -> list[str]:
    """Engines whose module imports on this installation."""
    out = []
    for m in MODELS:
        try:
            engine_class(m)
        except (AllianceLabError, ImportError):
            continue
        out.append(m)
    return out


def check_models(chosen: list[str], available: list[str], field: str) -> None:
    """A one-line error for the first of ``chosen`` that is not ``available``."""
    for m in chosen:
        if m not in available:
            raise AllianceLabError(f"engine {m!r} is not available in this installation; "
                                   f"available: {', '.join(available)}", field=field)


def _settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def _workspace(request: Request) -> Workspace:
    return request.app.state.workspace  # type: ignore[no-any-return]


def _jobs(request: Request) -> Jobs:
    return request.app.state.jobs  # type: ignore[no-any-return]


def _models(request: Request) -> list[str]:
    return request.app.state.models  # type: ignore[no-any-return]


SettingsDep = Annotated[Settings, Depends(_settings)]
WorkspaceDep = Annotated[Workspace, Depends(_workspace)]
JobsDep = Annotated[Jobs, Depends(_jobs)]
ModelsDep = Annotated[list[str], Depends(_models)]
