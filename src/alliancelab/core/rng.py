"""One way to seed everything: ``rng`` is ``None``, an int, a SeedSequence or a Generator.

The jobs a user runs by name (``alliancelab run``, ``alliancelab explore``, the web app's
runs) default to :data:`DEFAULT_SEED`, so the same command gives the same report; ``--seed``
(or ``seed=``) varies it, and every result records the seed it ran with.
"""

from __future__ import annotations

from functools import cache

import numpy as np

RngLike = int | np.random.SeedSequence | np.random.Generator | None

#: the seed of a run or an exploration when none is given (reproducible by default).
DEFAULT_SEED = 0


def make_rng(rng: RngLike) -> tuple[np.random.Generator, int | None]:
    """A Generator and the entropy to record with the result (``None`` for a Generator,
    whose seed cannot be recovered)."""
    if isinstance(rng, np.random.Generator):
        return rng, None
    if isinstance(rng, np.random.SeedSequence):
        seq = rng
    elif rng is None:
        seq = np.random.SeedSequence()
    elif isinstance(rng, int | np.integer) and not isinstance(rng, bool) and rng >= 0:
        seq = np.random.SeedSequence(int(rng))
    else:
        from .errors import AllianceLabError

        raise AllianceLabError(
            f"must be a non-negative int, SeedSequence or Generator, got {rng!r}", field="rng"
        )
    entropy = seq.entropy
    return np.random.default_rng(seq), int(entropy) if isinstance(entropy, int) else None


def versions() -> dict[str, str]:
    """Versions of the packages a result depends on (a fresh copy of a cached lookup)."""
    return dict(_versions())


@cache
def _versions() -> dict[str, str]:
    import platform
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("alliancelab", "numpy", "scipy", "pandas", "pydantic"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out
