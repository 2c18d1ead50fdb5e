"""The calibration pipeline: CINC recomputed from its components, US troops in Korea,
spending as a share of GDP, the US alliance network -- against values in the data."""

from __future__ import annotations

import pandas as pd
import pytest
from shared_data import DATA

from alliancelab.calibration import alliances, cinc, spending, troops
from alliancelab.calibration.vendor import make_slices
from alliancelab.core.errors import AllianceLabError

SHARED = DATA
needs_shared = pytest.mark.skipif(not DATA.is_dir(), reason="shared data not present")


def test_cinc_recomputed_from_vendored_slice():
    t = cinc.load()
    assert cinc.check(t, [1970, 1990, 2016]) < 1e-7
    r = cinc.recompute(t, [2016]).set_index("stateabb")
    # SOURCE.md (nmc): 2016 published CINC
    assert r.loc["USA", "cinc_recomputed"] == pytest.approx(0.13305758, abs=1e-7)
    assert r.loc["ROK", "cinc_recomputed"] == pytest.approx(0.023262169, abs=1e-7)
    assert r.loc["PRK", "cinc_recomputed"] == pytest.approx(0.013444724, abs=1e-7)
    assert r.loc["CHN", "cinc_recomputed"] == pytest.approx(0.23061772, abs=1e-7)
    assert r.cinc_recomputed.sum() == pytest.approx(r.cinc.sum(), abs=1e-6)
    assert pd.isna(r.loc["PRK", "share_milex"])  # -9 missing: drops out of the average


@needs_shared
def test_cinc_recomputed_for_every_state_year():
    full = cinc.load(SHARED / "nmc" / "NMC-60-abridged.csv")
    assert len(full) == 15951
    assert cinc.check(full) < 2.5e-8


def test_usfk_troops():
    # SOURCE.md (troops): South Korea troops_ad 2015-2024, Japan 2020-2024
    expect = {2015: 29184, 2016: 25302, 2017: 24168, 2018: 26372, 2019: 26711,
              2020: 26615, 2021: 26403, 2022: 25905, 2023: 24437, 2024: 24515}
    for year, n in expect.items():
        assert troops.usfk(year) == n
    jp = troops.series(troops.JAPAN).loc[2020:2024].tolist()
    assert jp == [56748, 57101, 55922, 55799, 55154]
    s = troops.series()
    assert s.index.min() == 1950 and s.index.max() == 2024
    with pytest.raises(AllianceLabError):
        troops.usfk(1900)


def test_spending_share_and_gdp():
    # SOURCE.md (milex, gdp): rounded to 3 decimals there
    assert spending.share_of_gdp("KOR", 2024) == pytest.approx(2.562, abs=5e-4)
    assert spending.share_of_gdp("USA", 2024) == pytest.approx(3.419, abs=5e-4)
    assert spending.share_of_gdp("CHN", 2020) == pytest.approx(1.757, abs=5e-4)
    assert spending.gdp("KOR", 2023) == pytest.approx(1712792854202.3687)
    assert spending.gdp("USA", 2023) == pytest.approx(27360935000000.0)
    usd = spending.load_sipri_usd()
    assert usd.loc[2018, "USA"] == pytest.approx(648798.3)
    assert usd.loc[2018, "Korea, South"] == pytest.approx(43070.0)
    assert pd.isna(usd.loc[1988, "China"]) and usd.loc[1989, "China"] > 0
    with pytest.raises(AllianceLabError):
        spending.share_of_gdp("PRK", 2020)


def test_pair_data_for_the_case_year():
    from alliancelab.cases import us_rok as am

    us, kor, burden, gy, my = am.pair_data(2025)
    assert (gy, my) == (2023, 2024)
    assert us == 27360935000000.0 and kor == pytest.approx(1712792854202.3687)
    assert burden == pytest.approx(3.419, abs=5e-4)
    us7, kor7, burden7, gy7, my7 = am.pair_data(2007)
    assert (gy7, my7) == (2007, 2007)
    assert us7 == spending.gdp("USA", 2007) and burden7 == spending.share_of_gdp("USA", 2007)


def test_alliance_network():
    assert alliances.members(alliances.US_ROK, 2016) == [2, 732]
    nato = alliances.members(alliances.NATO, 2016)
    assert len(nato) == 29 and 2 in nato and 20 in nato  # ATOP codes Montenegro in 2016
    assert 255 in nato and 260 not in nato
    assert len(alliances.members(alliances.NATO, 1970)) == 15
    partners = alliances.us_defense_partners(2016)
    assert 732 in partners and 740 in partners and len(partners) == 66
    assert alliances.iso3_codes()[732] == "KOR"


@needs_shared
def test_vendored_slices_are_exact_row_subsets(tmp_path):
    """Re-cutting the slices from the shared files reproduces the vendored ones."""
    counts = make_slices(SHARED, tmp_path)
    from alliancelab.calibration.sources import vendored

    for name in counts:
        folder, fname = name.split("/")
        assert (tmp_path / folder / fname).read_bytes() == vendored(folder, fname).read_bytes()


@needs_shared
def test_exploitation_test_same_on_full_files():
    full_share = spending.load_share(
        SHARED / "milex" / "military-spending-as-a-share-of-gdp-sipri.csv")
    full_gdp = spending.load_gdp(SHARED / "gdp" / "gdp.csv")
    atop = alliances.load(SHARED / "atop" / "atop-member-level.csv")
    a = spending.exploitation_test("US network", 2016, full_share, full_gdp, atop)
    b = spending.exploitation_test("US network", 2016)
    assert (a.n, a.rho) == (b.n, b.rho)
