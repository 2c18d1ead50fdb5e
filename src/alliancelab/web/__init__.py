"""The local web app of ``alliancelab serve``: an HTTP JSON API (:mod:`.app`, one router
per resource in :mod:`.routers`, described by OpenAPI at ``/openapi.json``) and the pages
that use it (``static/``). See docs/web.md."""

from __future__ import annotations

from .app import create_app
from .settings import Settings

__all__ = ["Settings", "create_app"]
