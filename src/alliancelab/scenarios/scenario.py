"""One path for "this case with these interventions".

A :class:`Scenario` is a case and the shocks and levers applied to it, in the order given.
Everything that evaluates a scenario goes through it, so the engines, the dynamics and the
perception measures always see the same intervened case:

* :attr:`Scenario.case` - every intervention applied at once: what the one-shot engines
  forecast (:meth:`Scenario.problem`) and what the perception gap is measured on;
* :attr:`Scenario.stages` - for the dynamics, round -> the case with the interventions due
  by that round (each at its ``at_round``, cumulatively, in the order given) applied;
* :meth:`Scenario.simulate` - :func:`alliancelab.models.dynamics.simulate` with those
  stages (:func:`simulate_all`: many scenarios stepped together).

The baseline is the scenario without interventions. Names are checked once, by
:func:`alliancelab.scenarios.interventions.check_names`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from ..core.case import Case
from ..core.problem import Problem
from ..core.rng import RngLike
from ..models.dynamics import Run, Simulation, simulate, simulate_batch
from .interventions import apply_interventions, check_names, find_intervention

__all__ = ["Scenario", "scenario", "simulate_all", "simulate_scenario"]


@dataclass(frozen=True, eq=False)
class Scenario:
    """``base`` with the shocks and levers ``interventions`` (see the module docstring).
    Build it with :func:`scenario`, which checks the names."""

    base: Case
    interventions: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """``"baseline"``, or the interventions joined by ``" + "``."""
        return " + ".join(self.interventions) if self.interventions else "baseline"

    @cached_property
    def case(self) -> Case:
        """The case with every intervention applied (the case itself for the baseline)."""
        if not self.interventions:
            return self.base
        return apply_interventions(self.base, self.interventions)

    @cached_property
    def schedule(self) -> dict[str, int]:
        """The round at which each intervention takes effect (its ``at_round``)."""
        return {name: find_intervention(self.base, name).at_round
                for name in self.interventions}

    @cached_property
    def stages(self) -> dict[int, Case]:
        """Round -> the case with every intervention due by that round applied (rounds at
        which something happens only; round 0 is the base case)."""
        out: dict[int, Case] = {}
        for r in sorted(set(self.schedule.values())):
            due = [n for n in self.interventions if self.schedule[n] <= r]
            out[r] = self.case if len(due) == len(self.interventions) \
                else apply_interventions(self.base, due)
        return out

    def problem(self) -> Problem:
        """The engines' arrays of :attr:`case`."""
        return Problem.from_case(self.case)

    def simulate(self, *, model: str = "compromise", rounds: int | None = None,
                 rng: RngLike = None) -> Simulation:
        """The perception dynamics of the base case with the interventions at their round."""
        return simulate(self.base, model=model, rounds=rounds, stages=self.stages,
                        schedule=self.schedule, rng=rng)

    def run(self, rng: RngLike = None) -> Run:
        """:meth:`simulate`'s run, for :func:`~alliancelab.models.dynamics.simulate_batch`."""
        return Run(self.base, self.stages, self.schedule, rng)


def scenario(case: Case, interventions: Sequence[str] = (), kind: str = "any") -> Scenario:
    """The :class:`Scenario` of ``case`` with ``interventions`` (each a shock, a lever, or
    either, per ``kind``; an unknown name raises the one-line error)."""
    if isinstance(interventions, str):
        interventions = (interventions,)
    return Scenario(case, check_names(case, tuple(interventions), kind))


def simulate_all(scenarios: Sequence[Scenario], rngs: Sequence[RngLike], *,
                 model: str = "compromise", rounds: int | None = None) -> list[Simulation]:
    """``[sc.simulate(model=model, rounds=rounds, rng=rng) ...]``, the scenarios stepped
    together (:func:`~alliancelab.models.dynamics.simulate_batch`: the same numbers)."""
    return simulate_batch([sc.run(rng) for sc, rng in zip(scenarios, rngs, strict=True)],
                          model=model, rounds=rounds)


def simulate_scenario(case: Case, interventions: Sequence[str] = (), *,
                      model: str = "compromise", rounds: int | None = None,
                      rng: RngLike = None) -> Simulation:
    """``scenario(case, interventions).simulate(...)``: the dynamics of ``case`` with each
    shock and lever taking effect at its ``at_round``."""
    return scenario(case, interventions).simulate(model=model, rounds=rounds, rng=rng)
