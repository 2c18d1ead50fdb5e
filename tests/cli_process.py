"""The CLI as a real process (``python -m alliancelab``) and the check that a user's mistake
is one line on stderr with exit code 2, shared by the tests that run it that way."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
        timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``alliancelab ARGS`` in a child process (``env`` is added to this one's)."""
    return subprocess.run([sys.executable, "-m", "alliancelab", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=timeout, check=False,
                          env=None if env is None else {**os.environ, **env})


def one_line_error(proc: subprocess.CompletedProcess[str], *words: str) -> None:
    """Exit code 2, no traceback, one ``alliancelab: error: `` line holding every word."""
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("alliancelab: error: "), (
        proc.stderr)
    for w in words:
        assert w in proc.stderr, proc.stderr
