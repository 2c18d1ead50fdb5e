"""An exploration's results, read back from its store, as DataFrames and in EMA Workbench's
``(experiments, outcomes)`` shape (``ema_workbench.perform_experiments`` returns the same:
a DataFrame with one column per uncertainty and lever plus ``scenario``, ``policy`` and
``model``, and a dict of outcome name -> array, rows in experiment order)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .samplers import DesignReader
from .store import FIXED_COLUMNS, Store


class Exploration:
    """A finished (or partly finished) exploration in ``directory``."""

    #: statistics of the run that returned this object (empty when reopened from disk)
    run_stats: dict[str, float]

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.run_stats = {}
        with Store(self.directory) as st:
            manifest = st.manifest()
            if manifest is None:
                from ..errors import AllianceLabError

                raise AllianceLabError("no exploration in this directory",
                                       file=str(self.directory))
            self.manifest: dict[str, Any] = manifest
            self.n_stored, self.n_failed = st.count()

    # -- metadata ------------------------------------------------------------------------
    @property
    def parameters(self) -> list[str]:
        return [p["name"] for p in self.manifest["parameters"]]

    @property
    def outcomes(self) -> list[str]:
        return list(self.manifest["outcomes"])

    @property
    def policies(self) -> list[str]:
        return [p["name"] for p in self.manifest["policies"]]

    @property
    def n_experiments(self) -> int:
        return int(self.manifest["n_experiments"])

    @property
    def complete(self) -> bool:
        return self.n_stored == self.n_experiments

    def __repr__(self) -> str:
        m = self.manifest
        return (f"Exploration({m['case_name']!r}, sampler={m['sampler']}, "
                f"experiments={self.n_stored}/{self.n_experiments}, failed={self.n_failed})")

    # -- frames --------------------------------------------------------------------------
    def design(self) -> np.ndarray:
        """The scenarios ``(n_scenarios, P)`` in parameter units (shocks as drawn on 0-1)."""
        return DesignReader(self.directory / "design.npy").all()

    def scenarios(self) -> pd.DataFrame:
        """One row per scenario, one column per uncertainty (shocks as booleans)."""
        df = pd.DataFrame(self.design(), columns=self.parameters)
        for p in self.manifest["parameters"]:
            if p["boolean"]:
                df[p["name"]] = df[p["name"]] >= 0.5
        df.index.name = "scenario"
        return df

    def results(self, columns: list[str] | None = None) -> pd.DataFrame:
        """Wide results: experiment_id, scenario, policy, ok, error, one column per outcome."""
        with Store(self.directory) as st:
            return st.results(columns)

    def frame(self) -> pd.DataFrame:
        """Results joined with their scenario's parameters (one row per experiment)."""
        res = self.results()
        scen = self.scenarios()
        return res.join(scen, on="scenario")

    def tidy(self) -> pd.DataFrame:
        """Long format: experiment_id, scenario, policy, model, outcome, value (ok rows)."""
        res = self.results()
        res = res[res["ok"]]
        long = res.melt(id_vars=["experiment_id", "scenario", "policy"],
                        value_vars=self.outcomes, var_name="name", value_name="value")
        parts = long["name"].str.split(".", n=1, expand=True)
        long.insert(3, "model", parts[0])
        long.insert(4, "outcome", parts[1])
        return long.drop(columns="name").sort_values(
            ["experiment_id", "model", "outcome"], kind="stable").reset_index(drop=True)

    def to_ema(self) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
        """``(experiments, outcomes)`` as EMA Workbench returns them; failed experiments
        have NaN outcomes. Rows are the stored experiments in id order."""
        res = self.results()
        scen = self.scenarios()
        exp = scen.iloc[res["scenario"].to_numpy()].reset_index(drop=True)
        levers = sorted({lv for p in self.manifest["policies"] for lv in p["levers"]})
        lever_of = {p["name"]: set(p["levers"]) for p in self.manifest["policies"]}
        for lv in levers:
            exp[lv] = [lv in lever_of[p] for p in res["policy"]]
        exp["scenario"] = res["scenario"].to_numpy()
        exp["policy"] = res["policy"].to_numpy()
        exp["model"] = self.manifest["case_name"]
        outcomes = {
            c: np.where(res["ok"].to_numpy(), res[c].to_numpy(dtype=float), np.nan)
            for c in res.columns if c not in FIXED_COLUMNS
        }
        return exp, outcomes

    def export_parquet(self, path: str | Path) -> Path:
        with Store(self.directory) as st:
            return st.export_parquet(path)
