"""Limits on every dimension of work, and the cooperative deadline of a web request.

A case or a request beyond a limit is refused when it is read, with the one-line error
(exit 2 on the command line, 422 in the web app), before any work is done. The limits and
their defaults (docs/reliability.md gives the measurements behind them):

=============== ========= ==============================================================
name            default   what it bounds
=============== ========= ==============================================================
``actors``      200       actors in a case (BDM's cost grows with n**3: 200 actors on
                          3 issues take about 11 s and 0.6 GB, 500 actors 95 s and 5 GB)
``issues``      100       issues in a case (every engine is linear in the issues; the
                          perception arrays are n * n * d)
``rounds``      10,000    rounds of the dynamics (``dynamics.rounds``) and of an engine
                          (``--rounds``)
``draws``       1,000,000 Monte Carlo draws of ``run``
``experiments`` 1,000,000 experiments of one exploration
=============== ========= ==============================================================

The web app has its own, smaller caps on what a page may start (``alliancelab serve
--max-draws``, ``--max-experiments``, ``--max-jobs``, ``--max-upload-mb``,
``--request-seconds``); see :mod:`alliancelab.web.settings`.

Raising a limit: ``--limit NAME=VALUE`` on any command (repeatable), or the environment
variable ``ALLIANCELAB_LIMITS="actors=1000,rounds=50000"`` (read at import, so process-pool
workers and ``serve`` see it too); in Python, :func:`configure`.

Deadlines: :func:`deadline` sets a time limit (or a cancel event) for the work done in the
current thread; the loops that can run long (the dynamics' rounds, the iterative engines'
rounds) call :func:`checkpoint`, which raises :class:`WorkCancelled` once it has passed, so
the thread stops instead of spinning on after its client has gone.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from .errors import AllianceLabError

__all__ = [
    "DEFAULTS",
    "ENV",
    "WEB_DEFAULTS",
    "WorkCancelled",
    "at_most",
    "checkpoint",
    "configure",
    "current",
    "deadline",
    "parse",
]

#: the limits' defaults (see the module docstring for what each bounds and why).
DEFAULTS: dict[str, int] = {
    "actors": 200,
    "issues": 100,
    "rounds": 10_000,
    "draws": 1_000_000,
    "experiments": 1_000_000,
}
#: the environment variable holding ``NAME=VALUE,...`` overrides.
ENV = "ALLIANCELAB_LIMITS"

_active: dict[str, int] = dict(DEFAULTS)


@dataclass(frozen=True)
class WebCaps:
    """The web app's own caps on what a page may start (``alliancelab serve`` options of the
    same names; :class:`alliancelab.web.settings.Settings` fields)."""

    #: largest upload or request body (``--max-upload-mb``).
    max_upload_bytes: int = 5 * 1024 * 1024
    #: most draws of a report run (``--max-draws``): 500 draws of the shipped case take
    #: about a minute.
    max_draws: int = 500
    #: most experiments of an exploration (``--max-experiments``).
    max_experiments: int = 50_000
    #: report runs and explorations queued or running at once, more get 429 (``--max-jobs``).
    max_jobs: int = 8
    #: a forecast request still working after this long stops (``--request-seconds``).
    request_seconds: float = 60.0


WEB_DEFAULTS = WebCaps()


def parse(items: Iterable[str], field: str = "--limit") -> dict[str, int]:
    """``["actors=1000", "rounds=50000,draws=10"]`` as ``{name: value}``; a one-line error
    for an unknown name or a value that is not a positive whole number."""
    out: dict[str, int] = {}
    for item in items:
        for part in str(item).split(","):
            part = part.strip()
            if not part:
                continue
            name, sep, raw = part.partition("=")
            name = name.strip()
            if not sep or name not in DEFAULTS:
                raise AllianceLabError(
                    f"expected NAME=VALUE with NAME one of {', '.join(DEFAULTS)}, got {part!r}",
                    field=field)
            try:
                value = int(raw.strip().replace("_", ""))
            except ValueError:
                value = 0
            if value < 1:
                raise AllianceLabError(
                    f"the limit {name} must be a positive whole number, got {raw.strip()!r}",
                    field=field)
            out[name] = value
    return out


def configure(overrides: dict[str, int] | Iterable[str] | None = None) -> dict[str, int]:
    """Set the limits in force in this process: the defaults, then the environment's
    :data:`ENV`, then ``overrides`` (a mapping or ``NAME=VALUE`` strings). Returns them."""
    limits = dict(DEFAULTS)
    limits.update(parse([os.environ.get(ENV, "")], field=ENV))
    if overrides is not None:
        limits.update(overrides if isinstance(overrides, dict)
                      else parse(overrides))
    _active.clear()
    _active.update(limits)
    return dict(limits)


def current() -> dict[str, int]:
    """The limits in force in this process."""
    return dict(_active)


def how_to_raise(name: str) -> str:
    return f"raise it with --limit {name}=N or {ENV}={name}=N"


def at_most(name: str, value: int, field: str | None = None) -> int:
    """``value`` if it does not exceed the limit ``name``, else the one-line error."""
    limit = _active[name]
    if value > limit:
        raise AllianceLabError(
            f"{value:,} {name}, more than the limit of {limit:,} ({how_to_raise(name)})",
            field=field or name)
    return value


def excess(name: str, count: int, *, counted: bool = True) -> str | None:
    """The message for ``count`` items of ``name`` when over the limit, else None
    (``counted=False``: counting stopped at the first item over the limit)."""
    limit = _active[name]
    if count <= limit:
        return None
    found = f"{count:,} {name}, more" if counted else "more"
    return f"{found} than the limit of {limit:,} {name} ({how_to_raise(name)})"


# -- deadlines ---------------------------------------------------------------------------


class WorkCancelled(AllianceLabError):
    """The work passed its deadline or was cancelled (:func:`checkpoint`)."""


@dataclass(frozen=True)
class _Deadline:
    at: float | None
    event: threading.Event | None
    seconds: float | None


_deadline: ContextVar[_Deadline | None] = ContextVar("alliancelab_deadline", default=None)


@contextmanager
def deadline(seconds: float | None = None,
             event: threading.Event | None = None) -> Iterator[None]:
    """Within the block, :func:`checkpoint` raises :class:`WorkCancelled` once ``seconds``
    have passed or ``event`` is set."""
    at = None if seconds is None else time.monotonic() + seconds
    token = _deadline.set(_Deadline(at, event, seconds))
    try:
        yield
    finally:
        _deadline.reset(token)


def checkpoint() -> None:
    """Raise :class:`WorkCancelled` when the current deadline has passed or its event is
    set; nothing outside a :func:`deadline` block. Cheap: call it once per round."""
    d = _deadline.get()
    if d is None:
        return
    if d.event is not None and d.event.is_set():
        raise WorkCancelled("cancelled")
    if d.at is not None and time.monotonic() > d.at:
        raise WorkCancelled(
            f"stopped after the time limit of {d.seconds:g} s; ask for less work "
            "(fewer rounds, actors or draws) or use the command line")


try:
    configure()
except AllianceLabError:  # reported as one line by the CLI's own call of configure()
    pass
