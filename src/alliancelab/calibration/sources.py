"""Where the calibration data live: the vendored slices inside the package, and the full
shared data sets (``$ALLIANCELAB_SHARED/data`` or ``<repo>/../shared/data``) when present.

The slices under ``alliancelab/data/{nmc_system,troops,spending,alliances}/`` are cut from the
shared files by :func:`alliancelab.calibration.vendor.make_slices`; each folder has a
``SOURCE.md`` with the citation and terms.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path


def vendored(folder: str, name: str) -> Path:
    """Path of a vendored slice ``alliancelab/data/<folder>/<name>``."""
    return Path(str(resources.files("alliancelab").joinpath("data", folder, name)))


def shared_data_dir() -> Path | None:
    """The shared data directory if it exists: ``$ALLIANCELAB_SHARED/data``, else
    ``<repo>/../shared/data`` (the repo being the checkout holding ``src/alliancelab``)."""
    env = os.environ.get("ALLIANCELAB_SHARED")
    candidates = [Path(env) / "data"] if env else []
    repo = Path(__file__).resolve().parents[3]
    candidates.append(repo.parent / "shared" / "data")
    for c in candidates:
        if c.is_dir():
            return c
    return None
