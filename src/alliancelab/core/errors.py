"""The project's one error type for a user's mistake.

Every problem with input (a case file, a CLI argument, a model option) is raised as
:class:`AllianceLabError`; its ``str()`` is one line naming the file, the line or field,
and what is wrong, so the CLI can print it and exit with code 2.
"""

from __future__ import annotations


class AllianceLabError(Exception):
    """A user's mistake, reported in one line: ``file:line: field: problem``."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message = " ".join(str(message).split())
        self.file = file
        self.line = line
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file + (f":{self.line}" if self.line is not None else "")
        elif self.line is not None:
            where = f"line {self.line}"
        parts = [_printable(p) for p in (where, self.field) if p]
        return ": ".join([*parts, self.message])

    def located(self, *, file: str | None = None, line: int | None = None) -> AllianceLabError:
        """The same error with a file (and line) filled in where it had none."""
        return AllianceLabError(
            self.message,
            file=self.file or file,
            line=self.line if self.line is not None else line,
            field=self.field,
        )


def _printable(text: str) -> str:
    """``text`` with control characters escaped (a field named ``"\\n"`` stays on one line)."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class CaseError(AllianceLabError):
    """A case that is malformed or inconsistent."""
