"""The analyst's journeys through the web app, in Debian's headless Chromium (Playwright):
open or upload a case, edit it in tables with the CLI's messages and save it, forecast with
every engine and compare shocks and levers side by side, explore and read the analyses,
run the report and download its files. Screenshots go to test-artifacts/web/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from alliancelab import read_case
from alliancelab.cases import shipped_cases
from alliancelab.cli import main as cli_main
from alliancelab.web.workspace import draft_yaml

from .conftest import shot

DATA = Path(__file__).resolve().parents[1] / "data"


def cli_message(tmp_path: Path, filename: str, content: bytes, monkeypatch: Any,
                capsys: Any) -> str:
    (tmp_path / filename).write_bytes(content)
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert cli_main(["forecast", filename]) == 2
    return capsys.readouterr().err.strip().removeprefix("alliancelab: error: ")


def open_shipped(page: Any, name: str = "us_rok_2025") -> None:
    page.click("#tab-case")
    page.click(f"button[data-shipped='{name}']")
    page.wait_for_selector("#table-positions input")
    page.wait_for_function(f"document.getElementById('case-title').textContent.startsWith('{name}')")


def test_open_edit_validate_save_download(page: Any, live: Any, tmp_path: Path,
                                          monkeypatch: Any, capsys: Any) -> None:
    import httpx

    httpx.delete(f"{live.url}/api/cases/us_rok_2025")  # start from the shipped file
    open_shipped(page)
    shipped = httpx.get(f"{live.url}/api/cases/us_rok_2025").json()["data"]
    cap = page.locator("input[data-path='actors[0].capability']")
    assert "source:" in cap.get_attribute("title")  # the source is shown on hover

    # a typo: the page shows the CLI's message for the same YAML and marks the cell
    cap.fill("abc")
    page.wait_for_selector("#validation.error")
    draft = yaml.safe_load(draft_yaml(shipped))
    draft["actors"][0]["capability"]["value"] = "abc"
    expected = cli_message(tmp_path, "us_rok_2025.yaml", draft_yaml(draft).encode(),
                           monkeypatch, capsys)
    assert page.text_content("#validation") == expected
    assert "expected a number, got the text 'abc'" in expected
    assert "invalid" in cap.get_attribute("class")
    shot(page, "case-validation-error")

    # a salience above 1: the domain's message (not the range's), the cell marked
    issue = shipped["issues"][0]["name"]
    sal = page.locator(f"input[data-path='actors[1].saliences.{issue}']")
    cap.fill("5")
    sal.fill("1.5")
    page.wait_for_function(
        "document.getElementById('validation').textContent.includes('.saliences')")
    text = page.text_content("#validation")
    assert f"salience on '{issue}' must lie in [0, 1], got 1.5" in text
    assert "range" not in text
    assert "invalid" in sal.get_attribute("class")

    # a capability below 0: "must be >= 0", not its range
    cap.fill("-1")
    page.wait_for_function(
        "document.getElementById('validation').textContent.includes('must be >= 0')")
    assert "invalid" in cap.get_attribute("class")
    shot(page, "case-domain-error")

    # a capability outside its uncertainty range but in its domain: accepted, the range
    # moves with the value (the range is the uncertainty, not an edit limit)
    lo, hi = shipped["actors"][0]["capability"]["range"]
    cap.fill("5")
    sal.fill("0.85")
    page.wait_for_selector("#validation.ok")
    cap.fill(str(hi * 10))
    page.wait_for_function(
        "document.getElementById('validation').textContent.includes('range moved')")
    assert page.get_attribute("#validation", "class") == "ok"
    moved = page.evaluate("state.draft.actors[0].capability.range")
    assert moved[0] <= hi * 10 <= moved[1] and moved[1] - moved[0] == pytest.approx(hi - lo)
    cap.fill("5")  # back inside: the range moves back with it
    page.wait_for_selector("#validation.ok")

    # valid edits in every table (inside each value's stated range)
    sal.fill("0.85")
    page.locator(f"input[data-path='actors[2].positions.{issue}']").fill("27500")
    page.locator("input[data-path='actors[4].perceptions.threats.dprk']").fill("0.65")
    page.locator("input[data-path='actors[3].group']").fill("US")
    page.wait_for_selector("#validation.ok")
    page.click("#save-case")
    page.wait_for_function("document.getElementById('toast').textContent.startsWith('saved')")
    shot(page, "case-edited")

    with page.expect_download() as dl:
        page.click("#download-yaml")
    path = tmp_path / "downloaded.yaml"
    dl.value.save_as(path)
    case = read_case(path)
    original = read_case(shipped_cases()["us_rok_2025"])
    assert case.actors[0].capability.value == 5
    assert case.actors[0].capability.source == original.actors[0].capability.source
    assert case.actors[0].capability.range == original.actors[0].capability.range
    assert case.actors[1].saliences[issue].value == 0.85
    assert case.actors[1].saliences[issue].source == original.actors[1].saliences[issue].source
    assert case.actors[2].positions[issue].value == 27500
    assert case.actors[4].perceptions.threats["dprk"].value == 0.65
    assert case.actors[4].perceptions.threats["dprk"].source == (
        original.actors[4].perceptions.threats["dprk"].source)
    assert case.sources == original.sources
    assert case.actors[5:] == original.actors[5:]


def test_upload_every_format_edit_actors_and_bad_file(page: Any, live: Any, tmp_path: Path,
                                                      monkeypatch: Any, capsys: Any) -> None:
    for file, first_actor in ((DATA / "ec_emissions.csv", "Netherlands"),
                              (DATA / "ktab" / "dummyData_3Dim.csv", None),
                              (DATA / "two_issues.yaml", None)):
        page.set_input_files("#upload-file", str(file))
        page.click("#upload-button")
        page.wait_for_function(
            f"document.getElementById('case-title').textContent.startsWith('{file.stem}')")
        expected = read_case(file)
        names = page.locator("input[data-path$='].name']")
        assert names.count() == len(expected.actors)
        assert names.first.input_value() == (first_actor or expected.actors[0].name)
    shot(page, "case-uploaded")

    # add an actor and remove another, then save
    import httpx

    name = page.text_content("#case-title").split(":")[0]
    url = f"{live.url}/api/cases/{name}"
    before = [a["name"] for a in httpx.get(url).json()["actors"]]
    page.click("#add-actor")
    page.wait_for_selector("#validation.ok")
    assert page.locator("input[data-path$='].name']").count() == len(before) + 1
    page.locator(f"input[data-path='actors[{len(before)}].capability']").fill("2")
    page.click("button.remove-actor[data-actor='0']")
    page.wait_for_selector("#validation.ok")
    page.click("#save-case")
    page.wait_for_function("document.getElementById('toast').textContent.startsWith('saved')")
    after = httpx.get(url).json()["data"]["actors"]
    assert [a["name"] for a in after] == [*before[1:], "New actor 1"]
    assert after[-1]["capability"] == 2

    bad = tmp_path / "up" / "bad.csv"
    bad.parent.mkdir()
    content = b"Actor,Capability,Position,Salience\nA,1,2,0.5\nB,-1,2,0.5\n"
    bad.write_bytes(content)
    page.set_input_files("#upload-file", str(bad))
    page.click("#upload-button")
    page.wait_for_function("document.getElementById('upload-error').textContent.length > 0")
    assert page.text_content("#upload-error") == cli_message(
        tmp_path, "bad.csv", content, monkeypatch, capsys)


def test_forecast_every_engine_and_compare(page: Any) -> None:
    open_shipped(page)
    page.click("#tab-forecast")
    models = page.eval_on_selector_all("#fc-model option", "os => os.map(o => o.value)")
    assert {"compromise", "bdm-scholz", "smp"} <= set(models)

    def run(expect_runs: int) -> None:
        page.click("#fc-run")
        page.wait_for_function(
            f"document.querySelectorAll('#table-compare tr:first-child th').length "
            f"=== {2 + expect_runs}")
        page.wait_for_selector("#fc-run:not([disabled])")
        assert page.text_content("#fc-error") == ""

    for k, model in enumerate(models[:6]):
        page.select_option("#fc-model", model)
        run(k + 1)
        page.wait_for_selector("#plot-trajectory .main-svg")
        if model in ("bdm-scholz", "smp"):
            # an iterative engine: one point per round for every actor
            n_points = page.evaluate(
                "document.getElementById('plot-trajectory').data[0].x.length")
            assert n_points > 2
            assert "rounds" in page.text_content("#movement-source")
            shot(page, f"forecast-{model}")
    page.click("#fc-clear")
    page.wait_for_selector("#compare-card", state="hidden")

    # shocks and levers side by side (compromise, with the perception dynamics)
    page.select_option("#fc-model", "compromise")
    run(1)
    page.check("#fc-shocks-dprk_nuclear_test")
    run(2)
    page.uncheck("#fc-shocks-dprk_nuclear_test")
    page.check("#fc-levers-strategic_diplomacy")
    run(3)
    header = page.eval_on_selector_all("#table-compare tr:first-child th",
                                       "ths => ths.map(t => t.textContent)")
    assert header[2:] == ["#1 compromise", "#2 compromise + dprk_nuclear_test",
                          "#3 compromise + strategic_diplomacy"]
    rows = page.eval_on_selector_all(
        "#table-compare tr", "trs => trs.map(tr => [...tr.children].map(c => c.textContent))")
    risk = next(r for r in rows if r[0].startswith("miscalculation_risk"))
    assert risk[2] != risk[3]  # the shock changes the indicator
    page.select_option("#fc-source", "dynamics")
    page.wait_for_function("document.getElementById('plot-trajectory').data[0].x.length > 2")
    shot(page, "forecast-compare")

    # every chart has its axis titles drawn (plotly.js 3+ ignores a bare string title)
    for plot in ("plot-trajectory", "plot-movement", "plot-compare"):
        titles = page.eval_on_selector_all(
            f"#{plot} .xtitle, #{plot} .ytitle", "ts => ts.map(t => t.textContent)")
        assert len([t for t in titles if t.strip()]) >= 2, (plot, titles)
    assert "% of the issue's scale" in " ".join(page.eval_on_selector_all(
        "#plot-compare .ytitle", "ts => ts.map(t => t.textContent)"))
    # one colour per actor, the report's, and the report's heat-map rows (case order, top down)
    colours = page.evaluate("document.getElementById('plot-trajectory').data"
                            ".filter(t => t.name !== 'outcome per round' && t.name !== 'forecast')"
                            ".map(t => t.line.color)")
    assert len(colours) == 11 and len(set(colours)) == 11
    heat = page.evaluate("document.getElementById('plot-movement').data[0]")
    actors = page.evaluate("state.doc.actors.map(a => a.name)")
    assert heat["y"] == actors
    y0, y1 = page.evaluate("document.getElementById('plot-movement')._fullLayout.yaxis.range")
    assert y0 > y1  # reversed: the first actor on top
    # numbers in units: no raw floats or exponents in the comparison
    cells = " ".join(" ".join(r) for r in page.eval_on_selector_all(
        "#table-compare tr", "trs => trs.map(tr => [...tr.children].map(c => c.textContent))"))
    assert "e+" not in cells and "28,500 troops" in cells


def test_explore_progress_and_analyses(page: Any) -> None:
    page.add_init_script("""
      window.__exStatus = [];
      new MutationObserver(() => {
        const s = document.getElementById('ex-status');
        if (s) window.__exStatus.push(s.textContent);
      }).observe(document, {subtree: true, childList: true, characterData: true});
    """)
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    open_shipped(page)
    page.click("#tab-explore")
    page.select_option("#ex-sampler", "morris")
    page.fill("#ex-n", "2")
    page.check("#ex-levers-sustained_usfk_presence")
    page.check("#ex-levers-rapid_troop_reduction")
    page.click("#ex-run")
    page.wait_for_selector("#ex-result:not([hidden])", timeout=120_000)
    statuses = page.evaluate("window.__exStatus")
    assert any(s.startswith("running") for s in statuses), statuses
    assert statuses[-1].startswith("done")
    done = [int(s.split(": ")[1].split(" / ")[0]) for s in statuses if " / " in s]
    assert done == sorted(done) and done[-1] > 0  # progress only goes forward
    assert page.evaluate("document.getElementById('ex-bar').value") == page.evaluate(
        "document.getElementById('ex-bar').max")
    page.wait_for_selector("#plot-tornado .main-svg")
    assert "morris" in page.text_content("#ex-sens-msg")
    assert "coverage" in page.text_content("#ex-prim-msg")
    assert "most robust (minimax regret):" in page.text_content("#ex-rob-msg")
    assert page.locator("#table-robust tr").count() == 4  # header + 3 policies
    assert page.locator("#table-ex-summary tr").count() > 1
    shot(page, "explore-results")
    outcomes = page.eval_on_selector_all("#ex-outcome option", "os => os.map(o => o.value)")
    other = next(o for o in outcomes if "indicator" in o or "risk" in o) if any(
        "risk" in o for o in outcomes) else outcomes[-1]
    page.select_option("#ex-outcome", other)
    page.wait_for_function(
        f"document.getElementById('ex-prim-msg').textContent.startsWith({other!r})")


def test_report_view_and_download(page: Any, tmp_path: Path) -> None:
    open_shipped(page)
    page.click("#tab-report")
    page.fill("#rp-draws", "3")
    page.check("#rp-levers-joint_threat_assessment")
    page.click("#rp-run")
    page.wait_for_selector("#rp-files li", timeout=150_000)
    assert page.text_content("#rp-error") == ""
    names = page.eval_on_selector_all("#rp-files li a:first-child",
                                      "as => as.map(a => a.textContent)")
    assert {"report.html", "forecasts.csv", "trajectories.csv", "results.json",
            "manifest.json"} <= set(names)
    frame = page.frame_locator("#rp-frame")
    frame.locator("body").wait_for()
    assert "joint_threat_assessment" in frame.locator("body").inner_text()
    page.wait_for_timeout(500)
    shot(page, "report")
    with page.expect_download() as dl:
        page.click("#rp-files li:has-text('forecasts.csv') a.download")
    path = tmp_path / "forecasts.csv"
    dl.value.save_as(path)
    df = pd.read_csv(path)
    assert {"model", "issue", "forecast", "p5", "p95"} <= set(df.columns)
    assert len(df) > 0


def test_page_with_a_token(browser: Any, tmp_path: Path) -> None:
    from alliancelab.web import Settings

    from .conftest import start_server

    token = "a-token-of-sufficient-length"
    srv = start_server(Settings(data_dir=tmp_path / "data", token=token))
    ctx = browser.new_context()
    try:
        pg = ctx.new_page()
        assert pg.goto(srv.url + "/").status == 401
        pg.goto(f"{srv.url}/?token={token}")
        pg.wait_for_selector("body[data-ready='1']")
        open_shipped(pg, "us_rok_2007")
        pg.click("#tab-forecast")
        pg.click("#fc-run")
        pg.wait_for_selector("#plot-trajectory .main-svg")
    finally:
        ctx.close()
        srv.stop()
