"""Readers and writers. The format is recognised from the file itself:

* ``yaml`` - alliancelab's own case format (:mod:`.yaml_case`);
* ``ktab`` - KTAB's SMP CSV (:mod:`.ktab_csv`);
* ``scholz`` - the Scholz et al. replication CSV ``Actor,Capability,Position,Salience``
  (:mod:`.scholz_csv`).
"""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType

from ..cases import resolve_case, shipped_cases
from ..core.case import Case
from ..core.errors import AllianceLabError, CaseError
from ..core.io import read_regular_file
from . import ktab_csv, scholz_csv, yaml_case

FORMATS = ("yaml", "ktab", "scholz")
_MODULES: dict[str, ModuleType] = {"yaml": yaml_case, "ktab": ktab_csv, "scholz": scholz_csv}
MAX_BYTES = 50 * 1024 * 1024


def _module(fmt: str) -> ModuleType:
    return _MODULES[fmt]


def read_text(path: str | os.PathLike[str]) -> str:
    """A case file's text, refusing missing, empty, oversized and binary files, and anything
    that is not a regular file (a folder, a FIFO, a device such as ``/dev/zero``, a socket)."""
    file = str(path)
    try:
        raw = read_regular_file(path, MAX_BYTES, error=CaseError)
    except FileNotFoundError:
        raise CaseError("no such file", file=file) from None
    except OSError as exc:
        raise CaseError(f"cannot read: {exc.strerror}", file=file) from None
    if b"\x00" in raw:
        raise CaseError("binary file, not a case (YAML or CSV text expected)", file=file)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CaseError(
            f"not UTF-8 text (byte {exc.start}); save the case as UTF-8", file=file
        ) from None
    if not text.strip():
        raise CaseError("file is empty", file=file)
    return text


def detect(text: str, path: str | os.PathLike[str] = "") -> str:
    """Which format ``text`` is in: ``scholz`` or ``ktab`` when it looks like one, else
    ``yaml`` (whose reader then reports what is wrong) - except for a ``.csv`` file, which
    is refused with a message naming the two CSV formats."""
    for fmt in ("scholz", "ktab"):
        if _module(fmt).sniff(text):
            return fmt
    if str(path).lower().endswith(".csv"):
        raise CaseError(
            "not a case CSV: line 1 must be the Scholz header "
            "Actor,Capability,Position,Salience or KTAB's scenario line "
            "(name, description, number of actors, number of dimensions)",
            file=str(path),
            line=1,
        )
    return "yaml"


def parse_case(text: str, file: str = "<string>", fmt: str | None = None) -> Case:
    """Parse ``text`` in ``fmt`` (recognised when ``None``)."""
    fmt = fmt or detect(text, file)
    if fmt not in _MODULES:
        raise AllianceLabError(
            f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}", field="format"
        )
    case: Case = _module(fmt).read(text, file)
    return case


def read_case(path: str | os.PathLike[str], fmt: str | None = None) -> Case:
    """Read and validate a case: a file in any supported format, or the name of a shipped
    case (``read_case("us_rok_2025")``; :func:`alliancelab.cases.resolve_case`). An unknown
    name raises the one-line error listing the shipped names."""
    file = resolve_case(path, strict=True)
    text = read_text(file)
    name = str(file) if file != Path(path) else str(path)
    if (fmt or detect(text, name)) == "yaml" and _shipped(file):
        return yaml_case.read(text, name, fast=True)  # see yaml_case.read
    return parse_case(text, name, fmt)


def _shipped(file: Path) -> bool:
    """Whether ``file`` is one of the shipped case files."""
    here = file.resolve()
    return any(here == p.resolve() for p in shipped_cases().values())


def format_case(case: Case, fmt: str = "yaml") -> str:
    """``case`` as text in ``fmt``."""
    if fmt not in _MODULES:
        raise AllianceLabError(
            f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}", field="format"
        )
    text: str = _module(fmt).write(case)
    return text


def write_case(case: Case, path: str | os.PathLike[str], fmt: str | None = None) -> None:
    """Write ``case`` atomically (a temporary file renamed into place); ``fmt`` defaults to
    the suffix (``.csv`` -> ``ktab``, otherwise ``yaml``)."""
    from ..core.io import atomic_write_text

    if fmt is None:
        fmt = "ktab" if str(path).lower().endswith(".csv") else "yaml"
    atomic_write_text(path, format_case(case, fmt))
