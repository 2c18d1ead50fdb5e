"""The ``smp`` engine: KTAB's Spatial Model of Politics.

Reference numbers (tests/data/ktab/*.json, see generate_references.py there):
* ``ref_dummyData_3Dim`` and ``ref_SOE-Pol-Comp``: KTAB's shipped reference runs
  (``examples/smp/doc/20170530_ref-*.txt``), parsed;
* ``rand_*``: KTAB's ``smpc`` (built from GitHub KAPSARC/KTAB) on seeded random cases with
  its default settings;
* ``opts_*``: ``smpc`` with non-default model parameters (XML input).
Positions are compared at every state to the log's precision (4 decimals on 0-100, so
half a unit of the last digit), as are the probabilities of the actors' positions, and the
number of states exactly.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import alliancelab
from alliancelab.core.case import Case
from alliancelab.core.errors import AllianceLabError
from alliancelab.formats import parse_case, read_case
from alliancelab.models.bargaining import Problem
from alliancelab.models.bargaining import _smp_kernel as K
from alliancelab.models.bargaining.smp import SMP, _ktab_saliences

DATA = Path(__file__).parent / "data" / "ktab"
REFS = sorted(p.stem for p in DATA.glob("*.json"))
LOG_TOL = 5e-5 + 1e-9  # half a unit in the log's 4th decimal
KTAB_KEYS = {
    "VictoryProbModel": "victory", "PCEModel": "pce", "VotingRule": "voting",
    "BigRRange": "risk_range", "BigRAdjust": "risk_adjust", "ThirdPartyCommit": "third_party",
    "InterVecBrgn": "interpolation", "BargnModel": "bargain",
}


def _reference(name: str) -> tuple[dict, Case, dict]:
    ref = json.loads((DATA / f"{name}.json").read_text())
    if "input" in ref:
        case = read_case(DATA / ref["input"])
    else:
        case = parse_case(ref["input_text"], f"{name}.csv", "ktab")
    options = {KTAB_KEYS[k]: v for k, v in ref["params"].items()}
    if options:  # non-default runs: capabilities exactly as KTAB takes them
        options["capability_scale"] = None
    return ref, case, options


def test_reference_runs_are_present() -> None:
    assert {"ref_dummyData_3Dim", "ref_SOE-Pol-Comp"} <= set(REFS)
    assert len(REFS) >= 9


@pytest.mark.parametrize("name", REFS)
def test_reproduces_ktab_state_by_state(name: str) -> None:
    ref, case, options = _reference(name)
    result = alliancelab.forecast(case, "smp", **options)
    assert result.diagnostics["states"] == ref["states"] == result.rounds.shape[0]
    expected = np.array(ref["positions"])  # states 1.. (state 0 is the input)
    assert expected.shape == result.rounds[1:].shape
    np.testing.assert_allclose(result.rounds[1:], expected, rtol=0, atol=LOG_TOL)
    probs = np.array(ref["probabilities"]).T  # (states, actors)
    np.testing.assert_allclose(
        result.diagnostics["victory_probabilities"], probs, rtol=0, atol=LOG_TOL
    )


def test_shipped_reference_numbers_spot_check() -> None:
    """A few numbers read off KTAB's 20170530_ref-dummyData_3Dim.txt by hand."""
    result = alliancelab.forecast(read_case(DATA / "dummyData_3Dim.csv"), "smp")
    assert result.rounds.shape == (11, 7, 3)
    np.testing.assert_allclose(result.rounds[1, 0], [79.54, 44.71, 72.05], atol=1e-9)
    np.testing.assert_allclose(result.rounds[1, 6], [75.61, 24.79, 71.95], atol=1e-9)
    # "Inferred risk attitudes" of iteration 1, printed %+.3f
    np.testing.assert_allclose(
        result.diagnostics["risk_attitudes"][0],
        [-0.500, -0.459, -0.499, -0.274, 1.000, -0.232, -0.430], atol=5e-4 + 1e-9,
    )
    first = {c["initiator"]: c for c in result.diagnostics["challenges"][0]}
    assert first[0]["target"] == 6 and abs(first[0]["probability"] - 0.7643) < 5e-5
    assert abs(first[0]["gain"] - 0.0947) < 5e-5
    assert result.diagnostics["stop_ratio"][-1] == pytest.approx(0.0045, abs=5e-5)


def test_forecast_is_the_expected_outcome_of_the_final_state() -> None:
    result = alliancelab.forecast(read_case(DATA / "SOE-Pol-Comp.csv"), "smp")
    final = result.diagnostics["outcome_distribution"]
    pos = result.rounds[-1]
    expected = sum(
        p * pos[members].mean(axis=0)
        for p, members in zip(final["probability"], final["actors"], strict=True)
    )
    np.testing.assert_allclose(result.forecast, expected, atol=1e-9)
    assert abs(sum(final["probability"]) - 1) < 1e-12
    d = result.diagnostics
    assert d["converged"] and d["states"] == 28
    assert d["risk_attitudes"].shape == d["victory_probabilities"].shape == (28, 13)
    assert len(d["challenges"]) == 27
    assert np.all(d["risk_attitudes"] >= -0.5 - 1e-12) and np.all(d["risk_attitudes"] <= 1 + 1e-12)


def test_rounds_caps_the_number_of_steps() -> None:
    case = read_case(DATA / "SOE-Pol-Comp.csv")
    result = alliancelab.forecast(case, "smp", rounds=5)
    assert result.rounds.shape[0] == 6
    assert not result.diagnostics["converged"]
    full = alliancelab.forecast(case, "smp")
    np.testing.assert_array_equal(result.rounds, full.rounds[:6])


def test_issue_scales_are_respected() -> None:
    """The same case on other scales gives the same path, in each issue's units."""
    case = read_case(DATA / "dummyData_3Dim.csv")
    data = case.model_dump()
    lows, highs = [-10.0, 0.0, 1.0], [10.0, 1.0, 7.0]
    for k, issue in enumerate(data["issues"]):
        issue["scale"] = {"min": lows[k], "max": highs[k]}
    for actor in data["actors"]:
        for k, issue in enumerate(case.issues):
            v = actor["positions"][issue.name]["value"]
            actor["positions"][issue.name]["value"] = lows[k] + v / 100 * (highs[k] - lows[k])
    rescaled = Case.model_validate(data)
    a = alliancelab.forecast(case, "smp")
    b = alliancelab.forecast(rescaled, "smp")
    width = np.array(highs) - np.array(lows)
    assert a.rounds.shape == b.rounds.shape
    np.testing.assert_allclose((b.rounds - lows) / width * 100, a.rounds, atol=1e-6)
    np.testing.assert_allclose((b.forecast - lows) / width * 100, a.forecast, atol=1e-6)


def test_saliences_over_one_are_normalised_per_actor() -> None:
    s = np.array([[0.8, 0.8], [0.3, 0.2], [1.0, 0.0]])
    np.testing.assert_allclose(_ktab_saliences(s), [[0.5, 0.5], [0.3, 0.2], [1.0, 0.0]])
    pos = np.array([[10.0, 80], [60, 20], [90, 50], [40, 40]])
    cap = np.array([50.0, 80, 30, 60])
    big = np.array([[0.9, 0.9], [0.6, 0.6], [0.2, 0.3], [0.5, 0.5]])
    norm = _ktab_saliences(big)
    a = SMP().solve(Problem.from_arrays(cap, pos, big), np.random.default_rng(0))
    b = SMP().solve(Problem.from_arrays(cap, pos, norm), np.random.default_rng(0))
    np.testing.assert_array_equal(a.rounds, b.rounds)


def test_estimates_of_others_enter_the_challenges() -> None:
    base = read_case(DATA / "dummyData_3Dim.csv")
    plain = alliancelab.forecast(base, "smp")
    data = base.model_dump()
    issues = [i.name for i in base.issues]
    # estimates equal to the truth change nothing
    same = dict(positions={k: data["actors"][6]["positions"][k] for k in issues})
    data["actors"][0]["perceptions"]["estimates"] = {"SActor-06": same}
    truthful = alliancelab.forecast(Case.model_validate(data), "smp")
    np.testing.assert_array_equal(plain.rounds, truthful.rounds)
    # actor 0 believing actor 6 weak and indifferent changes whom actor 0 challenges
    data["actors"][0]["perceptions"]["estimates"] = {
        "SActor-06": {"capability": 1.0, "saliences": {k: 0.01 for k in issues}}
    }
    biased = alliancelab.forecast(Case.model_validate(data), "smp")
    first = {c["initiator"]: c for c in biased.diagnostics["challenges"][0]}
    first_plain = {c["initiator"]: c for c in plain.diagnostics["challenges"][0]}
    assert first[0] != first_plain[0]


def test_options_accept_ktab_names_and_reject_unknown_ones() -> None:
    e = SMP(victory="Quartic", pce="MarkovIncentive", voting="PropCbc", risk_range="Max",
            risk_adjust="TwoThirds", third_party="NoCommit", interpolation="S2PMax",
            bargain="PWCompInterp", transitions="Stochastic")
    assert (e.victory, e.pce, e.voting, e.bargain) == (
        "quartic", "markov-incentive", "prop-cubic", "pw-compromise")
    with pytest.raises(AllianceLabError, match="victory"):
        SMP(victory="cubic")
    with pytest.raises(AllianceLabError, match="bad option"):
        alliancelab.forecast(read_case(DATA / "dummyData_3Dim.csv"), "smp", nonsense=1)
    with pytest.raises(AllianceLabError, match="rounds"):
        SMP(rounds=0)


def test_stochastic_transitions_follow_the_seed() -> None:
    case = read_case(DATA / "SOE-Pol-Comp.csv")
    a = alliancelab.forecast(case, "smp", transitions="stochastic", rng=7)
    b = alliancelab.forecast(case, "smp", transitions="stochastic", rng=7)
    np.testing.assert_array_equal(a.rounds, b.rounds)


def test_more_than_250_actors_is_a_user_error() -> None:
    n = 251
    g = np.random.default_rng(0)
    problem = Problem.from_arrays(g.uniform(1, 2, n), g.uniform(0, 100, n), np.full(n, 0.5))
    with pytest.raises(AllianceLabError, match="at most 250"):
        SMP().solve(problem, g)


def test_zero_capability_actor_has_no_say() -> None:
    pos = np.array([[10.0], [60], [90], [40]])
    sal = np.full((4, 1), 0.5)
    out = SMP().solve(Problem.from_arrays(np.array([50.0, 80, 30, 0]), pos, sal),
                      np.random.default_rng(0))
    assert np.all(np.isfinite(out.rounds)) and np.all(np.isfinite(out.forecast))


def test_kernel_matches_ktab_formulas() -> None:
    # KTAB SMPTutorial: a 2:1 coalition ratio wins with 2/3, 4/5, 16/17, 256/257
    c = np.array([[1e-8, 1.0], [2.0, 1e-8]])
    for model, p in [("linear", 2 / 3), ("square", 4 / 5), ("quartic", 16 / 17),
                     ("octic", 256 / 257)]:
        assert K.victory_matrix(model, c)[1, 0] == pytest.approx(p)
    assert K.victory_matrix("binary", c)[1, 0] == pytest.approx(1 / (1 + 1e-6))
    # bsUtil and Mid risk range ([-1/2, 1])
    assert K.bs_util(np.array(0.5), np.array(1.0)) == pytest.approx(0.75)
    r = K.big_r(np.array([0.1, 0.3, 0.6]), "mid")
    np.testing.assert_allclose(r[[0, 2]], [-0.5, 1.0])
    # S2P2 interpolation rounds to 4 decimals; the receiver's point is nudged by 1e-6
    b_i, b_j = K.interpolate("s2p2", np.array([0.2]), np.array([0.5]), np.array([[0.5]]),
                             np.array([0.8]), np.array([0.5]), np.array([[0.5]]))
    assert b_i[0] == b_j[0] == 0.5


def test_subnormal_capabilities_give_the_forecast_of_the_same_shares() -> None:
    """Capabilities so small that capability_scale / max overflows (found by Hypothesis in
    CI: a NaN forecast) are rescaled first; only their ratios matter, so the forecast is the
    one of the same capabilities scaled up."""
    pos, sal = np.array([[0.0], [0.3], [1.0]]), np.array([[1.0], [0.5], [1.0]])
    def run(cap: list[float]) -> np.ndarray:
        return alliancelab.forecast(Problem.from_arrays(np.array(cap), pos, sal), "smp").forecast

    tiny, plain = run([1e-310, 3e-311, 0.0]), run([1.0, 0.3, 0.0])
    assert np.isfinite(tiny).all()
    assert tiny == pytest.approx(plain, abs=1e-12)
    lone = alliancelab.forecast(Problem.from_arrays(np.array([5e-324, 0.0, 5e-324]),
                                        np.array([[0.0], [0.0], [1.0]]), np.ones((3, 1))), "smp")
    assert np.isfinite(lone.forecast).all()


@pytest.mark.parametrize("voting", ["proportional", "binary", "prop-cubic", "asym-prospect"])
def test_chunk_size_and_the_odd_rule_shortcut_change_no_bit(
    voting: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 15: the scratch arrays are chunked to stay in cache (``CHUNK_ELEMENTS``) and, for
    voting rules odd in ``du``, the coalitions are summed once (``ODD_RULES``). Neither
    changes a bit of the run: states, positions, probabilities and challenges identical to
    one big chunk and the two-sided sums."""
    _, case, _ = _reference("rand_a20_d1")
    fast = alliancelab.forecast(case, "smp", rng=0, voting=voting)
    monkeypatch.setattr(K, "CHUNK_ELEMENTS", 10**9)
    monkeypatch.setattr(K, "ODD_RULES", ())
    slow = alliancelab.forecast(case, "smp", rng=0, voting=voting)
    monkeypatch.setattr(K, "CHUNK_ELEMENTS", 500)  # many tiny chunks
    tiny = alliancelab.forecast(case, "smp", rng=0, voting=voting)
    for other in (slow, tiny):
        assert np.array_equal(fast.rounds, other.rounds)
        assert np.array_equal(fast.forecast, other.forecast)
        for key in ("victory_probabilities", "risk_attitudes"):
            assert np.array_equal(fast.diagnostics[key], other.diagnostics[key])
        assert fast.diagnostics["challenges"] == other.diagnostics["challenges"]


@pytest.mark.parametrize("name", REFS)
def test_compiled_loops_give_the_numpy_bits_on_every_reference(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 15: from ``JIT_MIN_ACTORS`` actors on, the third parties' votes and the
    coalitions run in ``_smp_jit`` (Numba). Forced onto the small KTAB references (default
    and non-default options), the compiled loops give NumPy's run to the last bit: states,
    positions, probabilities and every challenge."""
    from alliancelab.models.bargaining import smp as smp_module

    _, case, options = _reference(name)
    monkeypatch.setattr(smp_module, "JIT_MIN_ACTORS", 10**9)
    plain = alliancelab.forecast(case, "smp", rng=0, **options)
    monkeypatch.setattr(smp_module, "JIT_MIN_ACTORS", 3)
    compiled = alliancelab.forecast(case, "smp", rng=0, **options)
    assert compiled.diagnostics["states"] == plain.diagnostics["states"]
    assert np.array_equal(compiled.rounds, plain.rounds)
    assert np.array_equal(compiled.forecast, plain.forecast)
    for key in ("victory_probabilities", "risk_attitudes"):
        assert np.array_equal(compiled.diagnostics[key], plain.diagnostics[key])
    assert compiled.diagnostics["challenges"] == plain.diagnostics["challenges"]
    assert (compiled.diagnostics["position_probabilities"]
            == plain.diagnostics["position_probabilities"])


def test_a_small_case_does_not_import_numba() -> None:
    """Below ``JIT_MIN_ACTORS`` (KTAB's dummyData_3Dim) the run is NumPy only."""
    import subprocess
    import sys

    probe = ("import sys\nimport alliancelab\n"
             "alliancelab.forecast(alliancelab.read_case(sys.argv[1]), 'smp')\n"
             "print(' '.join(m for m in ('numba', 'scipy', 'numpy.ma') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe, str(DATA / "dummyData_3Dim.csv")],
                         capture_output=True, text=True, check=True, timeout=120).stdout.split()
    assert out == []


@pytest.mark.parametrize("name", ["us_rok_2025", "mini_alliance.yaml"])
def test_compiled_loops_give_the_numpy_bits_with_perceptions_and_arenas(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As above, on cases with misperceptions (each initiator's own distances) and, for
    the shipped US-ROK case, an arena."""
    from alliancelab.cases import resolve_case
    from alliancelab.models.bargaining import smp as smp_module

    path = resolve_case(name) if "." not in name else Path(__file__).parent / "data" / name
    case = read_case(path)
    monkeypatch.setattr(smp_module, "JIT_MIN_ACTORS", 10**9)
    plain = alliancelab.forecast(case, "smp", rng=0, bargain="init-rcvr")
    monkeypatch.setattr(smp_module, "JIT_MIN_ACTORS", 3)
    compiled = alliancelab.forecast(case, "smp", rng=0, bargain="init-rcvr")
    assert np.array_equal(compiled.rounds, plain.rounds)
    assert compiled.diagnostics["challenges"] == plain.diagnostics["challenges"]
