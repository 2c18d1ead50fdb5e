"""Recompute the COW Composite Index of National Capability from its six components.

Singer, Bremer & Stuckey (1972); NMC v6.0 documentation (Greig & Enterline 2021). For state i
in year t, with components c in {milex, milper, irst, pec, tpop, upop}:

    share_ic = x_ic / sum_j x_jc          (sum over the states with a value that year)
    CINC_i   = mean over the components c with a value of share_ic

A missing component (-9) drops out of both the system total and the state's average; this
reproduces the published ``cinc`` column of NMC v6.0 abridged to within 2.5e-8 for all
15,951 state-years (setting missing components to zero instead is off by up to 0.058).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .sources import vendored

COMPONENTS = ("milex", "milper", "irst", "pec", "tpop", "upop")


def load(path: str | Path | None = None) -> pd.DataFrame:
    """NMC rows (vendored slice: the whole system in 1970, 1990 and 2016 plus the full series
    of the US, China, both Koreas and Japan; or the full file at ``path``); -9 -> NaN."""
    t = pd.read_csv(path or vendored("nmc_system", "nmc_v6_slice.csv"))
    t[list(COMPONENTS)] = t[list(COMPONENTS)].where(t[list(COMPONENTS)] != -9)
    return t


def recompute(table: pd.DataFrame, years: list[int] | None = None) -> pd.DataFrame:
    """``table`` restricted to complete system years (``years``, default all in the table)
    with the component shares and ``cinc_recomputed``. Only meaningful for years where the
    table holds every state of the system."""
    t = table if years is None else table[table.year.isin(years)]
    comp = list(COMPONENTS)
    shares = t[comp] / t[comp].groupby(t.year).transform("sum")
    out = t.copy()
    for c in comp:
        out[f"share_{c}"] = shares[c]
    out["cinc_recomputed"] = shares.mean(axis=1, skipna=True)
    return out


def check(table: pd.DataFrame, years: list[int] | None = None) -> float:
    """Largest absolute difference between recomputed and published CINC."""
    r = recompute(table, years)
    return float((r.cinc_recomputed - r.cinc).abs().max())
