"""The case files shipped with alliancelab."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def shipped_cases() -> dict[str, Path]:
    """Shipped case name -> path."""
    root = resources.files(__name__)
    out = {}
    for entry in root.iterdir():
        if entry.name.endswith((".yaml", ".yml", ".csv")):
            out[entry.name.rsplit(".", 1)[0]] = Path(str(entry))
    return dict(sorted(out.items()))


def resolve_case(name_or_path: str) -> Path:
    """A path as given, or the shipped case of that name when no such file exists."""
    path = Path(name_or_path)
    if path.exists():
        return path
    return shipped_cases().get(name_or_path, path)
