"""File input and output that a user's mistake or a fault of the machine cannot turn into a
traceback, a hang or a partial file.

* Reading: :func:`read_regular_file` reads regular files only - a FIFO, a device (``/dev/zero``),
  a socket or a folder is refused with one line before anything is read, so nothing blocks
  or grows without bound - and at most ``limit`` bytes (checked on the open file, not only on
  ``st_size``, which is 0 for a device). :func:`check_regular` does the same check for a file
  another library opens (DuckDB, NumPy).
* Writing: :func:`atomic_write_bytes` / :func:`atomic_write_text` write a temporary file beside
  the target and rename it into place, removing the temporary file on any failure (a full
  disk included). :func:`check_writable` looks at an output path before the work starts.
  :func:`os_reason` turns an :class:`OSError` into a short reason for the one-line error.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import tempfile
from pathlib import Path

from .errors import AllianceLabError

_REASONS = {
    errno.ENOTDIR: "a parent is a file, not a folder",
    errno.EEXIST: "a parent is a file, not a folder",
    errno.EISDIR: "is a folder, not a file",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "read-only file system",
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EFBIG: "file too large for this file system or limit",
    errno.ENAMETOOLONG: "file name too long",
}


def os_reason(exc: OSError) -> str:
    """A short, lower-case reason for a failed read or write."""
    if exc.errno in _REASONS:
        return _REASONS[exc.errno]
    return (exc.strerror or str(exc)).lower()


# --------------------------------------------------------------------------- reading
def file_kind(mode: int) -> str:
    """What a ``st_mode`` is, in words (``"a FIFO (named pipe)"``, ``"a device"``, ...)."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a regular file" if stat.S_ISREG(mode) else "not a regular file"


def check_regular(path: str | os.PathLike[str], what: str = "file",
                  error: type[AllianceLabError] = AllianceLabError) -> None:
    """Refuse ``path`` (one line, naming it) unless it is a regular file (links followed).
    A missing file raises :class:`FileNotFoundError`."""
    mode = os.stat(path).st_mode
    if not stat.S_ISREG(mode):
        raise error(f"is {file_kind(mode)}, not a {what}", file=str(path))


def read_regular_file(path: str | os.PathLike[str], limit: int, what: str = "case file",
                      error: type[AllianceLabError] = AllianceLabError) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them.

    The file is opened non-blocking (a FIFO without a writer cannot hang the open) and its
    type checked on the open descriptor before anything is read; a file larger than
    ``limit`` - by ``st_size`` or by what is actually read, for one that grows - is refused.
    Raises ``error`` (one line) for a non-regular or oversized file and :class:`OSError`
    (e.g. :class:`FileNotFoundError`) when it cannot be opened."""
    file = str(path)
    if os.path.exists(path):
        mode = os.stat(path).st_mode  # a socket cannot be opened at all: say what it is
        if stat.S_ISSOCK(mode):
            raise error(f"is {file_kind(mode)}, not a {what}", file=file)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0)
                 | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise error(f"is {file_kind(st.st_mode)}, not a {what}", file=file)
        if st.st_size > limit:
            raise error(f"file is too large ({st.st_size} bytes; limit {limit})", file=file)
        chunks: list[bytes] = []
        got = 0
        while got <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - got))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
        if got > limit:
            raise error(f"file is too large (more than {limit} bytes)", file=file)
        return b"".join(chunks)
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- writing
#: the hidden working files and folders beside an output NAME: ``.NAME.<pid>.<random>.tmp``
#: (being written) and ``.NAME.<pid>.<random>.old`` (an earlier output, during a swap)
WORK_NAME = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[A-Za-z0-9_]+\.(?:tmp|old)$")


def writer_alive(pid: int, mtime: float) -> bool:
    """Whether process ``pid`` may still be writing a directory last written at ``mtime``."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process
    started = _process_start(pid)
    return started is None or started <= mtime + 1.0  # a pid reused later is not the writer


def _process_start(pid: int) -> float | None:
    """When process ``pid`` started (seconds since the epoch), from Linux's /proc; None
    where that cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        boot = next(int(line.split()[1]) for line in
                    Path("/proc/stat").read_text().splitlines() if line.startswith("btime"))
        return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def _nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if os.path.lexists(candidate):
            return candidate
    return Path(".")


def _read_only(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def check_writable(path: str | os.PathLike[str], option: str | None = None, *,
                   folder: bool = False) -> Path:
    """Check, before any work, that ``path`` can be written: as a file (``folder=False``:
    not an existing folder) or as a folder (not an existing file or other non-folder); its
    nearest existing ancestor a folder we may write into, on a writable file system. A
    symbolic link counts as what it points to. Raises the one-line error naming ``path`` and
    ``option``; returns ``path``."""
    p = Path(path)
    if os.path.exists(p):
        if folder and not p.is_dir():
            raise AllianceLabError("exists and is not a folder", file=str(p), field=option)
        if not folder and p.is_dir():
            raise AllianceLabError("is a folder, not a file", file=str(p), field=option)
    elif os.path.islink(p):
        check_writable(Path(os.path.realpath(p)), option, folder=folder)  # a dangling link
        return p
    base = _nearest_existing(p)
    if base != p and not base.is_dir():
        raise AllianceLabError(f"cannot write: {base} is a file, not a folder",
                               file=str(p), field=option)
    place = base if base.is_dir() else base.parent
    if _read_only(place):
        raise AllianceLabError("cannot write: read-only file system", file=str(p),
                               field=option)
    if not os.access(place, os.W_OK | os.X_OK):
        raise AllianceLabError("cannot write: permission denied", file=str(p), field=option)
    return p


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it into place."""
    atomic_write_bytes(path, text.encode("utf-8"))


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: read once at import (os.umask can only be read by setting it, which is not thread-safe)
UMASK = _read_umask()


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """As :func:`atomic_write_text`; the file gets the usual permissions (0666 less the
    umask), not the private 0600 of a temporary file. A symbolic link at ``path`` is
    written through (its target replaced), never replaced by a file. On any failure the
    temporary file is removed and the old file, if any, is left as it was."""
    target = Path(path)
    if target.is_symlink():
        target = Path(os.path.realpath(target))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_files(target)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.{os.getpid()}.",
                                   suffix=".tmp")
    except OSError as exc:  # named after the file asked for, not a temporary one
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~UMASK)
        os.replace(tmp, target)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise OSError(exc.errno, exc.strerror, str(path)) from None
        raise


def _remove_stale_files(target: Path) -> None:
    """Remove the temporary files beside ``target`` that a killed writer left
    (:data:`WORK_NAME`, regular files, their process gone)."""
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return
    for entry in entries:
        m = WORK_NAME.match(entry.name)
        if not m or m.group("name") != target.name or not entry.name.endswith(".tmp"):
            continue
        try:
            if (entry.is_file(follow_symlinks=False)
                    and not writer_alive(int(m.group("pid")), entry.stat().st_mtime)):
                os.unlink(entry.path)
        except OSError:
            continue


def check_outputs(*targets: tuple[str | os.PathLike[str] | None, str, bool]) -> None:
    """:func:`check_writable` for each ``(path, option, folder)`` whose path is given (a
    command's output options, checked together before its work starts)."""
    for path, option, folder in targets:
        if path is not None and str(path) != "":
            check_writable(path, option, folder=folder)
