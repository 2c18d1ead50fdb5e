"""The hindcast (docs/hindcast.md): the scorer on hand-made numbers, the baselines, the
leave-one-snapshot-out fit, the SMA cases, and ``alliancelab hindcast`` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alliancelab.cli import main
from alliancelab.core.errors import AllianceLabError
from alliancelab.jobs import hindcast as hc
from alliancelab.jobs import sma_series as sma
from alliancelab.models.bargaining import ENGINES

# -- the scorer ------------------------------------------------------------------------------


def test_direction_has_a_dead_band() -> None:
    # scale width 100, band 2% = 2 points: a move of exactly 2 is still "no change"
    d = hc.direction([0.0, 1.9, 2.0, 2.1, -2.1, -30.0, np.nan], 100.0, 0.02)
    assert d[:6].tolist() == [0, 0, 0, 1, -1, -1]
    assert np.isnan(d[6])
    # the band scales with the width: 800 troops on the 0-40,000 scale
    assert hc.direction([799.0, 801.0], 40000.0).tolist() == [0, 1]
    assert hc.direction([0.5], 100.0, band=0.0).tolist() == [1]


def test_score_on_hand_made_numbers() -> None:
    # columns: the model moves the right way; moves within the band while the world moved;
    # the status quo where nothing moved; the status quo where the world moved; undefined
    s = hc.score(forecast=[60, 51, 50, 50, np.nan], status_quo=[50, 50, 50, 50, 50],
                 realised=[70, 70, 51, 70, 70], width=100, low=[60, 60, 41, 70, 60],
                 high=[80, 80, 61, 70, 80])
    assert s["abs_error_widths"][:4] == pytest.approx([0.10, 0.19, 0.01, 0.20])
    assert s["direction_hit"][:4].tolist() == [1, 0, 1, 0]
    assert s["interval_hit"][0] == 1 and s["interval_hit"][1] == 0 and s["interval_hit"][2] == 1
    assert np.isnan(s["interval_hit"][3])  # low == high: a point, no interval credit
    assert np.isnan(s["abs_error_widths"][4]) and np.isnan(s["direction_hit"][4])
    assert s["forecast_direction"][:4].tolist() == [1, 0, 0, 0]
    assert s["realised_direction"][:4].tolist() == [1, 1, 0, 1]


def test_mae_is_in_scale_widths() -> None:
    s = hc.score(24000.0, 27014.0, 24168.0, 40000.0)
    assert float(s["abs_error_widths"]) == pytest.approx(168 / 40000)
    with pytest.raises(AllianceLabError, match="width"):
        hc.score(1.0, 0.0, 1.0, 0.0)


def test_summary_means_over_defined_rows() -> None:
    rows = pd.DataFrame({
        "model": ["m", "m", "m", "b"], "family": ["model"] * 3 + ["baseline"],
        "snapshot": ["s"] * 4, "horizon": [3] * 4,
        "abs_error_widths": [0.1, 0.3, np.nan, 0.2], "direction_hit": [1.0, 0.0, np.nan, 1.0],
        "interval_hit": [np.nan, 1.0, np.nan, 0.0],
    })
    out = hc.summarise(rows, ["model", "family", "snapshot", "horizon"]).set_index("model")
    assert out.loc["m", "mae_widths"] == pytest.approx(0.2)
    assert out.loc["m", "direction_hit_rate"] == pytest.approx(0.5)
    assert out.loc["m", "interval_hit_rate"] == 1.0
    assert out.loc["m", "n"] == 2 and out.loc["m", "n_interval"] == 1


# -- baselines -------------------------------------------------------------------------------


def test_trend_baseline_continues_and_clips() -> None:
    assert hc.trend_forecast(27014, -2145.8, 10, 0, 40000) == pytest.approx(5556)
    assert hc.trend_forecast(10, -5, 10, 0, 100) == 0  # clipped to the scale
    assert hc.trend_forecast(95, 2, 5, 0, 100) == 100
    assert np.isnan(hc.trend_forecast(50, float("nan"), 3, 0, 100))


def test_trend_slopes_from_previous_snapshot_and_data_sets() -> None:
    table = hc.load_outcomes()
    s07 = hc.load_snapshot("us_rok_2007", table)
    s13 = hc.load_snapshot("us_rok_2013", table)
    dates = hc.table_dates(table, [s07, s13])
    first = hc.trend_slopes(s07, table, dates)
    # the first snapshot: troopdata and SIPRI 2002, the SMA table's 2002 amount; judgement
    # issues undefined
    assert first["usfk_troops"][0] == pytest.approx((27014 - 37743) / 5)
    assert first["sma_cost_sharing"][0] == pytest.approx((0.781 - 0.47) / 5)
    assert np.isnan(first["opcon_transfer"][0])
    assert first["opcon_transfer"][1].startswith("undefined")
    later = hc.trend_slopes(s13, table, dates)
    gap = (2013 + 2 / 12) - (2007 + 5 / 12)  # 2013-03 minus 2007-06
    assert later["usfk_troops"][0] == pytest.approx((30302 - 27014) / gap)
    assert later["opcon_transfer"][0] == pytest.approx((55 - 65) / gap)


def test_reference_choice_changes_the_status_quo() -> None:
    table = hc.load_outcomes()
    a = hc.load_snapshot("us_rok_2013", table, "outcomes")
    b = hc.load_snapshot("us_rok_2013", table, "case")
    assert a.status_quo["usfk_troops"] == 30302  # the 2013 value in the outcome table
    stated = {i.name: i.status_quo.value for i in b.case.issues if i.status_quo is not None}
    assert b.status_quo == stated and b.status_quo["usfk_troops"] == 27774  # known in 2013-03


# -- the fitted variant ----------------------------------------------------------------------


def test_fit_lambda_on_hand_made_numbers() -> None:
    lam, mae = hc.fit_lambda(np.array([10.0, 20.0]), np.zeros(2), np.array([5.0, 10.0]),
                             np.full(2, 10.0))
    assert lam == 0.5 and mae == pytest.approx(0.0)


def test_leave_one_snapshot_out_never_sees_the_held_out_snapshot() -> None:
    # snapshot A wants lambda 0.2, B wants 0.8: each held-out one gets the other's lambda
    def rows(snap: str, realised: float) -> pd.DataFrame:
        return pd.DataFrame({
            "snapshot": snap, "issue": ["x", "y"], "horizon": 3, "model": "m",
            "family": "model", "forecast": [10.0, 10.0], "status_quo": [0.0, 0.0],
            "realised": [realised, realised], "low": realised, "high": realised,
            "kind": "data", "year": 2000, "width": 100.0, "note": "",
        })

    base = pd.concat([rows("A", 2.0), rows("B", 8.0)], ignore_index=True)
    fitted, lambdas = hc.fit_lambda_loso(base)
    lam = lambdas.set_index("held_out")["lambda"]
    assert lam["A"] == 0.8 and lam["B"] == 0.2
    assert set(fitted["model"]) == {"lam:m"} and set(fitted["family"]) == {"fitted"}
    assert fitted.loc[fitted["snapshot"] == "A", "forecast"].tolist() == [8.0, 8.0]


def test_default_models_are_every_engine_and_its_dynamics() -> None:
    assert hc.parse_models(None) == (*ENGINES, *(f"dyn:{m}" for m in ENGINES))
    assert hc.parse_models("nash, dyn:nash,nash") == ("nash", "dyn:nash")


# -- the outcome table -----------------------------------------------------------------------


def test_shipped_outcomes_cover_three_snapshots() -> None:
    table = hc.load_outcomes()
    assert hc.snapshot_names(table) == ("us_rok_2007", "us_rok_2013", "us_rok_2018")
    assert len(table) == 144


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.drop(columns=["high"]), "missing column"),
        (lambda t: t.assign(value=t["value"].where(t.index != 4, "lots")),
         r"o\.csv:6: value: not a number"),
        (lambda t: t.assign(low=t["low"].where(t.index != 2, 1e9)), "low <= value <= high"),
        (lambda t: t.assign(kind=t["kind"].where(t.index != 0, "guess")), "kind"),
        (lambda t: pd.concat([t, t.iloc[[3]]]), "duplicate"),
    ],
)
def test_bad_outcome_tables_are_one_line_errors(tmp_path: Path, edit, message: str) -> None:  # type: ignore[no-untyped-def]
    raw = pd.read_csv(hc.outcomes_path(), dtype=str, keep_default_na=False)
    path = tmp_path / "o.csv"
    edit(raw).to_csv(path, index=False)
    with pytest.raises(AllianceLabError, match=message) as err:
        hc.load_outcomes(path)
    assert "\n" not in str(err.value)


# -- the SMA series --------------------------------------------------------------------------


def test_sma_cases_from_the_table() -> None:
    cases, excluded = sma.sma_cases()
    by = {c.number: c for c in cases}
    assert {c.number for c in cases if c.headline} == {6, 8, 9, 11}
    assert {n for n, _ in excluded} == {1, 3, 4, 7, 12}
    c9 = by[9]
    assert (c9.status_quo, c9.us_ask, c9.rok_offer, c9.outcome) == (869.5, 1000, 900, 920)
    assert c9.lower == 869.5 and c9.width == pytest.approx(130.5)
    # the 11th: the US$5 bn ask at the 2019 rate, the 2021 step as the outcome
    c11 = by[11]
    assert c11.us_ask == pytest.approx(5 * 1165.8) and c11.outcome == 1183.3
    row = sma.load_sma().set_index("number").loc[11]
    assert "1,183.3" in row["annual_increase_rule"]
    assert by[6].rok_offer == by[6].status_quo == 746.9  # "a freeze", stated in words
    assert not by[10].headline and by[10].offer_basis.startswith("assumed")


def test_sma_weights_are_the_same_for_every_agreement() -> None:
    cases, _ = sma.sma_cases()
    problems = [c.problem() for c in cases]
    for p in problems:
        assert p.actors == sma.ACTORS
        assert p.capability.tolist() == list(sma.WEIGHTS["stated"]["capability"])
        assert p.salience[:, 0].tolist() == list(sma.WEIGHTS["stated"]["salience"])
    # the ratifier sits at the status quo
    assert all(p.position[2, 0] == c.status_quo for p, c in zip(problems, cases, strict=True))


def test_sma_scoring_and_baselines() -> None:
    s = sma.run_sma(["compromise"], seed=0)
    r = s.rows.set_index(["number", "model"])
    assert r.loc[(9, "split-difference"), "forecast"] == 950
    assert r.loc[(9, "status-quo"), "abs_error_widths"] == pytest.approx(50.5 / 130.5)
    assert r.loc[(9, "status-quo"), "abs_error_pct_sq"] == pytest.approx(100 * 50.5 / 869.5)
    w = np.array(sma.WEIGHTS["stated"]["capability"]) * np.array(
        sma.WEIGHTS["stated"]["salience"])
    expected = (w @ np.array([1000.0, 900.0, 869.5])) / w.sum()
    assert r.loc[(9, "compromise"), "forecast"] == pytest.approx(expected)
    summ = s.summary().set_index("model")
    assert summ.loc["status-quo", "n"] == 4 and summ.loc["status-quo", "n_all"] == 7


# -- the command -----------------------------------------------------------------------------


#: the engines of the end-to-end run: the fast ones and one perception dynamics (every
#: engine on every snapshot takes longer than the test budget; the contract is the same).
MODELS = ("compromise", "nash", "bdm", "dyn:compromise")


@pytest.fixture(scope="module")
def full_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("hindcast")
    assert main(["hindcast", "--out", str(out), "--fit-lambda", "--models", ",".join(MODELS)]
                ) == 0
    return out


def test_cli_end_to_end(full_run: Path) -> None:
    for name in ("hindcast.csv", "hindcast-summary.csv", "sma.csv", "sma-summary.csv",
                 "hindcast.html", "manifest.json"):
        assert (full_run / name).stat().st_size > 0, name
    rows = pd.read_csv(full_run / "hindcast.csv")
    assert list(rows.columns[:12]) == ["snapshot", "issue", "horizon", "model", "forecast",
                                       "status_quo", "realised", "low", "high", "kind",
                                       "abs_error_widths", "direction_hit"]
    assert set(rows["snapshot"]) == {"us_rok_2007", "us_rok_2013", "us_rok_2018"}
    expected = {*MODELS, *hc.BASELINES, *(hc.LAM + m for m in MODELS)}
    assert set(rows["model"]) == expected
    assert (rows["horizon"] > 0).all()
    assert rows.loc[rows["family"] != "baseline", "forecast"].notna().all()
    # the trend is undefined for the 2007 judgement issues, never invented
    tr = rows[(rows["model"] == "trend") & (rows["snapshot"] == "us_rok_2007")]
    assert tr.loc[tr["kind"] == "judgement", "forecast"].isna().all()
    summary = pd.read_csv(full_run / "hindcast-summary.csv")
    assert {"model", "snapshot", "horizon", "mae_widths", "direction_hit_rate", "n"} <= set(
        summary.columns)
    manifest = json.loads((full_run / "manifest.json").read_text())
    assert manifest["seed"] == 0 and "numpy" in manifest["versions"]
    assert manifest["snapshots"]["fitted"] and manifest["sma"]["weights"] == "stated"
    html = (full_run / "hindcast.html").read_text()
    assert "nothing changes" in html and "fig-hindcast-mae" in html and "<script" in html


def test_cli_is_deterministic_and_streams_are_per_model(full_run: Path, tmp_path: Path) -> None:
    args = ["hindcast", "--models", "bdm,dyn:compromise", "--snapshots", "us_rok_2013",
            "--series", "snapshots", "--seed", "0"]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    assert main([*args, "--out", str(tmp_path / "b")]) == 0
    a = (tmp_path / "a" / "hindcast.csv").read_bytes()
    assert a == (tmp_path / "b" / "hindcast.csv").read_bytes()
    # the same (snapshot, model) rows as in the full run: a model's forecast does not depend
    # on which other models or snapshots ran
    part = pd.read_csv(tmp_path / "a" / "hindcast.csv")
    full = pd.read_csv(full_run / "hindcast.csv")
    full = full[(full["snapshot"] == "us_rok_2013") & full["model"].isin(part["model"])]
    cols = ["issue", "horizon", "model", "forecast"]
    pd.testing.assert_frame_equal(part[cols].sort_values(cols).reset_index(drop=True),
                                  full[cols].sort_values(cols).reset_index(drop=True))


def test_cli_json_and_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["hindcast", "--models", "compromise", "--snapshots", "us_rok_2007",
            "--out", str(tmp_path)]
    assert main([*base, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["snapshots"]["target"]["snapshot"] == "us_rok_2007"
    assert doc["sma"]["summary"] and doc["reading"]
    assert main([*base, "--csv", "--series", "snapshots"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("snapshot,issue,horizon,model,forecast")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--models", "bogus"], "unknown model"),
        (["--models", "dyn:nope"], "unknown model"),
        (["--snapshots", "us_rok_2025"], "no outcome rows"),
        (["--snapshots", "no_such_case"], "no case file"),
        (["--snapshots", ","], "no snapshot given"),
        (["--dead-band", "0.7"], "dead band"),
        (["--seed", "-1"], "seed"),
        (["--fit-lambda", "--snapshots", "us_rok_2007"], "at least two snapshots"),
        (["--series", "nope"], "invalid choice"),
        (["--json", "--csv"], "not allowed with"),
    ],
)
def test_bad_input_exits_2_with_one_line(extra: list[str], message: str, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    # -q: a stage still running after a second logs a progress line (cli/_logging.stage),
    # which a loaded machine can reach while reading the snapshot before the mistake shows
    try:
        code = main(["-q", "hindcast", "--out", str(tmp_path / "o"), "--models", "compromise",
                     *extra])
    except SystemExit as exc:  # argparse's own errors
        code = exc.code  # type: ignore[assignment]
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and err.count("\n") == 1, err
    assert not (tmp_path / "o").exists()


def test_bad_files_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    afile = tmp_path / "file"
    afile.write_text("x")
    bad = tmp_path / "bad.csv"
    bad.write_text("snapshot,issue\nus_rok_2007,troops\n")
    for extra, message in ((["--out", str(afile)], "not a folder"),
                           (["--outcomes", str(bad), "--out", str(tmp_path / "o")],
                            "missing column"),
                           (["--outcomes", str(tmp_path / "none.csv"), "--out",
                             str(tmp_path / "o")], "cannot read")):
        code = main(["hindcast", "--models", "compromise", *extra])
        err = capsys.readouterr().err
        assert code == 2 and message in err and err.count("\n") == 1, err
