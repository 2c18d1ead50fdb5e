"""The installed package's version, for the API description and ``/api/info``."""

from __future__ import annotations

from functools import lru_cache
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _installed


@lru_cache(maxsize=1)
def version() -> str:
    try:
        return _installed("alliancelab")
    except PackageNotFoundError:
        return "0"
