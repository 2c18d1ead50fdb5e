"""The HTTP JSON API of ``alliancelab serve`` (FastAPI; OpenAPI at ``/openapi.json``).

The pages in ``static/`` use only this API. Everything the app reads or writes lives in its
data directory::

    DATA/cases/NAME.yaml          the workspace: opened, uploaded and edited cases
    DATA/runs/ID/                 the files of one report run (report.html, CSV, JSON)
    DATA/explorations/ID/         one exploration's store (DuckDB, design, manifest)

Names in URLs and bodies are checked against :data:`NAME_RE` (letters, digits, ``_``, ``-``;
no dots, no slashes) and every path is resolved and checked to lie inside the data directory
before it is touched. Uploads are size-limited and read through the same readers as the CLI
(:func:`alliancelab.formats.read_case`), so their messages are the CLI's. Edited cases are
validated by writing the draft as YAML and reading it back with :func:`alliancelab.parse_case`,
so a draft's message is exactly what ``alliancelab forecast DRAFT.yaml`` prints.

Security: bound to loopback by default; when a token is configured every request must carry
it (``Authorization: Bearer``, the ``X-AllianceLab-Token`` header, the ``token`` query
parameter or the cookie the first page sets). Without a token, requests whose ``Host`` is not
a loopback name are refused (DNS rebinding).
"""

from __future__ import annotations

import re
import secrets
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import yaml
from fastapi import FastAPI, File, HTTPException, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field

from .. import MODELS, forecast, format_case, parse_case
from ..cases import shipped_cases
from ..core.case import Case
from ..core.errors import AllianceLabError, CaseError
from ..core.result import jsonable
from ..formats import read_case, read_text
from ..models.bargaining import engine_class

#: names of cases, runs and explorations: no dots or slashes, so never a path.
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
NAME_RE = re.compile(NAME_PATTERN)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
TOKEN_COOKIE = "alliancelab_token"
STATIC = resources.files(__package__) / "static"
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
    "connect-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'none'"
)

Name = Annotated[str, Field(pattern=NAME_PATTERN, description="a name: letters, digits, _ -")]
NameParam = Annotated[str, PathParam(pattern=NAME_PATTERN, description="letters, digits, _ -")]


@dataclass
class Settings:
    """How the app runs: its data directory, the token (required unless bound to loopback),
    the upload limit, and the caps on jobs started from the browser."""

    data_dir: Path
    token: str | None = None
    max_upload_bytes: int = 5 * 1024 * 1024
    max_draws: int = 500
    max_experiments: int = 50_000
    initial_case: str | None = None
    check_host: bool = True


# -- request bodies ----------------------------------------------------------------------


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OpenRequest(_Body):
    shipped: Name = Field(description="name of a shipped case, see GET /api/cases")


class DraftRequest(_Body):
    data: dict[str, Any] = Field(description="the case as plain data (as GET returns it)")


class ForecastRequest(_Body):
    case: Name
    model: Literal[tuple(MODELS)] = "compromise"  # type: ignore[valid-type]
    interventions: list[Name] = Field(default=[], max_length=32)
    rounds: int | None = Field(default=None, ge=1, le=200)
    seed: int = Field(default=0, ge=0, le=2**32 - 1)
    dynamics: bool = Field(default=True, description="also run the perception dynamics")


class RunRequest(_Body):
    case: Name
    interventions: list[Name] = Field(default=[], max_length=32)
    models: list[Literal[tuple(MODELS)]] = Field(  # type: ignore[valid-type]
        default=[], max_length=6, description="engines side by side (default: the run's)")
    draws: int = Field(default=20, ge=1)
    seed: int = Field(default=0, ge=0, le=2**32 - 1)


class ExploreRequest(_Body):
    case: Name
    n: int = Field(default=64, ge=1, le=1_000_000)
    sampler: Literal["lhs", "sobol", "mc", "morris"] = "lhs"
    levers: list[Name] = Field(default=[], max_length=32)
    shocks: list[Name] = Field(default=[], max_length=32)
    rounds: int = Field(default=10, ge=1, le=100)
    seed: int = Field(default=0, ge=0, le=2**32 - 1)


# -- jobs --------------------------------------------------------------------------------


@dataclass
class Job:
    """A report run or an exploration running in the background."""

    id: str
    kind: str
    case: str
    params: dict[str, Any]
    status: str = "queued"  # queued | running | done | failed
    stage: str = ""
    done: int = 0
    total: int = 0
    failed: int = 0
    error: str | None = None
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None

    def public(self) -> dict[str, Any]:
        elapsed = ((self.finished or time.time()) - self.started) if self.started else 0.0
        rate = self.done / elapsed if elapsed > 0 and self.kind == "exploration" else None
        return {
            "id": self.id, "kind": self.kind, "case": self.case, "params": self.params,
            "status": self.status, "stage": self.stage, "done": self.done,
            "total": self.total, "failed": self.failed, "error": self.error,
            "elapsed": round(elapsed, 3), "rate": rate,
        }


class Jobs:
    """One background worker thread: jobs run one at a time, in order."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="alliancelab-job")

    def submit(self, job: Job, work: Callable[[Job], None]) -> Job:
        with self._lock:
            self._jobs[job.id] = job
        self._pool.submit(self._run, job, work)
        return job

    def _run(self, job: Job, work: Callable[[Job], None]) -> None:
        job.status, job.started = "running", time.time()
        try:
            work(job)
        except AllianceLabError as exc:
            job.status, job.error = "failed", str(exc)
        except Exception as exc:  # reported to the page; the server keeps serving
            job.status, job.error = "failed", f"{type(exc).__name__}: {exc}"
        else:
            job.status = "done"
        finally:
            job.finished = time.time()

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def all(self, kind: str) -> list[Job]:
        with self._lock:
            return [j for j in self._jobs.values() if j.kind == kind]

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


# -- helpers -----------------------------------------------------------------------------


def _frame(df: Any) -> list[dict[str, Any]]:
    """A pandas frame as a list of records (index included when named)."""
    if df is None:
        return []
    if any(n is not None for n in df.index.names):
        df = df.reset_index()
    return jsonable(df.to_dict(orient="records"))  # type: ignore[no-any-return]


def _fig(fig: Any) -> dict[str, Any]:
    import json

    return json.loads(fig.to_json())  # type: ignore[no-any-return]


def user_error(exc: AllianceLabError, status: int = 422, **extra: Any) -> JSONResponse:
    """The one-line message the CLI would print, with its parts for the page."""
    return JSONResponse(
        {"error": str(exc), "file": exc.file, "line": exc.line, "field": exc.field, **extra},
        status_code=status,
    )


def available_models() -> list[str]:
    """Engines whose module imports on this installation."""
    out = []
    for m in MODELS:
        try:
            engine_class(m)
        except (AllianceLabError, ImportError):
            continue
        out.append(m)
    return out


@lru_cache(maxsize=1)
def plotly_js() -> bytes:
    """plotly.js from the installed plotly package (the app never fetches from the net)."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs().encode("utf-8")


class Workspace:
    """The data directory; every path it hands out is checked to lie inside it."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        for sub in ("cases", "runs", "explorations", "uploads"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self._cache: dict[Path, tuple[tuple[int, int], Case]] = {}
        self._scenarios: dict[tuple[int, tuple[str, ...]], tuple[Case, Case]] = {}
        self._lock = threading.Lock()

    def path(self, *parts: str) -> Path:
        """``root/parts...``, refusing anything that would leave the data directory."""
        p = self.root.joinpath(*parts).resolve()
        if not p.is_relative_to(self.root):
            raise HTTPException(404, "not found")
        return p

    @staticmethod
    def check_name(name: str, what: str = "name") -> str:
        if not NAME_RE.fullmatch(name):
            raise HTTPException(404, f"no such {what}")
        return name

    def case_path(self, name: str) -> Path:
        return self.path("cases", self.check_name(name, "case") + ".yaml")

    def case_names(self) -> list[str]:
        return sorted(p.stem for p in (self.root / "cases").glob("*.yaml")
                      if NAME_RE.fullmatch(p.stem))

    def load(self, name: str) -> Case:
        """The workspace case ``name`` (parsed once per change of the file)."""
        path = self.case_path(name)
        try:
            st = path.stat()
        except FileNotFoundError:
            raise HTTPException(404, f"no case {name!r} in the workspace") from None
        key = (st.st_mtime_ns, st.st_size)
        with self._lock:
            hit = self._cache.get(path)
        if hit is not None and hit[0] == key:
            return hit[1]
        case = read_case(path)
        with self._lock:
            self._cache[path] = (key, case)
        return case

    def scenario(self, name: str, interventions: tuple[str, ...]) -> tuple[Case, Case]:
        """The case and the case with ``interventions`` applied (cached per file state)."""
        from ..scenarios.interventions import apply_interventions

        case = self.load(name)
        if not interventions:
            return case, case
        key = (id(case), interventions)
        with self._lock:
            hit = self._scenarios.get(key)
        if hit is not None and hit[0] is case:
            return case, hit[1]
        scenario = apply_interventions(case, interventions)
        with self._lock:
            if len(self._scenarios) > 256:
                self._scenarios.clear()
            self._scenarios[key] = (case, scenario)
        return case, scenario

    def save(self, name: str, text: str) -> Path:
        from ..core.io import atomic_write_text

        path = self.case_path(name)
        atomic_write_text(path, text)
        return path


def clean_name(stem: str) -> str:
    """``stem`` turned into a valid case name (see :data:`NAME_RE`)."""
    base = re.sub(r"[^A-Za-z0-9_-]+", "_", stem).strip("_-")[:48] or "case"
    return base if base[0].isalnum() else "case_" + base


def free_name(ws: Workspace, stem: str) -> str:
    """A workspace case name derived from ``stem`` that is not taken yet."""
    base = clean_name(stem)
    name, k = base, 2
    taken = set(ws.case_names())
    while name in taken:
        name, k = f"{base}-{k}", k + 1
    return name


def draft_yaml(data: dict[str, Any]) -> str:
    """A draft case (plain data from the page) as YAML text."""
    try:
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        raise CaseError(f"cannot write the draft as YAML: {exc}") from None


def case_document(name: str, case: Case) -> dict[str, Any]:
    """What the page needs to show and edit a case."""
    text = format_case(case, "yaml")
    return {
        "name": name,
        "data": yaml.safe_load(text),
        "yaml": text,
        "issues": [
            {"name": i.name, "min": i.scale.min, "max": i.scale.max, "low": i.scale.low,
             "high": i.scale.high, "units": i.scale.units,
             "status_quo": i.status_quo.value if i.status_quo is not None else None}
            for i in case.issues
        ],
        "actors": [{"name": a.name, "group": a.group} for a in case.actors],
        "shocks": [{"name": s.name, "description": s.description} for s in case.shocks],
        "levers": [{"name": s.name, "description": s.description} for s in case.levers],
        "indicators": [i.name for i in case.indicators],
    }


# -- the app -----------------------------------------------------------------------------


def create_app(settings: Settings) -> FastAPI:
    """The web app over ``settings.data_dir``."""
    ws = Workspace(settings.data_dir)
    jobs = Jobs()
    models = available_models()
    app = FastAPI(
        title="alliancelab",
        version=_version(),
        docs_url=None,  # Swagger UI and ReDoc load their assets from a CDN: not offline
        redoc_url=None,
        description="Edit a negotiation case, forecast it with any engine, compare shocks and "
        "levers, explore thousands of variants and read the report - the JSON API behind the "
        "pages of `alliancelab serve`.",
    )
    app.state.settings = settings
    app.state.workspace = ws
    app.state.jobs = jobs
    app.router.add_event_handler("shutdown", jobs.shutdown)

    @app.middleware("http")
    async def guard(request: Request, call_next: Callable[..., Any]) -> Response:
        host = (request.headers.get("host") or "").rsplit(":", 1)[0].lower()
        if settings.token is None and settings.check_host and host not in LOOPBACK_HOSTS:
            return JSONResponse({"error": "requests must address the app by a loopback "
                                 "name (127.0.0.1, localhost)"}, status_code=403)
        query_token = request.query_params.get("token")
        if settings.token is not None:
            auth = request.headers.get("authorization", "")
            given = [
                auth[7:] if auth.lower().startswith("bearer ") else None,
                request.headers.get("x-alliancelab-token"),
                request.cookies.get(TOKEN_COOKIE),
                query_token,
            ]
            if not any(g and secrets.compare_digest(g, settings.token) for g in given):
                return JSONResponse({"error": "a token is required: open the address "
                                     "'alliancelab serve' printed (…?token=…)"},
                                    status_code=401)
        if request.method in ("POST", "PUT", "PATCH"):
            length = request.headers.get("content-length")
            if length is None and request.headers.get("transfer-encoding"):
                return JSONResponse({"error": "a Content-Length is required"},
                                    status_code=411)
            try:
                size = int(length or 0)
            except ValueError:
                return JSONResponse({"error": "bad Content-Length"}, status_code=400)
            if size > settings.max_upload_bytes + 64 * 1024:
                return JSONResponse(
                    {"error": f"request too large ({size} bytes; limit "
                     f"{settings.max_upload_bytes} bytes)"}, status_code=413)
        response: Response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if settings.token is not None and query_token == settings.token:
            response.set_cookie(TOKEN_COOKIE, settings.token, httponly=True, samesite="strict")
        return response

    @app.exception_handler(AllianceLabError)
    async def _user_error(request: Request, exc: AllianceLabError) -> JSONResponse:
        return user_error(exc)

    # -- pages ----------------------------------------------------------------------------

    @app.get("/", include_in_schema=False)
    def index() -> HTMLResponse:
        return HTMLResponse((STATIC / "index.html").read_text(encoding="utf-8"))

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly() -> Response:
        return Response(plotly_js(), media_type="application/javascript",
                        headers={"Cache-Control": "max-age=86400"})

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    # -- info and cases -------------------------------------------------------------------

    @app.get("/api/info", summary="Engines, limits and the case given on the command line")
    def info() -> dict[str, Any]:
        from ..explore import SAMPLERS

        return {
            "version": _version(),
            "models": models,
            "all_models": list(MODELS),
            "samplers": list(SAMPLERS),
            "max_upload_bytes": settings.max_upload_bytes,
            "max_draws": settings.max_draws,
            "max_experiments": settings.max_experiments,
            "initial_case": settings.initial_case,
        }

    @app.get("/api/cases", summary="Workspace cases and shipped cases")
    def list_cases() -> dict[str, Any]:
        return {"workspace": ws.case_names(), "shipped": list(shipped_cases())}

    @app.post("/api/cases/open", summary="Copy a shipped case into the workspace")
    def open_shipped(body: OpenRequest) -> dict[str, Any]:
        shipped = shipped_cases()
        if body.shipped not in shipped:
            raise HTTPException(404, f"no shipped case {body.shipped!r}; shipped: "
                                f"{', '.join(shipped)}")
        name = body.shipped
        if name not in ws.case_names():
            ws.save(name, read_text(shipped[name]))
        return case_document(name, ws.load(name))

    @app.post("/api/cases/upload", summary="Upload a case file (YAML, KTAB CSV, Scholz CSV)",
              responses={413: {"description": "file too large"},
                         422: {"description": "not a valid case (the CLI's message)"}})
    async def upload(file: Annotated[UploadFile, File(description="the case file")]
                     ) -> Any:
        filename = Path(file.filename or "upload.yaml").name or "upload.yaml"
        limit = settings.max_upload_bytes
        raw = await file.read(limit + 1)
        if len(raw) > limit:
            return JSONResponse({"error": f"{filename}: file is too large (over {limit} "
                                 f"bytes; limit {limit})"}, status_code=413)
        tmp = Path(tempfile.mkdtemp(dir=ws.path("uploads")))
        try:
            staged = tmp / (re.sub(r"[^A-Za-z0-9_.-]+", "_", filename)[:80] or "upload.yaml")
            staged.write_bytes(raw)
            try:
                case = read_case(staged)
            except CaseError as exc:
                raise CaseError(exc.message, file=filename, line=exc.line,
                                field=exc.field) from None
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        name = free_name(ws, Path(filename).stem)
        ws.save(name, format_case(case, "yaml"))
        return case_document(name, ws.load(name))

    @app.get("/api/cases/{name}", summary="A workspace case, as data and as YAML")
    def get_case(name: NameParam) -> dict[str, Any]:
        return case_document(name, ws.load(name))

    def _check_draft(name: str, data: dict[str, Any]) -> tuple[Case, str] | JSONResponse:
        text = draft_yaml(data)
        try:
            return parse_case(text, file=f"{name}.yaml", fmt="yaml"), text
        except CaseError as exc:
            return user_error(exc, draft=text)

    @app.post("/api/cases/{name}/validate",
              summary="Validate an edited case; the message is the CLI's for the same YAML")
    def validate_draft(name: NameParam, body: DraftRequest) -> Any:
        ws.load(name)
        checked = _check_draft(name, body.data)
        if isinstance(checked, JSONResponse):
            return checked
        return {"ok": True}

    @app.put("/api/cases/{name}", summary="Save an edited case as YAML (sources kept)")
    def save_case(name: NameParam, body: DraftRequest) -> Any:
        ws.load(name)
        checked = _check_draft(name, body.data)
        if isinstance(checked, JSONResponse):
            return checked
        case, _ = checked
        ws.save(name, format_case(case, "yaml"))
        return case_document(name, ws.load(name))

    @app.get("/api/cases/{name}/yaml", summary="Download the case as YAML")
    def download_case(name: NameParam) -> Response:
        path = ws.case_path(name)
        ws.load(name)
        return FileResponse(path, media_type="application/x-yaml", filename=f"{name}.yaml")

    @app.delete("/api/cases/{name}", summary="Remove a case from the workspace")
    def delete_case(name: NameParam) -> dict[str, Any]:
        path = ws.case_path(name)
        if not path.exists():
            raise HTTPException(404, f"no case {name!r} in the workspace")
        path.unlink()
        return {"ok": True}

    # -- forecasts ------------------------------------------------------------------------

    @app.post("/api/forecast", summary="Forecast a case with one engine, rounds included")
    def run_forecast(body: ForecastRequest) -> Any:
        from ..jobs.run import ModelRun, movement_table

        if body.model not in models:
            raise AllianceLabError(f"engine {body.model!r} is not available in this "
                                   f"installation; available: {', '.join(models)}",
                                   field="model")
        case, scenario = ws.scenario(body.case, tuple(body.interventions))
        opts: dict[str, Any] = {}
        if body.rounds is not None and engine_class(body.model).iterative:
            opts["rounds"] = body.rounds
        f = forecast(scenario, body.model, rng=body.seed, **opts)
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
                           for i in scenario.issues],
            "movement": _frame(movement_table({body.model: run}, None, scenario)),
            "dynamics": None,
        }
        if body.dynamics:
            from ..models.dynamics import simulate

            sim = simulate(case, model="compromise", interventions=body.interventions,
                           rng=body.seed)
            out["dynamics"] = {
                "model": sim.model,
                "positions": sim.positions,
                "outcomes": sim.outcomes,
                "indicators": dict(sim.indicators),
                "movement": _frame(movement_table({}, sim, scenario)),
            }
        return JSONResponse(jsonable(out))

    # -- report runs ----------------------------------------------------------------------

    @app.post("/api/runs", status_code=202,
              summary="Start the main job (alliancelab run) on a case; poll its status")
    def start_run(body: RunRequest) -> dict[str, Any]:
        from ..jobs.run import DEFAULT_MODELS

        case = ws.load(body.case)
        if body.draws > settings.max_draws:
            raise AllianceLabError(f"must be at most {settings.max_draws}, got {body.draws}",
                                   field="draws")
        chosen = list(body.models) or [m for m in DEFAULT_MODELS if m in models] or ["compromise"]
        for m in chosen:
            if m not in models:
                raise AllianceLabError(f"engine {m!r} is not available in this installation; "
                                       f"available: {', '.join(models)}", field="models")
        _check_names(case, body.interventions)
        job = Job(uuid.uuid4().hex[:12], "run", body.case,
                  {"interventions": body.interventions, "models": chosen,
                   "draws": body.draws, "seed": body.seed})
        path = ws.case_path(body.case)

        def work(job: Job) -> None:
            from ..cli.run import other_snapshots
            from ..jobs.run import run_job
            from ..report import write_outputs

            def tick(stage: str, done: int, total: int) -> None:
                job.stage, job.done, job.total = stage, done, total

            results = run_job(
                case, interventions=body.interventions, models=chosen, draws=body.draws,
                seed=body.seed, case_source=str(path.name),
                snapshots=other_snapshots(case, path), progress=tick,
            )
            job.stage = "writing the report"
            shocks = {s.name for s in case.shocks}
            command = " ".join(["alliancelab", "run", f"{body.case}.yaml",
                                *[x for n in body.interventions
                                  for x in ("--shock" if n in shocks else "--lever", n)],
                                "--models", ",".join(chosen), "--draws", str(body.draws),
                                "--seed", str(body.seed)])
            write_outputs(results, ws.path("runs", job.id), command=command)
            job.stage = "done"

        jobs.submit(job, work)
        return job.public()

    @app.get("/api/runs", summary="Report runs of this session")
    def list_runs() -> list[dict[str, Any]]:
        return [j.public() for j in jobs.all("run")]

    @app.get("/api/runs/{run_id}", summary="Status of a report run and its files")
    def get_run(run_id: NameParam) -> dict[str, Any]:
        job = jobs.get(run_id)
        folder = ws.path("runs", ws.check_name(run_id, "run"))
        if job is None and not (folder / "manifest.json").exists():
            raise HTTPException(404, f"no run {run_id!r}")
        out: dict[str, Any] = (job.public() if job
                               else {"id": run_id, "kind": "run", "status": "done"})
        out["files"] = _files(folder) if out["status"] == "done" else []
        return out

    @app.get("/api/runs/{run_id}/files/{filename}", summary="One result file of a run")
    def run_file(run_id: NameParam, filename: Annotated[str, PathParam(max_length=64)],
                 download: bool = False) -> Response:
        from ..report import OUTPUT_FILES

        if filename not in OUTPUT_FILES:
            raise HTTPException(404, f"no file {filename!r}")
        folder = ws.path("runs", ws.check_name(run_id, "run"))
        path = ws.path("runs", run_id, filename)
        if path.parent != folder or not path.is_file():
            raise HTTPException(404, f"no file {filename!r} in run {run_id!r}")
        media = {"html": "text/html", "csv": "text/csv", "json": "application/json"}[
            filename.rsplit(".", 1)[1]]
        if download:
            return FileResponse(path, media_type=media, filename=filename)
        return FileResponse(path, media_type=media)

    # -- explorations ---------------------------------------------------------------------

    @app.post("/api/explorations", status_code=202,
              summary="Start an exploration (alliancelab explore); poll its progress")
    def start_exploration(body: ExploreRequest) -> dict[str, Any]:
        from ..explore import explore, policies, uncertainties
        from ..explore import samplers as smp
        from ..explore.model import bdm_batch

        case = ws.load(body.case)
        _check_names(case, body.levers, kind="levers")
        _check_names(case, body.shocks, kind="shocks")
        params = uncertainties(case, body.shocks)
        smp.check(body.sampler, body.n, len(params))
        n_exp = smp.n_scenarios(body.sampler, body.n, len(params)) * len(
            policies(case, body.levers))
        if n_exp > settings.max_experiments:
            raise AllianceLabError(
                f"{n_exp} experiments ({body.sampler}, n={body.n}, {len(params)} "
                f"uncertainties) exceed the app's limit of {settings.max_experiments}; "
                "use a smaller n or the command line (alliancelab explore)", field="n")
        engines = ["compromise", "bdm"] if bdm_batch() is not None else ["compromise"]
        job = Job(uuid.uuid4().hex[:12], "exploration", body.case,
                  {**body.model_dump(exclude={"case"}), "models": engines}, total=n_exp)
        store = ws.path("explorations", job.id)

        def work(job: Job) -> None:
            def tick(done: int, total: int, failed: int) -> None:
                job.done, job.total, job.failed = done, total, failed

            job.stage = "exploring"
            explore(case, n=body.n, sampler=body.sampler, levers=body.levers,
                    shocks=body.shocks, models=engines, rounds=body.rounds, seed=body.seed,
                    store=store, progress=tick)
            job.stage = "done"

        jobs.submit(job, work)
        return job.public()

    @app.get("/api/explorations", summary="Explorations of this session")
    def list_explorations() -> list[dict[str, Any]]:
        return [j.public() for j in jobs.all("exploration")]

    def _exploration(ex_id: str) -> Any:
        from ..explore import Exploration

        folder = ws.path("explorations", ws.check_name(ex_id, "exploration"))
        job = jobs.get(ex_id)
        if job is not None and job.status != "done":
            raise HTTPException(409, f"exploration {ex_id!r} is {job.status}")
        if not (folder / "manifest.json").exists():
            raise HTTPException(404, f"no exploration {ex_id!r}")
        return Exploration(folder)

    @app.get("/api/explorations/{ex_id}", summary="Progress of an exploration")
    def get_exploration(ex_id: NameParam) -> dict[str, Any]:
        job = jobs.get(ex_id)
        if job is not None:
            return job.public()
        ex = _exploration(ex_id)
        return {"id": ex_id, "kind": "exploration", "status": "done",
                "done": ex.n_stored, "total": ex.n_experiments, "failed": ex.n_failed}

    @app.get("/api/explorations/{ex_id}/analysis",
             summary="Outcome summary, sensitivity, scenario discovery (PRIM) and robustness")
    def analyse(
        ex_id: NameParam,
        outcome: Annotated[str | None, Query(max_length=200)] = None,
        sense: Literal["max", "min"] = "max",
        threshold: float | None = None,
        direction: Literal["above", "below"] = "above",
    ) -> dict[str, Any]:
        from ..explore.store import Store

        ex = _exploration(ex_id)
        if outcome is None:
            outcome = ex.outcomes[0]
        if outcome not in ex.outcomes:
            raise AllianceLabError(f"unknown outcome {outcome!r}; choose from "
                                   f"{', '.join(ex.outcomes)}", field="outcome")
        with Store(ex.directory) as st:
            summary = st.summary([outcome])
        out: dict[str, Any] = {
            "id": ex_id, "outcome": outcome, "outcomes": ex.outcomes, "policies": ex.policies,
            "sampler": ex.manifest["sampler"], "n_experiments": ex.n_experiments,
            "n_failed": ex.n_failed, "summary": _frame(summary),
            "sensitivity": None, "prim": None, "robustness": None,
        }
        out["sensitivity"] = _part(lambda: _sensitivity(ex, outcome))
        out["prim"] = _part(lambda: _prim(ex, outcome, threshold, direction))
        if len(ex.policies) > 1:
            out["robustness"] = _part(lambda: _robustness(ex, outcome, sense))
        return jsonable(out)  # type: ignore[no-any-return]

    return app


# -- analysis parts ----------------------------------------------------------------------


def _part(fn: Callable[[], dict[str, Any] | None]) -> dict[str, Any] | None:
    try:
        return fn()
    except AllianceLabError as exc:
        return {"error": str(exc)}


def _sensitivity(ex: Any, outcome: str) -> dict[str, Any] | None:
    from ..analysis.sensitivity import sensitivity, tornado

    if ex.manifest["sampler"] not in ("sobol", "morris"):
        return {"error": "sensitivity indices need an exploration with the sobol or "
                "morris sampler"}
    idx = sensitivity(ex, outcome)
    return {"method": ex.manifest["sampler"], "table": _frame(idx.head(30)),
            "figure": _fig(tornado(idx, title=f"{outcome}: {ex.manifest['sampler']} indices"))}


def _prim(ex: Any, outcome: str, threshold: float | None, direction: str) -> dict[str, Any]:
    from ..analysis.discovery import discover, tradeoff_plot

    if threshold is None:
        res = ex.results(["policy", "ok", outcome])
        y = res.loc[(res["policy"] == "none") & res["ok"], outcome].to_numpy(dtype=float)
        y = y[np.isfinite(y)]
        if y.size == 0:
            return {"error": "no successful experiment to describe"}
        threshold = float(np.quantile(y, 0.75 if direction == "above" else 0.25))
    kw = {"above": threshold} if direction == "above" else {"below": threshold}
    res = discover(ex, outcome, **kw)  # type: ignore[arg-type]
    b = res.select(0.5)
    box = res.boxes[b]
    op = ">" if direction == "above" else "<"
    return {
        "threshold": threshold, "direction": direction, "box": b,
        "coverage": box.coverage, "density": box.density, "mass": box.mass,
        "limits": _frame(res.limits(b)), "trajectory": _frame(res.trajectory()),
        "figure": _fig(tradeoff_plot(res, title=f"PRIM: {outcome} {op} {threshold:.4g}")),
    }


def _robustness(ex: Any, outcome: str, sense: str) -> dict[str, Any]:
    from ..analysis.robustness import robustness

    rb = robustness(ex, outcome, sense=sense)
    out: dict[str, Any] = {"sense": sense, "most_robust": rb.most_robust,
                           "summary": _frame(rb.summary), "failure_box": None}
    if rb.failure_box is not None:
        b = rb.failure_box.select(0.5)
        box = rb.failure_box.boxes[b]
        out["failure_box"] = {"coverage": box.coverage, "density": box.density,
                              "limits": _frame(rb.failure_box.limits(b))}
    return out


def _check_names(case: Case, names: list[str], kind: str = "interventions") -> None:
    known = {"levers": [x.name for x in case.levers], "shocks": [x.name for x in case.shocks]}
    allowed = known[kind] if kind in known else [*known["shocks"], *known["levers"]]
    for n in names:
        if n not in allowed:
            what = kind[:-1] if kind in known else "shock or lever"
            raise AllianceLabError(f"unknown {what} {n!r}; the case defines "
                                   f"{', '.join(allowed) or 'none'}", field=kind)


def _files(folder: Path) -> list[dict[str, Any]]:
    from ..report import OUTPUT_FILES

    return [{"name": n, "description": d, "bytes": (folder / n).stat().st_size}
            for n, d in OUTPUT_FILES.items() if (folder / n).is_file()]


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("alliancelab")
    except PackageNotFoundError:
        return "0"
