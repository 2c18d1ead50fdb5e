"""Everything an exploration's report (and the web app's page) shows, computed once.

:func:`analyse` reads an exploration (finished or not; an
:class:`~alliancelab.explore.Exploration`, used only through the methods of
:class:`ExplorationLike`) and keeps every number in memory, in an
:class:`ExplorationAnalysis`: the manifest, the outcome distributions per policy, the failed
experiments grouped by error, the Sobol or Morris indices of the outcome of interest (with
their confidence intervals) and a Morris screening of every outcome, PRIM boxes for the
outcome of interest, and the regret of the levers (the most robust one and the futures
where it fails) with the most robust policy for every outcome.

The defaults are the one choice the report and the web app share: PRIM describes the bad
quartile of the outcome under the policy ``none`` (below the lower quartile when more is
better, above the upper one when less is) and picks the densest box with coverage >= 0.5.

What cannot be computed (Sobol/Morris indices of an LHS exploration or of an unfinished one,
regret without levers) is stated in a note rather than failing; a bad outcome name or a
threshold the caller asked for raises :class:`~alliancelab.core.errors.AllianceLabError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from ..core import units
from ..core.errors import AllianceLabError
from .discovery import PrimResult
from .robustness import Robustness, check_sense, robust_overview
from .sensitivity import morris_screening

#: outcomes screened at most (one SALib analysis each).
MAX_SCREENED = 48
#: the coverage the chosen PRIM box must have at least (the densest such box is chosen).
MIN_COVERAGE = 0.5


class ExplorationLike(Protocol):
    """What :func:`analyse` needs of an exploration (:class:`~alliancelab.explore.
    Exploration` has it)."""

    directory: Path
    manifest: dict[str, Any]
    n_stored: int
    n_failed: int

    @property
    def n_experiments(self) -> int: ...
    @property
    def outcomes(self) -> list[str]: ...
    @property
    def policies(self) -> list[str]: ...
    @property
    def parameters(self) -> list[str]: ...

    def check_outcome(self, outcome: str) -> str: ...
    def check_direction(self, direction: str) -> str: ...
    def summary(self) -> pd.DataFrame: ...
    def failures(self) -> pd.DataFrame: ...
    def design(self) -> np.ndarray: ...
    def sensitivity(self, outcome: str) -> pd.DataFrame: ...
    def scenario_outcomes(self, outcomes: Sequence[str], policy: str = "none"
                          ) -> pd.DataFrame: ...
    def policy_tables(self, outcomes: Sequence[str] | None = None
                      ) -> dict[str, pd.DataFrame]: ...
    def default_threshold(self, outcome: str, direction: str = "above") -> float: ...
    def prim(self, outcome: str, threshold: float | None = None, *,
             direction: str = "above") -> PrimResult: ...
    def robustness(self, outcome: str, *, sense: str = "max") -> Robustness: ...


@dataclass(frozen=True)
class ExplorationAnalysis:
    """Everything the report shows of one exploration, computed (no store access left)."""

    manifest: dict[str, Any]
    store: str
    n_stored: int
    n_failed: int
    n_experiments: int
    outcome: str
    sense: str
    summary: pd.DataFrame
    failures: pd.DataFrame
    sensitivity: pd.DataFrame | None
    sensitivity_method: str
    sensitivity_note: str
    sensitivity_manifest: dict[str, Any] | None
    screening: pd.DataFrame | None
    prim: PrimResult | None
    prim_outcome: str
    prim_label: str
    prim_threshold: float | None
    prim_direction: str
    prim_box: int
    prim_note: str
    robustness: Robustness | None
    robust_overview: pd.DataFrame | None
    robust_note: str

    @property
    def complete(self) -> bool:
        return self.n_stored == self.n_experiments


def analyse(ex: ExplorationLike, *, outcome: str | None = None, sense: str = "max",
            threshold: float | None = None, direction: str | None = None,
            prim_outcome: str | None = None, screening: ExplorationLike | None = None,
            min_coverage: float = MIN_COVERAGE) -> ExplorationAnalysis:
    """Compute what the report of exploration ``ex`` shows for ``outcome`` (default: its
    first).

    ``sense`` says whether more of the outcome is better (``"max"``) or worse (``"min"``),
    for the regret of the levers. PRIM describes the experiments with the outcome
    ``direction`` ``threshold``; by default the bad quartile (below the lower quartile when
    more is better, above the upper one otherwise) under the policy ``none``, for
    ``prim_outcome`` (default ``outcome``), and the chosen box is the densest with coverage
    at least ``min_coverage``. ``screening`` is another exploration of the same case sampled
    with ``sobol`` or ``morris`` whose indices are shown when ``ex`` itself cannot give them
    (the main run does so)."""
    outcome = ex.check_outcome(outcome or ex.outcomes[0])
    prim_outcome = ex.check_outcome(prim_outcome or outcome)
    check_sense(sense)
    direction = ex.check_direction(direction or ("below" if sense == "max" else "above"))
    sens = _sensitivity(ex, outcome, screening)
    prim = _discovery(ex, prim_outcome, threshold, direction, min_coverage)
    rob = _robust(ex, outcome, sense)
    return ExplorationAnalysis(
        manifest=dict(ex.manifest), store=str(ex.directory), n_stored=int(ex.n_stored),
        n_failed=int(ex.n_failed), n_experiments=int(ex.n_experiments), outcome=outcome,
        sense=sense, summary=ex.summary(), failures=failure_groups(ex.failures()),
        sensitivity=sens[0], sensitivity_method=sens[1], sensitivity_note=sens[2],
        sensitivity_manifest=sens[3], screening=sens[4],
        prim=prim[0], prim_outcome=prim_outcome, prim_label=prim[1], prim_threshold=prim[2],
        prim_direction=direction, prim_box=prim[3], prim_note=prim[4],
        robustness=rob[0], robust_overview=rob[1], robust_note=rob[2])


def _sensitivity(ex: ExplorationLike, outcome: str, screening: ExplorationLike | None
                 ) -> tuple[pd.DataFrame | None, str, str, dict[str, Any] | None,
                            pd.DataFrame | None]:
    """(indices, method, note, manifest of the screening exploration, screening heat map)."""
    src = ex if ex.manifest["sampler"] in ("sobol", "morris") or screening is None \
        else screening
    method = str(src.manifest["sampler"])
    other = None if src is ex else dict(src.manifest)
    if method not in ("sobol", "morris"):
        return None, method, (
            f"Sobol and Morris indices need a design made for them: this exploration was "
            f"sampled with {method}. Run alliancelab explore with --sampler sobol (first- and "
            f"total-order indices) or --sampler morris (elementary effects)."), other, None
    if outcome not in src.outcomes:
        return None, method, f"The screening exploration has no outcome {outcome}.", other, None
    try:
        sens = src.sensitivity(outcome)
        screen = screening_table(src) if method == "morris" else None
    except AllianceLabError as exc:
        return None, method, f"Indices not computed: {exc.message}", other, None
    return sens, method, "", other, screen


def _discovery(ex: ExplorationLike, outcome: str, threshold: float | None, direction: str,
               min_coverage: float) -> tuple[PrimResult | None, str, float | None, int, str]:
    """(PRIM result, label, threshold, chosen box, note); a threshold the caller gave that
    PRIM cannot use raises, the default one becomes a note."""
    op = ">" if direction == "above" else "<"
    label = "" if threshold is None else f"{outcome} {op} {units.number(threshold)}"
    try:
        t = float(threshold) if threshold is not None else ex.default_threshold(outcome,
                                                                                direction)
        label = f"{outcome} {op} {units.number(t)}"
        res = ex.prim(outcome, t, direction=direction)
    except AllianceLabError as exc:
        if threshold is not None:
            raise
        return None, label, None, 0, f"No PRIM boxes: {exc.message}"
    res.stability(min_coverage)  # the bootstrap the report's warnings read, computed here
    return res, label, t, res.select(min_coverage), ""


def _robust(ex: ExplorationLike, outcome: str, sense: str
            ) -> tuple[Robustness | None, pd.DataFrame | None, str]:
    """(regret of the levers on ``outcome``, most robust policy per outcome, note)."""
    if len(ex.policies) < 2:
        return None, None, ("No levers to compare: run alliancelab explore with --lever NAME "
                            "(or --lever all) to compare policies by regret.")
    try:
        return ex.robustness(outcome, sense=sense), robust_overview(ex.policy_tables()), ""
    except AllianceLabError as exc:
        return None, None, f"Regret not computed: {exc.message}"


def failure_groups(f: pd.DataFrame) -> pd.DataFrame:
    """Failed experiments grouped by error: error, count, the first experiment ids."""
    if f.empty:
        return pd.DataFrame(columns=["error", "experiments", "first ids"])
    g = f.groupby("error", sort=False)["experiment_id"]
    out = pd.DataFrame({"experiments": g.size(),
                        "first ids": g.apply(lambda s: ", ".join(map(str, s.head(5))))})
    return out.reset_index().sort_values("experiments", ascending=False, kind="stable")


def screening_table(ex: ExplorationLike) -> pd.DataFrame | None:
    """Morris screening (:func:`~alliancelab.analysis.sensitivity.morris_screening`) of
    every outcome (at most :data:`MAX_SCREENED`) under the policy ``none`` of a ``morris``
    exploration, the store read once; ``None`` unless every experiment of the policy is
    stored and succeeded."""
    outcomes = ex.outcomes[:MAX_SCREENED]
    if not outcomes:
        return None
    try:
        Y = ex.scenario_outcomes(outcomes)
    except AllianceLabError:
        return None
    return morris_screening(ex.parameters, ex.design(), Y)
