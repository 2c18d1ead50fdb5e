"""The compiled ``bdm-scholz`` kernel against the all-NumPy formulation it replaced
(tests/bdm_numpy_reference.py): the same arithmetic in the same order, so the positions of
every round must be *identical* (``array_equal``, no tolerance) -- including exact position
ties, zero saliences and capabilities, both tie rules and q < 1."""

from __future__ import annotations

import bdm_numpy_reference as ref
import numpy as np
import pytest

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
