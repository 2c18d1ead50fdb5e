"""An exploration store that is damaged is refused in one line, never analysed; a store that
is being written can be read by another process; the Parquet export carries the inputs.

Issue 13, item 7 (silent corruption) and the store half of item 8; issue 14, "a running
explore store readable from another process" and "Parquet with inputs and outcomes". The
damage is real damage to real files (bytes flipped, a file truncated or removed); the
commands run as real processes (``python -m alliancelab``), the reader and the writer as two
processes at the same time.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from cli_process import cli, one_line_error

from alliancelab.core.errors import AllianceLabError
from alliancelab.explore import Exploration, explore
from alliancelab.explore.store import DB_NAME, DESIGN_NAME, Store, file_sha256
from alliancelab.formats import read_case

DATA = Path(__file__).parent / "data"
CASE = DATA / "explore_case.yaml"
#: the command that made the ``made`` store (a rerun of it resumes the store)
ARGS = ["--n", "300", "--sampler", "lhs", "--lever", "sustained_presence",
        "--shock", "china_retaliation", "--models", "compromise", "--seed", "7"]


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished store of 600 experiments (300 scenarios x 2 policies), made by the CLI."""
    store = tmp_path_factory.mktemp("made") / "store"
    proc = cli("explore", str(CASE), *ARGS, "--store", str(store))
    assert proc.returncode == 0, proc.stderr
    return store


@pytest.fixture
def store(made: Path, tmp_path: Path) -> Path:
    """A private copy of ``made`` to damage."""
    copy = tmp_path / "store"
    shutil.copytree(made, copy)
    return copy


def flip(path: Path, offset: int, bit: int = 0) -> None:
    with open(path, "r+b") as fh:
        fh.seek(offset)
        byte = fh.read(1)[0]
        fh.seek(offset)
        fh.write(bytes([byte ^ (1 << bit)]))


def test_the_manifest_records_the_designs_sha256(made: Path) -> None:
    ex = Exploration(made)
    assert ex.manifest["design_sha256"] == file_sha256(made / DESIGN_NAME)
    with Store(made, read_only=True) as st:
        assert st.stored_checksum() == st.checksum()
        assert st.stored_checksum().rows == ex.n_stored == 600  # type: ignore[union-attr]


def test_a_flipped_byte_in_the_design_is_refused_by_report_and_resume(store: Path) -> None:
    design = store / DESIGN_NAME
    flip(design, os.path.getsize(design) - 3)  # inside the last column's values
    one_line_error(cli("report", str(store)), "design.npy does not match its SHA-256")
    one_line_error(cli("explore", str(CASE), *ARGS, "--store", str(store)),
                   "design.npy does not match")
    with pytest.raises(AllianceLabError, match="the store is damaged"):
        Exploration(store)
    assert not (store / "report.html").exists()


def test_a_missing_design_is_refused_by_report_and_rebuilt_exactly_on_resume(
        store: Path) -> None:
    design = store / DESIGN_NAME
    before = file_sha256(design)
    design.unlink()
    one_line_error(cli("report", str(store)), "design.npy is missing")
    rerun = cli("explore", str(CASE), *ARGS, "--store", str(store))
    assert rerun.returncode == 0, rerun.stderr
    assert file_sha256(design) == before  # rebuilt from the seed, checked against the record


def test_a_half_truncated_database_is_refused(store: Path) -> None:
    db = store / DB_NAME
    with open(db, "r+b") as fh:
        fh.truncate(os.path.getsize(db) // 2)
    one_line_error(cli("report", str(store)), "the store is damaged")
    one_line_error(cli("explore", str(CASE), *ARGS, "--store", str(store)),
                   "the store is damaged")


def test_flipped_bytes_in_the_database_never_give_a_wrong_answer(made: Path,
                                                                  tmp_path: Path) -> None:
    """60 single-bit flips spread over the DuckDB file: each is refused in one line or
    changes nothing that is read back. (Each copy has its own path: DuckDB keeps a database
    that failed fatally invalidated, by path, for the rest of the process.)"""
    truth = Exploration(made).results()
    size = os.path.getsize(made / DB_NAME)
    rng = random.Random(13)
    outcome = {"refused": 0, "unchanged": 0}
    for k in range(60):
        copy = tmp_path / f"flipped{k}"
        shutil.copytree(made, copy)
        flip(copy / DB_NAME, rng.randrange(size), rng.randrange(8))
        try:
            got = Exploration(copy).results()
        except AllianceLabError as exc:
            assert "\n" not in str(exc)
            outcome["refused"] += 1
        else:
            pd.testing.assert_frame_equal(got, truth)
            outcome["unchanged"] += 1
    assert outcome["refused"] > 0, outcome


def test_a_value_changed_behind_duckdbs_back_is_caught_by_the_checksum(store: Path) -> None:
    """An outcome altered inside the file (as a flip DuckDB does not notice would) is
    refused; after a deliberate edit, :meth:`Store.reseal` records the new checksum."""
    con = duckdb.connect(str(store / DB_NAME))
    con.execute('UPDATE results SET "compromise.troops" = "compromise.troops" + 1e-9 '
                "WHERE experiment_id = 17")
    con.close()
    one_line_error(cli("report", str(store)), "results do not match their checksum")
    with Store(store) as st:
        st.reseal()
    assert Exploration(store).n_stored == 600


def test_a_fifo_or_a_device_as_a_store_file_is_refused(store: Path) -> None:
    (store / DESIGN_NAME).unlink()
    os.mkfifo(store / DESIGN_NAME)
    one_line_error(cli("report", str(store), timeout=60), "is a FIFO (named pipe)")
    one_line_error(cli("explore", str(CASE), *ARGS, "--store", str(store), timeout=60),
                   "is a FIFO (named pipe)")
    (store / DB_NAME).unlink()
    os.symlink("/dev/zero", store / DB_NAME)
    one_line_error(cli("report", str(store), timeout=60), "is a device")


def test_parquet_export_has_inputs_and_outcomes(made: Path, tmp_path: Path) -> None:
    ex = Exploration(made)
    path = ex.export_parquet(tmp_path / "x.parquet")
    got = pd.read_parquet(path)
    experiments, outcomes = ex.to_ema()
    assert list(got.columns) == [*ex.parameters, "experiment_id", "scenario", "policy", "ok",
                                 "error", *ex.outcomes]
    assert len(got) == ex.n_stored
    for name in ex.parameters:  # the inputs are each experiment's scenario's values
        assert got[name].tolist() == experiments[name].tolist(), name
    assert got["shock.china_retaliation"].dtype == bool
    for name in ex.outcomes:
        np.testing.assert_array_equal(got[name].to_numpy(), outcomes[name])
    assert not list(tmp_path.glob("*.part"))


def _progress_line(proc: subprocess.Popen[str], deadline: float) -> None:
    assert proc.stderr is not None
    for line in proc.stderr:
        if line.startswith("explore: ") and not line.startswith("explore: 0/"):
            return
        assert time.monotonic() < deadline, "no progress"
    raise AssertionError("the writer ended before storing anything")


@pytest.mark.slow
def test_a_store_being_written_is_read_by_another_process(tmp_path: Path) -> None:
    """``alliancelab report STORE`` while ``alliancelab explore`` writes STORE: DuckDB's lock
    keeps a second process out of the file, so the reader works on a verified copy; a second
    writer is refused in one line. Then the writer is killed with SIGKILL and the store
    still opens verified."""
    store = tmp_path / "live"
    # 60,000 experiments: the writer must still be writing (and holding DuckDB's lock) when
    # the reader and the second writer come, however fast the engines get
    writer = subprocess.Popen(
        [sys.executable, "-m", "alliancelab", "explore", str(CASE), "--n", "30000",
         "--lever", "sustained_presence", "--models", "compromise,bdm-scholz", "--seed", "3",
         "--batch-size", "40", "--store", str(store)],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        _progress_line(writer, time.monotonic() + 120)
        with pytest.raises(duckdb.IOException, match="lock"):  # what a plain reader meets
            duckdb.connect(str(store / DB_NAME), read_only=True)
        out, private_tmp = tmp_path / "live.html", tmp_path / "tmp"
        private_tmp.mkdir()
        reader = cli("report", str(store), "--out", str(out), timeout=300,
                     env={"TMPDIR": str(private_tmp)})
        assert reader.returncode == 0, reader.stderr
        assert writer.poll() is None, "the writer must still be running"
        page = out.read_text(encoding="utf-8")
        assert "of 60,000 experiments stored" in page
        assert not list(private_tmp.iterdir())  # the reader's copy is gone
        second = cli("explore", str(CASE), "--n", "30000", "--store", str(store), timeout=300)
        one_line_error(second, "the store is in use by another process (pid ")
        assert writer.poll() is None, "the writer must still be running"
    finally:
        if writer.poll() is None:
            os.kill(writer.pid, signal.SIGKILL)
        writer.wait(timeout=30)
    assert writer.returncode == -signal.SIGKILL
    ex = Exploration(store)  # consistent after the kill: checksum and results agree
    assert 0 < ex.n_stored < 60000


def test_explore_api_resumes_and_checks(tmp_path: Path) -> None:
    """The Python API: a resumed store is verified and completed; the checksum covers
    every row, once."""
    case = read_case(CASE)
    st_dir = tmp_path / "api"
    explore(case, n=40, models=("compromise",), seed=1, store=st_dir)
    with Store(st_dir) as st:
        st.con.execute("DELETE FROM results WHERE experiment_id >= 25")
        st.reseal()
    ex = explore(case, n=40, models=("compromise",), seed=1, store=st_dir)
    assert ex.n_stored == 40 and ex.run_stats["experiments"] == 15
    with Store(st_dir, read_only=True) as st:
        assert st.stored_checksum() == st.checksum()
