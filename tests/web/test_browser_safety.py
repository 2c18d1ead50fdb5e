"""The web app's safety and error fixes seen from Debian's headless Chromium: a page of
another origin cannot upload a case (issue 13), a schema error shows as one clear line on
the page (issue 14), ``/docs`` renders offline, and a running exploration can be cancelled
from the page."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import LiveServer, free_port, shot

DATA = Path(__file__).resolve().parents[1] / "data"

ATTACK = """<!doctype html><html><body><script>
const fd = new FormData();
fd.append("file", new Blob([%s], {type: "application/x-yaml"}), "pwned.yaml");
fetch("%s/api/cases/upload", {method: "POST", body: fd, mode: "no-cors",
                                credentials: "include"})
  .then(() => { document.title = "sent"; }, (e) => { document.title = "failed " + e; });
</script></body></html>"""


@pytest.fixture()
def attacker(tmp_path: Path, live: LiveServer) -> Iterator[str]:
    """Another origin on this machine (another port of loopback) serving a page that posts
    a multipart upload to the app, as a malicious page in the user's browser would."""
    import json

    (tmp_path / "index.html").write_text(
        ATTACK % (json.dumps((DATA / "two_issues.yaml").read_text()), live.url))
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(  # noqa: E731
        *a, directory=str(tmp_path))
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def test_a_page_of_another_origin_cannot_upload(browser: Any, live: LiveServer,
                                                attacker: str) -> None:
    before = httpx.get(live.url + "/api/cases").json()["workspace"]
    ctx = browser.new_context()
    try:
        pg = ctx.new_page()
        seen: list[str] = []
        pg.on("request", lambda r: seen.append(r.url) if "/api/" in r.url else None)
        with pg.expect_response(lambda r: r.url == live.url + "/api/cases/upload") as info:
            pg.goto(attacker + "/index.html")
        pg.wait_for_function("document.title !== ''", timeout=15_000)
        assert pg.title() == "sent"  # the browser did send it (no-cors needs no preflight)
        assert info.value.status == 403  # refused by the Origin / Sec-Fetch-Site check
    finally:
        ctx.close()
    assert seen == [live.url + "/api/cases/upload"]
    after = httpx.get(live.url + "/api/cases").json()["workspace"]
    assert after == before and not any(n.startswith("pwned") for n in after)


def test_the_app_page_still_uploads(page: Any, live: LiveServer) -> None:
    page.set_input_files("#upload-file", str(DATA / "two_issues.yaml"))
    page.click("#upload-button")
    page.wait_for_function("document.getElementById('case-title').textContent"
                           ".startsWith('two_issues')")
    assert page.text_content("#upload-error") == ""


def test_a_schema_error_is_one_clear_line_on_the_page(page: Any) -> None:
    page.click("#tab-case")
    page.click("button[data-shipped='us_rok_2025']")
    page.wait_for_selector("#table-positions input")
    page.click("#tab-explore")
    page.fill("#ex-n", "0")
    page.click("#ex-run")
    page.wait_for_function("document.getElementById('ex-error').textContent !== ''")
    assert page.text_content("#ex-error") == "n: must be >= 1, got 0"
    page.click("#tab-report")
    page.fill("#rp-draws", "0")
    page.click("#rp-run")
    page.wait_for_function("document.getElementById('rp-error').textContent !== ''")
    assert page.text_content("#rp-error") == "draws: must be >= 1, got 0"
    shot(page, "report-schema-error")


def test_docs_page_offline(browser: Any, live: LiveServer) -> None:
    ctx = browser.new_context()
    try:
        pg = ctx.new_page()
        outside: list[str] = []
        pg.on("request", lambda r: None if r.url.startswith(live.url)
              else outside.append(r.url))
        assert pg.goto(live.url + "/docs").status == 200
        assert pg.locator("h3").count() >= 16
        assert "POST /api/cases/upload" in pg.inner_text("body")
        shot(pg, "api-docs")
        assert outside == []
    finally:
        ctx.close()


def test_cancel_an_exploration_from_the_page(page: Any) -> None:
    page.click("#tab-case")
    page.click("button[data-shipped='us_rok_2025']")
    page.wait_for_selector("#table-positions input")
    page.click("#tab-explore")
    page.select_option("#ex-sampler", "lhs")
    page.fill("#ex-n", "19000")
    page.click("#ex-run")
    page.wait_for_selector("#ex-cancel:not([hidden])")
    page.wait_for_function(
        "document.getElementById('ex-status').textContent.startsWith('running')")
    page.click("#ex-cancel")
    page.wait_for_function(
        "document.getElementById('ex-status').textContent.startsWith('cancelled')",
        timeout=60_000)
    assert page.is_hidden("#ex-cancel")
    assert not page.is_disabled("#ex-run")
    assert page.text_content("#ex-error") == ""
