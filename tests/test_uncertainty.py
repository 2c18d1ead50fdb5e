"""Monte Carlo over a case's stated ranges (alliancelab.scenarios.uncertainty)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from alliancelab import AllianceLabError, Problem, parse_case, read_case
from alliancelab.scenarios.uncertainty import draw, quantile_bands, uncertain_values

DATA = Path(__file__).parent / "data"
MINI = DATA / "mini_alliance.yaml"


@pytest.fixture(scope="module")
def mini():
    return read_case(MINI)


def test_uncertain_values_are_exactly_the_ranged_numbers(mini):
    ranged = {label for label, v in mini.values() if v.range is not None}
    params = uncertain_values(mini)
    assert {p.label for p in params} == ranged
    assert len(params) == 13
    for p in params:
        assert p.low <= p.value <= p.high


def test_draws_stay_in_range_and_domain(mini):
    d = draw(mini, 500, rng=1)
    assert d.samples.shape == (500, len(d.params))
    lo = np.array([p.low for p in d.params])
    hi = np.array([p.high for p in d.params])
    assert (d.samples >= lo).all() and (d.samples <= hi).all()
    # every parameter actually varies
    assert (d.samples.std(axis=0) > 0).all()


def test_same_seed_same_draws_other_seed_other_draws(mini):
    a, b, c = draw(mini, 50, rng=7), draw(mini, 50, rng=7), draw(mini, 50, rng=8)
    np.testing.assert_array_equal(a.samples, b.samples)
    assert not np.array_equal(a.samples, c.samples)
    assert a.seed == 7


@pytest.mark.parametrize(
    ("distribution", "mean"),
    [
        ("triangular", lambda lo, m, hi: (lo + m + hi) / 3),
        ("uniform", lambda lo, m, hi: (lo + hi) / 2),
    ],
)
def test_distribution_means(mini, distribution, mean):
    """Triangular with mode at the stated value has mean (lo + mode + hi) / 3; uniform
    (lo + hi) / 2 (checked to 4 standard errors)."""
    d = draw(mini, 20000, rng=3, distribution=distribution)
    for k, p in enumerate(d.params):
        col = d.samples[:, k]
        se = col.std() / np.sqrt(len(col))
        assert abs(col.mean() - mean(p.low, p.value, p.high)) < 4 * se + 1e-12, p.label


def test_triangular_mode_is_the_stated_value(mini):
    """The density peaks at the stated value: a narrow window around it holds more draws
    than equally wide windows at the ends of the range."""
    d = draw(mini, 40000, rng=4)
    k = [p.label for p in d.params].index("actors.US President.positions.troops")
    p, col = d.params[k], d.samples[:, k]
    w = 0.05 * (p.high - p.low)
    at_mode = np.mean(np.abs(col - p.value) < w / 2)
    at_low = np.mean(col < p.low + w)
    assert at_mode > 2 * at_low


def test_problems_match_problem_from_drawn_case(mini):
    """The vectorised problems equal Problem.from_case of each drawn case, including the
    perceived (estimated) arrays that follow the truth where no estimate is stated."""
    d = draw(mini, 25, rng=11)
    problems = d.problems()
    for i, fast in enumerate(problems):
        slow = Problem.from_case(d.case_at(i))
        for f in ("capability", "position", "salience", "status_quo", "perceived_position",
                  "perceived_salience", "perceived_capability"):
            np.testing.assert_allclose(getattr(fast, f), getattr(slow, f), err_msg=f)
    # an estimate stated in the case is not overwritten by the truth's draw
    us, rok = mini.actor_names.index("US President"), mini.actor_names.index("ROK President")
    k = mini.issue_names.index("china_stance")
    assert all(p.perceived_position[us, rok, k] == 40.0 for p in problems)
    assert len({p.position[rok, k] for p in problems}) > 1


def test_drawn_values_are_clipped_to_the_scale():
    text = """
name: clip
issues:
  - {name: x, scale: {min: 0, max: 100}}
actors:
  - name: A
    capability: 1
    positions: {x: {value: 95, range: [80, 140]}}
    saliences: {x: {value: 0.9, range: [0.5, 1.5]}}
  - name: B
    capability: 1
    positions: {x: 10}
    saliences: {x: 1}
"""
    case = parse_case(text)
    d = draw(case, 400, rng=2, distribution="uniform")
    assert d.samples[:, 0].max() <= 100 and d.samples[:, 0].max() == 100
    assert d.samples[:, 1].max() <= 1.0
    d.case_at(int(d.samples[:, 0].argmax()))  # still a valid case


def test_case_without_ranges_draws_the_case_itself():
    case = read_case(DATA / "ec_emissions.csv")
    d = draw(case, 3, rng=1)
    assert d.samples.shape == (3, 0)
    assert d.case_at(2) == case
    assert len(d.problems()) == 3


@pytest.mark.parametrize("n", [0, -1, 2.5, True])
def test_bad_draw_count(mini, n):
    with pytest.raises(AllianceLabError, match="draws"):
        draw(mini, n)


def test_bad_distribution(mini):
    with pytest.raises(AllianceLabError, match="distribution"):
        draw(mini, 5, distribution="normal")


def test_quantile_bands_ignore_nan():
    x = np.array([[1.0, np.nan], [2.0, np.nan], [3.0, np.nan]])
    q = quantile_bands(x)
    assert q.shape == (3, 2)
    np.testing.assert_allclose(q[:, 0], [1.1, 2.0, 2.9])
    assert np.isnan(q[:, 1]).all()
