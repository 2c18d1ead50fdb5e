"""The DEU III backtest: numbers against an independent pandas computation, error handling,
and the ``alliancelab backtest`` command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from shared_data import DATA as SHARED_DATA

from alliancelab.cli import main
from alliancelab.core.errors import AllianceLabError
from alliancelab.formats.deu import read_deu
from alliancelab.jobs import backtest as bt
from alliancelab.models.bargaining import ENGINES, Engine, Outcome, Problem, engine_class
from alliancelab.models.bargaining.base import static_outcome

DATA = Path(__file__).parent / "data"


def deu_file() -> Path:
    """``$ALLIANCELAB_SHARED/data/deu3/deu3.csv``, else ``<repo>/../shared/...``."""
    path = SHARED_DATA / "deu3" / "deu3.csv"
    if not path.is_file():
        pytest.skip(f"DEU III data not found at {path} (set ALLIANCELAB_SHARED to the shared dir)")
    return path


@pytest.fixture(scope="module")
def data():  # type: ignore[no-untyped-def]
    return read_deu(deu_file())


# -- an independent, straightforward computation ---------------------------------------------


def independent_forecasts(path: Path) -> pd.DataFrame:
    """Compromise (weighted mean) and weighted median per issue, written directly from the
    rules in docs/backtest.md: GDP weights of line 2, salience/100, actors with a blank
    position or salience left out, issues without an outcome left out."""
    gdp = pd.read_csv(path, sep="\t", nrows=1)
    df = pd.read_csv(path, sep="\t", skiprows=[1])
    df = df[df["out"].notna()]
    codes = [c[1:] for c in df.columns if c.startswith("p") and f"s{c[1:]}" in df.columns]
    out = []
    for _, r in df.iterrows():
        keep = [c for c in codes if pd.notna(r[f"p{c}"]) and pd.notna(r[f"s{c}"])]
        x = np.array([r[f"p{c}"] for c in keep], dtype=float)
        cap = np.array([gdp[f"p{c}"].iloc[0] for c in keep], dtype=float)
        w = cap * np.array([r[f"s{c}"] for c in keep], dtype=float) / 100
        if w.sum() == 0:
            w = cap
        mean = (w * x).sum() / w.sum()
        # Weighted median: the smallest position whose cumulative weight reaches half; the
        # midpoint to the next position when it reaches exactly half.
        by = pd.Series(w).groupby(x).sum().sort_index()
        cum = by.cumsum() / by.sum()
        k = int(np.argmax(cum.to_numpy() >= 0.5 - 1e-12))
        med = by.index[k]
        if abs(cum.iloc[k] - 0.5) < 1e-12:
            med = (by.index[k] + by.index[k + 1]) / 2
        out.append({"issue": r["isnr"], "outcome": r["out"], "compromise": mean, "median": med})
    return pd.DataFrame(out)


def test_compromise_and_median_match_an_independent_pandas_computation(data) -> None:  # type: ignore[no-untyped-def]
    ref = independent_forecasts(deu_file())
    result = bt.run_backtest(data, ["compromise", "median"])
    summary = result.summary().set_index("model")
    for model in ("compromise", "median"):
        mine = result.errors[result.errors["model"] == model].set_index("issue")
        assert (mine["status"] == "scored").all()
        assert list(mine.index) == list(ref["issue"])
        np.testing.assert_allclose(mine["forecast"], ref[model], rtol=0, atol=1e-9)
        err = (ref[model] - ref["outcome"]).abs()
        assert summary.loc[model, "n_scored"] == 353
        assert summary.loc[model, "mean_abs_error"] == pytest.approx(err.mean(), abs=1e-9)
        assert summary.loc[model, "median_abs_error"] == pytest.approx(err.median(), abs=1e-9)
    # The literature's finding: the compromise model beats the median voter, MAE in the 20s.
    assert 20 < summary.loc["compromise", "mean_abs_error"] < 25
    assert summary.loc["compromise", "mean_abs_error"] < summary.loc["median", "mean_abs_error"]


def test_summary_counts_and_skipped(data) -> None:  # type: ignore[no-untyped-def]
    result = bt.run_backtest(data.issues[:20], ["compromise", "nash"])
    assert len(result.errors) == 40
    assert list(result.errors.columns) == list(bt.ERROR_COLUMNS)
    assert result.skipped == {}
    assert bt.run_backtest(data, ["compromise"]).skipped == {"no outcome": 11}
    s = result.summary()
    assert list(s.columns) == list(bt.SUMMARY_COLUMNS)
    assert list(s["n_scored"]) == [20, 20]


# -- failures are data, not crashes ----------------------------------------------------------


class _Flaky(Engine):
    """Raises on issues with more than 20 actors."""

    name = "flaky"
    min_actors = 1

    def solve(self, problem: Problem, rng: np.random.Generator) -> Outcome:
        if problem.n_actors > 20:
            raise RuntimeError("too\nmany actors")
        return static_outcome(problem, problem.position.mean(axis=0))


class _Picky(_Flaky):
    min_actors = 25


def test_an_engine_that_raises_is_recorded_per_issue(data, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    fakes = {"flaky": _Flaky, "picky": _Picky}
    monkeypatch.setattr(bt, "engine_class", lambda m: fakes[m] if m in fakes else engine_class(m))
    issues = data.issues[::9]
    result = bt.run_backtest(issues, ["flaky", "picky", "compromise"])
    big = np.array([len(i.case.actors) > 20 for i in issues])
    assert 0 < big.sum() < len(issues)
    flaky = result.errors[result.errors["model"] == "flaky"]
    assert (flaky["status"].to_numpy() == np.where(big, "error", "scored")).all()
    assert set(flaky.loc[flaky["status"] == "error", "message"]) == {
        "RuntimeError: too many actors"
    }
    picky = result.errors[result.errors["model"] == "picky"]
    n = np.array([len(i.case.actors) for i in issues])
    expected = np.where(n < 25, "too_few_actors", np.where(big, "error", "scored"))
    assert (picky["status"].to_numpy() == expected).all()
    s = result.summary().set_index("model")
    assert s.loc["flaky", "n_errors"] == big.sum()
    assert s.loc["picky", "n_too_few_actors"] == (n < 25).sum()
    assert s.loc["compromise", "n_scored"] == len(issues)


def test_a_missing_engine_module_is_recorded_not_raised(data, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(ENGINES, "ghost", "no_such_module:Ghost")
    result = bt.run_backtest(data.issues[:3], ["ghost", "median"])
    ghost = result.errors[result.errors["model"] == "ghost"]
    assert (ghost["status"] == "error").all()
    assert ghost["message"].str.startswith("engine unavailable: ModuleNotFoundError").all()
    s = result.summary().set_index("model")
    assert s.loc["ghost", "n_scored"] == 0 and np.isnan(s.loc["ghost", "mean_abs_error"])
    assert s.loc["median", "n_scored"] == 3


def test_parse_models_and_rounds() -> None:
    assert bt.parse_models(None) == tuple(ENGINES)
    assert bt.parse_models("median, compromise,median") == ("median", "compromise")
    with pytest.raises(AllianceLabError, match="unknown model"):
        bt.parse_models("compromise,oracle")
    with pytest.raises(AllianceLabError, match="rounds"):
        bt.run_backtest([], ["compromise"], rounds=0)


# -- every registered engine on a small subset -----------------------------------------------


def _subset(data, k: int = 8):  # type: ignore[no-untyped-def]
    """``k`` issues spread over the range of actor counts (small ones first)."""
    ordered = sorted(data.issues, key=lambda i: (len(i.case.actors), i.name))
    return [ordered[j] for j in np.linspace(0, len(ordered) - 1, k).astype(int)]


@pytest.mark.parametrize("model", list(ENGINES))
def test_every_engine_scores_a_subset(data, model: str) -> None:  # type: ignore[no-untyped-def]
    try:
        engine_class(model)
    except (ImportError, AttributeError) as exc:
        pytest.skip(f"engine {model!r} is not available yet: {exc}")
    issues = _subset(data)
    result = bt.run_backtest(issues, [model], rounds=10 if engine_class(model).iterative else None,
                             seed=1)
    rows = result.errors
    assert set(rows["status"]) <= {"scored", "too_few_actors"}, rows["message"].tolist()
    for issue, (_, r) in zip(issues, rows.iterrows(), strict=True):
        if r["status"] == "scored":
            pos = [a.positions[issue.name].value for a in issue.case.actors]
            assert min(pos) - 1e-9 <= r["forecast"] <= max(pos) + 1e-9
            assert r["abs_error"] == pytest.approx(abs(r["forecast"] - issue.outcome))
    again = bt.run_backtest(issues, [model], rounds=10 if engine_class(model).iterative else None,
                            seed=1)
    pd.testing.assert_frame_equal(rows, again.errors)


# -- the command -----------------------------------------------------------------------------


def test_cli_backtest_writes_the_error_csv(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "sub" / "errors.csv"
    code = main(["backtest", str(deu_file()), "--models", "compromise,median", "--errors",
                 str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "compromise" in printed and "23.22" in printed and "353" in printed
    assert "11 no outcome" in printed
    table = pd.read_csv(out)
    assert list(table.columns) == list(bt.ERROR_COLUMNS)
    assert len(table) == 2 * 353
    assert set(table["model"]) == {"compromise", "median"}
    assert table["abs_error"].notna().all()
    assert not list(tmp_path.glob("sub/.*.tmp"))


def test_cli_writes_nothing_by_default(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    assert main(["backtest", str(deu_file()), "--models", "median"]) == 0
    assert not list(tmp_path.iterdir())


def _wrong_columns(tmp_path: Path) -> Path:
    p = tmp_path / "wrong.csv"
    p.write_text('"isnr"\t"pcom"\t"scom"\t"pde"\t"sde"\n"a"\t1\t1\t1\t1\n')
    return p


def _short_row(tmp_path: Path) -> Path:
    lines = deu_file().read_text().splitlines()
    p = tmp_path / "short.csv"
    p.write_text("\n".join([*lines[:5], lines[5].rsplit("\t", 3)[0], *lines[6:10]]) + "\n")
    return p


def _binary(tmp_path: Path) -> Path:
    p = tmp_path / "bin.csv"
    p.write_bytes(b"\x00\x01\x02binary")
    return p


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (_wrong_columns, "wrong.csv:1: not a DEU file: the header lacks column(s) out"),
        (lambda tmp: DATA / "ec_emissions.csv", "ec_emissions.csv:1: not a DEU file"),
        (_short_row, "short.csv:6: expected 75 tab-separated columns, found 72"),
        (_binary, "bin.csv: binary file"),
        (lambda tmp: tmp / "missing.csv", "missing.csv: no such file"),
    ],
    ids=["wrong-columns", "scholz-csv", "short-row", "binary", "missing"],
)
def test_cli_bad_input_exits_2_with_one_line(tmp_path: Path, capsys, make, expected) -> None:  # type: ignore[no-untyped-def]
    path = make(tmp_path)
    out = tmp_path / "errors.csv"
    assert main(["backtest", str(path), "--models", "compromise", "--errors", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("alliancelab: error: ")
    assert expected in err
    assert not out.exists()


def test_cli_bad_options_exit_2(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "errors.csv"
    assert main(["backtest", str(deu_file()), "--models", "oracle", "--errors", str(out)]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert main(["backtest", str(deu_file()), "--rounds", "0", "--errors", str(out)]) == 2
    assert "rounds" in capsys.readouterr().err
    assert not out.exists()


def test_cli_entry_point_exit_code(tmp_path: Path) -> None:
    bad = _wrong_columns(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "alliancelab", "backtest", str(bad), "--errors",
         str(tmp_path / "e.csv")],
        capture_output=True, text=True, check=False, timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "not a DEU file" in proc.stderr
    assert proc.stdout == ""
