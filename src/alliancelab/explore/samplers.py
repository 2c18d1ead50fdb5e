"""Samplers for the scenarios of an exploration, all seeded from one ``SeedSequence``.

Seeding (NumPy's ``SeedSequence.spawn`` tree): the root sequence of entropy ``E`` spawns
child 0 for the sampler and child 1 for the experiments; experiment ``e`` runs with
``SeedSequence(E, spawn_key=(1, e))``, which is exactly ``root.spawn(2)[1].spawn(N)[e]`` but
can be built in any worker without materialising ``N`` sequences.

Every sampler makes a design on the unit hypercube, which is mapped to parameter values
column by column by the one uncertainty system's inverse transforms
(:func:`alliancelab.scenarios.uncertainty.sample_unit`: ``triangular`` by default, with its
mode at the stated value, as ``alliancelab run`` draws, or ``uniform``; on/off shocks keep
their uniform number). The stored design is in parameter units.

* ``lhs`` - Latin hypercube (M. D. McKay, R. J. Beckman & W. J. Conover, *Technometrics* 21,
  1979): unit column ``p`` is ``(perm_p + U) / n`` with its own generator
  ``spawn_key=(0, p)``. This is the algorithm of ``SALib.sample.latin``, written column by
  column so that a 10^6-row design is streamed to a file instead of held in memory;
* ``mc`` - plain Monte Carlo, unit column ``p`` from generator ``spawn_key=(0, p)``;
* ``sobol`` - Saltelli's scheme for Sobol indices, ``SALib.sample.sobol.sample`` (first and
  total order, ``calc_second_order=False``); ``n`` is rounded up to a power of two and the
  design has ``n (P + 2)`` rows (A. Saltelli et al., *Comput. Phys. Commun.* 181, 2010);
* ``morris`` - Morris trajectories with 4 levels, ``n`` trajectories, ``n (P + 1)`` rows
  (M. D. Morris, *Technometrics* 33, 1991): :func:`morris_design`, the design of
  ``SALib.sample.morris.sample`` (no groups, no trajectory optimisation) number for number,
  built without its P x P matrix products. The elementary effects are per step of the unit
  (probability) scale.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from ..analysis.sensitivity import MORRIS_LEVELS, salib_problem
from ..core.errors import AllianceLabError
from ..scenarios.uncertainty import Uncertain, check_distribution, sample_unit

SAMPLERS = ("lhs", "sobol", "mc", "morris")
#: rows of the unit design mapped to parameter values at once by :func:`sample`
SAMPLE_ROWS = 256


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


def _salib(sampler: str, P: int, n: int, entropy: int) -> np.ndarray:
    """A SALib design on the unit hypercube ``(rows, P)``."""
    seed = int(np.random.SeedSequence(entropy, spawn_key=(0,)).generate_state(1)[0])
    problem = salib_problem([f"x{p}" for p in range(P)])
    if sampler == "sobol":
        from SALib.sample import sobol as salib_sobol  # here: it loads scipy.stats (~0.4 s)

        return np.asarray(salib_sobol.sample(problem, base_samples(sampler, n),
                                             calc_second_order=False, seed=seed))
    return morris_design(P, int(n), seed)


def morris_design(P: int, trajectories: int, seed: int, levels: int = MORRIS_LEVELS
                  ) -> np.ndarray:
    """Morris's (1991) trajectories on the unit hypercube, ``(trajectories (P + 1), P)``:
    from a start ``x*`` on the grid ``{0, ..., 1 - delta}`` (``delta = levels / (2 (levels -
    1))``), the parameters move by ``delta`` one at a time in a random order, each up or
    down. This is Morris's ``B* = (J x* + delta/2 ((2 B - J) D* + J)) P*`` as
    ``SALib.sample.morris`` draws and computes it (the same generator calls in the same
    order: the permutation ``P*``, the directions ``D*``, then ``x*``), but with the product
    written out: row ``r`` moves parameter ``j`` when ``(pi(j) < r) == (d_j = +1)``, so a
    design of hundreds of parameters costs no P x P matrix products. Equal to SALib's
    design bit for bit (tests/test_explore_parameters.py)."""
    rng = np.random.default_rng(seed)
    delta = levels / (2.0 * (levels - 1))
    grid = np.linspace(0, 1 - delta, int(levels / 2))
    rows = np.arange(P + 1)[:, None]
    out = np.empty((trajectories, P + 1, P))
    for t in range(trajectories):
        # P*: row i is the unit vector of parameter pi[i]; shuffling the rows of the identity
        # draws what shuffling arange(P) draws (one Fisher-Yates swap per row)
        pi = np.arange(P)
        rng.shuffle(pi)
        up = rng.choice([-1, 1], P) == 1
        start = rng.choice(grid, P)
        moved = (pi[None, :] < rows) == up[None, :]
        out[t] = start[None, :] + (delta / 2.0) * np.where(moved, 2.0, 0.0)
    return out.reshape(trajectories * (P + 1), P)


def unit_design(sampler: str, P: int, n: int, entropy: int) -> np.ndarray:
    """The design on the unit interval, ``(rows, P)`` in memory: the columns of
    :func:`unit_columns`."""
    rows = n_scenarios(sampler, n, P)
    if sampler not in ("lhs", "mc"):
        return _salib(sampler, P, n, entropy)
    out = np.empty((rows, P))
    for p in range(P):
        out[:, p] = _column(sampler, p, rows, entropy)
    return out


def unit_columns(sampler: str, P: int, n: int, entropy: int) -> Iterator[tuple[int, np.ndarray]]:
    """The design's columns on the unit interval, one at a time (``lhs``/``mc`` never hold
    more than one column in memory)."""
    rows = n_scenarios(sampler, n, P)
    if sampler in ("lhs", "mc"):
        for p in range(P):
            yield p, _column(sampler, p, rows, entropy)
    else:
        x = _salib(sampler, P, n, entropy)
        for p in range(P):
            yield p, x[:, p]


def _columns(sampler: str, params: Sequence[Uncertain], n: int, entropy: int,
             distribution: str) -> Iterator[tuple[int, np.ndarray]]:
    """The design's columns in parameter units (:func:`sample_unit` of each unit column)."""
    check_distribution(distribution)
    for p, u in unit_columns(sampler, len(params), n, entropy):
        yield p, sample_unit(u[:, None], [params[p]], distribution)[:, 0]


def sample(sampler: str, params: Sequence[Uncertain], n: int, root: np.random.SeedSequence,
           distribution: str = "triangular") -> np.ndarray:
    """The design ``(n_scenarios, P)`` in parameter units, in memory: the numbers of
    :func:`write_design` (:func:`sample_unit` maps each number on its own)."""
    check_distribution(distribution)
    out = unit_design(sampler, len(params), n, entropy_of(root))
    for start in range(0, len(out), SAMPLE_ROWS):  # blocks that stay in the cache
        block = out[start:start + SAMPLE_ROWS]
        block[:] = sample_unit(block, list(params), distribution)
    return out


def _header(rows: int, P: int) -> bytes:
    """The ``.npy`` header of a column-major float64 design ``(rows, P)``."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_2_0(
        buf, {"descr": "<f8", "fortran_order": True, "shape": (rows, P)})
    return buf.getvalue()


def design_sha256(design: np.ndarray) -> str:
    """SHA-256 of the file :func:`write_design` writes for ``design`` (what a store's
    manifest records)."""
    h = hashlib.sha256(_header(*design.shape))
    for p in range(design.shape[1]):  # column by column, as written
        h.update(np.ascontiguousarray(design[:, p], dtype="<f8").tobytes())
    return h.hexdigest()


def write_design(path: Path, sampler: str, params: Sequence[Uncertain], n: int,
                 root: np.random.SeedSequence, distribution: str = "triangular") -> None:
    """Stream the design to ``path`` (``.npy``, column-major, so each column is one
    contiguous write and memory stays at one column), atomically."""
    rows = n_scenarios(sampler, n, len(params))
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "wb") as fh:
        fh.write(_header(rows, len(params)))
        for _, col in _columns(sampler, params, n, entropy_of(root), distribution):
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
