"""``bdm``'s batched kernel: ``BDM._solve_batch`` plays each issue for all the problems of a
batch at once, and must give every problem the forecast of :meth:`BDM._solve` bit for bit,
however the problems are batched (the Monte Carlo is chunked across worker processes):
perceptions, partial standing and influence weights, every range mode and offer rule, and
at least 9 actors (where NumPy's pairwise summation would show a changed reduction order)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alliancelab.cases import resolve_case
from alliancelab.core.problem import Problem, normalise_all
from alliancelab.formats import read_case
from alliancelab.models.bargaining import bdm as bdm_module
from alliancelab.models.bargaining.bdm import BDM, RANGE_MODES, SELECTIONS
from alliancelab.models.bargaining.median import weighted_median
from alliancelab.scenarios.uncertainty import draw
from alliancelab.testing import problems as problem_strategy

OPTIONS = [{"range_mode": r, "offer_selection": o} for r in RANGE_MODES for o in SELECTIONS]


def _loop(engine: BDM, problems: Sequence[Problem]) -> np.ndarray:
    return np.array([engine._solve(p, np.random.default_rng(0)).forecast for p in problems])


def _batch(engine: BDM, problems: Sequence[Problem]) -> np.ndarray:
    return engine._solve_batch(problems, [np.random.default_rng(0) for _ in problems])


def _assert_batched_like_the_loop(engine: BDM, problems: Sequence[Problem],
                                  g: np.random.Generator) -> None:
    """The whole batch, then a shuffled batch cut into random chunks, against the loop."""
    problems = normalise_all(problems)
    loop = _loop(engine, problems)
    whole = _batch(engine, problems)
    assert whole.shape == loop.shape
    np.testing.assert_array_equal(whole, loop)
    assert whole.tobytes() == loop.tobytes()  # the sign of zeros too
    order = g.permutation(len(problems))
    cuts = np.sort(g.choice(np.arange(1, len(problems)), size=min(2, len(problems) - 1),
                            replace=False)) if len(problems) > 1 else []
    parts = np.split(order, cuts)
    pieces = np.empty_like(whole)
    for part in parts:
        pieces[part] = _batch(engine, [problems[i] for i in part])
    assert pieces.tobytes() == whole.tobytes()


def _random_problem(g: np.random.Generator, n: int, d: int) -> Problem:
    """Positions, capabilities, saliences; issues with partial standing, influencers or one
    participant; some actors misperceive others' positions, saliences or capabilities."""
    weight = np.ones((n, d))
    for k in range(d):
        kind = k % 4
        if kind == 1:
            weight[g.random(n) < 0.4, k] = 0.0
        elif kind == 2:
            some = g.random(n) < 0.4
            weight[some, k] = g.uniform(0.1, 0.9, some.sum())
        elif kind == 3 and g.random() < 0.5:
            weight[:, k] = 0.0
        weight[g.integers(n), k] = 1.0  # at least one actor with standing
    p = Problem.from_arrays(g.uniform(0.01, 10.0, n), g.choice([0.0, 30.0, 50.0], (n, d))
                            if g.random() < 0.2 else g.uniform(0.0, 100.0, (n, d)),
                            g.uniform(0.05, 1.0, (n, d)), weight=weight)
    ppos, psal = p.perceived_position.copy(), p.perceived_salience.copy()
    pcap = p.perceived_capability.copy()
    for i in g.choice(n, size=n // 2, replace=False):
        j, k = g.integers(n), g.integers(d)
        ppos[i, j, k] = g.uniform(-10.0, 110.0)
        psal[i, j, k] = g.uniform(0.0, 1.0)
        pcap[i, j] = g.uniform(0.01, 10.0)
    return replace(p, perceived_position=ppos, perceived_salience=psal, perceived_capability=pcap)


def _draws(base: Problem, g: np.random.Generator, m: int) -> list[Problem]:
    """Monte Carlo-like variants of ``base``: new positions and capabilities (estimates
    moved along), the same standing; every third draw without misperceptions."""
    out = []
    n, d = base.position.shape
    for r in range(m):
        pos = np.clip(base.position + g.normal(0.0, 8.0, (n, d)), 0.0, 100.0)
        cap = base.capability * g.uniform(0.7, 1.3, n)
        if r % 3 == 2:
            out.append(Problem.from_arrays(cap, pos, base.salience, weight=base.weight))
            continue
        out.append(replace(
            base, position=pos, capability=cap,
            perceived_position=base.perceived_position + (pos - base.position)[None],
            perceived_capability=base.perceived_capability * (cap / base.capability)[None]))
    return out


@pytest.mark.parametrize("options", OPTIONS + [{"q": 0.5, "rounds": 4}, {"tie_tol": 0.0}])
def test_random_batches_with_perceptions_and_arenas(options: dict) -> None:
    g = np.random.default_rng(11)
    engine = BDM(**options)
    for n in (9, 12):
        base = _random_problem(g, n, 4)
        _assert_batched_like_the_loop(engine, _draws(base, g, 8), g)


def test_problems_of_different_standing_and_numbers_in_one_batch() -> None:
    """Problems of the same actors and issues but unrelated numbers and standing."""
    g = np.random.default_rng(5)
    problems = [_random_problem(g, 10, 3) for _ in range(9)]
    names = (problems[0].actors, problems[0].issues)
    problems = [replace(p, actors=names[0], issues=names[1]) for p in problems]
    for options in ({}, {"range_mode": "scale", "offer_selection": "enforceability"}):
        _assert_batched_like_the_loop(BDM(**options), problems, g)


@pytest.mark.parametrize("options", OPTIONS)
def test_shipped_case_draws(options: dict) -> None:
    """The main job's batches: Monte Carlo draws of us_rok_2025 (11 actors, 13 issues,
    arenas and estimates)."""
    case = read_case(resolve_case("us_rok_2025", strict=True))
    problems = draw(case, 5, rng=3).problems()
    _assert_batched_like_the_loop(BDM(**options), problems, np.random.default_rng(1))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem_strategy(min_actors=2, max_actors=10, max_issues=3, estimates=True),
       st.sampled_from(OPTIONS), st.integers(0, 2**32 - 1))
def test_generated_problems(problem: Problem, options: dict, seed: int) -> None:
    g = np.random.default_rng(seed)
    n, d = problem.position.shape
    weight = np.where(g.random((n, d)) < 0.3, 0.0, 1.0)
    weight[0] = 1.0
    problems = [problem, replace(problem, weight=weight), *_draws(problem, g, 3)]
    _assert_batched_like_the_loop(BDM(**options), problems, g)


def test_one_checkpoint_per_round(monkeypatch: pytest.MonkeyPatch) -> None:
    """``checkpoint`` once per round of every batched bargaining, which plays each issue
    for each set of participants (issues with fewer than two participants have no rounds)."""
    calls, played = [], []
    monkeypatch.setattr(bdm_module, "checkpoint", lambda: calls.append(1))
    bargain = BDM._bargain

    def counted(self: BDM, *args: Any, **kwargs: Any) -> Any:
        played.append(len(args[0]))  # the problems played together
        return bargain(self, *args, **kwargs)

    monkeypatch.setattr(BDM, "_bargain", counted)
    g = np.random.default_rng(3)
    base = _random_problem(g, 9, 4)
    problems = _draws(base, g, 6)
    other = base.weight.copy()
    other[:, 1] = 1.0
    problems.append(replace(problems[0], weight=other))
    engine = BDM(rounds=3)
    engine._solve_batch(problems, [np.random.default_rng(0)] * len(problems))
    groups = sum(len({tuple(p.standing[:, k]) for p in problems if p.standing[:, k].sum() >= 2})
                 for k in range(4))
    assert len(played) >= groups
    assert len(calls) == 3 * len(played)
    # every issue of every problem is played, once for problems with the same inputs on it
    # (the last problem is the first with one issue's weights changed)
    assert sum(played) == sum(len({_issue_inputs(p, k) for p in problems
                                   if p.standing[:, k].sum() >= 2}) for k in range(4))
    assert sum(played) < sum(int((p.standing.sum(axis=0) >= 2).sum()) for p in problems)
    calls.clear()
    played.clear()
    engine._solve(problems[-1], np.random.default_rng(0))
    assert played == [1] * int((problems[-1].standing.sum(axis=0) >= 2).sum())
    assert len(calls) == 3 * len(played)


def _whole_worlds(x: np.ndarray, c: np.ndarray, s: np.ndarray, big_r: np.ndarray
                  ) -> tuple[np.ndarray, ...]:
    """Reference: every pair (i, j) of every world ``(W, n)`` (the formulation of the
    kernel before issue batching: the votes summed over axis 1 of a ``(w, k, i, j)``
    tensor)."""
    w_ = c * s
    dead = w_.sum(axis=1) <= 0
    w_ = np.where(dead[:, None], np.where(c.sum(axis=1, keepdims=True) > 0, c, 1.0), w_)
    mu = weighted_median(x.T, w_.T)
    adx = np.abs(x[:, :, None] - x[:, None, :])
    arg = adx[:, :, None, :] - adx[:, :, :, None]
    wk = (c * s)[:, :, None, None]
    num = (wk * np.maximum(arg, 0.0)).sum(axis=1)
    den = (wk * np.abs(arg)).sum(axis=1)
    prob = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.5)
    dmu = np.abs(x - mu[:, None])
    tee = (dmu[:, :, None] < adx).astype(float)
    return adx / big_r[:, None, None], (dmu / big_r[:, None])[:, :, None], prob, tee


@pytest.mark.parametrize("n", [2, 5, 9, 13, 17])
def test_views_and_security_equal_the_whole_worlds(n: int) -> None:
    """Row i and column i of world i, and the security levels, bit for bit as computed
    from the whole worlds, alone or stacked with other problems."""
    g = np.random.default_rng(n)
    eye = np.arange(n)
    x = g.uniform(0.0, 100.0, (n, n))
    x[:, 1] = x[:, 0]  # a tie
    c, s = g.uniform(0.0, 5.0, (n, n)), g.uniform(0.0, 1.0, (n, n))
    s[0] = 0.0
    big_r = np.ptp(x, axis=1)
    big_r = np.where(big_r > 0, big_r, 1.0)  # as the kernel does
    d, dmu, prob, tee = _whole_worlds(x, c, s, big_r)
    eu1 = bdm_module._expected(d, dmu, prob, tee, s[:, None, :], np.ones((n, n, 1)), 0.5)
    sec = np.array([eu1[i, :, i].sum() - eu1[i, i, i] for i in range(n)])
    other = g.uniform(0.0, 100.0, (2, n, n))
    for pos in (0, 1):
        stack = [np.insert(other, pos, v, axis=0)
                 for v in (x, c, s)]
        row, col = bdm_module._views(*stack, np.insert(np.ptp(other, axis=-1), pos, big_r, 0))
        np.testing.assert_array_equal(row[0][pos], d[eye, eye])
        np.testing.assert_array_equal(row[1][pos], dmu[eye, eye])
        for got, whole in zip((row[2], row[3]), (prob, tee), strict=True):
            np.testing.assert_array_equal(got[pos], whole[eye, eye])
        for got, whole in zip((col[0], col[2], col[3]), (d, prob, tee), strict=True):
            np.testing.assert_array_equal(got[pos], whole[eye, :, eye])
        np.testing.assert_array_equal(col[1][pos], dmu[:, :, 0])
        s_own = stack[2][:, eye, eye][..., None]
        got_sec = bdm_module._security(col, s_own, 0.5)[pos]
        assert got_sec.tobytes() == sec.tobytes()
    # one world for all (nobody misperceives): world 1's pairs (world 0 has no votes),
    # transposed in the columns
    d, dmu, prob, tee = _whole_worlds(x[1:2], c[1:2], s[1:2], big_r[1:2])
    eu1 = bdm_module._expected(d, dmu, prob, tee, s[1:2, None, :], np.ones((1, n, 1)), 0.5)
    sec = np.array([eu1[0, :, i].sum() - eu1[0, i, i] for i in range(n)])
    row, col = bdm_module._views(x[None, 1:2], c[None, 1:2], s[None, 1:2], big_r[None, 1:2])
    for got, whole in zip(row, (d, dmu, prob, tee), strict=True):
        assert got.shape == whole.shape
        np.testing.assert_array_equal(got, whole)
    for got, whole in zip((col[0], col[2], col[3]), (d, prob, tee), strict=True):
        np.testing.assert_array_equal(got[0], whole[0].T)
    np.testing.assert_array_equal(col[1][0, 0], dmu[0, :, 0])
    got_sec = bdm_module._security(col, s[1:2, :, None], 0.5)
    assert got_sec[0].tobytes() == sec.tobytes()


def test_empty_batch() -> None:
    assert BDM()._solve_batch([], []).shape == (0, 0)


def _issue_inputs(p: Problem, k: int) -> tuple[bytes, ...]:
    """Every input of issue ``k`` of ``p``, as bits."""
    return tuple(np.ascontiguousarray(a, dtype=float).tobytes() for a in (
        p.position[:, k], p.salience[:, k], p.weight[:, k], p.capability,
        p.perceived_capability, p.perceived_position[..., k], p.perceived_salience[..., k],
        p.lower[k], p.upper[k]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem_strategy(min_actors=2, max_actors=8, max_issues=4, estimates=True),
       st.integers(0, 2**32 - 1))
def test_problems_sharing_issues(problem: Problem, seed: int) -> None:
    """Variants that leave some issues as they were (as the effects' scenarios do), exact
    copies, and a copy with a -0.0 where the original has 0.0: each issue played once per
    distinct inputs, every forecast the loop's to the last bit."""
    g = np.random.default_rng(seed)
    n, d = problem.position.shape
    variants = [problem, problem]
    for _ in range(4):
        k = int(g.integers(d))
        pos = problem.position.copy()
        pos[:, k] = np.clip(pos[:, k] + g.normal(0.0, 10.0, n), problem.lower[k],
                            problem.upper[k])
        variants.append(replace(problem, position=pos))
    sal = problem.salience.copy()
    sal[:, int(g.integers(d))] *= g.uniform(0.5, 1.0)
    variants.append(replace(problem, salience=sal))
    zeros = problem.position.copy()
    zeros[zeros == 0.0] = -0.0
    variants.append(replace(problem, position=zeros))
    _assert_batched_like_the_loop(BDM(), variants, g)
