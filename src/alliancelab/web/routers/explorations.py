"""``/api/explorations``: an exploration (``alliancelab explore``) of a workspace case in
the background - start it, follow its progress, cancel it, and read its analysis, which is
the report's (:func:`~alliancelab.analysis.exploration.analyse`: the same outcome summary,
sensitivity indices, PRIM box and regret, with the same defaults)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import HTTPException, Query

from ...analysis.exploration import analyse
from ...core.case import Case
from ...core.errors import AllianceLabError
from ...core.result import jsonable
from ...explore import Exploration, explore, policies, uncertainties
from ...explore import samplers as smp
from ...explore.model import DEFAULT_MODELS
from ...scenarios.interventions import check_names
from ..analysis import analysis_document
from ..deps import JobsDep, ModelsDep, SettingsDep, WorkspaceDep
from ..jobs import Job, Jobs
from ..routing import api_router
from ..schemas import ExploreRequest, NameParam
from ..workspace import Workspace

router = api_router("explorations")


def exploration_models(available: list[str]) -> list[str]:
    """The engines a web exploration runs: ``alliancelab explore``'s default ones."""
    return [m for m in DEFAULT_MODELS if m in available] or ["compromise"]


def n_experiments(case: Case, body: ExploreRequest, limit: int) -> int:
    """The size of the exploration asked for; a one-line error when over ``limit``."""
    check_names(case, body.levers, "lever")
    check_names(case, body.shocks, "shock")
    params = uncertainties(case, body.shocks)
    smp.check(body.sampler, body.n, len(params))
    n_exp = smp.n_scenarios(body.sampler, body.n, len(params)) * len(
        policies(case, body.levers))
    if n_exp > limit:
        raise AllianceLabError(
            f"{n_exp} experiments ({body.sampler}, n={body.n}, {len(params)} "
            f"uncertainties) exceed the app's limit of {limit}; use a smaller n or the "
            "command line (alliancelab explore)", field="n")
    return n_exp


@router.post("/explorations", status_code=202,
             summary="Start an exploration (alliancelab explore); poll its progress",
             responses={429: {"description": "too many jobs queued or running"}})
def start_exploration(body: ExploreRequest, ws: WorkspaceDep, jobs: JobsDep,
                      settings: SettingsDep, models: ModelsDep) -> dict[str, Any]:
    case = ws.load(body.case)
    total = n_experiments(case, body, settings.max_experiments)
    engines = exploration_models(models)
    job = Job("exploration", body.case,
              {**body.model_dump(exclude={"case"}), "models": engines}, total=total)
    store = ws.path("explorations", job.id)

    def work(job: Job) -> None:
        job.stage = "exploring"
        explore(case, n=body.n, sampler=body.sampler, levers=body.levers,
                shocks=body.shocks, models=engines, rounds=body.rounds, seed=body.seed,
                store=store, progress=job.tick)
        job.stage = "done"

    return jobs.submit(job, work).public()


@router.get("/explorations", summary="Explorations of this session")
def list_explorations(jobs: JobsDep) -> list[dict[str, Any]]:
    return [j.public() for j in jobs.all("exploration")]


def finished(ws: Workspace, jobs: Jobs, ex_id: str) -> Exploration:
    """The finished exploration ``ex_id`` (409 while its job has not finished)."""
    folder: Path = ws.path("explorations", ws.check_name(ex_id, "exploration"))
    job = jobs.get(ex_id)
    if job is not None and job.status != "done":
        raise HTTPException(409, f"exploration {ex_id!r} is {job.status}")
    if not (folder / "manifest.json").exists():
        raise HTTPException(404, f"no exploration {ex_id!r}")
    return Exploration(folder)


@router.get("/explorations/{ex_id}", summary="Progress of an exploration")
def get_exploration(ex_id: NameParam, ws: WorkspaceDep, jobs: JobsDep) -> dict[str, Any]:
    job = jobs.get(ex_id)
    if job is not None:
        return job.public()
    ex = finished(ws, jobs, ex_id)
    return {"id": ex_id, "kind": "exploration", "status": "done",
            "done": ex.n_stored, "total": ex.n_experiments, "failed": ex.n_failed}


@router.post("/explorations/{ex_id}/cancel",
             summary="Cancel a queued or running exploration (what is stored stays)")
def cancel_exploration(ex_id: NameParam, jobs: JobsDep) -> dict[str, Any]:
    job = jobs.get(ex_id)
    if job is None or job.kind != "exploration":
        raise HTTPException(404, f"no exploration {ex_id!r} in this session")
    return jobs.cancel(job).public()


@router.get("/explorations/{ex_id}/analysis",
            summary="Outcome summary, sensitivity, scenario discovery (PRIM) and robustness "
            "- the report's analysis")
def get_analysis(
    ex_id: NameParam,
    ws: WorkspaceDep,
    jobs: JobsDep,
    outcome: Annotated[str | None, Query(max_length=200)] = None,
    sense: Literal["max", "min"] = "max",
    threshold: Annotated[float | None, Query(allow_inf_nan=False)] = None,
    direction: Literal["above", "below"] | None = None,
) -> dict[str, Any]:
    ex = finished(ws, jobs, ex_id)
    a = analyse(ex, outcome=outcome, sense=sense, threshold=threshold, direction=direction)
    doc = analysis_document(ex, a)
    return jsonable({"id": ex_id, **doc})  # type: ignore[no-any-return]
