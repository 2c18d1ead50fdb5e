"""An exploration's results, read back from its store, as DataFrames and in EMA Workbench's
``(experiments, outcomes)`` shape (``ema_workbench.perform_experiments`` returns the same:
a DataFrame with one column per uncertainty and lever plus ``scenario``, ``policy`` and
``model``, and a dict of outcome name -> array, rows in experiment order).

:class:`Exploration` is the one place for everything an exploration offers: frames
(:meth:`~Exploration.to_frame`, :meth:`~Exploration.results`, :meth:`~Exploration.to_ema`),
the outcome distributions (:meth:`~Exploration.summary`), failed experiments
(:meth:`~Exploration.failures`), global sensitivity (:meth:`~Exploration.sensitivity`),
scenario discovery (:meth:`~Exploration.prim`) and robust options
(:meth:`~Exploration.robustness`): each reads what it needs from the store and hands arrays
and frames to :mod:`alliancelab.analysis`. Everything a report shows is
:func:`alliancelab.analysis.exploration.analyse`; the HTML report is
:func:`alliancelab.report.explore.write_report`.
"""

from __future__ import annotations

import contextlib
import shutil
import weakref
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..analysis.discovery import PrimResult, prim
from ..analysis.robustness import Robustness, check_sense, regret_table, robustness
from ..analysis.sensitivity import morris_indices, sobol_indices
from ..core.display import html_card, number, short
from ..core.errors import AllianceLabError
from .samplers import DesignReader
from .store import DESIGN_NAME, FIXED_COLUMNS, Store, _q

if TYPE_CHECKING:
    import duckdb

#: quantiles of :meth:`Exploration.summary` (a box: whiskers 5-95%, box 25-75%, median).
SUMMARY_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


class Exploration:
    """A finished (or partly finished) exploration in ``directory``.

    Returned by :func:`~alliancelab.explore.explore`, or reopened from any store with
    ``Exploration(directory)`` - also one whose run was interrupted: everything below then
    works on the experiments stored so far (:attr:`complete` says whether that is all).

    >>> import tempfile
    >>> from alliancelab.cases import resolve_case
    >>> from alliancelab.explore import explore
    >>> from alliancelab.formats import read_case
    >>> case = read_case(resolve_case("us_rok_2025"))
    >>> tmp = tempfile.TemporaryDirectory()
    >>> ex = explore(case, n=40, sampler="lhs", levers=["sustained_usfk_presence"],
    ...              models=("compromise",), seed=1, store=tmp.name)
    >>> ex.n_stored, ex.n_failed, ex.policies
    (80, 0, ['none', 'sustained_usfk_presence'])
    >>> list(ex.to_frame().columns)
    ['experiment_id', 'scenario', 'policy', 'model', 'outcome', 'value']
    >>> q = ex.summary(["compromise.usfk_troops"])
    >>> bool((q["q05"] <= q["q50"]).all() and (q["q50"] <= q["q95"]).all())
    True
    >>> rb = ex.robustness("compromise.usfk_troops", sense="max")
    >>> rb.most_robust, float(rb.summary.loc[rb.most_robust, "max_regret"])
    ('sustained_usfk_presence', 0.0)
    >>> box = ex.prim("compromise.usfk_troops", direction="below")  # bottom quartile
    >>> 0 < box.boxes[box.select(0.5)].coverage <= 1
    True
    >>> tmp.cleanup()
    """

    #: statistics of the run that returned this object (empty when reopened from disk)
    run_stats: dict[str, float]

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.run_stats = {}
        #: a verified private copy of a store another process is still writing (the
        #: experiments committed when it was opened), removed with this object
        self._db_dir: Path | None = None
        with Store(self.directory, read_only=True) as st:
            manifest = st.manifest()
            if manifest is None:
                raise AllianceLabError("no exploration in this directory",
                                       file=str(self.directory))
            st.verify_design(manifest)
            if st.snapshot is None:  # a copy was verified when it was taken
                st.verify_results()
            else:
                self._db_dir, st.snapshot = st.snapshot, None
                weakref.finalize(self, shutil.rmtree, self._db_dir, True)
            self.manifest: dict[str, Any] = manifest
            self.n_stored, self.n_failed = st.count()

    def _store(self) -> Store:
        """The store, opened for reading (or the copy taken when this object was made)."""
        return Store(self.directory, read_only=True, db_dir=self._db_dir)

    @contextlib.contextmanager
    def _connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A DuckDB connection with the table ``results`` (for the queries run in DuckDB)."""
        with self._store() as st:
            yield st.con

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

    def _facts(self) -> list[str]:
        m = self.manifest
        return [
            f"{self.n_stored}/{self.n_experiments} experiments"
            + ("" if self.complete else " (incomplete)"),
            f"{self.n_failed} failed" if self.n_failed else "",
            f"{m['n_scenarios']} scenarios × {len(self.policies)} policies",
            f"{len(self.parameters)} uncertainties, {m['sampler']}, "
            f"{m.get('distribution', 'triangular')}",
            "models " + ", ".join(m["models"]),
            f"seed {m['entropy']}",
        ]

    def __repr__(self) -> str:
        return short("Exploration", repr(self.manifest["case_name"]), *self._facts(),
                     f"store {self.directory}")

    def __str__(self) -> str:
        return repr(self)

    def _repr_html_(self) -> str:
        """The facts and one row per outcome: per policy the median [5%, 95%] of the stored
        experiments."""
        with self._store() as st:
            q = st.summary(self.outcomes).set_index(["outcome", "policy"])
        rows = []
        for outcome in self.outcomes:
            cells = []
            for pol in self.policies:
                if (outcome, pol) in q.index:
                    r = q.loc[(outcome, pol)]
                    cells.append(f"{number(r.q50)} [{number(r.q05)}, {number(r.q95)}]")
                else:
                    cells.append("-")
            rows.append((outcome, *cells))
        return html_card(f"Exploration of {self.manifest['case_name']}",
                         [*self._facts(), f"store {self.directory}",
                          "per policy: median [5%, 95%]"],
                         ("outcome", *self.policies), rows)

    # -- frames --------------------------------------------------------------------------
    def design(self) -> np.ndarray:
        """The scenarios ``(n_scenarios, P)`` in parameter units (shocks as drawn on 0-1)."""
        return DesignReader(self.directory / DESIGN_NAME).all()

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
        with self._store() as st:
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
        """One Parquet file, a row per stored experiment: the inputs (one column per
        uncertainty, shocks as booleans), then the results (experiment_id, scenario, policy,
        ok, error, one column per outcome). Written atomically; returns ``path``."""
        with self._store() as st:
            return st.export_parquet(path, self.manifest["parameters"],
                                     self.directory / DESIGN_NAME)

    # -- analyses (one place for the functions of sensitivity, discovery, robustness) ----
    def to_frame(self, *, wide: bool = False) -> pd.DataFrame:
        """The results as a DataFrame: tidy (long, :meth:`tidy`) by default; ``wide=True``
        gives one row per experiment with its scenario's parameters (:meth:`frame`)."""
        return self.frame() if wide else self.tidy()

    def check_outcome(self, outcome: str) -> str:
        """``outcome`` if the exploration has it, else a one-line error naming the choices."""
        if outcome not in self.outcomes:
            raise AllianceLabError(f"unknown outcome {outcome!r}; choose from "
                                   f"{', '.join(self.outcomes)}", field="outcome")
        return outcome

    def summary(self, outcomes: Sequence[str] | None = None,
                quantiles: Sequence[float] = SUMMARY_QUANTILES) -> pd.DataFrame:
        """The distribution of each outcome per policy over the successful experiments:
        columns outcome, policy, n, mean, and ``q05``, ``q25``, ... for ``quantiles``.
        Computed inside DuckDB, so memory does not grow with the number of experiments."""
        names = [self.check_outcome(o) for o in (self.outcomes if outcomes is None
                                                  else outcomes)]
        qcols = [f"q{round(100 * q):02d}" for q in quantiles]
        parts = []
        for name in names:
            col = _q(name)
            qs = ", ".join(f"quantile_cont({col}, {float(q)!r}) AS {c}"
                           for q, c in zip(quantiles, qcols, strict=True))
            lit = name.replace("'", "''")
            # the mean sums in experiment order: the same bits whatever order batches were
            # stored in and however many threads DuckDB uses
            parts.append(f"SELECT '{lit}' AS outcome, policy, count({col}) AS n, "
                         f"avg({col} ORDER BY experiment_id) AS mean, {qs} FROM results "
                         "WHERE ok GROUP BY policy")
        cols = ["outcome", "policy", "n", "mean", *qcols]
        if not parts:
            return pd.DataFrame(columns=cols)
        with self._connection() as con:
            df = con.execute(" UNION ALL ".join(parts)).df()
        order = {p: i for i, p in enumerate(self.policies)}
        rank = {o: i for i, o in enumerate(names)}
        df = df.sort_values(["outcome", "policy"], key=lambda s: s.map(
            rank if s.name == "outcome" else order), kind="stable")
        return df[cols].reset_index(drop=True)

    def failures(self) -> pd.DataFrame:
        """The failed experiments: experiment_id, scenario, policy, error."""
        with self._connection() as con:
            return con.execute(
                "SELECT experiment_id, scenario, policy, error FROM results WHERE NOT ok "
                "ORDER BY experiment_id").df()

    def scenario_outcomes(self, outcomes: Sequence[str], policy: str = "none"
                          ) -> pd.DataFrame:
        """``outcomes`` under ``policy``, one row per scenario in design order; refused with
        a one-line error unless every scenario of the policy is stored and succeeded (what
        the Sobol and Morris estimators need)."""
        for o in outcomes:
            self.check_outcome(o)
        self.check_policy(policy)
        res = self.results(["scenario", "policy", "ok", *outcomes])
        res = res[res["policy"] == policy].sort_values("scenario")
        if len(res) != self.manifest["n_scenarios"]:
            raise AllianceLabError(
                f"the exploration is incomplete ({len(res)} of {self.manifest['n_scenarios']} "
                "scenarios stored for this policy); run it again to finish", field="outcome")
        if not res["ok"].all():
            raise AllianceLabError(
                f"{int((~res['ok']).sum())} experiments failed; Sobol/Morris estimators need "
                "every one", field="outcome")
        return res.set_index("scenario")[list(outcomes)]

    def policy_tables(self, outcomes: Sequence[str] | None = None) -> dict[str, pd.DataFrame]:
        """Per outcome a frame scenario x policy over the scenarios where every policy
        succeeded (what regret compares); the store is read once."""
        names = [self.check_outcome(o) for o in (self.outcomes if outcomes is None
                                                  else outcomes)]
        res = self.results(["scenario", "policy", "ok", *names])
        okw = res.pivot(index="scenario", columns="policy", values="ok")
        full = okw.fillna(False).astype(bool).all(axis=1)
        cols = [p for p in self.policies if p in okw.columns]
        return {o: res.pivot(index="scenario", columns="policy", values=o)[full].dropna()[cols]
                for o in names}

    def sensitivity(self, outcome: str, *, method: str | None = None, policy: str = "none",
                    conf_level: float = 0.95, seed: int = 0) -> pd.DataFrame:
        """Global sensitivity of ``outcome`` to every uncertainty, largest first.

        ``method`` ``"sobol"`` (``S1``, ``S1_conf``, ``ST``, ``ST_conf``; needs
        ``sampler="sobol"``) or ``"morris"`` (``mu``, ``mu_star``, ``mu_star_conf``,
        ``sigma``; needs ``sampler="morris"``); ``None`` picks the one the sampler supports.
        ``*_conf`` is the half-width of the ``conf_level`` bootstrap interval. See
        :mod:`alliancelab.analysis.sensitivity`."""
        self.check_outcome(outcome)
        sampler = self.manifest["sampler"]
        method = method or (sampler if sampler in ("sobol", "morris") else "sobol")
        if method not in ("sobol", "morris"):
            raise AllianceLabError(f"method must be 'sobol' or 'morris', got {method!r}",
                                   field="method")
        if sampler != method:
            raise AllianceLabError(f"{method.capitalize()} indices need an exploration run "
                                   f"with --sampler {method}", field="sampler")
        y = self.scenario_outcomes([outcome], policy)[outcome].to_numpy(dtype=float)
        if method == "sobol":
            return sobol_indices(self.parameters, y, conf_level=conf_level, seed=seed)
        return morris_indices(self.parameters, self.design(), y, conf_level=conf_level,
                              seed=seed)

    def default_threshold(self, outcome: str, direction: str = "above",
                          policy: str | None = "none") -> float:
        """The threshold :meth:`prim` uses when given none: the upper quartile of
        ``outcome`` (under ``policy``) for ``direction="above"``, the lower for ``"below"``."""
        self.check_direction(direction)
        q = 0.75 if direction == "above" else 0.25
        where = "ok" + ("" if policy is None else " AND policy = ?")
        with self._connection() as con:
            row = con.execute(
                f"SELECT quantile_cont({_q(self.check_outcome(outcome))}, {q}) "
                f"FROM results WHERE {where}", [] if policy is None else [policy]).fetchone()
        if row is None or row[0] is None:
            raise AllianceLabError(f"no successful experiment stores {outcome!r} yet",
                                   field="outcome")
        return float(row[0])

    def prim(self, outcome: str, threshold: float | None = None, *, direction: str = "above",
             policy: str | None = "none", max_points: int = 100_000, seed: int = 0,
             **kwargs: Any) -> PrimResult:
        """Scenario discovery (PRIM, :mod:`alliancelab.analysis.discovery`): boxes over the
        uncertainties holding the experiments where ``outcome`` is ``direction``
        (``"above"``/``"below"``) ``threshold`` (default :meth:`default_threshold`), under
        ``policy`` (``None``: every policy, the levers become dimensions too). A threshold
        that selects no experiment, or every one, is refused with a one-line error. At most
        ``max_points`` experiments are used (a subset seeded by ``seed``). ``kwargs`` go to
        :func:`~alliancelab.analysis.discovery.prim` (``alpha``, ``mass_min``, ``paste``).
        Pick a box with ``result.select(min_coverage)``."""
        self.check_outcome(outcome)
        self.check_direction(direction)
        if policy is not None:
            self.check_policy(policy)
        if threshold is None:
            threshold = self.default_threshold(outcome, direction, policy)
        threshold = float(threshold)
        if not np.isfinite(threshold):
            raise AllianceLabError(f"the threshold must be a finite number, got {threshold}",
                                   field="threshold")
        self._check_threshold(outcome, threshold, direction, policy)
        experiments, outcomes = self.to_ema()
        keep = np.isfinite(outcomes[outcome])
        if policy is not None:
            keep &= (experiments["policy"] == policy).to_numpy()
        idx = np.flatnonzero(keep)
        if len(idx) > max_points:
            idx = np.sort(np.random.default_rng(seed).choice(idx, max_points, replace=False))
        X = experiments.iloc[idx].drop(columns=["scenario", "policy", "model"])
        if policy is not None:
            levers = {lv for p in self.manifest["policies"] for lv in p["levers"]}
            X = X.drop(columns=[c for c in X.columns if c in levers])
        y = outcomes[outcome][idx]
        target = y > threshold if direction == "above" else y < threshold
        return prim(X.astype(float), target, **kwargs)

    def _check_threshold(self, outcome: str, threshold: float, direction: str,
                         policy: str | None) -> None:
        """Refuse a threshold that selects no successful experiment, or every one."""
        op = ">" if direction == "above" else "<"
        where = "ok" + ("" if policy is None else " AND policy = ?")
        col = _q(outcome)
        with self._connection() as con:
            n, hits, lo, hi = con.execute(
                f"SELECT count({col}), count({col}) FILTER (WHERE {col} {op} ?), "
                f"min({col}), max({col}) FROM results WHERE {where}",
                [threshold, *([] if policy is None else [policy])]).fetchone()  # type: ignore[misc]
        if not n:
            raise AllianceLabError(f"no successful experiment stores {outcome!r} yet",
                                   field="outcome")
        if hits == 0 or hits == n:
            which = "no" if hits == 0 else "every"
            raise AllianceLabError(
                f"{which} experiment has {outcome} {op} {threshold:g} (its values run from "
                f"{lo:.6g} to {hi:.6g}); choose a threshold inside that range",
                field="threshold")

    def regret(self, outcome: str, *, sense: str = "max",
               target: float | None = None) -> pd.DataFrame:
        """Regret ``R(s, p)`` of ``outcome``: rows are the scenarios where every policy
        succeeded, columns the policies (:func:`~alliancelab.analysis.robustness.
        regret_table`)."""
        check_sense(sense)
        return regret_table(self.policy_tables([outcome])[outcome], sense=sense, target=target)

    def robustness(self, outcome: str, *, sense: str = "max", target: float | None = None,
                   fail_quantile: float = 0.9) -> Robustness:
        """The policies compared on ``outcome`` by regret across the sampled futures: the
        regret table, a per-policy summary, the most robust policy (minimax regret), the
        futures where it fails and a PRIM box describing them
        (:mod:`alliancelab.analysis.robustness`). ``sense`` ``"max"``: more is better,
        ``"min"``: less is better; or closeness to ``target``."""
        self.check_outcome(outcome)
        check_sense(sense)
        if len(self.policies) < 2:
            raise AllianceLabError("robustness needs at least one lever (--lever) besides "
                                   "'none'", field="lever")
        return robustness(self.policy_tables([outcome])[outcome], self.scenarios(),
                          outcome=outcome, sense=sense, target=target,
                          fail_quantile=fail_quantile)

    def check_policy(self, policy: str) -> str:
        """``policy`` if the exploration has it, else a one-line error naming the choices."""
        if policy not in self.policies:
            raise AllianceLabError(f"unknown policy {policy!r}; choose from "
                                   f"{', '.join(self.policies)}", field="policy")
        return policy

    @staticmethod
    def check_direction(direction: str) -> str:
        """``direction`` if it is ``"above"`` or ``"below"``, else a one-line error."""
        if direction not in ("above", "below"):
            raise AllianceLabError(f"direction must be 'above' or 'below', got {direction!r}",
                                   field="direction")
        return direction


class MemoryExploration(Exploration):
    """A finished exploration held in this process's memory, never stored
    (:func:`~alliancelab.explore.runner.explore_in_memory`): the methods of
    :class:`Exploration` on its design and, per experiment in id order, ``ok``, ``error``
    and ``outcomes`` ``(experiments, K)``. The queries a store answers in DuckDB run in
    DuckDB here too, on the same rows (an in-memory database), so every table equals the
    stored exploration's."""

    def __init__(self, manifest: dict[str, Any], design: np.ndarray, ids: np.ndarray,
                 ok: np.ndarray, error: Sequence[str | None], outcomes: np.ndarray) -> None:
        self.directory = Path("(in memory)")
        self.run_stats = {}
        self._db_dir = None
        self.manifest = manifest
        self._design = design
        n_pol = len(manifest["policies"])
        ok = np.asarray(ok, dtype=bool)
        # the columns of the results table as a store's results() returns them
        self._columns: dict[str, Any] = {
            "experiment_id": np.asarray(ids, dtype=np.int64),
            "scenario": np.asarray(ids // n_pol, dtype=np.int64),
            "policy": pd.array(np.asarray(self.policies, dtype=object)[ids % n_pol],
                               dtype="str"),
            "ok": ok,
            # DuckDB returns a column of NULLs only as objects (None)
            "error": (pd.array(list(error), dtype="str") if any(e is not None for e in error)
                      else np.array(list(error), dtype=object)),
            **{name: outcomes[:, k] for k, name in enumerate(self.outcomes)},
        }
        self.n_stored, self.n_failed = len(ids), int((~ok).sum())
        self._con: duckdb.DuckDBPyConnection | None = None

    def _store(self) -> Store:
        raise AllianceLabError("this exploration is held in memory: it has no store",
                               field="store")

    @contextlib.contextmanager
    def _connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        if self._con is None:
            import duckdb

            self._con = duckdb.connect()
            self._con.register("results", self.results())
        yield self._con

    def design(self) -> np.ndarray:
        return np.array(self._design, order="C")

    def results(self, columns: list[str] | None = None) -> pd.DataFrame:
        names = [*FIXED_COLUMNS, *self.outcomes] if columns is None else columns
        return pd.DataFrame({c: self._columns[c] for c in names})
