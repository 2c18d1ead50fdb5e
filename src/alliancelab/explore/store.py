"""The on-disk store of an exploration: a directory with

* ``design.npy`` - the scenarios (rows) by uncertainties (columns), in parameter units,
  written once, atomically (temp file + rename), before any experiment runs;
* ``explore.duckdb`` - table ``manifest`` (key -> JSON value: case hash, sampler, seed entropy,
  package versions, ...) and table ``results`` (one row per finished experiment: id, scenario,
  policy, ok, error, one DOUBLE column per outcome), ``experiment_id`` the primary key;
* ``manifest.json`` - the same manifest, for people and tools that do not read DuckDB.

Crash safety: every batch of results is one DuckDB transaction (``INSERT OR IGNORE``, so a
batch written twice keeps its first copy); DuckDB's write-ahead log makes a committed batch
survive SIGKILL and discards an uncommitted one. A rerun reads the ids already stored and
runs only the others, so every experiment ends up stored exactly once.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from ..core.errors import AllianceLabError
from ..core.io import atomic_write_text

DB_NAME = "explore.duckdb"
DESIGN_NAME = "design.npy"
MANIFEST_NAME = "manifest.json"
FIXED_COLUMNS = ("experiment_id", "scenario", "policy", "ok", "error")


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Store:
    """One exploration's directory; a single process writes to it at a time."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        try:
            self.con = duckdb.connect(str(self.directory / DB_NAME))
        except duckdb.Error as exc:
            raise AllianceLabError(
                f"cannot open the store: {str(exc).splitlines()[0]}", file=str(self.directory)
            ) from None
        # bound DuckDB's buffer pool (default: 80% of RAM) so memory stays flat in N
        self.con.execute("SET memory_limit = '512MB'")
        self.con.execute("CREATE TABLE IF NOT EXISTS manifest (key VARCHAR PRIMARY KEY, "
                         "value VARCHAR)")

    # -- manifest ------------------------------------------------------------------------
    def manifest(self) -> dict[str, Any] | None:
        rows = self.con.execute("SELECT key, value FROM manifest").fetchall()
        if not rows:
            return None
        return {k: json.loads(v) for k, v in rows}

    def create(self, manifest: dict[str, Any], outcome_names: Sequence[str]) -> None:
        """Create the results table and record the manifest, in one transaction."""
        outcomes = ", ".join(f"{_q(c)} DOUBLE" for c in outcome_names)
        self.con.execute("BEGIN TRANSACTION")
        try:
            self.con.execute("DROP TABLE IF EXISTS results")
            self.con.execute(
                "CREATE TABLE results (experiment_id BIGINT PRIMARY KEY, scenario BIGINT, "
                "policy VARCHAR, ok BOOLEAN, error VARCHAR"
                + (", " + outcomes if outcomes else "") + ")"
            )
            self.con.execute("DELETE FROM manifest")
            self.con.executemany(
                "INSERT INTO manifest VALUES (?, ?)",
                [(k, json.dumps(v, sort_keys=True)) for k, v in manifest.items()],
            )
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        atomic_write_text(self.directory / MANIFEST_NAME,
                          json.dumps(manifest, indent=2, sort_keys=True) + "\n")

    @property
    def design_path(self) -> Path:
        return self.directory / DESIGN_NAME

    def design(self) -> np.ndarray:
        """The scenarios, memory-mapped."""
        return np.load(self.design_path, mmap_mode="r")

    # -- results -------------------------------------------------------------------------
    def outcome_names(self) -> list[str]:
        cols = [r[0] for r in self.con.execute("DESCRIBE results").fetchall()]
        return [c for c in cols if c not in FIXED_COLUMNS]

    def done_ids(self) -> np.ndarray:
        """Ids of the experiments already stored (ok or failed), sorted."""
        got = self.con.execute("SELECT experiment_id FROM results ORDER BY experiment_id")
        arr = got.fetchnumpy()["experiment_id"]
        return np.asarray(arr, dtype=np.int64)

    def count(self) -> tuple[int, int]:
        """(stored experiments, failed experiments)."""
        row = self.con.execute(
            "SELECT count(*), count(*) FILTER (WHERE NOT ok) FROM results").fetchall()[0]
        return int(row[0]), int(row[1])

    def write(self, ids: np.ndarray, scenario: np.ndarray, policy: Sequence[str],
              ok: np.ndarray, error: Sequence[str | None], outcomes: np.ndarray,
              outcome_names: Sequence[str]) -> None:
        """Append one batch in one transaction; ids already stored are ignored."""
        columns: dict[str, Any] = {
            "experiment_id": np.asarray(ids, dtype=np.int64),
            "scenario": np.asarray(scenario, dtype=np.int64),
            "policy": pd.array(list(policy), dtype=object),
            "ok": np.asarray(ok, dtype=bool),
            "error": pd.array(list(error), dtype=object),
        }
        columns.update((name, outcomes[:, j]) for j, name in enumerate(outcome_names))
        frame = pd.DataFrame(columns, copy=False)
        self.con.register("_batch", frame)
        try:
            self.con.execute("INSERT OR IGNORE INTO results SELECT * FROM _batch")
        finally:
            self.con.unregister("_batch")

    def results(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The results table ordered by experiment id."""
        cols = "*" if columns is None else ", ".join(_q(c) for c in columns)
        return self.con.execute(f"SELECT {cols} FROM results ORDER BY experiment_id").df()

    def summary(self, outcome_names: Sequence[str]) -> pd.DataFrame:
        """5%, 50% and 95% quantiles of each outcome per policy, over ok experiments
        (computed inside DuckDB, so memory does not grow with the number of experiments)."""
        parts = []
        for name in outcome_names:
            parts.append(
                f"SELECT policy, '{name.replace(chr(39), chr(39) * 2)}' AS outcome, "
                f"quantile_cont({_q(name)}, 0.05) AS q05, "
                f"quantile_cont({_q(name)}, 0.5) AS q50, "
                f"quantile_cont({_q(name)}, 0.95) AS q95 FROM results WHERE ok GROUP BY policy")
        if not parts:
            return pd.DataFrame(columns=["policy", "outcome", "q05", "q50", "q95"])
        return self.con.execute(" UNION ALL ".join(parts)).df()

    def export_parquet(self, path: str | Path) -> Path:
        """Write the results table to a Parquet file (via DuckDB's COPY)."""
        path = Path(path)
        tmp = path.with_name(path.name + ".part")
        self.con.execute(f"COPY (SELECT * FROM results ORDER BY experiment_id) TO "
                         f"'{str(tmp)}' (FORMAT PARQUET)")
        tmp.replace(path)
        return path

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
