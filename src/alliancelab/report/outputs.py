"""Write everything ``alliancelab run`` produces into one directory, atomically.

All files are first written into a temporary directory beside the target, which is then
renamed into place; an existing output directory of an earlier run is swapped out in the
same way. A crash therefore never leaves a half-written report: the reader sees the old
complete set of files or the new one.
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
from ..core.result import jsonable
from ..jobs.results import RunResults
from .html import render

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
    """Refuse an output directory that exists and was not written by ``alliancelab run``
    (it would be replaced); check before any work is done."""
    path = Path(out)
    if path.exists():
        if not path.is_dir():
            raise AllianceLabError(f"{path} exists and is not a directory", field="--out")
        contents = list(path.iterdir())
        if contents and not _ours(path):
            raise AllianceLabError(
                f"{path} exists and holds files not written by 'alliancelab run'; "
                "choose another --out directory",
                field="--out",
            )
    return path


def _ours(path: Path) -> bool:
    try:
        data = json.loads((path / _MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("tool") == "alliancelab run"


def result_files(results: RunResults, *, command: str | None = None,
                 created: datetime | None = None) -> dict[str, bytes]:
    """Every output file's name and content (the report rendered too)."""
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
    files["report.html"] = render(results, command=command, created=created).encode("utf-8")
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
                  created: datetime | None = None) -> Path:
    """Write every file into ``out`` atomically (see the module docstring); returns ``out``."""
    target = check_out_dir(out)
    files = result_files(results, command=command, created=created)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)
    try:
        for name, data in files.items():
            with open(tmp / name, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        if target.exists():
            old = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.",
                                        suffix=".old"))
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
    return target
