"""``alliancelab run``: the main job on the shipped case, its files, and its errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alliancelab import read_case
from alliancelab.cli import main
from alliancelab.runjob import movement_table, run_job

DATA = Path(__file__).parent / "data"
MINI = DATA / "mini_alliance.yaml"
#: few draws keep the tests fast; the engines side by side as in the main job.
MODELS = "compromise,bdm,smp"
FAST = ["--draws", "8", "--effect-draws", "2", "--workers", "1", "--models", MODELS]
CSV_FILES = ["forecasts.csv", "forecast_draws.csv", "parameter_draws.csv", "trajectories.csv",
             "dynamics.csv", "movement.csv", "interactions.csv", "perception_gaps.csv",
             "interventions.csv", "inputs.csv"]


@pytest.fixture(scope="module")
def shipped_run(tmp_path_factory):
    """One run of the main job on the shipped 2025 case, with a shock and a lever."""
    out = tmp_path_factory.mktemp("run") / "out"
    code = main(["run", "us_rok_2025", "--shock", "dprk_nuclear_test",
                 "--lever", "joint_threat_assessment", "--seed", "11", "--out", str(out), *FAST])
    assert code == 0
    return out


def test_writes_every_file(shipped_run):
    names = {p.name for p in shipped_run.iterdir()}
    assert {"report.html", "results.json", "manifest.json", *CSV_FILES} <= names
    assert not [p for p in shipped_run.parent.iterdir() if p.name.startswith(".out.")]


def test_csv_files_are_well_formed(shipped_run):
    for name in CSV_FILES:
        with open(shipped_run / name, newline="") as fh:
            rows = list(csv.reader(fh))
        assert len(rows) > 1, name
        assert len({len(r) for r in rows}) == 1, name


def test_forecasts_with_bands_per_model(shipped_run):
    case = read_case(Path(__import__("alliancelab").cases.__file__).parent / "us_rok_2025.yaml")
    f = pd.read_csv(shipped_run / "forecasts.csv")
    assert set(f["model"]) == set(MODELS.split(","))
    assert len(f) == 3 * len(case.issues)
    assert (f["p5"] <= f["p50"] + 1e-9).all() and (f["p50"] <= f["p95"] + 1e-9).all()
    assert (f["p5"] >= f["scale_min"] - 1e-9).all() and (f["p95"] <= f["scale_max"] + 1e-9).all()
    # the Monte Carlo varies the forecasts: some band has width
    assert ((f["p95"] - f["p5"]) > 0).any()
    draws = pd.read_csv(shipped_run / "forecast_draws.csv")
    assert len(draws) == 8 * 3 * len(case.issues)


def test_trajectories_dynamics_and_movement(shipped_run):
    t = pd.read_csv(shipped_run / "trajectories.csv")
    assert {*MODELS.split(","), "dynamics"} <= set(t["source"])
    assert t[t["source"] == "dynamics"]["round"].max() >= 1
    mv = pd.read_csv(shipped_run / "movement.csv")
    assert "dynamics" in set(mv["source"])
    d = pd.read_csv(shipped_run / "dynamics.csv")
    assert {"baseline", "scenario"} == set(d["scenario"])
    assert {"outcome", "indicator", "perception"} <= set(d["kind"])


def test_perception_gap_has_both_snapshots(shipped_run):
    g = pd.read_csv(shipped_run / "perception_gaps.csv", dtype={"date": str, "snapshot": str})
    snaps = list(dict.fromkeys(g["snapshot"]))
    assert len(snaps) == 3  # 2007, 2025, 2025 + shock + lever
    assert snaps[0].startswith("2007") and snaps[1].startswith("2025")
    assert {"threat", "issue", "reliability"} <= set(g["kind"])


def test_intervention_effects(shipped_run):
    case = read_case(Path(__import__("alliancelab").cases.__file__).parent / "us_rok_2025.yaml")
    e = pd.read_csv(shipped_run / "interventions.csv")
    every = {s.name for s in case.shocks} | {lv.name for lv in case.levers}
    assert every | {"dprk_nuclear_test + joint_threat_assessment"} == set(e["scenario"])
    assert {"forecast", "dynamics outcome", "indicator"} <= set(e["metric"])
    np.testing.assert_allclose(e["effect"], e["value"] - e["baseline"], atol=1e-9)
    # a DPRK nuclear test moves the threat gap
    row = e[(e["scenario"] == "dprk_nuclear_test") & (e["metric"] == "gap: threat")
            & (e["item"] == "dprk")]
    assert len(row) == 1 and row["effect"].abs().iloc[0] > 0


def test_inputs_carry_sources(shipped_run):
    i = pd.read_csv(shipped_run / "inputs.csv", keep_default_na=False)
    assert {"actor", "issue", "field", "value", "range_low", "range_high", "source",
            "note"} <= set(i.columns)
    caps = i[i["field"] == "capability"]
    assert len(caps) == 11 and (caps["source"] != "").all()


def test_manifest_and_results_json(shipped_run):
    m = json.loads((shipped_run / "manifest.json").read_text())
    assert m["seed"] == 11 and m["draws"] == 8
    assert m["models"] == MODELS.split(",")
    assert len(m["case_sha256"]) == 64
    assert m["interventions"] == ["dprk_nuclear_test", "joint_threat_assessment"]
    assert "--seed 11" in m["command"] and m["command"].startswith("alliancelab run")
    assert {"numpy", "alliancelab", "plotly"} <= set(m["versions"])
    for name, info in m["files"].items():
        assert (shipped_run / name).stat().st_size == info["bytes"]
    r = json.loads((shipped_run / "results.json").read_text())
    assert set(r["forecasts"]) == set(MODELS.split(","))
    assert r["dynamics"]["final_outcomes"]


def test_summary_printed(tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["run", str(MINI), "--seed", "4", "--out", str(out), "--draws", "5",
                 "--effect-draws", "1", "--models", "compromise,median", "--workers", "1"]) == 0
    text = capsys.readouterr().out
    assert "seed 4" in text and "report.html" in text
    assert "troops" in text and "compromise" in text and "median" in text


def test_same_seed_identical_results(tmp_path):
    """Two runs with one seed write byte-identical CSV and JSON (the manifest differs only
    in the command line, which names the output directory)."""
    outs = []
    for k in range(2):
        out = tmp_path / f"o{k}"
        assert main(["run", "us_rok_2025", "--lever", "strategic_diplomacy", "--seed", "5",
                     "--out", str(out), "--draws", "5", "--effect-draws", "1",
                     "--models", "compromise,smp",
                     "--workers", str(k + 1)]) == 0
        outs.append(out)
    for name in [*CSV_FILES, "results.json"]:
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
    m0, m1 = (json.loads((o / "manifest.json").read_text()) for o in outs)
    for m in (m0, m1):
        m.pop("command")
    assert m0 == m1


def test_unknown_shock_exits_2_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["run", "us_rok_2025", "--shock", "alien_invasion", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "alien_invasion" in err and "dprk_nuclear_test" in err
    assert not out.exists()


def test_lever_given_as_shock_exits_2(tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["run", "us_rok_2025", "--shock", "joint_threat_assessment",
                 "--out", str(out)]) == 2
    assert "--lever" in capsys.readouterr().err
    assert not out.exists()


def test_missing_case_exits_2(tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["run", str(tmp_path / "nope.yaml"), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no such file" in err
    assert not out.exists()


@pytest.mark.parametrize("args", [["--draws", "0"], ["--seed", "-1"], ["--models", "oracle"]])
def test_bad_options_exit_2(tmp_path, capsys, args):
    out = tmp_path / "o"
    assert main(["run", str(MINI), "--out", str(out), *args]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert not out.exists()


def test_refuses_foreign_directory_and_replaces_its_own(tmp_path, capsys):
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "thesis.txt").write_text("precious")
    fast = ["--draws", "3", "--effect-draws", "0", "--models", "compromise", "--workers", "1"]
    assert main(["run", str(MINI), "--out", str(foreign), *fast]) == 2
    assert (foreign / "thesis.txt").read_text() == "precious"
    assert len(list(foreign.iterdir())) == 1
    capsys.readouterr()
    ours = tmp_path / "ours"
    assert main(["run", str(MINI), "--out", str(ours), "--seed", "1", *fast]) == 0
    first = (ours / "forecasts.csv").read_bytes()
    assert main(["run", str(MINI), "--out", str(ours), "--seed", "2", *fast]) == 0
    assert json.loads((ours / "manifest.json").read_text())["seed"] == 2
    assert (ours / "forecasts.csv").read_bytes() != first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["foreign", "ours"]


def test_run_job_is_pure_and_reports_bands():
    case = read_case(MINI)
    res = run_job(case, models=["compromise", "median"], draws=30, effect_draws=4, seed=9)
    ft = res.forecast_table()
    assert (ft["p5"] <= ft["p95"]).all()
    assert res.seed == 9 and res.n_draws == 30
    assert res.draws.samples.shape == (30, 13)
    e = res.effects
    band = e[(e["metric"] == "forecast") & (e["model"] == "compromise")]
    assert band["effect_p5"].notna().all()


def test_movement_table_signs():
    """An actor that moves to another's position closes the whole distance (1 scale width
    on that issue); the one that stays closes nothing."""
    from types import SimpleNamespace

    case = read_case(DATA / "two_issues.yaml")
    rounds = np.zeros((2, 3, 2))
    rounds[0] = [[0, 0], [40000, 0], [20000, 0]]
    rounds[1] = [[40000, 0], [40000, 0], [20000, 0]]
    point = SimpleNamespace(rounds=rounds, actors=("A", "B", "C"))
    mv = movement_table({"x": SimpleNamespace(point=point)}, None, case)  # type: ignore[dict-item]
    get = {(r.mover, r.toward): r.closed for r in mv.itertuples()}
    assert get[("A", "B")] == pytest.approx(0.5)  # 1 scale width on 1 of 2 issues
    assert get[("A", "C")] == pytest.approx(0.0)  # passed C: as far on the other side
    assert get[("B", "A")] == pytest.approx(0.0)
    assert get[("A", "A")] == pytest.approx(0.5)
