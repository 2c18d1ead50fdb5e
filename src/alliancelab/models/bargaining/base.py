"""The engine contract, after scikit-learn's estimators: the constructor only stores
options; :meth:`Engine.solve` takes a :class:`Problem` and a Generator and returns the
raw outcome, which :func:`alliancelab.forecast` wraps into a :class:`Forecast`.

An engine implements :meth:`Engine._solve` (and, with a vectorised kernel,
:meth:`Engine._solve_batch`); the public :meth:`Engine.solve` and :meth:`Engine.solve_batch`
add the issues' veto players and legal bounds (:mod:`.veto`), so that every caller gets
forecasts under the same rules."""

from __future__ import annotations

from abc import ABC
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ...core.errors import AllianceLabError
from ...core.problem import Problem, normalise_all
from . import veto


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

    def solve(self, problem: Problem, rng: np.random.Generator) -> Outcome:
        """Forecast ``problem``: the engine's model (:meth:`_solve`), then the issues' veto
        players and legal bounds (:func:`.veto.constrain`; recorded as the ``veto``
        diagnostic where an issue has one). Must not do I/O. Capabilities are normalised
        first (:meth:`Problem.normalised`: only their ratios matter)."""
        out = self._solve(problem.normalised(), rng)
        forecast, diag = veto.constrain(problem, out.forecast)
        if diag is None:
            return out
        return Outcome(rounds=out.rounds, forecast=forecast,
                       diagnostics={**out.diagnostics, "veto": diag})

    def _solve(self, problem: Problem, rng: np.random.Generator) -> Outcome:
        """The engine's own model, before veto players and legal bounds; every engine
        implements it (an engine that overrides :meth:`solve` itself need not)."""
        raise NotImplementedError(f"{type(self).__name__} implements neither _solve nor solve")

    def solve_batch(
        self, problems: Sequence[Problem], rngs: Sequence[np.random.Generator]
    ) -> np.ndarray:
        """The forecasts ``(N, d)`` of many problems with the same actors and issues, one
        Generator each, under the issues' veto players and legal bounds; equal to
        ``[self.solve(p, rng).forecast ...]``."""
        if len(problems) != len(rngs):
            raise ValueError("solve_batch needs one Generator per problem")
        solved = normalise_all(problems)
        return veto.constrain_rows(problems, self._solve_batch(solved, rngs))

    def _solve_batch(
        self, problems: Sequence[Problem], rngs: Sequence[np.random.Generator]
    ) -> np.ndarray:
        """The unconstrained forecasts ``(N, d)``. This default loops over :meth:`_solve`;
        an engine with a vectorised kernel overrides it, and must give the loop's results
        (tests/test_arenas.py checks)."""
        d = problems[0].n_issues if problems else 0
        out = np.empty((len(problems), d))
        for k, (problem, rng) in enumerate(zip(problems, rngs, strict=True)):
            out[k] = self._solve(problem, rng).forecast
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
