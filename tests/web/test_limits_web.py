"""Unbounded work in the web app (issue 13, item 2), against a real uvicorn server on
loopback: an oversized upload is refused with the limit's one line (422), a forecast that
outlives the request's time limit stops with 422, and when the client goes away its work
stops (the server's threads go idle) instead of spinning on."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from alliancelab.cases import resolve_case
from alliancelab.core import limits
from alliancelab.web import Settings

from .conftest import LiveServer, start_server


def endless_case(rounds: int) -> str:
    """The shipped case with ``rounds`` rounds of dynamics (0.6 ms each)."""
    lines = []
    for line in resolve_case("us_rok_2025").read_text(encoding="utf-8").splitlines():
        lines.append(f"  rounds: {rounds}" if line.startswith("  rounds:") else line)
    return "\n".join(lines) + "\n"


@pytest.fixture()
def slow_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A server whose operator raised the rounds limit, with a case of a million rounds
    (about ten minutes of work) in its workspace."""
    limits.configure({"rounds": 1_000_000})
    srv = start_server(Settings(data_dir=tmp_path / "data", request_seconds=600))
    (srv.settings.data_dir / "cases" / "endless.yaml").write_text(endless_case(1_000_000))
    try:
        yield srv
    finally:
        srv.stop()
        limits.configure()


def cpu_seconds_over(interval: float) -> float:
    me = psutil.Process()
    before = sum(me.cpu_times()[:2])
    time.sleep(interval)
    return sum(me.cpu_times()[:2]) - before


def test_an_oversized_upload_is_refused_with_the_limit(live: LiveServer) -> None:
    rows = "".join(f"  - {{name: a{i}, capability: 1, positions: {{x: 1}}, "
                   f"saliences: {{x: 0.5}}}}\n" for i in range(2000))
    text = "name: huge\nissues:\n  - name: x\nactors:\n" + rows
    r = httpx.post(live.url + "/api/cases/upload", files={"file": ("huge.yaml", text)},
                   timeout=60)
    assert r.status_code == 422, r.text
    assert r.json()["detail"] == (
        "huge.yaml:205: actors: more than the limit of 200 actors (raise it with --limit "
        "actors=N or ALLIANCELAB_LIMITS=actors=N)")
    assert r.json()["line"] == 205


def test_a_forecast_past_the_time_limit_stops_with_422(tmp_path: Path) -> None:
    limits.configure({"rounds": 1_000_000})
    srv = start_server(Settings(data_dir=tmp_path / "data", request_seconds=0.5))
    try:
        (srv.settings.data_dir / "cases" / "endless.yaml").write_text(
            endless_case(1_000_000))
        r = httpx.post(srv.url + "/api/forecast", json={"case": "endless"}, timeout=120)
        assert r.status_code == 422, r.text
        assert "stopped after the time limit of 0.5 s" in r.json()["detail"]
        assert cpu_seconds_over(1.0) < 0.5  # nothing left running
        info = httpx.get(srv.url + "/api/info").json()
        assert info["request_seconds"] == 0.5 and info["limits"]["rounds"] == 1_000_000
    finally:
        srv.stop()
        limits.configure()


def test_the_work_stops_when_the_client_goes_away(slow_server: LiveServer) -> None:
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(slow_server.url + "/api/forecast", json={"case": "endless"}, timeout=2)
    # the dynamics' loop sees the disconnect at its next round; give it a moment
    deadline = time.monotonic() + 20
    while cpu_seconds_over(1.0) > 0.5:
        assert time.monotonic() < deadline, "a thread kept working after its client left"
    # and the server still answers
    assert httpx.get(slow_server.url + "/api/info").status_code == 200


def test_the_operator_sets_the_limits_on_serve(tmp_path: Path) -> None:
    """``alliancelab serve --limit ... --max-draws ... --request-seconds ...`` as a process:
    the app reports and applies them; a bad value is one line and exit 2."""
    import os
    import signal
    import subprocess
    import sys

    from .conftest import free_port

    bad = subprocess.run([sys.executable, "-m", "alliancelab", "serve", "--max-draws", "0",
                          "--data", str(tmp_path / "bad")], capture_output=True, text=True,
                         timeout=60)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1, bad.stderr
    assert "--max-draws: must be >= 1, got 0" in bad.stderr
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "alliancelab", "serve", "--port", str(port), "--data",
         str(tmp_path / "data"), "--limit", "actors=5", "--max-draws", "7",
         "--max-experiments", "99", "--request-seconds", "2.5"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ))
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                info = httpx.get(url + "/api/info", timeout=1).json()
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.2)
        assert (info["limits"]["actors"], info["max_draws"], info["max_experiments"],
                info["request_seconds"]) == (5, 7, 99, 2.5)
        r = httpx.post(url + "/api/cases/open", json={"shipped": "us_rok_2025"}, timeout=60)
        assert r.status_code == 422 and "more than the limit of 5 actors" in r.json()["detail"]
        small = "name: s\nissues: [{name: x}]\nactors:\n" + "".join(
            f"  - {{name: a{i}, capability: 1, positions: {{x: {i}}}, saliences: {{x: 1}}}}\n"
            for i in range(3))
        (tmp_path / "data" / "cases" / "small.yaml").write_text(small)
        r = httpx.post(url + "/api/runs", json={"case": "small", "draws": 8}, timeout=60)
        assert r.status_code == 422 and r.json()["detail"] == "draws: must be at most 7, got 8"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
