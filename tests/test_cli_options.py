"""``alliancelab forecast --option KEY=VALUE`` passes engine options through."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alliancelab.cli import main

DATA = Path(__file__).parent / "data"


def test_option_reaches_the_engine(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["forecast", str(DATA / "two_issues.yaml"), "--model", "nash", "--json"]
    assert main([*args, "--option", "disagreement=status_quo"]) == 0
    with_sq = json.loads(capsys.readouterr().out)
    assert with_sq["settings"] == {"disagreement": "status_quo"}
    # A (20,000) and C (35,000) stand on opposite sides of the status quo (28,500): no move
    # leaves both better off, so under the status-quo disagreement point nothing moves.
    assert with_sq["forecast"]["troops"] == 28500.0
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["forecast"]["troops"] != 28500.0


def test_values_are_typed(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["forecast", str(DATA / "ec_emissions.csv"), "--model", "bdm-scholz", "--json"]
    assert main([*args, "--option", "tie_tol=0", "--option", "ties=input-order"]) == 0
    settings = json.loads(capsys.readouterr().out)["settings"]
    assert settings["tie_tol"] == 0 and settings["ties"] == "input-order"


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("garbage", "expected KEY=VALUE"),
        ("nope=1", "unexpected keyword argument 'nope'"),
        ("disagreement=bogus", "must be 'worst' or 'status_quo'"),
    ],
)
def test_bad_options_are_one_line_errors(
    option: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["forecast", str(DATA / "two_issues.yaml"), "--model", "nash", "--option", option])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and err.count("\n") == 1
