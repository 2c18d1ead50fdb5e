"""Background jobs (report runs and explorations): one worker thread runs them one at a
time, in order. At most ``limit`` jobs are queued or running at once (more are refused with
429), and a job can be cancelled: a queued one never starts, a running one stops at its
next progress report (:meth:`Job.tick`) or the next round of a loop inside it
(:func:`alliancelab.core.limits.checkpoint`)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from fastapi import HTTPException

from ..core import limits
from ..core.errors import AllianceLabError

ACTIVE = ("queued", "running", "cancelling")


class Cancelled(Exception):
    """Raised inside a job's work when it has been cancelled."""


@dataclass
class Job:
    """A report run or an exploration running in the background."""

    kind: str
    case: str
    params: dict[str, Any]
    total: int = 0
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    status: str = "queued"  # queued | running | cancelling | done | failed | cancelled
    stage: str = ""
    done: int = 0
    failed: int = 0
    error: str | None = None
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    cancel_event: threading.Event = field(default_factory=threading.Event, repr=False)

    def tick(self, done: int, total: int, failed: int = 0, stage: str | None = None) -> None:
        """Record progress; raises :class:`Cancelled` once the job is cancelled."""
        if self.cancel_event.is_set():
            raise Cancelled
        self.done, self.total, self.failed = done, total, failed
        if stage is not None:
            self.stage = stage

    def public(self) -> dict[str, Any]:
        elapsed = ((self.finished or time.time()) - self.started) if self.started else 0.0
        rate = self.done / elapsed if elapsed > 0 and self.kind == "exploration" else None
        return {
            "id": self.id, "kind": self.kind, "case": self.case, "params": self.params,
            "status": self.status, "stage": self.stage, "done": self.done,
            "total": self.total, "failed": self.failed, "error": self.error,
            "elapsed": round(elapsed, 3), "rate": rate,
        }


class Jobs:
    """One background worker thread: jobs run one at a time, in order."""

    def __init__(self, limit: int = 8) -> None:
        self.limit = limit
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="alliancelab-job")

    def submit(self, job: Job, work: Callable[[Job], None]) -> Job:
        """Queue ``work(job)``; 429 when ``limit`` jobs are already queued or running."""
        with self._lock:
            active = sum(j.status in ACTIVE for j in self._jobs.values())
            if active >= self.limit:
                raise HTTPException(429, f"{active} jobs are queued or running, the app's "
                                    f"limit; wait for one to finish or cancel one")
            self._jobs[job.id] = job
        self._pool.submit(self._run, job, work)
        return job

    def _run(self, job: Job, work: Callable[[Job], None]) -> None:
        if job.cancel_event.is_set():
            job.status, job.finished = "cancelled", time.time()
            return
        job.status, job.started = "running", time.time()
        try:
            with limits.deadline(event=job.cancel_event):  # the loops stop at their next round
                work(job)
        except (Cancelled, limits.WorkCancelled):
            job.status, job.stage = "cancelled", "cancelled"
        except AllianceLabError as exc:
            job.status, job.error = "failed", str(exc)
        except Exception as exc:  # reported to the page; the server keeps serving
            job.status, job.error = "failed", f"{type(exc).__name__}: {exc}"
        else:
            job.status = "done"
        finally:
            job.finished = time.time()

    def cancel(self, job: Job) -> Job:
        """Cancel ``job`` (nothing happens to a finished one)."""
        with self._lock:
            if job.status == "queued":
                job.status = "cancelled"
            elif job.status == "running":
                job.status = "cancelling"
            job.cancel_event.set()
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def all(self, kind: str) -> list[Job]:
        with self._lock:
            return [j for j in self._jobs.values() if j.kind == kind]

    def shutdown(self) -> None:
        """Cancel every job and stop the worker (the running job stops at its next tick)."""
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            self.cancel(job)
        self._pool.shutdown(wait=False, cancel_futures=True)
