"""The web app's JSON API over HTTP (a live uvicorn server on loopback): uploads in every
format, messages equal to the CLI's, saving with sources kept, forecasts, path traversal,
the upload limit, the token off loopback and the Host check."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from alliancelab import format_case, read_case
from alliancelab.cli import main as cli_main
from alliancelab.web import Settings

from .conftest import LiveServer, start_server

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture()
def client(live: LiveServer) -> Any:
    with httpx.Client(base_url=live.url, timeout=60) as c:
        yield c


def cli_message(tmp_path: Path, filename: str, content: bytes, monkeypatch: Any,
                capsys: Any) -> str:
    """What ``alliancelab forecast FILE`` prints for ``content`` saved as ``filename``."""
    (tmp_path / filename).write_bytes(content)
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert cli_main(["forecast", filename]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("alliancelab: error: ")
    return err.removeprefix("alliancelab: error: ")


def test_upload_every_format(client: httpx.Client, tmp_path: Path) -> None:
    ktab = format_case(read_case(DATA / "two_issues.yaml"), "ktab")
    uploads = {
        "two_issues.yaml": (DATA / "two_issues.yaml").read_bytes(),
        "ec_emissions.csv": (DATA / "ec_emissions.csv").read_bytes(),
        "dummy.csv": (DATA / "ktab" / "dummyData_3Dim.csv").read_bytes(),
        "exported_ktab.csv": ktab.encode(),
    }
    for filename, content in uploads.items():
        r = client.post("/api/cases/upload", files={"file": (filename, content)})
        assert r.status_code == 200, r.text
        doc = r.json()
        expected = read_case(DATA / filename) if (DATA / filename).exists() else None
        if expected is not None:
            assert [a["name"] for a in doc["actors"]] == [a.name for a in expected.actors]
            assert [i["name"] for i in doc["issues"]] == list(expected.issue_names)
        assert doc["name"] in client.get("/api/cases").json()["workspace"]
        # the stored YAML reads back to the same case
        text = client.get(f"/api/cases/{doc['name']}/yaml").text
        saved = tmp_path / f"{doc['name']}.yaml"
        saved.write_text(text)
        assert len(read_case(saved).actors) == len(doc["actors"])


@pytest.mark.parametrize("filename, content", [
    ("broken.yaml", b"name: x\nissues: [\n"),
    ("bad.csv", b"Actor,Capability,Position,Salience\nA,abc,1,0.5\nB,1,2,0.5\n"),
    ("nocase.csv", b"hello,world\n1,2\n"),
    ("empty.yaml", b"   \n"),
    ("binary.yaml", b"\x00\x01\x02"),
    ("latin1.yaml", "name: caf\u00e9\n".encode("latin-1")),
])
def test_upload_errors_equal_the_cli(client: httpx.Client, tmp_path: Path, monkeypatch: Any,
                                     capsys: Any, filename: str, content: bytes) -> None:
    r = client.post("/api/cases/upload", files={"file": (filename, content)})
    assert r.status_code == 422
    assert r.json()["detail"] == cli_message(tmp_path, filename, content, monkeypatch, capsys)


def test_draft_validation_equals_the_cli_and_save_keeps_sources(
        client: httpx.Client, live: LiveServer, tmp_path: Path, monkeypatch: Any,
        capsys: Any) -> None:
    doc = client.post("/api/cases/open", json={"shipped": "us_rok_2025"}).json()
    data = doc["data"]
    actor = data["actors"][0]
    assert isinstance(actor["capability"], dict) and actor["capability"]["source"]
    source = actor["capability"]["source"]
    lo, hi = actor["capability"]["range"]
    for bad in ("abc", hi * 10):
        actor["capability"]["value"] = bad
        r = client.post("/api/cases/us_rok_2025/validate", json={"data": data})
        assert r.status_code == 422
        body = r.json()
        assert body["field"].startswith("actors[0]")
        expected = cli_message(tmp_path, "us_rok_2025.yaml", body["draft"].encode(),
                               monkeypatch, capsys)
        assert body["detail"] == expected
    # outside the field's domain: the domain's message, whatever the uncertainty range says
    # (the CLI's message for the draft once the range no longer excludes the value)
    actor["capability"]["value"] = -1
    body = client.post("/api/cases/us_rok_2025/validate", json={"data": data}).json()
    assert body["detail"].endswith("capability must be >= 0, got -1")
    assert "range" not in body["detail"]
    actor["capability"]["range"] = [-1, hi]
    assert body["detail"] == cli_message(tmp_path, "us_rok_2025.yaml",
                                         yaml.safe_dump(data, sort_keys=False,
                                                        allow_unicode=True, width=100).encode(),
                                         monkeypatch, capsys)
    actor["capability"]["range"] = [lo, hi]
    actor["capability"]["value"] = lo
    # a position is checked against its issue's scale, not its range
    sma = next(i for i in data["issues"] if i["name"] == "sma_cost_sharing")["scale"]
    pos = actor["positions"]["sma_cost_sharing"]
    kept = dict(pos)
    pos["value"] = sma["max"] * 5
    body = client.post("/api/cases/us_rok_2025/validate", json={"data": data}).json()
    assert f"position {sma['max'] * 5:g} lies outside the scale" in body["detail"]
    actor["positions"]["sma_cost_sharing"] = kept
    new = round((lo + hi) / 2, 4)
    actor["capability"]["value"] = new
    issue = data["issues"][0]["name"]
    data["actors"][1]["saliences"][issue] = 0.25  # bare or sourced, both are kept
    assert client.post("/api/cases/us_rok_2025/validate", json={"data": data}).json() == {
        "ok": True}
    r = client.put("/api/cases/us_rok_2025", json={"data": data})
    assert r.status_code == 200, r.text
    saved = read_case(live.settings.data_dir / "cases" / "us_rok_2025.yaml")
    assert saved.actors[0].capability.value == new
    assert saved.actors[0].capability.source == source
    assert saved.actors[1].saliences[issue].value == 0.25
    original = read_case(Path(__file__).resolve().parents[2] / "src" / "alliancelab" / "cases"
                         / "us_rok_2025.yaml")
    for a, b in zip(saved.actors[2:], original.actors[2:], strict=True):
        assert a == b  # untouched actors keep every source, note and range
    assert saved.sources == original.sources
    # restore for other tests
    client.put("/api/cases/us_rok_2025", json={"data": yaml.safe_load(format_case(original))})


def test_forecast_every_engine_with_rounds_and_movement(client: httpx.Client) -> None:
    client.post("/api/cases/open", json={"shipped": "us_rok_2025"})
    info = client.get("/api/info").json()
    assert {"compromise", "smp", "bdm-scholz"} <= set(info["models"])
    for model in info["models"]:
        r = client.post("/api/forecast", json={"case": "us_rok_2025", "model": model,
                                               "dynamics": False})
        assert r.status_code == 200, (model, r.text)
        f = r.json()
        n, d = len(f["actors"]), len(f["issues"])
        assert len(f["forecast"]) == d
        assert all(len(rnd) == n and len(rnd[0]) == d for rnd in f["rounds"])
        if len(f["rounds"]) > 1:
            assert len(f["movement"]) == n * n
    base = client.post("/api/forecast", json={"case": "us_rok_2025"}).json()
    shocked = client.post("/api/forecast", json={
        "case": "us_rok_2025", "interventions": ["dprk_nuclear_test"]}).json()
    assert base["dynamics"]["indicators"].keys() == shocked["dynamics"]["indicators"].keys()
    # the shock moves perceptions, which drive positions in the dynamics
    assert base["dynamics"]["indicators"] != shocked["dynamics"]["indicators"]
    assert base["dynamics"]["outcomes"][-1] != shocked["dynamics"]["outcomes"][-1]
    r = client.post("/api/forecast", json={"case": "us_rok_2025", "interventions": ["nope"]})
    assert r.status_code == 422 and "unknown shock or lever 'nope'" in r.json()["detail"]


TRAVERSALS = [
    "/api/cases/..%2F..%2Fetc%2Fpasswd",
    "/api/cases/%2e%2e",
    "/api/cases/..",
    "/api/cases/us_rok_2025%2F..%2F..%2Fsecret/yaml",
    "/api/cases/..%2Fsecret/yaml",
    "/api/runs/..%2F..%2Fsecret",
    "/api/runs/abc/files/..%2F..%2Fsecret.txt",
    "/api/runs/abc/files/%2e%2e%2fsecret.txt",
    "/api/runs/..%2Fcases/files/us_rok_2025.yaml",
    "/api/explorations/..%2F..%2Fsecret",
    "/api/explorations/..%2Fsecret/analysis",
    "/static/..%2F..%2F..%2Fsecret.txt",
    "/static/../../secret.txt",
    "/static/%2e%2e/%2e%2e/%2e%2e/secret.txt",
]


def test_path_traversal_is_refused(tmp_path: Path) -> None:
    srv = start_server(Settings(data_dir=tmp_path / "data"))
    try:
        with httpx.Client(base_url=srv.url, timeout=60) as client:
            _traversals(srv, client, tmp_path)
    finally:
        srv.stop()


def _traversals(live: LiveServer, client: httpx.Client, tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("TOP SECRET")
    (tmp_path / "secret.yaml").write_text("name: TOP SECRET\n")
    client.post("/api/cases/open", json={"shipped": "us_rok_2025"})
    for url in TRAVERSALS:
        r = client.get(url)
        assert r.status_code in (404, 422), (url, r.status_code)
        assert "TOP SECRET" not in r.text
    for name in ("../evil", "..", "a/b", "x.yaml", "../secret"):
        r = client.put(f"/api/cases/{name}", json={"data": {}})
        assert r.status_code in (404, 405, 422), name
        r = client.post("/api/forecast", json={"case": name})
        assert r.status_code == 422, name
    # an uploaded file's name never becomes a path
    r = client.post("/api/cases/upload",
                    files={"file": ("../../evil.yaml", (DATA / "two_issues.yaml").read_bytes())})
    assert r.status_code == 200
    assert r.json()["name"] == "evil"
    assert (live.settings.data_dir / "cases" / "evil.yaml").exists()
    root = live.settings.data_dir.resolve()
    outside = sorted(p.name for p in tmp_path.rglob("*") if not p.resolve().is_relative_to(root))
    assert outside == ["secret.txt", "secret.yaml"]


def test_upload_size_limit(live: LiveServer, client: httpx.Client) -> None:
    limit = live.settings.max_upload_bytes
    big = b"name: big\n" + b"# padding\n" * (limit // 10 + 10)
    r = client.post("/api/cases/upload", files={"file": ("big.yaml", big)})
    assert r.status_code == 413
    assert "too large" in r.json()["detail"]
    huge = b"x" * (limit + 128 * 1024)
    r = client.post("/api/cases/upload", files={"file": ("huge.yaml", huge)})
    assert r.status_code == 413
    r = client.post("/api/cases/us_rok_2025/validate", content=b"{" + b" " * len(huge) + b"}",
                    headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert "big" not in client.get("/api/cases").json()["workspace"]


def test_token_required_off_loopback(tmp_path: Path, monkeypatch: Any) -> None:
    from alliancelab.cli import serve

    # the command generates a token when bound to anything but loopback
    seen: dict[str, Any] = {}
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(app=app, **kw))
    for host, needs in (("0.0.0.0", True), ("192.168.1.5", True), ("127.0.0.1", False),
                        ("localhost", False), ("::1", False)):
        args = argparse.Namespace(case=None, host=host, port=0, data=str(tmp_path / "d"),
                                  token=None, max_upload_mb=1.0, max_jobs=8, max_draws=500,
                                  max_experiments=50_000, request_seconds=60.0)
        assert serve.run(args) == 0
        assert (seen["app"].state.settings.token is not None) is needs, host
        assert seen["host"] == host
    # a server with a token refuses requests without it
    token = "t0ken-" + "x" * 20
    srv = start_server(Settings(data_dir=tmp_path / "tok", token=token))
    try:
        with httpx.Client(base_url=srv.url) as c:
            assert c.get("/api/info").status_code == 401
            assert c.get("/").status_code == 401
            assert c.get("/api/info", headers={"Authorization": "Bearer wrong"}
                         ).status_code == 401
            assert c.get("/api/info", headers={"Authorization": f"Bearer {token}"}
                         ).status_code == 200
            assert c.get("/api/info", headers={"X-AllianceLab-Token": token}
                         ).status_code == 200
            r = c.get(f"/?token={token}")
            assert r.status_code == 200 and "alliancelab" in r.text
            assert c.get("/api/info").status_code == 200  # the cookie the page set
    finally:
        srv.stop()


def test_host_header_checked_without_token(client: httpx.Client) -> None:
    assert client.get("/api/info", headers={"Host": "evil.example"}).status_code == 403
    assert client.get("/api/info", headers={"Host": "localhost:1234"}).status_code == 200


def test_pages_work_offline(client: httpx.Client) -> None:
    page = client.get("/").text
    assert "http://" not in page and "https://" not in page
    js = client.get("/static/plotly.min.js")
    assert js.status_code == 200 and len(js.content) > 1_000_000
    assert "default-src 'self'" in client.get("/").headers["content-security-policy"]
    assert client.get("/openapi.json").json()["info"]["title"] == "alliancelab"


def test_serve_command_imports_the_case(tmp_path: Path, monkeypatch: Any, capsys: Any) -> None:
    import uvicorn

    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(app=app, **kw))
    data = tmp_path / "data"
    assert cli_main(["serve", str(DATA / "ec_emissions.csv"), "--data", str(data),
                     "--port", "0"]) == 0
    settings = seen["app"].state.settings
    assert settings.initial_case == "ec_emissions" and settings.token is None
    assert seen["host"] == "127.0.0.1"
    assert read_case(data / "cases" / "ec_emissions.yaml") == read_case(DATA / "ec_emissions.csv")
    assert "http://127.0.0.1:0/" in capsys.readouterr().err
    # a shipped case by name; its YAML is copied as it is, comments and all
    assert cli_main(["serve", "us_rok_2007", "--data", str(data), "--port", "0"]) == 0
    from alliancelab.cases import shipped_cases

    assert (data / "cases" / "us_rok_2007.yaml").read_text() == (
        shipped_cases()["us_rok_2007"].read_text())
    # the CLI's own messages for a bad case, before any server starts
    seen.clear()
    assert cli_main(["serve", str(tmp_path / "missing.yaml"), "--data", str(data)]) == 2
    assert "missing.yaml: no such file" in capsys.readouterr().err
    assert cli_main(["serve", "--host", "0.0.0.0", "--token", "short", "--data",
                     str(data)]) == 2
    assert seen == {}


def test_job_requests_are_checked_before_any_work(client: httpx.Client) -> None:
    client.post("/api/cases/open", json={"shipped": "us_rok_2025"})
    before = (len(client.get("/api/runs").json()), len(client.get("/api/explorations").json()))
    r = client.post("/api/explorations", json={"case": "us_rok_2025", "sampler": "sobol",
                                               "n": 4096})
    assert r.status_code == 422
    assert "exceed the app's limit" in r.json()["detail"]
    r = client.post("/api/explorations", json={"case": "us_rok_2025", "sampler": "morris",
                                               "n": 1})
    assert r.status_code == 422 and r.json()["detail"] == "n: morris needs at least 2 trajectories"
    r = client.post("/api/explorations", json={"case": "us_rok_2025", "levers": ["nope"]})
    assert r.status_code == 422 and "unknown lever 'nope'" in r.json()["detail"]
    r = client.post("/api/runs", json={"case": "us_rok_2025", "draws": 10**6})
    assert r.status_code == 422 and "at most" in r.json()["detail"]
    r = client.post("/api/runs", json={"case": "us_rok_2025", "interventions": ["nope"]})
    assert r.status_code == 422
    # nothing was queued
    assert (len(client.get("/api/runs").json()),
            len(client.get("/api/explorations").json())) == before
    assert client.get("/api/runs/doesnotexist").status_code == 404
    assert client.get("/api/explorations/doesnotexist").status_code == 404


def test_forecast_speaks_in_units_and_draws_the_reports_heat_map(client: httpx.Client) -> None:
    """The what-if answer carries the forecast in the issue's units (no raw floats, no
    exponents), the report's movement heat map (its colours, range and actor order), the
    actors' colour-blind-safe styles (the report's) and the report's plotly template."""
    from alliancelab.cases import shipped_cases
    from alliancelab.report.theme import MOVEMENT_SCALE, actor_styles

    doc = client.post("/api/cases/open", json={"shipped": "us_rok_2025"}).json()
    case = read_case(shipped_cases()["us_rok_2025"])
    styles = actor_styles(case)
    assert [(a["name"], a["colour"], a["dash"], a["symbol"]) for a in doc["actors"]] == [
        (n, s.colour, s.dash, s.symbol) for n, s in styles.items()]
    assert len({a["colour"] for a in doc["actors"]}) == len(doc["actors"])
    troops = next(i for i in doc["issues"] if i["name"] == "usfk_troops")
    assert troops["decimals"] == 0 and troops["scale_text"].endswith("40,000 (reinforced)")
    f = client.post("/api/forecast", json={"case": "us_rok_2025", "model": "bdm"}).json()
    k = f["issues"].index("usfk_troops")
    text = f["forecast_text"][k]
    assert text.endswith(" troops") and "e+" not in text and "." not in text
    assert f["status_quo_text"][k] == "28,500 troops"
    fig = f["movement_figure"]
    heat = fig["data"][0]
    assert heat["type"] == "heatmap" and heat["colorscale"] == MOVEMENT_SCALE
    assert heat["y"] == f["actors"] == list(case.actor_names)
    assert fig["layout"]["yaxis"]["autorange"] == "reversed"
    assert heat["zmin"] == -heat["zmax"]
    assert f["dynamics"]["movement_figure"]["data"][0]["colorscale"] == MOVEMENT_SCALE
    info = client.get("/api/info").json()
    assert info["theme"]["layout"]["font"]["family"].startswith("Inter")
