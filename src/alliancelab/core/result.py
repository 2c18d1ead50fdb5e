"""One result type for every engine: round-by-round positions, the forecast, diagnostics."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .display import html_card, names, number, short
from .errors import AllianceLabError

if TYPE_CHECKING:  # pandas and plotly are imported when asked for (they are slow to import)
    import pandas as pd
    import plotly.graph_objects as go

    from .case import Case


@dataclass(frozen=True)
class Forecast:
    """What an engine returns.

    Attributes
    ----------
    model : the engine's name.
    actors, issues : names, in the order of the arrays.
    rounds : array ``(R + 1, n_actors, n_issues)``; round 0 is the input.
    forecast : array ``(n_issues,)``, the predicted outcome in each issue's units.
    diagnostics : the model's own quantities (offers, risk exponents, probabilities...),
        arrays indexed like ``rounds`` where they are per round.
    settings : the options the engine ran with.
    seed : the entropy that seeded the run (``None`` when the caller passed a Generator).
    versions : package versions, for reproducibility.
    """

    model: str
    actors: tuple[str, ...]
    issues: tuple[str, ...]
    rounds: np.ndarray
    forecast: np.ndarray
    diagnostics: Mapping[str, Any] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)
    seed: int | None = None
    versions: Mapping[str, str] = field(default_factory=dict)

    @property
    def n_rounds(self) -> int:
        """Rounds played (not counting round 0, the input)."""
        return int(self.rounds.shape[0]) - 1

    def to_frame(self) -> pd.DataFrame:
        """Tidy positions: one row per (round, actor, issue), with the engine in ``model``
        (so the frames of several forecasts concatenate into one)."""
        import pandas as pd

        r, n, d = self.rounds.shape
        idx = pd.MultiIndex.from_product(
            [range(r), self.actors, self.issues], names=["round", "actor", "issue"]
        )
        df = pd.DataFrame({"position": self.rounds.reshape(-1)}, index=idx).reset_index()
        df.insert(0, "model", self.model)
        return df

    def forecast_frame(self) -> pd.DataFrame:
        """One row per issue with the forecast."""
        import pandas as pd

        return pd.DataFrame({"issue": list(self.issues), "forecast": self.forecast})

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready document (``rounds`` is a list of ``{"positions": {...}}``)."""
        multi = len(self.issues) > 1
        rounds = []
        for r in range(self.rounds.shape[0]):
            pos = {
                a: (jsonable(self.rounds[r, i]) if multi else float(self.rounds[r, i, 0]))
                for i, a in enumerate(self.actors)
            }
            rounds.append({"round": r, "positions": pos})
        return {
            "model": self.model,
            "actors": list(self.actors),
            "issues": list(self.issues),
            "forecast": {k: float(v) for k, v in zip(self.issues, self.forecast, strict=True)},
            "rounds": rounds,
            "diagnostics": jsonable(dict(self.diagnostics)),
            "settings": jsonable(dict(self.settings)),
            "seed": self.seed,
            "versions": dict(self.versions),
        }

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    # -- display -------------------------------------------------------------------------
    def __repr__(self) -> str:
        shown = [f"{i} {number(v)}" for i, v in zip(self.issues, self.forecast, strict=True)]
        return short(
            "Forecast", repr(self.model),
            f"{len(self.actors)} actors × {len(self.issues)} issues",
            f"{self.n_rounds} rounds" if self.n_rounds else "one shot",
            f"seed {self.seed}" if self.seed is not None else "seeded by a Generator",
            "forecast: " + names(shown, 3),
        )

    def __str__(self) -> str:
        return repr(self)

    def _repr_html_(self) -> str:
        start = self.rounds[0]
        rows = [(issue, float(self.forecast[k]), float(start[:, k].min()),
                 float(start[:, k].max())) for k, issue in enumerate(self.issues)]
        facts = [f"{len(self.actors)} actors × {len(self.issues)} issues",
                 f"{self.n_rounds} rounds" if self.n_rounds else "one shot",
                 f"seed {self.seed}" if self.seed is not None else ""]
        return html_card(f"Forecast by {self.model}", facts,
                         ("issue", "forecast", "lowest position", "highest position"), rows)

    def plot(self, issue: str | None = None, *, case: Case | None = None,
             others: Sequence[Forecast] = ()) -> go.Figure:
        """A plotly figure of this forecast (and ``others``, forecasts of the same actors
        and issues by other engines, one colour per model).

        With ``issue``: every actor's position on it by round, with each model's forecast
        as a dashed line. Without: one panel per issue with the actors' stated positions
        (grey), each model's forecast, and - given the ``case`` - the status quo and the
        issue's scale as the axis range.
        """
        forecasts = [self, *others]
        for f in others:
            if f.issues != self.issues or f.actors != self.actors:
                raise AllianceLabError(f"forecast by {f.model!r} has other actors or issues",
                                       field="others")
        if issue is None:
            return _outcome_figure(forecasts, case)
        if issue not in self.issues:
            raise AllianceLabError(f"unknown issue {issue!r}; choose from "
                                   f"{', '.join(self.issues)}", field="issue")
        return _rounds_figure(forecasts, self.issues.index(issue), case)


#: one colour per model (Okabe & Ito's colour-blind-safe palette).
MODEL_COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442",
                "#000000")


def _outcome_figure(forecasts: Sequence[Forecast], case: Case | None) -> go.Figure:
    """One row per issue: stated positions, each model's forecast, the status quo."""
    from plotly.subplots import make_subplots

    first = forecasts[0]
    d = len(first.issues)
    titles = [_titled(i, case) for i in first.issues]
    fig = make_subplots(rows=d, cols=1, subplot_titles=titles,
                        vertical_spacing=min(0.5 / max(d, 1), 0.12))
    for k, issue in enumerate(first.issues):
        row = k + 1
        fig.add_scatter(x=first.rounds[0][:, k], y=[0.0] * len(first.actors), mode="markers",
                        marker={"color": "#999999", "size": 8}, text=list(first.actors),
                        hovertemplate="%{text}: %{x}<extra>stated</extra>", name="positions",
                        legendgroup="positions", showlegend=k == 0, row=row, col=1)
        for m, f in enumerate(forecasts):
            fig.add_scatter(x=[f.forecast[k]], y=[0.0], mode="markers",
                            marker={"symbol": "diamond", "size": 14,
                                    "color": MODEL_COLORS[m % len(MODEL_COLORS)]},
                            name=f.model, legendgroup=f.model, showlegend=k == 0,
                            hovertemplate=f"{f.model}: %{{x}}<extra>forecast</extra>",
                            row=row, col=1)
        if case is not None:
            _status_quo_and_scale(fig, case, issue, row, k == 0)
        fig.update_yaxes(visible=False, row=row, col=1)
    height, top, bottom = 120 * d + 140, 110, 30
    fig.update_layout(height=height, template="plotly_white",
                      title={"text": f"Forecast per issue "
                             f"({', '.join(f.model for f in forecasts)})",
                             "y": 1 - 12 / height, "yanchor": "top"},
                      legend={"orientation": "h", "x": 0, "yanchor": "bottom",
                              "y": 1 + 34 / (height - top - bottom)},
                      margin={"t": top, "b": bottom})
    return fig


def _titled(issue: str, case: Case | None) -> str:
    """``issue (units)`` when the case gives units."""
    units = case.issue(issue).scale.units if case is not None else None
    return f"{issue} ({units})" if units else issue


def _status_quo_and_scale(fig: go.Figure, case: Case, issue: str, row: int,
                          legend: bool) -> None:
    item = case.issue(issue)
    if item.status_quo is not None:
        fig.add_scatter(x=[item.status_quo.value], y=[0.0], mode="markers",
                        marker={"symbol": "x", "size": 12, "color": "#000000"},
                        name="status quo", legendgroup="status quo", showlegend=legend,
                        hovertemplate="status quo: %{x}<extra></extra>", row=row, col=1)
    fig.update_xaxes(range=[item.scale.min, item.scale.max], row=row, col=1)


def _rounds_figure(forecasts: Sequence[Forecast], k: int, case: Case | None) -> go.Figure:
    """Every actor's position on issue ``k`` by round (the first forecast's rounds)."""
    import plotly.graph_objects as go
    from plotly.colors import qualitative

    first = forecasts[0]
    issue = first.issues[k]
    fig = go.Figure()
    rounds = list(range(first.rounds.shape[0]))
    palette = [*qualitative.Safe, *qualitative.Vivid]  # colour-blind safe first
    for i, actor in enumerate(first.actors):
        fig.add_scatter(x=rounds, y=first.rounds[:, i, k], mode="lines+markers", name=actor,
                        line={"color": palette[i % len(palette)]})
    for m, f in enumerate(forecasts):
        fig.add_hline(y=float(f.forecast[k]), line_dash="dash",
                      line_color=MODEL_COLORS[m % len(MODEL_COLORS)],
                      annotation_text=f"{f.model} forecast",
                      annotation_position="top right" if m % 2 == 0 else "bottom right")
    units = ""
    if case is not None:
        item = case.issue(issue)
        units = item.scale.units or ""
        if item.status_quo is not None:
            fig.add_hline(y=item.status_quo.value, line_dash="dot", line_color="#000000",
                          annotation_text="status quo", annotation_position="top left")
    fig.update_layout(template="plotly_white", title=f"{issue}: positions by round "
                      f"({first.model})", xaxis_title="round",
                      yaxis_title=f"position ({units})" if units else "position")
    return fig


def jsonable(obj: Any) -> Any:
    """JSON-ready data: numpy containers to Python objects, NaN and infinities to ``None``."""
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return jsonable(obj.item())
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj
