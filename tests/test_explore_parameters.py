"""Uncertainties, policies and samplers of the exploration layer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from alliancelab.core.errors import AllianceLabError
from alliancelab.explore import constants, policies, uncertainties
from alliancelab.explore.samplers import (
    DesignReader,
    experiment_seed,
    n_scenarios,
    root_sequence,
    sample,
    write_design,
)
from alliancelab.formats import read_case
from alliancelab.scenarios.parameters import KIND_OTHER, KIND_POS, case_with

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def case():
    return read_case(DATA / "explore_case.yaml")


def test_uncertainties_are_the_ranged_values(case):
    params = uncertainties(case, ["china_retaliation"])
    ranged = {p: v.range for p, v in case.values() if v.range is not None}
    assert [p.name for p in params[:-1]] == list(ranged)
    for p in params[:-1]:
        assert (p.low, p.high) == ranged[p.name]
    assert params[-1].name == "shock.china_retaliation" and params[-1].boolean
    by_name = {p.name: p for p in params}
    pos = by_name["actors.Seoul.positions.china_stance"]
    assert (pos.kind, pos.actor, pos.issue) == (KIND_POS, 2, 1)
    assert by_name["actors.White House.perceptions.threats.dprk"].kind == KIND_OTHER
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


def test_case_with_writes_values_back(case):
    new = case_with(case, {"actors.Seoul.positions.china_stance": 33.0,
                           "dynamics.adjustment_speed": 0.7})
    assert new.actor("Seoul").positions["china_stance"].value == 33.0
    assert new.dynamics["adjustment_speed"].value == 0.7
    assert new.actor("Seoul").positions["troops"] == case.actor("Seoul").positions["troops"]


@pytest.mark.parametrize("sampler", ["lhs", "mc", "sobol", "morris"])
def test_samples_lie_in_bounds_and_are_reproducible(case, sampler):
    params = uncertainties(case, ["china_retaliation"])
    x1 = sample(sampler, params, 16, root_sequence(7))
    x2 = sample(sampler, params, 16, root_sequence(7))
    x3 = sample(sampler, params, 16, root_sequence(8))
    assert x1.shape == (n_scenarios(sampler, 16, len(params)), len(params))
    np.testing.assert_array_equal(x1, x2)
    assert not np.array_equal(x1, x3)
    lo = np.array([p.low for p in params])
    hi = np.array([p.high for p in params])
    assert (x1 >= lo).all() and (x1 <= hi).all()


def test_lhs_has_one_point_per_stratum(case):
    params = uncertainties(case)
    n = 50
    x = sample("lhs", params, n, root_sequence(1))
    for p, par in enumerate(params):
        strata = np.floor((x[:, p] - par.low) / (par.high - par.low) * n).astype(int)
        assert sorted(strata) == list(range(n))


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
    write_design(path, "lhs", params, 40, root_sequence(3))
    reader = DesignReader(path)
    full = sample("lhs", params, 40, root_sequence(3))
    np.testing.assert_array_equal(reader.all(), full)
    np.testing.assert_array_equal(reader.rows(10, 17), full[10:17])
    np.testing.assert_array_equal(np.load(path), full)  # a standard .npy file
