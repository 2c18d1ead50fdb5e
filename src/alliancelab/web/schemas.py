"""The request bodies of the JSON API (pydantic models; OpenAPI at ``/openapi.json``) and
the name types checked in URLs and bodies."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field

from .. import MODELS

#: names of cases, runs and explorations: no dots or slashes, so never a path.
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
NAME_RE = re.compile(NAME_PATTERN)

Name = Annotated[str, Field(pattern=NAME_PATTERN, description="a name: letters, digits, _ -")]
NameParam = Annotated[str, PathParam(pattern=NAME_PATTERN, description="letters, digits, _ -")]
Seed = Annotated[int, Field(ge=0, le=2**32 - 1)]
Names = Annotated[list[Name], Field(max_length=32)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class OpenRequest(_Body):
    shipped: Name = Field(description="name of a shipped case, see GET /api/cases")


class DraftRequest(_Body):
    data: dict[str, Any] = Field(description="the case as plain data (as GET returns it)")


class ForecastRequest(_Body):
    case: Name
    model: Literal[tuple(MODELS)] = "compromise"  # type: ignore[valid-type]
    interventions: Names = []
    rounds: int | None = Field(default=None, ge=1, le=200)
    seed: Seed = 0
    dynamics: bool = Field(default=True, description="also run the perception dynamics")


class RunRequest(_Body):
    case: Name
    interventions: Names = []
    models: list[Literal[tuple(MODELS)]] = Field(  # type: ignore[valid-type]
        default=[], max_length=6, description="engines side by side (default: the run's)")
    draws: int = Field(default=20, ge=1)
    seed: Seed = 0


class ExploreRequest(_Body):
    case: Name
    n: int = Field(default=64, ge=1, le=1_000_000)
    sampler: Literal["lhs", "sobol", "mc", "morris"] = "lhs"
    levers: Names = []
    shocks: Names = []
    rounds: int = Field(default=10, ge=1, le=100)
    seed: Seed = 0
