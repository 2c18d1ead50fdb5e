"""Samplers for the scenarios of an exploration, all seeded from one ``SeedSequence``.

Seeding (NumPy's ``SeedSequence.spawn`` tree): the root sequence of entropy ``E`` spawns
child 0 for the sampler and child 1 for the experiments; experiment ``e`` runs with
``SeedSequence(E, spawn_key=(1, e))``, which is exactly ``root.spawn(2)[1].spawn(N)[e]`` but
can be built in any worker without materialising ``N`` sequences.

Samplers (the design is in parameter units, uniform on each uncertainty's ``[low, high]``):

* ``lhs`` - Latin hypercube (M. D. McKay, R. J. Beckman & W. J. Conover, *Technometrics* 21,
  1979): column ``p`` is ``(perm_p + U) / n`` with its own generator ``spawn_key=(0, p)``. This
  is the algorithm of ``SALib.sample.latin``, written column by column so that a 10^6-row
  design is streamed to a file instead of held in memory;
* ``mc`` - plain Monte Carlo, column ``p`` from generator ``spawn_key=(0, p)``;
* ``sobol`` - Saltelli's scheme for Sobol indices, ``SALib.sample.sobol.sample`` (first and
  total order, ``calc_second_order=False``); ``n`` is rounded up to a power of two and the
  design has ``n (P + 2)`` rows (A. Saltelli et al., *Comput. Phys. Commun.* 181, 2010);
* ``morris`` - Morris trajectories, ``SALib.sample.morris.sample`` with 4 levels; ``n``
  trajectories, ``n (P + 1)`` rows (M. D. Morris, *Technometrics* 33, 1991).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from ..core.errors import AllianceLabError
from ..scenarios.parameters import Uncertainty

SAMPLERS = ("lhs", "sobol", "mc", "morris")
MORRIS_LEVELS = 4


def root_sequence(seed: int | None) -> np.random.SeedSequence:
    """The root of the seed tree (fresh OS entropy when ``seed`` is None)."""
    if seed is not None and (isinstance(seed, bool) or int(seed) < 0):
        raise AllianceLabError(f"must be a non-negative integer, got {seed!r}", field="seed")
    return np.random.SeedSequence(None if seed is None else int(seed))


def entropy_of(seq: np.random.SeedSequence) -> int:
    """The root entropy as one int (what the manifest records)."""
    ent = seq.entropy
    if not isinstance(ent, int | np.integer):
        raise ValueError("expected a SeedSequence with integer entropy")
    return int(ent)


def experiment_seed(entropy: int, experiment: int) -> np.random.SeedSequence:
    """Experiment ``experiment``'s seed: child ``experiment`` of the root's child 1."""
    return np.random.SeedSequence(entropy, spawn_key=(1, int(experiment)))


def salib_problem(params: Sequence[Uncertainty]) -> dict[str, object]:
    """The SALib problem dictionary for ``params``."""
    return {
        "num_vars": len(params),
        "names": [p.name for p in params],
        "bounds": [[p.low, p.high] if p.high > p.low else [p.low, p.low + 1e-12] for p in params],
    }


def base_samples(sampler: str, n: int) -> int:
    """The ``N`` SALib receives (Sobol needs a power of two)."""
    if sampler == "sobol":
        return 1 << max(int(n) - 1, 1).bit_length()
    return int(n)


def n_scenarios(sampler: str, n: int, n_params: int) -> int:
    """Rows of the design ``sampler`` produces for ``n`` requested samples."""
    check(sampler, n, n_params)
    if sampler == "sobol":
        return base_samples(sampler, n) * (n_params + 2)
    if sampler == "morris":
        return int(n) * (n_params + 1)
    return int(n)


def check(sampler: str, n: int, n_params: int) -> None:
    if sampler not in SAMPLERS:
        raise AllianceLabError(
            f"unknown sampler {sampler!r}; choose one of {', '.join(SAMPLERS)}", field="sampler"
        )
    if isinstance(n, bool) or int(n) < 1:
        raise AllianceLabError(f"must be a positive integer, got {n!r}", field="n")
    if sampler in ("sobol", "morris") and n_params < 1:
        raise AllianceLabError(
            f"the {sampler} sampler needs at least one uncertainty (a value with a range)",
            field="sampler",
        )
    if sampler == "morris" and int(n) < 2:
        raise AllianceLabError("morris needs at least 2 trajectories", field="n")


def _column(sampler: str, p: int, rows: int, entropy: int) -> np.ndarray:
    """Column ``p`` of an ``lhs`` or ``mc`` design on the unit interval."""
    g = np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=(0, p)))
    if sampler == "lhs":
        return (g.permutation(rows) + g.random(rows)) / rows
    return g.random(rows)


def _salib(sampler: str, params: Sequence[Uncertainty], n: int, entropy: int) -> np.ndarray:
    seed = int(np.random.SeedSequence(entropy, spawn_key=(0,)).generate_state(1)[0])
    problem = salib_problem(params)
    if sampler == "sobol":
        from SALib.sample import sobol

        return np.asarray(sobol.sample(problem, base_samples(sampler, n),
                                       calc_second_order=False, seed=seed))
    from SALib.sample import morris

    return np.asarray(morris.sample(problem, int(n), num_levels=MORRIS_LEVELS, seed=seed))


def sample(sampler: str, params: Sequence[Uncertainty], n: int,
           root: np.random.SeedSequence) -> np.ndarray:
    """The design ``(n_scenarios, P)`` in parameter units, in memory."""
    P = len(params)
    rows = n_scenarios(sampler, n, P)
    out = np.empty((rows, P), order="F")
    for p, col in _columns(sampler, params, n, rows, entropy_of(root)):
        out[:, p] = col
    return out


def _columns(sampler: str, params: Sequence[Uncertainty], n: int, rows: int,
             entropy: int) -> Iterator[tuple[int, np.ndarray]]:
    lo = np.array([p.low for p in params], dtype=float)
    width = np.array([p.high - p.low for p in params], dtype=float)
    if sampler in ("lhs", "mc"):
        for p in range(len(params)):
            yield p, lo[p] + width[p] * _column(sampler, p, rows, entropy)
    else:
        x = _salib(sampler, params, n, entropy)
        for p in range(len(params)):
            yield p, x[:, p] if width[p] > 0 else np.full(rows, lo[p])


def write_design(path: Path, sampler: str, params: Sequence[Uncertainty], n: int,
                 root: np.random.SeedSequence) -> None:
    """Stream the design to ``path`` (``.npy``, column-major, so each column is one
    contiguous write and memory stays at one column), atomically."""
    rows = n_scenarios(sampler, n, len(params))
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "wb") as fh:
        np.lib.format.write_array_header_2_0(
            fh, {"descr": "<f8", "fortran_order": True, "shape": (rows, len(params))})
        for _, col in _columns(sampler, params, n, rows, entropy_of(root)):
            fh.write(np.ascontiguousarray(col, dtype="<f8").tobytes())
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class DesignReader:
    """Reads rows of a column-major design file without mapping all of it."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        with open(self.path, "rb") as fh:
            version = np.lib.format.read_magic(fh)
            shape, fortran, dtype = (
                np.lib.format.read_array_header_2_0(fh) if version == (2, 0)
                else np.lib.format.read_array_header_1_0(fh))
            self.offset = fh.tell()
        if not fortran or dtype != np.dtype("<f8"):
            raise ValueError(f"{path}: expected a column-major float64 design")
        self.shape: tuple[int, int] = (int(shape[0]), int(shape[1]))

    def rows(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` as a C-ordered ``(stop - start, P)`` array."""
        n_rows, P = self.shape
        out = np.empty((stop - start, P))
        with open(self.path, "rb") as fh:
            for p in range(P):
                fh.seek(self.offset + 8 * (p * n_rows + start))
                out[:, p] = np.fromfile(fh, dtype="<f8", count=stop - start)
        return out

    def all(self) -> np.ndarray:
        return self.rows(0, self.shape[0])
