"""How the web app runs: :class:`Settings`, given by ``alliancelab serve`` or a test."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class Settings:
    """How the app runs: its data directory, the token (required unless bound to loopback),
    the upload limit, and the caps on jobs started from the browser."""

    data_dir: Path
    token: str | None = None
    max_upload_bytes: int = 5 * 1024 * 1024
    max_draws: int = 500
    max_experiments: int = 50_000
    #: report runs and explorations queued or running at once; more are refused (429).
    max_jobs: int = 8
    initial_case: str | None = None
    check_host: bool = True
