"""``alliancelab explore`` on the command line."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from alliancelab.cli import main

CASE = str(Path(__file__).parent / "data" / "explore_case.yaml")


def test_cli_runs_analyses_and_exports(tmp_path, capsys):
    store = tmp_path / "store"
    code = main(["explore", CASE, "--n", "64", "--sampler", "sobol", "--lever", "all",
                 "--shock", "all", "--models", "compromise", "--store", str(store),
                 "--seed", "3", "--analyse", "compromise.troops",
                 "--prim", "compromise.troops<23000", "--ema", str(tmp_path / "ema"),
                 "--parquet", str(tmp_path / "r.parquet")])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "most robust (minimax regret): sustained_presence" in out.out
    assert "Sensitivity of compromise.troops (sobol)" in out.out
    assert (store / "tornado-compromise.troops.html").exists()
    assert (store / "prim-tradeoff.html").exists()
    exp = pd.read_csv(tmp_path / "ema" / "experiments.csv")
    outc = pd.read_csv(tmp_path / "ema" / "outcomes.csv")
    from alliancelab.explore import uncertainties
    from alliancelab.formats import read_case

    n_params = len(uncertainties(read_case(CASE), ["china_retaliation"]))
    assert len(exp) == len(outc) == 64 * (n_params + 2) * 4  # Saltelli rows x policies
    assert len(pd.read_parquet(tmp_path / "r.parquet")) == len(exp)
    assert "experiments stored" in out.err  # progress lines when not on a terminal


def test_cli_user_errors_exit_2(tmp_path, capsys):
    assert main(["explore", CASE, "--n", "5", "--lever", "nope", "--store",
                 str(tmp_path)]) == 2
    assert "unknown lever 'nope'" in capsys.readouterr().err
    assert main(["explore", CASE, "--n", "5", "--models", "compromise,magic", "--store",
                 str(tmp_path)]) == 2
    assert "unknown model 'magic'" in capsys.readouterr().err
    assert main(["explore", CASE, "--n", "0", "--store", str(tmp_path)]) == 2
