"""Outputs never lose a user's files, are checked before the work, fail in one line, leave
nothing behind; inputs are regular files only.

Issue 13, items 1 (data loss), 5 (special files), 8 (output paths and OS errors) and 9
(leftovers). Everything runs for real: the CLI as a process (``python -m alliancelab``), a
writer killed with SIGKILL, a full and a read-only file system (a small tmpfs mounted in a
private mount namespace with ``unshare``, so nothing outside the test sees it), a FIFO,
``/dev/zero`` and a Unix socket.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_process import one_line_error

from alliancelab.cli import main
from alliancelab.report.outputs import foreign_entries, remove_stale

DATA = Path(__file__).parent / "data"
MINI = DATA / "mini_alliance.yaml"
TWO = DATA / "two_issues.yaml"
EXPLORE_CASE = DATA / "explore_case.yaml"
#: the cheapest complete run: every file of the output is written
FAST = ["--draws", "3", "--effect-draws", "0", "--models", "compromise", "--workers", "1",
        "--explore-n", "0", "--alliance-draws", "0", "--seed", "1"]
PY = shlex.quote(sys.executable)


def run_into(out: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["run", str(MINI), "--out", str(out), *FAST])
    return code, capsys.readouterr().err


def tree(path: Path) -> dict[str, str]:
    """Every file under ``path`` with its SHA-256 (to show nothing changed)."""
    return {str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(path.rglob("*")) if p.is_file()}


# --------------------------------------------------------------------------- item 1
def test_an_earlier_output_with_the_users_files_is_refused_and_kept(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert run_into(out, capsys)[0] == 0
    (out / "notes.md").write_text("my reading of the forecast")
    (out / "figures").mkdir()
    (out / "figures" / "fig1.png").write_bytes(b"\x89PNG...")
    before = tree(out)
    code, err = run_into(out, capsys)
    assert code == 2 and err.count("\n") == 1
    assert "figures/" in err and "notes.md" in err and "--out" in err
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no hidden leftovers


def test_an_edited_result_is_refused_and_kept(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert run_into(out, capsys)[0] == 0
    with open(out / "forecasts.csv", "a") as fh:
        fh.write("# checked by hand\n")
    before = tree(out)
    code, err = run_into(out, capsys)
    assert code == 2 and "forecasts.csv" in err
    assert tree(out) == before


def test_a_manifest_alone_is_no_proof(tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    """A folder holding any JSON ``{"tool": "alliancelab run"}`` - even one listing the
    user's file with its true SHA-256 - is not alliancelab's output."""
    out = tmp_path / "thesis"
    out.mkdir()
    (out / "thesis.tex").write_text("chapter 1")
    (out / "manifest.json").write_text(json.dumps({"tool": "alliancelab run"}))
    before = tree(out)
    code, err = run_into(out, capsys)
    assert code == 2 and "thesis.tex" in err and tree(out) == before
    sha = hashlib.sha256(b"chapter 1").hexdigest()
    (out / "manifest.json").write_text(json.dumps(
        {"tool": "alliancelab run", "files": {"thesis.tex": {"sha256": sha}}}))
    before = tree(out)
    code, err = run_into(out, capsys)
    assert code == 2 and "thesis.tex" in err and tree(out) == before
    assert foreign_entries(out) == ["thesis.tex"]


def test_its_own_complete_output_is_replaced(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert run_into(out, capsys)[0] == 0
    assert foreign_entries(out) == []
    (out / "interactions.csv").unlink()  # a missing file of ours is no obstacle
    assert run_into(out, capsys)[0] == 0
    assert (out / "interactions.csv").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


# --------------------------------------------------------------------------- item 9
def test_a_symlink_out_is_written_through_and_left_a_link(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real)
    for _ in range(2):  # new, then replacing its own output
        assert main(["run", str(MINI), "--out", str(link), *FAST]) == 0
    capsys.readouterr()
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert (real / "report.html").is_file() and foreign_entries(real) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "real"]  # no .link.*.old


_KILLED_WRITER = """
import os, sys, time
from pathlib import Path
from alliancelab.report.outputs import write_directory
real_fsync = os.fsync
def stall(fd):
    real_fsync(fd)
    print("writing", flush=True)
    time.sleep(600)  # the test kills us here, mid-write
os.fsync = stall
write_directory(Path(sys.argv[1]), {"forecasts.csv": b"a,b\\n", "results.json": b"{}"})
"""


def test_a_writer_killed_mid_write_leaves_a_workdir_the_next_run_removes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    writer = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(out)],
                              stdout=subprocess.PIPE, text=True)
    assert writer.stdout is not None and writer.stdout.readline() == "writing\n"
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait(timeout=30)
    stale = [p.name for p in tmp_path.iterdir()]
    assert len(stale) == 1 and stale[0].startswith(f".out.{writer.pid}.") and \
        stale[0].endswith(".tmp")
    # a workdir of a live process is not touched, nor one holding a file that is not ours
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        time.sleep(0.05)
        live = tmp_path / f".out.{sleeper.pid}.abcd1234.tmp"
        live.mkdir()
        (live / "forecasts.csv").write_text("x")
        odd = tmp_path / f".out.{writer.pid}.zzzz9999.tmp"
        odd.mkdir()
        (odd / "notes.md").write_text("mine")
        assert run_into(out, capsys)[0] == 0
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["out", live.name, odd.name])
    finally:
        sleeper.kill()
        sleeper.wait()
    assert remove_stale(out) == [live]  # its process is gone now


# --------------------------------------------------------------------------- item 8
def test_output_paths_are_checked_before_any_work(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x")
    store = tmp_path / "store"
    explore = ["explore", str(EXPLORE_CASE), "--n", "5", "--models", "compromise",
               "--store", str(store)]
    cases = [
        (["run", str(MINI), *FAST, "--out", str(afile / "o")], "--out"),
        (["run", str(MINI), *FAST, "--out", str(afile)], "--out"),
        (["explore", str(EXPLORE_CASE), "--n", "5", "--store", str(afile / "s")], "--store"),
        ([*explore, "--parquet", str(afile / "x.parquet")], "--parquet"),
        ([*explore, "--report", str(afile / "r.html")], "--report"),
        ([*explore, "--ema", str(afile)], "--ema"),
        ([*explore, "--report", str(tmp_path)], "--report"),
    ]
    for args, option in cases:
        assert main(args) == 2, args
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and option in err, (args, err)
        assert not store.exists(), args  # refused before the sweep started
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


@pytest.fixture
def ex_store(tmp_path: Path) -> Path:
    store = tmp_path / "ex"
    assert main(["explore", str(EXPLORE_CASE), "--n", "8", "--models", "compromise",
                 "--seed", "1", "--store", str(store)]) == 0
    return store


def test_report_checks_its_out_before_reading(ex_store: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    afile = tmp_path / "afile"
    afile.write_text("x")
    for out in (afile / "r.html", tmp_path):
        assert main(["report", str(ex_store), "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "--out" in err


def _unshare_ok() -> bool:
    if shutil.which("unshare") is None or shutil.which("mount") is None:
        return False
    probe = subprocess.run(["unshare", "-rm", "sh", "-c",
                            "d=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs $d"],
                           capture_output=True, check=False, timeout=30)
    return probe.returncode == 0


needs_tmpfs = pytest.mark.skipif(not _unshare_ok(), reason="needs unshare -rm and a tmpfs "
                                 "mount (a private mount namespace)")


def on_tmpfs(mnt: Path, size: str, commands: list[str], *, read_only: bool = False,
             prepare: str = "") -> list[tuple[int, str, list[str]]]:
    """Run each CLI command (a shell-quoted argument string, ``$M`` the mount point) in a
    private mount namespace where ``mnt`` is a tmpfs of ``size`` (made read-only after
    ``prepare`` when asked); returns (exit code, stderr, every path left under ``mnt``, as
    ``./name``) per command."""
    mnt.mkdir()
    logs = mnt.parent / (mnt.name + "-logs")
    logs.mkdir()
    lines = [f"M={shlex.quote(str(mnt))}", f"mount -t tmpfs -o size={size} tmpfs \"$M\"",
             prepare]
    if read_only:
        lines.append('mount -o remount,ro "$M"')
    for k, cmd in enumerate(commands):
        err = shlex.quote(str(logs / f"{k}.err"))
        lines += [f"{PY} -m alliancelab {cmd} >/dev/null 2>{err}; echo $? > {err}.rc",
                  f"cd \"$M\" && find . -mindepth 1 | sort > {err}.ls; cd /"]
    subprocess.run(["unshare", "-rm", "sh", "-c", "\n".join(lines)], check=True,
                   timeout=600, capture_output=True)
    out = []
    for k in range(len(commands)):
        err = logs / f"{k}.err"
        out.append((int(Path(f"{err}.rc").read_text()), err.read_text(),
                    Path(f"{err}.ls").read_text().split()))
    return out


@needs_tmpfs
def test_a_read_only_file_system_is_refused_before_the_work(tmp_path: Path) -> None:
    """As root ``os.access`` says yes to everything; a read-only mount says no to root too."""
    mnt = tmp_path / "ro"
    results = on_tmpfs(mnt, "1m", [
        f"run {MINI} {' '.join(FAST)} --out $M/out",
        f"explore {EXPLORE_CASE} --n 5 --models compromise --store $M/store",
        f"convert {TWO} --to yaml -o $M/x.yaml",
        "hindcast --out $M/h",
    ], read_only=True)
    for code, err, left in results:
        assert code == 2 and "Traceback" not in err and err.count("\n") == 1, err
        assert "read-only file system" in err, err
        assert left == []


@needs_tmpfs
def test_a_full_disk_is_one_line_and_leaves_nothing(tmp_path: Path) -> None:
    """ENOSPC for real: the run's 5 MB of files on a 1 MB tmpfs; an exploration's design
    and database; a Parquet export (the store elsewhere) - no partial file is left."""
    store = tmp_path / "store"
    assert main(["explore", str(EXPLORE_CASE), "--n", "3000", "--models", "compromise",
                 "--seed", "2", "--store", str(store)]) == 0
    mnt = tmp_path / "full"
    results = on_tmpfs(mnt, "256k", [
        f"run {MINI} {' '.join(FAST)} --out $M/out",
        f"explore {EXPLORE_CASE} --n 6000 --models compromise --store $M/store",
        f"explore {EXPLORE_CASE} --n 3000 --models compromise --seed 2 --store {store} "
        "--parquet $M/x.parquet",
    ], prepare='head -c 200000 /dev/zero > "$M/ballast"')
    (run_code, run_err, run_left), (ex_code, ex_err, ex_left), (pq_code, pq_err, pq_left) = \
        results
    for code, err in ((run_code, run_err), (ex_code, ex_err), (pq_code, pq_err)):
        # explore's progress lines come first on stderr; the error is its one last line
        assert code == 2 and "Traceback" not in err and err.count("alliancelab: error") == 1
        assert err.splitlines()[-1].startswith("alliancelab: error: "), err
        assert err.endswith("no space left on device\n"), err
    assert run_left == ["./ballast"]  # no partial output, no hidden working directory
    assert not [n for n in ex_left if n.endswith((".part", ".tmp"))], ex_left
    assert "./store/design.npy" not in ex_left
    assert pq_left == ex_left  # no x.parquet.part


# --------------------------------------------------------------------------- item 5
@pytest.mark.parametrize("command", [["forecast"], ["run", *FAST, "--out", "o"],
                                     ["convert", "--to", "yaml"]])
def test_special_files_as_a_case_are_refused(tmp_path: Path, command: list[str]) -> None:
    fifo = tmp_path / "case.yaml"
    os.mkfifo(fifo)
    sock_path = tmp_path / "case.sock"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(sock_path))
    try:
        for path, words in ((fifo, "is a FIFO (named pipe), not a case file"),
                            (Path("/dev/zero"), "is a device, not a case file"),
                            (sock_path, "is a socket, not a case file"),
                            (tmp_path, "is a directory, not a case file")):
            proc = subprocess.run(
                [sys.executable, "-m", "alliancelab", command[0], str(path), *command[1:]],
                capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path)
            one_line_error(proc, words)
    finally:
        sock.close()
    assert not (tmp_path / "o").exists()


def test_special_files_as_a_table_are_refused(tmp_path: Path) -> None:
    """The hindcast's ``--outcomes`` table and the backtest's DEU III file are read the same
    way as a case."""
    fifo = tmp_path / "outcomes.csv"
    os.mkfifo(fifo)
    for args in (["hindcast", "--outcomes", str(fifo), "--out", str(tmp_path / "h")],
                 ["backtest", "/dev/zero"]):
        proc = subprocess.run([sys.executable, "-m", "alliancelab", *args],
                              capture_output=True, text=True, timeout=60, check=False,
                              cwd=tmp_path)
        one_line_error(proc, "is a FIFO" if "hindcast" in args else "is a device")
