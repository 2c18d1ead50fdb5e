"""Where the shared data sets live for the tests: ``$ALLIANCELAB_SHARED/data``, else the
``shared/data`` folder beside the repository (as CI lays it out)."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ALLIANCELAB_SHARED") or REPO.parent / "shared")
DATA = SHARED / "data"
