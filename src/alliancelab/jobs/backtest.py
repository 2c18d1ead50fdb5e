"""Backtest the engines against observed outcomes (the DEU III issues), as in Thomson et al.
(2006), *The European Union Decides*, ch. 10: each model's forecast of each issue is compared
with the decision outcome, and the accuracy is the mean absolute error on the 0-100 scale.

Pure: no I/O. An engine that cannot be loaded or raises on an issue is recorded as an
``error`` row for that issue (with the message) and the run goes on; an issue with fewer
actors than the engine's ``min_actors`` is recorded as ``too_few_actors``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..core.errors import AllianceLabError
from ..formats.deu import DeuData, DeuIssue
from ..models.bargaining import ENGINES, Engine, Problem, engine_class

#: columns of :attr:`Backtest.errors`, one row per (model, issue).
ERROR_COLUMNS = (
    "model",
    "issue",
    "proposal",
    "line",
    "n_actors",
    "outcome",
    "forecast",
    "abs_error",
    "status",
    "message",
)
SUMMARY_COLUMNS = (
    "model",
    "mean_abs_error",
    "median_abs_error",
    "n_scored",
    "n_errors",
    "n_too_few_actors",
    "seconds",
)

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Backtest:
    """The per-issue errors of a backtest run and the rows the data reader skipped."""

    errors: pd.DataFrame
    models: tuple[str, ...]
    skipped: dict[str, int]
    n_issues: int
    seed: int
    seconds: dict[str, float]

    def summary(self) -> pd.DataFrame:
        """Per model: mean and median absolute error over the scored issues, counts, and the
        wall-clock seconds the model took."""
        return summarise(self.errors, self.models, self.seconds)


def parse_models(text: str | None) -> tuple[str, ...]:
    """``"m1,m2"`` -> ``("m1", "m2")``; ``None`` or ``"all"`` -> every registered engine."""
    if text is None or text.strip().lower() == "all":
        return tuple(ENGINES)
    models = tuple(m.strip() for m in text.split(",") if m.strip())
    unknown = [m for m in models if m not in ENGINES]
    if unknown or not models:
        raise AllianceLabError(
            f"unknown model(s) {', '.join(unknown) or '(none given)'}; "
            f"choose from {', '.join(ENGINES)}",
            field="models",
        )
    return tuple(dict.fromkeys(models))


def run_backtest(
    data: DeuData | Sequence[DeuIssue],
    models: Sequence[str] | None = None,
    *,
    rounds: int | None = None,
    seed: int = 0,
    progress: Progress | None = None,
) -> Backtest:
    """Forecast every issue with every model and record the absolute errors.

    ``rounds`` caps the iterations of the iterative engines (ignored by the others).
    Each issue gets its own random stream, spawned from ``seed`` by its position, so a
    stochastic engine's forecast of an issue does not depend on which models or issues
    run with it. ``progress(done, total)`` is called after each (model, issue).
    """
    issues = tuple(data.issues if isinstance(data, DeuData) else data)
    skipped = data.skipped_counts() if isinstance(data, DeuData) else {}
    models = tuple(models) if models is not None else tuple(ENGINES)
    if rounds is not None and (isinstance(rounds, bool) or not isinstance(rounds, int)
                               or rounds < 1):
        raise AllianceLabError(f"must be a positive integer, got {rounds!r}", field="rounds")
    problems = [Problem.from_case(issue.case) for issue in issues]
    streams = np.random.SeedSequence(seed).spawn(len(issues))
    total = len(models) * len(issues)
    done = 0
    rows: list[dict[str, object]] = []
    seconds: dict[str, float] = {}
    for model in models:
        start = time.perf_counter()
        engine, load_error = _load(model, rounds)
        scored: Iterable[dict[str, object]]
        if engine is not None and getattr(engine, "links_issues", False):
            scored = _score_proposals(model, engine, issues, problems, streams)
        else:
            scored = (_score(model, engine, load_error, issue, problem, stream)
                      for issue, problem, stream in zip(issues, problems, streams, strict=True))
        for row in scored:
            rows.append(row)
            done += 1
            if progress is not None:
                progress(done, total)
        seconds[model] = time.perf_counter() - start
    errors = pd.DataFrame(rows, columns=list(ERROR_COLUMNS))
    return Backtest(
        errors=errors, models=models, skipped=skipped, n_issues=len(issues), seed=seed,
        seconds=seconds,
    )


def summarise(
    errors: pd.DataFrame,
    models: Sequence[str] | None = None,
    seconds: dict[str, float] | None = None,
) -> pd.DataFrame:
    """Mean/median absolute error and counts per model (in ``models`` order)."""
    models = tuple(models) if models is not None else tuple(dict.fromkeys(errors["model"]))
    out = []
    for model in models:
        rows = errors[errors["model"] == model]
        scored = rows.loc[rows["status"] == "scored", "abs_error"].astype(float)
        out.append(
            {
                "model": model,
                "mean_abs_error": float(scored.mean()) if len(scored) else float("nan"),
                "median_abs_error": float(scored.median()) if len(scored) else float("nan"),
                "n_scored": int(len(scored)),
                "n_errors": int((rows["status"] == "error").sum()),
                "n_too_few_actors": int((rows["status"] == "too_few_actors").sum()),
                "seconds": (seconds or {}).get(model, float("nan")),
            }
        )
    return pd.DataFrame(out, columns=list(SUMMARY_COLUMNS))


def _load(model: str, rounds: int | None) -> tuple[Engine | None, str]:
    """The engine for ``model``, or ``None`` and why it could not be built."""
    try:
        cls = engine_class(model)
        options = {"rounds": rounds} if rounds is not None and cls.iterative else {}
        return cls(**options), ""
    except Exception as exc:  # a missing or broken engine is data, not a crash
        return None, f"engine unavailable: {_message(exc)}"


def _score(
    model: str,
    engine: Engine | None,
    load_error: str,
    issue: DeuIssue,
    problem: Problem,
    stream: np.random.SeedSequence,
) -> dict[str, object]:
    row = _row(model, engine, load_error, issue, problem)
    if row["status"] != "pending" or engine is None:
        return row
    try:
        outcome = engine.solve(problem, np.random.default_rng(stream))
        forecast = float(np.asarray(outcome.forecast, dtype=float).reshape(-1)[0])
    except Exception as exc:  # one failing issue must not abort the run
        row.update(status="error", message=_message(exc))
        return row
    return _scored(row, forecast, issue)


def _row(
    model: str, engine: Engine | None, load_error: str, issue: DeuIssue, problem: Problem
) -> dict[str, object]:
    """The row of an issue before it is forecast: status ``pending``, or ``error`` (no
    engine) or ``too_few_actors``."""
    row: dict[str, object] = {
        "model": model,
        "issue": issue.name,
        "proposal": issue.meta.get("proposal", ""),
        "line": issue.meta.get("line"),
        "n_actors": problem.n_actors,
        "outcome": issue.outcome,
        "forecast": float("nan"),
        "abs_error": float("nan"),
        "status": "pending",
        "message": "",
    }
    if engine is None:
        row.update(status="error", message=load_error)
    elif problem.n_actors < engine.min_actors:
        row["status"] = "too_few_actors"
        row["message"] = f"{model} needs at least {engine.min_actors} actors"
    return row


def _scored(row: dict[str, object], forecast: float, issue: DeuIssue) -> dict[str, object]:
    if not np.isfinite(forecast):
        row.update(status="error", message=f"non-finite forecast {forecast!r}")
    else:
        row.update(forecast=forecast, abs_error=abs(forecast - issue.outcome), status="scored",
                   message="")
    return row


def _score_proposals(
    model: str,
    engine: Engine,
    issues: Sequence[DeuIssue],
    problems: Sequence[Problem],
    streams: Sequence[np.random.SeedSequence],
) -> list[dict[str, object]]:
    """Rows of an engine that trades across issues (``links_issues``): the issues of each
    proposal are solved as one problem (:func:`proposal_problem`, with the stream of the
    proposal's first issue) and each issue is scored on its own forecast; rows in input order."""
    groups: dict[object, list[int]] = {}
    for k, issue in enumerate(issues):
        groups.setdefault(issue.meta.get("proposal", issue.name), []).append(k)
    rows = [_row(model, engine, "", issue, problem) for issue, problem in zip(issues, problems,
                                                                              strict=True)]
    for ks in groups.values():
        ks = [k for k in ks if rows[k]["status"] == "pending"]
        if not ks:
            continue
        merged = proposal_problem([problems[k] for k in ks])
        try:
            out = engine.solve(merged, np.random.default_rng(streams[ks[0]]))
            forecast = np.asarray(out.forecast, dtype=float).reshape(-1)
        except Exception as exc:  # one failing proposal must not abort the run
            for k in ks:
                rows[k].update(status="error", message=_message(exc))
            continue
        for col, k in enumerate(ks):
            _scored(rows[k], float(forecast[col]), issues[k])
    return rows


def proposal_problem(problems: Sequence[Problem]) -> Problem:
    """One problem of several one-issue problems (the issues of one proposal): every actor
    present on any of them, in order of appearance; an actor absent from an issue has no
    standing there (arena weight 0, position at the issue's lower end, salience 0)."""
    actors: list[str] = []
    capability: dict[str, float] = {}
    for p in problems:
        for name, c in zip(p.actors, p.capability, strict=True):
            if name not in capability:
                actors.append(name)
                capability[name] = float(c)
    index = {name: i for i, name in enumerate(actors)}
    n, d = len(actors), len(problems)
    position = np.empty((n, d))
    salience, weight = np.zeros((n, d)), np.zeros((n, d))
    for k, p in enumerate(problems):
        position[:, k] = p.lower[0]
        rows = [index[name] for name in p.actors]
        position[rows, k] = p.position[:, 0]
        salience[rows, k] = p.salience[:, 0]
        weight[rows, k] = p.weight[:, 0]
    return Problem.from_arrays(
        np.array([capability[a] for a in actors]), position, salience,
        actors=tuple(actors), issues=tuple(p.issues[0] for p in problems),
        lower=np.array([p.lower[0] for p in problems]),
        upper=np.array([p.upper[0] for p in problems]),
        status_quo=np.array([p.status_quo[0] for p in problems]), weight=weight,
    )


def _message(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
