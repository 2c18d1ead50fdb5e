"""Checks of the counts a user gives (draws, rounds, seeds, workers): the one place they
are made, so every entry point (Python, CLI, web) says the same one line.

``field`` names the argument as the caller knows it (``"draws"`` in Python, ``"--draws"`` on
the command line); the error is an :class:`~alliancelab.core.errors.AllianceLabError`.
"""

from __future__ import annotations

import numpy as np

from . import limits
from .errors import AllianceLabError

__all__ = ["is_int", "non_negative_int", "positive_int"]


def is_int(value: object) -> bool:
    """An ``int`` or numpy integer, not a ``bool``."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def positive_int(value: object, field: str, limit: str | None = None) -> int:
    """``value`` as an ``int`` >= 1 (and within the limit named ``limit``, see
    :mod:`~alliancelab.core.limits`), else the one-line error."""
    if not is_int(value) or int(value) < 1:  # type: ignore[call-overload]
        raise AllianceLabError(f"must be a positive integer, got {value!r}", field=field)
    if limit is not None:
        limits.at_most(limit, int(value), field)  # type: ignore[call-overload]
    return int(value)  # type: ignore[call-overload]


def non_negative_int(value: object, field: str) -> int:
    """``value`` as an ``int`` >= 0, else the one-line error."""
    if not is_int(value) or int(value) < 0:  # type: ignore[call-overload]
        raise AllianceLabError(f"must be a non-negative integer, got {value!r}", field=field)
    return int(value)  # type: ignore[call-overload]
