"""Cut the vendored data slices from the full shared data sets (run once by a maintainer).

``python -m alliancelab.calibration.vendor [SHARED_DATA_DIR]`` rewrites
``alliancelab/data/{nmc_system,troops,spending,alliances}/*.csv``. The slices keep the original
columns and values (rows are only selected); the tests check them against the full files.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from ..core.io import atomic_write_text
from .sources import shared_data_dir, vendored

#: Years for which the whole NMC system is kept (CINC shares need every state of a year).
NMC_SYSTEM_YEARS = (1970, 1990, 2016)
#: States whose full NMC series is kept: USA, China, North and South Korea, Japan.
NMC_STATES = (2, 710, 731, 732, 740)
#: Years of the exploitation-hypothesis tests (ATOP ends 2016).
TEST_YEARS = (1970, 1990, 2010, 2016)
#: ATOP alliance id of NATO (North Atlantic Treaty, 1949).
NATO_ATOPID = 3180
#: Full series kept for these ISO3 codes.
SERIES_ISO3 = ("USA", "KOR", "CHN", "JPN")
TROOP_CCODES = (732, 740)


def _us_alliance_rows(atop: pd.DataFrame) -> pd.DataFrame:
    ids = atop.loc[atop.member == 2, "atopid"].unique()
    cols = ["atopid", "member", "yrent", "yrexit", "phase", "bilat", "defense", "offense",
            "neutral", "nonagg", "consul", "asymm", "version"]
    return atop.loc[atop.atopid.isin(ids), cols]


def make_slices(shared: Path, out: Path | None = None) -> dict[str, int]:
    """Write the slices; return rows written per file."""
    written: dict[str, int] = {}

    def put(folder: str, name: str, frame: pd.DataFrame) -> None:
        path = (out / folder / name) if out else vendored(folder, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, frame.to_csv(index=False, lineterminator="\n"))
        written[f"{folder}/{name}"] = len(frame)

    nmc = pd.read_csv(shared / "nmc" / "NMC-60-abridged.csv")
    keep = nmc.year.isin(NMC_SYSTEM_YEARS) | nmc.ccode.isin(NMC_STATES)
    put("nmc_system", "nmc_v6_slice.csv", nmc[keep])

    troops = pd.read_csv(shared / "troops" / "troopdata-rebuild-country-year.csv")
    cols = ["countryname", "year", "ccode", "iso3c", "troops_ad", "army_ad", "navy_ad",
            "air_force_ad", "marine_corps_ad", "total_selected_reserve", "total_civilian"]
    put("troops", "troops_kor_jpn.csv", troops.loc[troops.ccode.isin(TROOP_CCODES), cols])
    codes = troops[["ccode", "iso3c"]].dropna().drop_duplicates().sort_values("ccode")
    put("alliances", "ccode_iso3.csv", codes)

    atop = pd.read_csv(shared / "atop" / "atop-member-level.csv")
    us_rows = _us_alliance_rows(atop)
    put("alliances", "atop_us_alliances.csv", us_rows)

    iso = set(codes.loc[codes.ccode.isin(us_rows.member), "iso3c"])
    share = pd.read_csv(shared / "milex" / "military-spending-as-a-share-of-gdp-sipri.csv")
    sel = (share.Code.isin(iso) & share.Year.isin(TEST_YEARS)) | share.Code.isin(SERIES_ISO3)
    put("spending", "milex_share_gdp.csv", share[sel])
    gdp = pd.read_csv(shared / "gdp" / "gdp.csv")
    sel = (gdp["Country Code"].isin(iso) & gdp.Year.isin(TEST_YEARS)) \
        | gdp["Country Code"].isin(SERIES_ISO3)
    put("spending", "gdp_current_usd.csv", gdp[sel])
    sipri = pd.read_csv(shared / "milex" / "sipri-milex-data.csv", encoding="latin-1",
                        dtype=str, keep_default_na=False)
    put("spending", "sipri_milex_usd_m.csv",
        sipri[sipri.Country.isin(["USA", "China", "Korea, South", "Japan"])])
    return written


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    shared = Path(argv[0]) if argv else shared_data_dir()
    if shared is None:
        print("no shared data directory found", file=sys.stderr)
        return 2
    for name, n in make_slices(shared).items():
        print(f"{name}: {n} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
