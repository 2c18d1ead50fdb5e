"""KTAB's SMP CSV reader and writer (alliancelab.formats.ktab_csv)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alliancelab.core.case import Case
from alliancelab.core.errors import AllianceLabError, CaseError
from alliancelab.formats import detect, format_case, ktab_csv, parse_case, read_case, write_case
from alliancelab.testing import cases

DATA = Path(__file__).parent / "data" / "ktab"
GOOD = """Scen ,"A test",3,2,
Actor,Description,Power,P1,S1,P2,S2,
A, first, 10, 20, 30, 40, 50,
B, second, 20.5, 0, 0, 100, 100,
C,,0,55.5,10,45.5,20,
"""


def test_reads_ktab_sample_files() -> None:
    case = read_case(DATA / "dummyData_3Dim.csv")
    assert case.name == "DummyData_3Dim"
    assert case.description == "Dummy scenario to test reading format"
    assert [i.name for i in case.issues] == ["Pstn1", "Pstn2", "Pstn3"]
    assert all((i.scale.min, i.scale.max) == (0, 100) for i in case.issues)
    a = case.actors[0]
    assert (a.name, a.description, a.capability.value) == ("SActor-00", "Random Spatial Actor",
                                                           102.543)
    assert a.positions["Pstn2"].value == 6.37
    assert a.saliences["Pstn1"].value == pytest.approx(0.4953, abs=1e-15)
    soe = read_case(DATA / "SOE-Pol-Comp.csv")
    assert soe.name == "China Policy/Competitive; scen 2"
    assert [i.name for i in soe.issues] == ["Policy Position", "Competitive Position"]
    assert len(soe.actors) == 13 and soe.actors[-1].name == "WY"


def test_format_is_recognised_from_the_text() -> None:
    for f in ("dummyData_3Dim.csv", "SOE-Pol-Comp.csv"):
        text = (DATA / f).read_text()
        assert ktab_csv.sniff(text) and detect(text) == "ktab"
    assert ktab_csv.sniff(GOOD)
    assert not ktab_csv.sniff("Actor,Capability,Position,Salience\nA,1,2,0.5\n")
    assert not ktab_csv.sniff("name: x\nissues: []\n")
    assert not ktab_csv.sniff("")
    assert detect((Path(__file__).parent / "data" / "ec_emissions.csv").read_text()) == "scholz"


def test_small_file_reads_as_expected() -> None:
    case = parse_case(GOOD, "t.csv")
    assert [a.name for a in case.actors] == ["A", "B", "C"]
    assert case.actors[2].description is None
    assert case.actors[1].saliences["P2"].value == 1.0
    assert case.actors[2].positions["P1"].value == 55.5


@pytest.mark.parametrize("name", ["dummyData_3Dim.csv", "SOE-Pol-Comp.csv"])
def test_sample_round_trip_is_exact(name: str, tmp_path: Path) -> None:
    case = read_case(DATA / name)
    out = tmp_path / "out.csv"
    write_case(case, out)
    assert read_case(out) == case


def test_writer_rescales_positions_and_normalises_saliences() -> None:
    case = Case.model_validate({
        "name": "w, x",
        "issues": [{"name": "troops", "scale": {"min": 1000, "max": 3000}},
                   {"name": "pct"}],
        "actors": [
            {"name": "A,1", "capability": 3, "positions": {"troops": 1500, "pct": 20},
             "saliences": {"troops": 0.9, "pct": 0.6}},
            {"name": "B", "capability": 1, "positions": {"troops": 3000, "pct": 80},
             "saliences": {"troops": 0.2, "pct": 0.3}},
        ],
    })
    text = format_case(case, "ktab")
    lines = text.splitlines()
    assert lines[0] == '"w$$ x","",2,2,'
    assert lines[2] == '"A$$1","",3,25,60,20,40,'
    assert lines[3] == '"B","",1,100,20,80,30,'
    back = parse_case(text, "w.csv")
    assert back.name == "w, x" and back.actors[0].name == "A,1"
    assert back.actors[0].saliences["troops"].value == pytest.approx(0.6)


def _one_line(exc: AllianceLabError) -> str:
    msg = str(exc)
    assert "\n" not in msg
    return msg


BAD = [
    ("Scen,desc,3\n", 1, "line 1 must read"),
    ("Scen,desc,x,2,\nA,D,P,1,2,3,4,\n", 1, "number of actors"),
    ("Scen,desc,2,0,\nA,D,P,\n", 1, "number of dimensions"),
    ("Scen,desc,1,2,\nA,D,P,1,2,\n", 2, "header must have 7 columns"),
    ("Scen,desc,2,1,\nA,D,P,X,S,\nA,,1,2,3,\nB,,1,2,\n", 4, "expected 5 columns, found 4"),
    ("Scen,desc,2,1,\nA,D,P,X,S,\nA,,1,2,3,\nB,,1,two,3,\n", 4, "not a number: 'two'"),
    ("Scen,desc,2,1,\nA,D,P,X,S,\nA,,1,2,3,\nB,,1,nan,3,\n", 4, "finite number"),
    ("Scen,desc,2,1,\nA,D,P,X,S,\nA,,1,2,3,\nB,,1,101,3,\n", 4, "position must lie in"),
    ("Scen,desc,2,1,\nA,D,P,X,S,\nA,,1,2,-3,\nB,,1,10,3,\n", 3, "salience must lie in"),
    ("Scen,desc,1,2,\nA,D,P,X,S,Y,T,\nA,,1,2,60,3,41,\n", 3, "sum to 101"),
    ("Scen,desc,2,1,\nA,D,P,X,S,\nA,,-1,2,3,\nB,,1,10,3,\n", 3, "capability must be >= 0"),
    ("Scen,desc,2,1,\nA,D,P,X,S,\nA,,1,2,3,\nA,,1,10,3,\n", 4, "duplicate actor 'A'"),
    ("Scen,desc,3,1,\nA,D,P,X,S,\nA,,1,2,3,\nB,,1,10,3,\n", 5, "announces 3 actors"),
    ("Scen,desc,1,1,\nA,D,P,X,S,\nA,,1,2,3,\nB,,1,10,3,\n", 4, "more actor rows"),
    ("Scen,desc,2,1,\nA,D,P,X,S,\n,,1,2,3,\nB,,1,10,3,\n", 3, "empty actor name"),
]


@pytest.mark.parametrize(("text", "line", "message"), BAD)
def test_bad_input_names_file_line_and_problem(text: str, line: int, message: str) -> None:
    with pytest.raises(CaseError) as info:
        ktab_csv.read(text, "bad.csv")
    msg = _one_line(info.value)
    assert info.value.line == line, msg
    assert message in msg and msg.startswith(f"bad.csv:{line}")


def test_empty_file_is_an_error() -> None:
    with pytest.raises(CaseError, match="empty"):
        ktab_csv.read("\n \n", "e.csv")


_SETTINGS = settings(max_examples=60, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(case=cases(min_actors=1, max_actors=6, max_issues=3, name_kind="text", rich=True))
def test_any_case_round_trips_up_to_the_formats_limits(case: Case) -> None:
    back = parse_case(format_case(case, "ktab"), "rt.csv")
    assert detect(format_case(case, "ktab")) == "ktab"
    assert back.name == " ".join(case.name.replace("$$", ",").split()) or back.name
    assert [a.name for a in back.actors] == [
        a.name.replace("$$", ",").replace("\r", " ").replace("\n", " ") for a in case.actors
    ]
    assert [i.name for i in back.issues] == [i.name.replace("$$", ",") for i in case.issues]
    for a, b in zip(case.actors, back.actors, strict=True):
        assert math.isclose(b.capability.value, a.capability.value, rel_tol=1e-14)
        sal = np.array([a.saliences[i.name].value for i in case.issues])
        if sal.sum() > 1:
            sal = sal / sal.sum()
        got = np.array([b.saliences[i.name].value for i in case.issues])
        np.testing.assert_allclose(got, sal, rtol=0, atol=1e-12)
        for issue in case.issues:
            lo, hi = issue.scale.min, issue.scale.max
            want = (a.positions[issue.name].value - lo) / (hi - lo) * 100
            assert b.positions[issue.name].value == pytest.approx(want, abs=1e-9)
    # a second round trip changes nothing
    assert parse_case(format_case(back, "ktab"), "rt.csv") == back


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list('0123456789,.-"e \nabnA$')), max_size=300))
def test_reader_raises_only_the_projects_error(text: str) -> None:
    try:
        ktab_csv.read(text, "fuzz.csv")
    except AllianceLabError:
        pass
    ktab_csv.sniff(text)


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=200))
def test_reader_survives_any_unicode(text: str) -> None:
    try:
        ktab_csv.read(text, "fuzz.csv")
    except AllianceLabError:
        pass


def test_reading_a_csv_case_does_not_load_pyyaml() -> None:
    """PyYAML is imported where YAML is read or written (start-up, issue 15): a KTAB or
    Scholz CSV is read without it."""
    import subprocess
    import sys

    data = Path(__file__).parent / "data"
    files = [str(next(iter(sorted((data / "ktab").glob("*.csv"))))),
             str(data / "ec_emissions.csv")]
    probe = ("import sys\nfrom alliancelab.formats import read_case\n"
             f"cases = [read_case(f) for f in {files!r}]\n"
             "print(min(len(c.actors) for c in cases) > 1, 'yaml' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, timeout=60).stdout.split()
    assert out == ["True", "False"]
