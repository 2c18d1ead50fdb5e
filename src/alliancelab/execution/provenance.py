"""Provenance of a run: the case's hash and the versions of the packages it used."""

from __future__ import annotations

import hashlib
from importlib.metadata import PackageNotFoundError, version

from ..core.case import Case
from ..core.rng import versions as core_versions

__all__ = ["case_hash", "versions"]


def case_hash(case: Case, raw: bytes | None = None) -> str:
    """SHA-256 of the case file's bytes ``raw``, else of the case's canonical JSON."""
    data = raw if raw is not None else case.model_dump_json().encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def versions(*packages: str) -> dict[str, str]:
    """Python's and the core packages' versions, plus ``packages`` ("not installed" when
    absent)."""
    out = core_versions()
    for pkg in packages:
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out
