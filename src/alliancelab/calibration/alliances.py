"""The US alliance network and NATO membership from ATOP v4.01 (Leeds et al. 2002).

A state is a member of alliance ``atopid`` at the end of year t if one of its member-phase rows
has ``yrent <= t`` and no exit by then (``yrexit == 0`` or ``yrexit > t``). The *US defence
network* in year t is every state that shares with the US (ccode 2) an alliance carrying a
defence pledge (``defense == 1``) in force in t.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .sources import vendored

NATO = 3180
US_ROK = 3240
US = 2


def load(path: str | Path | None = None) -> pd.DataFrame:
    """ATOP member rows of every alliance the US belongs to (vendored), or a full file."""
    return pd.read_csv(path or vendored("alliances", "atop_us_alliances.csv"))


def iso3_codes() -> dict[int, str]:
    """COW ccode -> ISO3 (from the troopdata country table)."""
    t = pd.read_csv(vendored("alliances", "ccode_iso3.csv"))
    return dict(zip(t.ccode.astype(int), t.iso3c, strict=True))


def _in_force(t: pd.DataFrame, year: int) -> pd.DataFrame:
    return t[(t.yrent <= year) & ((t.yrexit == 0) | (t.yrexit > year))]


def members(atopid: int, year: int, table: pd.DataFrame | None = None) -> list[int]:
    """COW codes of the members of ``atopid`` at the end of ``year``."""
    t = load() if table is None else table
    return sorted(int(m) for m in _in_force(t[t.atopid == atopid], year).member.unique())


def us_defense_partners(year: int, table: pd.DataFrame | None = None) -> list[int]:
    """COW codes of the states with a defence pledge shared with the US in ``year``."""
    t = _in_force(load() if table is None else table, year)
    ids = t.loc[(t.member == US) & (t.defense == 1), "atopid"].unique()
    return sorted(int(m) for m in t[t.atopid.isin(ids)].member.unique() if m != US)
