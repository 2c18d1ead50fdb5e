"""Results in a notebook (issue 14): short reprs that name what a result is, compact
``_repr_html_`` tables, ``Forecast.plot()`` and the tidy frame's ``model`` column, and
``progress=True`` on the long calls of the API."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

import alliancelab
from alliancelab import AllianceLabError
from alliancelab.core.display import MAX_REPR, html_card, number, short
from alliancelab.explore import explore
from alliancelab.jobs.run import run_job

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def case() -> alliancelab.Case:
    return alliancelab.read_case("us_rok_2025")


@pytest.fixture(scope="module")
def forecasts(case: alliancelab.Case) -> dict[str, alliancelab.Forecast]:
    return {m: alliancelab.forecast(case, m, rng=1) for m in ("compromise", "bdm")}


@pytest.fixture(scope="module")
def exploration(case: alliancelab.Case, tmp_path_factory: pytest.TempPathFactory):
    return explore(case, n=12, models=("compromise",), levers=["sustained_usfk_presence"],
                   seed=3, store=tmp_path_factory.mktemp("ex"))


def _is_compact_html(html: str) -> None:
    assert html.startswith("<div") and "<table>" in html and html.endswith("</div>")
    assert len(html) < 20_000
    assert html.count("<tr>") <= 22  # header + at most 20 rows + the "more" row


def test_case_repr_names_the_case_and_its_size(case: alliancelab.Case) -> None:
    text = repr(case)
    assert len(text) <= MAX_REPR
    assert text.startswith("Case('us_rok_2025'")
    assert f"{len(case.actors)} actors × {len(case.issues)} issues" in text
    assert str(case) == text  # str stays one readable line, not the 95k-character dump
    html = case._repr_html_()
    _is_compact_html(html)
    for issue in case.issue_names:
        assert issue in html
    assert "US President" in html  # the actors are named


def test_forecast_repr_and_html(forecasts: dict[str, alliancelab.Forecast]) -> None:
    f = forecasts["bdm"]
    text = repr(f)
    assert len(text) <= MAX_REPR
    assert text.startswith("Forecast('bdm'") and f"{f.n_rounds} rounds" in text
    assert "seed 1" in text and "usfk_troops" in text
    assert "one shot" in repr(forecasts["compromise"])
    html = f._repr_html_()
    _is_compact_html(html)
    assert f"{len(f.issues)} issues" in html
    assert number(f.forecast[0]) in html


def test_to_frame_has_the_model_column_and_concatenates(
        forecasts: dict[str, alliancelab.Forecast]) -> None:
    frames = [f.to_frame() for f in forecasts.values()]
    assert list(frames[0].columns) == ["model", "round", "actor", "issue", "position"]
    both = pd.concat(frames, ignore_index=True)
    assert set(both["model"]) == {"compromise", "bdm"}
    last = both[(both["model"] == "bdm") & (both["round"] == forecasts["bdm"].n_rounds)]
    assert len(last) == len(forecasts["bdm"].actors) * len(forecasts["bdm"].issues)


def test_plot_of_every_issue_shows_each_model_and_the_status_quo(
        case: alliancelab.Case, forecasts: dict[str, alliancelab.Forecast]) -> None:
    bdm, comp = forecasts["bdm"], forecasts["compromise"]
    fig = bdm.plot(case=case, others=[comp])
    assert isinstance(fig, go.Figure)
    by_name: dict[str, list[go.Scatter]] = {}
    for trace in fig.data:
        by_name.setdefault(trace.name, []).append(trace)
    d = len(case.issues)
    assert len(by_name["bdm"]) == len(by_name["compromise"]) == d
    assert [float(t.x[0]) for t in by_name["bdm"]] == pytest.approx(list(bdm.forecast))
    with_sq = [i for i in case.issues if i.status_quo is not None]
    assert [float(t.x[0]) for t in by_name["status quo"]] == [i.status_quo.value
                                                              for i in with_sq]
    # each panel's axis is the issue's scale, and its title names the units
    assert tuple(fig.layout.xaxis.range) == (case.issues[0].scale.min, case.issues[0].scale.max)
    assert fig.layout.annotations[0].text == "usfk_troops (troops)"
    # without the case it still plots (no status quo, the positions set the axes)
    assert "status quo" not in {t.name for t in bdm.plot().data}


def test_plot_of_one_issue_shows_positions_by_round(
        case: alliancelab.Case, forecasts: dict[str, alliancelab.Forecast]) -> None:
    bdm = forecasts["bdm"]
    fig = bdm.plot("usfk_troops", case=case)
    lines = [t for t in fig.data if t.mode == "lines+markers"]
    assert [t.name for t in lines] == list(bdm.actors)
    k = bdm.issues.index("usfk_troops")
    np.testing.assert_allclose(lines[0].y, bdm.rounds[:, 0, k])
    assert list(lines[0].x) == list(range(bdm.n_rounds + 1))
    assert len({t.line.color for t in lines}) == len(lines)  # a colour per actor
    hlines = [s for s in fig.layout.shapes if s.type == "line"]
    assert any(s.y0 == pytest.approx(bdm.forecast[k]) for s in hlines)
    assert fig.layout.yaxis.title.text == "position (troops)"
    with pytest.raises(AllianceLabError, match="unknown issue 'nope'"):
        bdm.plot("nope")


def test_plot_refuses_forecasts_of_other_issues(
        forecasts: dict[str, alliancelab.Forecast]) -> None:
    other = alliancelab.forecast(alliancelab.read_case(DATA / "two_issues.yaml"), "median")
    with pytest.raises(AllianceLabError, match="other actors or issues"):
        forecasts["bdm"].plot(others=[other])


def test_run_results_repr_and_html(case: alliancelab.Case,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    res = run_job(case, models=("compromise", "median"), draws=4, effect_draws=0,
                  alliance_draws=0, progress=True)
    err = capsys.readouterr().err
    assert re.search(r"Monte Carlo compromise: 4/4 \(100%\)", err), err
    text = repr(res)
    assert len(text) <= MAX_REPR
    assert text.startswith("RunResults('us_rok_2025'")
    assert "models compromise, median" in text and "4 draws" in text and "seed 0" in text
    assert str(res) == text
    html = res._repr_html_()
    _is_compact_html(html)
    assert "per model: median [5%, 95%]" in html and "usfk_troops" in html
    assert "<th style='text-align:left'>median</th>" in html


def test_exploration_and_prim_reprs(exploration, capsys: pytest.CaptureFixture[str]) -> None:
    text = repr(exploration)
    assert len(text) <= MAX_REPR
    assert text.startswith("Exploration('us_rok_2025'") and "24/24 experiments" in text
    assert "12 scenarios × 2 policies" in text and "seed 3" in text
    _is_compact_html(exploration._repr_html_())
    box = exploration.prim("compromise.usfk_troops", direction="below")
    text = repr(box)
    assert len(text) <= MAX_REPR and text.startswith("PrimResult(")
    assert f"{len(box.boxes)} boxes over {len(box.columns)} dimensions" in text
    html = box._repr_html_()
    assert "PRIM" in html and "<table>" in html
    for name in box.boxes[box.select(0.5)].restricted:
        assert name in html


def test_explore_progress_true_prints_plain_lines(case: alliancelab.Case, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    explore(case, n=4, models=("compromise",), seed=1, store=tmp_path, progress=True)
    err = capsys.readouterr().err.splitlines()
    assert err[-1].startswith("explore: 4/4 (100%)")
    assert all("\x1b" not in line and "\r" not in line for line in err)


def test_short_cuts_long_reprs_and_html_escapes() -> None:
    assert len(short("X", "a" * 1000)) == MAX_REPR
    card = html_card("<b>", ["x & y"], ("h",), [("<i>",)] * 30)
    assert "&lt;b&gt;" in card and "x &amp; y" in card and "10 more" in card
    assert [number(x) for x in (24812.4, 6.083, 0.0123, 3.0, None, float("nan"))] == [
        "24,812", "6.08", "0.0123", "3", "-", "-"]
