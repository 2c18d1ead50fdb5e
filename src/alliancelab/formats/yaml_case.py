"""The YAML case format, read with line numbers so every error names its line.

A number anywhere may be written bare (``capability: 30``) or with its provenance
(``capability: {value: 30, source: "...", note: "...", range: [20, 40]}``).
"""

from __future__ import annotations

from typing import Any

import yaml
from pydantic import ValidationError

from ..case import Case, LocatedValueError
from ..errors import CaseError

Loc = tuple[str | int, ...]


def read(text: str, file: str) -> Case:
    """Parse and validate a YAML case; raise :class:`CaseError` naming file, line and field."""
    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                raise CaseError("file is empty", file=file)
            lines = _line_map(node, (), file)
            data = loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise CaseError(f"broken YAML: {exc.problem or exc.context}", file=file, line=line) from None
    except yaml.YAMLError as exc:
        raise CaseError(f"broken YAML: {exc}", file=file) from None
    if not isinstance(data, dict):
        raise CaseError("a case must be a YAML mapping (name, issues, actors, ...)", file=file, line=1)
    return validate(data, file=file, lines=lines)


def validate(data: dict[str, Any], *, file: str, lines: dict[Loc, int] | None = None) -> Case:
    """Validate a plain mapping as a :class:`Case`, turning the first problem into a
    one-line :class:`CaseError`."""
    try:
        return Case.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        loc: Loc = tuple(err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, LocatedValueError):
            loc = loc + cause.loc
            message = str(cause)
        if err["type"] == "extra_forbidden":
            message = "unknown field"
        elif err["type"] == "missing":
            message = "missing field"
        line = _nearest_line(lines or {}, loc)
        raise CaseError(message, file=file, line=line, field=_render(loc, data)) from None


def write(case: Case) -> str:
    """The case as YAML, sources and notes intact; bare numbers where a value has nothing else."""
    data = case.model_dump(mode="json", exclude_defaults=True)
    return yaml.safe_dump(_compact(data), sort_keys=False, allow_unicode=True, width=100)


def _compact(obj: Any) -> Any:
    if isinstance(obj, dict):
        if set(obj) == {"value"}:
            return obj["value"]
        return {k: _compact(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_compact(v) for v in obj]
    return obj


def _line_map(node: yaml.Node, path: Loc, file: str) -> dict[Loc, int]:
    """Map every path in the document to its 1-based line; reject duplicate keys."""
    out: dict[Loc, int] = {path: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if key in seen:
                raise CaseError(
                    f"duplicate key {key!r}", file=file, line=key_node.start_mark.line + 1
                )
            seen.add(key)
            out.update(_line_map(value_node, (*path, key), file))
            out[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for idx, item in enumerate(node.value):
            out.update(_line_map(item, (*path, idx), file))
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
            name = node[part].get("name") if isinstance(node, list) and part < len(node) and isinstance(node[part], dict) else None
            out += f"[{part}]" + (f"({name})" if isinstance(name, str) else "")
        else:
            out += ("." if out else "") + str(part)
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            node = None
    return out
