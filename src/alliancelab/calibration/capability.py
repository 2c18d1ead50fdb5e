"""Actors' capabilities from the COW National Material Capabilities index (CINC).

CINC (Singer, Bremer & Stuckey 1972; NMC v6.0, Greig & Enterline 2021) is a state's mean share
of the world system's military expenditure, military personnel, iron and steel production,
primary energy consumption, total and urban population. A case states, in its
``meta.capability`` block, which state each actor draws on and what share of that state's
capability the actor brings to bear (a documented judgement with a range), e.g.::

    meta:
      capability:
        dataset: "COW NMC v6.0"
        year: 2016          # the latest year in NMC v6.0
        unit: 100           # capabilities are CINC x 100 (percentage points of the system)
        actors:
          US President (White House): {state: USA, share: 0.35, share_range: [0.25, 0.45],
                                       reason: "..."}

:func:`derive_capabilities` turns that block into the capability
:class:`~alliancelab.core.case.Value` of each actor: ``CINC(state, year) * share * unit``,
with the range ``CINC * share_range * unit``.
The tests check the shipped cases against it, and the vendored slice against the full data set.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from ..core.case import Case, Value
from ..core.errors import AllianceLabError

#: The vendored slice (shared with :mod:`.cinc`): NMC v6.0 abridged rows of the US, both
#: Koreas, China and Japan for every year, plus the whole state system in 1970, 1990 and 2016.
SLICE = "nmc_v6_slice.csv"
DATASET = "COW NMC v6.0"
#: Digits the case files keep for a derived capability.
DIGITS = 4


def slice_path() -> Path:
    """Path of the vendored NMC slice inside the package."""
    return Path(str(resources.files("alliancelab").joinpath("data", "nmc_system", SLICE)))


def load_nmc(path: str | Path | None = None) -> pd.DataFrame:
    """The NMC table (vendored slice by default, or the full abridged file at ``path``);
    the COW missing-value code -9 becomes NaN."""
    table = pd.read_csv(path or slice_path())
    table.columns = [c.strip() for c in table.columns]
    num = ["milex", "milper", "irst", "pec", "tpop", "upop"]
    table[num] = table[num].where(table[num] != -9)
    return table


def cinc(state: str | int, year: int, table: pd.DataFrame | None = None) -> float:
    """CINC of ``state`` (COW abbreviation such as ``"ROK"`` or numeric ``ccode``) in ``year``."""
    t = load_nmc() if table is None else table
    col = "ccode" if isinstance(state, int) else "stateabb"
    rows = t[(t[col] == state) & (t["year"] == year)]
    if rows.empty:
        raise AllianceLabError(f"no NMC row for state {state!r} in {year}", field="capability")
    return float(rows["cinc"].iloc[0])


def derive_capabilities(
    spec: Mapping[str, Any], table: pd.DataFrame | None = None
) -> dict[str, Value]:
    """Capability of every actor in a case's ``meta.capability`` block:
    ``CINC(state, year) * share * unit`` rounded to :data:`DIGITS` decimals, with the range
    from ``share_range`` and a source naming the derivation."""
    t = load_nmc() if table is None else table
    try:
        year = int(spec["year"])
        unit = float(spec.get("unit", 1.0))
        actors = spec["actors"]
    except (KeyError, TypeError, ValueError) as exc:
        raise AllianceLabError(f"bad capability block: {exc}", field="meta.capability") from None
    out: dict[str, Value] = {}
    for name, entry in actors.items():
        state = entry["state"]
        share = float(entry["share"])
        base = cinc(state, year, t)
        lo, hi = entry.get("share_range", (share, share))
        reason = entry.get("reason", "")
        source = (
            f"{DATASET}: CINC {state} {year} = {base:.6f}; x share {share:g} x {unit:g}"
            + (f" (judgement: {reason})" if reason else "")
        )
        value = round(base * share * unit, DIGITS)
        rng = None
        if (lo, hi) != (share, share):
            rng = (round(base * float(lo) * unit, DIGITS), round(base * float(hi) * unit, DIGITS))
        out[name] = Value(value=value, source=source, range=rng)
    return out


def check_case(case: Case, table: pd.DataFrame | None = None) -> list[str]:
    """Differences between a case's capabilities and their derivation (empty when they agree);
    actors missing from ``meta.capability`` are reported too."""
    spec = case.meta.get("capability")
    if spec is None:
        return ["case has no meta.capability block"]
    derived = derive_capabilities(spec, table)
    problems = []
    for actor in case.actors:
        want = derived.get(actor.name)
        if want is None:
            problems.append(f"{actor.name}: not in meta.capability")
            continue
        got = actor.capability
        if abs(got.value - want.value) > 10 ** -DIGITS:
            problems.append(f"{actor.name}: capability {got.value:g}, derived {want.value:g}")
        if want.range is not None and (
            got.range is None
            or any(abs(g - w) > 10 ** -DIGITS for g, w in zip(got.range, want.range, strict=True))
        ):
            problems.append(f"{actor.name}: range {got.range}, derived {want.range}")
    return problems
