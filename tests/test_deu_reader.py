"""The DEU III reader: the real file's counts (SOURCE.md) and each cleaning rule on small
synthetic DEU-format text."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shared_data import DATA

from alliancelab.core.errors import AllianceLabError, CaseError
from alliancelab.formats.deu import (
    VOTES_AMSTERDAM,
    VOTES_NICE,
    parse_deu,
    read_deu,
    repair_date,
    sniff,
)


def deu_file() -> Path:
    """``$ALLIANCELAB_SHARED/data/deu3/deu3.csv``, else ``<repo>/../shared/...``."""
    path = DATA / "deu3" / "deu3.csv"
    if not path.is_file():
        pytest.skip(f"DEU III data not found at {path} (set ALLIANCELAB_SHARED to the shared dir)")
    return path


META = ["prnrnmc", "isnrnmc", "prnr", "prname", "isnr", "type", "council", "proc", "counvte",
        "proccde", "issues", "intro", "finact"]
CODES = ["com", "de", "fr", "lu"]
HEADER = META + [f"p{c}" for c in CODES] + [f"s{c}" for c in CODES] + ["rp", "out"]
GDP = {"com": "4.1", "de": "4.1", "fr": "2.8", "lu": "0.08"}


def row(isnr: str, pos: list[str], sal: list[str], rp: str, out: str,
        intro: str = '"26-01-00"', finact: str = "1930-05-01") -> str:
    meta = ["1", "1", '"d1"', '"test"', f'"{isnr}"', '"Reg"', '"General"', '"COD"', '"QMV"',
            "3", "2", intro, finact]
    return "\t".join(meta + pos + sal + [rp, out])


def text(*rows: str, gdp: bool = True) -> str:
    lines = ["\t".join(f'"{h}"' for h in HEADER)]
    if gdp:
        cells = [""] * len(HEADER)
        for c in CODES:
            cells[HEADER.index(f"p{c}")] = f'"{GDP[c]}"'
        lines.append("\t".join(cells))
    return "\n".join([*lines, *rows]) + "\n"


# -- the real file --------------------------------------------------------------------------


def test_real_file_counts_match_source_md() -> None:
    data = read_deu(deu_file())
    assert data.rows == 364
    assert len(data.issues) == 353
    assert data.skipped_counts() == {"no outcome": 11}
    blank_out = {s.issue.rsplit("i", 1)[0] for s in data.skipped}
    assert blank_out == {"d95341", "d05127", "d05214", "d170245", "d160397"}
    with_rp = [i for i in data.issues if i.case.issues[0].status_quo is not None]
    assert len(with_rp) == 253
    # 54 cells have a position but no salience; each such actor is dropped from its issue.
    dropped = sum(len(i.meta["dropped_no_salience"]) for i in data.issues)
    assert dropped == _position_without_salience(deu_file())
    assert all(2 <= len(i.case.actors) <= 30 for i in data.issues)


def _position_without_salience(path: Path) -> int:
    df = pd.read_csv(path, sep="\t", skiprows=[1])
    df = df[df["out"].notna()]
    codes = [c[1:] for c in df.columns[13:43]]
    return int(sum((df[f"p{c}"].notna() & df[f"s{c}"].isna()).sum() for c in codes))


def test_real_file_issue_matches_the_raw_row() -> None:
    data = read_deu(deu_file())
    first = data.issues[0]
    assert first.name == "d00032i1"
    assert first.outcome == 100.0
    assert first.case.issues[0].status_quo.value == 0.0
    names = first.case.actor_names
    assert "Croatia" not in names and "Poland" not in names  # not yet members in 2000
    commission = first.case.actor("European Commission")
    assert commission.positions["d00032i1"].value == 100.0
    assert commission.saliences["d00032i1"].value == pytest.approx(0.5)
    assert commission.capability.value == pytest.approx(4.1)
    assert first.case.actor("Luxembourg").capability.value == pytest.approx(0.08)
    assert first.meta["intro"] == "2000-01-26" and first.meta["final_act"] == "2001-05-30"


def test_real_file_dates_are_consistent_after_repair() -> None:
    data = read_deu(deu_file())
    pairs = [(i.meta["intro"], i.meta["final_act"]) for i in data.issues]
    assert all(a is not None for a, _ in pairs)
    assert not [p for p in pairs if p[1] is not None and p[1] < p[0]]
    assert min(a for a, _ in pairs) == "1996-02-07"
    assert max(b for _, b in pairs if b) == "2019-07-12"


# -- cleaning rules on synthetic text ---------------------------------------------------------


def test_absent_actor_and_missing_salience_are_dropped() -> None:
    t = text(row("d1i1", ["100", "0", "", "40"], ["50", "80", "0", ""], "0", "60"))
    (issue,) = parse_deu(t).issues
    assert issue.case.actor_names == ("European Commission", "Germany")
    assert issue.meta["absent"] == ("fr",)
    assert issue.meta["dropped_no_salience"] == ("lu",)
    assert issue.case.actor("Germany").saliences["d1i1"].value == pytest.approx(0.8)


def test_salience_zero_keeps_the_actor() -> None:
    t = text(row("d1i1", ["100", "0", "50", "40"], ["50", "80", "0", "10"], "", "60"))
    (issue,) = parse_deu(t).issues
    assert "France" in issue.case.actor_names
    assert issue.case.actor("France").saliences["d1i1"].value == 0.0


def test_missing_outcome_and_sentinel_are_skipped_and_counted() -> None:
    t = text(
        row("d1i1", ["100", "0", "50", "40"], ["50", "80", "20", "10"], "0", ""),
        row("d1i2", ["100", "0", "50", "40"], ["50", "80", "20", "10"], "0", "999"),
        row("d1i3", ["100", "0", "50", "40"], ["50", "80", "20", "10"], "0", "NA"),
        row("d1i4", ["100", "0", "50", "40"], ["50", "80", "20", "10"], "0", "30"),
    )
    data = parse_deu(t)
    assert [i.name for i in data.issues] == ["d1i4"]
    assert data.skipped_counts() == {"no outcome": 3}
    assert [s.line for s in data.skipped] == [3, 4, 5]


def test_sentinel_position_means_absent() -> None:
    t = text(row("d1i1", ["100", "999", "50", "40"], ["50", "999", "20", "10"], "999", "30"))
    (issue,) = parse_deu(t).issues
    assert "Germany" not in issue.case.actor_names
    assert issue.case.issues[0].status_quo is None


def test_too_few_actors_is_skipped() -> None:
    t = text(row("d1i1", ["100", "", "", ""], ["50", "0", "0", "0"], "0", "30"))
    data = parse_deu(t)
    assert data.issues == ()
    assert data.skipped_counts() == {"fewer than 2 actors": 1}


def test_reference_point_is_the_status_quo() -> None:
    t = text(
        row("d1i1", ["100", "0", "50", "40"], ["50", "80", "20", "10"], "25", "30"),
        row("d1i2", ["100", "0", "50", "40"], ["50", "80", "20", "10"], "", "30"),
    )
    a, b = parse_deu(t).issues
    assert a.case.issues[0].status_quo.value == 25.0
    assert b.case.issues[0].status_quo is None
    assert a.case.issues[0].scale.min == 0 and a.case.issues[0].scale.max == 100


def test_capability_schemes() -> None:
    early = row("d1i1", ["100", "0", "50", "40"], ["50", "80", "20", "10"], "", "30",
                finact='"10-06-99"')
    late = row("d1i2", ["100", "0", "50", "40"], ["50", "80", "20", "10"], "", "30",
               intro='"01-09-05"', finact="999")
    gdp = parse_deu(text(early, late), capability="gdp").issues
    assert [a.capability.value for a in gdp[0].case.actors] == [4.1, 4.1, 2.8, 0.08]
    votes = parse_deu(text(early, late), capability="votes").issues
    assert [a.capability.value for a in votes[0].case.actors] == [
        max(VOTES_AMSTERDAM.values()), VOTES_AMSTERDAM["de"], VOTES_AMSTERDAM["fr"],
        VOTES_AMSTERDAM["lu"]]
    # No final-act date: the introduction date (2005) decides - Nice weights.
    assert [a.capability.value for a in votes[1].case.actors] == [
        max(VOTES_NICE.values()), VOTES_NICE["de"], VOTES_NICE["fr"], VOTES_NICE["lu"]]
    equal = parse_deu(text(early, late), capability="equal").issues
    assert {a.capability.value for a in equal[0].case.actors} == {1.0}
    # Without the GDP row only 'votes' and 'equal' work.
    assert parse_deu(text(early, gdp=False), capability="equal").issues
    with pytest.raises(CaseError, match="no GDP row"):
        parse_deu(text(early, gdp=False), capability="gdp")
    with pytest.raises(CaseError, match="unknown capability"):
        parse_deu(text(early), capability="power")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("26-01-00", date(2000, 1, 26)),
        ("17-04-96", date(1996, 4, 17)),
        ("20-07-2016", date(2016, 7, 20)),
        ("1930-05-01", date(2001, 5, 30)),  # SOURCE.md: 30-05-2001 misread as yy-mm-dd
        ("2023-07-01", date(2001, 7, 23)),
        ('"2014-07-04"', date(2004, 7, 14)),
        ("999", None),
        ("", None),
        ("31-02-01", None),
    ],
)
def test_repair_date(raw: str, expected: date | None) -> None:
    assert repair_date(raw) == expected


# -- bad input: one-line errors with file, line and field ------------------------------------


@pytest.mark.parametrize(
    ("body", "line", "match"),
    [
        (row("d1i1", ["100", "0", "50", "140"], ["50", "80", "20", "10"], "", "30"), 3,
         "plu: 140 lies outside the DEU scale 0-100"),
        (row("d1i1", ["100", "x", "50", "40"], ["50", "80", "20", "10"], "", "30"), 3,
         "pde: not a number: 'x'"),
        (row("d1i1", ["100", "0", "50", "40"], ["50", "80", "20", "10"], "", "-5"), 3,
         "out: -5 lies outside"),
        (row("d1i1", ["100", "0", "50", "40"], ["50", "80", "20", "10"], "", "30") + "\t7", 3,
         "expected 23 tab-separated columns, found 24"),
        (row("d1i1", ["100", "0", "50", "40"], ["50", "80", "20", "10"], "", "30") + "\n"
         + row("d1i1", ["100", "0", "50", "40"], ["50", "80", "20", "10"], "", "30"), 4,
         "duplicate issue 'd1i1'"),
    ],
    ids=["out-of-scale", "not-a-number", "negative-outcome", "extra-column", "duplicate"],
)
def test_bad_rows_name_file_line_and_field(body: str, line: int, match: str) -> None:
    with pytest.raises(CaseError) as info:
        parse_deu(text(body), "x.csv")
    msg = str(info.value)
    assert msg.startswith(f"x.csv:{line}: ")
    assert match in msg
    assert "\n" not in msg


@pytest.mark.parametrize(
    "content",
    [
        "Actor,Capability,Position,Salience\nA,1,2,0.5\n",
        '"isnr"\t"pcom"\t"scom"\t"pde"\t"sde"\t"rp"\n"a"\t1\t1\t1\t1\t1\n',
        "just some text\n",
        '"isnr"\t"out"\t"pcom"\t"scom"\t"pde"\t"sde"\n',
    ],
    ids=["scholz-csv", "no-out-column", "plain-text", "header-only"],
)
def test_non_deu_text_is_refused_in_one_line(content: str) -> None:
    with pytest.raises(AllianceLabError) as info:
        parse_deu(content, "bad.csv")
    assert str(info.value).startswith("bad.csv:")
    assert "\n" not in str(info.value)


def test_sniff() -> None:
    assert sniff(text())
    assert not sniff("Actor,Capability,Position,Salience\n")


# -- fuzz: nothing but the project's own error ----------------------------------------------

CELLS = st.sampled_from(["", "0", "50", "100", "999", "-1", "101", "x", "NA", '"q"', "1e400",
                         "nan", "inf", "d1i1", "1930-05-01", "\x00", '"', "\t"])


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400))
def test_fuzz_arbitrary_text(content: str) -> None:
    try:
        parse_deu(content, "fuzz.csv")
    except AllianceLabError:
        pass


BASE = row("d1i1", ["100", "0", "50", "40"], ["50", "80", "20", "10"], "25", "60").split("\t")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.dictionaries(st.integers(0, len(HEADER) - 1), CELLS, max_size=4),
                min_size=1, max_size=3),
       st.sampled_from(["gdp", "votes", "equal"]), st.booleans())
def test_fuzz_deu_shaped_rows(edits: list[dict[int, str]], capability: str, gdp: bool) -> None:
    rows = []
    for k, edit in enumerate(edits):
        cells = [f'"d1i{k}"' if j == HEADER.index("isnr") else c for j, c in enumerate(BASE)]
        for j, cell in edit.items():
            cells[j] = cell
        rows.append("\t".join(cells))
    try:
        data = parse_deu(text(*rows, gdp=gdp), "fuzz.csv", capability)
    except AllianceLabError:
        return
    for issue in data.issues:
        assert 0 <= issue.outcome <= 100
        assert len(issue.case.actors) >= 2
        for a in issue.case.actors:
            assert 0 <= a.positions[issue.name].value <= 100
            assert 0 <= a.saliences[issue.name].value <= 1
