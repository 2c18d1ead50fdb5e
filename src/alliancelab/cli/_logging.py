"""The command line's log: the ``alliancelab`` logger on stderr, and progress.

Verbosity, from ``-q``/``-v`` (:func:`level_for`): ``-q`` errors only; by default warnings
and progress; ``-v`` adds details (INFO); ``-vv`` debugging (DEBUG, and the traceback of an
unexpected file-system error). Progress lines are logged at :data:`PROGRESS`, between INFO and
WARNING, so that they show by default and ``-q`` silences them.

:class:`Progress` draws a rich bar on a terminal and logs plain lines (at most one every
:data:`PLAIN_EVERY` seconds) when stderr is piped, in both cases only once the work has taken
more than a second. Importing this module costs only :mod:`logging`; rich is imported when a
bar is drawn.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from typing import Any

LOGGER = "alliancelab"
#: the level of progress lines: shown by default, hidden by -q, below warnings
PROGRESS = 25
logging.addLevelName(PROGRESS, "PROGRESS")
#: seconds of work before progress shows, and between two plain progress lines
DELAY = 1.0
PLAIN_EVERY = 5.0

_PREFIX = {logging.DEBUG: "debug: ", logging.WARNING: "warning: ", logging.ERROR: "error: ",
           logging.CRITICAL: "error: "}

log = logging.getLogger(LOGGER)


def level_for(verbosity: int) -> int:
    """``-q`` (-1 or less) -> ERROR; 0 -> :data:`PROGRESS`; ``-v`` -> INFO; ``-vv`` -> DEBUG."""
    if verbosity < 0:
        return logging.ERROR
    return (PROGRESS, logging.INFO)[verbosity] if verbosity < 2 else logging.DEBUG


class _Formatter(logging.Formatter):
    """``alliancelab: [warning: |error: |debug: ]message``, one line per record."""

    def format(self, record: logging.LogRecord) -> str:
        text = f"alliancelab: {_PREFIX.get(record.levelno, '')}{record.getMessage()}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


class _StderrHandler(logging.Handler):
    """Writes to whatever ``sys.stderr`` is at the time (a test may have replaced it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:  # noqa: BLE001 - logging must never break the command
            self.handleError(record)


def configure(verbosity: int) -> logging.Logger:
    """Set the ``alliancelab`` logger's level and its one stderr handler (called once per
    command; calling it again replaces the handler, so tests may run many commands)."""
    for handler in [h for h in log.handlers if isinstance(h, _StderrHandler)]:
        log.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(_Formatter())
    log.addHandler(handler)
    log.setLevel(level_for(verbosity))
    return log


def stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


class Progress:
    """``progress(done, total)`` for a long task named ``label`` (counting ``unit``).

    Silent for the first :data:`DELAY` seconds and whenever progress lines are not logged
    (``-q``); then a transient rich bar on a terminal, else a plain line at most every
    :data:`PLAIN_EVERY` seconds and one at the end. Use it as a context manager so that the
    bar is removed."""

    def __init__(self, label: str, unit: str = "", *, delay: float = DELAY) -> None:
        self.label = label
        self.unit = f" {unit}" if unit else ""
        self.delay = delay
        self.start = time.monotonic()
        self._last = -float("inf")
        self._shown = False
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> Progress:
        self.start = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.start < self.delay or not log.isEnabledFor(PROGRESS):
            return
        if self._bar is None and not self._shown and stderr_is_terminal():
            self._bar = self._rich_bar(total)
        if self._bar is not None:
            self._bar.update(self._task, completed=done, total=total)
            return
        if done >= total or now - self._last >= PLAIN_EVERY:
            self._last, self._shown = now, True
            pct = 100.0 * done / total if total else 100.0
            log.log(PROGRESS, "%s: %d/%d%s (%.0f%%), %.0f s", self.label, done, total,
                    self.unit, pct, now - self.start)

    def _rich_bar(self, total: int) -> Any:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        bar = Progress(TextColumn(self.label), BarColumn(), MofNCompleteColumn(),
                       TimeElapsedColumn(), TimeRemainingColumn(),
                       console=Console(stderr=True), transient=True)
        bar.start()
        self._task = bar.add_task(self.label, total=total)
        return bar


class stage:  # noqa: N801 - used like a function: ``with stage("..."):``
    """A progress line for a stage of a job without a finer count, logged only if the stage
    is still running after :data:`DELAY` seconds (so a quick stage, or a mistake found at
    once, prints nothing but its result); ``-q`` hides it."""

    def __init__(self, message: str, *args: object, delay: float = DELAY) -> None:
        self.message, self.args, self.delay = message, args, delay
        self._timer: threading.Timer | None = None

    def _emit(self) -> None:
        log.log(PROGRESS, self.message, *self.args)

    def __enter__(self) -> stage:
        if log.isEnabledFor(PROGRESS):
            self._timer = threading.Timer(self.delay, self._emit)
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._timer is not None:
            self._timer.cancel()
