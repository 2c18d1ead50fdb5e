"""The multi-round simulation: each mechanism against its formula on small cases, the
contract of :class:`Simulation`, determinism and speed on the shipped case."""

from __future__ import annotations

import dataclasses
import importlib.util
import time
from typing import Any

import numpy as np
import pytest

import alliancelab
from alliancelab.cases import resolve_case
from alliancelab.models.dynamics import NEUTRAL, Simulation, simulate
from alliancelab.scenarios.scenario import simulate_scenario


def toy(**extra: Any) -> alliancelab.Case:
    """Two allies and an adversary on two issues; no dynamics unless ``extra`` adds them."""
    data: dict[str, Any] = {
        "name": "toy",
        "issues": [
            {"name": "troops", "scale": {"min": 0, "max": 40000}, "status_quo": 28500},
            {"name": "china", "scale": {"min": 0, "max": 100}, "status_quo": 40},
        ],
        "actors": [
            {"name": "A", "group": "US", "capability": 3,
             "positions": {"troops": 20000, "china": 70},
             "saliences": {"troops": 0.5, "china": 0.5},
             "perceptions": {"threats": {"dprk": 0.8, "china": 0.7}, "partner_reliability": 0.5}},
            {"name": "B", "group": "ROK", "capability": 1,
             "positions": {"troops": 30000, "china": 30},
             "saliences": {"troops": 0.9, "china": 0.5},
             "perceptions": {"threats": {"dprk": 0.4, "china": 0.3}, "partner_reliability": 0.6}},
            {"name": "D", "group": "DPRK", "capability": 1,
             "positions": {"troops": 0, "china": 80}, "saliences": {"troops": 0.8, "china": 0.2},
             "perceptions": {"threats": {"alliance": 0.9},
                             "estimates": {"A": {"positions": {"troops": 10000}}}}},
        ],
        "sides": ["US", "ROK"],
    }
    data.update(extra)
    return alliancelab.Case.model_validate(data)


def compromise(case: alliancelab.Case) -> np.ndarray:
    return alliancelab.forecast(case, "compromise").forecast


def test_contract_shapes_and_frame() -> None:
    case = alliancelab.read_case(resolve_case("us_rok_2025"))
    sim = simulate(case, rng=1)
    t1 = int(case.dynamics["rounds"].value) + 1
    n, d = len(case.actors), len(case.issues)
    assert isinstance(sim, Simulation)
    assert sim.positions.shape == (t1, n, d) and sim.outcomes.shape == (t1, d)
    assert sim.actors == case.actor_names and sim.issues == case.issue_names
    assert {"threats.dprk", "threats.china", "partner_reliability"} <= set(sim.perceptions)
    assert all(v.shape == (t1, n) for v in sim.perceptions.values())
    assert set(sim.indicators) == {i.name for i in case.indicators}
    assert all(v.shape == (t1,) for v in sim.indicators.values())
    assert sim.interventions == () and sim.model == "compromise" and sim.seed == 1
    frame = sim.to_frame()
    assert list(frame.columns) == ["round", "kind", "actor", "item", "value"]
    assert set(frame.kind) == {"outcome", "position", "perception", "indicator"}
    final = sim.final_outcomes()
    assert list(final) == list(case.issue_names)
    assert final["usfk_troops"] == sim.outcomes[-1, 0]
    # outcomes start at the status quo and stay on the scales
    sq = [i.status_quo.value for i in case.issues]
    np.testing.assert_allclose(sim.outcomes[0], sq)
    lo = np.array([i.scale.min for i in case.issues])
    hi = np.array([i.scale.max for i in case.issues])
    assert np.all((sim.outcomes >= lo) & (sim.outcomes <= hi))


def test_without_dynamics_the_outcome_jumps_to_the_forecast() -> None:
    case = toy()
    sim = simulate(case, rounds=3)
    assert sim.parameters["adjustment_speed"] == NEUTRAL["adjustment_speed"] == 1.0
    np.testing.assert_allclose(sim.outcomes[0], [28500, 40])
    for t in (1, 2, 3):
        np.testing.assert_allclose(sim.outcomes[t], compromise(case))
        np.testing.assert_allclose(sim.positions[t], sim.positions[0])


def test_partial_adjustment_is_geometric() -> None:
    lam = 0.3
    case = toy(dynamics={"adjustment_speed": lam, "rounds": 6})
    sim = simulate(case)
    f = compromise(case)
    for t in range(7):
        np.testing.assert_allclose(sim.outcomes[t], f + (1 - lam) ** t * (sim.outcomes[0] - f))


def test_links_move_positions_by_weight_times_perception_change() -> None:
    w = 0.4
    case = toy(
        links=[{"perception": "threats.dprk", "issue": "troops", "weight": w, "actors": ["B"]}],
        shocks=[{"name": "test", "changes": [
            {"target": "actors.B.perceptions.threats.dprk", "op": "add", "value": 0.25}]}],
    )
    base = simulate(case, rounds=2)
    np.testing.assert_allclose(base.positions[2], base.positions[0])  # no change, no move
    sim = simulate_scenario(case, rounds=2, interventions=["test"])
    np.testing.assert_allclose(sim.positions[0], base.positions[0])  # round 0 is the case
    np.testing.assert_allclose(sim.perceptions["threats.dprk"][1], [0.8, 0.65, np.nan])
    moved = sim.positions[1] - sim.positions[0]
    assert moved[1, 0] == pytest.approx(w * 0.25 * 40000)
    moved[1, 0] = 0.0
    assert np.all(moved == 0)
    # the outcome is the engine's forecast on the moved positions
    problem = alliancelab.Problem.from_case(case)
    pos = problem.position.copy()
    pos[1, 0] += w * 0.25 * 40000
    want = alliancelab.forecast(
        alliancelab.Problem.from_arrays(problem.capability, pos, problem.salience), "compromise"
    ).forecast
    np.testing.assert_allclose(sim.outcomes[1], want)


def test_feedback_moves_perceptions_by_weight_times_outcome_change() -> None:
    w = 0.8
    case = toy(
        dynamics={"adjustment_speed": 0.5, "rounds": 3},
        feedback=[{"issue": "troops", "perception": "partner_reliability", "weight": w,
                   "actors": ["B"]}],
    )
    sim = simulate(case)
    rel = sim.perceptions["partner_reliability"][:, 1]
    assert rel[1] == rel[0]  # no outcome move before round 1
    for t in (2, 3):
        dy = (sim.outcomes[t - 1, 0] - sim.outcomes[t - 2, 0]) / 40000
        assert rel[t] - rel[t - 1] == pytest.approx(w * dy)
    assert np.all(sim.perceptions["partner_reliability"][:, 0] == 0.5)  # A is not listed


def test_threat_convergence_narrows_the_allies_gap_geometrically() -> None:
    c = 0.2
    case = toy(dynamics={"threat_convergence": c, "rounds": 4})
    sim = simulate(case)
    gap = sim.perceptions["threats.dprk"][:, 0] - sim.perceptions["threats.dprk"][:, 1]
    for t in range(5):
        assert gap[t] == pytest.approx((1 - c) ** t * 0.4)
    # the capability-weighted mean is preserved; the adversary and reliability untouched
    mean = (3 * sim.perceptions["threats.dprk"][:, 0] + sim.perceptions["threats.dprk"][:, 1]) / 4
    np.testing.assert_allclose(mean, mean[0])
    assert np.all(sim.perceptions["threats.alliance"][:, 2] == 0.9)
    np.testing.assert_allclose(sim.perceptions["partner_reliability"][:, :2], [[0.5, 0.6]] * 5)


def test_estimate_learning_shrinks_misperception() -> None:
    lr = 0.25
    term = {"kind": "misperception", "a": ["D"], "b": ["US"], "weight": 1.0}
    case = toy(dynamics={"estimate_learning": lr, "rounds": 3},
               indicators=[{"name": "mis", "terms": [term]}])
    sim = simulate(case)
    first = (20000 - 10000) / 40000 / 2  # D's error on A's troops, averaged over 2 issues
    for t in range(4):
        assert sim.indicators["mis"][t] == pytest.approx(first * (1 - lr) ** t)


def test_indicator_terms_follow_their_definitions() -> None:
    terms = [
        {"kind": "constant", "weight": 0.1},
        {"kind": "outcome", "issue": "troops", "weight": 2.0},
        {"kind": "perception", "perception": "threats.dprk", "actors": ["US", "ROK"],
         "weight": 1.0},
        {"kind": "perception_gap", "perception": "threats.china", "a": ["US"], "b": ["B"],
         "weight": 1.0},
        {"kind": "position_gap", "issue": "china", "a": ["US"], "b": ["ROK"], "weight": 1.0},
        {"kind": "outcome_change", "weight": 1.0, "power": 2},
    ]
    case = toy(dynamics={"adjustment_speed": 0.5, "rounds": 2},
               indicators=[{"name": f"t{i}", "terms": [t]} for i, t in enumerate(terms)])
    sim = simulate(case)
    y = sim.outcomes
    np.testing.assert_allclose(sim.indicators["t0"], 0.1)
    np.testing.assert_allclose(sim.indicators["t1"], 2.0 * y[:, 0] / 40000)
    np.testing.assert_allclose(sim.indicators["t2"], (3 * 0.8 + 1 * 0.4) / 4)
    np.testing.assert_allclose(sim.indicators["t3"], abs(0.3 - 0.7))
    np.testing.assert_allclose(sim.indicators["t4"], abs(0.30 - 0.70))
    change = np.r_[0.0, (((np.diff(y, axis=0)) / [40000, 100]) ** 2).mean(axis=1)]
    np.testing.assert_allclose(sim.indicators["t5"], change)


def test_interventions_take_effect_at_round_one() -> None:
    case = alliancelab.read_case(resolve_case("us_rok_2025"))
    base = simulate(case, rng=0)
    shocked = simulate_scenario(case, interventions=["dprk_nuclear_test"], rng=0)
    assert shocked.interventions == ("dprk_nuclear_test",)
    np.testing.assert_allclose(shocked.positions[0], base.positions[0])
    np.testing.assert_allclose(shocked.outcomes[0], base.outcomes[0])
    rok = [i for i, g in enumerate(shocked.groups) if g == "ROK"]
    jump = shocked.perceptions["threats.dprk"][1, rok] - base.perceptions["threats.dprk"][1, rok]
    assert np.all(jump > 0.1)
    with pytest.raises(alliancelab.AllianceLabError, match="unknown shock or lever"):
        simulate_scenario(case, interventions=["nope"])


def test_seeded_runs_are_identical_and_inputs_checked() -> None:
    case = alliancelab.read_case(resolve_case("us_rok_2025"))
    a = simulate_scenario(case, rng=7, interventions=["strategic_diplomacy"])
    b = simulate_scenario(case, rng=7, interventions=["strategic_diplomacy"])
    np.testing.assert_array_equal(a.outcomes, b.outcomes)
    for k in a.indicators:
        np.testing.assert_array_equal(a.indicators[k], b.indicators[k])
    with pytest.raises(alliancelab.AllianceLabError, match="unknown model"):
        simulate(case, model="nope")
    with pytest.raises(alliancelab.AllianceLabError, match="positive integer"):
        simulate(case, rounds=0)
    # refused when the case is read (issue 13, late checks), so simulate never sees them
    with pytest.raises(ValueError, match="adjustment_speed"):
        simulate(toy(dynamics={"adjustment_speed": 1.5}))
    with pytest.raises(ValueError, match="unknown perception"):
        simulate(toy(links=[{"perception": "threats.mars", "issue": "troops", "weight": 1.0}]))


@pytest.mark.parametrize("model", ["compromise", "median", "nash"])
def test_static_engines_drive_the_simulation(model: str) -> None:
    case = alliancelab.read_case(resolve_case("us_rok_2025"))
    sim = simulate(case, model=model, rounds=4, rng=0)
    assert np.all(np.isfinite(sim.outcomes))
    lam = case.dynamics["adjustment_speed"].value
    problem = alliancelab.Problem.from_case(case)
    for t in (1, 4):
        # the engine's forecast on that round's positions, then one partial step toward it
        moved = dataclasses.replace(problem, position=sim.positions[t])
        want = alliancelab.forecast(moved, model).forecast
        np.testing.assert_allclose(sim.forecasts[t], want, rtol=1e-9)
        np.testing.assert_allclose(
            sim.outcomes[t], sim.outcomes[t - 1] + lam * (want - sim.outcomes[t - 1]), rtol=1e-9
        )


@pytest.mark.parametrize("model", ["bdm", "bdm-scholz", "smp"])
def test_iterative_engines_drive_the_simulation_when_present(model: str) -> None:
    from alliancelab.models.bargaining import ENGINES

    module = ENGINES[model].split(":")[0]
    if importlib.util.find_spec(f"alliancelab.models.bargaining.{module}") is None:
        pytest.skip(f"engine {model} not installed yet")
    case = alliancelab.read_case(resolve_case("us_rok_2025"))
    sim = simulate(case, model=model, rounds=2, rng=0)
    assert sim.outcomes.shape == (3, len(case.issues)) and np.all(np.isfinite(sim.outcomes))


def test_simulate_is_fast_enough_for_monte_carlo() -> None:
    case = alliancelab.read_case(resolve_case("us_rok_2025"))
    simulate(case)
    start = time.perf_counter()
    for _ in range(20):
        simulate(case, rng=0)
    per_run = (time.perf_counter() - start) / 20
    assert per_run < 0.1, f"{per_run * 1000:.1f} ms per simulation"  # measured: 3-10 ms


def test_interventions_can_be_scheduled_for_a_later_round() -> None:
    case = toy(
        dynamics={"adjustment_speed": 0.5, "rounds": 5},
        links=[{"perception": "threats.dprk", "issue": "troops", "weight": 0.5}],
        shocks=[
            {"name": "early", "changes": [
                {"target": "actors.A.perceptions.threats.dprk", "op": "add", "value": 0.1}]},
            {"name": "late", "at_round": 3, "changes": [
                {"target": "actors.B.perceptions.threats.dprk", "op": "add", "value": 0.2},
                {"target": "dynamics.adjustment_speed", "op": "set", "value": 1.0}]},
        ],
    )
    base = simulate(case)
    early = simulate_scenario(case, interventions=["early"])
    both = simulate_scenario(case, interventions=["late", "early"])
    assert both.schedule == {"late": 3, "early": 1}
    np.testing.assert_allclose(both.outcomes[:3], early.outcomes[:3])
    np.testing.assert_allclose(both.perceptions["threats.dprk"][:3], early.perceptions[
        "threats.dprk"][:3])
    assert not np.allclose(early.outcomes[1], base.outcomes[1])
    jump = both.perceptions["threats.dprk"][3] - early.perceptions["threats.dprk"][3]
    np.testing.assert_allclose(jump[:2], [0.0, 0.2])
    # from round 3 the late shock's adjustment speed (1.0) applies: outcome = forecast
    np.testing.assert_allclose(both.outcomes[3:], both.forecasts[3:])
    assert both.parameters["adjustment_speed"] == 1.0
    # a shock scheduled beyond the horizon never acts
    short = simulate_scenario(case, interventions=["late"], rounds=2)
    np.testing.assert_allclose(short.outcomes, simulate(case, rounds=2).outcomes)
    assert short.parameters["adjustment_speed"] == 0.5


def test_stages_are_the_cases_in_force_from_their_round() -> None:
    """simulate() knows no interventions: it takes the staged cases, which Scenario builds
    (each intervention at its at_round); the two paths give the same trajectory."""
    from alliancelab.scenarios.interventions import apply_interventions
    from alliancelab.scenarios.scenario import scenario

    case = toy(
        dynamics={"adjustment_speed": 0.5, "rounds": 4},
        links=[{"perception": "threats.dprk", "issue": "troops", "weight": 0.5}],
        shocks=[{"name": "late", "at_round": 2, "changes": [
            {"target": "actors.B.perceptions.threats.dprk", "op": "add", "value": 0.2}]}],
    )
    scen = scenario(case, ["late"])
    assert set(scen.stages) == {2} and scen.schedule == {"late": 2}
    staged = simulate(case, stages={2: apply_interventions(case, ["late"])},
                      schedule={"late": 2})
    via = scen.simulate()
    np.testing.assert_array_equal(staged.outcomes, via.outcomes)
    assert via.interventions == ("late",) and via.schedule == {"late": 2}
    np.testing.assert_array_equal(via.outcomes[:2], simulate(case).outcomes[:2])
    with pytest.raises(alliancelab.AllianceLabError, match="positive integer"):
        simulate(case, stages={0: case})
    fewer = toy(actors=case.model_dump()["actors"][:2])
    with pytest.raises(alliancelab.AllianceLabError, match="actors and issues"):
        simulate(case, stages={1: fewer})


def _arrays(sim: Simulation) -> list[bytes]:
    parts = [sim.positions, sim.outcomes, sim.forecasts, *sim.perceptions.values(),
             *sim.indicators.values()]
    return [np.asarray(p).tobytes() for p in parts]


@pytest.mark.parametrize("model", ["compromise", "smp"])
def test_a_batch_of_runs_gives_each_run_bit_for_bit(model: str) -> None:
    """:func:`simulate_batch` steps runs with one shape together (and groups the others):
    every run's trajectory, perceptions, indicators, parameters and seed are those of
    :func:`simulate` alone - staged and unstaged, with their own seeds, other rounds, another
    snapshot of the case and a toy case mixed in the batch."""
    from alliancelab.jobs.effects import scenario_sets
    from alliancelab.models.dynamics import Run, simulate_batch
    from alliancelab.scenarios.scenario import Scenario

    case = alliancelab.read_case(resolve_case("us_rok_2025"))
    scenarios = [Scenario(case, ()), *(Scenario(case, s.interventions)
                                       for s in scenario_sets(case, ())[:6])]
    runs = [Run(sc.base, sc.stages, sc.schedule, 7 + k) for k, sc in enumerate(scenarios)]
    runs += [Run(sc.case, rng=0) for sc in scenarios[:3]]
    runs += [Run(toy(dynamics={"threat_convergence": 0.3, "estimate_learning": 0.2}), rng=3),
             Run(alliancelab.read_case(resolve_case("us_rok_2007")), rng=4)]
    for rounds in (None, 4):
        batch = simulate_batch(runs, model=model, rounds=rounds)
        for run, got in zip(runs, batch, strict=True):
            alone = simulate(run.case, model=model, rounds=rounds, stages=run.stages,
                             schedule=run.schedule, rng=run.rng)
            assert _arrays(got) == _arrays(alone)
            assert (got.parameters, got.schedule, got.seed, got.groups, got.interventions) == (
                alone.parameters, alone.schedule, alone.seed, alone.groups, alone.interventions)
        bare = simulate_batch(runs, model=model, rounds=rounds, indicators=False)
        for got, full in zip(bare, batch, strict=True):  # the same runs, no indicators
            assert got.indicators == {}
            assert _arrays(got) == _arrays(dataclasses.replace(full, indicators={}))
