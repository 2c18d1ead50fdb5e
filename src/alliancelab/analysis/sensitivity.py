"""Global sensitivity: Sobol and Morris indices (SALib) per outcome, and a tornado chart.

* Sobol: first-order ``S1`` and total-order ``ST`` indices with bootstrap confidence
  intervals, Saltelli et al. (2010) estimators as in ``SALib.analyze.sobol`` (needs an
  exploration sampled with ``sampler="sobol"``, rows in Saltelli order);
* Morris: ``mu_star`` (mean absolute elementary effect; F. Campolongo, J. Cariboni &
  A. Saltelli, *Environ. Model. Softw.* 22, 2007) with its bootstrap confidence interval,
  and ``sigma`` (``SALib.analyze.morris``; needs ``sampler="morris"``).

Indices are computed for one policy at a time (the design is crossed with each policy, so
every policy has its own complete Saltelli / Morris sample). A failed experiment leaves a
hole the estimators cannot take, so the analysis then stops with an error naming how many.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.errors import AllianceLabError
from ..explore.results import Exploration
from ..explore.samplers import MORRIS_LEVELS, salib_problem
from ..scenarios.parameters import Uncertainty


def _params(ex: Exploration) -> list[Uncertainty]:
    return [Uncertainty(p["name"], p["low"], p["high"], p["default"], boolean=p["boolean"])
            for p in ex.manifest["parameters"]]


def _outcome(ex: Exploration, outcome: str, policy: str) -> np.ndarray:
    if outcome not in ex.outcomes:
        raise AllianceLabError(f"unknown outcome {outcome!r}; choose from "
                               f"{', '.join(ex.outcomes)}", field="outcome")
    if policy not in ex.policies:
        raise AllianceLabError(f"unknown policy {policy!r}", field="policy")
    res = ex.results(["scenario", "policy", "ok", outcome])
    res = res[res["policy"] == policy].sort_values("scenario")
    if len(res) != ex.manifest["n_scenarios"]:
        raise AllianceLabError(
            f"the exploration is incomplete ({len(res)} of {ex.manifest['n_scenarios']} "
            "scenarios stored for this policy); run it again to finish", field="outcome")
    if not res["ok"].all():
        raise AllianceLabError(
            f"{int((~res['ok']).sum())} experiments failed; Sobol/Morris estimators need "
            "every one", field="outcome")
    return res[outcome].to_numpy(dtype=float)


def sobol_indices(ex: Exploration, outcome: str, *, policy: str = "none",
                  conf_level: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """S1, S1_conf, ST, ST_conf per uncertainty (``conf`` = half-width of the interval)."""
    from SALib.analyze import sobol

    if ex.manifest["sampler"] != "sobol":
        raise AllianceLabError("Sobol indices need an exploration run with --sampler sobol",
                               field="sampler")
    params = _params(ex)
    y = _outcome(ex, outcome, policy)
    si = sobol.analyze(salib_problem(params), y, calc_second_order=False,
                       conf_level=conf_level, seed=seed)
    df = pd.DataFrame({k: np.asarray(si[k]) for k in ("S1", "S1_conf", "ST", "ST_conf")},
                      index=pd.Index([p.name for p in params], name="parameter"))
    return df.sort_values("ST", ascending=False)


def morris_indices(ex: Exploration, outcome: str, *, policy: str = "none",
                   conf_level: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """mu, mu_star, mu_star_conf, sigma per uncertainty."""
    from SALib.analyze import morris

    if ex.manifest["sampler"] != "morris":
        raise AllianceLabError("Morris indices need an exploration run with --sampler morris",
                               field="sampler")
    params = _params(ex)
    y = _outcome(ex, outcome, policy)
    X = ex.design()
    si = morris.analyze(salib_problem(params), X, y, conf_level=conf_level,
                        num_levels=MORRIS_LEVELS, seed=seed)
    df = pd.DataFrame({k: np.asarray(si[k], dtype=float)
                       for k in ("mu", "mu_star", "mu_star_conf", "sigma")},
                      index=pd.Index([p.name for p in params], name="parameter"))
    return df.sort_values("mu_star", ascending=False)


def sensitivity(ex: Exploration, outcome: str, *, policy: str = "none",
                conf_level: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """Sobol or Morris indices, whichever the exploration's sampler supports."""
    if ex.manifest["sampler"] == "morris":
        return morris_indices(ex, outcome, policy=policy, conf_level=conf_level, seed=seed)
    return sobol_indices(ex, outcome, policy=policy, conf_level=conf_level, seed=seed)


def tornado(indices: pd.DataFrame, *, title: str = "", top: int = 15) -> object:
    """A plotly tornado chart of the largest indices with their confidence intervals
    (total-order ``ST`` for Sobol, ``mu_star`` for Morris), largest on top."""
    import plotly.graph_objects as go

    col, conf = ("ST", "ST_conf") if "ST" in indices else ("mu_star", "mu_star_conf")
    df = indices.sort_values(col, ascending=False).head(top).iloc[::-1]
    fig = go.Figure()
    if col == "ST":
        fig.add_bar(y=df.index, x=df["S1"], orientation="h", name="first order S1",
                    error_x={"type": "data", "array": df["S1_conf"]})
    fig.add_bar(y=df.index, x=df[col], orientation="h",
                name="total order ST" if col == "ST" else "mu* (mean |elementary effect|)",
                error_x={"type": "data", "array": df[conf]})
    fig.update_layout(title=title or f"Sensitivity ({col})", barmode="group",
                      xaxis_title=col, height=max(300, 28 * len(df) + 120),
                      margin={"l": 320})
    return fig
