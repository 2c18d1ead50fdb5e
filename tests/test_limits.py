"""Limits on every dimension of work (issue 13, item 2): actors, issues, rounds, draws,
experiments - refused when the case or the command is read, through the real command line
(exit 2, one line naming the file, line or field), raised with ``--limit NAME=VALUE`` or
``ALLIANCELAB_LIMITS``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import alliancelab
from alliancelab.core import limits
from alliancelab.core.case import DYNAMICS_PARAMETERS
from alliancelab.core.errors import AllianceLabError
from alliancelab.models.dynamics import NEUTRAL


def big_yaml(n_actors: int, n_issues: int = 1) -> str:
    head = "name: Big\nissues:\n" + "".join(f"  - name: i{k}\n" for k in range(n_issues))
    pos = ", ".join(f"i{k}: 50" for k in range(n_issues))
    sal = ", ".join(f"i{k}: 0.5" for k in range(n_issues))
    rows = "".join(f"  - {{name: a{i}, capability: {1 + i % 7}, positions: {{{pos}}}, "
                   f"saliences: {{{sal}}}}}\n" for i in range(n_actors))
    return head + "actors:\n" + rows


def cli(*args: str, cwd: Path, env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "alliancelab", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})


def one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stdout == ""
    return proc.stderr


def test_a_10000_actor_yaml_is_refused_at_the_first_actor_over_the_limit(
        tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text(big_yaml(10_000))
    err = one_line_error(cli("forecast", str(path), cwd=tmp_path))
    # the 201st actor is on line 3 + 1 + 201: counted while parsing, refused right there
    assert f"{path}:205: actors: more than the limit of 200 actors" in err, err
    assert "--limit actors=N" in err and "ALLIANCELAB_LIMITS" in err


def test_too_many_issues_are_refused_with_the_line_of_the_first_one_over(
        tmp_path: Path) -> None:
    path = tmp_path / "wide.yaml"
    path.write_text(big_yaml(3, n_issues=101))
    err = one_line_error(cli("forecast", str(path), cwd=tmp_path))
    assert f"{path}:103: issues: more than the limit of 100 issues" in err, err


@pytest.mark.parametrize("how", ["option", "env"])
def test_a_limit_is_raised_on_the_command_line_or_in_the_environment(
        tmp_path: Path, how: str) -> None:
    path = tmp_path / "wide.yaml"
    path.write_text(big_yaml(250))
    one_line_error(cli("forecast", str(path), "--json", cwd=tmp_path))
    proc = (cli("forecast", str(path), "--json", "--limit", "actors=300", cwd=tmp_path)
            if how == "option" else
            cli("forecast", str(path), "--json", cwd=tmp_path,
                env={limits.ENV: "actors=300,rounds=50"}))
    assert proc.returncode == 0, proc.stderr
    assert '"forecast"' in proc.stdout
    # a lower limit refuses what the default accepts
    lower = cli("forecast", str(path), "--limit", "actors=10", cwd=tmp_path)
    assert "more than the limit of 10 actors" in one_line_error(lower)


def test_rounds_draws_and_experiments_are_limited_before_any_work(tmp_path: Path) -> None:
    cases = [
        (("forecast", "us_rok_2025", "--model", "bdm", "--rounds", "20000"),
         r"rounds: 20,000 rounds, more than the limit of 10,000"),
        (("forecast", "us_rok_2025", "--model", "bdm", "--rounds", "50", "--limit",
          "rounds=20"), r"rounds: 50 rounds, more than the limit of 20"),
        (("run", "us_rok_2025", "--draws", "2000000", "--out", str(tmp_path / "out")),
         r"draws: 2,000,000 draws, more than the limit of 1,000,000"),
        (("explore", "us_rok_2025", "--n", "5000", "--limit", "experiments=1000",
          "--store", str(tmp_path / "store")),
         r"n: [\d,]+ experiments, more than the limit of 1,000"),
    ]
    for args, expected in cases:
        err = one_line_error(cli(*args, cwd=tmp_path))
        assert re.search(expected, err), (args, err)
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "store").exists() or not any((tmp_path / "store").iterdir())


@pytest.mark.parametrize("spec, problem", [
    ("bogus=3", "NAME one of actors, issues"),
    ("actors", "expected NAME=VALUE"),
    ("actors=0", "positive whole number, got '0'"),
    ("actors=lots", "positive whole number, got 'lots'"),
])
def test_a_bad_limit_is_one_line(tmp_path: Path, spec: str, problem: str) -> None:
    assert problem in one_line_error(cli("forecast", "us_rok_2025", "--limit", spec,
                                         cwd=tmp_path))
    env_err = one_line_error(cli("forecast", "us_rok_2025", cwd=tmp_path,
                                 env={limits.ENV: spec}))
    assert limits.ENV in env_err and problem in env_err


def test_configure_and_the_python_api() -> None:
    try:
        assert limits.configure({"actors": 2}) ["actors"] == 2
        with pytest.raises(AllianceLabError, match="more than the limit of 2 actors"):
            alliancelab.parse_case(big_yaml(3), fmt="yaml")
        assert limits.configure(["actors=5,issues=7"])["issues"] == 7
        assert len(alliancelab.parse_case(big_yaml(3), fmt="yaml").actors) == 3
    finally:
        limits.configure()
    assert limits.current() == limits.DEFAULTS


def test_the_dynamics_parameters_are_the_ones_the_dynamics_reads() -> None:
    assert set(DYNAMICS_PARAMETERS) == set(NEUTRAL)


def test_a_deadline_stops_the_dynamics_loop() -> None:
    """Cooperative cancellation: a simulation inside an expired deadline (or with its event
    set) stops at its next round instead of running on."""
    import threading

    from alliancelab.cases import resolve_case
    from alliancelab.models.dynamics import simulate

    case = alliancelab.read_case(resolve_case("us_rok_2025"))
    with limits.deadline(0.0), pytest.raises(limits.WorkCancelled, match="time limit"):
        simulate(case, rounds=10_000)
    event = threading.Event()
    event.set()
    with limits.deadline(event=event), pytest.raises(limits.WorkCancelled, match="cancelled"):
        simulate(case, rounds=10_000)
    assert simulate(case, rounds=3).n_rounds == 3  # outside a deadline: no effect


def test_a_ktab_csv_announcing_too_many_actors_is_refused_at_line_1(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    rows = "".join(f"a{i},actor,10,{i % 100},50,\n" for i in range(220))  # KTAB's cap: 250
    path.write_text('Big,"big",220,1,\nActor,Description,Power,Pstn1,Sal1,\n' + rows)
    err = one_line_error(cli("forecast", str(path), cwd=tmp_path))
    assert f"{path}:1: actors: 220 actors, more than the limit of 200 actors" in err, err
    assert cli("forecast", str(path), "--limit", "actors=250", cwd=tmp_path).returncode == 0
