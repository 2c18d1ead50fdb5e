"""PyYAML for :mod:`.yaml_case`, imported only where YAML is read or written: the loaders
(the reader of record and the libyaml one), the line map of a document and the dumper."""

from __future__ import annotations

import re
from typing import Any

import yaml

from ..core import limits
from ..core.errors import CaseError

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


def parse_fast(text: str, file: str) -> tuple[dict[Loc, int], Any] | None:
    """The line map and data of a well-formed document, read by :class:`_FastLoader`; None
    when libyaml is missing or anything is wrong (then :func:`parse` reads it again and
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


def parse(text: str, file: str) -> tuple[dict[Loc, int], Any]:
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


def dump(data: Any) -> str:
    """``data`` as YAML: :class:`_Dumper`, keys in order, Unicode, 100 columns, short lists
    and mappings on one line."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100,
                     default_flow_style=None)
