"""``alliancelab convert CASE --to FORMAT [-o OUT]``: export a case to another format.

KTAB CSV and Scholz CSV hold less than a YAML case (no scales, status quo, sources,
perceptions, shocks or levers, ...). What the target format cannot hold is said in one warning
line on stderr; ``--strict`` makes it an error (exit 2, nothing written). What is lost is
found by reading the converted text back and comparing it with the case, so the warning
follows the writers in alliancelab.formats exactly.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..core.errors import AllianceLabError
from ._help import first_paragraph
from ._logging import log
from ._output import write_text

if TYPE_CHECKING:
    from ..core.case import Case

#: alliancelab.formats.FORMATS (repeated so that --help needs no import; a test checks it)
FORMATS = ("yaml", "ktab", "scholz")
FORMAT_NAMES = {"yaml": "YAML", "ktab": "KTAB CSV", "scholz": "Scholz CSV"}

#: a differing case-level field -> the words for it
TOP: dict[str, str] = {
    "name": "name",
    "description": "description",
    "date": "date",
    "sources": "sources",
    "dynamics": "dynamics",
    "links": "links",
    "feedback": "feedback",
    "shocks": "shocks",
    "levers": "levers",
    "indicators": "indicators",
    "groups": "groups",
    "sides": "sides",
    "plugin": "plugin",
    "meta": "meta data",
}
#: a differing field of an issue or an actor -> the words for it; a path's last key found here
#: names it (the ``range`` of a position is an uncertainty range)
LABELS: dict[str, str] = {
    "scale": "scales (positions rescaled)",
    "status_quo": "status quo",
    "floor": "floors",
    "ceiling": "ceilings",
    "arena": "arenas",
    "veto": "veto players",
    "range": "uncertainty ranges",
    "source": "sources",
    "note": "notes",
    "perceptions": "perceptions",
    "group": "groups",
    "name": "names",
    "saliences": "saliences (rescaled to sum to at most 1)",
    "positions": "positions (clamped to the scale)",
    "capability": "capabilities",
}
#: the order of the warning: what matters most to an analyst first
_ORDER = ["scales (positions rescaled)", "status quo", "sources", "perceptions", "shocks",
          "levers", "uncertainty ranges", "dynamics", "links", "feedback", "indicators",
          "floors", "ceilings", "arenas", "veto players", "groups", "sides", "notes",
          "saliences (rescaled to sum to at most 1)", "positions (clamped to the scale)",
          "capabilities", "names", "issue descriptions", "actor descriptions", "name",
          "description", "date", "plugin", "meta data"]


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("convert", help="convert a case between YAML, KTAB CSV and Scholz CSV",
                       description=first_paragraph(__doc__))
    p.add_argument("case", help="case file (YAML, KTAB CSV, Scholz CSV) or shipped case name")
    p.add_argument("--to", required=True, choices=FORMATS, help="the target format")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="file to write, atomically (default: stdout)")
    p.add_argument("--strict", action="store_true",
                   help="refuse (exit 2, nothing written) when the target format cannot hold "
                   "everything in the case")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..cases import resolve_case
    from ..formats import format_case, read_case

    case = read_case(resolve_case(args.case))
    text = format_case(case, args.to)
    lost = dropped(case, text, args.to)
    if lost:
        what = (f"{FORMAT_NAMES[args.to]} cannot hold the case's {', '.join(lost)}; "
                f"{'not converted' if args.strict else 'dropped'}")
        if args.strict:
            raise AllianceLabError(what + " (--strict)", file=args.case)
        log.warning("%s: %s (--strict makes this an error)", args.case, what)
    if args.output:
        write_text(args.output, text, "--output")
    else:
        sys.stdout.write(text)
    return 0


def dropped(case: Case, text: str, fmt: str) -> list[str]:
    """What of ``case`` does not survive ``text`` (the case written as ``fmt``): read the
    text back and name the kinds of field that differ, in :data:`LABELS`' words."""
    from ..formats import parse_case

    if fmt == "yaml":
        return []
    back = parse_case(text, f"<{fmt}>", fmt)
    found = {_label(path) for path in _differences(case.model_dump(), back.model_dump(), ())}
    if "scales (positions rescaled)" in found:
        found.discard("positions (clamped to the scale)")
    return sorted(found, key=lambda label: (_ORDER.index(label) if label in _ORDER
                                            else len(_ORDER), label))


def _label(path: tuple[Any, ...]) -> str:
    head = path[0]
    if head in TOP:
        return TOP[head]
    for key in reversed(path):
        if key == "description":
            return f"{str(head).removesuffix('s')} descriptions"
        if isinstance(key, str) and key in LABELS:
            return LABELS[key]
    return str(head)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return bool(a == b)


def _empty(x: Any) -> bool:
    return x is None or x == "" or x == [] or x == {} or x == ()


def _differences(a: Any, b: Any, path: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
    """Paths (keys and indices) where ``a`` holds something ``b`` does not hold alike."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key, value in a.items():
            yield from _differences(value, b.get(key), (*path, key))
    elif isinstance(a, list | tuple) and isinstance(b, list | tuple) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            yield from _differences(x, y, (*path, i))
    elif _empty(a) and _empty(b):
        return
    elif not _same(a, b):
        yield path
