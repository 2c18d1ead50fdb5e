"""Process-pool workers die with their parent.

A SIGKILL of ``alliancelab run`` or ``explore --workers N`` (or an out-of-memory kill) gives
the parent no chance to shut its pool down, and ``concurrent.futures`` workers would live
on, holding their memory (issue 13: 1.27 GB still there 26 minutes later). Every worker the
evaluator starts runs :func:`init_worker` first:

* on Linux, ``prctl(PR_SET_PDEATHSIG, SIGKILL)``: the kernel kills the worker the moment
  its parent dies, even while it is busy in compiled code;
* elsewhere, a daemon thread polls ``os.getppid()`` every :data:`POLL_SECONDS` and ends the
  worker when the parent has gone (the worker is re-parented).

Either way the worker first checks that its parent is still the one that started it, so a
parent killed while the worker was starting is noticed too.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time

from .shared import Shareable, install

__all__ = ["POLL_SECONDS", "die_with_parent", "init_worker"]

#: how often the fallback watcher looks at the parent (seconds).
POLL_SECONDS = 0.5
_PR_SET_PDEATHSIG = 1


def _prctl_pdeathsig() -> bool:
    """Ask Linux to SIGKILL this process when its parent dies; False where unavailable."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return bool(libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(POLL_SECONDS)
    os._exit(1)


def die_with_parent(parent: int) -> None:
    """End this process when ``parent`` (the pid that started it) is gone."""
    if not _prctl_pdeathsig():
        threading.Thread(target=_watch, args=(parent,), daemon=True,
                         name="alliancelab-parent-watch").start()
    if os.getppid() != parent:  # the parent died before the death signal was armed
        os._exit(1)


def init_worker(parent: int, shared: Shareable | None = None) -> None:
    """Process-pool initializer: die with ``parent``; keep ``shared`` for the tasks."""
    die_with_parent(parent)
    if shared is not None:
        install(shared)
