"""The API's one error shape: ``{"detail": "<one line>"}``, with ``file``, ``line``,
``field`` (and ``draft`` for an edited case) where the error has them.

* :class:`~alliancelab.core.errors.AllianceLabError` (a user's mistake): 422 and the
  one-line message the CLI prints for the same input.
* A request the schema refuses (pydantic): 422 and one line naming the first problem
  (``n: must be >= 1, got 0``), never pydantic's JSON.
* ``HTTPException`` (404, 409, 413, 429...): its status and message.
* Anything else is a bug: 500 and its exception's type (the traceback goes to the log).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..core.errors import AllianceLabError


def error_response(status: int, detail: str, *, headers: Mapping[str, str] | None = None,
                   **extra: Any) -> JSONResponse:
    """``{"detail": detail, **extra}`` with ``status``."""
    return JSONResponse({"detail": detail, **extra}, status_code=status,
                        headers=dict(headers) if headers else None)


def user_error(exc: AllianceLabError, status: int = 422, **extra: Any) -> JSONResponse:
    """The one-line message the CLI would print, with its parts for the page."""
    return error_response(status, str(exc), file=exc.file, line=exc.line, field=exc.field,
                          **extra)


def _shown(value: Any) -> str:
    """A short, JSON-safe rendering of a refused input."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _field(loc: Sequence[Any]) -> str:
    """``("body", "levers", 0)`` -> ``levers[0]``."""
    parts = [p for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "body"


_PROBLEMS = {
    "missing": "is required",
    "extra_forbidden": "is not a field of this request",
    "greater_than_equal": "must be >= {ge}",
    "greater_than": "must be > {gt}",
    "less_than_equal": "must be <= {le}",
    "less_than": "must be < {lt}",
    "too_long": "must have at most {max_length} items",
    "string_too_long": "must be at most {max_length} characters",
    "string_pattern_mismatch": "must be a name of letters, digits, _ and - (at most 64, "
                               "no dots or slashes)",
    "literal_error": "must be one of {expected}",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "int_type": "must be a whole number",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "finite_number": "must be a finite number",
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
    "dict_type": "must be an object",
    "list_type": "must be a list",
    "string_type": "must be a string",
    "model_attributes_type": "must be a JSON object",
}


def validation_message(errors: Sequence[Any]) -> tuple[str, str]:
    """One line for pydantic's ``errors`` (the first; how many more) and its field."""
    if not errors:
        return "the request is not valid", "body"
    err = errors[0]
    field = _field(err.get("loc", ()))
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    if kind == "json_invalid":
        problem, field = f"not valid JSON ({ctx.get('error', 'decode error')})", "body"
    elif kind in _PROBLEMS:
        problem = _PROBLEMS[kind].format(**{k: str(v) for k, v in ctx.items()})
        if kind not in ("missing", "extra_forbidden"):
            problem += f", got {_shown(err.get('input'))}"
    else:
        problem = str(err.get("msg", "is not valid")).removeprefix("Value error, ")
    more = len(errors) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"{field}: {problem}{suffix}", field


async def _on_user_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AllianceLabError)
    return user_error(exc)


async def _on_invalid_request(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    message, field = validation_message(exc.errors())
    return error_response(422, message, field=field)


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return error_response(exc.status_code, str(exc.detail), headers=exc.headers)


async def _on_crash(request: Request, exc: Exception) -> JSONResponse:
    # a bug, not the client's mistake; the server still logs the traceback
    return error_response(500, f"internal error ({type(exc).__name__}); see the server's log")


def install_error_handlers(app: FastAPI) -> None:
    """Every error the app returns in the one shape."""
    app.add_exception_handler(Exception, _on_crash)
    app.add_exception_handler(AllianceLabError, _on_user_error)
    app.add_exception_handler(RequestValidationError, _on_invalid_request)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
