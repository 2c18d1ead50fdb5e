"""The command line's conventions (issues 14 and 15), each tested where it can break.

* start-up: the CLI's own modules and the command modules of backtest, convert, cases,
  hindcast and serve import no heavy library at module level;
* ``-q``/``-v`` set the ``alliancelab`` logger; progress is plain log lines when piped;
* help text: no Sphinx markup, every option's default shown;
* ``backtest`` writes nothing unless asked; ``convert`` names what the target format drops
  (``--strict``: exit 2); ``--json``/``--csv`` on backtest, hindcast and cases;
* an output mistake (a folder where a file goes, a parent that is a file, a read-only place, a
  full disk, a full stdout) is one line on stderr and exit code 2, never a traceback;
* the licensing files agree with each other and with the data's SOURCE.md files.

Exit codes are checked on real subprocesses (``python -m alliancelab``).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from cli_process import cli, one_line_error
from shared_data import DATA as SHARED_DATA

from alliancelab.cli import COMMANDS, _logging, build_parser, main
from alliancelab.cli._help import HelpFormatter, first_paragraph, plain

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"
TWO = DATA / "two_issues.yaml"
MINE = ("backtest", "convert", "cases", "hindcast", "serve")
HEAVY = ("pandas", "numpy", "scipy", "numba", "plotly", "duckdb", "rich", "yaml", "jinja2",
         "pydantic", "SALib", "uvicorn", "fastapi")


def deu_file() -> Path:
    path = SHARED_DATA / "deu3" / "deu3.csv"
    if not path.is_file():
        pytest.skip(f"DEU III data not found at {path}")
    return path


# --------------------------------------------------------------------------- start-up
_PROBE = """
import sys
import alliancelab  # the package's __init__ is paid by every import below it
before = set(sys.modules)
import importlib
import alliancelab.cli
for name in sys.argv[1:]:
    importlib.import_module(name)
new = sorted(m for m in set(sys.modules) - before)
print("\\n".join(new))
"""


def _new_modules(*names: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", _PROBE, *names], capture_output=True,
                         text=True, check=True, timeout=60).stdout.split()
    return out


def _heavy(modules: list[str]) -> list[str]:
    return [m for m in modules if m.split(".")[0] in HEAVY
            or m.startswith(("alliancelab.jobs", "alliancelab.report", "alliancelab.models",
                             "alliancelab.explore", "alliancelab.web", "alliancelab.analysis"))]


def test_my_command_modules_import_nothing_heavy() -> None:
    """backtest, convert, cases, hindcast and serve import only argparse and the CLI's light
    helpers at module level; their handlers import the rest."""
    new = _new_modules(*(f"alliancelab.cli.{m}" for m in MINE))
    assert not _heavy(new), _heavy(new)


def test_building_the_parser_imports_nothing_heavy() -> None:
    probe = ("import sys\nfrom alliancelab.cli import build_parser\nbuild_parser()\n"
             "print('\\n'.join(sorted(sys.modules)))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True, timeout=60).stdout.split()
    assert not _heavy(loaded), _heavy(loaded)


def test_a_command_line_naming_a_command_builds_that_command_alone() -> None:
    """``alliancelab -q forecast ...`` imports and builds the forecast parser only; no
    command, or a word that is no command, builds them all (for help and the error)."""
    probe = ("import sys\nfrom alliancelab.cli import build_parser\n"
             "p = build_parser(['-q', 'forecast', 'x.csv', '--model', 'smp'])\n"
             "sub = next(a for a in p._actions if a.dest == 'command')\n"
             "print(' '.join(sub.choices))\n"
             "print(' '.join(m for m in sys.modules if m.startswith('alliancelab.cli.')))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, timeout=60).stdout.splitlines()
    assert out[0] == "forecast"
    assert "alliancelab.cli.forecast" in out[1].split()
    assert "alliancelab.cli.run" not in out[1].split()
    for argv in ([], ["--help"], ["frcast"]):
        sub = next(a for a in build_parser(argv)._actions if a.dest == "command")
        assert list(sub.choices) == list(COMMANDS), argv
    args = build_parser(["-v", "run", "us_rok_2025"]).parse_args(["-v", "run", "us_rok_2025"])
    assert (args.command, args.case, args.verbose) == ("run", "us_rok_2025", 1)


def test_import_alliancelab_is_lazy_and_keeps_its_public_names() -> None:
    """``import alliancelab`` loads no NumPy or pydantic (PEP 562 ``__getattr__``); every
    name of ``__all__`` is still there, in ``dir()``, and is the object it was."""
    probe = ("import sys, alliancelab\n"
             "print(' '.join(m for m in ('numpy', 'pydantic') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, timeout=60).stdout.split()
    assert out == []
    import alliancelab
    from alliancelab.api import forecast
    from alliancelab.core.case import Case
    from alliancelab.formats import read_case
    from alliancelab.models.bargaining import ENGINES, Problem

    assert set(alliancelab.__all__) <= set(dir(alliancelab))
    for name in alliancelab.__all__:
        assert getattr(alliancelab, name) is not None
    assert (alliancelab.forecast, alliancelab.Case, alliancelab.read_case,
            alliancelab.Problem) == (forecast, Case, read_case, Problem)
    assert alliancelab.MODELS == tuple(ENGINES)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        alliancelab.nope  # noqa: B018


def test_the_parsers_defaults_agree_with_their_sources() -> None:
    """cli/_defaults.py repeats names and defaults so that --help imports nothing heavy."""
    from alliancelab.cli import _defaults as d
    from alliancelab.core.rng import DEFAULT_SEED
    from alliancelab.explore import model as explore_model
    from alliancelab.explore.samplers import SAMPLERS
    from alliancelab.jobs import run as run_job
    from alliancelab.models.bargaining import ENGINES
    from alliancelab.scenarios.uncertainty import DISTRIBUTIONS

    assert d.ENGINES == tuple(ENGINES)
    assert d.DEFAULT_SEED == DEFAULT_SEED
    assert d.DISTRIBUTIONS == tuple(DISTRIBUTIONS)
    assert d.SAMPLERS == tuple(SAMPLERS)
    assert d.EXPLORE_MODELS == tuple(explore_model.MODELS)
    assert d.EXPLORE_DEFAULT_MODELS == tuple(explore_model.DEFAULT_MODELS)
    assert d.RUN_DEFAULT_MODELS == tuple(run_job.DEFAULT_MODELS)
    assert (d.DEFAULT_DRAWS, d.DEFAULT_ALLIANCE_DRAWS) == (run_job.DEFAULT_DRAWS,
                                                          run_job.DEFAULT_ALLIANCE_DRAWS)


def test_constants_repeated_for_the_parser_agree() -> None:
    from alliancelab.cli import backtest, convert, hindcast
    from alliancelab.formats import FORMATS
    from alliancelab.formats.deu import CAPABILITIES
    from alliancelab.jobs.hindcast import DEAD_BAND, REFERENCES
    from alliancelab.jobs.sma_series import WEIGHTS

    assert backtest.CAPABILITIES == CAPABILITIES
    assert convert.FORMATS == FORMATS
    assert (hindcast.DEAD_BAND, hindcast.REFERENCES) == (DEAD_BAND, REFERENCES)
    assert hindcast.WEIGHTS == tuple(WEIGHTS)


# --------------------------------------------------------------------------- -q / -v
@pytest.mark.parametrize(("flags", "level"), [
    ([], _logging.PROGRESS), (["-q"], logging.ERROR), (["-v"], logging.INFO),
    (["-vv"], logging.DEBUG), (["-vvv"], logging.DEBUG),
])
def test_verbosity_sets_the_alliancelab_logger(flags: list[str], level: int,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*flags, "cases", "--csv"]) == 0
    assert logging.getLogger("alliancelab").level == level
    capsys.readouterr()


def test_verbosity_also_after_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cases", "--csv", "-q"]) == 0
    assert logging.getLogger("alliancelab").level == logging.ERROR
    assert main(["-q", "cases", "--csv"]) == 0  # the sub-command's default leaves -q alone
    assert logging.getLogger("alliancelab").level == logging.ERROR
    capsys.readouterr()


def test_quiet_and_verbose_exclude_each_other() -> None:
    proc = cli("-q", "-v", "cases")
    assert proc.returncode == 2 and "not allowed with" in proc.stderr


def test_quiet_hides_warnings_verbose_shows_details(tmp_path: Path) -> None:
    out = tmp_path / "case.csv"
    assert cli("-q", "convert", str(TWO), "--to", "ktab", "-o", str(out)).stderr == ""
    deu = deu_file()
    plain_run = cli("backtest", str(deu), "--models", "median", "--csv", cwd=tmp_path)
    verbose = cli("-v", "backtest", str(deu), "--models", "median", "--csv", cwd=tmp_path)
    assert plain_run.returncode == verbose.returncode == 0
    assert "issue rows read" not in plain_run.stderr
    assert "alliancelab: backtest: 364 issue rows read" in verbose.stderr


def test_progress_is_plain_lines_when_piped(capsys: pytest.CaptureFixture[str]) -> None:
    _logging.configure(0)
    with _logging.Progress("work", "items", delay=0.0) as progress:
        for done in range(1, 4):
            progress(done, 3)
    err = capsys.readouterr().err
    assert err.splitlines()[0].startswith("alliancelab: work: 1/3 items (33%)")
    assert err.splitlines()[-1].startswith("alliancelab: work: 3/3 items (100%)")
    _logging.configure(-1)  # -q: no progress
    with _logging.Progress("work", delay=0.0) as progress:
        progress(1, 1)
    assert capsys.readouterr().err == ""


def test_progress_waits_a_second(capsys: pytest.CaptureFixture[str]) -> None:
    _logging.configure(0)
    with _logging.Progress("quick") as progress:
        progress(1, 1)
    with _logging.stage("a quick stage"):
        pass
    with _logging.stage("a slow stage", delay=0.01):
        import time

        time.sleep(0.3)
    err = capsys.readouterr().err
    assert "quick" not in err
    assert err == "alliancelab: a slow stage\n"


# --------------------------------------------------------------------------- help
def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("no sub-commands")


def test_plain_strips_sphinx_markup() -> None:
    assert plain("``alliancelab run CASE``: see :mod:`alliancelab.formats.deu`") == (
        "alliancelab run CASE: see alliancelab.formats.deu")
    assert plain(":func:`~alliancelab.api.forecast` and :py:class:`Case`") == "forecast and Case"
    assert plain(":ref:`the format <case-format>`, `x`") == "the format, x"
    assert first_paragraph("""``a``: b\n  c.\n\nmore""") == "a: b c."


def test_help_has_no_markup_and_shows_every_default() -> None:
    parser = build_parser()
    commands = _subparsers(parser)
    assert set(commands) >= {"forecast", "convert", "cases", "backtest", "hindcast", "run",
                             "explore", "report", "serve"}
    for name, sub in commands.items():
        text = sub.format_help()
        for mark in ("``", ":mod:", ":func:", ":class:", ":meth:"):
            assert mark not in text, (name, mark)
        formatter = HelpFormatter(prog=sub.prog)
        for action in sub._actions:
            if action.nargs == 0 or action.required or action.help == argparse.SUPPRESS:
                continue
            if not action.option_strings and action.nargs not in ("?", "*"):
                continue
            shown = formatter._format_action(action)
            assert "default" in shown.lower(), (name, action.option_strings, shown)
    assert "``" not in parser.format_help()


def test_help_subprocess_exit_0() -> None:
    proc = cli("backtest", "--help")
    assert proc.returncode == 0
    assert "(default: gdp)" in proc.stdout and "(default: not written)" in proc.stdout
    assert ":mod:" not in proc.stdout


# --------------------------------------------------------------------------- backtest
def test_backtest_writes_nothing_by_default(tmp_path: Path) -> None:
    proc = cli("backtest", str(deu_file()), "--models", "median", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert not list(tmp_path.iterdir())
    assert "not written" in proc.stdout


def test_backtest_errors_and_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    errors, out = tmp_path / "e" / "errors.csv", tmp_path / "out"
    assert main(["backtest", str(deu_file()), "--models", "median", "--errors", str(errors),
                 "--out", str(out)]) == 0
    capsys.readouterr()
    assert errors.is_file()
    assert sorted(p.name for p in out.iterdir()) == ["deu3-backtest-errors.csv",
                                                     "deu3-backtest-summary.csv"]
    assert errors.read_text() == (out / "deu3-backtest-errors.csv").read_text()


def test_backtest_json_and_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["backtest", str(deu_file()), "--models", "compromise,median"]
    assert main([*args, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [r["model"] for r in doc["summary"]] == ["compromise", "median"]
    assert doc["issues_scored"] == 353 and doc["files"] == []
    assert main([*args, "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 2 * 353 and {"model", "abs_error"} <= set(rows[0])


def test_backtest_out_named_like_a_file_is_refused(tmp_path: Path) -> None:
    one_line_error(cli("backtest", "missing.tsv", "--out", str(tmp_path / "e.csv")),
                   "--out", "use --errors")


# --------------------------------------------------------------------------- convert
def test_convert_to_ktab_says_what_is_dropped(tmp_path: Path) -> None:
    out = tmp_path / "case.csv"
    proc = cli("convert", str(TWO), "--to", "ktab", "-o", str(out))
    assert proc.returncode == 0 and out.is_file()
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("alliancelab: warning: ")
    for word in ("KTAB CSV cannot hold", "scales", "status quo", "sources",
                 "uncertainty ranges", "--strict"):
        assert word in proc.stderr
    shipped = cli("convert", "us_rok_2025", "--to", "ktab")
    for word in ("perceptions", "shocks", "levers", "dynamics", "sides"):
        assert word in shipped.stderr
    assert shipped.stdout.startswith('"us_rok_2025"')


def test_convert_strict_refuses(tmp_path: Path) -> None:
    out = tmp_path / "case.csv"
    one_line_error(cli("convert", str(TWO), "--to", "ktab", "-o", str(out), "--strict"),
                   "KTAB CSV cannot hold", "--strict")
    assert not out.exists()
    scholz = DATA / "ec_emissions.csv"
    one_line_error(cli("convert", str(scholz), "--to", "scholz", "--strict"), "name")


def test_convert_without_loss_is_silent(tmp_path: Path) -> None:
    for fmt, src in (("yaml", TWO), ("ktab", DATA / "ktab" / "dummyData_3Dim.csv")):
        proc = cli("convert", str(src), "--to", fmt, "--strict", "-o", str(tmp_path / "x"))
        assert proc.returncode == 0 and proc.stderr == "", proc.stderr


# --------------------------------------------------------------------------- cases, hindcast
def test_cases_json_and_csv() -> None:
    doc = json.loads(cli("cases", "--json").stdout)
    names = [c["name"] for c in doc["cases"]]
    assert "us_rok_2025" in names
    first = doc["cases"][names.index("us_rok_2025")]
    assert first["actors"] == 11 and first["date"]
    rows = list(csv.DictReader(io.StringIO(cli("cases", "--csv").stdout)))
    assert [r["name"] for r in rows] == names
    text = cli("cases").stdout
    assert all(len(line) <= 80 for line in text.splitlines())


def test_hindcast_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hindcast", "--models", "compromise", "--series", "snapshots",
                 "--out", str(tmp_path / "h"), "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows and {"snapshot", "issue", "model"} <= set(rows[0])


# --------------------------------------------------------------------------- output mistakes
def test_output_under_a_regular_file(tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x")
    one_line_error(cli("convert", str(TWO), "--to", "yaml", "-o", str(afile / "x.yaml")),
                   "--output", "is a file, not a folder")
    one_line_error(cli("backtest", "missing.tsv", "--errors", str(afile / "e.csv")),
                   "--errors", "is a file, not a folder")
    one_line_error(cli("backtest", "missing.tsv", "--out", str(afile)),
                   "--out", "exists and is not a folder")
    one_line_error(cli("hindcast", "--out", str(afile / "sub")), "--out",
                   "is a file, not a folder")


def test_output_is_a_folder(tmp_path: Path) -> None:
    one_line_error(cli("convert", str(TWO), "--to", "yaml", "-o", str(tmp_path)),
                   "is a folder, not a file")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root writes into read-only folders (the fault-injection test "
                    "below covers it)")
def test_output_in_a_read_only_folder(tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        one_line_error(cli("convert", str(TWO), "--to", "yaml", "-o", str(ro / "x.yaml")),
                       "permission denied")
    finally:
        ro.chmod(0o700)


#: runs the CLI with one file-system call failing as a full or read-only disk would
_FAULT = """
import errno, os, sys
from alliancelab.cli import main
code = {"ENOSPC": errno.ENOSPC, "EROFS": errno.EROFS}[sys.argv[1]]
def fail(*args, **kwargs):
    raise OSError(code, os.strerror(code))
if code == errno.ENOSPC:
    os.fsync = fail           # the data did not fit
else:
    import tempfile
    tempfile.mkstemp = fail   # the folder cannot take a new file
sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.parametrize(("fault", "words"), [("ENOSPC", "no space left on device"),
                                              ("EROFS", "read-only file system")])
def test_full_or_read_only_disk(tmp_path: Path, fault: str, words: str) -> None:
    target = tmp_path / "x.yaml"
    proc = subprocess.run([sys.executable, "-c", _FAULT, fault, "convert", str(TWO), "--to",
                           "yaml", "-o", str(target)], capture_output=True, text=True,
                          timeout=60, check=False)
    one_line_error(proc, str(target), "--output", words)
    assert not list(tmp_path.iterdir())  # no partial file, no temporary file left


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_full_stdout() -> None:
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "alliancelab", "cases", "--json"],
                              stdout=full, stderr=subprocess.PIPE, text=True, timeout=60,
                              check=False)
    one_line_error(proc, "no space left on device")


# --------------------------------------------------------------------------- licensing
def _pyproject() -> dict[str, object]:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def test_license_file_and_expression() -> None:
    text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n\nCopyright (c) 2026 the alliancelab authors\n")
    project = _pyproject()["project"]
    assert isinstance(project, dict)
    expression = project["license"]
    assert isinstance(expression, str) and expression.split(" AND ")[0] == "MIT"
    for spdx in expression.split(" AND ")[1:]:
        assert spdx in text, f"{spdx} of pyproject's license is not in LICENSE's NOTICE"
    for pattern in project["license-files"]:
        assert list(REPO.glob(pattern)), pattern
    assert "GNU GENERAL PUBLIC LICENSE" in (REPO / "LICENSES" / "GPL-3.0-or-later.txt"
                                            ).read_text(encoding="utf-8")


def test_every_vendored_data_file_has_its_licence() -> None:
    """A data file is the project's own (its SOURCE.md says MIT) or is listed in LICENSE's
    NOTICE; every file the NOTICE names exists; every SOURCE.md names a licence."""
    notice = (REPO / "LICENSE").read_text(encoding="utf-8").split("NOTICE", 1)[1]
    root = REPO / "src" / "alliancelab" / "data"
    expression = str(_pyproject()["project"]["license"])  # type: ignore[index]
    for source in sorted(root.glob("*/SOURCE.md")):
        text = source.read_text(encoding="utf-8")
        assert "licence" in text.lower(), source
        ids = [s for s in expression.split(" AND ") if f"`{s}`" in text]
        assert ids, f"{source}: no SPDX identifier of pyproject's license expression"
        for data in sorted(source.parent.glob("*.csv")):
            rel = data.relative_to(REPO).as_posix()
            assert rel in notice or "`MIT`" in text, f"{rel}: licence not in LICENSE's NOTICE"
    for line in notice.splitlines():
        word = line.strip().split(" ")[0].rstrip(".,;")
        if word.startswith("src/alliancelab/data/"):
            assert (REPO / word).is_file(), word


def test_citation_and_changelog() -> None:
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["cff-version"] == "1.2.0"
    assert {"authors", "message", "title"} <= set(cff)
    project = _pyproject()["project"]
    assert isinstance(project, dict)
    assert str(cff["version"]) == project["version"] and cff["license"] == "MIT"
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "keepachangelog.com" in changelog and "\n## [Unreleased]\n" in changelog


@pytest.mark.parametrize(("given", "expected"), [(None, "1"), ("3", "3")])
def test_the_command_line_runs_numpy_on_one_blas_thread_unless_told(
        given: str | None, expected: str) -> None:
    """The engines' small matrices gain nothing from BLAS threads, which cost start-up and
    compete with the worker processes: the CLI sets ``OPENBLAS_NUM_THREADS=1`` before NumPy
    loads, and a user's own value stands."""
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if given is not None:
        env["OPENBLAS_NUM_THREADS"] = given
    probe = ("import os, alliancelab.cli, numpy\n"
             "print(os.environ['OPENBLAS_NUM_THREADS'])")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, timeout=60, env=env).stdout.strip()
    assert out == expected
