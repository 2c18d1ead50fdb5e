"""Uncertainties, policies and samplers of the exploration layer: explore samples the
uncertain values of the one uncertainty system (alliancelab.scenarios.uncertainty) through
its inverse transforms."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from alliancelab.core.errors import AllianceLabError
from alliancelab.explore import constants, policies, uncertainties
from alliancelab.explore.samplers import (
    DesignReader,
    entropy_of,
    experiment_seed,
    n_scenarios,
    root_sequence,
    sample,
    unit_columns,
    write_design,
)
from alliancelab.formats import read_case
from alliancelab.scenarios.uncertainty import (
    DISTRIBUTIONS,
    NORMAL_SPAN,
    sample_unit,
    select,
    uncertain_values,
    with_values,
)

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def case():
    return read_case(DATA / "explore_case.yaml")


def test_uncertainties_are_the_ranged_values(case):
    params = uncertainties(case, ["china_retaliation"])
    ranged = {p: v.range for p, v in case.values() if v.range is not None}
    assert [p.label for p in params[:-1]] == list(ranged)
    assert params[:-1] == uncertain_values(case)  # the one uncertainty system
    for p in params[:-1]:
        assert (p.low, p.high) == ranged[p.label] and not p.boolean
    assert params[-1].label == "shock.china_retaliation" and params[-1].boolean
    assert "actors.White House.perceptions.threats.dprk" in ranged
    # constants are the rest, and the two together are every number of the case
    assert len(constants(case)) + len(params) - 1 == len(list(case.values()))


def test_policies_and_unknown_names(case):
    pols = policies(case, ["sustained_presence", "common_vision+consultation"])
    assert [p.name for p in pols] == ["none", "sustained_presence", "common_vision+consultation"]
    assert pols[2].levers == ("common_vision", "consultation")
    with pytest.raises(AllianceLabError, match="unknown lever 'nope'"):
        policies(case, ["nope"])
    with pytest.raises(AllianceLabError, match="unknown shock 'nope'"):
        uncertainties(case, ["nope"])


def test_with_values_writes_values_back(case):
    params = [p for p in uncertainties(case) if p.label in (
        "actors.Seoul.positions.china_stance", "dynamics.adjustment_speed")]
    new = with_values(case, params, [33.0, 0.7])
    assert new.actor("Seoul").positions["china_stance"].value == 33.0
    assert new.dynamics["adjustment_speed"].value == 0.7
    assert new.actor("Seoul").positions["troops"] == case.actor("Seoul").positions["troops"]


@pytest.mark.parametrize("sampler", ["lhs", "mc", "sobol", "morris"])
@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_samples_are_the_unit_design_through_the_inverse_transforms(case, sampler,
                                                                    distribution):
    params = uncertainties(case, ["china_retaliation"])
    x1 = sample(sampler, params, 16, root_sequence(7), distribution)
    x2 = sample(sampler, params, 16, root_sequence(7), distribution)
    x3 = sample(sampler, params, 16, root_sequence(8), distribution)
    assert x1.shape == (n_scenarios(sampler, 16, len(params)), len(params))
    np.testing.assert_array_equal(x1, x2)
    assert not np.array_equal(x1, x3)
    lo = np.array([p.low for p in params])
    hi = np.array([p.high for p in params])
    assert (x1 >= lo).all() and (x1 <= hi).all()
    unit = np.column_stack([u for _, u in unit_columns(sampler, len(params), 16,
                                                       entropy_of(root_sequence(7)))])
    assert (unit >= 0).all() and (unit <= 1).all()
    np.testing.assert_array_equal(x1, sample_unit(unit, params, distribution))
    np.testing.assert_array_equal(x1[:, -1], unit[:, -1])  # the shock stays on 0-1


def test_the_default_distribution_is_run_s_triangular(case):
    """explore samples as alliancelab run draws: triangular with the mode at the stated
    value (its mean (low + mode + high) / 3), not uniform."""
    params = uncertainties(case)
    x = sample("mc", params, 20_000, root_sequence(2))
    k = [p.label for p in params].index("actors.White House.positions.troops")
    p = params[k]
    se = x[:, k].std() / np.sqrt(len(x))
    assert abs(x[:, k].mean() - (p.low + p.value + p.high) / 3) < 4 * se
    assert abs(x[:, k].mean() - (p.low + p.high) / 2) > 10 * se


def test_lhs_has_one_point_per_stratum(case):
    params = uncertainties(case)
    n = 50
    for p, u in unit_columns("lhs", len(params), n, 1):
        assert sorted(np.floor(u * n).astype(int)) == list(range(n)), params[p].label


def test_sample_sizes():
    assert n_scenarios("sobol", 100, 5) == 128 * 7  # rounded up to a power of two
    assert n_scenarios("morris", 10, 5) == 60
    assert n_scenarios("lhs", 10, 5) == 10
    with pytest.raises(AllianceLabError, match="unknown sampler"):
        n_scenarios("grid", 10, 5)


def test_experiment_seeds_are_spawned_children():
    root = root_sequence(123)
    children = root.spawn(2)[1].spawn(5)
    for e, child in enumerate(children):
        ours = experiment_seed(int(root.entropy), e)
        np.testing.assert_array_equal(ours.generate_state(4), child.generate_state(4))


def test_design_file_round_trip(case, tmp_path):
    params = uncertainties(case, ["china_retaliation"])
    path = tmp_path / "design.npy"
    write_design(path, "lhs", params, 40, root_sequence(3), "uniform")
    reader = DesignReader(path)
    full = sample("lhs", params, 40, root_sequence(3), "uniform")
    np.testing.assert_array_equal(reader.all(), full)
    np.testing.assert_array_equal(reader.rows(10, 17), full[10:17])
    np.testing.assert_array_equal(np.load(path), full)  # a standard .npy file


# -- distributions (issue 14): each marginal of the design is the distribution asked for ----

LABEL = "actors.White House.positions.troops"  # value 20000 on [15000, 28500]: skewed


def _reference(distribution: str, lo: float, hi: float, mode: float):
    """The frozen scipy distribution each name stands for (module docstring of
    alliancelab.scenarios.uncertainty)."""
    w = hi - lo
    if distribution == "uniform":
        return stats.uniform(lo, w)
    if distribution == "triangular":
        return stats.triang((mode - lo) / w, loc=lo, scale=w)
    if distribution == "pert":
        return stats.beta(1 + 4 * (mode - lo) / w, 1 + 4 * (hi - mode) / w, loc=lo, scale=w)
    sigma = w / NORMAL_SPAN
    return stats.truncnorm((lo - mode) / sigma, (hi - mode) / sigma, loc=mode, scale=sigma)


@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_design_marginals_follow_the_distribution(case, distribution):
    """Kolmogorov-Smirnov of a 4000-row Monte Carlo design's column against the named
    distribution (seeded, so the p-value is fixed; 0.01 would flag a wrong shape or a wrong
    parameter: the KS distance of uniform vs triangular here is about 0.2, p ~ 1e-100)."""
    params = uncertainties(case)
    k = [p.label for p in params].index(LABEL)
    p = params[k]
    x = sample("mc", params, 4000, root_sequence(11), distribution)[:, k]
    ref = _reference(distribution, p.low, p.high, p.value)
    assert stats.kstest(x, ref.cdf).pvalue > 0.01
    for other in DISTRIBUTIONS:
        if other != distribution:
            wrong = _reference(other, p.low, p.high, p.value)
            assert stats.kstest(x, wrong.cdf).pvalue < 1e-6, other


def test_pert_and_truncnorm_moments_match_their_closed_forms(case):
    """Independent of scipy's quantile functions: beta-PERT's mean (low + 4 mode + high) / 6
    and variance (mean - low)(high - mean) / 7; the truncated normal's mean
    mode + sigma (phi(a) - phi(b)) / (Phi(b) - Phi(a)). Tolerance: 4 standard errors of
    a 20000-draw mean, 5% on the variance."""
    params = [p for p in uncertainties(case) if p.label == LABEL]
    p = params[0]
    u = np.random.default_rng(5).random((20_000, 1))
    pert = sample_unit(u, params, "pert")[:, 0]
    mean = (p.low + 4 * p.value + p.high) / 6
    assert abs(pert.mean() - mean) < 4 * pert.std() / np.sqrt(len(pert))
    assert pert.var() == pytest.approx((mean - p.low) * (p.high - mean) / 7, rel=0.05)
    tn = sample_unit(u, params, "truncnorm")[:, 0]
    sigma = (p.high - p.low) / NORMAL_SPAN
    a, b = (p.low - p.value) / sigma, (p.high - p.value) / sigma
    phi = np.exp(-0.5 * np.array([a, b]) ** 2) / np.sqrt(2 * np.pi)
    cdf = 0.5 * (1 + np.array([math.erf(a / math.sqrt(2)), math.erf(b / math.sqrt(2))]))
    expected = p.value + sigma * (phi[0] - phi[1]) / (cdf[1] - cdf[0])
    assert abs(tn.mean() - expected) < 4 * tn.std() / np.sqrt(len(tn))
    assert (tn >= p.low).all() and (tn <= p.high).all()


def test_an_unknown_distribution_is_one_line(case):
    with pytest.raises(AllianceLabError, match="unknown distribution 'lognormal'; choose one"):
        sample("lhs", uncertainties(case), 4, root_sequence(1), "lognormal")


def test_counts_are_drawn_as_whole_numbers():
    """The dynamics' ``rounds`` is a count: drawn values are rounded, so a drawn case
    stays valid (rounds must be a whole number)."""
    full = read_case("us_rok_2025")
    params = [p for p in uncertain_values(full) if p.label == "dynamics.rounds"]
    assert params and params[0].integer
    for distribution in DISTRIBUTIONS:
        x = sample("mc", params, 200, root_sequence(4), distribution)[:, 0]
        assert (x == np.round(x)).all() and len(set(x)) > 3
        with_values(full, params, x[:1])  # validates


# -- include / exclude ------------------------------------------------------------------------


def test_include_and_exclude_select_by_glob(case):
    every = [p.label for p in uncertain_values(case)]
    caps = [p.label for p in uncertainties(case, include=["actors.*.capability"])]
    assert caps == [label for label in every if label.endswith(".capability")] and caps
    rest = uncertainties(case, ["china_retaliation"], exclude=["actors.*.capability"])
    assert [p.label for p in rest[:-1]] == [x for x in every if x not in caps]
    assert rest[-1].label == "shock.china_retaliation"  # shocks are named, never filtered
    both = select(uncertain_values(case), include=["actors.*"], exclude=["*.capability"])
    assert all(p.label.startswith("actors.") and not p.label.endswith("capability")
               for p in both)
    for field in ("include", "exclude"):
        with pytest.raises(AllianceLabError, match=f"{field}: pattern 'actors.*.capabilty' "
                                                   "matches no ranged value"):
            uncertainties(case, **{field: ["actors.*.capabilty"]})


def test_excluded_uncertainties_stay_at_their_value(case, tmp_path):
    """explore(..., exclude=...) leaves the excluded values out of the design, so every
    experiment's problem carries the stated capabilities while the positions vary."""
    from alliancelab.core.problem import Problem
    from alliancelab.explore import explore
    from alliancelab.explore.model import ExperimentModel

    ex = explore(case, n=8, models=("compromise",), seed=2, store=tmp_path,
                 exclude=["actors.*.capability"], distribution="pert")
    assert not [p for p in ex.parameters if p.endswith(".capability")]
    assert ex.manifest["exclude"] == ["actors.*.capability"]
    assert ex.manifest["distribution"] == "pert"
    params = uncertainties(case, exclude=["actors.*.capability"])
    assert ex.parameters == [p.label for p in params]
    model = ExperimentModel.build(case, params, policies(case, []), models=("compromise",))
    problems = model.batch(np.arange(8), ex.design()).problems()
    base = Problem.from_case(case)
    for prob in problems:
        np.testing.assert_array_equal(prob.capability, base.capability)
    assert len({tuple(p.position.ravel()) for p in problems}) == 8


def test_explore_command_takes_distribution_include_and_exclude(tmp_path, capsys):
    from alliancelab.cli import main
    from alliancelab.explore import Exploration

    store = tmp_path / "st"
    assert main(["explore", str(DATA / "explore_case.yaml"), "--n", "4", "--models",
                 "compromise", "--distribution", "truncnorm", "--include", "actors.*",
                 "--exclude", "*.capability", "--store", str(store)]) == 0
    ex = Exploration(store)
    assert ex.manifest["distribution"] == "truncnorm"
    assert (ex.manifest["include"], ex.manifest["exclude"]) == (["actors.*"], ["*.capability"])
    assert ex.parameters and all(p.startswith("actors.") and not p.endswith(".capability")
                                 for p in ex.parameters)
    capsys.readouterr()
    assert main(["explore", str(DATA / "explore_case.yaml"), "--n", "4", "--exclude",
                 "nothing.*", "--store", str(tmp_path / "other")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "matches no ranged value" in err, err


@pytest.mark.parametrize("n_params", [1, 2, 7, 60])
@pytest.mark.parametrize("seed", [0, 7, 2**31 - 1])
def test_the_morris_design_is_salibs_bit_for_bit(n_params: int, seed: int) -> None:
    """:func:`morris_design` writes out the product of SALib's Morris sampler (same draws,
    same order): every trajectory equal bit for bit, and each row moves one parameter by
    delta = 2/3 from the last."""
    from SALib.sample import morris as salib_morris

    from alliancelab.analysis.sensitivity import MORRIS_LEVELS, salib_problem
    from alliancelab.explore.samplers import morris_design

    names = [f"x{i}" for i in range(n_params)]
    want = np.asarray(salib_morris.sample(salib_problem(names), 5, num_levels=MORRIS_LEVELS,
                                          seed=seed))
    got = morris_design(n_params, 5, seed)
    assert got.shape == want.shape == (5 * (n_params + 1), n_params)
    assert got.tobytes() == want.tobytes()
    steps = np.diff(got.reshape(5, n_params + 1, n_params), axis=1)
    assert ((steps != 0).sum(axis=2) == 1).all()
    assert np.allclose(np.abs(steps).sum(axis=2), 2.0 / 3.0)


def test_the_design_in_memory_is_the_written_one(case, tmp_path):
    """samplers.sample and design_sha256 (the sweep held in memory): the numbers and the
    SHA-256 of the file write_design writes, for every sampler."""
    from alliancelab.explore.samplers import design_sha256
    from alliancelab.explore.store import file_sha256

    params = uncertainties(case, ["china_retaliation"])
    for sampler, n in (("lhs", 40), ("mc", 30), ("morris", 4), ("sobol", 8)):
        path = tmp_path / f"{sampler}.npy"
        write_design(path, sampler, params, n, root_sequence(3))
        got = sample(sampler, params, n, root_sequence(3))
        assert np.array_equal(got, np.load(path))
        assert design_sha256(got) == file_sha256(path)
