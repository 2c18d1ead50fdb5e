"""The checks every request passes before it reaches a route (one HTTP middleware).

* **Host** - without a token, a request whose ``Host`` is not a loopback name is refused
  (403): DNS rebinding.
* **Token** - with one, every request must carry it (``Authorization: Bearer``, the
  ``X-AllianceLab-Token`` header, the ``token`` query parameter or the cookie the first
  page sets); 401 otherwise.
* **Cross-site** - a state-changing request (POST, PUT, PATCH, DELETE) sent by a browser
  from another origin is refused (403): its ``Origin`` must be the app's own, and its
  ``Sec-Fetch-Site`` (when sent) ``same-origin`` or ``none``. Clients that are not browsers
  send neither header and pass.
* **Size** - a body over the upload limit is refused from its ``Content-Length`` (413).

Responses get a Content-Security-Policy of ``default-src 'self'`` (the app works offline),
``nosniff`` and ``no-referrer``.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from fastapi import FastAPI, Request, Response

from .errors import error_response
from .settings import Settings

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
TOKEN_COOKIE = "alliancelab_token"
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
    "connect-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'none'"
)


def _host_name(host: str) -> str:
    """``127.0.0.1:8765`` -> ``127.0.0.1``; ``[::1]:8765`` -> ``[::1]``."""
    host = host.lower()
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0]


def host_refusal(request: Request, settings: Settings) -> Response | None:
    host = _host_name(request.headers.get("host") or "")
    if settings.token is None and settings.check_host and host not in LOOPBACK_HOSTS:
        return error_response(403, "requests must address the app by a loopback name "
                              "(127.0.0.1, localhost)")
    return None


def _same(given: str | None, token: str) -> bool:
    # bytes, so a header holding non-ASCII characters is a wrong token, not a TypeError
    return bool(given) and secrets.compare_digest(str(given).encode("utf-8", "replace"),
                                                  token.encode("utf-8"))


def token_refusal(request: Request, settings: Settings) -> Response | None:
    if settings.token is None:
        return None
    auth = request.headers.get("authorization", "")
    given = [
        auth[7:] if auth.lower().startswith("bearer ") else None,
        request.headers.get("x-alliancelab-token"),
        request.cookies.get(TOKEN_COOKIE),
        request.query_params.get("token"),
    ]
    if any(_same(g, settings.token) for g in given):
        return None
    return error_response(401, "a token is required: open the address 'alliancelab serve' "
                          "printed (…?token=…)")


def cross_site_refusal(request: Request) -> Response | None:
    """403 for a state-changing request a browser sent from a page of another origin."""
    if request.method not in STATE_CHANGING:
        return None
    site = request.headers.get("sec-fetch-site")
    origin = request.headers.get("origin")
    ok = site in (None, "same-origin", "none")
    if ok and origin is not None:
        parts = urlsplit(origin)
        host = (request.headers.get("host") or "").lower()
        ok = parts.scheme in ("http", "https") and parts.netloc.lower() == host
    if ok:
        return None
    return error_response(403, f"cross-site request refused (origin {origin or 'unknown'}): "
                          "state-changing requests must come from the app's own pages")


def size_refusal(request: Request, settings: Settings) -> Response | None:
    if request.method not in ("POST", "PUT", "PATCH"):
        return None
    length = request.headers.get("content-length")
    if length is None and request.headers.get("transfer-encoding"):
        return error_response(411, "a Content-Length is required")
    try:
        size = int(length or 0)
    except ValueError:
        return error_response(400, "bad Content-Length")
    if size > settings.max_upload_bytes + 64 * 1024:
        return error_response(413, f"request too large ({size} bytes; limit "
                              f"{settings.max_upload_bytes} bytes)")
    return None


def install_guard(app: FastAPI, settings: Settings) -> None:
    """Register the middleware that runs every check above."""

    @app.middleware("http")
    async def guard(request: Request,
                    call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        refusal = (host_refusal(request, settings) or token_refusal(request, settings)
                   or cross_site_refusal(request) or size_refusal(request, settings))
        if refusal is not None:
            return refusal
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        query_token = request.query_params.get("token")
        if settings.token is not None and _same(query_token, settings.token):
            response.set_cookie(TOKEN_COOKIE, settings.token, httponly=True, samesite="strict")
        return response
