"""The result format of ``alliancelab run``: :class:`RunResults` (everything the job
computes) and :class:`ModelRun` (one engine), with their tidy tables.

Tables are tidy pandas frames: one row per observation, ready for CSV
(:mod:`alliancelab.report.outputs`) and for the report's figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from ..core.case import Case
from ..core.display import html_card, names, number, short
from ..core.result import Forecast
from ..models.dynamics import Simulation
from ..scenarios.uncertainty import Draws

__all__ = ["DYNAMICS_MODEL", "QUANTILES", "ModelRun", "RunResults"]

#: model the perception dynamics bargain with.
DYNAMICS_MODEL = "compromise"
#: the quantiles of every Monte Carlo band: 5%, median, 95%.
QUANTILES = (0.05, 0.5, 0.95)


@dataclass(frozen=True)
class ModelRun:
    """One engine on the scenario: the point forecast (case values as stated) and the
    Monte Carlo forecasts ``draws`` ``(N, d)`` with ``bands`` ``(3, d)`` = 5/50/95%."""

    model: str
    point: Forecast
    draws: np.ndarray
    bands: np.ndarray
    failures: int = 0
    first_failure: str | None = None


@dataclass(frozen=True)
class RunResults:
    """Everything ``alliancelab run`` computes. Tables are tidy pandas frames."""

    case: Case
    scenario: Case
    case_source: str
    case_hash: str
    interventions: tuple[str, ...]
    models: tuple[str, ...]
    seed: int
    n_draws: int
    n_effect_draws: int
    band_models: tuple[str, ...]
    alliance_draws: int
    distribution: str
    draws: Draws
    runs: dict[str, ModelRun]
    simulation: Simulation | None
    baseline_simulation: Simulation | None
    gaps: pd.DataFrame
    effects: pd.DataFrame
    alliance: pd.DataFrame | None
    movement: pd.DataFrame
    interactions: pd.DataFrame
    inputs: pd.DataFrame
    versions: dict[str, str]
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    #: the built-in exploration sweep (:mod:`alliancelab.jobs.sweep`); None when skipped.
    exploration: Any | None = None
    #: share of the alliance draws per categorical result (equilibrium family, game type)
    #: and scenario; see :func:`alliance_label_table`.
    alliance_labels: pd.DataFrame | None = None
    #: the plug-in's headline indicators (its ``HEADLINES``) for the console summary.
    alliance_headlines: tuple[str, ...] = ()

    # -- tidy tables ---------------------------------------------------------------------
    def forecast_table(self) -> pd.DataFrame:
        """One row per (model, issue): point forecast, 5/50/95% bands, status quo, scale."""
        rows = []
        for model, run in self.runs.items():
            for k, issue in enumerate(self.scenario.issues):
                sq = issue.status_quo.value if issue.status_quo is not None else np.nan
                rows.append({
                    "model": model,
                    "issue": issue.name,
                    "forecast": float(run.point.forecast[k]),
                    "p5": float(run.bands[0, k]),
                    "p50": float(run.bands[1, k]),
                    "p95": float(run.bands[2, k]),
                    "status_quo": sq,
                    "units": issue.scale.units or "",
                    "scale_min": issue.scale.min,
                    "scale_max": issue.scale.max,
                    "low": issue.scale.low,
                    "high": issue.scale.high,
                    "draws": int(np.isfinite(run.draws[:, k]).sum()),
                })
        return pd.DataFrame(rows)

    def draws_table(self) -> pd.DataFrame:
        """Every Monte Carlo forecast: one row per (draw, model, issue)."""
        frames = []
        issues = list(self.scenario.issue_names)
        for model, run in self.runs.items():
            n = run.draws.shape[0]
            frames.append(pd.DataFrame({
                "draw": np.repeat(np.arange(n), len(issues)),
                "model": model,
                "issue": issues * n,
                "forecast": run.draws.reshape(-1),
            }))
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def trajectory_table(self) -> pd.DataFrame:
        """Positions per round: one row per (source, round, actor, issue). ``source`` is an
        engine (its own rounds) or ``dynamics`` (the perception-driven simulation)."""
        return self._trajectories.copy()

    @cached_property
    def _trajectories(self) -> pd.DataFrame:
        """:meth:`trajectory_table`, built once (the report reads it once per figure)."""
        frames = []
        for model, run in self.runs.items():
            df = run.point.to_frame().drop(columns="model")
            df.insert(0, "source", model)
            frames.append(df)
        sim = self.simulation
        if sim is not None:
            t, n, d = sim.positions.shape
            idx = pd.MultiIndex.from_product(
                [range(t), sim.actors, sim.issues], names=["round", "actor", "issue"]
            )
            df = pd.DataFrame({"position": sim.positions.reshape(-1)}, index=idx).reset_index()
            df.insert(0, "source", "dynamics")
            frames.append(df)
        return pd.concat(frames, ignore_index=True)

    def dynamics_table(self) -> pd.DataFrame:
        """The simulation per round: outcome per issue, indicators, mean perceptions."""
        sim = self.simulation
        if sim is None:
            return pd.DataFrame(columns=["scenario", "round", "kind", "item", "value"])
        rows = []
        for label, s in (("baseline", self.baseline_simulation), ("scenario", sim)):
            if s is None:
                continue
            for r in range(s.outcomes.shape[0]):
                for k, issue in enumerate(s.issues):
                    rows.append((label, r, "outcome", issue, float(s.outcomes[r, k])))
                for name, arr in s.indicators.items():
                    rows.append((label, r, "indicator", name, float(arr[r])))
                for name, arr in s.perceptions.items():
                    for i, actor in enumerate(s.actors):
                        rows.append((label, r, "perception", f"{actor}: {name}", float(arr[r, i])))
        return pd.DataFrame(rows, columns=["scenario", "round", "kind", "item", "value"])

    def manifest(self, command: str | None = None) -> dict[str, Any]:
        """Provenance: seed, draws, versions, case hash, command line."""
        return {
            "tool": "alliancelab run",
            "command": command,
            "case": self.case.name,
            "case_source": self.case_source,
            "case_sha256": self.case_hash,
            "case_date": self.case.date,
            "interventions": list(self.interventions),
            "models": list(self.models),
            "seed": self.seed,
            "draws": self.n_draws,
            "effect_draws": self.n_effect_draws,
            "effect_band_models": list(self.band_models),
            "alliance_draws": self.alliance_draws,
            "distribution": self.distribution,
            "uncertain_parameters": len(self.draws.params),
            "dynamics_model": DYNAMICS_MODEL,
            "quantiles": list(QUANTILES),
            "versions": self.versions,
            "notes": list(self.notes),
        }

    # -- display (a notebook shows a summary, not every draw) -----------------------------
    def _facts(self) -> list[str]:
        return [
            f"{len(self.case.actors)} actors × {len(self.case.issues)} issues",
            "models " + ", ".join(self.models),
            f"{self.n_draws} draws ({self.distribution})",
            f"seed {self.seed}",
            "interventions: " + (names(list(self.interventions), 3)
                                 if self.interventions else "none"),
        ]

    def __repr__(self) -> str:
        return short("RunResults", repr(self.case.name), *self._facts())

    def __str__(self) -> str:
        return repr(self)

    def _repr_html_(self) -> str:
        """The forecast table: one row per issue, per model the median [5%, 95%]."""
        t = self.forecast_table().set_index(["issue", "model"])
        rows = []
        for issue in self.scenario.issues:
            sq = issue.status_quo.value if issue.status_quo is not None else None
            cells = [f"{number(r.p50)} [{number(r.p5)}, {number(r.p95)}]"
                     for r in (t.loc[(issue.name, m)] for m in self.runs)]
            rows.append((issue.name, issue.scale.units or "", sq, *cells))
        return html_card(f"RunResults {self.case.name}",
                         [*self._facts(), "per model: median [5%, 95%]"],
                         ("issue", "units", "status quo", *self.runs), rows)
