"""Console output a person reads (issue 14): numbers in the issue's units at the scale's
precision, never an exponent, never a number cut at 80 columns, the same numbers as the
``--json`` document; ``--json``/``--csv`` on every command that produces results; the run
summary headlines :func:`alliancelab.report.findings.headline_rows`, each with its meaning."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from alliancelab.cases import resolve_case
from alliancelab.cli import main
from alliancelab.cli._output import Col, column_widths, fitted_table, wrap_text
from alliancelab.core import units
from alliancelab.core.case import Scale
from alliancelab.formats import read_case

DATA = Path(__file__).parent / "data"
MINI = DATA / "mini_alliance.yaml"
EXPLORE_CASE = DATA / "explore_case.yaml"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
#: a number as the console prints it: optional sign, thousands separators, decimals
NUMBER = re.compile(r"(?<![\w.])[-+]?\d{1,3}(?:,\d{3})*(?:\.\d+)?(?![\w.])|"
                    r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?![\w.])")
TROOPS = Scale(min=0, max=40000, units="troops")
BN = Scale(min=0, max=10, units="US$ bn per year")
GDP = Scale(min=0, max=6, units="% of GDP")
POINTS = Scale(min=0, max=100)


def console_text(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                 argv: list[str], width: int, terminal: bool = False) -> str:
    """What ``alliancelab ARGV`` prints on stdout at ``width`` columns, on a plain (piped)
    or a rich (colour terminal) console, without its colour codes."""
    monkeypatch.setenv("COLUMNS", str(width))
    if terminal:
        monkeypatch.setenv("FORCE_COLOR", "1")
        monkeypatch.delenv("NO_COLOR", raising=False)
    else:
        monkeypatch.delenv("FORCE_COLOR", raising=False)
    assert main(argv) == 0
    out = capsys.readouterr().out
    if terminal:
        assert "\x1b[" in out, "the rich console was not used"
    return ANSI.sub("", out)


def assert_readable(text: str, width: int) -> None:
    """No line wider than the console, no exponent, no ellipsis where digits were cut, no
    ``nan``."""
    for line in text.splitlines():
        assert len(line.rstrip()) <= width, line
    assert not re.search(r"\de[+-]\d", text), "an exponent"
    assert "…" not in text and "nan" not in text.lower().split()


# --------------------------------------------------------------------------- units


def test_precision_follows_the_scale() -> None:
    assert units.value(24810.4, TROOPS) == "24,810"
    assert units.value(1.4666, BN) == "1.47"
    assert units.with_units(2.8466, GDP) == "2.8 % of GDP"
    assert units.value(58.44, POINTS) == "58.4"
    assert units.with_units(58.44, POINTS) == "58.4/100"
    assert units.with_units(3.0, Scale(min=1, max=7)) == "3.00 on the 1-7 scale"
    assert units.band(22128.9, 24616.9, 25151.9, TROOPS) == "24,617 [22,129, 25,152]"
    assert units.signed(1263.2, TROOPS) == "+1,263" and units.signed(-0.123, BN) == "-0.12"
    # without a scale, a band shares the precision of its largest number
    assert units.band(-0.195, -0.124, -0.0584) == "-0.124 [-0.195, -0.058]"
    assert units.band(0.0608, 0.0635, 0.0661) == "0.0635 [0.0608, 0.0661]"
    assert units.band(1.0, 2.0, math.nan) == "2.00" and units.band(1, math.nan, 2) == "n/a"
    assert units.column([0.852, 0.00566, -0.0157, math.nan]) == ["0.852", "0.006", "-0.016",
                                                                  "n/a"]
    assert units.column([5193.2, 0.0]) == ["5,193", "0"]


@pytest.mark.parametrize("x", [0.0, -0.0, -1e-12, 1e-9, 3e-5, 0.1234, 1.0, 99.99, 2.481e4,
                               -2.481e4, 1e9, 1.5e20, math.nan, math.inf])
def test_no_exponent_no_minus_zero_and_parse_inverts(x: float) -> None:
    for text in (units.number(x), units.value(x, TROOPS), units.value(x, BN),
                 units.signed(x), units.percent(x)):
        assert not re.search(r"e[+-]?\d", text) and text not in ("-0", "-0.00", "nan")
        if math.isfinite(x):
            assert units.parse(text.replace(" %", "")) == pytest.approx(
                float(text.replace(",", "").replace(" %", "")))
        else:
            assert text == units.MISSING
    if math.isfinite(x):
        assert units.parse(units.value(x, BN)) == pytest.approx(round(x, 2), abs=1e-9)


def test_wrap_breaks_names_at_their_joints() -> None:
    assert wrap_text("strategic_flexibility", 12) == "strategic_\nflexibility"
    assert wrap_text("US President (White House)", 14) == "US President\n(White House)"
    assert all(len(line) <= 5 for line in wrap_text("abcdefghijklmnop", 5).split("\n"))


def test_a_table_that_cannot_fit_says_so() -> None:
    cols = [Col("name", False), *(Col(f"c{k}") for k in range(8))]
    rows = [["a long actor name", *(["24,810,000"] * 8)]]
    assert column_widths(cols, rows, 80) is None and fitted_table(cols, rows, 80) is None
    assert fitted_table(cols, rows, 120) is not None


# --------------------------------------------------------------------------- forecast


def _case_scales(name: str) -> dict[str, Scale]:
    return {i.name: i.scale for i in read_case(resolve_case(name)).issues}


@pytest.mark.parametrize(("width", "terminal"), [(80, False), (80, True), (120, False)])
def test_forecast_numbers_are_the_json_values_at_the_scale_precision(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], width: int,
        terminal: bool) -> None:
    argv = ["forecast", "us_rok_2025", "--model", "compromise", "--seed", "1"]
    text = console_text(monkeypatch, capsys, argv, width, terminal)
    assert_readable(text, width)
    assert "Positions by round" not in text  # only with --by-round
    doc = json.loads(console_text(monkeypatch, capsys, [*argv, "--json"], width))
    scales = _case_scales("us_rok_2025")
    seen = set()
    for line in text.splitlines():
        words = line.split()
        if words and words[0] in scales:
            sc = scales[words[0]]
            shown = units.parse(words[-1])
            assert shown == pytest.approx(round(doc["forecast"][words[0]],
                                                units.decimals(sc)), abs=1e-9), line
            seen.add(words[0])
    assert seen == set(doc["forecast"])
    assert re.search(r"usfk_troops\s+troops\s+28,500\s+\d\d,\d{3}\s*$", text, re.M)


def test_forecast_by_round_fits_and_matches_the_rounds(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["forecast", "us_rok_2025", "--model", "bdm", "--seed", "1", "--rounds", "10"]
    text = console_text(monkeypatch, capsys, [*argv, "--by-round"], 80)
    assert_readable(text, 80)
    assert "Positions by round - usfk_troops (troops), rounds 0-" in text
    doc = json.loads(console_text(monkeypatch, capsys, [*argv, "--json"], 80))
    troops = [r["positions"]["US Congress"][0] for r in doc["rounds"]]
    block = "".join(p for p in text.split("Positions by round - ") if p.startswith("usfk_"))
    shown = [units.parse(v) for line in block.splitlines() if line.startswith(" US Congress")
             for v in line.split()[2:]]
    assert shown == [round(x) for x in troops]
    rows = list(csv.DictReader(io.StringIO(console_text(
        monkeypatch, capsys, [*argv, "--csv", "--by-round"], 80))))
    assert len(rows) == len(doc["rounds"]) * len(doc["actors"]) * len(doc["issues"])
    assert {"round", "actor", "issue", "position"} == set(rows[0])


def test_forecast_csv_is_the_json_forecast(monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["forecast", "us_rok_2025", "--seed", "1"]
    rows = list(csv.DictReader(io.StringIO(console_text(monkeypatch, capsys,
                                                        [*argv, "--csv"], 80))))
    doc = json.loads(console_text(monkeypatch, capsys, [*argv, "--json"], 80))
    assert {r["issue"]: float(r["forecast"]) for r in rows} == pytest.approx(doc["forecast"])
    assert next(r for r in rows if r["issue"] == "usfk_troops")["units"] == "troops"


# --------------------------------------------------------------------------- run

FAST = ["--draws", "4", "--effect-draws", "2", "--alliance-draws", "2", "--workers", "1",
        "--explore-n", "0", "--seed", "3"]


@pytest.fixture(scope="module")
def shipped_results() -> Any:
    """The main job on the shipped case, small: its results for the console summary."""
    from alliancelab.jobs.run import run_job

    case = read_case(resolve_case("us_rok_2025"))
    return run_job(case, interventions=["dprk_nuclear_test"], models=["compromise", "median"],
                   draws=4, effect_draws=2, alliance_draws=2, seed=3, workers=1, explore_n=0)


def _summary_text(results: Any, width: int, fmt: str | None,
                  capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                  terminal: bool = False) -> str:
    from alliancelab.cli.run import print_summary

    monkeypatch.setenv("COLUMNS", str(width))
    if terminal:
        monkeypatch.setenv("FORCE_COLOR", "1")
    print_summary(results, Path("out"), 1.0, fmt)
    out = capsys.readouterr().out
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    assert ("\x1b[" in out) == terminal
    return ANSI.sub("", out)


def _squash(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize(("width", "terminal"), [(80, False), (80, True), (100, False),
                                               (120, True), (200, False)])
def test_run_summary_is_readable_and_matches_the_json(
        shipped_results: Any, width: int, terminal: bool, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    text = _summary_text(shipped_results, width, None, capsys, monkeypatch, terminal)
    assert_readable(text, width)
    doc = json.loads(_summary_text(shipped_results, width, "json", capsys, monkeypatch))
    body = text.split("Forecast per issue")[1].split("\n", 1)[1].split("\nseed ")[0]
    shown = sorted(units.parse(m) for m in NUMBER.findall(body))
    expected = [round(f[key], f["decimals"]) for f in doc["forecasts"]
                for key in ("p50", "p5", "p95")]
    sq = {f["issue"]: round(f["status_quo"], f["decimals"]) for f in doc["forecasts"]}
    per_row = width < 100  # the long layout repeats the status quo on every model's row
    expected += [sq[f["issue"]] for f in doc["forecasts"]] if per_row and "model" in body \
        else list(sq.values())
    assert shown == pytest.approx(sorted(expected), abs=1e-9)
    assert len(doc["forecasts"]) == 2 * len(shipped_results.scenario.issues)


def test_run_summary_headlines_are_the_findings_rows_with_their_meaning(
        shipped_results: Any, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from alliancelab.report.findings import headline_rows
    from alliancelab.report.summary import summary

    rows = headline_rows(shipped_results)
    assert rows and summary(shipped_results).headlines == tuple(rows)
    text = _squash(_summary_text(shipped_results, 80, None, capsys, monkeypatch))
    for name, value, meaning in rows:
        assert _squash(f"{name}: {value}") in text
        assert _squash(meaning) in text
    doc = json.loads(_summary_text(shipped_results, 80, "json", capsys, monkeypatch))
    assert [(h["name"], h["value"], h["meaning"]) for h in doc["headlines"]] == rows
    names = [r[0] for r in rows]
    # the AEG's P(challenge) is constant and the tripartite game an illustration
    a = shipped_results.alliance
    challenge = a[a["item"] == "deterrence.p_challenge"][["value", "p5", "p95"]]
    assert float(challenge.max().max() - challenge.min().min()) < 1e-9
    assert "deterrence.p_challenge" not in names
    assert not [n for n in names if n.startswith("tripartite.")]


def test_run_summary_says_what_the_report_summary_says(
        shipped_results: Any, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from alliancelab.report.summary import summary, summary_table

    s = summary(shipped_results)
    text = _squash(_summary_text(shipped_results, 120, None, capsys, monkeypatch))
    assert _squash(s.text) in text
    for k in s.kpis:
        assert _squash(f"{k['value']} {k['label']}") in text
    table = summary_table(shipped_results)
    for rec in table.to_dict("records"):  # the report's cells are the console's numbers
        for m in shipped_results.models:
            median, band = rec[m].split(" [")
            assert median in text and f"[{band}" in text.replace(f"{median} [", "[")


def test_run_json_and_csv_on_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    base = ["run", str(MINI), "--models", "compromise,median", *FAST]
    doc = json.loads(console_text(monkeypatch, capsys,
                                  [*base, "--out", str(tmp_path / "a"), "--json"], 80))
    assert doc["seed"] == 3 and doc["report"].endswith("report.html")
    assert {f["model"] for f in doc["forecasts"]} == {"compromise", "median"}
    rows = list(csv.DictReader(io.StringIO(console_text(
        monkeypatch, capsys, [*base, "--out", str(tmp_path / "b"), "--csv"], 80))))
    assert [(r["issue"], r["model"]) for r in rows] == [
        (f["issue"], f["model"]) for f in doc["forecasts"]]
    assert [float(r["p50"]) for r in rows] == pytest.approx([f["p50"] for f in doc["forecasts"]])


# --------------------------------------------------------------------------- explore, report


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("explore") / "store"
    assert main(["explore", str(EXPLORE_CASE), "--n", "12", "--models", "compromise",
                 "--lever", "all", "--store", str(path), "--seed", "2", "-q"]) == 0
    return path


def _check_outcome_table(text: str, doc: dict[str, Any], width: int) -> None:
    assert_readable(text, width)
    lines = text.split("over the experiments")[1].splitlines()
    shown = [[units.parse(v) for v in NUMBER.findall(line)][-3:] for line in lines
             if len(NUMBER.findall(line)) >= 3]
    want = [[round(o[k], o["decimals"]) for k in ("q05", "q50", "q95")]
            for o in doc["outcomes"]]
    assert shown == want


@pytest.mark.parametrize("width", [80, 120])
def test_explore_summary_in_units_and_its_json(
        width: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["explore", str(EXPLORE_CASE), "--n", "6", "--models", "compromise,dynamics",
            "--store", str(tmp_path / "s"), "--seed", "4"]
    text = console_text(monkeypatch, capsys, argv, width)
    doc = json.loads(console_text(monkeypatch, capsys, [*argv, "--json"], width))
    _check_outcome_table(text, doc, width)
    assert "(troops)" in text and "dynamics.troops" in text
    rows = list(csv.DictReader(io.StringIO(console_text(monkeypatch, capsys,
                                                        [*argv, "--csv"], width))))
    assert [float(r["q50"]) for r in rows] == pytest.approx([o["q50"] for o in doc["outcomes"]])


def test_report_prints_a_summary_not_a_repr(store: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    text = console_text(monkeypatch, capsys, ["report", str(store), "-q"], 80)
    assert "Exploration(" not in text and "experiments stored" in text
    assert f"report: {store / 'report.html'}" in text
    doc = json.loads(console_text(monkeypatch, capsys, ["report", str(store), "--json", "-q"],
                                  80))
    assert doc["complete"] is True and doc["stored"] == doc["experiments"]
    _check_outcome_table(text, doc, 80)
    rows = list(csv.DictReader(io.StringIO(console_text(
        monkeypatch, capsys, ["report", str(store), "--csv", "-q"], 80))))
    assert len(rows) == len(doc["outcomes"])


def test_explore_progress_never_says_nan(capsys: pytest.CaptureFixture[str]) -> None:
    from alliancelab.cli import _logging
    from alliancelab.cli.explore import _Progress

    _logging.configure(0)
    def bar() -> Callable[[int, int, int], None]:
        b = _Progress()
        b.live = False
        return b.update

    bar()(0, 10, 0)  # nothing stored yet: nothing to say
    assert capsys.readouterr().err == ""
    update = bar()
    update(4, 10, 0)  # a resumed store: no rate yet
    update(10, 10, 0)
    err = capsys.readouterr().err
    assert "nan" not in err
    assert "explore: 4/10 experiments stored, 0 failed, 0 exp/s, ETA unknown" in err
    assert "explore: 10/10" in err and "ETA 0 s" in err
    _logging.configure(-1)  # -q: no progress
    quiet = bar()
    quiet(4, 10, 0)
    quiet(10, 10, 0)
    assert capsys.readouterr().err == ""


def test_many_engines_fall_back_to_one_row_per_engine() -> None:
    """Seven engines do not fit side by side in 80 columns: one row per issue and engine,
    every number whole."""
    from rich.console import Console

    from alliancelab.cli.run import forecast_table

    models = [f"engine{k}" for k in range(7)]
    rows = [{"issue": "usfk_troops", "units": "troops", "model": m, "status quo": "28,500",
             "median": units.value(24000 + k, TROOPS), "low": units.value(20000 + k, TROOPS),
             "high": units.value(30000 + k, TROOPS),
             "band": units.band(20000 + k, 24000 + k, 30000 + k, TROOPS)}
            for k, m in enumerate(models)]
    out = Console(file=io.StringIO(), width=80)
    out.print(forecast_table(models, rows, 80))
    text = out.file.getvalue()  # type: ignore[attr-defined]
    assert_readable(text, 80)
    for k, m in enumerate(models):
        assert re.search(rf"{m}\s+28,500\s+24,00{k}\s+20,00{k}\s+30,00{k}", text), text
