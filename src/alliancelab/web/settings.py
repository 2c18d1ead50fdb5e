"""How the web app runs: :class:`Settings`, given by ``alliancelab serve`` or a test."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..core.limits import WEB_DEFAULTS


@dataclass
class Settings:
    """How the app runs: its data directory, the token (required unless bound to loopback),
    the upload limit, and the caps on jobs started from the browser."""

    data_dir: Path
    token: str | None = None
    # the caps' defaults and what they bound: alliancelab.core.limits.WebCaps
    max_upload_bytes: int = WEB_DEFAULTS.max_upload_bytes
    max_draws: int = WEB_DEFAULTS.max_draws
    max_experiments: int = WEB_DEFAULTS.max_experiments
    #: report runs and explorations queued or running at once; more are refused (429).
    max_jobs: int = WEB_DEFAULTS.max_jobs
    #: a forecast request still working after this many seconds stops (422), and one whose
    #: client has gone stops at its next round (:func:`alliancelab.core.limits.checkpoint`).
    request_seconds: float = WEB_DEFAULTS.request_seconds
    initial_case: str | None = None
    check_host: bool = True
