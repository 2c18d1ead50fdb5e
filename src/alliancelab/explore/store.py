"""The on-disk store of an exploration: a directory with

* ``design.npy`` - the scenarios (rows) by uncertainties (columns), in parameter units,
  written once, atomically (temp file + rename), before any experiment runs;
* ``explore.duckdb`` - table ``manifest`` (key -> JSON value: case hash, sampler, seed entropy,
  package versions, the design's SHA-256, ...), table ``results`` (one row per finished
  experiment: id, scenario, policy, ok, error, one DOUBLE column per outcome),
  ``experiment_id`` the primary key, and table ``integrity`` (the results' checksum);
* ``manifest.json`` - the same manifest, for people and tools that do not read DuckDB.

Crash safety: every batch of results is one DuckDB transaction, together with the update of
the results' checksum (rows already stored are skipped, so a batch written twice keeps its
first copy); DuckDB's write-ahead log makes a committed batch survive SIGKILL and discards an
uncommitted one. A rerun reads the ids already stored and runs only the others, so every
experiment ends up stored exactly once.

Integrity: the design's SHA-256 is recorded in the manifest when it is written; the results
carry an order-independent checksum (the count of rows, and the sum and the XOR modulo
2^64 of a 64-bit digest of every row's values: :func:`row_digests`), updated in each batch's
transaction. :meth:`Store.verify` recomputes both - on resume and whenever an
:class:`~alliancelab.explore.results.Exploration` is opened - and a store that does not match
(a flipped byte in ``design.npy`` or in the DuckDB file, a truncated file, a missing design)
is refused with one line, never analysed. DuckDB's own block checksums catch most flipped
bytes in its file, but not all (on a plain 200,000-row table, 15 of 150 random single-byte
flips changed what a query returned without an error); the results' checksum catches a
changed value wherever it comes from. It guards against accidents - disks, copies, crashes -
not against someone who rewrites the store on purpose (:meth:`Store.reseal`).

Readers while a run writes: DuckDB lets one process write a database file and no other
process open it meanwhile. A reader (:class:`Store` with ``read_only=True``) that finds the
store locked copies the database and its write-ahead log into a private temporary folder,
opens the copy and accepts it only if its results match their checksum (a copy taken in the
middle of a commit or a checkpoint does not, and is taken again): so ``alliancelab report
STORE`` works while ``alliancelab explore`` is still writing STORE, on the experiments
committed when the copy was taken.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..core.errors import AllianceLabError
from ..core.io import atomic_write_text, check_regular, os_reason
from .samplers import DesignReader

if TYPE_CHECKING:  # DuckDB (~0.1 s to import) loads when a store is opened
    import duckdb

DB_NAME = "explore.duckdb"
WAL_NAME = DB_NAME + ".wal"
DESIGN_NAME = "design.npy"
MANIFEST_NAME = "manifest.json"
FIXED_COLUMNS = ("experiment_id", "scenario", "policy", "ok", "error")
#: copies of a store being written that a reader tries before giving up
SNAPSHOT_TRIES = 8
#: rows per chunk when the results are read back for the checksum (memory stays flat)
VERIFY_VECTORS = 50  # x 2048 rows

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_NAN = np.float64("nan").view(np.uint64)
_MASK = (1 << 64) - 1
#: DuckDB's words for a failure of the file system -> the reason printed
_OS_FAILURES = (("No space left", "no space left on device"),
                ("Read-only file system", "read-only file system"),
                ("Permission denied", "permission denied"),
                ("Disk quota exceeded", "disk quota exceeded"))


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _locked(message: str) -> bool:
    """Whether DuckDB's error says another process holds the file's lock."""
    return "Could not set lock" in message or "Conflicting lock" in message


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser (Steele, Lea & Flood 2014), element-wise on uint64."""
    x = x ^ (x >> np.uint64(30))
    x = x * _M1
    x = x ^ (x >> np.uint64(27))
    x = x * _M2
    return x ^ (x >> np.uint64(31))


def _text_words(values: Any) -> np.ndarray:
    """A 64-bit word per string (BLAKE2b of its UTF-8), 0 for a missing one."""
    codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    table = np.array([int.from_bytes(hashlib.blake2b(str(u).encode(), digest_size=8).digest(),
                                     "little") for u in uniques] + [0], dtype=np.uint64)
    return table[np.asarray(codes)]  # code -1 picks the trailing 0


def row_digests(frame: pd.DataFrame, outcome_names: Sequence[str]) -> np.ndarray:
    """A 64-bit digest of each row of a results frame (the columns of :data:`FIXED_COLUMNS`
    and ``outcome_names``, in that order): SplitMix64 chained over the rows' words (integers
    as they are, NaN as one canonical NaN, strings by BLAKE2b)."""
    n = len(frame)
    h = np.full(n, 0x9E3779B97F4A7C15, dtype=np.uint64)
    words = [
        np.asarray(frame["experiment_id"], dtype=np.int64).view(np.uint64),
        np.asarray(frame["scenario"], dtype=np.int64).view(np.uint64),
        _text_words(frame["policy"]),
        np.asarray(frame["ok"], dtype=bool).astype(np.uint64),
        _text_words(frame["error"]),
    ]
    for name in outcome_names:
        v = np.asarray(frame[name], dtype=np.float64)
        words.append(np.where(np.isnan(v), _NAN, v.view(np.uint64)))
    for w in words:
        h = _mix(h ^ w)
    return h


class Checksum:
    """The results' order-independent checksum: rows, and the sum and XOR (mod 2^64) of
    :func:`row_digests`."""

    def __init__(self, rows: int = 0, total: int = 0, xor: int = 0) -> None:
        self.rows, self.total, self.xor = rows, total, xor

    def add(self, digests: np.ndarray) -> Checksum:
        """A new checksum with ``digests`` added."""
        total = int(np.add.reduce(digests, dtype=np.uint64)) if len(digests) else 0
        xor = int(np.bitwise_xor.reduce(digests)) if len(digests) else 0
        return Checksum(self.rows + len(digests), (self.total + total) & _MASK, self.xor ^ xor)

    @property
    def text(self) -> str:
        return f"{self.total:016x}{self.xor:016x}"

    @classmethod
    def parse(cls, rows: int, text: str) -> Checksum:
        return cls(int(rows), int(text[:16], 16), int(text[16:], 16))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Checksum) and (self.rows, self.text) == (other.rows, other.text)

    __hash__ = None  # type: ignore[assignment]


def file_sha256(path: Path) -> str:
    """SHA-256 of the file ``path`` (read in blocks)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class Store:
    """One exploration's directory. A single process writes to it at a time; with
    ``read_only=True`` it is only read (and a store another process is writing is read from
    a verified copy, see the module docstring). ``db_dir`` opens the database files of an
    earlier verified copy (:attr:`snapshot`) instead of the store's own. Every DuckDB or OS
    failure - a damaged or truncated file, a full disk - is the one-line error naming the
    store."""

    def __init__(self, directory: str | Path, *, read_only: bool = False,
                 db_dir: Path | None = None) -> None:
        self.directory = Path(directory)
        self.read_only = read_only or db_dir is not None
        #: the private copy this reader opened (None: the store's own file)
        self.snapshot: Path | None = None
        self._checksum: Checksum | None = None
        if db_dir is not None:
            self.con = self._connect(db_dir / DB_NAME, read_only=True)
        elif self.read_only:
            self.con = self._open_reader()
        else:
            self._check_files()
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise self.error(f"cannot create the store: {os_reason(exc)}") from None
            self.con = self._connect(self.directory / DB_NAME, read_only=False)
            with self._guard():
                # bound DuckDB's buffer pool (default: 80% of RAM) so memory stays flat in N
                self.con.execute("SET memory_limit = '512MB'")
                self.con.execute("CREATE TABLE IF NOT EXISTS manifest (key VARCHAR PRIMARY KEY, "
                                 "value VARCHAR)")
                self.con.execute("CREATE TABLE IF NOT EXISTS integrity (name VARCHAR, "
                                 "rows BIGINT, digest VARCHAR)")

    # -- opening -------------------------------------------------------------------------
    def error(self, message: str) -> AllianceLabError:
        return AllianceLabError(message, file=str(self.directory))

    def damaged(self, what: str) -> AllianceLabError:
        return self.error(f"the store is damaged: {what}; run again with --overwrite (or "
                          "into a new --store), or restore a copy")

    def _check_files(self) -> None:
        """The store's files, where they exist, are regular files (a FIFO or a device
        would block or never end)."""
        if os.path.lexists(self.directory) and not self.directory.is_dir():
            raise self.error("exists and is not a folder")
        for name in (DB_NAME, WAL_NAME, DESIGN_NAME):
            path = self.directory / name
            if os.path.exists(path):
                check_regular(path, "store file")

    def _connect(self, db: Path, *, read_only: bool) -> duckdb.DuckDBPyConnection:
        import duckdb
        try:
            return duckdb.connect(str(db), read_only=read_only)
        except duckdb.Error as exc:
            msg = _first_line(exc)
            if _locked(msg):
                pid = re.search(r"PID (\d+)", msg)
                who = f" (pid {pid.group(1)})" if pid else ""
                raise self.error(f"the store is in use by another process{who}; wait for it "
                                 "to finish or choose another --store") from None
            raise self.damaged(f"cannot open {DB_NAME} ({msg})") from None

    def _open_reader(self) -> duckdb.DuckDBPyConnection:
        import duckdb
        db = self.directory / DB_NAME
        if not db.exists():
            raise self.error(f"no exploration in this directory (no {DB_NAME})")
        self._check_files()
        try:
            return duckdb.connect(str(db), read_only=True)
        except duckdb.Error as exc:
            msg = _first_line(exc)
            if "different configuration" in msg:  # this process has it open for writing
                return self._connect(db, read_only=False)
            if not _locked(msg):
                raise self.damaged(f"cannot open {DB_NAME} ({msg})") from None
        return self._open_copy()

    def _open_copy(self) -> duckdb.DuckDBPyConnection:
        """A verified private copy of a store another process holds open for writing."""
        import duckdb
        tmp = Path(tempfile.mkdtemp(prefix="alliancelab-store-copy-"))
        self.snapshot = tmp
        why = ""
        for attempt in range(SNAPSHOT_TRIES):
            try:
                for name in (DB_NAME, WAL_NAME):
                    (tmp / name).unlink(missing_ok=True)
                    if (self.directory / name).exists():
                        shutil.copyfile(self.directory / name, tmp / name)
                self.con = duckdb.connect(str(tmp / DB_NAME), read_only=True)
            except (duckdb.Error, OSError) as exc:
                why = _first_line(exc)
            else:
                try:
                    self.verify_results()
                    return self.con
                except AllianceLabError as exc:
                    why = exc.message
                self.con.close()
            time.sleep(0.05 * 2 ** attempt)
        self._drop_snapshot()
        raise self.error("the store is being written by another process and no consistent "
                         f"copy could be read ({why}); try again")

    def _drop_snapshot(self) -> None:
        if self.snapshot is not None:
            shutil.rmtree(self.snapshot, ignore_errors=True)
            self.snapshot = None

    @contextlib.contextmanager
    def _guard(self, output: str | None = None) -> Iterator[None]:
        """DuckDB's and the OS's failures as the one-line error (naming ``output`` when
        that is the file being written, else the store)."""
        import duckdb
        try:
            yield
        except duckdb.Error as exc:
            msg = _first_line(exc)
            for words, why in _OS_FAILURES:
                if words in msg:
                    raise self._cannot_write(why, output) from None
            raise self.damaged(f"{DB_NAME} cannot be read ({msg})") from None
        except OSError as exc:
            raise self._cannot_write(os_reason(exc), output) from None

    def _cannot_write(self, why: str, output: str | None) -> AllianceLabError:
        if output is not None:
            return AllianceLabError(f"cannot write: {why}", file=output)
        return self.error(f"cannot write the store: {why}")

    # -- manifest ------------------------------------------------------------------------
    def manifest(self) -> dict[str, Any] | None:
        with self._guard():
            tables = {r[0] for r in self.con.execute("SHOW TABLES").fetchall()}
            if "manifest" not in tables:
                return None
            rows = self.con.execute("SELECT key, value FROM manifest").fetchall()
        if not rows:
            return None
        try:
            return {k: json.loads(v) for k, v in rows}
        except ValueError:
            raise self.damaged("its manifest is not JSON") from None

    def create(self, manifest: dict[str, Any], outcome_names: Sequence[str],
               design_sha256: str | None = None) -> None:
        """Create the results table (and its checksum) and record the manifest (with the
        design's SHA-256), in one transaction."""
        if design_sha256 is not None:
            manifest = {**manifest, "design_sha256": design_sha256}
        outcomes = ", ".join(f"{_q(c)} DOUBLE" for c in outcome_names)
        with self._guard():
            self.con.execute("BEGIN TRANSACTION")
            try:
                self.con.execute("DROP TABLE IF EXISTS results")
                self.con.execute(
                    "CREATE TABLE results (experiment_id BIGINT PRIMARY KEY, scenario BIGINT, "
                    "policy VARCHAR, ok BOOLEAN, error VARCHAR"
                    + (", " + outcomes if outcomes else "") + ")"
                )
                self.con.execute("DELETE FROM integrity")
                self.con.execute("INSERT INTO integrity VALUES ('results', 0, ?)",
                                 [Checksum().text])
                self.con.execute("DELETE FROM manifest")
                self.con.executemany(
                    "INSERT INTO manifest VALUES (?, ?)",
                    [(k, json.dumps(v, sort_keys=True)) for k, v in manifest.items()],
                )
                self.con.execute("COMMIT")
            except BaseException:
                self.con.execute("ROLLBACK")
                raise
            self._checksum = Checksum()
            atomic_write_text(self.directory / MANIFEST_NAME,
                              json.dumps(manifest, indent=2, sort_keys=True) + "\n")

    @property
    def design_path(self) -> Path:
        return self.directory / DESIGN_NAME

    def design(self) -> np.ndarray:
        """The scenarios, memory-mapped."""
        return np.load(self.design_path, mmap_mode="r")

    @contextlib.contextmanager
    def writing_design(self, expected: str | None = None) -> Iterator[list[str]]:
        """Around the writing of ``design.npy`` (``samplers.write_design``): on success
        yields (in the list) the new file's SHA-256, which must equal ``expected`` when given
        (a design rewritten for a resumed store must be the one its results were run on); on
        any failure - a full disk included - its partial ``.part`` file is removed and an OS
        error becomes the one-line error."""
        part = self.design_path.with_name(DESIGN_NAME + ".part")
        out: list[str] = []
        try:
            yield out
        except BaseException as exc:
            part.unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise self.error(f"cannot write {DESIGN_NAME}: {os_reason(exc)}") from None
            raise
        sha = file_sha256(self.design_path)
        if expected is not None and sha != expected:
            raise self.damaged(f"{DESIGN_NAME} was missing and cannot be rebuilt as it was")
        out.append(sha)

    # -- integrity -----------------------------------------------------------------------
    def stored_checksum(self) -> Checksum | None:
        """The results' checksum as recorded (None for a store written before checksums)."""
        with self._guard():
            tables = {r[0] for r in self.con.execute("SHOW TABLES").fetchall()}
            if "integrity" not in tables or "results" not in tables:
                return None
            row = self.con.execute(
                "SELECT rows, digest FROM integrity WHERE name = 'results'").fetchall()
        if not row:
            return None
        try:
            return Checksum.parse(row[0][0], row[0][1])
        except (TypeError, ValueError):
            raise self.damaged("its results' checksum is unreadable") from None

    def checksum(self) -> Checksum:
        """The checksum of the results as they are now (read in chunks)."""
        names = self.outcome_names()
        total = Checksum()
        with self._guard():
            cur = self.con.execute("SELECT * FROM results")
            while True:
                chunk = cur.fetch_df_chunk(VERIFY_VECTORS)
                if chunk.empty:
                    break
                total = total.add(row_digests(chunk, names))
        return total

    def verify_results(self) -> None:
        """The results match their recorded checksum (a store without one - written before
        checksums - is accepted as it is)."""
        stored = self.stored_checksum()
        if stored is None:
            return
        now = self.checksum()
        if now != stored:
            raise self.damaged(f"its results do not match their checksum ({now.rows} rows "
                               f"read, {stored.rows} recorded)")
        self._checksum = now

    def verify_design(self, manifest: dict[str, Any] | None = None) -> None:
        """``design.npy`` exists, is a regular file and matches the manifest's SHA-256."""
        manifest = manifest if manifest is not None else self.manifest()
        path = self.design_path
        if not path.exists():
            raise self.damaged(f"{DESIGN_NAME} is missing")
        check_regular(path, "store file")
        expected = (manifest or {}).get("design_sha256")
        if expected is not None and file_sha256(path) != expected:
            raise self.damaged(f"{DESIGN_NAME} does not match its SHA-256 in the manifest")

    def verify(self) -> None:
        """The design and the results match their checksums (one line and exit 2 if not)."""
        self.verify_design()
        self.verify_results()

    def reseal(self) -> Checksum:
        """Record the checksum of the results as they are now - after a deliberate edit of
        the results table (e.g. rows deleted so that a rerun computes them again)."""
        now = self.checksum()
        with self._guard():
            self.con.execute("DELETE FROM integrity")
            self.con.execute("INSERT INTO integrity VALUES ('results', ?, ?)",
                             [now.rows, now.text])
        self._checksum = now
        return now

    # -- results -------------------------------------------------------------------------
    def outcome_names(self) -> list[str]:
        with self._guard():
            cols = [r[0] for r in self.con.execute("DESCRIBE results").fetchall()]
        return [c for c in cols if c not in FIXED_COLUMNS]

    def done_ids(self) -> np.ndarray:
        """Ids of the experiments already stored (ok or failed), sorted."""
        with self._guard():
            got = self.con.execute("SELECT experiment_id FROM results ORDER BY experiment_id")
            arr = got.fetchnumpy()["experiment_id"]
        return np.asarray(arr, dtype=np.int64)

    def count(self) -> tuple[int, int]:
        """(stored experiments, failed experiments)."""
        with self._guard():
            row = self.con.execute(
                "SELECT count(*), count(*) FILTER (WHERE NOT ok) FROM results").fetchall()[0]
        return int(row[0]), int(row[1])

    def write(self, ids: np.ndarray, scenario: np.ndarray, policy: Sequence[str],
              ok: np.ndarray, error: Sequence[str | None], outcomes: np.ndarray,
              outcome_names: Sequence[str]) -> None:
        """Append one batch, and its rows' digests to the checksum, in one transaction;
        ids already stored are skipped."""
        import duckdb
        columns: dict[str, Any] = {
            "experiment_id": np.asarray(ids, dtype=np.int64),
            "scenario": np.asarray(scenario, dtype=np.int64),
            "policy": pd.array(list(policy), dtype=object),
            "ok": np.asarray(ok, dtype=bool),
            "error": pd.array(list(error), dtype=object),
        }
        columns.update((name, outcomes[:, j]) for j, name in enumerate(outcome_names))
        frame = pd.DataFrame(columns, copy=False)
        if frame.empty:
            return
        with self._guard():
            if self._checksum is None:
                self._checksum = self.stored_checksum()
            self.con.execute("BEGIN TRANSACTION")
            try:
                frame = self._new_rows(frame)
                total = None
                if self._checksum is not None:
                    total = self._checksum.add(row_digests(frame, outcome_names))
                    self.con.execute("UPDATE integrity SET rows = ?, digest = ? "
                                     "WHERE name = 'results'", [total.rows, total.text])
                self.con.register("_batch", frame)
                try:
                    self.con.execute("INSERT INTO results SELECT * FROM _batch")
                finally:
                    self.con.unregister("_batch")
                self.con.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(duckdb.Error):
                    self.con.execute("ROLLBACK")
                raise
            if total is not None:
                self._checksum = total

    def _new_rows(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` without the experiments already stored."""
        ids = frame["experiment_id"].to_numpy()
        got = self.con.execute(
            "SELECT experiment_id FROM results WHERE experiment_id BETWEEN ? AND ?",
            [int(ids.min()), int(ids.max())]).fetchnumpy()["experiment_id"]
        if len(got) == 0:
            return frame
        return frame[~np.isin(ids, np.asarray(got))].reset_index(drop=True)

    def results(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The results table ordered by experiment id."""
        cols = "*" if columns is None else ", ".join(_q(c) for c in columns)
        with self._guard():
            return self.con.execute(f"SELECT {cols} FROM results ORDER BY experiment_id").df()

    def summary(self, outcome_names: Sequence[str]) -> pd.DataFrame:
        """5%, 50% and 95% quantiles of each outcome per policy, over ok experiments
        (computed inside DuckDB, so memory does not grow with the number of experiments)."""
        parts = []
        for name in outcome_names:
            parts.append(
                f"SELECT policy, '{name.replace(chr(39), chr(39) * 2)}' AS outcome, "
                f"quantile_cont({_q(name)}, 0.05) AS q05, "
                f"quantile_cont({_q(name)}, 0.5) AS q50, "
                f"quantile_cont({_q(name)}, 0.95) AS q95 FROM results WHERE ok GROUP BY policy")
        if not parts:
            return pd.DataFrame(columns=["policy", "outcome", "q05", "q50", "q95"])
        with self._guard():
            return self.con.execute(" UNION ALL ".join(parts)).df()

    def export_parquet(self, path: str | Path, parameters: Sequence[dict[str, Any]] = (),
                       design: Path | None = None) -> Path:
        """Write one Parquet file with a row per stored experiment, in id order: the
        inputs - the scenario's value of every uncertainty in ``parameters`` (the
        manifest's list; shocks as booleans) read from ``design`` - then the results
        (experiment_id, scenario, policy, ok, error, one column per outcome). Written to
        ``PATH.part`` and renamed; on any failure (a full disk) the partial file is
        removed and the error is one line."""
        path = Path(path)
        tmp = path.with_name(path.name + ".part")
        try:
            with self._guard(str(path)):
                select = "SELECT * FROM results ORDER BY experiment_id"
                if parameters and design is not None:
                    select = self._with_inputs(parameters, design)
                target = str(tmp).replace("'", "''")
                self.con.execute(f"COPY ({select}) TO '{target}' (FORMAT PARQUET)")
                os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return path

    def _with_inputs(self, parameters: Sequence[dict[str, Any]], design: Path) -> str:
        """Load the design into a temporary table ``_design`` (in chunks) and return the
        SELECT joining it to the results."""
        reader = DesignReader(design)
        names = [str(p["name"]) for p in parameters]
        clash = sorted(set(names) & {*FIXED_COLUMNS, *self.outcome_names()})
        if clash:
            raise self.error(f"an uncertainty is named like a result column: {clash[0]}")
        cols = ", ".join(f"{_q(n)} DOUBLE" for n in names)
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE _design (scenario BIGINT, {cols})")
        step = max(1, 2_000_000 // max(1, len(names)))
        for start in range(0, reader.shape[0], step):
            stop = min(reader.shape[0], start + step)
            block = pd.DataFrame(reader.rows(start, stop), columns=names)
            block.insert(0, "scenario", np.arange(start, stop, dtype=np.int64))
            self.con.register("_block", block)
            try:
                self.con.execute("INSERT INTO _design SELECT * FROM _block")
            finally:
                self.con.unregister("_block")
        inputs = ", ".join(
            f"(d.{_q(n)} >= 0.5) AS {_q(n)}" if p.get("boolean") else f"d.{_q(n)}"
            for n, p in zip(names, parameters, strict=True))
        return (f"SELECT {inputs}, r.* FROM results r LEFT JOIN _design d "
                "USING (scenario) ORDER BY r.experiment_id")

    def close(self) -> None:
        import duckdb
        with contextlib.suppress(duckdb.Error):
            self.con.close()
        self._drop_snapshot()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
