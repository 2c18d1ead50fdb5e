"""Regression tests for the web app's bugs of issues 10, 13 and 14, each against a real
uvicorn server on loopback (``alliancelab serve`` as a process where a signal matters):
one error shape with one clear line, NaN and infinities refused, an upload named ``..``,
a non-ASCII token, cross-site state changes refused, the job queue's limit and cancel,
``/docs`` served locally, the exploration analysis equal to the report's, no import of the
CLI, and SIGTERM stopping ``serve`` within seconds."""

from __future__ import annotations

import ast
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from alliancelab.web import Settings

from .conftest import LiveServer, free_port, start_server

DATA = Path(__file__).resolve().parents[1] / "data"
WEB = Path(__file__).resolve().parents[2] / "src" / "alliancelab" / "web"


@pytest.fixture()
def client(live: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, timeout=60) as c:
        c.post("/api/cases/open", json={"shipped": "us_rok_2025"})
        yield c


def error(r: httpx.Response, status: int) -> str:
    """The response's one-line message, after checking the one error shape."""
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert isinstance(body, dict) and isinstance(body["detail"], str), body
    assert "error" not in body
    assert "\n" not in body["detail"] and not body["detail"].startswith(("[", "{"))
    return body["detail"]


# -- issue 14: one error shape, one clear message --------------------------------------


@pytest.mark.parametrize("url, body, expected", [
    ("/api/explorations", {"case": "us_rok_2025", "n": 0}, "n: must be >= 1, got 0"),
    ("/api/explorations", {"case": "us_rok_2025", "rounds": 0},
     "rounds: must be >= 1, got 0"),
    ("/api/runs", {"case": "us_rok_2025", "draws": 0}, "draws: must be >= 1, got 0"),
    ("/api/forecast", {"case": "us_rok_2025", "rounds": 0}, "rounds: must be >= 1, got 0"),
    ("/api/forecast", {"case": "us_rok_2025", "model": "nope"},
     "model: must be one of 'compromise', "),
    ("/api/forecast", {"case": "us_rok_2025", "seed": "x"},
     "seed: must be a whole number, got 'x'"),
    ("/api/forecast", {"case": "../x"}, "case: must be a name of letters, digits"),
    ("/api/forecast", {}, "case: is required"),
    ("/api/forecast", {"case": "us_rok_2025", "colour": 1},
     "colour: is not a field of this request"),
    ("/api/forecast", {"case": "us_rok_2025", "interventions": ["ok", "b/c"]},
     "interventions[1]: must be a name"),
])
def test_schema_errors_are_one_clear_line(client: httpx.Client, url: str, body: Any,
                                          expected: str) -> None:
    r = client.post(url, json=body)
    assert error(r, 422).startswith(expected)
    assert r.json()["field"] == expected.split(":")[0]


def test_every_error_has_the_one_shape(client: httpx.Client, tmp_path: Path) -> None:
    assert "no case 'nope'" in error(client.get("/api/cases/nope"), 404)
    error(client.get("/api/nothing-here"), 404)
    error(client.delete("/api/cases/nope"), 404)
    error(client.get("/api/runs/doesnotexist"), 404)
    error(client.patch("/api/forecast", json={}), 405)
    error(client.post("/api/forecast", content=b"{", headers={"content-type":
                                                                "application/json"}), 422)
    r = client.post("/api/forecast", json={"case": "us_rok_2025", "interventions": ["nope"]})
    assert "unknown shock or lever 'nope'" in error(r, 422)
    assert r.json()["field"] == "interventions"
    r = client.post("/api/cases/us_rok_2025/validate", json={"data": {"name": "x"}})
    error(r, 422)
    assert {"file", "line", "field", "draft"} <= set(r.json())
    error(client.get("/api/info", headers={"Host": "evil.example"}), 403)
    srv = start_server(Settings(data_dir=tmp_path / "tok", token="t" * 20))
    try:
        error(httpx.get(srv.url + "/api/info"), 401)
    finally:
        srv.stop()


# -- issue 13: non-finite numbers, odd names, odd tokens: 4xx, never 5xx ---------------


@pytest.mark.parametrize("raw", [
    b'{"case": "us_rok_2025", "seed": NaN}',
    b'{"case": "us_rok_2025", "rounds": Infinity}',
    b'{"case": "us_rok_2025", "seed": -Infinity}',
])
def test_non_finite_json_numbers_are_422(client: httpx.Client, raw: bytes) -> None:
    r = client.post("/api/forecast", content=raw, headers={"content-type": "application/json"})
    assert "is not a JSON number" in error(r, 422)


def test_non_finite_numbers_in_a_draft_and_a_query_are_422(client: httpx.Client) -> None:
    data = client.get("/api/cases/us_rok_2025").json()["data"]
    data["actors"][0]["capability"]["value"] = "__nan__"
    raw = json.dumps({"data": data}).replace('"__nan__"', "NaN")
    for url in ("/api/cases/us_rok_2025/validate", "/api/cases/us_rok_2025"):
        r = client.request("POST" if url.endswith("validate") else "PUT", url,
                           content=raw.encode(), headers={"content-type": "application/json"})
        assert "NaN is not a JSON number" in error(r, 422)
    for value in ("nan", "inf", "-inf"):
        r = client.get(f"/api/explorations/abc/analysis?threshold={value}")
        assert error(r, 422).startswith("threshold: must be a finite number")


@pytest.mark.parametrize("filename", ["..", ".", "...", "a/..", "..\\.."])
def test_upload_named_dots(client: httpx.Client, live: LiveServer, filename: str) -> None:
    r = client.post("/api/cases/upload",
                    files={"file": (filename, (DATA / "two_issues.yaml").read_bytes())})
    assert r.status_code < 500, r.text
    if r.status_code == 200:
        assert (live.settings.data_dir / "cases" / f"{r.json()['name']}.yaml").is_file()
    r = client.post("/api/cases/upload", files={"file": (filename, b"\x00\x01")})
    error(r, 422)
    assert list((live.settings.data_dir / "uploads").iterdir()) == []


def test_non_ascii_token_is_401(tmp_path: Path) -> None:
    srv = start_server(Settings(data_dir=tmp_path / "d", token="a-token-of-sufficient-length"))
    try:
        for headers in ({"X-AllianceLab-Token": "t\u00f6ken"},
                        {"Authorization": "Bearer \u00e9\u00e9\u00e9"},
                        {"Cookie": "alliancelab_token=\u00fc"}):
            raw = {k: v.encode("latin-1") for k, v in headers.items()}
            error(httpx.get(srv.url + "/api/info", headers=raw), 401)
        error(httpx.get(srv.url + "/api/info?token=%E2%82%AC"), 401)
    finally:
        srv.stop()


# -- issue 13: cross-site requests -----------------------------------------------------


def test_cross_site_state_changes_are_refused(client: httpx.Client, live: LiveServer) -> None:
    upload = {"file": ("xsite.yaml", (DATA / "two_issues.yaml").read_bytes())}
    host = live.url.removeprefix("http://")
    for headers in ({"Origin": "http://evil.example"},
                    {"Origin": "http://127.0.0.1:1"},
                    {"Origin": "null"},
                    {"Sec-Fetch-Site": "cross-site"},
                    {"Sec-Fetch-Site": "same-site", "Origin": live.url}):
        r = client.post("/api/cases/upload", files=upload, headers=headers)
        assert "cross-site request refused" in error(r, 403)
        error(client.delete("/api/cases/us_rok_2025", headers=headers), 403)
        error(client.put("/api/cases/us_rok_2025", json={"data": {}}, headers=headers), 403)
    assert "xsite" not in client.get("/api/cases").json()["workspace"]
    # reads stay open, and the app's own pages (same origin) may change state
    assert client.get("/api/cases", headers={"Origin": "http://evil.example"}).status_code == 200
    ok = {"Origin": live.url, "Sec-Fetch-Site": "same-origin", "Host": host}
    assert client.post("/api/cases/upload", files=upload, headers=ok).status_code == 200


# -- issue 13: the job queue's limit and cancel ----------------------------------------


@pytest.fixture()
def one_job_server(tmp_path: Path) -> Iterator[LiveServer]:
    srv = start_server(Settings(data_dir=tmp_path / "jobs", max_jobs=2,
                                max_experiments=50_000))
    httpx.post(srv.url + "/api/cases/open", json={"shipped": "us_rok_2025"}, timeout=60)
    yield srv
    srv.stop()


def wait_status(c: httpx.Client, url: str, statuses: set[str], timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = c.get(url).json()
        if job["status"] in statuses:
            return job
        time.sleep(0.1)
    raise AssertionError(f"{url} never reached {statuses}: {job}")


def test_job_limit_and_cancel(one_job_server: LiveServer) -> None:
    big = {"case": "us_rok_2025", "sampler": "lhs", "n": 40_000}
    with httpx.Client(base_url=one_job_server.url, timeout=60) as c:
        running = c.post("/api/explorations", json=big).json()
        queued = c.post("/api/runs", json={"case": "us_rok_2025", "draws": 2}).json()
        r = c.post("/api/explorations", json=big)
        assert "2 jobs are queued or running" in error(r, 429)
        assert one_job_server.settings.max_jobs == c.get("/api/info").json()["max_jobs"]
        # a queued job never starts
        assert c.post(f"/api/runs/{queued['id']}/cancel").json()["status"] == "cancelled"
        # a running one stops at its next progress report; what is stored stays
        wait_status(c, f"/api/explorations/{running['id']}", {"running"})
        t0 = time.monotonic()
        assert c.post(f"/api/explorations/{running['id']}/cancel").json()["status"] in (
            "cancelling", "cancelled")
        job = wait_status(c, f"/api/explorations/{running['id']}", {"cancelled"})
        assert time.monotonic() - t0 < 30
        assert job["done"] < job["total"]
        assert wait_status(c, f"/api/runs/{queued['id']}", {"cancelled"})["files"] == []
        assert "is cancelled" in error(
            c.get(f"/api/explorations/{running['id']}/analysis"), 409)
        # the queue has room again
        r = c.post("/api/explorations", json={"case": "us_rok_2025", "n": 4})
        assert r.status_code == 202
        assert wait_status(c, f"/api/explorations/{r.json()['id']}", {"done"})
        error(c.post("/api/runs/nope/cancel"), 404)
        error(c.post(f"/api/runs/{running['id']}/cancel"), 404)  # an exploration's id


# -- issue 14: /docs, served locally ---------------------------------------------------


def test_docs_page_is_served_offline(client: httpx.Client) -> None:
    r = client.get("/docs")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    assert "http://" not in page and "https://" not in page and "<script" not in page
    for path in client.get("/openapi.json").json()["paths"]:
        assert f"<code>{path}</code>" in page
    assert "draws" in page and "one of lhs, sobol, mc, morris" in page


# -- issue 10: the analysis is the report's; no import of the CLI ----------------------


def test_the_analysis_is_the_reports(client: httpx.Client, live: LiveServer) -> None:
    from alliancelab.analysis.exploration import analyse
    from alliancelab.explore import Exploration

    job = client.post("/api/explorations", json={
        "case": "us_rok_2025", "sampler": "lhs", "n": 48,
        "levers": ["sustained_usfk_presence"]}).json()
    wait_status(client, f"/api/explorations/{job['id']}", {"done"}, timeout=180)
    ex = Exploration(live.settings.data_dir / "explorations" / job["id"])
    for sense in ("max", "min"):
        page = client.get(f"/api/explorations/{job['id']}/analysis",
                          params={"sense": sense}).json()
        report = analyse(ex, sense=sense)
        assert page["outcome"] == report.outcome
        assert report.prim is not None
        box = report.prim.boxes[report.prim_box]
        p = page["prim"]
        assert (p["box"], p["coverage"], p["density"], p["mass"]) == (
            report.prim_box, box.coverage, box.density, box.mass)
        assert p["label"] == report.prim_label
        # the report's default: the bad quartile (below when more is better)
        assert p["direction"] == ("below" if sense == "max" else "above")
        assert p["direction"] == report.prim_direction
        assert p["threshold"] == report.prim_threshold == ex.default_threshold(
            report.outcome, p["direction"])
        limits = report.prim.limits(report.prim_box).reset_index()
        assert [row["parameter"] for row in p["limits"]] == list(limits["parameter"])
        # the report's quasi-p-values, bootstrap stability and small-sample warnings
        lim, warnings = report.prim.assess(report.prim_box)
        assert [row["quasi-p"] for row in p["limits"]] == pytest.approx(list(lim["quasi-p"]))
        assert [row["stability"] for row in p["limits"]] == pytest.approx(list(lim["stability"]))
        assert p["warnings"] == warnings
        assert any("only 48 points" in w for w in p["warnings"])  # 48 < MIN_POINTS
        assert "e+" not in p["label"]  # a threshold for people, as the report writes it
        assert page["robustness"]["most_robust"] == report.robustness.most_robust
        rb = page["robustness"]
        assert rb["most_robust"] in rb["tied"] and rb["max_regret"] == pytest.approx(
            float(report.robustness.summary["max_regret"].min()))
        assert page["sensitivity"] == {"error": report.sensitivity_note}


def test_the_web_package_does_not_import_the_cli() -> None:
    for path in WEB.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                module = "." * node.level + (node.module or "")
                assert "cli" not in module.split("."), (path, module)
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith("alliancelab.cli") for a in node.names), path
    code = ("import sys, alliancelab.web.app; "
            "print(sorted(m for m in sys.modules if m.startswith('alliancelab.cli')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


# -- issue 13: serve stops within seconds of SIGTERM, even with work in flight ------------


def trickle_forever(url: str) -> None:
    """A request whose body arrives slowly (100 bytes every 0.5 s): uvicorn's graceful
    shutdown would wait for it to finish."""

    def body() -> Iterator[bytes]:
        for _ in range(200):
            yield b" " * 100
            time.sleep(0.5)

    try:
        httpx.post(url + "/api/forecast", content=body(), timeout=200,
                   headers={"content-type": "application/json", "content-length": "20000"})
    except httpx.HTTPError:
        pass  # the server went away: what the test wants


def test_serve_stops_soon_after_sigterm(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "alliancelab", "serve", "us_rok_2025", "--port", str(port),
         "--data", str(tmp_path / "data")],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/api/info", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, "serve did not start"
            time.sleep(0.2)
        with httpx.Client(base_url=url, timeout=60) as c:
            job = c.post("/api/explorations", json={"case": "us_rok_2025", "n": 40_000})
            assert job.status_code == 202, job.text
            wait_status(c, f"/api/explorations/{job.json()['id']}", {"running"})
        threading.Thread(target=trickle_forever, args=(url,), daemon=True).start()
        time.sleep(1.5)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        elapsed = time.monotonic() - t0
        assert elapsed < 10, f"serve took {elapsed:.1f} s to stop"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
