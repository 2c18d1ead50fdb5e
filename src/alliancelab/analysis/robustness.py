"""Robust options: policies compared by regret across the sampled futures.

Regret (L. J. Savage, "The theory of statistical decision", *JASA* 46, 1951): in scenario
``s`` the regret of policy ``p`` is how much worse it does than the best policy in that
same scenario, ``R(s, p) = max_q u(s, q) - u(s, p) >= 0``. The most robust policy minimises
its maximum regret over the scenarios (minimax regret, the criterion of Rhodium's and EMA
Workbench's robustness functions; R. J. Lempert, S. W. Popper & S. C. Bankes, *Shaping the
Next One Hundred Years*, RAND 2003). ``u`` is the outcome itself (``sense="max"``), its
negative (``sense="min"``) or minus the distance to a ``target``.

Where the most robust policy fails: the scenarios in which its regret is in the top
``1 - fail_quantile`` share (and positive) are described by a PRIM box over the
uncertainties (:mod:`alliancelab.analysis.discovery`).

Frames in, frames out: an outcome as a frame with one row per scenario (where every policy
succeeded) and one column per policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..core.errors import AllianceLabError
from .discovery import PrimResult, prim

SENSES = ("max", "min")


@dataclass(frozen=True)
class Robustness:
    """The regret table (scenario x policy), a per-policy summary, the minimax-regret
    policy, the scenarios where it fails and a PRIM description of them."""

    outcome: str
    regret: pd.DataFrame
    summary: pd.DataFrame
    most_robust: str
    failures: pd.DataFrame
    failure_box: PrimResult | None


def check_sense(sense: str) -> str:
    if sense not in SENSES:
        raise AllianceLabError(f"sense must be 'max' or 'min', got {sense!r}", field="sense")
    return sense


def regret_table(outcomes: pd.DataFrame, *, sense: str = "max",
                 target: float | None = None) -> pd.DataFrame:
    """Regret ``R(s, p)`` of the outcome frame ``outcomes`` (scenarios x policies)."""
    check_sense(sense)
    if target is not None:
        u = -(outcomes - target).abs()
    else:
        u = outcomes if sense == "max" else -outcomes
    return u.max(axis=1).to_numpy()[:, None] - u


def robustness(outcomes: pd.DataFrame, scenarios: pd.DataFrame, *, outcome: str = "",
               sense: str = "max", target: float | None = None,
               fail_quantile: float = 0.9) -> Robustness:
    """Compare the policies (columns of ``outcomes``) by regret; ``scenarios`` holds the
    uncertainties of every scenario (rows indexed like ``outcomes``), for the PRIM box."""
    if outcomes.shape[1] < 2:
        raise AllianceLabError("robustness needs at least one lever (--lever) besides 'none'",
                               field="lever")
    R = regret_table(outcomes, sense=sense, target=target)
    if R.empty:
        raise AllianceLabError("no scenario where every policy succeeded", field="outcome")
    summary = pd.DataFrame({
        "max_regret": R.max(),
        "p90_regret": R.quantile(0.9),
        "mean_regret": R.mean(),
        "share_best": (R <= 1e-12).mean(),
    })
    summary.index.name = "policy"
    summary = summary.sort_values(["max_regret", "mean_regret"])
    best = str(summary.index[0])
    r = R[best]
    cut = float(r.quantile(fail_quantile))
    failing = (r > 1e-12) & (r >= cut)
    failures = scenarios.loc[R.index[failing.to_numpy()]].assign(regret=r[failing])
    box = None
    if 0 < failing.sum() < len(r):
        box = prim(scenarios.loc[R.index].astype(float), failing.to_numpy())
    return Robustness(outcome, R, summary, best,
                      failures.sort_values("regret", ascending=False), box)


def robust_overview(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """For every outcome (a frame as :func:`regret_table` takes), the minimax-regret policy
    when more is better and when less is, with its maximum regret."""
    rows = []
    for o, wide in tables.items():
        row: dict[str, Any] = {"outcome": o}
        for sense, what in (("max", "more is better"), ("min", "less is better")):
            R = regret_table(wide, sense=sense)
            if R.empty:
                row[f"{what}: most robust"], row[f"{what}: max regret"] = "", float("nan")
                continue
            worst = R.max()
            low = float(worst.min())
            tied = [str(c) for c in worst.index if worst[c] <= low + 1e-9 * max(1.0, abs(low))]
            row[f"{what}: most robust"] = (
                "all tie (no lever moves it)" if len(tied) == len(worst)
                else tied[0] if len(tied) == 1 else "tie: " + ", ".join(tied))
            row[f"{what}: max regret"] = low
        rows.append(row)
    return pd.DataFrame(rows)
