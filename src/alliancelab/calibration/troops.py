"""US active-duty troops in South Korea (and Japan, for comparison) by year.

Source: Allen, Flynn & Martinez Machain (2022), troopdata rebuild of DMDC reports (see
``alliancelab/data/troops/SOURCE.md``). Annual values are the maximum over the year's
quarterly reports; 2024 rests on one report.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..core.errors import AllianceLabError
from .sources import vendored

ROK, JAPAN = 732, 740


def load(path: str | Path | None = None) -> pd.DataFrame:
    """The vendored slice (South Korea and Japan rows) or the full file at ``path``."""
    return pd.read_csv(path or vendored("troops", "troops_kor_jpn.csv"))


def series(ccode: int = ROK, column: str = "troops_ad",
           table: pd.DataFrame | None = None) -> pd.Series:
    """``column`` by year for host state ``ccode`` (default: US active duty in the ROK)."""
    t = load() if table is None else table
    s = t.loc[t.ccode == ccode].set_index("year")[column].sort_index()
    if s.empty:
        raise AllianceLabError(f"no troop rows for ccode {ccode}")
    return s.astype(float)


def usfk(year: int, table: pd.DataFrame | None = None) -> float:
    """US active-duty personnel in South Korea in ``year``."""
    s = series(ROK, table=table)
    if year not in s.index:
        raise AllianceLabError(f"no USFK figure for {year} (data {s.index.min()}-{s.index.max()})")
    return float(s[year])
