"""The HTTP JSON API of ``alliancelab serve`` (FastAPI; OpenAPI at ``/openapi.json``, a
reference page at ``/docs``), assembled from one router per resource (:mod:`.routers`).

The pages in ``static/`` use only this API. Everything the app reads or writes lives in its
data directory (:mod:`.workspace`); the checks every request passes (Host, token,
cross-site, size) are in :mod:`.security`; errors have one shape, ``{"detail": ...}``
(:mod:`.errors`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from .deps import available_models
from .errors import install_error_handlers
from .jobs import Jobs
from .routers import ROUTERS
from .routers.pages import STATIC
from .security import install_guard
from .settings import Settings
from .version import version
from .workspace import Workspace

__all__ = ["Settings", "create_app"]

DESCRIPTION = (
    "Edit a negotiation case, forecast it with any engine, compare shocks and levers, "
    "explore thousands of variants and read the report - the JSON API behind the pages of "
    "`alliancelab serve`. Errors are `{\"detail\": \"<one line>\"}`."
)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """On shutdown (SIGTERM, Ctrl-C) cancel every job, so the process stops within
    seconds: a running job stops at its next progress report."""
    yield
    app.state.jobs.shutdown()


def create_app(settings: Settings) -> FastAPI:
    """The web app over ``settings.data_dir``."""
    app = FastAPI(title="alliancelab", version=version(), description=DESCRIPTION,
                  docs_url=None, redoc_url=None,  # /docs is ours: Swagger UI needs a CDN
                  lifespan=lifespan)
    app.state.settings = settings
    app.state.workspace = Workspace(settings.data_dir)
    app.state.jobs = Jobs(limit=settings.max_jobs)
    app.state.models = available_models()
    install_guard(app, settings)
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    return app
