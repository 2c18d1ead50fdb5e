"""One result type for every engine: round-by-round positions, the forecast, diagnostics."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pandas is imported when a frame is asked for (it is slow to import)
    import pandas as pd


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
        """Tidy positions: one row per (round, actor, issue)."""
        import pandas as pd

        r, n, d = self.rounds.shape
        idx = pd.MultiIndex.from_product(
            [range(r), self.actors, self.issues], names=["round", "actor", "issue"]
        )
        return pd.DataFrame({"position": self.rounds.reshape(-1)}, index=idx).reset_index()

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
