"""The pages: the app (``/``), plotly.js from the installed plotly package (the app never
fetches from the net), and the API reference at ``/docs`` rendered here from the OpenAPI
description (FastAPI's own Swagger UI loads its assets from a CDN)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ..apidocs import render_docs

STATIC = resources.files("alliancelab.web") / "static"

router = APIRouter(include_in_schema=False)


@lru_cache(maxsize=1)
def plotly_js() -> bytes:
    """plotly.js from the installed plotly package."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs().encode("utf-8")


@router.get("/")
def index() -> HTMLResponse:
    return HTMLResponse((STATIC / "index.html").read_text(encoding="utf-8"))


@router.get("/static/plotly.min.js")
def plotly() -> Response:
    return Response(plotly_js(), media_type="application/javascript",
                    headers={"Cache-Control": "max-age=86400"})


@router.get("/docs")
def docs(request: Request) -> HTMLResponse:
    return HTMLResponse(render_docs(request.app.openapi()))
