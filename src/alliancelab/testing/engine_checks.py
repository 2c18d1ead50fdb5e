"""The engine contract as one function, shipped for anyone who writes an engine -- as
scikit-learn ships ``check_estimator``:

>>> from alliancelab.testing import check_engine
>>> check_engine(MyEngine)                 # doctest: +SKIP

:func:`check_engine` runs each property below on random valid cases drawn by
:mod:`alliancelab.testing.strategies` (Hypothesis shrinks a failure to a small case), and
raises :class:`EngineContractError` (an ``AssertionError``) naming the first property the
engine breaks, what was wrong, and the falsifying example.

The properties, in the order they are checked (``CHECKS``):

``declares its contract``
    ``name`` is a non-empty string, ``min_actors`` an int >= 1, ``iterative`` a bool.
``get_params``
    returns the constructor's options by their parameter names, and
    ``type(engine)(**engine.get_params())`` is an engine with the same options.
``check refuses too few actors``
    :meth:`Engine.check` raises the one-line :class:`AllianceLabError` naming ``min_actors``
    for every problem with fewer actors, and accepts one with ``min_actors``.
``forecast inside the hull``
    ``rounds`` is ``(R+1, n, d)`` with round 0 the input, bit for bit; ``forecast`` is
    ``(d,)``, finite and within the range of the positions, issue by issue (tolerance
    1e-9 x the issue's scale width) -- also when capabilities and saliences are exactly 0.
``no mutation of the problem``
    :meth:`Engine.solve` leaves every array of the problem as it was, and returns arrays
    that do not share memory with the problem's.
``fixed seed reproducibility``
    two solves with Generators seeded alike give identical rounds, forecast and diagnostics;
    solving does not change ``get_params()``.
``permutation invariance``
    reordering the actors changes neither the forecast nor any actor's trajectory
    (tolerance 1e-7 x width: a reordered sum rounds differently).
``capability scaling invariance``
    multiplying every capability (and every estimate of one) by the same factor changes
    nothing (1e-7 x width; 1e-12 for powers of two, which scale exactly).
``unanimity``
    when every actor holds the same position, the forecast and every round are that position
    (1e-9 x width).
``solve_batch equals the solve loop``
    :meth:`Engine.solve_batch` on problems with the same actors and issues returns ``(N, d)``
    equal to ``solve(problem, rng).forecast`` row by row, with Generators seeded alike
    (1e-9 x width: a vectorised kernel may sum in another order).

The random cases include actors' misperceptions of each other (``perceptions.estimates``),
which permutation and scaling carry along; unanimous cases have none.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ..core.case import Case
from ..core.errors import AllianceLabError
from ..core.problem import Problem
from ..formats import format_case
from ..models.bargaining.base import Engine, Outcome
from .strategies import cases, permuted, scaled_capabilities

DECLARES = "declares its contract"
GET_PARAMS = "get_params"
CHECK = "check refuses too few actors"
HULL = "forecast inside the hull"
MUTATION = "no mutation of the problem"
SEED = "fixed seed reproducibility"
PERMUTATION = "permutation invariance"
SCALING = "capability scaling invariance"
UNANIMITY = "unanimity"
BATCH = "solve_batch equals the solve loop"

#: every property :func:`check_engine` checks, in order
CHECKS: tuple[str, ...] = (
    DECLARES,
    GET_PARAMS,
    CHECK,
    HULL,
    MUTATION,
    SEED,
    PERMUTATION,
    SCALING,
    UNANIMITY,
    BATCH,
)

#: tolerances, relative to each issue's scale width
RANGE_TOL = 1e-9
REORDER_TOL = 1e-7
EXACT_TOL = 1e-12
BATCH_TOL = 1e-9


class EngineContractError(AssertionError):
    """An engine breaks a property of the contract; ``property`` names which."""

    def __init__(self, prop: str, message: str) -> None:
        self.property = prop
        self.detail = message
        super().__init__(message)


def check_engine(
    engine: Engine | type[Engine],
    *,
    max_examples: int = 30,
    max_actors: int = 8,
    max_issues: int = 3,
    checks: Sequence[str] | None = None,
    hypothesis_settings: settings | None = None,
) -> None:
    """Check that ``engine`` (an :class:`Engine` instance, or a subclass built with its
    default options) keeps the engine contract; raise :class:`EngineContractError` naming
    the first property it breaks.

    ``max_examples`` random cases per property (Hypothesis), with up to ``max_actors``
    actors and ``max_issues`` issues (lower them for a slow engine); ``checks`` runs only
    the properties named (see ``CHECKS``). The properties run under
    ``hypothesis_settings`` (default: the active Hypothesis profile, e.g. one with
    ``derandomize=True`` for reproducible CI runs), with ``max_examples`` and no deadline.
    """
    eng = _instance(engine)
    label = f"engine {type(eng).__name__}"
    if isinstance(getattr(eng, "name", None), str):
        label += f" ({eng.name!r})"
    chosen = CHECKS if checks is None else tuple(checks)
    unknown = [c for c in chosen if c not in CHECKS]
    if unknown:
        raise ValueError(f"unknown checks {unknown}; choose from {list(CHECKS)}")
    prop_settings = settings(
        hypothesis_settings,
        max_examples=max_examples,
        deadline=None,
        report_multiple_bugs=False,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    for prop, run in _checks(eng, prop_settings, max_actors, max_issues):
        if prop not in chosen:
            continue
        try:
            run()
        except EngineContractError as exc:
            raise _located(label, exc.property, exc.detail, exc) from exc
        except Exception as exc:  # the engine crashed on a valid case
            detail = f"raised {type(exc).__name__}: {exc}"
            raise _located(label, prop, detail, exc) from exc


def _located(label: str, prop: str, detail: str, exc: BaseException) -> EngineContractError:
    notes = [n for n in getattr(exc, "__notes__", ()) if n.strip()]
    message = f"{label} breaks the engine contract, property {prop!r}: {detail}"
    if notes:
        message += "\n" + "\n".join(notes)
    return EngineContractError(prop, message)


def _instance(engine: Engine | type[Engine]) -> Engine:
    if isinstance(engine, type):
        if not issubclass(engine, Engine):
            raise TypeError(f"{engine.__name__} is not a subclass of alliancelab Engine")
        try:
            return engine()
        except Exception as exc:
            detail = f"{engine.__name__}() with default options raised {exc!r}"
            raise _located(f"engine {engine.__name__}", DECLARES, detail, exc) from exc
    if not isinstance(engine, Engine):
        raise TypeError(f"expected an Engine or an Engine subclass, got {engine!r}")
    return engine


def _fail(prop: str, condition: bool, message: str | Callable[[], str]) -> None:
    if not condition:
        raise EngineContractError(prop, message if isinstance(message, str) else message())


# ---------------------------------------------------------------------------- helpers
def _width(problem: Problem) -> np.ndarray:
    return np.asarray(problem.upper - problem.lower, dtype=float)


def _close(prop: str, what: str, a: np.ndarray, b: np.ndarray, tol: np.ndarray) -> None:
    """``a`` and ``b`` (last axis = issues) agree within ``tol`` (per issue)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    _fail(prop, a.shape == b.shape, f"{what}: shapes {a.shape} and {b.shape} differ")
    diff = np.abs(a - b)
    bad = ~(diff <= tol)  # NaN counts as a difference
    if bad.any():
        worst = float(np.max(np.where(np.isnan(diff), np.inf, diff)))
        raise EngineContractError(
            prop,
            f"{what} differ by up to {worst:.3g} (tolerance {float(np.min(tol)):.3g}; "
            f"{int(bad.sum())} of {bad.size} entries)",
        )


def _same(a: Any, b: Any) -> bool:
    """Exact equality of nested diagnostics (arrays, mappings, sequences, scalars; NaN
    equals NaN)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        x, y = np.asarray(a), np.asarray(b)
        if x.shape != y.shape or x.dtype.kind != y.dtype.kind:
            return False
        try:
            return bool(np.array_equal(x, y, equal_nan=True))
        except TypeError:
            return bool(np.array_equal(x, y))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b):
        return True
    try:
        return bool(a == b)
    except Exception:
        return False


def _solve(engine: Engine, problem: Problem, seed: int = 0) -> Outcome:
    try:
        engine.check(problem)
    except AllianceLabError as exc:
        raise EngineContractError(
            CHECK,
            f"check() refused a valid problem with {problem.n_actors} actors "
            f"(min_actors={engine.min_actors}): {exc}",
        ) from exc
    out = engine.solve(problem, np.random.default_rng(seed))
    _fail(HULL, isinstance(out, Outcome), f"solve() returned {type(out).__name__}, not Outcome")
    return out


@contextlib.contextmanager
def _noting(case: Case) -> Iterator[None]:
    """On a failure, add the case as YAML to the exception's notes (Hypothesis shows them
    with the falsifying example), ready to be saved and forecast again."""
    try:
        yield
    except Exception as exc:
        try:
            text = format_case(case, "yaml")
        except Exception as fmt_exc:  # pragma: no cover - the writer refused the case
            text = f"(cannot be written as YAML: {fmt_exc}) {case.model_dump()!r}"
        exc.add_note("the case, as YAML:\n" + text)
        raise


def _arrays(problem: Problem) -> dict[str, np.ndarray]:
    return {
        f.name: getattr(problem, f.name)
        for f in dataclasses.fields(problem)
        if isinstance(getattr(problem, f.name), np.ndarray)
    }


# ---------------------------------------------------------------------------- the checks
def _checks(
    engine: Engine, prop_settings: settings, max_actors: int, max_issues: int
) -> Iterator[tuple[str, Callable[[], None]]]:
    lo = engine.min_actors if isinstance(engine.min_actors, int) else 1
    lo = max(1, lo)
    hi = max(lo, max_actors)

    def random_cases(**kwargs: Any) -> st.SearchStrategy[Case]:
        return cases(min_actors=lo, max_actors=hi, max_issues=max_issues, **kwargs)

    yield DECLARES, lambda: _declares(engine)
    yield GET_PARAMS, lambda: _get_params(engine)
    yield CHECK, lambda: _check_min_actors(engine)

    @prop_settings
    @given(case=random_cases(estimates=True))
    def hull_and_mutation(case: Case) -> None:
        with _noting(case):
            _hull(engine, Problem.from_case(case))

    @prop_settings
    @given(case=random_cases(degenerate=True))
    def degenerate(case: Case) -> None:
        with _noting(case):
            _hull(engine, Problem.from_case(case), note=" (capabilities and saliences may be 0)")

    def hull() -> None:
        hull_and_mutation()
        degenerate()

    yield HULL, hull

    @prop_settings
    @given(case=random_cases(estimates=True))
    def mutation(case: Case) -> None:
        with _noting(case):
            _no_mutation(engine, Problem.from_case(case))

    yield MUTATION, mutation

    @prop_settings
    @given(case=random_cases(estimates=True), seed=st.integers(0, 2**32))
    def seed(case: Case, seed: int) -> None:
        with _noting(case):
            _reproducible(engine, Problem.from_case(case), seed)

    yield SEED, seed

    @prop_settings
    @given(data=st.data(), case=random_cases(estimates=True))
    def permutation(data: st.DataObject, case: Case) -> None:
        order = data.draw(st.permutations(list(range(len(case.actors)))), label="order")
        with _noting(case):
            _permutation(engine, case, order)

    yield PERMUTATION, permutation

    @prop_settings
    @given(
        case=random_cases(estimates=True),
        factor=st.sampled_from([2.0**-20, 0.25, 8.0, 2.0**30])
        | st.floats(1e-3, 1e3, allow_subnormal=False),
    )
    def scaling(case: Case, factor: float) -> None:
        with _noting(case):
            _scaling(engine, case, factor)

    yield SCALING, scaling

    @prop_settings
    @given(case=random_cases(unanimous=True))
    def unanimity(case: Case) -> None:
        with _noting(case):
            _unanimity(engine, Problem.from_case(case))

    yield UNANIMITY, unanimity

    @prop_settings
    @given(data=st.data(), case=random_cases(estimates=True))
    def batch(data: st.DataObject, case: Case) -> None:
        base = Problem.from_case(case)
        size = data.draw(st.integers(1, 4), label="batch size")
        problems = [base] + [
            data.draw(_variants(base), label=f"problem {k}") for k in range(1, size)
        ]
        seeds = data.draw(
            st.lists(st.integers(0, 2**32), min_size=size, max_size=size), label="seeds"
        )
        with _noting(case):
            _batch(engine, problems, seeds)

    yield BATCH, batch


def _declares(engine: Engine) -> None:
    cls = type(engine)
    name = getattr(cls, "name", None)
    _fail(
        DECLARES,
        isinstance(name, str) and bool(name),
        f"name must be a non-empty str, got {name!r}",
    )
    m = getattr(cls, "min_actors", None)
    _fail(
        DECLARES,
        isinstance(m, int) and not isinstance(m, bool) and m >= 1,
        f"min_actors must be an int >= 1, got {m!r}",
    )
    it = getattr(cls, "iterative", None)
    _fail(DECLARES, isinstance(it, bool), f"iterative must be a bool, got {it!r}")


def _get_params(engine: Engine) -> None:
    cls = type(engine)
    params = engine.get_params()
    _fail(GET_PARAMS, isinstance(params, dict), f"returned {type(params).__name__}, not dict")
    signature = inspect.signature(cls.__init__)
    names = {
        p.name
        for p in list(signature.parameters.values())[1:]
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    }
    _fail(
        GET_PARAMS,
        set(params) == names,
        lambda: (
            f"returned the options {sorted(params)}, but the constructor takes "
            f"{sorted(names)} (store each option under its parameter name, and nothing else "
            "public)"
        ),
    )
    try:
        clone = cls(**params)
    except Exception as exc:
        raise EngineContractError(
            GET_PARAMS, f"{cls.__name__}(**get_params()) raised {exc!r}"
        ) from exc
    _fail(
        GET_PARAMS,
        _same(clone.get_params(), params),
        lambda: f"{cls.__name__}(**get_params()) has options {clone.get_params()}, not {params}",
    )


def _check_min_actors(engine: Engine) -> None:
    m = engine.min_actors
    for n in range(1, m + 1):
        problem = Problem.from_arrays(
            np.ones(n),
            np.linspace(10.0, 90.0, n) if n > 1 else np.array([50.0]),
            np.full(n, 0.5),
        )
        try:
            engine.check(problem)
        except AllianceLabError as exc:
            text = str(exc)
            _fail(CHECK, n < m, f"check() refused {n} actors although min_actors={m}: {text}")
            _fail(CHECK, "\n" not in text, f"the error is not one line: {text!r}")
            _fail(CHECK, str(m) in text, f"the error does not name min_actors={m}: {text!r}")
            continue
        except Exception as exc:
            raise EngineContractError(
                CHECK,
                f"check() with {n} actors raised {type(exc).__name__}, not AllianceLabError: {exc}",
            ) from exc
        _fail(CHECK, n >= m, f"check() accepted {n} actors although min_actors={m}")


def _hull(engine: Engine, problem: Problem, note: str = "") -> None:
    out = _solve(engine, problem)
    n, d = problem.position.shape
    rounds, forecast = np.asarray(out.rounds), np.asarray(out.forecast)
    _fail(
        HULL,
        rounds.ndim == 3 and rounds.shape[1:] == (n, d) and rounds.shape[0] >= 1,
        f"rounds has shape {rounds.shape}, not (R+1, {n}, {d})",
    )
    _fail(HULL, forecast.shape == (d,), f"forecast has shape {forecast.shape}, not ({d},)")
    _fail(HULL, bool(np.all(np.isfinite(forecast))), f"forecast is not finite{note}: {forecast}")
    _fail(
        HULL,
        bool(np.array_equal(rounds[0], problem.position)),
        "round 0 is not the input positions, bit for bit",
    )
    tol = RANGE_TOL * _width(problem)
    lo, hi = problem.position.min(axis=0), problem.position.max(axis=0)
    outside = ~((forecast >= lo - tol) & (forecast <= hi + tol))
    _fail(
        HULL,
        not outside.any(),
        lambda: (
            "the forecast lies outside the range of the positions"
            + note
            + ": "
            + "; ".join(
                f"issue {problem.issues[k]!r}: {forecast[k]!r} not in [{lo[k]!r}, {hi[k]!r}]"
                for k in np.flatnonzero(outside)
            )
        ),
    )


def _no_mutation(engine: Engine, problem: Problem) -> None:
    before = {k: v.copy() for k, v in _arrays(problem).items()}
    out = _solve(engine, problem)
    for key, value in _arrays(problem).items():
        _fail(
            MUTATION,
            bool(np.array_equal(value, before[key], equal_nan=True)),
            f"solve() changed problem.{key}",
        )
    for part in ("rounds", "forecast"):
        arr = getattr(out, part)
        shared = [k for k, v in _arrays(problem).items() if np.shares_memory(arr, v)]
        _fail(
            MUTATION,
            not shared,
            f"outcome.{part} shares memory with problem.{', '.join(shared)} (return a copy)",
        )


def _reproducible(engine: Engine, problem: Problem, seed: int) -> None:
    params = engine.get_params()
    a = _solve(engine, problem, seed)
    b = _solve(engine, problem, seed)
    _fail(
        SEED,
        bool(np.array_equal(a.rounds, b.rounds, equal_nan=True)),
        f"two solves with seed {seed} give different rounds",
    )
    _fail(
        SEED,
        bool(np.array_equal(a.forecast, b.forecast, equal_nan=True)),
        lambda: (
            f"two solves with seed {seed} give different forecasts: {a.forecast} and {b.forecast}"
        ),
    )
    _fail(
        SEED,
        _same(a.diagnostics, b.diagnostics),
        f"two solves with seed {seed} give different diagnostics",
    )
    _fail(
        SEED,
        _same(engine.get_params(), params),
        lambda: f"solve() changed the engine's options from {params} to {engine.get_params()}",
    )


def _permutation(engine: Engine, case: Case, order: Sequence[int]) -> None:
    p, q = Problem.from_case(case), Problem.from_case(permuted(case, order))
    a, b = _solve(engine, p), _solve(engine, q)
    tol = REORDER_TOL * _width(p)
    _close(
        PERMUTATION,
        f"forecasts with the actors in order {list(order)}",
        a.forecast,
        b.forecast,
        tol,
    )
    _fail(
        PERMUTATION,
        a.rounds.shape == b.rounds.shape,
        f"reordering the actors changed the number of rounds: {a.rounds.shape[0]} and "
        f"{b.rounds.shape[0]}",
    )
    # actor k of the permuted run is actor order[k] of the original run
    _close(
        PERMUTATION,
        f"trajectories with the actors in order {list(order)}",
        a.rounds[:, list(order), :],
        b.rounds,
        tol,
    )


def _scaling(engine: Engine, case: Case, factor: float) -> None:
    p = Problem.from_case(case)
    a, b = _solve(engine, p), _solve(engine, Problem.from_case(scaled_capabilities(case, factor)))
    exact = float(np.log2(factor)).is_integer()
    tol = (EXACT_TOL if exact else REORDER_TOL) * _width(p)
    _close(SCALING, f"forecasts with capabilities x {factor!r}", a.forecast, b.forecast, tol)
    _fail(
        SCALING,
        a.rounds.shape == b.rounds.shape,
        f"scaling capabilities by {factor!r} changed the number of rounds: "
        f"{a.rounds.shape[0]} and {b.rounds.shape[0]}",
    )
    _close(SCALING, f"trajectories with capabilities x {factor!r}", a.rounds, b.rounds, tol)


def _unanimity(engine: Engine, problem: Problem) -> None:
    out = _solve(engine, problem)
    common = problem.position[0]
    tol = RANGE_TOL * _width(problem)
    _close(UNANIMITY, "forecast and the common position", out.forecast, common, tol)
    _close(
        UNANIMITY,
        "rounds and the common position (nobody has a reason to move)",
        out.rounds,
        np.broadcast_to(common, out.rounds.shape),
        tol,
    )


@st.composite
def _variants(draw: st.DrawFn, base: Problem) -> Problem:
    """A problem with ``base``'s actors, issues and scales, and other capabilities,
    positions and saliences (perceived truthfully)."""
    n, d = base.position.shape
    unit = st.floats(0.0, 1.0, allow_subnormal=False)
    u = np.array(draw(st.lists(unit, min_size=n * d, max_size=n * d))).reshape(n, d)
    pos = np.clip(base.lower + u * (base.upper - base.lower), base.lower, base.upper)
    cap = np.array(draw(st.lists(st.floats(0.01, 1000.0), min_size=n, max_size=n)))
    sal = np.array(draw(st.lists(st.floats(0.05, 1.0), min_size=n * d, max_size=n * d)))
    sal = sal.reshape(n, d)
    return dataclasses.replace(
        base,
        capability=cap,
        position=pos,
        salience=sal,
        perceived_position=np.broadcast_to(pos, (n, n, d)).copy(),
        perceived_salience=np.broadcast_to(sal, (n, n, d)).copy(),
        perceived_capability=np.broadcast_to(cap, (n, n)).copy(),
    )


def _batch(engine: Engine, problems: Sequence[Problem], seeds: Sequence[int]) -> None:
    for p in problems:
        engine.check(p)
    got = np.asarray(
        engine.solve_batch(problems, [np.random.default_rng(s) for s in seeds]), dtype=float
    )
    d = problems[0].n_issues
    _fail(
        BATCH,
        got.shape == (len(problems), d),
        f"solve_batch returned shape {got.shape}, not ({len(problems)}, {d})",
    )
    want = np.stack([_solve(engine, p, s).forecast for p, s in zip(problems, seeds, strict=True)])
    tol = BATCH_TOL * _width(problems[0])
    _close(BATCH, f"solve_batch and the solve loop over {len(problems)} problems", got, want, tol)
