"""The app's data directory (:class:`Workspace`) and the case documents the pages edit.

Everything the app reads or writes lives in its data directory::

    DATA/cases/NAME.yaml          the workspace: opened, uploaded and edited cases
    DATA/runs/ID/                 the files of one report run (report.html, CSV, JSON)
    DATA/explorations/ID/         one exploration's store (DuckDB, design, manifest)

Every path handed out is resolved and checked to lie inside the data directory, and names
are checked against :data:`~.schemas.NAME_RE` (no dots, no slashes) before use.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import yaml
from fastapi import HTTPException

from ..cases import shipped_cases
from ..core import units
from ..core.case import Case
from ..core.errors import CaseError
from ..core.io import atomic_write_text
from ..formats import format_case, read_case
from ..report.theme import actor_styles
from ..report.widgets import scale_text
from ..scenarios.scenario import Scenario, scenario
from .schemas import NAME_RE


class Workspace:
    """The data directory; every path it hands out is checked to lie inside it."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        for sub in ("cases", "runs", "explorations", "uploads"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self._cache: dict[Path, tuple[tuple[int, int], Case]] = {}
        self._scenarios: dict[tuple[int, tuple[str, ...]], Scenario] = {}
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

    def scenario(self, name: str, interventions: tuple[str, ...]) -> Scenario:
        """Workspace case ``name`` with ``interventions`` (names checked), cached per file
        state, so its intervened case and dynamics stages are built once."""
        case = self.load(name)
        key = (id(case), interventions)
        with self._lock:
            hit = self._scenarios.get(key)
        if hit is not None and hit.base is case:
            return hit
        sc = scenario(case, interventions)
        with self._lock:
            if len(self._scenarios) > 256:
                self._scenarios.clear()
            self._scenarios[key] = sc
        return sc

    def save(self, name: str, text: str) -> Path:
        path = self.case_path(name)
        atomic_write_text(path, text)
        return path

    def snapshots(self, name: str, case: Case) -> dict[str, Case]:
        """Other dated snapshots of workspace case ``name`` for the run's perception-gap
        comparison: shipped cases, and workspace cases that are not shipped ones, named
        like it with another year (``us_rok_2007`` for ``us_rok_2025``), keyed by date
        (one with the case's own date is left out). As ``alliancelab run`` finds them."""
        m = re.fullmatch(r"(.*)_(\d{4})", name)
        if m is None:
            return {}
        like = re.compile(rf"{re.escape(m.group(1))}_\d{{4}}")
        shipped = shipped_cases()
        paths = [p for n, p in shipped.items() if like.fullmatch(n)]
        paths += [self.case_path(n) for n in self.case_names()
                  if like.fullmatch(n) and n != name and n not in shipped]
        out: dict[str, Case] = {}
        for p in paths:
            other = read_case(p)
            if other.date is None or other.date != case.date:
                out[str(other.date or p.stem)] = other
        return out


def clean_name(stem: str) -> str:
    """``stem`` turned into a valid case name (see :data:`~.schemas.NAME_RE`)."""
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


def ranges_set_aside(data: Any) -> Any:
    """A copy of draft ``data`` in which every sourced number's ``range`` is its value alone
    (``[v, v]``): reading that copy checks each number against its scale and its field's
    domain only (a range is the uncertainty of a number, not a limit on an edit), with the
    same lines as the draft's YAML."""
    if isinstance(data, list):
        return [ranges_set_aside(x) for x in data]
    if not isinstance(data, dict):
        return data
    out = {k: ranges_set_aside(v) for k, v in data.items()}
    v = out.get("value")
    if "range" in out and isinstance(v, int | float) and not isinstance(v, bool):
        out["range"] = [v, v]
    return out


def case_document(name: str, case: Case) -> dict[str, Any]:
    """What the page needs to show and edit a case: its data and YAML, the issues' scales
    (with the decimals of :func:`alliancelab.core.units.decimals`), and each actor's colour,
    dash and marker (:func:`alliancelab.report.theme.actor_styles`, as in the report)."""
    text = format_case(case, "yaml")
    styles = actor_styles(case)
    return {
        "name": name,
        "data": yaml.safe_load(text),
        "yaml": text,
        "issues": [
            {"name": i.name, "min": i.scale.min, "max": i.scale.max, "low": i.scale.low,
             "high": i.scale.high, "units": i.scale.units, "decimals": units.decimals(i.scale),
             "scale_text": scale_text(i.scale),
             "status_quo": i.status_quo.value if i.status_quo is not None else None}
            for i in case.issues
        ],
        "actors": [{"name": a.name, "group": a.group, "colour": styles[a.name].colour,
                    "dash": styles[a.name].dash, "symbol": styles[a.name].symbol}
                   for a in case.actors],
        "shocks": [{"name": s.name, "description": s.description} for s in case.shocks],
        "levers": [{"name": s.name, "description": s.description} for s in case.levers],
        "indicators": [i.name for i in case.indicators],
    }
