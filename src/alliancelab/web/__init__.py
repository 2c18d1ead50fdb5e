"""The local web app of ``alliancelab serve``: an HTTP JSON API (:mod:`.app`, described by
OpenAPI at ``/openapi.json``) and the pages that use it (``static/``). See docs/web.md."""

from __future__ import annotations

from .app import Settings, create_app

__all__ = ["Settings", "create_app"]
