"""Monte Carlo over a case's stated uncertainty ranges.

Every number in a case that carries a ``range: [low, high]`` is an *uncertain parameter*
(EMA Workbench's vocabulary); every other number is a constant. :func:`draw` samples all
uncertain parameters at once, as one array ``(draws, parameters)``:

* ``triangular`` (the default): the triangular distribution on ``[low, high]`` with its mode
  at the stated value - the analyst's best guess stays the most likely value, and the range
  bounds what is plausible (the usual choice for elicited three-point estimates; see
  D. Vose, *Risk Analysis*, 3rd ed., Wiley 2008, section 10.2);
* ``uniform``: uniform on ``[low, high]`` (every value in the range equally plausible).

Both are drawn by inverse transform from the same uniform numbers, so a given seed gives
the same quantiles under either distribution. Drawn values are clipped to the field's
domain (positions and status quo to the issue's scale, saliences and perceptions to 0-1,
capabilities to >= 0) so a range wider than the scale never yields an invalid case.

Seeding: one ``rng`` argument (int, SeedSequence or Generator) as everywhere in alliancelab;
the entropy is recorded on :class:`Draws`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from ..core.case import Case, walk_values
from ..core.errors import AllianceLabError
from ..core.problem import Problem
from ..core.rng import RngLike, make_rng

DISTRIBUTIONS = ("triangular", "uniform")

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Uncertain:
    """One uncertain parameter: where it sits in the case, its value and its range.

    ``path`` locates the :class:`~alliancelab.core.case.Value` in ``case.model_dump()``
    (list indices are ints); ``label`` is the dotted name used by :meth:`Case.values`.
    ``domain`` is the interval the drawn value is clipped to.
    """

    path: Path
    label: str
    value: float
    low: float
    high: float
    domain: tuple[float, float]


def uncertain_values(case: Case) -> list[Uncertain]:
    """Every number in ``case`` that has a range, in a stable order."""
    out: list[Uncertain] = []
    for label, path, value in walk_values(case):
        if value.range is None:
            continue
        lo, hi = value.range
        out.append(Uncertain(path, label, value.value, lo, hi, _domain(case, path)))
    return out


def _domain(case: Case, path: Path) -> tuple[float, float]:
    """The interval a value at ``path`` must stay in for the case to remain valid."""
    inf = float("inf")
    if path[0] == "issues" and path[-1] == "status_quo":
        scale = case.issues[int(path[1])].scale
        return scale.min, scale.max
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


def sample_unit(
    u: np.ndarray, params: list[Uncertain] | tuple[Uncertain, ...], distribution: str = "triangular"
) -> np.ndarray:
    """Map uniform numbers ``u`` ``(draws, P)`` to parameter values by inverse transform."""
    if distribution not in DISTRIBUTIONS:
        raise AllianceLabError(
            f"unknown distribution {distribution!r}; choose one of {', '.join(DISTRIBUTIONS)}",
            field="distribution",
        )
    lo = np.array([p.low for p in params], dtype=float)
    hi = np.array([p.high for p in params], dtype=float)
    mode = np.array([p.value for p in params], dtype=float)
    width = hi - lo
    if distribution == "uniform":
        x = lo + u * width
    else:
        safe = np.where(width > 0, width, 1.0)
        c = (mode - lo) / safe
        left = lo + np.sqrt(u * width * (mode - lo))
        right = hi - np.sqrt((1.0 - u) * width * (hi - mode))
        x = np.where(u < c, left, right)
    x = np.where(width > 0, x, mode)
    dlo = np.array([p.domain[0] for p in params], dtype=float)
    dhi = np.array([p.domain[1] for p in params], dtype=float)
    return np.clip(x, dlo, dhi)


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
    from ..formats.yaml_case import validate

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
    """Problems for every row of ``samples``, vectorised over draws."""
    base = Problem.from_case(case)
    m = int(samples.shape[0])
    n, d = base.position.shape
    actor_idx = {a: i for i, a in enumerate(base.actors)}
    issue_idx = {k: j for j, k in enumerate(base.issues)}
    cap = np.broadcast_to(base.capability, (m, n)).copy()
    pos = np.broadcast_to(base.position, (m, n, d)).copy()
    sal = np.broadcast_to(base.salience, (m, n, d)).copy()
    sq = np.broadcast_to(base.status_quo, (m, d)).copy()
    ppos = np.broadcast_to(base.perceived_position, (m, n, n, d)).copy()
    psal = np.broadcast_to(base.perceived_salience, (m, n, n, d)).copy()
    pcap = np.broadcast_to(base.perceived_capability, (m, n, n)).copy()
    # which perceived entries are the truth (no estimate stated) and so follow the draws
    own_pos = np.ones((n, n, d), dtype=bool)
    own_sal = np.ones((n, n, d), dtype=bool)
    own_cap = np.ones((n, n), dtype=bool)
    for i, actor in enumerate(case.actors):
        for other, est in actor.perceptions.estimates.items():
            j = actor_idx[other]
            for k in est.positions:
                own_pos[i, j, issue_idx[k]] = False
            for k in est.saliences:
                own_sal[i, j, issue_idx[k]] = False
            if est.capability is not None:
                own_cap[i, j] = False
    for p, col in zip(params, samples.T, strict=True):
        path = p.path
        if path[0] == "issues" and path[-1] == "status_quo":
            sq[:, int(path[1])] = col
            continue
        if path[0] != "actors":
            continue
        i = int(path[1])
        if path[2] == "capability":
            cap[:, i] = col
            truth = own_cap[:, i]
            pcap[:, truth, i] = col[:, None]
        elif path[2] in ("positions", "saliences"):
            ik = issue_idx[str(path[3])]
            arr, parr, own = (
                (pos, ppos, own_pos) if path[2] == "positions" else (sal, psal, own_sal)
            )
            arr[:, i, ik] = col
            truth = own[:, i, ik]
            parr[:, truth, i, ik] = col[:, None]
        elif path[2] == "perceptions" and path[3] == "estimates":
            j = actor_idx[str(path[4])]
            if path[5] == "capability":
                pcap[:, i, j] = col
            else:
                ik = issue_idx[str(path[6])]
                (ppos if path[5] == "positions" else psal)[:, i, j, ik] = col
    return [
        replace(
            base,
            capability=cap[r],
            position=pos[r],
            salience=sal[r],
            status_quo=sq[r],
            perceived_position=ppos[r],
            perceived_salience=psal[r],
            perceived_capability=pcap[r],
        )
        for r in range(m)
    ]


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
    "draw",
    "problems_from_samples",
    "quantile_bands",
    "sample_unit",
    "uncertain_values",
    "with_values",
]
