"""The YAML case format, read with line numbers so every error names its line.

A number anywhere may be written bare (``capability: 30``) or with its provenance
(``capability: {value: 30, source: "...", note: "...", range: [20, 40]}``).
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from pydantic import BaseModel, ValidationError

from ..core.case import Case, Issue, LocatedValueError, Scale, Value, VetoPlayer
from ..core.errors import CaseError
from ..core.targets import target_problem

Loc = tuple[str | int, ...]

def read(text: str, file: str, *, fast: bool = False) -> Case:
    """Parse and validate a YAML case; raise :class:`CaseError` naming file, line and field.

    ``fast``: parse with libyaml (:func:`._yaml_io.parse_fast`), for text known to read the same
    through it as through the reader of record: the shipped case files
    (:func:`alliancelab.formats.read_case`; tests/test_yaml_format.py checks each). libyaml
    accepts some broken YAML that PyYAML refuses, so a user's file is not read that way."""
    from . import _yaml_io  # here: PyYAML only where YAML is read or written

    parsed = _yaml_io.parse_fast(text, file) if fast else None
    lines, data = parsed if parsed is not None else _yaml_io.parse(text, file)
    if not isinstance(data, dict):
        raise CaseError(
            "a case must be a YAML mapping (name, issues, actors, ...)", file=file, line=1
        )
    try:
        case = validate(data, file=file, lines=lines)
    except RecursionError:
        raise CaseError("nested too deeply to be a case", file=file) from None
    check_interventions(case, file=file, lines=lines)
    return case


def check_interventions(case: Case, *, file: str, lines: dict[Loc, int] | None = None) -> None:
    """Every change of every shock and lever resolved as it will be applied
    (:func:`alliancelab.core.targets.target_problem`), so a case that ``forecast`` accepts
    is one that ``run`` accepts; the first problem as a :class:`CaseError` with its line."""
    for kind in ("shocks", "levers"):
        for i_idx, item in enumerate(getattr(case, kind)):
            data = case.model_dump()
            for c_idx, change in enumerate(item.changes):
                problem = target_problem(case, data, change)
                if problem is not None:
                    loc: Loc = (kind, i_idx, "changes", c_idx, "target")
                    raise CaseError(problem, file=file, line=_nearest_line(lines or {}, loc),
                                    field=f"{kind}[{i_idx}]({item.name}).changes[{c_idx}]"
                                          ".target")


def validate(data: dict[str, Any], *, file: str, lines: dict[Loc, int] | None = None) -> Case:
    """Validate a plain mapping as a :class:`Case`, turning the first problem into a
    one-line :class:`CaseError`."""
    try:
        return Case.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        # an unknown field first: a misspelt name also shows up as a missing field
        err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        loc: Loc = tuple(err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, LocatedValueError):
            loc = loc + cause.loc
            message = str(cause)
        if "[key]" in loc:
            # pydantic marks a bad mapping key as ``(..., key, "[key]")``
            at = loc.index("[key]")
            bad_key = loc[at - 1] if at else None
            loc = loc[: max(at - 1, 0)]
            message = f"keys must be names (text), got {bad_key!r}"
        elif err["type"] == "invalid_key" and loc:
            loc, bad_key = loc[:-1], loc[-1]
            message = f"keys must be names (text), got {bad_key!r}"
        elif err["type"] in _MESSAGES:
            message = _MESSAGES[err["type"]].format(got=_describe(err.get("input")))
        line = _nearest_line(lines or {}, loc)
        raise CaseError(message, file=file, line=line, field=_render(loc, data)) from None


def validate_edit(case: Case, data: dict[str, Any], *, file: str) -> Case:
    """``validate(data, file=file)`` for ``data``, an edited ``case.model_dump()`` that wrote
    no -0.0 where a 0.0 was (equal to it, so not seen as a change): the parts the edit left
    as they were are passed as ``case``'s own (valid) objects, so only the validators of the
    changed parts, of everything holding them and :class:`Case`'s own run, and the result
    is the same case. A problem is reported as validating the whole ``data`` reports it."""
    try:
        return validate(_reused(case, data, dumped(case)), file=file)
    except CaseError:
        return validate(data, file=file)


#: the last cases' dumps, by identity (a case is immutable; an entry keeps its case alive):
#: the shocks and levers of a variant are applied to the same case one after another
_DUMPS: dict[int, tuple[Case, dict[str, Any]]] = {}


def dumped(case: Case) -> dict[str, Any]:
    """``case.model_dump()``, shared by the calls on the same case: read it, never write."""
    hit = _DUMPS.pop(id(case), None)
    if hit is not None and hit[0] is case:
        _DUMPS[id(case)] = hit  # the most recent last
        return hit[1]
    dump = case.model_dump()
    if len(_DUMPS) >= 8:
        _DUMPS.pop(next(iter(_DUMPS), 0), None)
    _DUMPS[id(case)] = (case, dump)
    return dump


def _reused(obj: Any, new: Any, old: Any) -> Any:
    """``new`` (an edit of ``old``, the dump of ``obj``) with every model, list and mapping
    it left as it was replaced by ``obj``'s own one (:func:`validate_edit`); veto players
    stay plain data (their validator takes no model)."""
    if not isinstance(obj, BaseModel | dict | list) or _selectors(obj):
        return new
    if new == old:
        return obj
    if isinstance(obj, Value):
        return new  # a changed number: validating its dump is cheaper than comparing parts
    if isinstance(obj, list):
        if not isinstance(new, list) or not isinstance(old, list) or len(new) != len(old):
            return new
        return [_reused(o, n, b) for o, n, b in zip(obj, new, old, strict=True)]
    if not isinstance(new, dict) or not isinstance(old, dict):
        return new
    parts = obj if isinstance(obj, dict) else obj.__dict__
    return {k: _reused(parts[k], v, old[k]) if k in old else v for k, v in new.items()}


def _selectors(obj: Any) -> bool:
    """Whether ``obj`` is a veto player or a list of them."""
    return isinstance(obj, VetoPlayer) or (
        isinstance(obj, list) and any(isinstance(x, VetoPlayer) for x in obj))


#: clearer words for pydantic's error types (``{got}`` describes the offending input).
_MESSAGES = {
    "extra_forbidden": "unknown field",
    "missing": "missing field",
    "string_type": "expected text, got {got}",
    "string_too_short": "must not be empty",
    "float_type": "expected a number, got {got}",
    "float_parsing": "expected a number, got {got}",
    "finite_number": "must be a finite number (not NaN or infinity)",
    "dict_type": "expected a mapping (key: value, ...), got {got}",
    "model_type": "expected a mapping (key: value, ...), got {got}",
    "model_attributes_type": "expected a mapping (key: value, ...), got {got}",
    "list_type": "expected a list, got {got}",
    "tuple_type": "expected a list, got {got}",
    "too_short": "must not be empty",
    "literal_error": "{got} is not one of the allowed values",
}


def _describe(value: Any) -> str:
    """A short description of a value for an error message."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"the boolean {value!r}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the text {shown!r}"
    if isinstance(value, int | float):
        return f"the number {value!r}" if abs(value) < 1e15 else "a huge number"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, bytes):
        return "binary data"
    if isinstance(value, _dt.date | _dt.datetime):
        return f"the date {value.isoformat()} (quote it to make it text)"
    return f"a {type(value).__name__}"


def write(case: Case) -> str:
    """The case as YAML, sources and notes intact; bare numbers where a value has nothing
    else, whole numbers without ``.0``, both ends of every scale, short lists and mappings
    on one line."""
    from . import _yaml_io

    return _yaml_io.dump(_plain(case))


def _plain(obj: Any) -> Any:
    """``obj`` as plain data for :func:`write`, led by the models' own structure (so that an
    issue called ``value`` is not mistaken for a :class:`Value`); fields at their default
    are left out, except both ends of a scale; ``meta`` is written as given."""
    if isinstance(obj, Value):
        if obj.source is None and obj.note is None and obj.range is None:
            return _num(obj.value)
        out: dict[str, Any] = {"value": _num(obj.value)}
        for key in ("source", "note"):
            if getattr(obj, key) is not None:
                out[key] = getattr(obj, key)
        if obj.range is not None:
            out["range"] = [_num(obj.range[0]), _num(obj.range[1])]
        return out
    if isinstance(obj, VetoPlayer) and obj.source is None and obj.note is None:
        return obj.actor  # the bare selector, as it is usually written
    if isinstance(obj, BaseModel):
        out = {}
        for name, info in type(obj).model_fields.items():
            value = getattr(obj, name)
            keep = (isinstance(obj, Scale) and name in ("min", "max")) or (
                isinstance(obj, Issue) and name == "scale"
            )
            if (
                not keep
                and not info.is_required()
                and value == info.get_default(call_default_factory=True)
            ):
                continue
            out[name] = obj.model_dump(mode="json")[name] if name == "meta" else _plain(value)
        return out
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    return _num(obj) if isinstance(obj, float) else obj


def _num(x: float) -> float | int:
    """Whole numbers without ``.0``."""
    return int(x) if x.is_integer() and abs(x) < 1e15 else x


def _nearest_line(lines: dict[Loc, int], loc: Loc) -> int | None:
    for end in range(len(loc), -1, -1):
        key = tuple(str(p) if isinstance(p, str) else p for p in loc[:end])
        if key in lines:
            return lines[key]
    return None


def _render(loc: Loc, data: Any) -> str:
    """``actors[2](ROK President).positions.opcon`` - indices with the item's name."""
    out = ""
    node = data
    for part in loc:
        if isinstance(part, int):
            name = (
                node[part].get("name")
                if isinstance(node, list) and part < len(node) and isinstance(node[part], dict)
                else None
            )
            out += f"[{part}]" + (f"({name})" if isinstance(name, str) else "")
        else:
            out += ("." if out else "") + (str(part) if part != "" else "''")
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            node = None
    return out
