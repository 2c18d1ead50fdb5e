"""Robust options: levers compared by regret across the sampled futures.

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
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..core.errors import AllianceLabError
from ..explore.results import Exploration
from .discovery import PrimResult, prim


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


def regret_table(ex: Exploration, outcome: str, *, sense: str = "max",
                 target: float | None = None) -> pd.DataFrame:
    """Regret ``R(s, p)``: rows are scenarios where every policy succeeded, columns are
    policies."""
    if outcome not in ex.outcomes:
        raise AllianceLabError(f"unknown outcome {outcome!r}; choose from "
                               f"{', '.join(ex.outcomes)}", field="outcome")
    if sense not in ("max", "min"):
        raise AllianceLabError(f"sense must be 'max' or 'min', got {sense!r}", field="sense")
    res = ex.results(["scenario", "policy", "ok", outcome])
    wide = res.pivot(index="scenario", columns="policy", values=outcome)
    okw = res.pivot(index="scenario", columns="policy", values="ok")
    wide = wide[okw.fillna(False).astype(bool).all(axis=1)].dropna()
    wide = wide[[p for p in ex.policies if p in wide.columns]]
    if target is not None:
        u = -(wide - target).abs()
    else:
        u = wide if sense == "max" else -wide
    return u.max(axis=1).to_numpy()[:, None] - u


def robustness(ex: Exploration, outcome: str, *, sense: str = "max",
               target: float | None = None, fail_quantile: float = 0.9) -> Robustness:
    """Compare the exploration's policies on ``outcome`` by regret (see the module doc)."""
    if len(ex.policies) < 2:
        raise AllianceLabError("robustness needs at least one lever (--lever) besides 'none'",
                               field="lever")
    R = regret_table(ex, outcome, sense=sense, target=target)
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
    scen = ex.scenarios()
    failures = scen.loc[R.index[failing.to_numpy()]].assign(regret=r[failing])
    box = None
    if 0 < failing.sum() < len(r):
        X = scen.loc[R.index].astype(float)
        box = prim(X, failing.to_numpy())
    return Robustness(outcome, R, summary, best, failures.sort_values("regret",
                                                                      ascending=False), box)
