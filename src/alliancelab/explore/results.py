"""An exploration's results, read back from its store, as DataFrames and in EMA Workbench's
``(experiments, outcomes)`` shape (``ema_workbench.perform_experiments`` returns the same:
a DataFrame with one column per uncertainty and lever plus ``scenario``, ``policy`` and
``model``, and a dict of outcome name -> array, rows in experiment order).

:class:`Exploration` is the one place for everything an exploration offers: frames
(:meth:`~Exploration.to_frame`, :meth:`~Exploration.results`, :meth:`~Exploration.to_ema`),
the outcome distributions (:meth:`~Exploration.summary`), failed experiments
(:meth:`~Exploration.failures`), global sensitivity (:meth:`~Exploration.sensitivity`,
:meth:`~Exploration.tornado`), scenario discovery (:meth:`~Exploration.prim`), robust options
(:meth:`~Exploration.robustness`) and the HTML report (:meth:`~Exploration.report`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .samplers import DesignReader
from .store import FIXED_COLUMNS, Store, _q

if TYPE_CHECKING:
    from ..analysis.discovery import PrimResult
    from ..analysis.robustness import Robustness

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
        with Store(self.directory) as st:
            manifest = st.manifest()
            if manifest is None:
                from ..core.errors import AllianceLabError

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

    # -- analyses (one place for the functions of sensitivity, discovery, robustness) ----
    def to_frame(self, *, wide: bool = False) -> pd.DataFrame:
        """The results as a DataFrame: tidy (long, :meth:`tidy`) by default; ``wide=True``
        gives one row per experiment with its scenario's parameters (:meth:`frame`)."""
        return self.frame() if wide else self.tidy()

    def check_outcome(self, outcome: str) -> str:
        """``outcome`` if the exploration has it, else a one-line error naming the choices."""
        if outcome not in self.outcomes:
            from ..core.errors import AllianceLabError

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
        with Store(self.directory) as st:
            df = st.con.execute(" UNION ALL ".join(parts)).df()
        order = {p: i for i, p in enumerate(self.policies)}
        rank = {o: i for i, o in enumerate(names)}
        df = df.sort_values(["outcome", "policy"], key=lambda s: s.map(
            rank if s.name == "outcome" else order), kind="stable")
        return df[cols].reset_index(drop=True)

    def failures(self) -> pd.DataFrame:
        """The failed experiments: experiment_id, scenario, policy, error."""
        with Store(self.directory) as st:
            return st.con.execute(
                "SELECT experiment_id, scenario, policy, error FROM results WHERE NOT ok "
                "ORDER BY experiment_id").df()

    def sensitivity(self, outcome: str, *, method: str | None = None, policy: str = "none",
                    conf_level: float = 0.95, seed: int = 0) -> pd.DataFrame:
        """Global sensitivity of ``outcome`` to every uncertainty, largest first.

        ``method`` ``"sobol"`` (``S1``, ``S1_conf``, ``ST``, ``ST_conf``; needs
        ``sampler="sobol"``) or ``"morris"`` (``mu``, ``mu_star``, ``mu_star_conf``,
        ``sigma``; needs ``sampler="morris"``); ``None`` picks the one the sampler supports.
        ``*_conf`` is the half-width of the ``conf_level`` bootstrap interval. See
        :mod:`alliancelab.analysis.sensitivity`."""
        from ..analysis.sensitivity import morris_indices, sobol_indices
        from ..core.errors import AllianceLabError

        self.check_outcome(outcome)
        method = method or (self.manifest["sampler"] if self.manifest["sampler"]
                            in ("sobol", "morris") else "sobol")
        if method == "sobol":
            return sobol_indices(self, outcome, policy=policy, conf_level=conf_level,
                                 seed=seed)
        if method == "morris":
            return morris_indices(self, outcome, policy=policy, conf_level=conf_level,
                                  seed=seed)
        raise AllianceLabError(f"method must be 'sobol' or 'morris', got {method!r}",
                               field="method")

    def tornado(self, outcome: str, *, top: int = 15, **kwargs: Any) -> Any:
        """The tornado chart (plotly) of :meth:`sensitivity` for ``outcome``."""
        from ..analysis.sensitivity import tornado

        idx = self.sensitivity(outcome, **kwargs)
        sampler = self.manifest["sampler"]
        return tornado(idx, title=f"{outcome}: {sampler} indices", top=top)

    def default_threshold(self, outcome: str, direction: str = "above",
                          policy: str | None = "none") -> float:
        """The threshold :meth:`prim` uses when given none: the upper quartile of
        ``outcome`` (under ``policy``) for ``direction="above"``, the lower for ``"below"``."""
        self._check_direction(direction)
        q = 0.75 if direction == "above" else 0.25
        where = "ok" + ("" if policy is None else " AND policy = ?")
        with Store(self.directory) as st:
            row = st.con.execute(
                f"SELECT quantile_cont({_q(self.check_outcome(outcome))}, {q}) "
                f"FROM results WHERE {where}", [] if policy is None else [policy]).fetchone()
        if row is None or row[0] is None:
            from ..core.errors import AllianceLabError

            raise AllianceLabError(f"no successful experiment stores {outcome!r} yet",
                                   field="outcome")
        return float(row[0])

    def prim(self, outcome: str, threshold: float | None = None, *, direction: str = "above",
             policy: str | None = "none", **kwargs: Any) -> PrimResult:
        """Scenario discovery (PRIM, :mod:`alliancelab.analysis.discovery`): boxes over the
        uncertainties holding the experiments where ``outcome`` is ``direction``
        (``"above"``/``"below"``) ``threshold`` (default :meth:`default_threshold`), under
        ``policy`` (``None``: every policy, the levers become dimensions too). A threshold
        that selects no experiment, or every one, is refused with a one-line error.
        ``kwargs`` go to :func:`~alliancelab.analysis.discovery.prim` (``alpha``,
        ``mass_min``, ``paste``). Pick a box with ``result.select(min_coverage)``."""
        from ..analysis.discovery import discover
        from ..core.errors import AllianceLabError

        self.check_outcome(outcome)
        self._check_direction(direction)
        if policy is not None and policy not in self.policies:
            raise AllianceLabError(f"unknown policy {policy!r}; choose from "
                                   f"{', '.join(self.policies)}", field="policy")
        if threshold is None:
            threshold = self.default_threshold(outcome, direction, policy)
        threshold = float(threshold)
        if not np.isfinite(threshold):
            raise AllianceLabError(f"the threshold must be a finite number, got {threshold}",
                                   field="threshold")
        op = ">" if direction == "above" else "<"
        where = "ok" + ("" if policy is None else " AND policy = ?")
        col = _q(outcome)
        with Store(self.directory) as st:
            n, hits, lo, hi = st.con.execute(
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
        above, below = (threshold, None) if direction == "above" else (None, threshold)
        return discover(self, outcome, above=above, below=below, policy=policy, **kwargs)

    def robustness(self, outcome: str, *, sense: str = "max", target: float | None = None,
                   fail_quantile: float = 0.9) -> Robustness:
        """The policies compared on ``outcome`` by regret across the sampled futures: the
        regret table, a per-policy summary, the most robust policy (minimax regret), the
        futures where it fails and a PRIM box describing them
        (:mod:`alliancelab.analysis.robustness`). ``sense`` ``"max"``: more is better,
        ``"min"``: less is better; or closeness to ``target``."""
        from ..analysis.robustness import robustness

        self.check_outcome(outcome)
        return robustness(self, outcome, sense=sense, target=target,
                          fail_quantile=fail_quantile)

    def report(self, path: str | Path, *, outcome: str | None = None, sense: str = "max",
               threshold: float | None = None, direction: str | None = None,
               prim_outcome: str | None = None, command: str | None = None) -> Path:
        """Write the self-contained HTML report of this exploration to ``path`` (atomically;
        see :mod:`alliancelab.report.explore`): the manifest, the outcome distributions,
        the sensitivity indices with their tornado chart, PRIM boxes with the
        coverage-density trade-off and the regret of the levers, for ``outcome`` (default:
        the first); PRIM for ``prim_outcome`` (default ``outcome``) ``direction``
        ``threshold`` (default: its bad quartile). A bad outcome or threshold raises before
        anything is written."""
        from ..report.explore import write_report

        return write_report(self, path, outcome=outcome, sense=sense, threshold=threshold,
                            direction=direction, prim_outcome=prim_outcome, command=command)

    @staticmethod
    def _check_direction(direction: str) -> None:
        if direction not in ("above", "below"):
            from ..core.errors import AllianceLabError

            raise AllianceLabError(f"direction must be 'above' or 'below', got {direction!r}",
                                   field="direction")
