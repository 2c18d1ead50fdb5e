"""The run's variant work in chunks (:func:`alliancelab.jobs.alliance.variants_task`): a
chunk of variants computed together gives, number for number, what each variant gives
alone, a plug-in failure included, whatever the chunking."""

from __future__ import annotations

import concurrent.futures as cf
import sys
import types

import numpy as np
import pytest

from alliancelab.cases import resolve_case
from alliancelab.cases import us_rok as am
from alliancelab.core.case import Case
from alliancelab.execution import Evaluator
from alliancelab.formats import read_case
from alliancelab.jobs.alliance import submit_variants, variants_task
from alliancelab.jobs.effects import (
    EffectTask,
    VariantSeeds,
    effect_tasks,
    scenario_sets,
    variant_case,
)
from alliancelab.scenarios.uncertainty import Draws, draw

MODELS = ("smp", "bdm")


@pytest.fixture(scope="module")
def setup() -> tuple[Case, Draws]:
    case = read_case(resolve_case("us_rok_2025", strict=True))
    return case, draw(case, 4, rng=np.random.default_rng(5))


def _effects(n_draws: int) -> list[EffectTask]:
    """The case as stated (both engines) and ``n_draws`` draws (the first engine)."""
    stated = VariantSeeds(tuple(np.random.SeedSequence(1).spawn(2)), np.random.SeedSequence(2))
    return effect_tasks(models=MODELS, band_models=MODELS[:1], n_draws=n_draws, stated=stated,
                        seq=np.random.SeedSequence(3))


def _failing_plugin(case: Case, mc: Draws, j: int, monkeypatch: pytest.MonkeyPatch) -> Case:
    """The case with a plug-in that fails on every scenario of variant ``j`` (a draw: its
    first actor's capability is the draw's)."""
    bad = variant_case(case, mc.params, mc.samples[j - 1]).actors[0].capability.value

    def evaluate(c: Case) -> tuple[dict[str, float], dict[str, str]]:
        x = c.actors[0].capability.value
        if x == bad:
            raise ValueError("no fit")
        return {"x": x, "n": float(len(c.actors))}, {"big": str(x > 5)}

    module = types.ModuleType("failing_plugin")
    module.evaluate = evaluate  # type: ignore[attr-defined]
    module.evaluate_many = lambda cases: [evaluate(c) for c in cases]  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "failing_plugin", module)
    return case.model_copy(update={"plugin": "failing_plugin"})


def _alone_and_together(case: Case, mc: Draws, n_effects: int, n_alliance: int
                        ) -> tuple[str, str]:
    combos = [(), *(s.interventions for s in scenario_sets(case, ())[:3])]
    n = max(n_effects, n_alliance)
    samples = [None, *mc.samples[:n - 1]]
    effects = _effects(n_effects - 1)
    together = variants_task(case, mc.params, samples, combos, effects, n_alliance)
    alone: tuple[list, list] = ([], [])
    for j, s in enumerate(samples):
        measured, evaluated = variants_task(case, mc.params, [s], combos, effects[j:j + 1],
                                            int(j < n_alliance))
        alone[0].extend(measured)
        alone[1].extend(evaluated)
    assert len(together[0]) == n_effects and len(together[1]) == n_alliance
    return repr(together), repr(alone)


def test_a_chunk_of_variants_gives_what_each_variant_gives_alone(setup):
    case, mc = setup
    am._SOLVED.clear()
    together, alone = _alone_and_together(case, mc, 2, 4)
    assert together == alone


def test_a_failing_variant_stays_with_its_cases(setup, monkeypatch):
    case, mc = setup
    failing = _failing_plugin(case, mc, 2, monkeypatch)
    together, alone = _alone_and_together(failing, mc, 1, 4)
    assert together == alone
    evaluated = variants_task(failing, mc.params, [None, *mc.samples[:3]], [()], [], 4)[1]
    assert [e is None for v in evaluated for _, _, e in v] == [True, True, False, True]
    assert evaluated[2][0][2] == "ValueError: no fit"


@pytest.mark.parametrize("workers", [1, 2])
def test_the_tables_do_not_depend_on_the_chunking(setup, monkeypatch, workers):
    """Sequentially (one chunk per third of the variants) and on an executor of ``workers``
    (smaller chunks) the effects and the plug-in tables are the same; the progress ends at
    the number of chunks."""
    case, mc = setup
    failing = _failing_plugin(case, mc, 3, monkeypatch)
    sets = scenario_sets(case, ())[:2]

    def tables(ev: Evaluator) -> tuple[str, list[tuple[str, int, int]]]:
        ticks: list[tuple[str, int, int]] = []
        notes: list[str] = []
        pe, pa = submit_variants(failing, mc, sets, _effects(2), 4, ev, notes)
        effects = pe.result(lambda *t: ticks.append(t), notes)
        alliance = pa.result(lambda *t: ticks.append(t), notes)
        return repr((effects.to_csv(), alliance.table.to_csv(), alliance.labels.to_csv(),
                     notes)), ticks

    one, ticks_one = tables(Evaluator(1))
    with cf.ThreadPoolExecutor(workers) as pool:
        many, ticks_many = tables(Evaluator(executor=pool))
    assert one == many
    assert "alliance models failed on 3 of 15 variants (ValueError: no fit)" in one
    assert ticks_one[-1] == ("shocks and levers", 3, 3)
    n_chunks = len(range(0, 5, -(-5 // (3 * workers))))
    assert ticks_many[-1][1:] == (n_chunks, n_chunks)
