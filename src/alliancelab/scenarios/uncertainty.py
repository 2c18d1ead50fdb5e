"""The one uncertainty system: every ranged number of a case, sampled.

Every number in a case that carries a ``range: [low, high]`` is an *uncertain parameter*
(EMA Workbench's vocabulary) - positions, saliences, capabilities, status quo, actors'
perceptions and their estimates of each other, dynamics parameters, link and indicator
weights, arena influence weights, floors and ceilings; every other number is a constant
(:func:`constants`). The Monte Carlo of ``alliancelab run`` (:func:`draw`) and the designs of
``alliancelab explore`` (:mod:`alliancelab.explore.samplers`) both map uniform numbers on
``[0, 1]`` to parameter values with :func:`sample_unit`, by inverse transform:

* ``triangular`` (the default): the triangular distribution on ``[low, high]`` with its mode
  at the stated value - the analyst's best guess stays the most likely value, and the range
  bounds what is plausible (the usual choice for elicited three-point estimates; see
  D. Vose, *Risk Analysis*, 3rd ed., Wiley 2008, section 10.2);
* ``uniform``: uniform on ``[low, high]`` (every value in the range equally plausible);
* ``pert``: the beta-PERT distribution on ``[low, high]`` with its mode at the stated value
  and the usual weight 4 on the mode (shape parameters ``1 + 4 (mode - low) / (high - low)``
  and ``1 + 4 (high - mode) / (high - low)``; Vose 2008, section 10.3.3): like the
  triangular but with thinner tails, so more of the mass lies near the best guess;
* ``truncnorm``: a normal centred on the stated value whose +-1.96 sigma span the range's
  width (``sigma = (high - low) / 3.92``, the range read as a 95% interval), truncated to
  ``[low, high]``.

All are drawn from the same uniform numbers by their quantile functions, so a given seed
gives the same quantiles under any distribution. Drawn values are clipped to the field's
domain (positions, status quo, floors and ceilings to the issue's scale, saliences,
perceptions and influence weights to 0-1, capabilities to >= 0) so a range wider than the
scale never yields an invalid case; a count (the dynamics' ``rounds``) is rounded to a whole
number.

An exploration may also sample shocks as on/off uncertainties (:func:`switches`:
``shock.<name>``, uniform on 0-1, the shock happens at >= 0.5), and vary only some of the
ranged numbers (:func:`select`: ``include`` and ``exclude`` glob patterns on the dotted
labels); the others stay at their stated values.

Seeding: one ``rng`` argument (int, SeedSequence or Generator) as everywhere in alliancelab;
the entropy is recorded on :class:`Draws`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

import numpy as np
import pandas as pd

from ..core.case import Case, walk_values
from ..core.errors import AllianceLabError
from ..core.problem import Problem
from ..core.rng import RngLike, make_rng
from ..formats.yaml_case import validate
from .batch import ProblemBatch, entries
from .interventions import check_names

DISTRIBUTIONS = ("triangular", "uniform", "pert", "truncnorm")
#: the numbers of a case that are counts (drawn values are rounded).
INTEGER_PATHS = {("dynamics", "rounds")}
#: the sigma of ``truncnorm``: the range is read as a 95% interval (+-1.96 sigma).
NORMAL_SPAN = 2 * 1.959963984540054

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Uncertain:
    """One uncertain parameter: where it sits in the case, its value and its range.

    ``path`` locates the :class:`~alliancelab.core.case.Value` in ``case.model_dump()``
    (list indices are ints); ``label`` is the dotted name used by :meth:`Case.values`.
    ``domain`` is the interval the drawn value is clipped to. ``boolean`` marks an on/off
    uncertainty (:func:`switches`), which is not a number of the case.
    """

    path: Path
    label: str
    value: float
    low: float
    high: float
    domain: tuple[float, float]
    boolean: bool = False
    #: a count (the dynamics' ``rounds``): drawn values are rounded to whole numbers.
    integer: bool = False


def uncertain_values(case: Case) -> list[Uncertain]:
    """Every number in ``case`` that has a range, in a stable order."""
    out: list[Uncertain] = []
    for label, path, value in walk_values(case):
        if value.range is None:
            continue
        lo, hi = value.range
        out.append(Uncertain(path, label, value.value, lo, hi, _domain(case, path),
                             integer=tuple(path) in INTEGER_PATHS))
    return out


def switches(case: Case, shocks: Sequence[str]) -> list[Uncertain]:
    """One on/off uncertainty per named shock: ``shock.<name>``, uniform on 0-1, the shock
    happens where the draw is >= 0.5 (an unknown name raises the one-line error)."""
    return [Uncertain(("shocks", name), f"shock.{name}", 0.0, 0.0, 1.0, (0.0, 1.0), True)
            for name in check_names(case, tuple(shocks), "shock")]


def uncertainties(case: Case, shocks: Sequence[str] = (), *, include: Sequence[str] = (),
                  exclude: Sequence[str] = ()) -> list[Uncertain]:
    """The uncertainties of an exploration: the ranged numbers (:func:`uncertain_values`,
    narrowed by :func:`select`), then the named shocks as on/off uncertainties
    (:func:`switches`)."""
    ranged = select(uncertain_values(case), include, exclude)
    return [*ranged, *switches(case, shocks)]


def select(params: Sequence[Uncertain], include: Sequence[str] = (),
           exclude: Sequence[str] = ()) -> list[Uncertain]:
    """The uncertainties whose label matches one of the ``include`` glob patterns (all when
    none is given) and none of the ``exclude`` patterns (``fnmatch`` syntax on the dotted
    labels, case-sensitive: ``actors.*.capability``, ``issues.usfk_troops.*``). A pattern
    that matches no ranged number is refused with the one-line error (a typo would
    otherwise silently vary everything, or nothing)."""
    for field, patterns in (("include", include), ("exclude", exclude)):
        for pat in patterns:
            if not any(fnmatchcase(p.label, pat) for p in params):
                raise AllianceLabError(
                    f"pattern {pat!r} matches no ranged value (labels look like "
                    f"{params[0].label if params else 'actors.NAME.capability'!r})",
                    field=field)
    out = [p for p in params if not include or any(fnmatchcase(p.label, i) for i in include)]
    return [p for p in out if not any(fnmatchcase(p.label, e) for e in exclude)]


def constants(case: Case) -> dict[str, float]:
    """Every number of the case without a range, by dotted path."""
    return {label: v.value for label, _, v in walk_values(case) if v.range is None}


def _domain(case: Case, path: Path) -> tuple[float, float]:
    """The interval a value at ``path`` must stay in for the case to remain valid."""
    inf = float("inf")
    if path[0] == "issues" and path[-1] in ("status_quo", "floor", "ceiling"):
        scale = case.issues[int(path[1])].scale
        return scale.min, scale.max
    if path[0] == "issues" and "influence" in path:
        return 0.0, 1.0
    if path[0] == "actors":
        if "positions" in path:
            scale = case.issue(str(path[-1])).scale
            return scale.min, scale.max
        if "saliences" in path or "threats" in path or path[-1] == "partner_reliability":
            return 0.0, 1.0
        if path[-1] == "capability":
            return 0.0, inf
    return -inf, inf


# -- sampling --------------------------------------------------------------------------


def check_distribution(distribution: str) -> str:
    """``distribution`` if it is one of :data:`DISTRIBUTIONS`, else the one-line error."""
    if distribution not in DISTRIBUTIONS:
        raise AllianceLabError(
            f"unknown distribution {distribution!r}; choose one of {', '.join(DISTRIBUTIONS)}",
            field="distribution",
        )
    return distribution


def sample_unit(
    u: np.ndarray, params: list[Uncertain] | tuple[Uncertain, ...], distribution: str = "triangular"
) -> np.ndarray:
    """Map uniform numbers ``u`` ``(draws, P)`` to parameter values by inverse transform
    (the module docstring); an on/off uncertainty keeps its uniform number."""
    check_distribution(distribution)
    lo = np.array([p.low for p in params], dtype=float)
    hi = np.array([p.high for p in params], dtype=float)
    mode = np.array([p.value for p in params], dtype=float)
    width = hi - lo
    x = _QUANTILES[distribution](np.asarray(u, dtype=float), lo, hi, mode)
    x = np.where(width > 0, x, mode)
    x = np.where([p.boolean for p in params], u, x)
    dlo = np.array([p.domain[0] for p in params], dtype=float)
    dhi = np.array([p.domain[1] for p in params], dtype=float)
    x = np.clip(x, dlo, dhi)
    return np.where([p.integer for p in params], np.round(x), x)


def _uniform(u: np.ndarray, lo: np.ndarray, hi: np.ndarray, mode: np.ndarray) -> np.ndarray:
    return lo + u * (hi - lo)


def _triangular(u: np.ndarray, lo: np.ndarray, hi: np.ndarray, mode: np.ndarray
                ) -> np.ndarray:
    width = hi - lo
    safe = np.where(width > 0, width, 1.0)
    below = u < (mode - lo) / safe
    # lo + sqrt(u w (mode - lo)) below the mode's quantile, hi - sqrt((1 - u) w (hi -
    # mode)) above it: one square root per number
    root = np.sqrt(np.where(below, u * width * (mode - lo), (1.0 - u) * width * (hi - mode)))
    return np.where(below, lo + root, hi - root)


def _pert(u: np.ndarray, lo: np.ndarray, hi: np.ndarray, mode: np.ndarray) -> np.ndarray:
    width = hi - lo
    safe = np.where(width > 0, width, 1.0)
    a = 1.0 + 4.0 * (mode - lo) / safe
    b = 1.0 + 4.0 * (hi - mode) / safe
    from scipy import stats  # here, not at import: 0.5 s that only PERT needs

    return lo + width * stats.beta.ppf(u, a, b)


def _truncnorm(u: np.ndarray, lo: np.ndarray, hi: np.ndarray, mode: np.ndarray
               ) -> np.ndarray:
    width = hi - lo
    sigma = np.where(width > 0, width, 1.0) / NORMAL_SPAN
    a = np.where(width > 0, (lo - mode) / sigma, -1.0)  # a point value: any proper
    b = np.where(width > 0, (hi - mode) / sigma, 1.0)  # interval (the caller keeps the mode)
    from scipy import stats  # here, not at import (as in _pert)

    return np.asarray(stats.truncnorm.ppf(u, a, b, loc=mode, scale=sigma), dtype=float)


#: distribution -> its quantile function ``(u, low, high, mode) -> values``.
_QUANTILES = {"triangular": _triangular, "uniform": _uniform, "pert": _pert,
              "truncnorm": _truncnorm}


@dataclass(frozen=True)
class Draws:
    """``samples[i, p]`` is draw ``i`` of parameter ``params[p]`` of ``case``."""

    case: Case
    params: tuple[Uncertain, ...]
    samples: np.ndarray
    distribution: str
    seed: int | None

    def __len__(self) -> int:
        return int(self.samples.shape[0])

    @property
    def labels(self) -> list[str]:
        return [p.label for p in self.params]

    def case_at(self, i: int) -> Case:
        """The case with draw ``i`` substituted for every uncertain value."""
        if not self.params:
            return self.case
        return with_values(self.case, self.params, self.samples[i])

    def cases(self) -> Iterator[Case]:
        for i in range(len(self)):
            yield self.case_at(i)

    def problems(self) -> list[Problem]:
        """One :class:`Problem` per draw, built from whole arrays at once (equal to
        ``Problem.from_case(self.case_at(i))`` but without re-validating the case)."""
        return problems_from_samples(self.case, self.params, self.samples)

    def frame(self) -> pd.DataFrame:
        """Tidy samples: one row per draw, one column per parameter label."""
        df = pd.DataFrame(self.samples, columns=self.labels)
        df.insert(0, "draw", np.arange(len(self)))
        return df


def draw(
    case: Case,
    n: int,
    *,
    rng: RngLike = None,
    distribution: str = "triangular",
) -> Draws:
    """Draw ``n`` variants of ``case``'s uncertain parameters (see the module docstring)."""
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise AllianceLabError(f"must be a positive integer, got {n!r}", field="draws")
    generator, seed = make_rng(rng)
    params = tuple(uncertain_values(case))
    u = generator.random((int(n), len(params)))
    samples = sample_unit(u, params, distribution)
    return Draws(case, params, samples, distribution, seed)


def with_values(
    case: Case, params: tuple[Uncertain, ...] | list[Uncertain], values: np.ndarray
) -> Case:
    """``case`` with ``values[p]`` substituted at ``params[p].path`` (validated again)."""
    data = case.model_dump()
    for p, x in zip(params, values, strict=True):
        node: Any = data
        for key in p.path:
            node = node[key]
        node["value"] = float(x)
    return validate(data, file=f"<{case.name} draw>")


def problems_from_samples(
    case: Case, params: tuple[Uncertain, ...] | list[Uncertain], samples: np.ndarray
) -> list[Problem]:
    """Problems for every row of ``samples``, vectorised over draws
    (:class:`~alliancelab.scenarios.batch.ProblemBatch`)."""
    batch = ProblemBatch.of(case, int(samples.shape[0]))
    batch.write([entries(case, p.path) for p in params], samples)
    return batch.problems()


def quantile_bands(values: np.ndarray, qs: tuple[float, ...] = (0.05, 0.5, 0.95)) -> np.ndarray:
    """Quantiles over the first axis, ignoring NaN: ``(len(qs), *values.shape[1:])``."""
    arr = np.asarray(values, dtype=float)
    if arr.shape[0] == 0:
        return np.full((len(qs), *arr.shape[1:]), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanquantile(arr, qs, axis=0)


__all__ = [
    "DISTRIBUTIONS",
    "Draws",
    "Uncertain",
    "check_distribution",
    "constants",
    "draw",
    "problems_from_samples",
    "quantile_bands",
    "sample_unit",
    "select",
    "switches",
    "uncertain_values",
    "uncertainties",
    "with_values",
]
