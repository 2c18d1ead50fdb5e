"""Write everything ``alliancelab run`` produces into one directory, atomically.

All files are first written into a temporary directory beside the target, which is then
renamed into place; an existing output directory of an earlier run is swapped out in the
same way. A crash therefore never leaves a half-written report: the reader sees the old
complete set of files or the new one.

Nothing alliancelab did not write is replaced: an existing directory is swapped out only
when every entry in it is a file its manifest lists, unchanged (:func:`check_out_dir`,
checked before the job and again before the swap). The working directories are named
``.DIR.<pid>.<random>.tmp`` / ``.old``; those a killed run left are removed by the next
write (:func:`remove_stale`). A symbolic link ``DIR`` is written through. See
docs/reliability.md, items 1, 8 and 9.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from ..core.errors import AllianceLabError
from ..core.io import (
    UMASK,
    WORK_NAME,
    check_writable,
    os_reason,
    read_regular_file,
    writer_alive,
)
from ..core.result import jsonable
from ..execution import Evaluator
from ..jobs.results import RunResults

#: file name -> what it holds (listed in the manifest and docs/report.md).
OUTPUT_FILES = {
    "report.html": "the self-contained HTML report (opens offline)",
    "forecasts.csv": "forecast per model and issue: as stated, Monte Carlo 5/50/95%",
    "forecast_draws.csv": "every Monte Carlo forecast (draw, model, issue)",
    "parameter_draws.csv": "the drawn value of every uncertain input, per draw",
    "trajectories.csv": "positions per round (source = engine or dynamics, actor, issue)",
    "dynamics.csv": "the perception dynamics per round: outcomes, indicators, perceptions",
    "movement.csv": "who moves toward whom: share of the distance closed, per source",
    "interactions.csv": "offers (BDM) and challenges (SMP) between actors, counted",
    "perception_gaps.csv": "perception gap between the case's two sides per item, per snapshot",
    "interventions.csv": "effect of every shock and lever (and the chosen combination)",
    "alliance_models.csv": "alliance-model indicators per scenario: as stated, effect, and "
    "5/50/95% of the value and of the effect over the alliance draws (when available)",
    "alliance_families.csv": "share of the alliance draws per equilibrium family / game type, "
    "per scenario (when available)",
    "inputs.csv": "every input number with its range and source",
    "results.json": "the forecasts with bands, the effects and the gaps as one document",
    "manifest.json": "provenance: seed, draws, versions, case hash, command, file hashes",
}
_MARKER = "manifest.json"


def check_out_dir(out: str | os.PathLike[str]) -> Path:
    """The directory to write ``alliancelab run``'s files into, checked before any work.

    ``out`` may be missing, empty, or the complete output of an earlier run: then every entry
    in it is a file its ``manifest.json`` lists, unchanged since it was written (same SHA-256,
    or same size for ``report.html``). Anything else - a file or folder of the user's, an
    edited result, a manifest that does not list the files - is refused with one line, so
    nothing alliancelab did not write is ever replaced. A symbolic link is followed: the
    directory it points to is checked (and later written), the link is left as it is.
    Also refused: ``out`` (or an ancestor) a regular file, a read-only or unwritable place.
    Returns the directory to write (the link's target for a link)."""
    path = Path(out)
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    if os.path.lexists(path):
        if not path.is_dir():
            raise AllianceLabError("exists and is not a directory", file=str(out),
                                   field="--out")
        foreign = foreign_entries(path)
        if foreign:
            shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more"
                                              if len(foreign) > 3 else "")
            raise AllianceLabError(
                f"holds files 'alliancelab run' did not write or that were changed since "
                f"({shown}); they would be lost: choose another --out directory or move "
                "them", file=str(out), field="--out")
    check_writable(path, "--out", folder=True)
    return path


def foreign_entries(path: Path) -> list[str]:
    """Entries of the directory ``path`` that its manifest does not prove alliancelab wrote
    (names, sorted; a folder ends with ``/``); empty for an empty directory or a complete,
    unchanged earlier output."""
    names = sorted(os.listdir(path))
    if not names:
        return []
    listed = _listed_files(path)
    foreign = []
    for name in names:
        entry = path / name
        if entry.is_dir() and not entry.is_symlink():
            foreign.append(name + "/")
        elif name != _MARKER and (name not in listed or not _unchanged(entry, listed[name])):
            foreign.append(name)
        elif not entry.is_file() or entry.is_symlink():
            foreign.append(name)
    if _MARKER not in names or not listed:
        foreign = [n for n in names if n != _MARKER] or [_MARKER]
    return foreign


def _listed_files(path: Path) -> dict[str, dict[str, Any]]:
    """The files ``path/manifest.json`` says ``alliancelab run`` wrote (names of
    :data:`OUTPUT_FILES` only), or ``{}`` when it is no such manifest."""
    marker = path / _MARKER
    try:
        if marker.is_symlink():
            return {}
        data = json.loads(read_regular_file(marker, 1 << 22, what="manifest"))
    except (OSError, ValueError, AllianceLabError):
        return {}
    if not isinstance(data, dict) or data.get("tool") != "alliancelab run":
        return {}
    files = data.get("files")
    if not isinstance(files, dict):
        return {}
    return {name: info for name, info in files.items()
            if name in OUTPUT_FILES and name != _MARKER and isinstance(info, dict)}


def _unchanged(entry: Path, info: dict[str, Any]) -> bool:
    """``entry`` is as the manifest recorded it (SHA-256, or the size where no hash is
    kept)."""
    try:
        if entry.is_symlink() or not entry.is_file():
            return False
        if "sha256" in info:
            h = hashlib.sha256()
            with open(entry, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
            return h.hexdigest() == info["sha256"]
        return bool(entry.stat().st_size == info.get("bytes"))
    except OSError:
        return False


def result_files(results: RunResults, *, command: str | None = None,
                 created: datetime | None = None, evaluator: Evaluator | None = None
                 ) -> dict[str, bytes]:
    """Every output file's name and content (the report rendered too). With a parallel
    ``evaluator`` (e.g. the run's process pool), the data files and the page's Exploration
    section are made there while the rest of the page is rendered here (the same bytes)."""
    pending = None if evaluator is None else evaluator.submit_pickled(data_files, results)
    from .html import render  # here: the page's modules (plotly, jinja2) load when written

    page = render(results, command=command, created=created, evaluator=evaluator).encode("utf-8")
    files = data_files(results) if pending is None else pending.result()
    files["report.html"] = page
    manifest = results.manifest(command)
    manifest["files"] = {
        name: {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data),
               "content": OUTPUT_FILES.get(name, "")}
        for name, data in sorted(files.items()) if name != "report.html"
    }
    manifest["files"]["report.html"] = {"bytes": len(files["report.html"]),
                                        "content": OUTPUT_FILES["report.html"]}
    files["manifest.json"] = _json(manifest)
    return files


def data_files(results: RunResults) -> dict[str, bytes]:
    """The CSV tables and ``results.json``, by file name."""
    files: dict[str, bytes] = {}

    def csv(name: str, df: pd.DataFrame | None) -> None:
        if df is None:
            return
        files[name] = df.to_csv(index=False, lineterminator="\n").encode()

    csv("forecasts.csv", results.forecast_table())
    csv("forecast_draws.csv", results.draws_table())
    csv("parameter_draws.csv", results.draws.frame())
    csv("trajectories.csv", results.trajectory_table())
    csv("dynamics.csv", results.dynamics_table())
    csv("movement.csv", results.movement)
    csv("interactions.csv", results.interactions)
    csv("perception_gaps.csv", results.gaps)
    csv("interventions.csv", results.effects)
    csv("alliance_models.csv", results.alliance)
    csv("alliance_families.csv", results.alliance_labels)
    csv("inputs.csv", results.inputs)
    files["results.json"] = _json(results_document(results))
    return files


def results_document(results: RunResults) -> dict[str, Any]:
    """The main numbers as one JSON-ready document."""
    ft = results.forecast_table()
    forecasts: dict[str, Any] = {}
    for r in ft.itertuples():
        forecasts.setdefault(r.model, {})[r.issue] = {
            "forecast": r.forecast, "p5": r.p5, "p50": r.p50, "p95": r.p95,
            "status_quo": r.status_quo, "units": r.units,
        }
    sim = results.simulation
    return jsonable({
        "case": results.case.name,
        "date": results.case.date,
        "interventions": list(results.interventions),
        "seed": results.seed,
        "draws": results.n_draws,
        "forecasts": forecasts,
        "dynamics": None if sim is None else {
            "final_outcomes": sim.final_outcomes(),
            "final_indicators": {k: float(v[-1]) for k, v in sim.indicators.items()},
        },
        "perception_gaps": results.gaps.to_dict(orient="records"),
        "effects": results.effects.to_dict(orient="records"),
        "alliance_models": None if results.alliance is None
        else results.alliance.to_dict(orient="records"),
        "alliance_families": None if results.alliance_labels is None
        else results.alliance_labels.to_dict(orient="records"),
        "notes": list(results.notes),
    })


def _json(doc: Any) -> bytes:
    return (json.dumps(jsonable(doc), indent=2, sort_keys=False, allow_nan=False) + "\n").encode()


def write_outputs(results: RunResults, out: str | os.PathLike[str], *, command: str | None = None,
                  created: datetime | None = None, evaluator: Evaluator | None = None
                  ) -> Path:
    """Write every file into ``out`` atomically (see the module docstring); returns the
    directory written (a symbolic link's target). ``out`` is checked again
    (:func:`check_out_dir`) just before the swap, so a file added while the job ran is not
    lost either. A failure to write (a full disk, a read-only folder) is the one-line error
    naming ``out``; the temporary directory is then removed and an earlier output kept.
    ``evaluator``: see :func:`result_files`."""
    target = check_out_dir(out)
    files = result_files(results, command=command, created=created, evaluator=evaluator)
    try:
        write_directory(target, files, out)
    except OSError as exc:
        raise AllianceLabError(f"cannot write: {os_reason(exc)}", file=str(out),
                               field="--out") from None
    return target


def _workdir(target: Path, suffix: str) -> Path:
    return Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.{os.getpid()}.",
                                 suffix=suffix))


def write_directory(target: Path, files: dict[str, bytes],
                    out: str | os.PathLike[str] | None = None) -> None:
    """Write ``files`` (name -> content) as the directory ``target``: into a temporary
    directory beside it, then renamed into place (an earlier output swapped out and removed).
    Working directories left beside it by a killed run are removed first
    (:func:`remove_stale`)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(target)
    tmp = _workdir(target, ".tmp")
    os.chmod(tmp, 0o777 & ~UMASK)
    try:
        for name, data in files.items():
            with open(tmp / name, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        check_out_dir(target if out is None else out)  # nothing foreign appeared meanwhile
        if target.exists():
            old = _workdir(target, ".old")
            old.rmdir()
            os.replace(target, old)
            try:
                os.replace(tmp, target)
            except BaseException:
                os.replace(old, target)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def remove_stale(target: Path) -> list[Path]:
    """Remove the hidden working directories beside ``target`` that a run killed while
    writing left behind (``.NAME.<pid>.<random>.tmp`` / ``.old``): only ours - named for
    ``target``, holding nothing but output files - and only when the process that made it
    is gone (its pid is not running, or runs a process started after the directory was
    last written). Returns what was removed."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    for entry in entries:
        m = WORK_NAME.match(entry.name)
        if not m or m.group("name") != target.name:
            continue
        path = Path(entry.path)
        try:
            if (entry.is_symlink() or not entry.is_dir()
                    or writer_alive(int(m.group("pid")), entry.stat().st_mtime)
                    or not _only_outputs(path)):
                continue
            shutil.rmtree(path)
            removed.append(path)
        except OSError:
            continue
    return removed


def _only_outputs(path: Path) -> bool:
    return all(e.is_file() and not e.is_symlink() and e.name in OUTPUT_FILES
               for e in os.scandir(path))
