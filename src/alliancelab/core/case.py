"""The data model of a negotiation case: actors, issues, positions, saliences, perceptions.

A :class:`Case` is validated once, when it is read, and is immutable afterwards. Every number
is a :class:`Value` that may carry its ``source``, a ``note`` and, for numbers that are
judgements, an uncertainty ``range`` that explorations and Monte Carlo runs can vary.

Conventions
-----------
* positions are in the issue's own units, inside ``issue.scale.min .. issue.scale.max``;
* saliences are on 0-1 (how much the actor cares about the issue);
* capabilities are non-negative and only their ratios matter.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from . import limits
from .display import html_card, names, number, short

#: the parameters of the perception dynamics a case may set under ``dynamics:``
#: (:data:`alliancelab.models.dynamics.NEUTRAL` holds their neutral values).
DYNAMICS_PARAMETERS = ("rounds", "adjustment_speed", "threat_convergence", "estimate_learning")


def _as_value_mapping(raw: Any) -> Any:
    """Accept a bare number where a :class:`Value` is expected."""
    if isinstance(raw, bool):
        raise ValueError("expected a number, got a boolean")
    if isinstance(raw, int):
        try:
            return {"value": float(raw)}
        except OverflowError:
            raise ValueError("number too large") from None
    if isinstance(raw, float):
        return {"value": raw}
    if isinstance(raw, str):
        shown = raw if len(raw) <= 40 else raw[:37] + "..."
        raise ValueError(
            f"expected a number (or {{value: ..., source: ...}}), got the text {shown!r}"
        )
    return raw


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Value(_Frozen):
    """A number with its provenance and, for judgements, an uncertainty range."""

    value: float
    source: str | None = None
    note: str | None = None
    range: tuple[float, float] | None = None

    @field_validator("value")
    @classmethod
    def _finite(cls, v: float) -> float:
        if not math.isfinite(v):
            raise ValueError("must be a finite number (not NaN or infinity)")
        return v

    @model_validator(mode="after")
    def _range_holds_value(self) -> Value:
        if self.range is not None:
            lo, hi = self.range
            if not (math.isfinite(lo) and math.isfinite(hi)):
                raise ValueError("range must be finite")
            if lo > hi:
                raise ValueError(f"range must be [low, high], low first; got [{lo:g}, {hi:g}]")
            if not lo <= self.value <= hi:
                raise ValueError(f"value {self.value:g} lies outside its range [{lo:g}, {hi:g}]")
        return self


Number = Annotated[Value, BeforeValidator(_as_value_mapping)]


class Scale(_Frozen):
    """An issue's scale: numeric ends, their labels, and the units of a position."""

    min: float = 0.0
    max: float = 100.0
    low: str = ""
    high: str = ""
    units: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Scale:
        if not math.isfinite(self.max - self.min) or self.min >= self.max:
            raise ValueError(f"scale needs finite min < max, got [{self.min:g}, {self.max:g}]")
        return self

    @property
    def width(self) -> float:
        return self.max - self.min


def _as_selector_mapping(raw: Any) -> Any:
    """Accept a bare actor name or ``group:NAME`` where a :class:`VetoPlayer` is expected."""
    if isinstance(raw, str):
        return {"actor": raw}
    if not isinstance(raw, dict):
        raise ValueError(
            f"expected an actor name or group:NAME (or {{actor: ..., source: ...}}), got {raw!r}"
        )
    return raw


class Arena(_Frozen):
    """Who bargains on an issue (docs/arenas.md).

    ``standing``: the actors that bargain on the issue, as actor names or ``group:NAME``
    selectors (``group:US+ROK`` joins groups); omitted, every actor that is not an
    influencer has standing.
    ``influence``: outside actors (or groups) that weigh in with a share of their clout,
    each a number in [0, 1] with its source - an influencer takes part with its capability
    times this weight; 0 is the same as no standing. Every other actor has no standing: it
    neither votes nor is targeted on the issue, and its position there does not count."""

    standing: list[str] | None = Field(default=None, min_length=1)
    influence: dict[str, Number] = {}
    source: str | None = None
    note: str | None = None

    @field_validator("influence")
    @classmethod
    def _unit_weights(cls, v: dict[str, Value]) -> dict[str, Value]:
        for who, w in v.items():
            lo, hi = w.range if w.range is not None else (w.value, w.value)
            if not (0.0 <= w.value <= 1.0 and 0.0 <= lo and hi <= 1.0):
                raise ValueError(f"influence weight of {who!r} must lie in [0, 1], got {w.value:g}"
                                 + ("" if w.range is None else f" (range [{lo:g}, {hi:g}])"))
        return v


class VetoPlayer(_Frozen):
    """An actor (or ``group:NAME``: every member) whose acceptance a change of the status quo
    needs (Tsebelis 2002); written as the bare selector or with its ``source``."""

    actor: str = Field(min_length=1)
    source: str | None = None
    note: str | None = None


Selector = Annotated[VetoPlayer, BeforeValidator(_as_selector_mapping)]


class Issue(_Frozen):
    """A dimension of the negotiation.

    ``arena`` says who bargains on it (everyone when omitted); ``veto`` names the actors
    whose acceptance a change from ``status_quo`` needs (ratifiers), and ``floor`` and
    ``ceiling`` are legal bounds on the outcome; see docs/arenas.md for the rule."""

    name: str = Field(min_length=1)
    description: str | None = None
    scale: Scale = Scale()
    status_quo: Number | None = None
    arena: Arena | None = None
    veto: list[Selector] = []
    floor: Number | None = None
    ceiling: Number | None = None


class Estimate(_Frozen):
    """One actor's beliefs about another actor, where they differ from the truth."""

    positions: dict[str, Number] = {}
    saliences: dict[str, Number] = {}
    capability: Number | None = None


class Perceptions(_Frozen):
    """What an actor perceives: threats (0-1), the partner's reliability (0-1), and its
    estimates of other actors (keyed by actor name)."""

    threats: dict[str, Number] = {}
    partner_reliability: Number | None = None
    estimates: dict[str, Estimate] = {}


class Actor(_Frozen):
    """A stakeholder: its clout, and for each issue its position and salience."""

    name: str = Field(min_length=1)
    description: str | None = None
    group: str | None = None
    capability: Number
    positions: dict[str, Number]
    saliences: dict[str, Number]
    perceptions: Perceptions = Perceptions()

    @field_validator("capability")
    @classmethod
    def _non_negative(cls, v: Value) -> Value:
        if v.value < 0:
            raise ValueError(f"capability must be >= 0, got {v.value:g}")
        return v

    @field_validator("saliences")
    @classmethod
    def _unit_saliences(cls, v: dict[str, Value]) -> dict[str, Value]:
        for issue, s in v.items():
            if not 0.0 <= s.value <= 1.0:
                raise ValueError(f"salience on {issue!r} must lie in [0, 1], got {s.value:g}")
        return v


def _weight_inherits_source(data: Any) -> Any:
    """A link's, feedback's or indicator term's ``source`` also documents its ``weight``, so
    that audits over :meth:`Case.values` see where every weight comes from."""
    if isinstance(data, dict) and data.get("source"):
        w = data.get("weight")
        if isinstance(w, int | float) and not isinstance(w, bool):
            data = {**data, "weight": {"value": w, "source": data["source"]}}
        elif isinstance(w, dict) and not w.get("source"):
            data = {**data, "weight": {**w, "source": data["source"]}}
    return data


class Link(_Frozen):
    """Perception -> position: how an actor's ideal position on ``issue`` moves when its
    ``perception`` (``threats.dprk``, ``threats.china`` or ``partner_reliability``) moves.
    The shift, in scale widths, is ``weight`` times the perception's change from round 0;
    ``actors`` limits the link to those actors (all when omitted)."""

    perception: str
    issue: str
    weight: Number
    actors: list[str] | None = None
    source: str | None = None

    _inherit = model_validator(mode="before")(_weight_inherits_source)


class Feedback(_Frozen):
    """Outcome -> perception: how ``perception`` of ``actors`` (all when omitted) moves when
    the forecast outcome on ``issue`` moves; the change is ``weight`` times the outcome's
    move since the previous round, in scale widths."""

    issue: str
    perception: str
    weight: Number
    actors: list[str] | None = None
    source: str | None = None

    _inherit = model_validator(mode="before")(_weight_inherits_source)


class Change(_Frozen):
    """One edit a shock or lever makes to a case: ``target`` is a dotted path such as
    ``actors.DPRK.positions.dprk_policy`` or ``actors.ROK President.perceptions.threats.dprk``
    or ``dynamics.threat_weight``; ``op`` says how ``value`` applies. ``*`` matches every key
    of a segment and ``group:NAME`` every actor of a group (see
    :mod:`alliancelab.scenarios.interventions`); ``converge`` moves every matched number the
    fraction ``value`` toward the capability-weighted mean of the matched numbers."""

    target: str
    op: Literal["set", "add", "scale", "converge"] = "set"
    value: float
    source: str | None = None

    @field_validator("value")
    @classmethod
    def _finite(cls, v: float) -> float:
        if not math.isfinite(v):
            raise ValueError("must be a finite number (not NaN or infinity)")
        return v


class Intervention(_Frozen):
    """A named shock (something that happens) or lever (something a policy-maker does);
    in a simulation it takes effect at round ``at_round`` (1 = the first round)."""

    name: str = Field(min_length=1)
    description: str | None = None
    source: str | None = None
    changes: list[Change] = []
    at_round: int = Field(default=1, ge=1)


class IndicatorTerm(_Frozen):
    """One term of an :class:`Indicator`: ``weight`` times a quantity of the simulation state
    at a round (all quantities are dimensionless, mostly on 0-1):

    * ``constant`` - 1;
    * ``outcome`` - the outcome on ``issue`` in scale widths above the scale's minimum;
    * ``outcome_change`` - ``|outcome_t - outcome_{t-1}|`` in scale widths on ``issue``,
      raised to ``power`` (the mean over all issues when ``issue`` is omitted; 0 at round 0;
      ``power`` 2 makes one large move count more than several small ones);
    * ``perception`` - the capability-weighted mean of ``perception`` over ``actors``;
    * ``perception_gap`` - ``|mean_b - mean_a|`` of ``perception`` between the selections
      ``a`` and ``b``;
    * ``position_gap`` - ``|mean_b - mean_a|`` of ideal positions on ``issue`` (mean over
      issues when omitted), in scale widths;
    * ``misperception`` - the capability-weighted mean over perceivers ``a`` of the mean
      ``|estimate - truth|`` of the positions of actors ``b`` (``issue`` or all issues),
      in scale widths.

    Selections (``actors``, ``a``, ``b``) list actor names or group names (``Actor.group``);
    omitted means every actor. Which quantity a term reads is documented with its ``source``.
    """

    kind: Literal[
        "constant",
        "outcome",
        "outcome_change",
        "perception",
        "perception_gap",
        "position_gap",
        "misperception",
    ]
    weight: Number
    issue: str | None = None
    perception: str | None = None
    actors: list[str] | None = None
    a: list[str] | None = None
    b: list[str] | None = None
    power: float = Field(default=1.0, gt=0)
    source: str | None = None

    _inherit = model_validator(mode="before")(_weight_inherits_source)


class Indicator(_Frozen):
    """A named outcome indicator (e.g. ``deterrence``, ``miscalculation_risk``): the sum of
    its terms, evaluated at every round of a simulation (:mod:`alliancelab.models.dynamics`)."""

    name: str = Field(min_length=1)
    description: str | None = None
    source: str | None = None
    terms: list[IndicatorTerm] = Field(min_length=1)


class Group(_Frozen):
    """How a group of actors (``Actor.group``) is shown: a label and a palette of CSS colours,
    one per member in case order (cycled)."""

    label: str | None = None
    colors: list[str] = []


class Case(_Frozen):
    """A negotiation case, validated and immutable.

    ``groups`` says how each actor group is shown; ``sides`` names the two groups whose
    perceptions are compared (the gap is the second minus the first); ``plugin`` is the
    dotted name of a module with case-specific models (``evaluate(case) -> (indicators,
    labels)``, e.g. :mod:`alliancelab.cases.us_rok`) that the run job applies."""

    name: str = Field(min_length=1)
    description: str | None = None
    date: str | None = None
    sources: dict[str, str] = {}
    issues: list[Issue] = Field(min_length=1)
    actors: list[Actor] = Field(min_length=1)
    dynamics: dict[str, Number] = {}
    links: list[Link] = []
    feedback: list[Feedback] = []
    shocks: list[Intervention] = []
    levers: list[Intervention] = []
    indicators: list[Indicator] = []
    groups: dict[str, Group] = {}
    sides: tuple[str, str] | None = None
    plugin: str | None = Field(default=None, pattern=r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
    meta: dict[str, Any] = {}

    @field_validator("date", mode="before")
    @classmethod
    def _iso_date(cls, v: Any) -> Any:
        """Accept a YAML date (``date: 2025-06-01``) as its ISO text."""
        if isinstance(v, _dt.date):
            return v.isoformat()
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Case:
        """The checks across fields, in this order (the first problem is reported)."""
        _check_size(self)
        _unique("issues", [i.name for i in self.issues])
        _unique("actors", [a.name for a in self.actors])
        _unique("shocks", [s.name for s in self.shocks])
        _unique("levers", [s.name for s in self.levers])
        _check_groups(self)
        issues = {i.name: i for i in self.issues}
        actor_names = {a.name for a in self.actors}
        for a_idx, actor in enumerate(self.actors):
            _check_actor(actor, a_idx, issues, actor_names)
        _check_dynamics(self)
        _check_links(self, issues, actor_names)
        _unique("indicators", [i.name for i in self.indicators])
        selectable = actor_names | {a.group for a in self.actors if a.group}
        for n_idx, ind in enumerate(self.indicators):
            for t_idx, term in enumerate(ind.terms):
                _check_term(term, ("indicators", n_idx, "terms", t_idx), issues, selectable)
        for i_idx, issue in enumerate(self.issues):
            sq = issue.status_quo
            if sq is not None and not issue.scale.min <= sq.value <= issue.scale.max:
                raise _located(
                    f"status quo {sq.value:g} lies outside the scale", "issues", i_idx, "status_quo"
                )
        select = ActorSelection(self)
        for i_idx in range(len(self.issues)):
            _check_issue_rules(self, i_idx, select)
        return self

    # -- convenience -------------------------------------------------------------------
    @property
    def actor_names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.actors)

    @property
    def issue_names(self) -> tuple[str, ...]:
        return tuple(i.name for i in self.issues)

    def actor(self, name: str) -> Actor:
        for a in self.actors:
            if a.name == name:
                return a
        raise KeyError(name)

    def issue(self, name: str) -> Issue:
        for i in self.issues:
            if i.name == name:
                return i
        raise KeyError(name)

    def values(self) -> Iterator[tuple[str, Value]]:
        """Every number in the case with its dotted path (for audits and explorations)."""
        for label, _, value in walk_values(self):
            yield label, value

    # -- display (a notebook shows a summary, not every number) -------------------------
    def _facts(self) -> list[str]:
        ranged = sum(1 for _, v in self.values() if v.range is not None)
        return [
            f"{len(self.actors)} actors × {len(self.issues)} issues",
            f"{ranged} ranged values" if ranged else "",
            f"{len(self.shocks)} shocks" if self.shocks else "",
            f"{len(self.levers)} levers" if self.levers else "",
        ]

    def __repr__(self) -> str:
        head = repr(self.name) + (f", {self.date}" if self.date else "")
        return short("Case", head, *self._facts())

    def __str__(self) -> str:
        return repr(self)

    def _repr_html_(self) -> str:
        title = f"Case {self.name}" + (f" ({self.date})" if self.date else "")
        rows = [(i.name, f"{number(i.scale.min)}-{number(i.scale.max)}",
                 i.scale.units or "", i.status_quo.value if i.status_quo else None)
                for i in self.issues]
        facts = [*self._facts(), "actors: " + names(list(self.actor_names), 6)]
        return html_card(title, facts, ("issue", "scale", "units", "status quo"), rows)


class LocatedValueError(ValueError):
    """A validation failure inside the case-level check, carrying its location."""

    def __init__(self, message: str, loc: tuple[str | int, ...]) -> None:
        super().__init__(message)
        self.loc = loc


def _located(message: str, *loc: str | int) -> LocatedValueError:
    return LocatedValueError(message, tuple(loc))


def _check_size(case: Case) -> None:
    """The case's actors and issues within :mod:`~alliancelab.core.limits` (the location
    is the first one over the limit, so the message names its line)."""
    for kind in ("actors", "issues"):
        items = getattr(case, kind)
        problem = limits.excess(kind, len(items))
        if problem is not None:
            raise _located(problem, kind, limits.current()[kind])


def _check_dynamics(case: Case) -> None:
    """``dynamics:`` names known parameters; ``rounds`` is a whole number from 1 to the
    limit (:mod:`~alliancelab.core.limits`). With a range, its ends are whole numbers and a
    value drawn inside it is rounded to the nearest round by the dynamics."""
    for key, value in case.dynamics.items():
        if key not in DYNAMICS_PARAMETERS:
            raise _located(f"unknown dynamics parameter {key!r}; known: "
                           f"{', '.join(DYNAMICS_PARAMETERS)}", "dynamics", key)
        if key != "rounds":
            for v in (value.value, *(value.range or ())):
                if not 0.0 <= v <= 1.0:
                    raise _located(f"must lie in [0, 1], got {v:g}", "dynamics", key)
        else:
            for v in value.range or (value.value,):
                if not float(v).is_integer() or v < 1:
                    raise _located(f"rounds must be a whole number >= 1, got {v:g}",
                                   "dynamics", key)
                problem = limits.excess("rounds", int(v))
                if problem is not None:
                    raise _located(problem, "dynamics", key)


def _check_links(case: Case, issues: dict[str, Issue], actor_names: set[str]) -> None:
    """Links and feedback name a perception some actor has, a known issue and actors."""
    perceptions = _perception_names(case)
    for kind in ("links", "feedback"):
        for l_idx, link in enumerate(getattr(case, kind)):
            if link.perception not in perceptions:
                raise _located(f"unknown perception {link.perception!r}; the case has "
                               f"{', '.join(perceptions)}", kind, l_idx, "perception")
            if link.issue not in issues:
                raise _located(f"unknown issue {link.issue!r}", kind, l_idx, "issue")
            for name in link.actors or []:
                if name not in actor_names:
                    raise _located(f"unknown actor {name!r}", kind, l_idx, "actors")


def _perception_names(case: Case) -> list[str]:
    """``threats.<k>`` for every threat an actor perceives (or a shock or lever sets),
    then ``partner_reliability``: what links and feedback may name."""
    names: list[str] = []
    for actor in case.actors:
        names.extend(f"threats.{k}" for k in actor.perceptions.threats)
    for item in (*case.shocks, *case.levers):
        for change in item.changes:
            head, sep, key = change.target.rpartition(".perceptions.threats.")
            if sep and head.startswith("actors.") and key and key != "*":
                names.append(f"threats.{key}")
    return [*dict.fromkeys(names), "partner_reliability"]


def _check_groups(case: Case) -> None:
    """``groups`` and ``sides`` name groups that actors belong to; the sides differ."""
    actor_groups = {a.group for a in case.actors if a.group}
    for g in case.groups:
        if g not in actor_groups:
            raise _located(f"no actor belongs to group {g!r}", "groups", g)
    if case.sides is not None:
        for k, g in enumerate(case.sides):
            if g not in actor_groups:
                raise _located(f"no actor belongs to group {g!r}", "sides", k)
        if case.sides[0] == case.sides[1]:
            raise _located("the two sides must be different groups", "sides")


def _check_actor(
    actor: Actor, a_idx: int, issues: dict[str, Issue], actor_names: set[str]
) -> None:
    """An actor's positions and saliences cover exactly the issues, positions lie on the
    scales, estimates are of known actors and issues."""
    for kind in ("positions", "saliences"):
        given = getattr(actor, kind)
        for name in given:
            if name not in issues:
                raise _located(f"unknown issue {name!r}", "actors", a_idx, kind, name)
        for name in issues:
            if name not in given:
                raise _located(f"missing {kind[:-1]} on issue {name!r}", "actors", a_idx, kind)
    for issue_name, pos in actor.positions.items():
        scale = issues[issue_name].scale
        if not scale.min <= pos.value <= scale.max:
            raise _located(
                f"position {pos.value:g} lies outside the scale [{scale.min:g}, {scale.max:g}]",
                "actors", a_idx, "positions", issue_name,
            )
    for other, est in actor.perceptions.estimates.items():
        at = ("actors", a_idx, "perceptions", "estimates", other)
        if other not in actor_names:
            raise _located(f"estimate of unknown actor {other!r}", *at)
        for name in [*est.positions, *est.saliences]:
            if name not in issues:
                raise _located(f"unknown issue {name!r}", *at)


def _check_term(
    term: IndicatorTerm, at: tuple[str | int, ...], issues: dict[str, Issue], selectable: set[str]
) -> None:
    """An indicator term names known issues, actors or groups, and what its kind needs."""
    if term.issue is not None and term.issue not in issues:
        raise _located(f"unknown issue {term.issue!r}", *at, "issue")
    for sel in ("actors", "a", "b"):
        for name in getattr(term, sel) or []:
            if name not in selectable:
                raise _located(f"unknown actor or group {name!r}", *at, sel)
    if term.kind in ("perception", "perception_gap") and not term.perception:
        raise _located(f"a {term.kind!r} term needs 'perception'", *at)
    if term.kind == "outcome" and term.issue is None:
        raise _located("an 'outcome' term needs 'issue'", *at)


def select_actors(case: Case, selector: str) -> list[int]:
    """Indices of the actors ``selector`` names: an actor's name, or ``group:NAME`` (every
    actor of the group; ``group:US+ROK`` joins groups). Raises ``ValueError`` naming an
    unknown actor or group."""
    if selector.startswith("group:"):
        out: list[int] = []
        for g in selector[len("group:"):].split("+"):
            hit = [i for i, a in enumerate(case.actors) if a.group == g]
            if not hit:
                raise ValueError(f"no actor belongs to group {g!r}")
            out.extend(i for i in hit if i not in out)
        return out
    for i, a in enumerate(case.actors):
        if a.name == selector:
            return [i]
    raise ValueError(f"unknown actor {selector!r} (a group is written group:NAME)")


class ActorSelection:
    """:func:`select_actors` on one case as sets, each selector's answer remembered (a
    case's arenas and veto players name the same few selectors many times)."""

    def __init__(self, case: Case) -> None:
        self.case = case
        self.known: dict[str, frozenset[int]] = {}

    def __call__(self, selector: str) -> frozenset[int]:
        hit = self.known.get(selector)
        if hit is None:
            hit = self.known[selector] = frozenset(select_actors(self.case, selector))
        return hit


def _selected(select: ActorSelection, selector: str, *loc: str | int) -> frozenset[int]:
    try:
        return select(selector)
    except ValueError as exc:
        raise _located(str(exc), *loc) from None


def _check_issue_rules(case: Case, i_idx: int, select: ActorSelection) -> None:
    """An issue's arena, veto players and legal bounds name real actors and fit together."""
    issue = case.issues[i_idx]
    at: tuple[str | int, ...] = ("issues", i_idx)
    arena = issue.arena
    if arena is not None:
        standing: set[int] = set()
        for s_idx, sel in enumerate(arena.standing or []):
            standing |= _selected(select, sel, *at, "arena", "standing", s_idx)
        influencers: set[int] = set()
        for who in arena.influence:
            hit = _selected(select, who, *at, "arena", "influence", who)
            both = sorted(hit & standing)
            if both:
                raise _located(
                    f"{case.actors[both[0]].name!r} has standing and an influence weight",
                    *at, "arena", "influence", who,
                )
            influencers |= hit
        if arena.standing is None and len(influencers) == len(case.actors):
            raise _located("no actor has standing (every actor is an influencer)", *at, "arena")
    for v_idx, vp in enumerate(issue.veto):
        _selected(select, vp.actor, *at, "veto", v_idx)
    if issue.veto and issue.status_quo is None:
        raise _located(
            "veto players need a status quo: a veto blocks a change from it (Tsebelis 2002); "
            "give the issue a status_quo or drop the veto players",
            *at, "veto",
        )
    scale = issue.scale
    for kind in ("floor", "ceiling"):
        bound = getattr(issue, kind)
        if bound is not None and not scale.min <= bound.value <= scale.max:
            raise _located(f"{kind} {bound.value:g} lies outside the scale", *at, kind)
    if issue.floor is not None and issue.ceiling is not None and (
        issue.floor.value > issue.ceiling.value
    ):
        raise _located(
            f"floor {issue.floor.value:g} lies above the ceiling {issue.ceiling.value:g}",
            *at, "floor",
        )


def _unique(what: str, names: list[str]) -> None:
    seen: set[str] = set()
    for idx, n in enumerate(names):
        if n in seen:
            raise _located(f"duplicate name {n!r}", what, idx, "name")
        seen.add(n)


def walk_values(obj: Any) -> Iterator[tuple[str, tuple[str | int, ...], Value]]:
    """Every :class:`Value` under ``obj`` as ``(label, location, value)``: ``label`` is the
    dotted path with list items named (``actors.DPRK.capability``), ``location`` the key path
    into ``obj.model_dump()`` (``("actors", 8, "capability")``)."""

    def rec(
        node: Any, loc: tuple[str | int, ...], label: str
    ) -> Iterator[tuple[str, tuple[str | int, ...], Value]]:
        if isinstance(node, Value):
            yield label, loc, node
        elif isinstance(node, BaseModel):
            for name in type(node).model_fields:
                if name != "name":
                    yield from rec(
                        getattr(node, name), (*loc, name), f"{label}.{name}" if label else name
                    )
        elif isinstance(node, dict):
            for key, v in node.items():
                yield from rec(v, (*loc, key), f"{label}.{key}")
        elif isinstance(node, list):
            for idx, v in enumerate(node):
                yield from rec(v, (*loc, idx), f"{label}.{getattr(v, 'name', idx)}")

    yield from rec(obj, (), "")
