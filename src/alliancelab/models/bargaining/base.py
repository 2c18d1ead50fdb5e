"""The engine contract, after scikit-learn's estimators: the constructor only stores
options; :meth:`Engine.solve` takes a :class:`Problem` and a Generator and returns the
raw outcome, which :func:`alliancelab.forecast` wraps into a :class:`Forecast`."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ...core.errors import AllianceLabError
from ...core.problem import Problem


@dataclass(frozen=True)
class Outcome:
    """What :meth:`Engine.solve` returns: ``rounds`` ``(R+1, n, d)``, ``forecast`` ``(d,)``."""

    rounds: np.ndarray
    forecast: np.ndarray
    diagnostics: dict[str, Any] = field(default_factory=dict)


class Engine(ABC):
    """A negotiation model. Subclasses set ``name`` and ``min_actors``."""

    name: ClassVar[str]
    min_actors: ClassVar[int] = 1
    iterative: ClassVar[bool] = False

    def get_params(self) -> dict[str, Any]:
        """The options the engine was built with (its public attributes)."""
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    @abstractmethod
    def solve(self, problem: Problem, rng: np.random.Generator) -> Outcome:
        """Forecast ``problem``; must not do I/O."""

    def solve_batch(
        self, problems: Sequence[Problem], rngs: Sequence[np.random.Generator]
    ) -> np.ndarray:
        """The forecasts ``(N, d)`` of many problems with the same actors and issues, one
        Generator each. This default loops over :meth:`solve`; an engine with a vectorised
        kernel overrides it, and must give the loop's results (the contract test checks)."""
        d = problems[0].n_issues if problems else 0
        out = np.empty((len(problems), d))
        for k, (problem, rng) in enumerate(zip(problems, rngs, strict=True)):
            out[k] = self.solve(problem, rng).forecast
        return out

    def check(self, problem: Problem) -> None:
        """Raise the one-line error when the engine cannot take ``problem`` (too few
        actors); the one place this is checked."""
        if problem.n_actors < self.min_actors:
            raise AllianceLabError(
                f"model {self.name!r} needs at least {self.min_actors} actors, the case has "
                f"{problem.n_actors}",
                field="actors",
            )

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


def static_outcome(problem: Problem, forecast: np.ndarray, **diagnostics: Any) -> Outcome:
    """Outcome of a one-shot model: round 0 is the input, there are no further rounds."""
    return Outcome(
        rounds=problem.position[None, :, :].copy(),
        forecast=np.asarray(forecast, dtype=float),
        diagnostics=diagnostics,
    )
