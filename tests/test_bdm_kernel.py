"""The compiled ``bdm-scholz`` kernel against the all-NumPy formulation it replaced
(tests/bdm_numpy_reference.py): the same arithmetic in the same order, so the positions of
every round must be *identical* (``array_equal``, no tolerance) -- including exact position
ties, zero saliences and capabilities, both tie rules and q < 1. And the kernel's NumPy twin
(``_bdm_numpy``, the path of small inputs) against the compiled kernel: identical positions
and diagnostics."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import bdm_numpy_reference as ref
import numpy as np
import pytest

from alliancelab.models.bargaining import _bdm_numpy, bdm_scholz
from alliancelab.models.bargaining.bdm_scholz import simulate_batch


def _draws(seed: int, m: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    g = np.random.default_rng(seed)
    cap = g.uniform(0, 10, (m, n))
    pos = g.uniform(0, 100, (m, n))
    sal = g.uniform(0, 1, (m, n))
    grid = g.random(m) < 0.4  # coarse positions: many exact ties between actors
    pos[grid] = np.round(pos[grid] / 25) * 25
    cap[g.random((m, n)) < 0.05] = 0.0
    sal[g.random((m, n)) < 0.05] = 0.0
    return cap, pos, sal


@pytest.mark.parametrize("n", [2, 3, 7, 11])
@pytest.mark.parametrize("options", [{}, {"q": 0.7}, {"ties": "input-order", "tie_tol": 0.0}])
def test_compiled_kernel_gives_the_numpy_formulations_bits(n: int, options: dict) -> None:
    cap, pos, sal = _draws(n, 300, n)
    got = simulate_batch(cap, pos, sal, rounds=8, **options)
    want = ref.simulate(cap, pos, sal, rounds=8, q=options.get("q", 1.0),
                        tie_tol=options.get("tie_tol", 1e-14),
                        input_order=options.get("ties") == "input-order")
    assert np.array_equal(got, want)


def test_non_finite_inputs_are_rejected() -> None:
    cap, pos, sal = _draws(0, 4, 3)
    pos[1, 2] = np.nan
    with pytest.raises(ValueError, match="finite"):
        simulate_batch(cap, pos, sal)


@pytest.mark.parametrize("n", [2, 3, 7, 11])
@pytest.mark.parametrize("m", [1, 2, 9])
@pytest.mark.parametrize("options", [{}, {"q": 0.7}, {"ties": "input-order", "tie_tol": 0.0}])
def test_numpy_twin_gives_the_compiled_kernels_bits_and_diagnostics(
    n: int, m: int, options: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small blocks run in ``_bdm_numpy`` (no JIT), large ones in ``_bdm_kernel``: both give
    the same positions and every diagnostic (a, b, P, offers, proposers) to the last bit."""
    cap, pos, sal = _draws(10 * n + m, m, n)
    args = (8, options.get("q", 1.0), options.get("tie_tol", 1e-14), True,
            options.get("ties") == "input-order")
    monkeypatch.setattr(bdm_scholz, "JIT_MIN_ELEMENTS", 10**12)
    assert bdm_scholz._kernel(m, n) is _bdm_numpy
    pos_np, diag_np = bdm_scholz._run(cap, pos, sal, *args)
    monkeypatch.setattr(bdm_scholz, "JIT_MIN_ELEMENTS", 0)
    assert bdm_scholz._kernel(m, n) is not _bdm_numpy
    pos_jit, diag_jit = bdm_scholz._run(cap, pos, sal, *args)
    assert np.array_equal(pos_np, pos_jit)
    assert diag_np.keys() == diag_jit.keys()
    for key in diag_np:
        assert np.array_equal(diag_np[key], diag_jit[key], equal_nan=True), key


def test_a_single_small_forecast_does_not_import_numba() -> None:
    """The EC case (10 actors, one issue) is below ``JIT_MIN_ELEMENTS``: no Numba, no SciPy."""
    probe = ("import sys\nimport alliancelab\n"
             "alliancelab.forecast(alliancelab.read_case(sys.argv[1]), 'bdm-scholz')\n"
             "print(' '.join(m for m in ('numba', 'scipy') if m in sys.modules))")
    ec = Path(__file__).parent / "data" / "ec_emissions.csv"
    out = subprocess.run([sys.executable, "-c", probe, str(ec)], capture_output=True,
                         text=True, check=True, timeout=120).stdout.split()
    assert out == []


def test_threads_change_no_bit_and_keep_the_callers_time_limit() -> None:
    """The blocks of :func:`simulate_batch` run in threads (issue 15): any number of them
    gives the same bits, and a time limit of the caller (a context variable) holds in every
    thread."""
    from alliancelab.core import limits

    cap, pos, sal = _draws(5, 600, 10)  # above JIT_MIN_ELEMENTS per block: compiled kernel
    one = simulate_batch(cap, pos, sal, rounds=6, chunk=256, threads=1)
    assert np.array_equal(simulate_batch(cap, pos, sal, rounds=6, chunk=256, threads=2), one)
    assert np.array_equal(simulate_batch(cap, pos, sal, rounds=6, chunk=256), one)
    assert bdm_scholz._threads(3) == 3 and bdm_scholz._threads(None) >= 1
    with limits.deadline(0.0), pytest.raises(limits.WorkCancelled, match="time limit"):
        simulate_batch(cap, pos, sal, rounds=6, chunk=256, threads=2)
