"""Help text for people: docstrings without Sphinx markup, and every option's default.

:func:`plain` turns reStructuredText inline markup into plain text (````x```` -> ``x``,
``:mod:`a.b``` -> ``a.b``, ``:func:`~a.b``` -> ``b``, ``:ref:`title <target>``` -> ``title``);
:class:`HelpFormatter` applies it to every description and help string and appends
``(default: X)`` to each option whose help does not already state its default (flags that take
no value are left alone: they are off unless given).
"""

from __future__ import annotations

import argparse
import copy
import re
from typing import Any

#: :role:`text` (with an optional domain, ``:py:func:``), the text possibly "title <target>"
_ROLE = re.compile(r":(?:[\w-]+:)?[\w-]+:`([^`]+)`")
_LITERAL = re.compile(r"``([^`]+)``")
_DEFAULT_ROLE = re.compile(r"(?<![\w`])`([^`]+)`(?![\w`])")
_TITLE = re.compile(r"^(.*?)\s*<[^<>]+>$")


def _role_text(m: re.Match[str]) -> str:
    text = m.group(1).strip()
    titled = _TITLE.match(text)
    if titled and titled.group(1):
        return titled.group(1)
    if text.startswith("~"):
        return text[1:].rsplit(".", 1)[-1]
    return text.lstrip("!")


def plain(text: str | None) -> str:
    """``text`` without reStructuredText inline markup."""
    if not text:
        return text or ""
    text = _ROLE.sub(_role_text, text)
    text = _LITERAL.sub(r"\1", text)
    return _DEFAULT_ROLE.sub(r"\1", text)


def first_paragraph(doc: str | None) -> str | None:
    """A module docstring's first paragraph, as one plain line (for a description)."""
    if not doc:
        return None
    para = doc.strip().split("\n\n", 1)[0]
    return plain(" ".join(para.split()))


def _shown(value: Any) -> str:
    if value is None or value == [] or value == ():
        return "none"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def needs_default(action: argparse.Action) -> bool:
    """Whether ``action``'s help should get ``(default: X)`` appended."""
    help_text = action.help or ""
    if help_text == argparse.SUPPRESS or action.default is argparse.SUPPRESS:
        return False
    if action.nargs == 0 or action.required:  # flags are off unless given
        return False
    if not action.option_strings and action.nargs not in ("?", "*"):
        return False  # a required positional has no default
    return "default" not in help_text.lower()


class HelpFormatter(argparse.HelpFormatter):
    """Plain text, and the default of every option."""

    def _format_action(self, action: argparse.Action) -> str:
        if action.help is None and needs_default(action):  # no help: the default alone
            action = copy.copy(action)
            action.help = "(default: %(default)s)"
        return super()._format_action(action)

    def _format_text(self, text: str) -> str:
        return super()._format_text(plain(text))

    def _get_help_string(self, action: argparse.Action) -> str:
        help_text = action.help or ""
        if needs_default(action):
            help_text = (f"{help_text} " if help_text else "") + "(default: %(default)s)"
        return help_text

    def _expand_help(self, action: argparse.Action) -> str:
        if needs_default(action):
            # the same as argparse's expansion, with the default shown readably
            params: dict[str, Any] = dict(vars(action), prog=self._prog)
            params["default"] = _shown(action.default)
            if params.get("choices") is not None:
                params["choices"] = ", ".join(str(c) for c in params["choices"])
            for name in list(params):
                if params[name] is argparse.SUPPRESS:
                    del params[name]
            return plain(self._get_help_string(action) % params)
        return plain(super()._expand_help(action))
