"""The JSON API, one router per resource: :mod:`.info`, :mod:`.cases`, :mod:`.forecasts`,
:mod:`.runs` and :mod:`.explorations` (plus the pages, :mod:`.pages`)."""

from __future__ import annotations

from . import cases, explorations, forecasts, info, pages, runs

ROUTERS = (pages.router, info.router, cases.router, forecasts.router, runs.router,
           explorations.router)

__all__ = ["ROUTERS"]
