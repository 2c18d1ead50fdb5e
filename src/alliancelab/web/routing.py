"""The routers' common base: request bodies parsed as strict JSON.

Python's ``json`` module reads ``NaN``, ``Infinity`` and ``-Infinity``, which JSON does not
have; a body holding one would reach the engines (or fail when echoed back). Every router of
the app uses :class:`StrictJSONRoute`, which refuses them as invalid JSON (422, one line).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute


def _refuse_constant(name: str) -> Any:
    raise json.JSONDecodeError(f"{name} is not a JSON number; give a finite number", name, 0)


class StrictJSONRequest(Request):
    """A request whose JSON body may not hold ``NaN`` or infinities."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = json.loads(await self.body(), parse_constant=_refuse_constant)
        return self._json


class StrictJSONRoute(APIRoute):
    """An API route that parses its body with :class:`StrictJSONRequest`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict(request: Request) -> Response:
            return await handler(StrictJSONRequest(request.scope, request.receive))

        return strict


def api_router(tag: str) -> APIRouter:
    """A router of the JSON API (strict JSON bodies), its operations tagged ``tag``."""
    return APIRouter(prefix="/api", tags=[tag], route_class=StrictJSONRoute)
