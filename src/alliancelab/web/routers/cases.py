"""``/api/cases``: the workspace's cases - list, open a shipped one, upload, read, validate
a draft, save, download, delete.

Uploads are size-limited and read through the CLI's reader
(:func:`alliancelab.formats.read_case`), so their messages are the CLI's with the uploaded
file's name. Drafts are validated by writing them as YAML and reading that back with
:func:`alliancelab.parse_case`, so a draft's message is exactly what
``alliancelab forecast DRAFT.yaml`` prints.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import File, HTTPException, UploadFile
from fastapi.responses import FileResponse, JSONResponse, Response

from ... import format_case, parse_case
from ...cases import shipped_cases
from ...core.case import Case
from ...core.errors import CaseError
from ...formats import read_case, read_text
from ..deps import SettingsDep, WorkspaceDep
from ..errors import error_response, user_error
from ..routing import api_router
from ..schemas import DraftRequest, NameParam, OpenRequest
from ..workspace import Workspace, case_document, draft_yaml, free_name, ranges_set_aside

router = api_router("cases")


@router.get("/cases", summary="Workspace cases and shipped cases")
def list_cases(ws: WorkspaceDep) -> dict[str, Any]:
    return {"workspace": ws.case_names(), "shipped": list(shipped_cases())}


@router.post("/cases/open", summary="Copy a shipped case into the workspace")
def open_shipped(body: OpenRequest, ws: WorkspaceDep) -> dict[str, Any]:
    shipped = shipped_cases()
    if body.shipped not in shipped:
        raise HTTPException(404, f"no shipped case {body.shipped!r}; shipped: "
                            f"{', '.join(shipped)}")
    name = body.shipped
    if name not in ws.case_names():
        ws.save(name, read_text(shipped[name]))
    return case_document(name, ws.load(name))


def staged_name(filename: str) -> str:
    """The name an upload is staged under: ``filename`` with only safe characters, never
    a name of dots only (``..`` would be the staging directory's parent)."""
    staged = re.sub(r"[^A-Za-z0-9_.-]+", "_", filename)[:80]
    return staged if staged.strip(".") else "upload.yaml"


def read_upload(ws: Workspace, filename: str, raw: bytes) -> Case:
    """The uploaded bytes read as the CLI reads a file called ``filename``."""
    tmp = Path(tempfile.mkdtemp(dir=ws.path("uploads")))
    try:
        staged = tmp / staged_name(filename)
        staged.write_bytes(raw)
        try:
            return read_case(staged)
        except CaseError as exc:
            raise CaseError(exc.message, file=filename, line=exc.line,
                            field=exc.field) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@router.post("/cases/upload", summary="Upload a case file (YAML, KTAB CSV, Scholz CSV)",
             responses={413: {"description": "file too large"},
                        422: {"description": "not a valid case (the CLI's message)"}})
async def upload(file: Annotated[UploadFile, File(description="the case file")],
                 ws: WorkspaceDep, settings: SettingsDep) -> Any:
    filename = Path(file.filename or "upload.yaml").name
    if not filename.strip("."):
        filename = "upload.yaml"
    limit = settings.max_upload_bytes
    raw = await file.read(limit + 1)
    if len(raw) > limit:
        return error_response(413, f"{filename}: file is too large (over {limit} bytes; "
                              f"limit {limit})")
    case = read_upload(ws, filename, raw)
    name = free_name(ws, Path(filename).stem)
    ws.save(name, format_case(case, "yaml"))
    return case_document(name, ws.load(name))


@router.get("/cases/{name}", summary="A workspace case, as data and as YAML")
def get_case(name: NameParam, ws: WorkspaceDep) -> dict[str, Any]:
    return case_document(name, ws.load(name))


def check_draft(name: str, data: dict[str, Any]) -> Case | JSONResponse:
    """The draft as a case, or the 422 the CLI's message for it makes (with the YAML).

    Each number is first checked against its scale and its field's domain (a capability
    >= 0, a salience in [0, 1], a position on its issue's scale) with the uncertainty ranges
    set aside (:func:`~..workspace.ranges_set_aside`), so an edit outside the domain gets
    that message (``capability must be >= 0, got -1``), not the range's; then the draft as
    it is (a number outside its own range is refused with the CLI's message)."""
    text = draft_yaml(data)
    file = f"{name}.yaml"
    try:
        parse_case(draft_yaml(ranges_set_aside(data)), file=file, fmt="yaml")
        return parse_case(text, file=file, fmt="yaml")
    except CaseError as exc:
        return user_error(exc, draft=text)


@router.post("/cases/{name}/validate",
             summary="Validate an edited case; the message is the CLI's for the same YAML")
def validate_draft(name: NameParam, body: DraftRequest, ws: WorkspaceDep) -> Any:
    ws.load(name)
    checked = check_draft(name, body.data)
    return checked if isinstance(checked, JSONResponse) else {"ok": True}


@router.put("/cases/{name}", summary="Save an edited case as YAML (sources kept)")
def save_case(name: NameParam, body: DraftRequest, ws: WorkspaceDep) -> Any:
    ws.load(name)
    checked = check_draft(name, body.data)
    if isinstance(checked, JSONResponse):
        return checked
    ws.save(name, format_case(checked, "yaml"))
    return case_document(name, ws.load(name))


@router.get("/cases/{name}/yaml", summary="Download the case as YAML")
def download_case(name: NameParam, ws: WorkspaceDep) -> Response:
    path = ws.case_path(name)
    ws.load(name)
    return FileResponse(path, media_type="application/x-yaml", filename=f"{name}.yaml")


@router.delete("/cases/{name}", summary="Remove a case from the workspace")
def delete_case(name: NameParam, ws: WorkspaceDep) -> dict[str, Any]:
    path = ws.case_path(name)
    if not path.exists():
        raise HTTPException(404, f"no case {name!r} in the workspace")
    path.unlink()
    return {"ok": True}
