"""``/api/forecast``: one engine on a workspace case (with shocks and levers), answered
directly - the rounds, the forecast (numbers, and text in the issue's units by
:mod:`alliancelab.core.units`), who moved toward whom (the table and the report's heat map,
:func:`alliancelab.report.figures.movement_heatmap`), and optionally the perception
dynamics' positions, outcomes and indicators per round."""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi import Request
from fastapi.responses import JSONResponse

from ... import forecast
from ...core import units
from ...core.case import Case
from ...core.result import jsonable
from ...jobs.results import ModelRun
from ...jobs.tables import movement_table
from ...models.bargaining import engine_class
from ...report.figures import movement_heatmap
from ...scenarios.scenario import Scenario
from ..cancel import guarded
from ..deps import ModelsDep, SettingsDep, WorkspaceDep, check_models
from ..routing import api_router
from ..schemas import ForecastRequest
from ..tables import figure, records

router = api_router("forecasts")


@router.post("/forecast", summary="Forecast a case with one engine, rounds included")
async def run_forecast(body: ForecastRequest, request: Request, ws: WorkspaceDep,
                       models: ModelsDep, settings: SettingsDep) -> Any:
    """The forecast, worked out in a thread that stops after the app's time limit or when
    the client goes away (:func:`~alliancelab.web.cancel.guarded`)."""
    return await guarded(request, settings.request_seconds, forecast_document, body, ws,
                         models)


def forecast_document(body: ForecastRequest, ws: Any, models: list[str]) -> Any:
    """The answer to ``body`` (blocking: run it through :func:`guarded`)."""
    check_models([body.model], models, "model")
    sc = ws.scenario(body.case, tuple(body.interventions))
    opts: dict[str, Any] = {}
    if body.rounds is not None and engine_class(body.model).iterative:
        opts["rounds"] = body.rounds
    f = forecast(sc.case, body.model, rng=body.seed, **opts)
    d = len(f.issues)
    run = ModelRun(body.model, f, np.empty((0, d)), np.full((3, d), np.nan))
    case = sc.case
    mv = movement_table({body.model: run}, None, case)
    out: dict[str, Any] = {
        "case": body.case,
        "model": f.model,
        "interventions": list(body.interventions),
        "seed": f.seed,
        "actors": list(f.actors),
        "issues": list(f.issues),
        "rounds": f.rounds,
        "forecast": f.forecast,
        "forecast_text": [units.with_units(x, i.scale) for x, i in zip(f.forecast, case.issues,
                                                                         strict=True)],
        "status_quo": [i.status_quo.value if i.status_quo is not None else None
                       for i in case.issues],
        "status_quo_text": [units.with_units(i.status_quo.value, i.scale)
                            if i.status_quo is not None else "" for i in case.issues],
        "movement": records(mv),
        "movement_figure": movement_figure(mv, case),
        "dynamics": dynamics(sc, body.seed) if body.dynamics else None,
    }
    return JSONResponse(jsonable(out))


def dynamics(sc: Scenario, seed: int) -> dict[str, Any]:
    """The perception dynamics (compromise engine), each intervention at its round."""
    sim = sc.simulate(model="compromise", rng=seed)
    mv = movement_table({}, sim, sc.case)
    return {
        "model": sim.model,
        "positions": sim.positions,
        "outcomes": sim.outcomes,
        "indicators": dict(sim.indicators),
        "outcomes_text": [[units.with_units(x, i.scale) for x, i in zip(row, sc.case.issues,
                                                                         strict=True)]
                          for row in sim.outcomes],
        "movement": records(mv),
        "movement_figure": movement_figure(mv, sc.case),
    }


def movement_figure(mv: Any, case: Case) -> dict[str, Any] | None:
    """The report's movement heat map of ``mv`` as JSON (None without rounds)."""
    if mv.empty:
        return None
    return figure(movement_heatmap(mv, list(case.actor_names)))
