"""Face validity: the shipped cases reproduce the directions the source documents state, as
results that *emerge* from the models, never by construction.

Nothing here is hard-coded: every number comes from the perception dynamics of the shipped
case files (:func:`alliancelab.scenarios.scenario.simulate_scenario`, compromise bargaining)
over Monte Carlo draws of their stated ranges (:func:`alliancelab.scenarios.uncertainty.draw`,
triangular), with common random numbers (each drawn case with and without the lever). A
direction holds when the 5-95% band of the effect over the draws excludes zero.

1. **No effect by construction** (:func:`direct_hits`): no shock or lever may change a
   quantity an indicator term reads directly (a perception of the actors the term selects, a
   misestimate, an ideal position of a ``position_gap``, the indicator itself) unless the
   change's source starts with ``exception:`` and cites a source of the case -- e.g. a
   nuclear test *is* a change in threat perception. Everything else must come through the
   mechanisms: bargaining, feedback from outcomes to perceptions, links, consultation and
   learning (docs/dynamics.md, "Indicators").
2. **Document 000** (El Sayed, "Realigning Perceptions"), its consideration -> impact table:
   rapid troop reductions -> regional uncertainty and potential miscalculation (and, with a
   presence that deters, less deterrence); overt anti-China policy -> heightened tension and
   economic repercussions; sustained USFK presence -> continued deterrence and reassurance
   to allies; strategic diplomacy -> reduced risk and conflict resolution (less tension). The
   measure is the effect on the indicator averaged over rounds 1..T of the dynamics (the
   path the policy produces, including the "rapid readjustment" the document warns of);
   every shipped snapshot is checked. A row that does not hold is an ``xfail(strict=True)``
   with the measured band: it is reported, not tuned away.
3. **Document 004** (2007 conference paper): in 2007 Seoul is less threatened by the North
   than Washington and more benign toward China -- at the end of the dynamics, not only as
   stated; by 2025 Seoul's view of China has hardened and the China gap narrowed. Its
   recommendations (a joint threat assessment, deeper consultation) narrow the gap through
   the consultation mechanism.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pytest

import alliancelab
from alliancelab.cases import resolve_case
from alliancelab.core.case import Case, Change, IndicatorTerm, Intervention
from alliancelab.scenarios.interventions import apply_changes, find_intervention
from alliancelab.scenarios.scenario import simulate_scenario as simulate
from alliancelab.scenarios.uncertainty import draw

CASES = ("us_rok_2007", "us_rok_2013", "us_rok_2018", "us_rok_2025")
#: Monte Carlo draws per snapshot and their seed (about 4 s per snapshot).
DRAWS = 24
SEED = 2025

#: document 000's table: lever -> [(indicator, expected sign of with-minus-without)]
TABLE = {
    "rapid_troop_reduction": [("regional_uncertainty", +1), ("miscalculation_risk", +1),
                              ("deterrence", -1)],
    "overt_anti_china_policy": [("tension", +1), ("economic_cost", +1)],
    "sustained_usfk_presence": [("deterrence", +1), ("reassurance", +1)],
    "strategic_diplomacy": [("miscalculation_risk", -1), ("tension", -1)],
}
#: document 004's recommendations that address the perception gap.
RECOMMENDATIONS = {
    "joint_threat_assessment": [("alliance_perception_gap", -1)],
    "deeper_consultation": [("alliance_perception_gap", -1)],
}
#: rows that do not hold as emergent results, with the measured 5/50/95% of the effect (mean
#: over rounds 1..T, DRAWS draws, seed SEED). Reported here, in the report's findings and in
#: docs/dynamics.md; never tuned away.
NOT_HOLDING = {
    ("us_rok_2018", "rapid_troop_reduction", "deterrence"): (
        "2018 (with the case's arenas and the FY2019 NDAA floor of 22,000): rapid troop "
        "reduction's effect on deterrence is -0.0220 [-0.0513, +0.0006] (was -0.0679 "
        "[-0.0926, -0.0453] before the arenas): the floor caps the cut, so the lever ends at "
        "22,000 in every draw, and where the baseline already ends near the floor (status quo "
        "24,168, the White House at 20,000) the troop effect over rounds 1..T is small "
        "(-2,613 [-4,413, -654] troops); in 2 of 24 draws the other terms (the allies' "
        "perceptions after the rapid move) outweigh it"),
}


@functools.cache
def load(name: str) -> Case:
    """Cases are immutable, so each file is read once per test session."""
    return alliancelab.read_case(resolve_case(name))


def band(x: np.ndarray) -> tuple[float, float, float]:
    p5, p50, p95 = np.quantile(np.asarray(x, dtype=float), [0.05, 0.5, 0.95])
    return float(p5), float(p50), float(p95)


@functools.cache
def lever_effects(case_name: str) -> dict[tuple[str, str], np.ndarray]:
    """Per Monte Carlo draw, the effect of each lever of :data:`TABLE` and
    :data:`RECOMMENDATIONS` on each of its indicators: the indicator averaged over rounds
    1..T with the lever minus without (the same drawn case and seed)."""
    case = load(case_name)
    levers = {**TABLE, **RECOMMENDATIONS}
    out: dict[tuple[str, str], list[float]] = {}
    for variant in draw(case, DRAWS, rng=SEED).cases():
        base = simulate(variant, rng=0).indicators
        for lever, rows in levers.items():
            with_lever = simulate(variant, [lever], rng=0).indicators
            for indicator, _ in rows:
                diff = with_lever[indicator][1:].mean() - base[indicator][1:].mean()
                out.setdefault((lever, indicator), []).append(float(diff))
    return {k: np.array(v) for k, v in out.items()}


def _rows() -> Iterator[object]:
    for case_name in CASES:
        for lever, checks in TABLE.items():
            for indicator, sign in checks:
                reason = NOT_HOLDING.get((case_name, lever, indicator))
                marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
                yield pytest.param(case_name, lever, indicator, sign, marks=marks,
                                   id=f"{case_name}-{lever}-{indicator}")


# -- 1. no effect by construction ----------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    """A change of a shock or lever that sets a quantity an indicator term reads."""

    intervention: str
    change: Change
    quantities: frozenset[tuple[str, ...]]
    terms: tuple[str, ...]


def _select(case: Case, names: list[str] | None) -> list[str]:
    return [a.name for a in case.actors if not names or a.name in names or a.group in names]


def _term_reads(case: Case, term: IndicatorTerm) -> set[tuple[str, ...]]:
    """The quantities one indicator term reads directly (outcomes and constants read
    nothing an intervention can set: outcomes are bargained)."""
    if term.kind == "perception":
        return {("perception", a, str(term.perception)) for a in _select(case, term.actors)}
    if term.kind == "perception_gap":
        return {("perception", a, str(term.perception))
                for a in (*_select(case, term.a), *_select(case, term.b))}
    if term.kind == "position_gap":
        issues = [term.issue] if term.issue else list(case.issue_names)
        return {("position", a, str(k)) for a in (*_select(case, term.a), *_select(case, term.b))
                for k in issues}
    if term.kind == "misperception":
        return {("estimate", i, j) for i in _select(case, term.a) for j in _select(case, term.b)
                if i != j}
    return set()


def indicator_reads(case: Case) -> dict[tuple[str, ...], list[str]]:
    """Quantity -> the indicator terms (``name[k] (kind)``) that read it directly."""
    reads: dict[tuple[str, ...], list[str]] = {}
    for ind in case.indicators:
        for k, term in enumerate(ind.terms):
            for q in _term_reads(case, term):
                reads.setdefault(q, []).append(f"{ind.name}[{k}] ({term.kind})")
    return reads


def _quantities(case: Case) -> dict[tuple[str, ...], object]:
    """Every perception, misestimate and ideal position of every actor, and the indicators."""
    out: dict[tuple[str, ...], object] = {("indicator",): case.indicators}
    for a in case.actors:
        p = a.perceptions
        for key, v in p.threats.items():
            out[("perception", a.name, f"threats.{key}")] = v.value
        if p.partner_reliability is not None:
            out[("perception", a.name, "partner_reliability")] = p.partner_reliability.value
        for other, est in p.estimates.items():
            out[("estimate", a.name, other)] = est.model_dump()
        for issue, v in a.positions.items():
            out[("position", a.name, issue)] = v.value
    return out


def touched(case: Case, change: Change) -> set[tuple[str, ...]]:
    """The quantities of :func:`_quantities` that ``change`` alone moves on ``case``."""
    before, after = _quantities(case), _quantities(apply_changes(case, [change], label="check"))
    return {q for q in before.keys() | after.keys() if before.get(q) != after.get(q)}


def direct_hits(case: Case) -> list[Hit]:
    """Every change of every shock and lever that moves a quantity an indicator reads."""
    reads = indicator_reads(case)
    reads[("indicator",)] = ["the indicators' definitions"]
    hits = []
    for item in (*case.shocks, *case.levers):
        for change in item.changes:
            hit = touched(case, change) & reads.keys()
            if hit:
                terms = tuple(dict.fromkeys(t for q in sorted(hit) for t in reads[q]))
                hits.append(Hit(item.name, change, frozenset(hit), terms))
    return hits


def is_documented_exception(case: Case, change: Change) -> bool:
    """``source: "exception: <a source of the case> - <why the change is the event>"``."""
    src = change.source or ""
    return src.startswith("exception:") and any(key in src for key in case.sources)


@pytest.mark.parametrize("case_name", CASES)
def test_no_shock_or_lever_sets_what_an_indicator_reads(case_name: str) -> None:
    case = load(case_name)
    bad = [f"{h.intervention}: {h.change.op} {h.change.target} -> {', '.join(h.terms)}"
           for h in direct_hits(case) if not is_documented_exception(case, h.change)]
    assert not bad, "effects by construction:\n" + "\n".join(bad)


@pytest.mark.parametrize("case_name", CASES)
def test_every_exception_is_needed_and_confined_to_shocks(case_name: str) -> None:
    """An ``exception:`` is only for a change that does hit an indicator's term, and only in
    a shock (an event); a lever (a policy) always acts through the mechanisms."""
    case = load(case_name)
    hits = {(h.intervention, h.change.target) for h in direct_hits(case)}
    for kind, items in (("shock", case.shocks), ("lever", case.levers)):
        for item in items:
            for change in item.changes:
                if (change.source or "").startswith("exception:"):
                    assert kind == "shock", (item.name, change.target)
                    assert (item.name, change.target) in hits, (item.name, change.target)
                    assert is_documented_exception(case, change), change.source


def test_the_check_catches_an_effect_by_construction() -> None:
    """The old strategic_diplomacy edited the very felt threats tension sums."""
    case = load("us_rok_2025")
    old = Intervention(name="old_diplomacy", changes=[
        Change(target="actors.DPRK.perceptions.threats.alliance", op="add", value=-0.15,
               source="judgement: dialogue lowers Pyongyang's felt threat"),
        Change(target="actors.group:US+ROK.positions.dprk_policy", op="add", value=-10,
               source="judgement: a diplomatic track softens pressure"),
        Change(target="indicators.0.terms.0.weight", op="scale", value=2.0),
    ])
    hits = direct_hits(case.model_copy(update={"levers": [*case.levers, old]}))
    mine = [h for h in hits if h.intervention == "old_diplomacy"]
    assert [h.change.target for h in mine] == ["actors.DPRK.perceptions.threats.alliance",
                                               "indicators.0.terms.0.weight"]
    assert any(t.startswith("tension") for t in mine[0].terms)
    assert any(t.startswith("miscalculation_risk") for t in mine[0].terms)


# -- 2. document 000's table, emergent -----------------------------------------------------


@pytest.mark.parametrize(("case_name", "lever", "indicator", "sign"), list(_rows()))
def test_consideration_impact_row(case_name: str, lever: str, indicator: str,
                                  sign: int) -> None:
    p5, p50, p95 = band(lever_effects(case_name)[(lever, indicator)])
    assert sign * p5 > 0 and sign * p95 > 0, (
        f"{case_name}: {lever} -> {indicator}: {p50:+.4f} [{p5:+.4f}, {p95:+.4f}]")


def test_rapid_reduction_is_worse_than_the_same_cut_made_slowly() -> None:
    """'Rapid' matters: the same positions at the case's own adjustment speed give less
    peak uncertainty than at the lever's faster speed, and end near the same troop level."""
    case = load("us_rok_2025")
    fast = simulate(case, interventions=["rapid_troop_reduction"], rng=0)
    lever = find_intervention(case, "rapid_troop_reduction")
    slow_case = apply_changes(
        case, [c for c in lever.changes if c.target != "dynamics.adjustment_speed"],
        label="slow")
    slow = simulate(slow_case, rng=0)
    assert fast.indicators["regional_uncertainty"].max() > slow.indicators[
        "regional_uncertainty"].max()
    troops = list(case.issue_names).index("usfk_troops")
    assert abs(fast.outcomes[-1, troops] - slow.outcomes[-1, troops]) < 0.05 * 40000


# -- 3. document 004's gaps, emergent ------------------------------------------------------


def _final_gaps(case: Case) -> dict[str, float]:
    """ROK minus US (capability-weighted group means) at the last round of the baseline
    dynamics: each threat perception, and the ideal position on the alliance's China role
    in scale widths."""
    sim = simulate(case, rng=0)
    caps = np.array([a.capability.value for a in case.actors])
    groups = np.array([a.group for a in case.actors])

    def gap(values: np.ndarray) -> float:
        mean = {g: np.average(values[groups == g], weights=caps[groups == g])
                for g in ("US", "ROK")}
        return float(mean["ROK"] - mean["US"])

    k = list(case.issue_names).index("china_stance")
    rok = groups == "ROK"
    return {
        "threats.dprk": gap(sim.perceptions["threats.dprk"][-1]),
        "threats.china": gap(sim.perceptions["threats.china"][-1]),
        "rok.threats.china": float(np.average(sim.perceptions["threats.china"][-1][rok],
                                              weights=caps[rok])),
        "rok.china_stance": float(np.average(sim.positions[-1][rok, k], weights=caps[rok])
                                  / case.issue("china_stance").scale.width),
    }


@functools.cache
def final_gaps(case_name: str) -> dict[str, np.ndarray]:
    rows = [_final_gaps(v) for v in draw(load(case_name), DRAWS, rng=SEED).cases()]
    return {k: np.array([r[k] for r in rows]) for k in rows[0]}


def test_2007_gap_seoul_less_threatened_by_the_north_and_more_benign_toward_china() -> None:
    """Document 004, at the end of the dynamics (feedback and consultation have acted) and
    over the draws: both gaps (ROK minus US) stay below zero."""
    g = final_gaps("us_rok_2007")
    for key in ("threats.dprk", "threats.china"):
        p5, p50, p95 = band(g[key])
        assert p95 < 0, (key, p5, p50, p95)


def test_2007_to_2025_seoul_view_of_china_hardens() -> None:
    """How 2025 differs: Seoul finds China more threatening, the China gap narrows, and
    Seoul's ideal China stance moves up (toward Washington's); draw i of each snapshot paired
    by the seed."""
    old, new = final_gaps("us_rok_2007"), final_gaps("us_rok_2025")
    assert band(new["rok.threats.china"] - old["rok.threats.china"])[0] > 0
    assert band(np.abs(old["threats.china"]) - np.abs(new["threats.china"]))[0] > 0
    assert band(new["rok.china_stance"] - old["rok.china_stance"])[0] > 0


@pytest.mark.parametrize("case_name", CASES)
@pytest.mark.parametrize("lever", list(RECOMMENDATIONS))
def test_recommendations_narrow_the_gap_through_consultation(case_name: str,
                                                             lever: str) -> None:
    """Document 004's joint threat assessment and deeper consultation narrow the gap: they
    raise the consultation rate, and the dynamics do the rest."""
    p5, p50, p95 = band(lever_effects(case_name)[(lever, "alliance_perception_gap")])
    assert p95 < 0, (lever, p5, p50, p95)
