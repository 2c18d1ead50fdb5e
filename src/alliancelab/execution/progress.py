"""Plain progress lines on stderr for the Python API's long calls (``progress=True``).

The CLI draws its own bars (rich, on a terminal); a notebook or a script calling
:func:`alliancelab.explore.explore` or :func:`alliancelab.jobs.run.run_job` with
``progress=True`` gets :class:`ProgressLines`: one line per stage when it starts, then at
most one line every ``every`` seconds, and one when the stage is done - no dependency, no
terminal control characters, so it reads the same in a notebook, a log and a pipe.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressLines:
    """Call it as ``(stage, done, total)`` (the run job's progress) or use :meth:`explore`
    as ``(stored, total, failed)`` (an exploration's). Writes to ``stream`` (stderr)."""

    def __init__(self, stream: TextIO | None = None, every: float = 1.0) -> None:
        self.stream = stream
        self.every = every
        self._last: dict[str, float] = {}
        self._started: dict[str, float] = {}
        self._finished: set[str] = set()

    def __call__(self, stage: str, done: int, total: int, detail: str = "") -> None:
        now = time.perf_counter()
        first = stage not in self._started
        if first:
            self._started[stage] = now
        finished = total > 0 and done >= total
        if finished and stage in self._finished:
            return
        if not (first or finished or now - self._last.get(stage, 0.0) >= self.every):
            return
        self._last[stage] = now
        if finished:
            self._finished.add(stage)
        elapsed = now - self._started[stage]
        share = f" ({100 * done / total:.0f}%)" if total > 0 else ""
        extra = f", {detail}" if detail else ""
        print(f"{stage}: {done}/{total}{share}{extra}, {elapsed:.1f} s", file=self.stream
              or sys.stderr, flush=True)

    def explore(self, stored: int, total: int, failed: int) -> None:
        """An exploration's progress: experiments stored of the total, and failures."""
        self("explore", stored, total, f"{failed} failed" if failed else "")
