"""Capabilities from COW NMC CINC: the vendored slice against the full data set, and the
shipped cases against their documented derivation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from shared_data import DATA

import alliancelab
from alliancelab.calibration import capability as cap
from alliancelab.cases import resolve_case

FULL_NMC = DATA / "nmc" / "NMC-60-abridged.csv"
needs_shared = pytest.mark.skipif(not FULL_NMC.exists(), reason="shared data not present")


@needs_shared
def test_slice_rows_are_copied_unchanged_from_the_full_file() -> None:
    """Same rows and values as the full file (only selected; numbers compared as numbers)."""
    full, part = cap.load_nmc(FULL_NMC), cap.load_nmc()
    assert list(part.columns) == list(full.columns)
    keep = full.ccode.isin([2, 710, 731, 732, 740]) | full.year.isin([1970, 1990, 2016])
    key = ["ccode", "year"]
    expected = full[keep].sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(part.sort_values(key).reset_index(drop=True), expected,
                                  check_dtype=False)
    assert (part.stateabb == "USA").sum() == 201  # 1816-2016


@needs_shared
def test_cinc_matches_the_full_data_set() -> None:
    full = cap.load_nmc(FULL_NMC)
    for abb in ("USA", "ROK", "PRK", "CHN", "JPN"):
        for year in (2007, 2016):
            row = full[(full.stateabb == abb) & (full.year == year)]
            assert cap.cinc(abb, year) == float(row.cinc.iloc[0])


def test_cinc_reference_rows() -> None:
    # values printed in shared/data/nmc/SOURCE.md (2016 rows)
    assert cap.cinc("USA", 2016) == pytest.approx(0.13305758, abs=0)
    assert cap.cinc(732, 2016) == pytest.approx(0.023262169, abs=0)
    assert cap.cinc("CHN", 2016) == pytest.approx(0.23061772, abs=0)


def test_missing_code_becomes_nan() -> None:
    t = cap.load_nmc()
    prk = t[(t.stateabb == "PRK") & (t.year == 2016)]
    assert np.isnan(prk.milex.iloc[0])


def test_unknown_state_or_year_is_a_user_error() -> None:
    with pytest.raises(alliancelab.AllianceLabError, match="no NMC row"):
        cap.cinc("XXX", 2016)
    with pytest.raises(alliancelab.AllianceLabError, match="no NMC row"):
        cap.cinc("USA", 2030)


@pytest.mark.parametrize("name", ["us_rok_2025", "us_rok_2007"])
def test_case_capabilities_follow_their_derivation(name: str) -> None:
    case = alliancelab.read_case(resolve_case(name))
    assert cap.check_case(case) == []
    spec = case.meta["capability"]
    for actor in case.actors:
        entry = spec["actors"][actor.name]
        base = cap.cinc(entry["state"], spec["year"])
        want = base * entry["share"] * spec["unit"]
        assert actor.capability.value == pytest.approx(want, abs=1e-4)
        lo, hi = actor.capability.range
        assert lo <= actor.capability.value <= hi
        assert actor.capability.source.startswith("COW NMC v6.0")


@needs_shared
@pytest.mark.parametrize("name", ["us_rok_2025", "us_rok_2007"])
def test_case_capabilities_match_the_shared_data(name: str) -> None:
    case = alliancelab.read_case(resolve_case(name))
    assert cap.check_case(case, cap.load_nmc(FULL_NMC)) == []


def test_years_are_the_documented_ones() -> None:
    new = alliancelab.read_case(resolve_case("us_rok_2025"))
    old = alliancelab.read_case(resolve_case("us_rok_2007"))
    assert new.meta["capability"]["year"] == int(cap.load_nmc().year.max()) == 2016
    assert old.meta["capability"]["year"] == 2007


def test_group_shares_sum_to_one_for_the_allies() -> None:
    case = alliancelab.read_case(resolve_case("us_rok_2025"))
    spec = case.meta["capability"]["actors"]
    for state in ("USA", "ROK"):
        assert sum(e["share"] for e in spec.values() if e["state"] == state) == pytest.approx(1.0)


def test_check_case_reports_a_mismatch() -> None:
    case = alliancelab.read_case(resolve_case("us_rok_2025"))
    data = case.model_dump()
    data["actors"][0]["capability"]["value"] += 1.0
    bad = alliancelab.Case.model_validate(data)
    problems = cap.check_case(bad)
    assert len(problems) == 1 and problems[0].startswith(case.actors[0].name)
