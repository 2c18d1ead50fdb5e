"""``/api/runs``: the main job (``alliancelab run``) on a workspace case in the background -
start it, follow its stages, cancel it, read its result files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import HTTPException
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, Response

from ...core.case import Case
from ...core.errors import AllianceLabError
from ...jobs.run import DEFAULT_MODELS, run_job
from ...report import OUTPUT_FILES, write_outputs
from ...scenarios.interventions import check_names
from ..deps import JobsDep, ModelsDep, SettingsDep, WorkspaceDep, check_models
from ..jobs import Job
from ..routing import api_router
from ..schemas import NameParam, RunRequest
from ..workspace import Workspace

router = api_router("runs")
MEDIA = {"html": "text/html", "csv": "text/csv", "json": "application/json"}


def command_line(case: Case, body: RunRequest, models: list[str]) -> str:
    """The ``alliancelab run`` command that gives the same report (for its manifest)."""
    shocks = {s.name for s in case.shocks}
    flags = [x for n in body.interventions
             for x in ("--shock" if n in shocks else "--lever", n)]
    return " ".join(["alliancelab", "run", f"{body.case}.yaml", *flags,
                     "--models", ",".join(models), "--draws", str(body.draws),
                     "--seed", str(body.seed)])


def run_work(ws: Workspace, case: Case, body: RunRequest, models: list[str]) -> Any:
    """The job's work: run, then write the report into ``DATA/runs/ID/``."""

    def work(job: Job) -> None:
        results = run_job(
            case, interventions=body.interventions, models=models, draws=body.draws,
            seed=body.seed, case_source=ws.case_path(body.case).name,
            snapshots=ws.snapshots(body.case, case),
            progress=lambda stage, done, total: job.tick(done, total, stage=stage),
        )
        job.tick(job.done, job.total, stage="writing the report")
        write_outputs(results, ws.path("runs", job.id), command=command_line(case, body, models))
        job.stage = "done"

    return work


@router.post("/runs", status_code=202,
             summary="Start the main job (alliancelab run) on a case; poll its status",
             responses={429: {"description": "too many jobs queued or running"}})
def start_run(body: RunRequest, ws: WorkspaceDep, jobs: JobsDep, models: ModelsDep,
              settings: SettingsDep) -> dict[str, Any]:
    case = ws.load(body.case)
    if body.draws > settings.max_draws:
        raise AllianceLabError(f"must be at most {settings.max_draws}, got {body.draws}",
                               field="draws")
    chosen = list(body.models) or [m for m in DEFAULT_MODELS if m in models] or ["compromise"]
    check_models(chosen, models, "models")
    check_names(case, body.interventions)
    job = Job("run", body.case, {"interventions": body.interventions, "models": chosen,
                                 "draws": body.draws, "seed": body.seed})
    return jobs.submit(job, run_work(ws, case, body, chosen)).public()


@router.get("/runs", summary="Report runs of this session")
def list_runs(jobs: JobsDep) -> list[dict[str, Any]]:
    return [j.public() for j in jobs.all("run")]


def files(folder: Path) -> list[dict[str, Any]]:
    """The result files a run wrote, with their descriptions and sizes."""
    return [{"name": n, "description": d, "bytes": (folder / n).stat().st_size}
            for n, d in OUTPUT_FILES.items() if (folder / n).is_file()]


@router.get("/runs/{run_id}", summary="Status of a report run and its files")
def get_run(run_id: NameParam, ws: WorkspaceDep, jobs: JobsDep) -> dict[str, Any]:
    job = jobs.get(run_id)
    folder = ws.path("runs", ws.check_name(run_id, "run"))
    if job is None and not (folder / "manifest.json").exists():
        raise HTTPException(404, f"no run {run_id!r}")
    out: dict[str, Any] = (job.public() if job
                           else {"id": run_id, "kind": "run", "status": "done"})
    out["files"] = files(folder) if out["status"] == "done" else []
    return out


@router.post("/runs/{run_id}/cancel", summary="Cancel a queued or running report run")
def cancel_run(run_id: NameParam, jobs: JobsDep) -> dict[str, Any]:
    job = jobs.get(run_id)
    if job is None or job.kind != "run":
        raise HTTPException(404, f"no run {run_id!r} in this session")
    return jobs.cancel(job).public()


@router.get("/runs/{run_id}/files/{filename}", summary="One result file of a run")
def run_file(run_id: NameParam, filename: Annotated[str, PathParam(max_length=64)],
             ws: WorkspaceDep, download: bool = False) -> Response:
    if filename not in OUTPUT_FILES:
        raise HTTPException(404, f"no file {filename!r}")
    folder = ws.path("runs", ws.check_name(run_id, "run"))
    path = ws.path("runs", run_id, filename)
    if path.parent != folder or not path.is_file():
        raise HTTPException(404, f"no file {filename!r} in run {run_id!r}")
    media = MEDIA[filename.rsplit(".", 1)[1]]
    return FileResponse(path, media_type=media, filename=filename if download else None)
