"""Hypothesis strategies for random valid cases, and the case transformations that the
engine contract is stated in (permute the actors, scale every capability).

>>> from hypothesis import given
>>> from alliancelab.testing import cases
>>> @given(cases(min_actors=3, max_actors=6, max_issues=2))   # doctest: +SKIP
... def test_something(case): ...

Every strategy draws a *valid* :class:`~alliancelab.core.case.Case` (it passes the case's own
validation); ``case_dicts`` gives the same as a plain mapping, ready to be written as YAML or
mutated into invalid input. Numbers avoid subnormals and stay within a few orders of
magnitude, so that properties fail for model reasons, not for float overflow.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st

from ..core.case import DYNAMICS_PARAMETERS, Case
from ..core.problem import Problem

#: scales seen in real cases: percent, unit interval, a signed index, troop numbers, a
#: 7-point Likert scale; random scales are drawn as well.
TYPICAL_SCALES: tuple[tuple[float, float, str | None], ...] = (
    (0.0, 100.0, "%"),
    (0.0, 1.0, None),
    (-10.0, 10.0, "index"),
    (0.0, 40000.0, "troops"),
    (1.0, 7.0, "points"),
)

_SIMPLE = string.ascii_letters + string.digits + " _-.()'&"


def _unit(lo: float = 0.0) -> st.SearchStrategy[float]:
    return st.floats(lo, 1.0, allow_nan=False, allow_subnormal=False)


def names(kind: str = "simple") -> st.SearchStrategy[str]:
    """Names for actors and issues: ``"simple"`` (ASCII letters, digits, a few signs) or
    ``"text"`` (any printable Unicode, including quotes, commas, colons and ``#``), never
    empty and without surrounding white space."""
    if kind == "simple":
        alphabet: Any = _SIMPLE
    elif kind == "text":
        alphabet = st.characters(
            codec="utf-8", exclude_categories=("Cc", "Cs", "Co", "Cn", "Zl", "Zp")
        )
    else:
        raise ValueError(f"kind must be 'simple' or 'text', got {kind!r}")
    return (
        st.text(alphabet, min_size=1, max_size=14)
        .map(str.strip)
        .filter(lambda s: bool(s) and s == " ".join(s.split()))
    )


def notes() -> st.SearchStrategy[str]:
    """Free text for sources and notes (one line, any printable Unicode)."""
    return st.text(
        st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Co", "Cn", "Zl", "Zp")),
        min_size=1,
        max_size=40,
    ).filter(lambda s: s.strip() == s and bool(s))


@st.composite
def scales(draw: st.DrawFn) -> dict[str, Any]:
    """An issue scale as a mapping (``min``, ``max``, optionally ``low``/``high``/``units``)."""
    if draw(st.booleans()):
        lo, hi, units = draw(st.sampled_from(TYPICAL_SCALES))
    else:
        lo = draw(st.floats(-1e4, 1e4, allow_nan=False, allow_subnormal=False))
        width = draw(st.floats(1e-2, 1e4, allow_nan=False, allow_subnormal=False))
        hi, units = lo + width, None
        if not hi > lo:  # rounding at large |lo|
            hi = lo + 1.0
    out: dict[str, Any] = {"min": lo, "max": hi}
    if units is not None:
        out["units"] = units
    return out


def _value(draw: st.DrawFn, x: float, lo: float, hi: float, rich: bool) -> float | dict[str, Any]:
    """``x`` bare, or (rich) with source, note and a range [lo', hi'] around it."""
    if not rich or not draw(st.booleans()):
        return x
    out: dict[str, Any] = {"value": x}
    if draw(st.booleans()):
        out["source"] = draw(notes())
    if draw(st.booleans()):
        out["note"] = draw(notes())
    if draw(st.booleans()):
        a = lo + (x - lo) * draw(_unit())
        b = x + (hi - x) * draw(_unit())
        out["range"] = [min(a, x), max(b, x)]
    return out


@st.composite
def case_dicts(
    draw: st.DrawFn,
    *,
    min_actors: int = 1,
    max_actors: int | None = None,
    min_issues: int = 1,
    max_issues: int | None = None,
    unanimous: bool = False,
    degenerate: bool = False,
    rich: bool = False,
    name_kind: str = "simple",
    status_quo: bool | None = None,
    estimates: bool = False,
) -> dict[str, Any]:
    """A valid case as a plain mapping (what :func:`cases` validates): ``min_actors`` to
    ``max_actors`` actors (default up to 8) and ``min_issues`` to ``max_issues`` issues
    (default up to 3).

    ``unanimous``: every actor takes the same position on each issue (saliences and
    capabilities still differ). ``degenerate``: capabilities and saliences may be exactly 0
    (otherwise capabilities lie in [0.01, 1000] and saliences in [0.05, 1]). ``rich``: add
    descriptions, sources, notes, ranges, perceptions and estimates, dynamics, links,
    feedback, indicators, shocks and levers (with their rounds) and meta. ``status_quo``:
    always (True), never (False) or sometimes (None) give issues a status quo.
    ``estimates``: actors may misperceive others (``perceptions.estimates``: positions,
    saliences, capabilities), which the perception-aware models (``bdm``) read.
    """
    max_actors = max(min_actors, 8) if max_actors is None else max_actors
    max_issues = max(min_issues, 3) if max_issues is None else max_issues
    if not 1 <= min_actors <= max_actors:
        raise ValueError("need 1 <= min_actors <= max_actors")
    if not 1 <= min_issues <= max_issues:
        raise ValueError("need 1 <= min_issues <= max_issues")
    n = draw(st.integers(min_actors, max_actors))
    d = draw(st.integers(min_issues, max_issues))
    actor_names = draw(st.lists(names(name_kind), min_size=n, max_size=n, unique=True))
    issue_names = draw(st.lists(names(name_kind), min_size=d, max_size=d, unique=True))

    issues = [_issue(draw, name, rich, status_quo) for name in issue_names]

    def position(k: int) -> float:
        sc = issues[k]["scale"]
        return _clip(sc["min"] + (sc["max"] - sc["min"]) * draw(_unit()), sc)

    common = [position(k) for k in range(d)] if unanimous else None
    cap_lo, sal_lo = (0.0, 0.0) if degenerate else (0.01, 0.05)
    actors: list[dict[str, Any]] = []
    for i in range(n):
        cap = draw(st.floats(cap_lo, 1000.0, allow_nan=False, allow_subnormal=False))
        pos, sal = {}, {}
        for k, issue in enumerate(issues):
            sc = issue["scale"]
            x = common[k] if common is not None else position(k)
            pos[issue["name"]] = _value(draw, x, sc["min"], sc["max"], rich)
            sal[issue["name"]] = _value(draw, draw(_unit(sal_lo)), 0.0, 1.0, rich)
        actor: dict[str, Any] = {
            "name": actor_names[i],
            "capability": _value(draw, cap, 0.0, 2000.0, rich),
            "positions": pos,
            "saliences": sal,
        }
        if rich:
            actor.update(_rich_actor(draw, actor_names, issues, i))
        elif estimates and draw(st.booleans()):
            est = _estimates(draw, actor_names, issues, i)
            if est:
                actor["perceptions"] = {"estimates": est}
        actors.append(actor)

    data: dict[str, Any] = {"name": draw(names(name_kind)), "issues": issues, "actors": actors}
    if rich:
        data.update(_rich_case(draw, actor_names, issues, actors))
    return data


def _issue(draw: st.DrawFn, name: str, rich: bool, status_quo: bool | None) -> dict[str, Any]:
    scale = draw(scales())
    issue: dict[str, Any] = {"name": name, "scale": scale}
    if rich and draw(st.booleans()):
        scale["low"], scale["high"] = draw(notes()), draw(notes())
        issue["description"] = draw(notes())
    give_sq = draw(st.booleans()) if status_quo is None else status_quo
    if give_sq:
        sq = scale["min"] + (scale["max"] - scale["min"]) * draw(_unit())
        issue["status_quo"] = _value(draw, _clip(sq, scale), scale["min"], scale["max"], rich)
    return issue


def _clip(x: float, scale: dict[str, Any]) -> float:
    return float(min(max(x, scale["min"]), scale["max"]))


def _rich_actor(
    draw: st.DrawFn, actor_names: Sequence[str], issues: list[dict[str, Any]], i: int
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if draw(st.booleans()):
        out["description"] = draw(notes())
    if draw(st.booleans()):
        out["group"] = draw(st.sampled_from(["US", "ROK", "DPRK", "PRC", "Japan"]))
    perceptions: dict[str, Any] = {}
    if draw(st.booleans()):
        keys = draw(st.lists(st.sampled_from(["dprk", "china"]), unique=True))
        perceptions["threats"] = {k: _value(draw, draw(_unit()), 0.0, 1.0, True) for k in keys}
    if draw(st.booleans()):
        perceptions["partner_reliability"] = _value(draw, draw(_unit()), 0.0, 1.0, True)
    if draw(st.booleans()):
        estimates = _estimates(draw, actor_names, issues, i)
        if estimates:
            perceptions["estimates"] = estimates
    if perceptions:
        out["perceptions"] = perceptions
    return out


def _estimates(
    draw: st.DrawFn, actor_names: Sequence[str], issues: list[dict[str, Any]], i: int
) -> dict[str, Any]:
    """Actor ``i``'s estimates of up to two other actors' positions, saliences and
    capability (valid values, generally different from the truth)."""
    others = [a for j, a in enumerate(actor_names) if j != i]
    estimates: dict[str, Any] = {}
    if not others:
        return estimates
    for other in draw(st.lists(st.sampled_from(others), unique=True, max_size=2)):
        est: dict[str, Any] = {}
        for issue in draw(st.lists(st.sampled_from(issues), max_size=2)):
            sc = issue["scale"]
            est.setdefault("positions", {})[issue["name"]] = _clip(
                sc["min"] + (sc["max"] - sc["min"]) * draw(_unit()), sc
            )
            est.setdefault("saliences", {})[issue["name"]] = draw(_unit())
        if draw(st.booleans()):
            est["capability"] = draw(st.floats(0.0, 1000.0, allow_subnormal=False))
        estimates[other] = est
    return estimates


def _rich_case(
    draw: st.DrawFn, actor_names: Sequence[str], issues: list[dict[str, Any]],
    actors: list[dict[str, Any]],
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if draw(st.booleans()):
        out["description"] = draw(notes())
    if draw(st.booleans()):
        out["date"] = draw(st.dates()).isoformat()
    if draw(st.booleans()):
        out["sources"] = draw(st.dictionaries(names(), notes(), max_size=3))
    if draw(st.booleans()):
        out["dynamics"] = {
            k: _value(draw, draw(_unit()), 0.0, 1.0, True)
            for k in draw(st.lists(st.sampled_from(DYNAMICS_PARAMETERS[1:]), unique=True))
        }
    # links and feedback name perceptions some actor has (threats.<k>, partner_reliability)
    perceived = [f"threats.{k}" for a in actors
                 for k in a.get("perceptions", {}).get("threats", {})]
    perception = st.sampled_from([*dict.fromkeys(perceived), "partner_reliability"])
    issue_name = st.sampled_from([i["name"] for i in issues])
    weight = st.floats(-2.0, 2.0, allow_subnormal=False)
    some_actors = st.none() | st.lists(st.sampled_from(list(actor_names)), unique=True)
    for kind in ("links", "feedback"):
        if draw(st.booleans()):
            out[kind] = [
                _link(draw, perception, issue_name, weight, some_actors)
                for _ in range(draw(st.integers(1, 2)))
            ]
    for kind in ("shocks", "levers"):
        if draw(st.booleans()):
            labels = draw(st.lists(names(), unique=True, min_size=1, max_size=2))
            out[kind] = [
                {
                    "name": label,
                    "description": draw(notes()),
                    "changes": [
                        {
                            "target": f"actors.{draw(st.sampled_from(list(actor_names)))}"
                            f".positions.{draw(issue_name)}",
                            "op": draw(st.sampled_from(["set", "add", "scale"])),
                            "value": draw(st.floats(-10, 10, allow_subnormal=False)),
                        }
                    ],
                    "at_round": draw(st.integers(1, 5)),
                }
                for label in labels
            ]
    if draw(st.booleans()):
        out["indicators"] = [
            {
                "name": label,
                "description": draw(notes()),
                "terms": [
                    {"kind": "constant", "weight": _value(draw, draw(weight), -2.0, 2.0, True)},
                    {"kind": "outcome", "issue": draw(issue_name), "weight": draw(weight)},
                    {
                        "kind": "perception",
                        "perception": draw(perception),
                        "actors": draw(st.lists(st.sampled_from(list(actor_names)), unique=True)),
                        "weight": draw(weight),
                        "source": draw(notes()),
                    },
                ],
            }
            for label in draw(st.lists(names(), unique=True, min_size=1, max_size=2))
        ]
    if draw(st.booleans()):
        out["meta"] = draw(
            st.dictionaries(names(), st.integers(-100, 100) | notes() | st.booleans(), max_size=3)
        )
    return out


def _link(
    draw: st.DrawFn,
    perception: st.SearchStrategy[str],
    issue_name: st.SearchStrategy[str],
    weight: st.SearchStrategy[float],
    some_actors: st.SearchStrategy[list[str] | None],
) -> dict[str, Any]:
    """One link (or feedback) between a perception and an issue."""
    item: dict[str, Any] = {
        "perception": draw(perception),
        "issue": draw(issue_name),
        "weight": draw(weight),
    }
    who = draw(some_actors)
    if who is not None:
        item["actors"] = who
    if draw(st.booleans()):
        item["source"] = draw(notes())
    return item


def cases(**kwargs: Any) -> st.SearchStrategy[Case]:
    """Random valid :class:`Case` objects; keyword arguments as for :func:`case_dicts`
    (``min_actors``, ``max_actors``, ``min_issues``, ``max_issues``, ``unanimous``,
    ``degenerate``, ``rich``, ``name_kind``, ``status_quo``, ``estimates``)."""
    return case_dicts(**kwargs).map(Case.model_validate)


def unanimous_cases(**kwargs: Any) -> st.SearchStrategy[Case]:
    """Cases where every actor holds the same position on each issue."""
    return cases(unanimous=True, **kwargs)


def problems(**kwargs: Any) -> st.SearchStrategy[Problem]:
    """Random :class:`Problem` arrays built from :func:`cases` (same keyword arguments)."""
    return cases(**kwargs).map(Problem.from_case)


@st.composite
def permutations_of(draw: st.DrawFn, n: int) -> list[int]:
    """A permutation of ``range(n)``."""
    return draw(st.permutations(list(range(n))))


def permuted(case: Case, order: Sequence[int]) -> Case:
    """``case`` with its actors listed in ``order`` (``order[k]`` is the old index of the
    actor now k-th); everything else unchanged."""
    if sorted(order) != list(range(len(case.actors))):
        raise ValueError("order must be a permutation of the actor indices")
    return case.model_copy(update={"actors": [case.actors[j] for j in order]})


def scaled_capabilities(case: Case, factor: float) -> Case:
    """``case`` with every capability (and every estimate of a capability, and their
    ranges) multiplied by ``factor`` > 0."""
    if not factor > 0:
        raise ValueError("factor must be positive")
    data = case.model_dump()

    def scale(v: dict[str, Any] | None) -> None:
        if v is None:
            return
        v["value"] *= factor
        if v.get("range") is not None:
            v["range"] = (v["range"][0] * factor, v["range"][1] * factor)

    for actor in data["actors"]:
        scale(actor["capability"])
        for est in actor["perceptions"]["estimates"].values():
            scale(est["capability"])
    return Case.model_validate(data)
