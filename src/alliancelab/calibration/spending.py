"""Military spending as a share of GDP, GDP, and the exploitation hypothesis on real data.

Data: SIPRI military expenditure as % of GDP (via Our World in Data), SIPRI US$ m current
(to 2018), World Bank GDP current US$ (see ``alliancelab/data/spending/SOURCE.md``).

Exploitation hypothesis (Olson & Zeckhauser 1966, *Review of Economics and Statistics* 48(3):
266-279, section III): in an alliance providing a pure public good, larger members bear a
disproportionate share of the burden, so the rank correlation between size (GDP) and burden
(defence spending / GDP) across members is positive. Olson & Zeckhauser used Spearman's rank
correlation for NATO in 1964; :func:`exploitation_test` repeats that test.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.errors import AllianceLabError
from . import alliances
from .sources import vendored

SHARE_COL = "Military expenditure (% of GDP)"
#: West Germany (COW 260) is reported by SIPRI and the World Bank under Germany's code.
EXTRA_ISO3 = {260: "DEU"}


def load_share(path: str | Path | None = None) -> pd.DataFrame:
    """Long table Entity, Code, Year, share (percent of GDP)."""
    t = pd.read_csv(path or vendored("spending", "milex_share_gdp.csv"))
    return t.rename(columns={SHARE_COL: "share"})


def load_gdp(path: str | Path | None = None) -> pd.DataFrame:
    """Long table Country Name, Country Code, Year, Value (current US$)."""
    return pd.read_csv(path or vendored("spending", "gdp_current_usd.csv"))


def load_sipri_usd(path: str | Path | None = None) -> pd.DataFrame:
    """SIPRI wide table (US$ m, current) as a year x country frame; blanks -> NaN."""
    raw = pd.read_csv(path or vendored("spending", "sipri_milex_usd_m.csv"), encoding="latin-1",
                      dtype=str, keep_default_na=False)
    wide = raw.set_index("Country").T
    wide.index = wide.index.astype(int)
    return wide.apply(lambda c: pd.to_numeric(c.str.strip().replace("", np.nan)))


def share_of_gdp(iso3: str, year: int, table: pd.DataFrame | None = None) -> float:
    """Military spending as percent of GDP for ``iso3`` in ``year``."""
    t = load_share() if table is None else table
    row = t[(t.Code == iso3) & (t.Year == year)]
    if row.empty:
        raise AllianceLabError(f"no SIPRI share of GDP for {iso3} in {year}")
    return float(row.share.iloc[0])


def gdp(iso3: str, year: int, table: pd.DataFrame | None = None) -> float:
    """GDP in current US$."""
    t = load_gdp() if table is None else table
    row = t[(t["Country Code"] == iso3) & (t.Year == year)]
    if row.empty:
        raise AllianceLabError(f"no World Bank GDP for {iso3} in {year}")
    return float(row.Value.iloc[0])


@dataclass(frozen=True)
class ExploitationTest:
    """Spearman rank correlation of GDP and milex/GDP across an alliance's members."""

    group: str
    year: int
    n: int
    rho: float
    p_value: float
    members: tuple[str, ...]
    missing: tuple[int, ...]


def members_table(ccodes: list[int], year: int, share: pd.DataFrame | None = None,
                  gdp_table: pd.DataFrame | None = None) -> tuple[pd.DataFrame, list[int]]:
    """GDP and burden of the given states in ``year``; second item: ccodes without data."""
    iso = alliances.iso3_codes() | EXTRA_ISO3
    s = load_share() if share is None else share
    g = load_gdp() if gdp_table is None else gdp_table
    s = s[s.Year == year].set_index("Code").share
    g = g[g.Year == year].set_index("Country Code").Value
    rows, missing = [], []
    for c in ccodes:
        code = iso.get(c)
        if code in s.index and code in g.index:
            rows.append({"ccode": c, "iso3": code, "gdp": float(g[code]),
                         "burden": float(s[code])})
        else:
            missing.append(c)
    return pd.DataFrame(rows), missing


def exploitation_test(group: str, year: int, share: pd.DataFrame | None = None,
                      gdp_table: pd.DataFrame | None = None,
                      atop: pd.DataFrame | None = None) -> ExploitationTest:
    """Spearman rho (and two-sided p) of GDP vs milex/GDP for ``group`` = ``"NATO"`` (ATOP
    3180 members) or ``"US network"`` (the US and its ATOP defence partners) in ``year``."""
    if group == "NATO":
        codes = alliances.members(alliances.NATO, year, atop)
    elif group == "US network":
        codes = [alliances.US, *alliances.us_defense_partners(year, atop)]
    else:
        raise AllianceLabError(f"unknown group {group!r} (NATO, US network)")
    tab, missing = members_table(codes, year, share, gdp_table)
    if len(tab) < 3:
        raise AllianceLabError(f"too few members with data for {group} in {year}")
    from scipy import stats  # imported here: the main job reads the slices, not this test

    res = stats.spearmanr(tab.gdp, tab.burden)
    return ExploitationTest(group, year, len(tab), float(res.statistic), float(res.pvalue),
                            tuple(tab.iso3), tuple(missing))
