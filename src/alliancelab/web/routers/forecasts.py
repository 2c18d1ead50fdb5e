"""``/api/forecast``: one engine on a workspace case (with shocks and levers), answered
directly - the rounds, the forecast, who moved toward whom, and optionally the perception
dynamics' positions, outcomes and indicators per round."""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi.responses import JSONResponse

from ... import forecast
from ...core.result import jsonable
from ...jobs.results import ModelRun
from ...jobs.tables import movement_table
from ...models.bargaining import engine_class
from ...scenarios.scenario import Scenario
from ..deps import ModelsDep, WorkspaceDep, check_models
from ..routing import api_router
from ..schemas import ForecastRequest
from ..tables import records

router = api_router("forecasts")


@router.post("/forecast", summary="Forecast a case with one engine, rounds included")
def run_forecast(body: ForecastRequest, ws: WorkspaceDep, models: ModelsDep) -> Any:
    check_models([body.model], models, "model")
    sc = ws.scenario(body.case, tuple(body.interventions))
    opts: dict[str, Any] = {}
    if body.rounds is not None and engine_class(body.model).iterative:
        opts["rounds"] = body.rounds
    f = forecast(sc.case, body.model, rng=body.seed, **opts)
    d = len(f.issues)
    run = ModelRun(body.model, f, np.empty((0, d)), np.full((3, d), np.nan))
    out: dict[str, Any] = {
        "case": body.case,
        "model": f.model,
        "interventions": list(body.interventions),
        "seed": f.seed,
        "actors": list(f.actors),
        "issues": list(f.issues),
        "rounds": f.rounds,
        "forecast": f.forecast,
        "status_quo": [i.status_quo.value if i.status_quo is not None else None
                       for i in sc.case.issues],
        "movement": records(movement_table({body.model: run}, None, sc.case)),
        "dynamics": dynamics(sc, body.seed) if body.dynamics else None,
    }
    return JSONResponse(jsonable(out))


def dynamics(sc: Scenario, seed: int) -> dict[str, Any]:
    """The perception dynamics (compromise engine), each intervention at its round."""
    sim = sc.simulate(model="compromise", rng=seed)
    return {
        "model": sim.model,
        "positions": sim.positions,
        "outcomes": sim.outcomes,
        "indicators": dict(sim.indicators),
        "movement": records(movement_table({}, sim, sc.case)),
    }
