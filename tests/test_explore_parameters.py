"""Uncertainties, policies and samplers of the exploration layer: explore samples the
uncertain values of the one uncertainty system (alliancelab.scenarios.uncertainty) through
its inverse transforms."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

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
from alliancelab.scenarios.uncertainty import sample_unit, uncertain_values, with_values

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
@pytest.mark.parametrize("distribution", ["triangular", "uniform"])
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
