"""The case files shipped with alliancelab, and the one resolver of a case argument.

Every front end takes a case as a file path or a shipped name: :func:`resolve_case` turns
either into a path (the CLI's commands, :func:`alliancelab.read_case`, the web app's import).
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from ..core.errors import CaseError

#: the suffixes of case files (a shipped case is ``<name><suffix>`` in this package).
SUFFIXES = (".yaml", ".yml", ".csv")


def shipped_cases() -> dict[str, Path]:
    """Shipped case name -> path."""
    root = resources.files(__name__)
    out = {}
    for entry in root.iterdir():
        if entry.name.endswith(SUFFIXES):
            out[entry.name.rsplit(".", 1)[0]] = Path(str(entry))
    return dict(sorted(out.items()))


def resolve_case(name_or_path: str | os.PathLike[str], *, strict: bool = False) -> Path:
    """A path as given when that file exists, else the shipped case of that name.

    An argument that is neither is returned as a path (the reader then says "no such
    file") - unless ``strict`` and it looks like a case name (no folder, no case-file
    suffix): then a one-line :class:`~alliancelab.core.errors.CaseError` lists the shipped
    names.
    """
    path = Path(name_or_path)
    if path.exists():
        return path
    shipped = shipped_cases()
    text = os.fspath(name_or_path)
    if text in shipped:
        return shipped[text]
    if strict and looks_like_name(text):
        raise CaseError(
            f"no such file, nor a shipped case of that name (shipped: {', '.join(shipped)})",
            file=text,
        )
    return path


def looks_like_name(text: str) -> bool:
    """Whether ``text`` reads as a case name rather than a file path."""
    path = Path(text)
    return bool(text) and path.name == text and path.suffix.lower() not in SUFFIXES
