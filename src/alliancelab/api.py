"""The Python entry points: :func:`forecast` a case with any engine."""

from __future__ import annotations

from typing import Any

from .core.case import Case
from .core.checks import positive_int
from .core.errors import AllianceLabError
from .core.result import Forecast
from .core.rng import DEFAULT_SEED, RngLike, make_rng, versions
from .models.bargaining import Problem, engine_class


def forecast(
    case: Case | Problem,
    model: str = "compromise",
    *,
    rng: RngLike = None,
    rounds: int | None = None,
    **options: Any,
) -> Forecast:
    """Forecast ``case`` with ``model``.

    ``rounds`` caps the iterations of the iterative models (``bdm``, ``bdm-scholz``, ``smp``);
    other keyword options go to the engine's constructor (see each engine's docstring).
    ``rng`` None is :data:`~alliancelab.core.rng.DEFAULT_SEED`, so the same call gives the
    same forecast. The seed (entropy) and package versions are recorded on the result.
    """
    cls = engine_class(model)
    if rounds is not None:
        if not cls.iterative:
            raise AllianceLabError(f"model {model!r} is not iterative", field="rounds")
        options["rounds"] = positive_int(rounds, "rounds", limit="rounds")
    try:
        engine = cls(**options)
    except TypeError as exc:
        raise AllianceLabError(f"bad option for model {model!r}: {exc}", field="options") from None
    problem = case if isinstance(case, Problem) else Problem.from_case(case)
    engine.check(problem)
    generator, seed = make_rng(DEFAULT_SEED if rng is None else rng)
    out = engine.solve(problem, generator)
    return Forecast(
        model=model,
        actors=problem.actors,
        issues=problem.issues,
        rounds=out.rounds,
        forecast=out.forecast,
        diagnostics=out.diagnostics,
        settings=engine.get_params(),
        seed=seed,
        versions=versions(),
    )
