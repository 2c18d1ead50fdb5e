"""Exploration in the Python API and the HTML reports: ``Exploration`` methods, the
standalone report (``explore --report``, ``alliancelab report STORE``, also of an unfinished
store) and the Exploration section of the ``alliancelab run`` report."""

from __future__ import annotations

import doctest
import html as h
import re
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from alliancelab.analysis.exploration import analyse, screening_table
from alliancelab.analysis.robustness import robust_overview
from alliancelab.cli import main
from alliancelab.core.errors import AllianceLabError
from alliancelab.explore import Exploration, explore
from alliancelab.explore.model import ExperimentModel
from alliancelab.explore.store import Store
from alliancelab.formats import read_case
from alliancelab.report.explore import write_report
from alliancelab.report.figures_explore import tornado

DATA = Path(__file__).parent / "data"
CASE = str(DATA / "explore_case.yaml")
PARTS = ["status", "manifest", "distributions", "sensitivity", "discovery", "robustness"]


def sections(page: str) -> dict[str, str]:
    """``<section id=...>`` -> its inner HTML (sections do not nest)."""
    found = re.findall(r'<section id="([^"]+)">(.*?)</section>', page, flags=re.S)
    assert len(found) == page.count("<section "), "a section is not closed"
    return dict(found)


def table_rows(fragment: str, element_id: str) -> list[list[str]]:
    """The body rows of the table inside the element ``element_id``, as cell texts."""
    m = re.search(rf'id="{element_id}"[^>]*>\s*<table class="tbl">(.*?)</table>', fragment,
                  flags=re.S)
    assert m, element_id
    body = re.search(r"<tbody>(.*?)</tbody>", m.group(1), flags=re.S)
    assert body
    return [[h.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td[^>]*>(.*?)</td>", r)]
            for r in re.findall(r"<tr>(.*?)</tr>", body.group(1), flags=re.S)]


def assert_self_contained(page: str) -> None:
    tags = re.sub(r"<script\b[^>]*>.*?</script>", "", page, flags=re.S | re.I)
    assert not re.search(r"""\b(src|href)\s*=\s*["']?\s*(https?:)?//""", tags, re.I)
    assert not re.search(r"<script\b[^>]*\bsrc\s*=", page, re.I)
    assert page.count("* plotly.js v") == 1
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))


@pytest.fixture(scope="module")
def case():
    return read_case(CASE)


@pytest.fixture(scope="module")
def morris_cli(tmp_path_factory):
    """``alliancelab explore ... --sampler morris --report``: levers, a shock, the report."""
    tmp = tmp_path_factory.mktemp("morris")
    report = tmp / "explore.html"
    code = main(["explore", CASE, "--n", "6", "--sampler", "morris", "--lever", "all",
                 "--shock", "all", "--models", "compromise", "--store", str(tmp / "store"),
                 "--seed", "3", "--analyse", "compromise.troops", "--report", str(report)])
    assert code == 0
    return Exploration(tmp / "store"), report.read_text(encoding="utf-8")


def test_cli_report_has_every_section(morris_cli):
    ex, page = morris_cli
    assert_self_contained(page)
    sec = sections(page)
    for part in PARTS:
        assert f"explore-{part}" in sec, part
    # status: every experiment complete, none failed
    n = ex.n_experiments
    assert f"{n:,} of {n:,} experiments stored (100.0%), 0 failed" in sec["explore-status"]
    assert "explore-incomplete" not in sec["explore-status"]
    # manifest: case hash, sampler, seed entropy and versions
    man = sec["explore-manifest"]
    for key in ("case SHA-256", "sampler", "seed entropy", "version: numpy"):
        assert f"<dt>{key}</dt>" in man
    assert f"<dd>{ex.manifest['case_hash']}</dd>" in man and "<dd>morris</dd>" in man
    assert len(table_rows(man, "explore-params")) == len(ex.parameters)
    # outcome distributions: a chart and a row per (outcome, policy)
    dist = sec["explore-distributions"]
    assert 'id="fig-explore-dist"' in dist
    assert len(table_rows(dist, "explore-summary-table")) == 2 * 4
    # sensitivity: Morris table with intervals and the tornado chart
    sens = sec["explore-sensitivity"]
    assert 'id="fig-explore-tornado"' in sens and 'id="fig-explore-screen"' in sens
    rows = table_rows(sens, "explore-sensitivity-table")
    assert rows[0][0] == "actors.White House.positions.troops"
    lo, hi = (float(x.replace(",", "")) for x in rows[0][2].split(" to "))
    assert lo <= float(rows[0][1].replace(",", "")) <= hi
    # PRIM: the trade-off chart, the chosen box and its limits
    disc = sec["explore-discovery"]
    assert 'id="fig-explore-prim"' in disc and "coverage" in disc
    assert table_rows(disc, "explore-prim-limits") and table_rows(disc, "explore-prim-trajectory")
    assert "compromise.troops &lt;" in disc  # the bad quartile when more is better
    # robust options: regret of every policy; most robust named
    rob = sec["explore-robustness"]
    assert "Most robust: <b>sustained_presence</b>" in rob
    assert {r[0] for r in table_rows(rob, "explore-regret-table")} == set(ex.policies)
    assert 'id="fig-explore-regret"' in rob
    assert len(table_rows(rob, "explore-overview")) == len(ex.outcomes)


def test_report_of_an_unfinished_store_with_failures(morris_cli, tmp_path, capsys):
    """A store cut short (as after kill -9) with failed experiments still gets a report,
    stating how many are complete and failed; Morris indices then need a rerun."""
    ex, _ = morris_cli
    store = tmp_path / "store"
    shutil.copytree(ex.directory, store)
    con = duckdb.connect(str(store / "explore.duckdb"))
    con.execute("DELETE FROM results WHERE experiment_id >= 200")
    con.execute("UPDATE results SET ok = false, error = 'FloatingPointError: diverged' "
                "WHERE experiment_id IN (3, 7, 11)")
    con.close()
    with Store(store) as st:  # a deliberate edit: record the results' new checksum
        st.reseal()
    out = tmp_path / "partial.html"
    assert main(["report", str(store), "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    sec = sections(page)
    status = sec["explore-status"]
    assert f"200 of {ex.n_experiments:,} experiments stored" in status
    assert "3 failed, 197 successful" in status
    assert 'id="explore-incomplete"' in status
    assert table_rows(status, "explore-failures") == [
        ["FloatingPointError: diverged", "3", "3, 7, 11"]]
    assert "incomplete" in sec["explore-sensitivity"]  # the note, not a table
    assert 'id="fig-explore-prim"' in sec["explore-discovery"]
    assert "200/" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["--outcome", "nope"], "unknown outcome 'nope'"),
    (["--prim", "compromise.troops>1e9"], "no experiment has compromise.troops > 1e+09"),
    (["--prim", "compromise.troops<0"], "no experiment has compromise.troops < 0"),
    (["--prim", "compromise.troops>abc"], "expected OUTCOME>X or OUTCOME<X"),
    (["--prim", "nope>3"], "unknown outcome 'nope'"),
])
def test_bad_outcome_or_threshold_exit_2_and_no_file(morris_cli, tmp_path, capsys, args,
                                                    message):
    ex, _ = morris_cli
    out = tmp_path / "r.html"
    assert main(["report", str(ex.directory), "--out", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not out.exists() and not list(tmp_path.iterdir())


def test_explore_checks_outcomes_before_running(tmp_path, capsys):
    store, out = tmp_path / "store", tmp_path / "r.html"
    assert main(["explore", CASE, "--n", "5", "--models", "compromise", "--store", str(store),
                 "--analyse", "compromise.nope", "--report", str(out)]) == 2
    assert "unknown outcome 'compromise.nope'" in capsys.readouterr().err
    assert not store.exists() and not out.exists()
    assert main(["report", str(tmp_path / "none")]) == 2
    assert "no exploration in this directory" in capsys.readouterr().err


def test_sobol_report_and_notes_for_what_cannot_be_computed(case, tmp_path):
    ex = explore(case, n=8, sampler="sobol", models=("compromise",), seed=2,
                 store=tmp_path / "s")
    out = write_report(ex, tmp_path / "sobol.html", outcome="compromise.china_stance",
                       sense="min", threshold=48.0, direction="above")
    sec = sections(out.read_text(encoding="utf-8"))
    sens = sec["explore-sensitivity"]
    head = re.search(r"<thead>(.*?)</thead>", sens, flags=re.S)
    assert head and "ST 95% interval" in head.group(1) and "S1 (first order)" in head.group(1)
    assert 'id="fig-explore-tornado"' in sens
    assert "compromise.china_stance &gt; 48" in sec["explore-discovery"]
    assert "No levers to compare" in sec["explore-robustness"]
    lhs = explore(case, n=30, sampler="lhs", models=("compromise",), seed=2,
                  store=tmp_path / "l")
    sec = sections(write_report(lhs, tmp_path / "lhs.html").read_text(encoding="utf-8"))
    assert "need a design made for them" in sec["explore-sensitivity"]


def test_where_the_most_robust_lever_fails(tmp_path):
    """On the shipped case the minimax-regret lever for OPCON transfer still has regret in
    some futures: the report lists them and the PRIM box describing them."""
    from alliancelab.cases import resolve_case

    case = read_case(resolve_case("us_rok_2025"))
    ex = explore(case, n=16, sampler="lhs", levers=["defined_roles_and_missions",
                                                   "common_end_state_vision"],
                 models=("compromise",), seed=2, store=tmp_path / "s")
    rb = ex.robustness("compromise.opcon_transfer", sense="max")
    assert rb.summary.loc[rb.most_robust, "max_regret"] > 0 and len(rb.failures) > 0
    page = write_report(ex, tmp_path / "r.html",
                        outcome="compromise.opcon_transfer").read_text()
    rob = sections(page)["explore-robustness"]
    assert f"Most robust: <b>{rb.most_robust}</b>" in rob
    rows = table_rows(rob, "explore-fail-table")
    assert len(rows) == min(10, len(rb.failures))
    top = rb.failures["regret"].max()
    assert abs(float(rows[0][-1]) - top) <= 1e-3 * max(1.0, abs(top))
    assert table_rows(rob, "explore-fail-limits")


# -- the Python API ------------------------------------------------------------------------


class _Fragile(ExperimentModel):
    """Raises for experiments whose White House troop position is above 25,000."""

    def evaluate(self, ids, X):
        col = [p.label for p in self.params].index("actors.White House.positions.troops")
        if (X[:, col] > 25_000).any():
            raise FloatingPointError("diverged")
        return super().evaluate(ids, X)


def test_api_summary_failures_frames(case, tmp_path):
    ex = explore(case, n=40, sampler="lhs", levers=["sustained_presence"],
                 models=("compromise",), seed=2, store=tmp_path, batch_size=10,
                 model_factory=_Fragile.build)
    res = ex.results()
    ok = res[res["ok"]]
    q = ex.summary().set_index(["outcome", "policy"])
    for (o, pol), row in q.iterrows():
        y = ok.loc[ok["policy"] == pol, o].to_numpy()
        assert row["n"] == len(y)
        np.testing.assert_allclose([row["q05"], row["q50"], row["q95"], row["mean"]],
                                   [*np.quantile(y, [0.05, 0.5, 0.95]), y.mean()])
    assert list(q.index.get_level_values(1)[:2]) == ["none", "sustained_presence"]
    f = ex.failures()
    assert len(f) == ex.n_failed > 0 and (f["error"] == "FloatingPointError: diverged").all()
    assert list(ex.to_frame().columns) == ["experiment_id", "scenario", "policy", "model",
                                           "outcome", "value"]
    wide = ex.to_frame(wide=True)
    assert len(wide) == len(res) and "actors.White House.positions.troops" in wide
    with pytest.raises(AllianceLabError, match="--sampler sobol"):
        ex.sensitivity("compromise.troops", method="sobol")
    with pytest.raises(AllianceLabError, match="method must be"):
        ex.sensitivity("compromise.troops", method="fast")
    with pytest.raises(AllianceLabError, match="unknown outcome"):
        ex.summary(["compromise.nope"])
    with pytest.raises(AllianceLabError, match="every experiment has"):
        ex.prim("compromise.troops", 0.0)
    with pytest.raises(AllianceLabError, match="direction must be"):
        ex.prim("compromise.troops", 1.0, direction="sideways")
    box = ex.prim("compromise.troops", 22_000, direction="below")
    assert box.boxes[box.select(0.5)].density > box.boxes[0].density
    assert ex.default_threshold("compromise.troops", "above") == pytest.approx(
        np.quantile(ok.loc[ok["policy"] == "none", "compromise.troops"], 0.75))


def test_api_sensitivity_and_tornado(case, tmp_path):
    ex = explore(case, n=6, sampler="morris", models=("compromise",), seed=1,
                 store=tmp_path)
    mi = ex.sensitivity("compromise.china_stance")
    assert "mu_star_conf" in mi and mi.loc["actors.Seoul.saliences.troops", "mu_star"] == 0.0
    fig = tornado(mi, top=5)
    assert len(fig.data) == 1 and len(fig.data[0].y) == 5 and fig.data[0].y[-1] == mi.index[0]


def test_results_docstring_examples_run():
    import alliancelab.explore.results as mod

    res = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert res.attempted >= 10 and res.failed == 0


# -- the Exploration section of alliancelab run --------------------------------------------


@pytest.fixture(scope="module")
def run_results(case):
    from alliancelab.jobs.run import run_job

    return run_job(case, models=["compromise"], draws=3, effect_draws=0, alliance_draws=0,
                   seed=7, explore_n=20, explore_outcome="troops")


def test_run_report_has_an_exploration_section(run_results):
    from alliancelab.report import render

    a = run_results.exploration
    assert a is not None and a.outcome == "compromise.troops" and a.complete
    assert a.manifest["sampler"] == "lhs" and a.manifest["n_scenarios"] == 20
    assert a.sensitivity_manifest["sampler"] == "morris" and a.sensitivity is not None
    assert "exploration" in run_results.timings
    page = render(run_results)
    assert_self_contained(page)
    sec = sections(page)["exploration"]
    for part in PARTS:
        assert f'id="explore-{part}"' in sec, part
    for fig in ("dist", "tornado", "screen", "prim", "regret"):
        assert f'id="fig-explore-{fig}"' in sec, fig
    assert "<details>" in sec  # the sweep's manifest is folded away
    assert "Most robust: <b>sustained_presence</b>" in sec
    assert '<a href="#exploration">' in page


def test_run_exploration_is_seeded_and_skippable(case, run_results):
    from alliancelab.jobs.run import run_job
    from alliancelab.report import render

    again = run_job(case, models=["compromise"], draws=3, effect_draws=0, alliance_draws=0,
                    seed=7, explore_n=20, explore_outcome="compromise.troops")
    pd.testing.assert_frame_equal(again.exploration.summary, run_results.exploration.summary)
    assert again.exploration.manifest["entropy"] == run_results.exploration.manifest["entropy"]
    off = run_job(case, models=["compromise"], draws=3, effect_draws=0, alliance_draws=0,
                  seed=7, explore_n=0)
    assert off.exploration is None and "exploration" not in off.timings
    assert "--explore-n 0" in sections(render(off))["exploration"]
    with pytest.raises(AllianceLabError, match="unknown outcome 'nope'"):
        run_job(case, models=["compromise"], draws=3, explore_n=5, explore_outcome="nope")


def test_run_cli_rejects_a_bad_explore_outcome(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", CASE, "--explore-outcome", "nope", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "--explore-outcome: unknown outcome 'nope'" in err and err.count("\n") == 1
    assert not out.exists()
    assert main(["run", CASE, "--explore-n", "-1", "--out", str(out)]) == 2
    assert not out.exists()


def test_report_tables_agree_with_the_analysis_functions(morris_cli):
    """The report's one-pass tables equal the per-outcome functions they summarise."""
    ex, _ = morris_cli
    ov = robust_overview(ex.policy_tables()).set_index("outcome")
    for o in ex.outcomes:
        for sense, what in (("max", "more is better"), ("min", "less is better")):
            worst = ex.regret(o, sense=sense).max()
            assert ov.loc[o, f"{what}: max regret"] == pytest.approx(worst.min())
            name = ov.loc[o, f"{what}: most robust"]
            assert name.startswith(("tie", "all tie")) or worst[name] == worst.min()
    screen = screening_table(ex)
    for o in ex.outcomes:
        mi = ex.sensitivity(o)
        expect = (mi["mu_star"] / mi["mu_star"].max()).reindex(screen.index)
        np.testing.assert_allclose(screen[o].to_numpy(), expect.to_numpy())


def test_summary_is_bitwise_reproducible_across_executors(case, tmp_path):
    """The outcome summary (and so the report) does not depend on the order in which
    batches were stored: sequential with small batches equals two workers with others."""
    one = explore(case, n=400, sampler="lhs", levers=["sustained_presence"],
                  models=("compromise",), seed=1, store=tmp_path / "a", batch_size=7)
    two = explore(case, n=400, sampler="lhs", levers=["sustained_presence"],
                  models=("compromise",), seed=1, store=tmp_path / "b", batch_size=50,
                  workers=2)
    pd.testing.assert_frame_equal(one.summary(), two.summary(), check_exact=True)


def test_run_section_on_a_case_with_nothing_to_sample():
    from alliancelab.jobs.run import run_job
    from alliancelab.report import render

    case = read_case(DATA / "ec_emissions.csv")
    res = run_job(case, models=["compromise"], draws=2, seed=2, explore_n=10)
    assert res.exploration is None
    sec = sections(render(res))["exploration"]
    assert "Exploration skipped: the case has no ranges or shocks to sample." in sec


def test_report_renders_offline_in_a_browser(morris_cli, tmp_path):
    """Headless Chromium opens the report from disk with every network request refused:
    each chart is drawn and the page raises no error."""
    sync_api = pytest.importorskip("playwright.sync_api")
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip("/usr/bin/chromium is absent")
    _, page_html = morris_cli
    path = tmp_path / "r.html"
    path.write_text(page_html, encoding="utf-8")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), headless=True,
                                     args=["--no-sandbox", "--disable-gpu"])
        try:
            pg = browser.new_page()
            errors: list[str] = []
            outside: list[str] = []
            pg.on("pageerror", lambda e: errors.append(str(e)))
            pg.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:")
                     else (outside.append(r.request.url), r.abort()))
            pg.goto(path.as_uri())
            pg.wait_for_function(
                "document.querySelectorAll('.js-plotly-plot .main-svg').length >= 5")
            figs = pg.eval_on_selector_all(".js-plotly-plot", "els => els.map(e => e.id)")
            assert set(figs) == {"fig-explore-dist", "fig-explore-tornado", "fig-explore-screen",
                                 "fig-explore-prim", "fig-explore-regret"}
            assert pg.locator("#fig-explore-dist .updatemenu-container").count() == 1
        finally:
            browser.close()
    assert not errors and not outside


def test_analyse_is_what_the_report_shows(morris_cli):
    """The one analysis (the web app calls it too): its default PRIM box is the bad quartile
    under the policy none, the densest box with coverage >= 0.5."""
    ex, page = morris_cli
    a = analyse(ex, outcome="compromise.troops")
    assert a.prim_direction == "below" and a.prim_outcome == "compromise.troops"
    assert a.prim_threshold == pytest.approx(ex.default_threshold("compromise.troops", "below"))
    assert a.prim_box == a.prim.select(0.5)
    box = a.prim.boxes[a.prim_box]
    assert f"coverage {box.coverage:.2f}, density {box.density:.2f}" in page
    assert a.robustness.most_robust == "sustained_presence"


def test_report_gives_quasi_p_stability_and_small_sample_warnings(morris_cli):
    """The PRIM box of a small exploration: each restriction's quasi-p-value and bootstrap
    stability in the limits table, and the warnings the analysis gives, in the page."""
    ex, page = morris_cli
    a = analyse(ex, outcome="compromise.troops")
    lim, warnings = a.prim.assess(a.prim_box)
    disc = sections(page)["explore-discovery"]
    head = disc[disc.index('id="explore-prim-limits"'):]
    head = head[:head.index("</thead>")]
    assert "<th class=\"num\">quasi-p</th>" in head and "stability" in head
    rows = table_rows(disc, "explore-prim-limits")
    assert [r[0] for r in rows] == list(lim.index)
    assert [r[-1] for r in rows] == [f"{100 * v:.0f} %" for v in lim["stability"]]
    assert a.prim.n_points < 200 and warnings  # a morris design of 6 trajectories
    for w in warnings:
        assert h.escape(w, quote=False) in disc or h.escape(w) in disc
    assert 'id="explore-prim-warnings"' in disc
