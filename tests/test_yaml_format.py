"""The YAML case format: round trips keep everything (sources, notes, ranges, perceptions,
dynamics, links, feedback, shocks, levers), export to the CSV formats, ``alliancelab
convert``, and the documented example in docs/case-format.md."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings

import alliancelab
from alliancelab import AllianceLabError, Case, format_case, parse_case, read_case, write_case
from alliancelab.cases import shipped_cases
from alliancelab.formats import FORMATS
from alliancelab.models.bargaining import Problem
from alliancelab.testing import cases

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
DOC = ROOT / "docs" / "case-format.md"

ROUND_TRIP = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _doc_example() -> str:
    """The first ```yaml block of docs/case-format.md (the full example)."""
    text = DOC.read_text(encoding="utf-8")
    match = re.search(r"```yaml\n(.*?)```", text, re.DOTALL)
    assert match, "docs/case-format.md has no ```yaml example"
    return match.group(1)


@ROUND_TRIP
@given(cases(rich=True, name_kind="text", max_actors=5))
def test_yaml_round_trip_keeps_everything(case: Case) -> None:
    text = format_case(case, "yaml")
    again = parse_case(text, "round-trip.yaml")
    assert again == case
    assert format_case(again, "yaml") == text  # and writing is stable


@ROUND_TRIP
@given(cases(rich=True, max_actors=4, max_issues=2))
def test_write_case_then_read_case(case: Case) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sub" / "case.yaml"
        write_case(case, path)
        assert read_case(path) == case
        assert sorted(p.name for p in path.parent.iterdir()) == ["case.yaml"]  # no temp file


@ROUND_TRIP
@given(cases(max_issues=1, name_kind="text", max_actors=8))
def test_scholz_export_round_trip(case: Case) -> None:
    text = format_case(case, "scholz")
    assert text.splitlines()[0] == "Actor,Capability,Position,Salience"
    again = parse_case(text, "export.csv")  # recognised as Scholz CSV
    assert again.actor_names == case.actor_names
    a, b = Problem.from_case(case), Problem.from_case(again)
    np.testing.assert_array_equal(a.capability, b.capability)
    np.testing.assert_array_equal(a.position, b.position)
    np.testing.assert_array_equal(a.salience, b.salience)


@ROUND_TRIP
@given(cases(rich=True, name_kind="text", max_actors=5))
def test_every_writer_writes_what_its_reader_reads(case: Case) -> None:
    """Any valid case is either written in a format and read back with the same actors and
    issues, or refused with a one-line AllianceLabError (e.g. several issues in Scholz CSV)."""
    for fmt in FORMATS:
        try:
            text = format_case(case, fmt)
        except AllianceLabError as exc:
            assert "\n" not in str(exc)
            continue
        again = parse_case(text, f"written.{'yaml' if fmt == 'yaml' else 'csv'}")
        assert again.actor_names == case.actor_names
        assert len(again.issues) == len(case.issues)


def test_the_test_case_keeps_sources_notes_and_ranges(tmp_path: Path) -> None:
    case = read_case(DATA / "two_issues.yaml")
    troops = case.issue("troops")
    assert troops.scale.units == "troops" and troops.scale.low == "withdrawal"
    assert troops.status_quo is not None and troops.status_quo.value == 28500
    assert troops.status_quo.source == "Examining the South Korea United States Alliance"
    assert case.actor("A").capability.source == "judgement: toy"
    assert case.actor("C").positions["troops"].range == (30000.0, 40000.0)
    out = tmp_path / "copy.yaml"
    write_case(case, out)
    text = out.read_text(encoding="utf-8")
    assert "judgement: toy" in text and "30000" in text
    assert "capability: 30\n" in text  # a bare number stays bare
    assert read_case(out) == case


def test_documented_example_reads_and_keeps_everything(tmp_path: Path) -> None:
    path = tmp_path / "example.yaml"
    path.write_text(_doc_example(), encoding="utf-8")
    case = read_case(path)
    assert len(case.actors) >= 3 and len(case.issues) >= 2
    assert case.sources, "the example shows the sources table"
    values = dict(case.values())
    assert any(v.source for v in values.values()), "the example shows a source"
    assert any(v.note for v in values.values()), "the example shows a note"
    assert any(v.range for v in values.values()), "the example shows a range"
    assert any(a.perceptions.threats for a in case.actors)
    assert any(a.perceptions.partner_reliability for a in case.actors)
    assert any(a.perceptions.estimates for a in case.actors)
    assert case.links and case.feedback and case.shocks and case.levers and case.dynamics
    # every model can forecast it, and the round trip keeps it
    result = alliancelab.forecast(case, "compromise")
    assert result.forecast.shape == (len(case.issues),)
    write_case(case, tmp_path / "again.yaml")
    assert read_case(tmp_path / "again.yaml") == case


def test_estimates_reach_the_problem(tmp_path: Path) -> None:
    case = read_case(DATA / "two_issues.yaml")
    data = case.model_dump()
    data["actors"][0]["perceptions"]["estimates"] = {
        "B": {"positions": {"troops": {"value": 25000}}, "saliences": {}, "capability": None}
    }
    problem = Problem.from_case(Case.model_validate(data))
    assert problem.perceived_position[0, 1, 0] == 25000  # A's estimate of B
    assert problem.perceived_position[1, 1, 0] == 30000  # B's own position
    assert problem.perceived_position[2, 1, 0] == 30000  # C believes the truth


def test_scientific_notation_and_dates_read_as_numbers_and_text() -> None:
    case = parse_case(
        "name: t\ndate: 2025-06-01\nissues: [{name: x, scale: {min: 0, max: 1e5}}]\n"
        "actors: [{name: A, capability: 2.5E3, positions: {x: 4e4}, saliences: {x: 5e-1}}]\n",
        "t.yaml",
    )
    assert case.date == "2025-06-01"
    assert case.issues[0].scale.max == 1e5
    assert case.actors[0].capability.value == 2500.0
    assert case.actors[0].positions["x"].value == 4e4
    # text that looks like a number survives a round trip as text
    named = Case.model_validate({**case.model_dump(), "name": "1e5", "description": "0E0"})
    assert parse_case(format_case(named), "t.yaml") == named


def test_scholz_csv_to_yaml_and_back() -> None:
    case = read_case(DATA / "ec_emissions.csv")
    assert len(case.actors) == 10 and case.issue_names == ("issue",)
    assert (case.issues[0].scale.min, case.issues[0].scale.max) == (4.0, 10.0)
    again = parse_case(format_case(case, "yaml"), "ec.yaml")
    assert again == case
    back = parse_case(format_case(again, "scholz"), "ec_emissions.csv")
    assert back == case


def test_scholz_export_refuses_several_issues(tmp_path: Path) -> None:
    case = read_case(DATA / "two_issues.yaml")
    with pytest.raises(AllianceLabError, match="one issue"):
        format_case(case, "scholz")
    with pytest.raises(AllianceLabError):
        write_case(case, tmp_path / "out.csv", "scholz")
    assert list(tmp_path.iterdir()) == []


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "alliancelab", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_convert_command(tmp_path: Path) -> None:
    out = tmp_path / "two.yaml"
    done = _cli("convert", str(DATA / "two_issues.yaml"), "--to", "yaml", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert read_case(out) == read_case(DATA / "two_issues.yaml")
    done = _cli("convert", str(DATA / "ec_emissions.csv"), "--to", "scholz")
    assert done.returncode == 0, done.stderr
    assert parse_case(done.stdout, "ec_emissions.csv") == read_case(DATA / "ec_emissions.csv")
    done = _cli("convert", str(DATA / "ec_emissions.csv"), "--to", "yaml")
    assert done.returncode == 0 and parse_case(done.stdout, "x.yaml") == read_case(
        DATA / "ec_emissions.csv"
    )
    bad = tmp_path / "bad.csv"
    done = _cli("convert", str(DATA / "two_issues.yaml"), "--to", "scholz", "-o", str(bad))
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "one issue" in done.stderr
    assert not bad.exists()


def _affine(a: np.ndarray, b: np.ndarray) -> bool:
    """``b`` is an increasing affine function of ``a`` (the same positions on another scale)."""
    if np.ptp(a) == 0:
        return bool(np.ptp(b) == 0)
    slope = np.ptp(b) / np.ptp(a)
    return slope > 0 and bool(
        np.allclose(b, b.min() + slope * (a - a.min()), atol=1e-6 * np.ptp(b))
    )


@pytest.mark.parametrize("source", ["ec_emissions.csv", "two_issues.yaml"])
def test_ktab_export_round_trip(source: str, tmp_path: Path) -> None:
    """Export to KTAB's CSV and read it back: the same actors, capabilities in the same
    ratios, saliences, and positions on the same (possibly rescaled) scale."""
    case = read_case(DATA / source)
    out = tmp_path / "case.csv"
    done = _cli("convert", str(DATA / source), "--to", "ktab", "-o", str(out))
    assert done.returncode == 0, done.stderr
    again = read_case(out)
    assert again.actor_names == case.actor_names
    assert len(again.issues) == len(case.issues)
    a, b = Problem.from_case(case), Problem.from_case(again)
    np.testing.assert_allclose(
        a.capability / a.capability.sum(), b.capability / b.capability.sum(), rtol=1e-6
    )
    for k in range(len(case.issues)):
        assert _affine(a.position[:, k], b.position[:, k]), (a.position[:, k], b.position[:, k])
    # saliences: KTAB may renormalise each actor's saliences; their ratios stay
    ratio_a = a.salience / a.salience.sum(axis=1, keepdims=True)
    ratio_b = b.salience / b.salience.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(ratio_a, ratio_b, atol=1e-4)


@pytest.mark.parametrize("name", sorted(n for n, p in shipped_cases().items()
                                        if p.suffix in (".yaml", ".yml")))
def test_shipped_cases_read_the_same_through_libyaml(name: str) -> None:
    """read_case parses the shipped files with libyaml (yaml_case.read(fast=True)): each must
    give the very data and line map of the reader of record."""
    from alliancelab.formats import _yaml_io, read_text

    path = shipped_cases()[name]
    text = read_text(path)
    fast = _yaml_io.parse_fast(text, str(path))
    if not yaml.__with_libyaml__:
        assert fast is None
        return
    assert fast is not None
    slow = _yaml_io.parse(text, str(path))
    assert repr(fast) == repr(slow)
    assert read_case(name) == parse_case(text, str(path))
