"""``alliancelab run``: the main job on the shipped case, its files, and its errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alliancelab import read_case
from alliancelab.cases import resolve_case
from alliancelab.cli import main
from alliancelab.jobs.run import movement_table, run_job

DATA = Path(__file__).parent / "data"
MINI = DATA / "mini_alliance.yaml"
#: few draws keep the tests fast; the engines side by side as in the main job.
MODELS = "compromise,bdm,smp"
FAST = ["--draws", "8", "--effect-draws", "2", "--workers", "1", "--models", MODELS,
        "--explore-n", "0"]  # the exploration section is tested in test_explore_report.py
CSV_FILES = ["forecasts.csv", "forecast_draws.csv", "parameter_draws.csv", "trajectories.csv",
             "dynamics.csv", "movement.csv", "interactions.csv", "perception_gaps.csv",
             "interventions.csv", "inputs.csv", "alliance_models.csv", "alliance_families.csv"]


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
    """Every dated snapshot of the case (at least 2007 and 2025), by date, then the
    scenario; more shipped snapshots only add rows."""
    g = pd.read_csv(shipped_run / "perception_gaps.csv", dtype={"date": str, "snapshot": str})
    snaps = list(dict.fromkeys(g["snapshot"]))
    dated = snaps[:-1]
    assert any(s.startswith("2007") for s in dated) and any(s.startswith("2025") for s in dated)
    assert dated == sorted(dated)
    assert snaps[-1] == f"{dated[-1]} + dprk_nuclear_test + joint_threat_assessment"
    assert dated[-1].startswith("2025")
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


def test_effects_of_the_chosen_shock_are_the_runs_own_results(tmp_path):
    """One path for "this case with these interventions": the effect rows of the chosen
    shock in interventions.csv are the shocked run's own results minus the baseline, number
    by number - forecasts against the shocked run's and an unshocked run's forecasts.csv,
    the dynamics against dynamics.csv, the gap against perception_gaps.csv."""
    args = ["--draws", "5", "--seed", "3", "--explore-n", "0", "--alliance-draws", "0",
            "--workers", "1"]
    shocked, plain = tmp_path / "shocked", tmp_path / "plain"
    assert main(["run", "us_rok_2025", "--shock", "dprk_nuclear_test", "--out", str(shocked),
                 *args]) == 0
    assert main(["run", "us_rok_2025", "--out", str(plain), *args]) == 0
    e = pd.read_csv(shocked / "interventions.csv")
    e = e[e["scenario"] == "dprk_nuclear_test"]
    np.testing.assert_allclose(e["effect"], e["value"] - e["baseline"], rtol=0, atol=1e-9)

    def check(rows: pd.DataFrame, value: dict, baseline: dict) -> None:
        assert len(rows) > 0
        for r in rows.itertuples():
            assert r.value == pytest.approx(value[r.item], rel=1e-12, abs=1e-9), r
            assert r.baseline == pytest.approx(baseline[r.item], rel=1e-12, abs=1e-9), r

    # forecasts: the shocked run's point forecasts, the unshocked run's as the baseline
    f_shock, f_plain = (pd.read_csv(d / "forecasts.csv") for d in (shocked, plain))
    for model in MODELS.split(","):
        def point(f: pd.DataFrame, m: str = model) -> dict:
            return dict(f[f["model"] == m][["issue", "forecast"]].itertuples(index=False))
        check(e[(e["metric"] == "forecast") & (e["model"] == model)], point(f_shock),
              point(f_plain))
    # dynamics: the run's own scenario and baseline simulations (last round)
    d = pd.read_csv(shocked / "dynamics.csv")
    last = d[d["round"] == d["round"].max()]

    def final(scenario: str, kind: str) -> dict:
        sub = last[(last["scenario"] == scenario) & (last["kind"] == kind)]
        return dict(sub[["item", "value"]].itertuples(index=False))
    for metric, kind in (("dynamics outcome", "outcome"), ("indicator", "indicator")):
        check(e[e["metric"] == metric], final("scenario", kind), final("baseline", kind))
    r = json.loads((shocked / "results.json").read_text())
    outcomes = e[e["metric"] == "dynamics outcome"].set_index("item")["value"]
    for issue, v in r["dynamics"]["final_outcomes"].items():
        assert outcomes[issue] == pytest.approx(v, rel=1e-12)
    # the issue's example: the nuclear test raises felt threats and the links move the
    # allies' positions; troops stay at the congressional floor (28,500, the status quo,
    # docs/us-rok-case.md "Arenas and veto players"), so the links show on dprk_policy
    dyn = e[e["metric"] == "dynamics outcome"].set_index("item")["effect"]
    assert dyn["usfk_troops"] == pytest.approx(0.0, abs=1e-6) and dyn["dprk_policy"] > 1
    # the perception gap: the scenario's snapshot minus the case's own
    g = pd.read_csv(shocked / "perception_gaps.csv", dtype={"date": str, "snapshot": str})
    snaps = list(dict.fromkeys(g["snapshot"]))
    assert snaps[-1] == f"{snaps[-2]} + dprk_nuclear_test"
    for kind in ("threat", "reliability", "issue"):
        def gap(snap: str, k: str = kind) -> dict:
            sub = g[(g["snapshot"] == snap) & (g["kind"] == k)]
            return dict(sub[["item", "gap"]].itertuples(index=False))
        check(e[e["metric"] == f"gap: {kind}"], gap(snaps[-1]), gap(snaps[-2]))


def test_a_case_without_plugin_or_sides_has_no_alliance_table_and_no_note():
    case = read_case(resolve_case("us_rok_2025"))
    plain = case.model_copy(update={"plugin": None, "sides": None})
    res = run_job(plain, models=["compromise"], draws=2, effect_draws=0, seed=1)
    assert res.alliance is None and res.alliance_labels is None
    assert not res.notes
    assert res.gaps.empty
    assert not (res.effects["metric"] == "alliance model").any()
    assert not res.effects["metric"].str.startswith("gap").any()


@pytest.mark.parametrize("plugin, message", [
    ("alliancelab.cases.no_such_plugin", "cannot import the plug-in"),
    ("alliancelab.core.errors", "has no evaluate"),
])
def test_a_bad_plugin_is_a_one_line_error(plugin, message):
    from alliancelab.core.errors import AllianceLabError

    case = read_case(MINI).model_copy(update={"plugin": plugin})
    with pytest.raises(AllianceLabError, match=message) as info:
        run_job(case, models=["compromise"], draws=2, effect_draws=0, seed=1)
    assert len(str(info.value).splitlines()) == 1 and info.value.field == "plugin"


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
                     "--alliance-draws", "2", "--models", "compromise,smp",
                     "--workers", str(k + 1)]) == 0
        outs.append(out)
    for name in [*CSV_FILES, "results.json"]:
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
    m0, m1 = (json.loads((o / "manifest.json").read_text()) for o in outs)
    for m in (m0, m1):
        m.pop("command")
        m["files"].pop("report.html")  # its size varies with the run times it prints
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


def test_a_broken_sibling_snapshot_is_a_one_line_error(tmp_path, capsys):
    """The other dated snapshots are read inside the job (while the pool works): a broken
    one still stops the run with the one-line error naming it, and nothing is written."""
    shipped = resolve_case("us_rok_2025", strict=True)
    case_file = tmp_path / "mine_2025.yaml"
    case_file.write_text(shipped.read_text())
    (tmp_path / "mine_2018.yaml").write_text("name: [unclosed\n")
    out = tmp_path / "o"
    assert main(["run", str(case_file), "--out", str(out), "--draws", "2",
                 "--alliance-draws", "0", "--explore-n", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "mine_2018.yaml" in err and "YAML" in err
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
    fast = ["--draws", "3", "--effect-draws", "0", "--models", "compromise", "--workers", "1",
            "--explore-n", "0"]
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


# -- alliance models (issue 4) -------------------------------------------------------------
#: indicators whose inputs carry ranges in the shipped case, so their bands have width.
RANGED = ["dilemma.rok_abandonment", "dilemma.rok_entrapment", "tension.korea",
          "tension.us_china", "morrow.price", "morrow.security_gained", "inputs.p_tactical",
          "inputs.p_strategic", "burden.rok_share_of_pair"]


def test_default_run_has_alliance_bands(shipped_run):
    """Without --alliance-draws every alliance indicator gets a 5-95% band over the Monte
    Carlo draws (min(draws, DEFAULT_ALLIANCE_DRAWS) of them), baseline and per scenario."""
    m = json.loads((shipped_run / "manifest.json").read_text())
    assert m["alliance_draws"] == 8  # --draws 8 < DEFAULT_ALLIANCE_DRAWS
    a = pd.read_csv(shipped_run / "alliance_models.csv", keep_default_na=True)
    case = read_case(resolve_case("us_rok_2025"))
    scenarios = {"baseline", *(s.name for s in case.shocks), *(lv.name for lv in case.levers),
                 "dprk_nuclear_test + joint_threat_assessment"}
    assert set(a["scenario"]) == scenarios
    items = set(a["item"])
    assert {*RANGED, "deterrence.p_challenge", "tripartite.p_war", "morrow.concession_gap",
            "burden.exploitation_ratio"} <= items
    assert all((a[a["scenario"] == s]["item"].nunique() == len(items)) for s in scenarios)
    solved = a[a["draws"] > 0]
    assert len(solved) >= 0.95 * len(a)  # solver failures are rare and counted in a note
    tol = 1e-9
    assert (solved["p5"] <= solved["p50"] + tol).all()
    assert (solved["p50"] <= solved["p95"] + tol).all()
    eff = solved[solved["kind"] != "baseline"]
    assert eff["effect_p5"].notna().all()
    assert (eff["effect_p5"] <= eff["effect_p50"] + tol).all()
    assert (eff["effect_p50"] <= eff["effect_p95"] + tol).all()
    base = a[a["kind"] == "baseline"].set_index("item")
    for item in RANGED:
        assert base.loc[item, "p5"] < base.loc[item, "p95"], item
    # a troop cut: at the point values the congressional floor (28,500 = the status quo)
    # blocks it, so abandonment does not move; in the draws where the sampled floor lies
    # lower (range 24,000-28,500) the cut happens and raises abandonment risk
    cut = a[(a["scenario"] == "rapid_troop_reduction")
            & (a["item"] == "dilemma.rok_abandonment")].iloc[0]
    assert abs(cut["effect"]) < 1e-3 and cut["effect_p95"] > 0
    # the effect rows are in interventions.csv too
    e = pd.read_csv(shipped_run / "interventions.csv")
    assert (e["metric"] == "alliance model").sum() == (a["kind"] != "baseline").sum()


def test_alliance_families_share_of_draws(shipped_run):
    f = pd.read_csv(shipped_run / "alliance_families.csv")
    assert {"deterrence.type", "tripartite.type", "dilemma.game"} <= set(f["item"])
    for _, sub in f.groupby(["scenario", "item"]):
        assert sub["share"].sum() == pytest.approx(1.0)
        assert sub["modal"].sum() == 1
        assert sub[sub["modal"]]["share"].iloc[0] == sub["share"].max()
        assert (sub["draws"] == 8).all()


def test_report_shows_alliance_bands(shipped_run):
    html = (shipped_run / "report.html").read_text()
    sec = html[html.index('<section id="alliance">'):]
    sec = sec[:sec.index("</section>")]
    assert 'id="fig-alliance"' in sec and 'id="fig-alliance-bands"' in sec
    assert "baseline: median [5%, 95%]" in sec and "over 8 Monte Carlo draws" in sec
    assert "morrow.concession_gap" in sec and "Equilibrium families" in sec
    # a band cell: median [lo, hi]
    import re
    assert re.search(r"<td[^>]*>-?[0-9.]+ \[-?[0-9.]+, -?[0-9.]+\]</td>", sec)


def test_alliance_draws_zero_reports_the_case_as_stated(tmp_path):
    case = read_case(resolve_case("us_rok_2025"))
    res = run_job(case, models=["compromise"], draws=3, effect_draws=0, alliance_draws=0,
                  seed=2)
    a = res.alliance
    assert res.alliance_draws == 0 and a is not None
    assert a["p50"].isna().all() and (a["draws"] == 0).all()
    assert a[a["kind"] == "baseline"]["value"].notna().all()
    assert set(res.alliance_labels["share"]) == {1.0}
    with pytest.raises(Exception, match="non-negative"):
        run_job(case, models=["compromise"], draws=3, alliance_draws=-1, seed=2)


def test_alliance_solver_failures_are_counted(monkeypatch):
    """A game the solver cannot solve is counted in a note and left out of the bands; the
    other models' indicators keep theirs."""
    from alliancelab.cases import us_rok as am
    from alliancelab.core.errors import AllianceLabError

    def fail(*args, **kwargs):  # noqa: ANN002, ANN003
        raise AllianceLabError("no equilibrium")

    case = read_case(resolve_case("us_rok_2025"))
    monkeypatch.setattr(am, "solve_tcg_many", fail)
    am._SOLVED.clear()
    try:
        res = run_job(case, models=["compromise"], draws=2, effect_draws=0, alliance_draws=2,
                      seed=4)
    finally:
        am._SOLVED.clear()
    n = 3 * (1 + len(case.shocks) + len(case.levers))
    assert any(f"tripartite crisis game solver found no equilibrium on {n} of {n}" in note
               for note in res.notes)
    a = res.alliance
    tri = a[a["item"] == "tripartite.p_war"]
    assert (tri["draws"] == 0).all() and tri["value"].isna().all()
    ab = a[a["item"] == "dilemma.rok_abandonment"]
    assert (ab["draws"] == 2).all()
    lab = res.alliance_labels
    assert set(lab[lab["item"] == "tripartite.type"]["label"]) == {"solver failed"}
