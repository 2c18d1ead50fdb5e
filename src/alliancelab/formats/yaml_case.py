"""The YAML case format, read with line numbers so every error names its line.

A number anywhere may be written bare (``capability: 30``) or with its provenance
(``capability: {value: 30, source: "...", note: "...", range: [20, 40]}``).
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from ..core import limits
from ..core.case import Case, Issue, LocatedValueError, Scale, Value, VetoPlayer
from ..core.errors import CaseError
from ..core.targets import target_problem

Loc = tuple[str | int, ...]

#: most nodes a document may expand to through aliases (guards against "billion laughs").
MAX_NODES = 200_000

try:  # libyaml's parser, when PyYAML was built with it (see _FastLoader)
    from yaml.cyaml import CParser as _CParser
except ImportError:  # pragma: no cover - PyYAML without libyaml: the pure-Python reader
    _CParser = None


class _Hooks:
    """What both loaders below add to PyYAML's: ``1e5`` and ``-2E-3`` read as numbers (YAML
    1.2 floats; PyYAML's YAML 1.1 resolver would read them as text, see the resolvers set
    below), a value that cannot be built (an integer of thousands of digits, the date
    2025-13-45) reported as broken YAML, and the actors and issues counted while composing."""

    #: the top-level lists whose length a limit bounds (:mod:`alliancelab.core.limits`)
    _LIMITED = ("actors", "issues")
    _depth = 0
    _top_key: str | None = None

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return yaml.constructor.BaseConstructor.construct_object(
                self, node, deep)  # type: ignore[arg-type]
        except (ValueError, OverflowError) as exc:
            shown = str(node.value) if isinstance(node, yaml.ScalarNode) else node.tag
            shown = shown if len(shown) <= 30 else shown[:27] + "..."
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read {shown!r} ({exc})", node.start_mark
            ) from None

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        """Count the actors and issues while composing, so an oversized case is refused
        at the first item over the limit, before the rest is parsed."""
        self._depth += 1
        try:
            if self._depth == 2 and isinstance(index, yaml.ScalarNode):
                self._top_key = index.value
            elif (self._depth == 3 and isinstance(index, int)
                  and isinstance(parent, yaml.SequenceNode) and self._top_key in self._LIMITED):
                problem = limits.excess(self._top_key, index + 1, counted=False)
                if problem is not None:
                    mark = self.peek_event().start_mark  # type: ignore[attr-defined]
                    raise CaseError(problem, line=mark.line + 1, field=self._top_key)
            return yaml.composer.Composer.compose_node(  # type: ignore[no-any-return]
                self, parent, index)  # type: ignore[arg-type]
        finally:
            self._depth -= 1


class _Loader(_Hooks, yaml.SafeLoader):
    """SafeLoader with :class:`_Hooks`: the reader of record, whose errors are reported."""


if _CParser is not None:
    class _FastLoader(_Hooks, yaml.composer.Composer, _CParser,  # type: ignore[misc]
                      yaml.constructor.SafeConstructor, yaml.resolver.Resolver):
        """:class:`_Loader` on libyaml's scanner and parser (four to six times faster):
        the events come from C, the nodes are composed and built by the same Python code
        (so nesting ends in :class:`RecursionError`, as there, and the limits hold)."""

        def __init__(self, stream: str) -> None:
            _CParser.__init__(self, stream)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)


class _Dumper(yaml.SafeDumper):
    """SafeDumper that quotes text such as ``"1e5"`` which :class:`_Loader` reads as a number."""


_EXP_FLOAT = re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$")
_RESOLVING: list[Any] = [_Loader, _Dumper, *([_FastLoader] if _CParser is not None else [])]
for _cls in _RESOLVING:
    _cls.yaml_implicit_resolvers = {
        k: list(v) for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    _cls.add_implicit_resolver("tag:yaml.org,2002:float", _EXP_FLOAT, list("-+0123456789"))


def read(text: str, file: str, *, fast: bool = False) -> Case:
    """Parse and validate a YAML case; raise :class:`CaseError` naming file, line and field.

    ``fast``: parse with libyaml (:func:`_parse_fast`), for text known to read the same
    through it as through the reader of record: the shipped case files
    (:func:`alliancelab.formats.read_case`; tests/test_yaml_format.py checks each). libyaml
    accepts some broken YAML that PyYAML refuses, so a user's file is not read that way."""
    parsed = _parse_fast(text, file) if fast else None
    lines, data = parsed if parsed is not None else _parse(text, file)
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


def _parse_fast(text: str, file: str) -> tuple[dict[Loc, int], Any] | None:
    """The line map and data of a well-formed document, read by :class:`_FastLoader`; None
    when libyaml is missing or anything is wrong (then :func:`_parse` reads it again and
    reports the problem exactly as it always has). Text with a tab or a character YAML
    does not allow goes to :func:`_parse` directly (libyaml is more lenient there)."""
    if _CParser is None or "\t" in text or yaml.reader.Reader.NON_PRINTABLE.search(text):
        return None
    try:
        loader = _FastLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            lines = _line_map(node, file)
            data = loader.construct_document(node)
        finally:
            loader.dispose()
    except Exception:  # noqa: BLE001 - any problem: the reader of record says what it is
        return None
    return lines, data


def _parse(text: str, file: str) -> tuple[dict[Loc, int], Any]:
    """The line map and data of ``text``, read by :class:`_Loader`; every problem as the
    one-line :class:`CaseError` naming file and line."""
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                raise CaseError("file is empty", file=file)
            lines = _line_map(node, file)
            data = loader.construct_document(node)
        finally:
            loader.dispose()
    except CaseError as exc:  # a limit passed while composing (see _Loader.compose_node)
        raise CaseError(exc.message, file=file, line=exc.line, field=exc.field) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "unreadable"
        raise CaseError(f"broken YAML: {problem}", file=file, line=line) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, max(exc.position, 0)) + 1
        raise CaseError(
            f"broken YAML: character #x{exc.character:04x} is not allowed in YAML "
            "(a control character)"
            if isinstance(exc.character, int)
            else f"broken YAML: {exc}",
            file=file,
            line=line,
        ) from None
    except yaml.YAMLError as exc:
        raise CaseError(f"broken YAML: {exc}", file=file) from None
    except RecursionError:
        raise CaseError("broken YAML: nested too deeply", file=file) from None
    return lines, data


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
    return yaml.dump(
        _plain(case),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=None,
    )


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


def _line_map(root: yaml.Node, file: str) -> dict[Loc, int]:
    """Map every path in the document to its 1-based line; reject duplicate keys, recursive
    aliases and documents that aliases expand beyond :data:`MAX_NODES` nodes."""
    out: dict[Loc, int] = {}
    visited: set[int] = set()
    visits = 0
    # Depth-first and iterative; ``chain`` links a node to its ancestors as (id, chain) pairs,
    # walked only for nodes met before (aliases), to find aliases that contain themselves.
    Chain = tuple[int, Any] | None
    stack: list[tuple[yaml.Node, Loc, Chain]] = [(root, (), None)]
    while stack:
        node, path, chain = stack.pop()
        visits += 1
        if visits > MAX_NODES:
            raise CaseError(
                f"document too large: its aliases expand to more than {MAX_NODES} nodes",
                file=file,
            )
        if id(node) in visited:
            link = chain
            while link is not None:
                if link[0] == id(node):
                    raise CaseError(
                        "broken YAML: an alias refers to a node that contains it",
                        file=file,
                        line=node.start_mark.line + 1,
                    )
                link = link[1]
        visited.add(id(node))
        out.setdefault(path, node.start_mark.line + 1)
        inner: Chain = (id(node), chain)
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    stack.append((value_node, (*path, "<key>"), inner))
                    continue
                key = key_node.value
                if key in seen and key != "<<":
                    raise CaseError(
                        f"duplicate key {key!r}", file=file, line=key_node.start_mark.line + 1
                    )
                seen.add(key)
                out.setdefault((*path, key), key_node.start_mark.line + 1)
                stack.append((value_node, (*path, key), inner))
        elif isinstance(node, yaml.SequenceNode):
            for idx, item in enumerate(node.value):
                stack.append((item, (*path, idx), inner))
    return out


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
