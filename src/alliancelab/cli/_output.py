"""A command's outputs: files written atomically, checked before the work starts, and a
file-system failure reported as the user's one-line error (exit 2), never a traceback.

:func:`check_file` and :func:`check_dir` look at an output path before a long job runs (a
folder where a file is wanted, a parent that is a regular file, a read-only or unwritable
place); :func:`write_text` writes through :func:`alliancelab.core.io.atomic_write_text` and turns
an :class:`OSError` (including a full disk) into :class:`~alliancelab.core.errors.AllianceLabError`;
:func:`writing` does the same around any other writer. :func:`print_json` and :func:`print_csv`
print a command's results on stdout. Only the standard library is imported at module level.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import json
import os
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..core.errors import AllianceLabError

_REASONS = {
    errno.ENOTDIR: "a parent is a file, not a folder",
    errno.EEXIST: "a parent is a file, not a folder",
    errno.EISDIR: "is a folder, not a file",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "read-only file system",
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.ENAMETOOLONG: "file name too long",
}


def reason(exc: OSError) -> str:
    """A short, lower-case reason for a failed write."""
    if exc.errno in _REASONS:
        return _REASONS[exc.errno]
    return (exc.strerror or str(exc)).lower()


@contextlib.contextmanager
def writing(path: str | os.PathLike[str], option: str | None = None) -> Iterator[None]:
    """Around a write of ``path``: an :class:`OSError` becomes a one-line user error naming
    the path and the option it came from."""
    try:
        yield
    except OSError as exc:
        raise AllianceLabError(f"cannot write: {reason(exc)}", file=str(path),
                               field=option) from None


def _nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if os.path.lexists(candidate):
            return candidate
    return Path(".")


def _check_writable_place(path: Path, option: str | None) -> None:
    """The nearest existing ancestor of ``path`` (the part that would not be created) is a
    folder we may write into."""
    base = _nearest_existing(path)
    if base != path and not base.is_dir():
        raise AllianceLabError(f"cannot write: {base} is a file, not a folder",
                               file=str(path), field=option)
    folder = base if base.is_dir() else base.parent
    if not os.access(folder, os.W_OK | os.X_OK):
        why = "read-only file system" if _read_only(folder) else "permission denied"
        raise AllianceLabError(f"cannot write: {why}", file=str(path), field=option)


def _read_only(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def check_file(path: str | os.PathLike[str], option: str | None = None) -> Path:
    """``path`` can be written as a file: not a folder, its parents folders (or creatable),
    and writable. Checked before the work, so that a mistake costs nothing."""
    p = Path(path)
    if p.is_dir():
        raise AllianceLabError("is a folder, not a file", file=str(p), field=option)
    _check_writable_place(p, option)
    return p


def check_dir(path: str | os.PathLike[str], option: str | None = None) -> Path:
    """``path`` is (or can be created as) a writable folder."""
    p = Path(path)
    if os.path.lexists(p) and not p.is_dir():
        raise AllianceLabError("exists and is not a folder", file=str(p), field=option)
    _check_writable_place(p, option)
    return p


def write_text(path: str | os.PathLike[str], text: str, option: str | None = None) -> Path:
    """Write ``text`` atomically (a temporary file renamed into place; parents created)."""
    from ..core.io import atomic_write_text

    p = check_file(path, option)
    with writing(p, option):
        atomic_write_text(p, text)
    return p


def print_json(document: Any) -> None:
    """One JSON document on stdout (NumPy numbers and NaN made JSON-safe)."""
    from ..core.result import jsonable

    sys.stdout.write(json.dumps(jsonable(document), indent=2) + "\n")


def csv_text(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """Rows as CSV text with a header (``None`` as an empty cell)."""
    import io

    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n",
                       extrasaction="ignore")
    w.writeheader()
    for row in rows:
        w.writerow({k: "" if row.get(k) is None else row.get(k) for k in columns})
    return buf.getvalue()


def print_csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> None:
    sys.stdout.write(csv_text(rows, columns))
