"""Pieces shared by the two Bueno de Mesquita expected-utility engines (``bdm``,
``bdm-scholz``): option checks, the risk-exponent conversion, order-independent offer
selection and the per-round summaries (median, mean) reported as diagnostics.

Notation follows Scholz, Calbert & Smith (2011), "Unravelling Bueno De Mesquita's group
decision model", JTP 23(4) / ICAART 2011 (equation numbers are the ICAART paper's).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...core import limits
from ...core.errors import AllianceLabError
from .arena import hull, weights
from .median import median_over

#: codes of the ``offer_type`` diagnostic; index = code
OFFER_TYPES: tuple[str, ...] = ("none", "confrontation", "compromise", "capitulation")
NONE, CONFRONTATION, COMPROMISE, CAPITULATION = range(4)


def check_rounds(rounds: Any) -> int:
    if isinstance(rounds, bool) or not isinstance(rounds, int | np.integer) or rounds < 1:
        raise AllianceLabError(f"must be a positive integer, got {rounds!r}", field="rounds")
    return limits.at_most("rounds", int(rounds), "rounds")


def check_unit(value: Any, field: str) -> float:
    """A number in [0, 1] (Q, the probability of the status quo)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise AllianceLabError(f"must be a number in [0, 1], got {value!r}", field=field) from None
    if isinstance(value, bool) or not 0.0 <= v <= 1.0:
        raise AllianceLabError(f"must be a number in [0, 1], got {value!r}", field=field)
    return v


def check_tol(value: Any) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise AllianceLabError(f"must be a number >= 0, got {value!r}", field="tie_tol") from None
    if isinstance(value, bool) or not (np.isfinite(v) and 0.0 <= v <= 1e-3):
        raise AllianceLabError(f"must be a number in [0, 1e-3], got {value!r}", field="tie_tol")
    return v


def check_choice(value: Any, field: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise AllianceLabError(
            f"must be one of {', '.join(choices)}, got {value!r}", field=field
        )
    return str(value)


def risk_exponent(security: np.ndarray, tol: float) -> np.ndarray:
    """Scholz eqs. 32/34 and 33 along the last axis: R_i = (2 Sec_i - max - min) /
    (max - min), r_i = (1 - R_i/3) / (1 + R_i/3), so r lies in [0.5, 2].

    Where every security level is the same (to ``tol`` relative) R_i is undefined (0/0; the
    reference raises ZeroDivisionError); we take R_i = 0, i.e. r_i = 1 (risk neutral)."""
    hi = security.max(axis=-1, keepdims=True)
    lo = security.min(axis=-1, keepdims=True)
    spread = hi - lo
    flat = spread <= tol * np.maximum(1.0, np.maximum(np.abs(hi), np.abs(lo)))
    big_r = np.where(flat, 0.0, (2.0 * security - hi - lo) / np.where(flat, 1.0, spread))
    big_r = np.clip(big_r, -1.0, 1.0)
    return (1.0 - big_r / 3.0) / (1.0 + big_r / 3.0)  # type: ignore[no-any-return]


def select(
    mask: np.ndarray,
    key: np.ndarray,
    enforce: np.ndarray,
    target: np.ndarray,
    order: np.ndarray,
    tol_x: np.ndarray | float,
    tol_eu: float,
    tol_key: np.ndarray | float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Choose one offer per receiver (axis -2) among proposers (axis -1) where ``mask``.

    Smallest ``key`` first; offers whose keys agree to ``tol_x`` are tied and go to the
    proposer with the largest ``enforce`` (its expected utility, "those better able to
    enforce their wishes ... make their proposals stick", BDM 1997 p. 251), then to the
    lower ``target`` position; what is still tied is an identical offer and is attributed
    to the proposer with the smallest ``order`` (its place in the input, as the reference
    does). None of these rules depends on the order of the actors except the last, which
    changes only the name reported, never a position.

    ``tol_key`` (default ``tol_x``) is the tolerance on ``key``; ``tol_x`` on ``target``.
    Returns (has an offer ``(..., n)``, chosen proposer index ``(..., n)``).
    """
    k = np.where(mask, key, np.inf)
    near = k <= k.min(axis=-1, keepdims=True) + (tol_x if tol_key is None else tol_key)
    near &= mask
    count = near.sum(axis=-1)
    chosen = near.argmax(axis=-1)
    tied = count > 1
    if tied.any():  # rare: resolve on the tied receivers only
        idx = np.nonzero(tied)
        nr = near[idx]
        e = np.where(nr, enforce[idx], -np.inf)
        nr &= enforce[idx] >= e.max(axis=-1, keepdims=True) - tol_eu
        tg = target[idx]
        t = np.where(nr, tg, np.inf)
        nr &= tg <= t.min(axis=-1, keepdims=True) + np.broadcast_to(tol_x, near.shape)[idx]
        big = np.iinfo(np.int64).max
        chosen[idx] = np.argmin(np.where(nr, order[idx], big), axis=-1)
    return count > 0, chosen


def summaries(
    rounds: np.ndarray,
    capability: np.ndarray,
    salience: np.ndarray,
    weight: np.ndarray | None = None,
) -> dict[str, Any]:
    """Per-round c*s weighted median and mean of positions, ``(R+1, d)`` each (Scholz et
    al. 2011, Table 2 reports both), over the actors with standing on each issue (weights
    times the arena ``weight``; all actors, weight 1, when it is ``None``)."""
    w = weights(capability, salience, weight)
    standing = None if weight is None else weight > 0
    median = np.stack([median_over(x, w, standing) for x in rounds])
    mean = np.stack([(w * x).sum(axis=0) / w.sum(axis=0) for x in rounds])
    if standing is None:
        lo, hi = rounds[0].min(axis=0), rounds[0].max(axis=0)
    else:
        lo, hi = hull(rounds[0], standing)
    return {"median": np.clip(median, lo, hi), "mean": np.clip(mean, lo, hi)}


def offer_list(
    rounds: np.ndarray,
    actors: tuple[str, ...],
    issues: tuple[str, ...],
    kind: np.ndarray,
    proposer: np.ndarray,
    eu_challenge: np.ndarray,
    eu_response: np.ndarray,
) -> list[dict[str, Any]]:
    """The offers accepted, one dict per move: round (1-based), issue, receiver (the actor
    who moves), proposer, type, from/to position, the receiver's two expected utilities."""
    out: list[dict[str, Any]] = []
    n_rounds, n, d = kind.shape
    for t in range(n_rounds):
        for k in range(d):
            for i in range(n):
                code = int(kind[t, i, k])
                if code == NONE:
                    continue
                j = int(proposer[t, i, k])
                out.append(
                    {
                        "round": t + 1,
                        "issue": issues[k],
                        "receiver": actors[i],
                        "proposer": actors[j],
                        "type": OFFER_TYPES[code],
                        "from": float(rounds[t, i, k]),
                        "to": float(rounds[t + 1, i, k]),
                        "eu_challenge": float(eu_challenge[t, i, j, k]),
                        "eu_response": float(eu_response[t, i, j, k]),
                    }
                )
    return out
