"""The Python entry points (issue 2, "What a user can do", item 4) and the JSON document of
``alliancelab forecast --json`` (item 2): one result type for every engine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import alliancelab
from alliancelab import AllianceLabError, Case, Forecast
from alliancelab.models.bargaining import ENGINES, Problem, engine_class

DATA = Path(__file__).parent / "data"
TWO = DATA / "two_issues.yaml"  # 3 actors, 2 issues
EC = DATA / "ec_emissions.csv"  # 10 actors, 1 issue
MODELS = list(ENGINES)


def test_package_exports() -> None:
    assert alliancelab.MODELS == tuple(ENGINES)
    assert set(MODELS) == {"compromise", "median", "nash", "bdm", "bdm-scholz", "smp", "exchange"}
    for name in (
        "read_case",
        "forecast",
        "parse_case",
        "write_case",
        "format_case",
        "Case",
        "Forecast",
        "AllianceLabError",
        "CaseError",
        "Problem",
    ):
        assert hasattr(alliancelab, name), name


@pytest.mark.parametrize("path", [TWO, str(TWO), EC])
def test_read_case_takes_paths_and_strings(path: Path | str) -> None:
    case = alliancelab.read_case(path)
    assert isinstance(case, Case)
    assert len(case.actors) in (3, 10)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("path", [TWO, EC], ids=["two-issues", "ec"])
def test_forecast_returns_one_result_type(model: str, path: Path) -> None:
    case = alliancelab.read_case(path)
    result = alliancelab.forecast(case, model=model, rng=7)
    n, d = len(case.actors), len(case.issues)
    assert isinstance(result, Forecast)
    assert result.model == model
    assert result.actors == case.actor_names and result.issues == case.issue_names
    assert result.rounds.ndim == 3 and result.rounds.shape[1:] == (n, d)
    assert result.n_rounds == result.rounds.shape[0] - 1 >= 0
    np.testing.assert_array_equal(result.rounds[0], Problem.from_case(case).position)
    assert result.forecast.shape == (d,) and np.all(np.isfinite(result.forecast))
    assert result.seed == 7
    assert isinstance(dict(result.diagnostics), dict)
    assert result.versions["alliancelab"] and result.versions["numpy"]
    if not engine_class(model).iterative:
        assert result.n_rounds == 0

    frame = result.to_frame()
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == ["model", "round", "actor", "issue", "position"]
    assert len(frame) == result.rounds.size
    assert pd.api.types.is_numeric_dtype(frame["position"])
    first = frame[frame["round"] == 0].set_index(["actor", "issue"])["position"]
    for actor in case.actors:
        for issue in case.issue_names:
            assert first[(actor.name, issue)] == actor.positions[issue].value
    last = frame[frame["round"] == result.n_rounds]
    assert len(last) == n * d

    ff = result.forecast_frame()
    assert list(ff.columns) == ["issue", "forecast"]
    assert list(ff["issue"]) == list(case.issue_names)
    np.testing.assert_array_equal(ff["forecast"].to_numpy(), result.forecast)


@pytest.mark.parametrize("model", MODELS)
def test_json_document(model: str) -> None:
    for path in (TWO, EC):
        case = alliancelab.read_case(path)
        result = alliancelab.forecast(case, model, rng=3)
        doc = json.loads(result.to_json())
        multi = len(case.issues) > 1
        assert doc["model"] == model
        assert isinstance(doc["rounds"], list) and len(doc["rounds"]) == result.n_rounds + 1
        round0 = doc["rounds"][0]["positions"]
        assert list(round0) == list(case.actor_names)
        for actor in case.actors:
            given = [actor.positions[i].value for i in case.issue_names]
            assert round0[actor.name] == (given if multi else given[0])
        for r, entry in enumerate(doc["rounds"]):
            for i, name in enumerate(case.actor_names):
                got = entry["positions"][name]
                want = result.rounds[r, i]
                assert (got if multi else [got]) == pytest.approx(list(want), abs=0, rel=0)
        assert doc["forecast"] == {
            k: pytest.approx(v) for k, v in zip(case.issue_names, result.forecast, strict=True)
        }
        assert doc["seed"] == 3
        json.dumps(doc["diagnostics"], allow_nan=False)  # plain JSON, NaN turned into null


@pytest.mark.parametrize("model", MODELS)
def test_cli_forecast_json_prints_the_same(model: str) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "alliancelab",
            "forecast",
            str(TWO),
            "--model",
            model,
            "--json",
            "--seed",
            "11",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    expected = alliancelab.forecast(alliancelab.read_case(TWO), model, rng=11).to_dict()
    assert json.loads(json.dumps(expected)) == printed


def test_cli_forecast_table() -> None:
    """The forecast table, and the positions by round on request (``--by-round``)."""
    done = subprocess.run(
        [sys.executable, "-m", "alliancelab", "forecast", str(EC), "--model", "median",
         "--by-round"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "120"},
    )
    assert done.returncode == 0, done.stderr
    assert "Forecast" in done.stdout and "Netherlands" in done.stdout and "r0" in done.stdout


def test_forecast_takes_a_problem_from_arrays() -> None:
    problem = Problem.from_arrays([1.0, 2.0, 1.0], [0.0, 50.0, 100.0], [1.0, 1.0, 1.0])
    result = alliancelab.forecast(problem, "compromise")
    assert result.forecast[0] == pytest.approx(50.0)
    assert result.actors == ("actor0", "actor1", "actor2")


def test_options_and_errors() -> None:
    case = alliancelab.read_case(TWO)
    with pytest.raises(AllianceLabError, match="unknown model 'oracle'"):
        alliancelab.forecast(case, "oracle")
    with pytest.raises(AllianceLabError, match="not iterative"):
        alliancelab.forecast(case, "median", rounds=3)
    with pytest.raises(AllianceLabError, match="rng"):
        alliancelab.forecast(case, "median", rng=-1)
    with pytest.raises(AllianceLabError, match="bad option"):
        alliancelab.forecast(case, "median", colour="blue")
    generator = np.random.default_rng(5)
    assert alliancelab.forecast(case, "median", rng=generator).seed is None


@pytest.mark.parametrize("model", [m for m in MODELS if m in ("bdm", "bdm-scholz", "smp")])
def test_rounds_caps_the_iterative_models(model: str) -> None:
    case = alliancelab.read_case(EC)
    assert engine_class(model).iterative
    result = alliancelab.forecast(case, model, rng=1, rounds=2)
    assert 1 <= result.n_rounds <= 2
    with pytest.raises(AllianceLabError, match="positive integer"):
        alliancelab.forecast(case, model, rounds=0)


def test_the_console_script() -> None:
    """``pip install`` puts an ``alliancelab`` command on the PATH (next to the Python that
    runs the tests, when it is a virtual environment)."""
    import shutil

    exe = shutil.which("alliancelab") or shutil.which(
        "alliancelab", path=str(Path(sys.executable).parent)
    )
    if exe is None:
        pytest.skip("the alliancelab command is not installed")
    done = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.startswith("alliancelab"), done


def test_read_case_takes_shipped_names() -> None:
    """``read_case`` and the CLI share one resolver (``alliancelab.cases.resolve_case``)."""
    from alliancelab.cases import resolve_case, shipped_cases

    case = alliancelab.read_case("us_rok_2025")
    assert case.name == "us_rok_2025"
    assert case == alliancelab.read_case(shipped_cases()["us_rok_2025"])
    assert resolve_case("us_rok_2025", strict=True) == shipped_cases()["us_rok_2025"]
    assert resolve_case(str(TWO)) == TWO  # a path still works, as given


def test_an_unknown_case_name_lists_the_shipped_ones(capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    from alliancelab.cases import shipped_cases
    from alliancelab.cli import main

    with pytest.raises(alliancelab.CaseError) as info:
        alliancelab.read_case("us_rok_2030")
    message = str(info.value)
    assert "\n" not in message and message.startswith("us_rok_2030: ")
    assert all(name in message for name in shipped_cases())
    # a missing file (a path, or a name with a case-file suffix) is still "no such file"
    with pytest.raises(alliancelab.CaseError, match="no such file$"):
        alliancelab.read_case("missing.yaml")
    for command in (["forecast", "us_rok_2030"], ["run", "us_rok_2030", "--draws", "2"]):
        assert main(command) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "us_rok_2007" in err, err


def test_forecast_without_a_seed_is_reproducible() -> None:
    from alliancelab.core.rng import DEFAULT_SEED

    case = alliancelab.read_case(EC)
    a, b = alliancelab.forecast(case, "bdm"), alliancelab.forecast(case, "bdm")
    assert a.seed == b.seed == DEFAULT_SEED
    np.testing.assert_array_equal(a.rounds, b.rounds)


def test_two_default_runs_write_the_same_results(tmp_path: Path) -> None:
    """The same command gives the same report: no ``--seed``, the default seed, recorded
    (issue 14: three default runs used to give BDM SMA medians 6.08, 5.23 and 5.34)."""
    from alliancelab.cli import main
    from alliancelab.core.rng import DEFAULT_SEED

    docs = []
    for name in ("a", "b"):
        out = tmp_path / name
        assert main(["run", "us_rok_2025", "--draws", "6", "--models", "compromise,bdm",
                     "--effect-draws", "2", "--alliance-draws", "0", "--explore-n", "0",
                     "--out", str(out)]) == 0
        docs.append(json.loads((out / "results.json").read_text()))
    assert docs[0]["seed"] == DEFAULT_SEED
    assert docs[0] == docs[1]
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert manifest["seed"] == DEFAULT_SEED
    assert f"--seed {DEFAULT_SEED}" in manifest["command"]
