"""Bad input through the real command line (issue 2, "Bad input").

Every malformed case, in each format, must make ``alliancelab forecast FILE`` exit with code
2 and print exactly one line on stderr naming the file, the line or the field, and the
problem - no traceback - and ``alliancelab convert FILE --to yaml -o OUT`` must write nothing.

Not applicable, and so not listed: the Scholz CSV has no fixed position range (its scale is
the range of the positions), no reference to other actors and one unnamed issue, so
"position outside the range", "unknown actor" and "unknown issue" cannot occur in it; a
KTAB CSV likewise names no other actor and no issue.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from alliancelab.cli import main
from alliancelab.models.bargaining import ENGINES, engine_class


@dataclass(frozen=True)
class Bad:
    """A malformed case file and what its error line must say."""

    id: str
    suffix: str
    content: bytes
    problem: str  # regex, case-insensitive, for the problem
    line: int | None = None  # the line the message must name (``FILE:LINE``)
    field: str | None = None  # or a fragment of the field it must name
    args: tuple[str, ...] = ()
    convert: bool = True  # also check that ``convert`` writes nothing


def _strictest_model() -> tuple[str, int]:
    """The registered model needing the most actors (and that number)."""
    best = ("compromise", 1)
    for name in ENGINES:
        try:
            need = engine_class(name).min_actors
        except (ImportError, AttributeError):
            continue
        if need > best[1]:
            best = (name, need)
    return best


MODEL, MIN_ACTORS = _strictest_model()
FEW = max(MIN_ACTORS - 1, 1)

# --------------------------------------------------------------------------------- YAML
YAML = """\
name: Bad input
issues:
  - name: troops
    scale: {min: 0, max: 100}
actors:
  - name: A
    capability: 40
    positions: {troops: 20}
    saliences: {troops: 0.5}
  - name: B
    capability: 30
    positions: {troops: 60}
    saliences: {troops: 0.8}
  - name: C
    capability: 30
    positions: {troops: 90}
    saliences: {troops: 0.3}
"""


def _yaml(*edits: tuple[int, str | None]) -> bytes:
    """The valid YAML case with line ``k`` (1-based) replaced (``None`` deletes it); a
    replacement may hold several lines."""
    lines = YAML.splitlines()
    for k, new in sorted(edits, reverse=True):
        if new is None:
            del lines[k - 1]
        else:
            lines[k - 1 : k] = new.splitlines()
    return ("\n".join(lines) + "\n").encode()


def _yaml_actors(n: int) -> bytes:
    head = "name: Few\nissues:\n  - name: troops\nactors:\n"
    rows = "".join(
        f"  - {{name: a{i}, capability: 10, positions: {{troops: {10 * i}}}, "
        f"saliences: {{troops: 0.5}}}}\n"
        for i in range(n)
    )
    return (head + rows).encode()


YAML_CASES = [
    Bad("missing-field", ".yaml", _yaml((11, None)), r"missing field", 10, "capability"),
    Bad("missing-salience", ".yaml", _yaml((13, "    saliences: {}")), r"missing salience.*troops",
        13, "saliences"),
    Bad("salience-range", ".yaml", _yaml((13, "    saliences: {troops: 1.5}")),
        r"salience.*\[0, 1\].*1\.5", 13, "saliences"),
    Bad("position-range", ".yaml", _yaml((12, "    positions: {troops: 160}")),
        r"position 160 lies outside the scale \[0, 100\]", 12, "positions.troops"),
    Bad("unknown-actor", ".yaml",
        _yaml((9, "    saliences: {troops: 0.5}\n"
                  "    perceptions: {estimates: {Z: {capability: 5}}}")),
        r"unknown actor 'Z'", 10, "estimates"),
    Bad("duplicate-actor", ".yaml", _yaml((14, "  - name: A")), r"duplicate name 'A'", 14, "name"),
    Bad("negative-capability", ".yaml", _yaml((15, "    capability: -3")),
        r"capability must be >= 0, got -3", 15, "capability"),
    Bad("too-few-actors", ".yaml", _yaml_actors(FEW),
        rf"needs at least {MIN_ACTORS} actors.*has {FEW}", None, "actors",
        ("--model", MODEL), convert=False),
    Bad("nan", ".yaml", _yaml((7, "    capability: .nan")), r"finite", 7, "capability"),
    Bad("nan-text", ".yaml", _yaml((8, "    positions: {troops: nan}")),
        r"expected a number.*'nan'", 8, "positions.troops"),
    Bad("infinity", ".yaml", _yaml((8, "    positions: {troops: 1e999}")), r"finite", 8),
    Bad("empty", ".yaml", b"", r"empty"),
    Bad("blank", ".yaml", b"   \n\n  \n", r"empty"),
    Bad("binary", ".yaml", bytes(range(256)) * 4, r"binary"),
    Bad("not-utf8", ".yaml", "name: Caf\u00e9\n".encode("latin-1"), r"UTF-8"),
    Bad("broken-yaml", ".yaml", _yaml((8, "    positions: {troops: 20")), r"broken YAML", None),
    Bad("duplicate-key", ".yaml", _yaml((7, "    capability: 40\n    capability: 41")),
        r"duplicate key 'capability'", 8),
    Bad("unknown-issue", ".yaml", _yaml((8, "    positions: {troops: 20, tariffs: 3}")),
        r"unknown issue 'tariffs'", 8, "positions.tariffs"),
    Bad("unknown-field", ".yaml", _yaml((7, "    capabilty: 40")), r"unknown field", 7,
        "capabilty"),
    Bad("text-for-number", ".yaml", _yaml((7, "    capability: forty")),
        r"expected a number.*'forty'", 7, "capability"),
    Bad("list-for-mapping", ".yaml", _yaml((8, "    positions: [20]")),
        r"expected a mapping", 8, "positions"),
    Bad("not-a-mapping", ".yaml", b"- just\n- a list\n", r"must be a YAML mapping", 1),
    Bad("no-actors", ".yaml", b"name: x\nissues: [{name: a}]\nactors: []\n", r"must not be empty",
        3, "actors"),
    Bad("python-tag", ".yaml", b"name: !!python/object/apply:os.system [ls]\n",
        r"broken YAML.*constructor", 1),
    Bad("recursive-alias", ".yaml", b"name: x\nmeta: &a {self: *a}\n", r"alias", None),
]


def _yaml_plus(extra: str) -> bytes:
    """The valid YAML case (17 lines) with ``extra`` appended from line 18 on."""
    return (YAML + extra).encode()


SHOCK = "shocks:\n  - name: s1\n    changes:\n      - {target: %s, op: %s, value: %s}\n"
LEVER = "levers:\n  - name: l1\n    changes:\n      - {target: %s, op: set, value: 0.5}\n"
LINK = "links:\n  - {perception: %s, issue: troops, weight: 0.1}\n"

#: issue 13, late checks: what ``run`` refused (or ignored), now refused when the case is
#: read, with its line, so ``forecast`` and ``run`` agree.
LATE_CASES = [
    Bad("link-unknown-perception", ".yaml", _yaml_plus(LINK % "threats.cosmic"),
        r"unknown perception 'threats.cosmic'", 19, "links[0].perception"),
    Bad("shock-unknown-actor", ".yaml",
        _yaml_plus(SHOCK % ("actors.Z.positions.troops", "add", 5)),
        r"target 'actors.Z.positions.troops' matches no number", 21, "shocks[0](s1)"),
    Bad("shock-unknown-field", ".yaml",
        _yaml_plus(SHOCK % ("actors.A.postions.troops", "add", 5)),
        r"matches no number", 21, "changes[0].target"),
    Bad("shock-set-unknown-issue", ".yaml",
        _yaml_plus(SHOCK % ("actors.A.positions.tariffs", "set", 5)),
        r"unknown issue 'tariffs'", 21, "changes[0].target"),
    Bad("shock-nan", ".yaml", _yaml_plus(SHOCK % ("actors.A.positions.troops", "add", ".nan")),
        r"finite", 21, "changes[0].value"),
    Bad("lever-unknown-dynamics", ".yaml", _yaml_plus(LEVER % "dynamics.warp_speed"),
        r"unknown dynamics parameter 'warp_speed'", 21, "levers[0](l1)"),
    Bad("dynamics-unknown", ".yaml", _yaml_plus("dynamics:\n  warp_speed: 0.5\n"),
        r"unknown dynamics parameter 'warp_speed'", 19, "dynamics.warp_speed"),
    Bad("rounds-negative", ".yaml", _yaml_plus("dynamics:\n  rounds: -3\n"),
        r"whole number >= 1, got -3", 19, "dynamics.rounds"),
    Bad("rounds-fraction", ".yaml", _yaml_plus("dynamics:\n  rounds: 2.5\n"),
        r"whole number >= 1, got 2.5", 19, "dynamics.rounds"),
    Bad("rounds-range-fraction", ".yaml",
        _yaml_plus("dynamics:\n  rounds: {value: 3, range: [1.5, 4]}\n"),
        r"whole number >= 1, got 1.5", 19, "dynamics.rounds"),
    Bad("rounds-over-limit", ".yaml", _yaml_plus("dynamics:\n  rounds: 10000000\n"),
        r"10,000,000 rounds, more than the limit of 10,000", 19, "dynamics.rounds"),
    Bad("adjustment-speed", ".yaml", _yaml_plus("dynamics:\n  adjustment_speed: 1.5\n"),
        r"must lie in \[0, 1\], got 1.5", 19, "dynamics.adjustment_speed"),
]
YAML_CASES += LATE_CASES

# --------------------------------------------------------------------------- Scholz CSV
SCHOLZ = ["Actor,Capability,Position,Salience", "A,40,20,0.5", "B,30,60,0.8", "C,30,90,0.3"]


def _scholz(row3: str | None = None, *, rows: list[str] | None = None) -> bytes:
    lines = list(rows if rows is not None else SCHOLZ)
    if row3 is not None:
        lines[2] = row3
    return ("\n".join(lines) + "\n").encode()


SCHOLZ_CASES = [
    Bad("missing-field", ".csv", _scholz("B,30,,0.8"), r"missing value", 3, "Position"),
    Bad("missing-column", ".csv", _scholz(rows=["Actor,Capability,Position", "A,40,20"]),
        r"Actor,Capability,Position,Salience", 1),
    Bad("salience-range", ".csv", _scholz("B,30,60,1.5"), r"salience.*\[0, 1\].*1\.5", 3,
        "Salience"),
    Bad("duplicate-actor", ".csv", _scholz("A,30,60,0.8"), r"duplicate actor 'A'.*line 2", 3,
        "Actor"),
    Bad("negative-capability", ".csv", _scholz("B,-30,60,0.8"), r"capability must be >= 0", 3,
        "Capability"),
    Bad("too-few-actors", ".csv", _scholz(rows=SCHOLZ[: FEW + 1]),
        rf"needs at least {MIN_ACTORS} actors", None, "actors", ("--model", MODEL),
        convert=False),
    Bad("nan", ".csv", _scholz("B,30,NaN,0.8"), r"finite", 3, "Position"),
    Bad("infinity", ".csv", _scholz("B,inf,60,0.8"), r"finite", 3, "Capability"),
    Bad("text-for-number", ".csv", _scholz("B,thirty,60,0.8"), r"not a number: 'thirty'", 3,
        "Capability"),
    Bad("wrong-columns", ".csv", _scholz("B,30,60"), r"expected 4 columns, found 3", 3),
    Bad("extra-column", ".csv", _scholz("B,30,60,0.8,1"), r"expected 4 columns, found 5", 3),
    Bad("unclosed-quote", ".csv", _scholz('"B,30,60,0.8'), r"expected 4 columns|broken CSV", 3),
    Bad("no-rows", ".csv", _scholz(rows=SCHOLZ[:1]), r"no actor rows", 2),
    Bad("empty", ".csv", b"", r"empty"),
    Bad("binary", ".csv", b"\x00\x01\x02PK\x03\x04" * 100, r"binary"),
    Bad("not-utf8", ".csv", "Actor,Capability,Position,Salience\nCaf\u00e9,1,2,0.5\n"
        .encode("latin-1"), r"UTF-8"),
    Bad("unknown-header", ".csv", b"Name,Power,Pos,Sal\nA,1,2,0.5\n",
        r"not a case CSV.*Actor,Capability,Position,Salience", 1),
]

# ----------------------------------------------------------------------------- KTAB CSV
# Line 1: scenario name, description, number of actors, number of dimensions; line 2: the
# header; one row per actor: name, description, capability, then position/salience pairs
# on 0-100 (KTAB's examples/smp/doc/dummyData_3Dim.csv, trailing commas included).
KTAB = [
    'Bad,"A malformed KTAB case",3,2,',
    "Actor,Description,Power,Pstn1,Sal1,Pstn2,Sal2,",
    "A,first actor,100,20,50,30,40,",
    "B,second actor,50,80,30,60,60,",
    "C,third actor,70,50,40,10,20,",
]


def _ktab(line: int | None = None, new: str | None = None, *, lines: list[str] | None = None
          ) -> bytes:
    out = list(lines if lines is not None else KTAB)
    if line is not None:
        if new is None:
            del out[line - 1]
        else:
            out[line - 1] = new
    return ("\n".join(out) + "\n").encode()


def _ktab_actors(n: int) -> bytes:
    head = [f'Few,"too few actors",{n},1,', "Actor,Description,Power,Pstn1,Sal1,"]
    return _ktab(lines=head + [f"a{i},actor,10,{10 * i},50," for i in range(n)])


KTAB_CASES = [
    Bad("missing-field", ".csv", _ktab(4, "B,second actor,,80,30,60,60,"),
        r"missing|empty|not a number|capabilit|power", 4),
    Bad("salience-range", ".csv", _ktab(4, "B,second actor,50,80,130,60,60,"),
        r"salience", 4),
    Bad("position-range", ".csv", _ktab(4, "B,second actor,50,180,30,60,60,"), r"position", 4),
    Bad("duplicate-actor", ".csv", _ktab(5, "A,third actor,70,50,40,10,20,"), r"duplicate", 5),
    Bad("negative-capability", ".csv", _ktab(4, "B,second actor,-50,80,30,60,60,"),
        r"capabilit|power|negative|>= 0", 4),
    Bad("too-few-actors", ".csv", _ktab_actors(FEW), rf"at least {MIN_ACTORS}", None,
        "actors", ("--model", MODEL), convert=False),
    Bad("nan", ".csv", _ktab(4, "B,second actor,50,nan,30,60,60,"), r"finite|nan|number", 4),
    Bad("wrong-columns", ".csv", _ktab(4, "B,second actor,50,80,30"), r"column", 4),
    Bad("actor-count", ".csv", _ktab(5, None), r"actor", None),
    Bad("empty", ".csv", b"", r"empty"),
    Bad("binary", ".csv", b"\x00\x01\x02PK\x03\x04" * 100, r"binary"),
]

ALL = (
    [pytest.param(b, id=f"yaml-{b.id}") for b in YAML_CASES]
    + [pytest.param(b, id=f"scholz-{b.id}") for b in SCHOLZ_CASES]
    + [pytest.param(b, id=f"ktab-{b.id}") for b in KTAB_CASES]
)


def _cli(*args: str, cwd: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "COLUMNS": "100"}
    return subprocess.Popen(
        [sys.executable, "-m", "alliancelab", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_every_model_with_a_minimum_was_found() -> None:
    """The too-few-actors cases use the strictest registered model."""
    assert MIN_ACTORS >= 1
    if "smp" in ENGINES:
        try:
            need = engine_class("smp").min_actors
        except (ImportError, AttributeError):
            pytest.fail("smp is registered but cannot be imported")
        assert MIN_ACTORS >= need


def _write(bad: Bad, tmp_path: Path) -> Path:
    path = tmp_path / f"bad{bad.suffix}"
    path.write_bytes(bad.content)
    return path


@pytest.mark.parametrize("bad", ALL)
def test_bad_input_is_one_clear_line_and_exit_2(bad: Bad, tmp_path: Path) -> None:
    """``alliancelab forecast BAD`` in a subprocess: exit 2, one line naming the file, the
    line or field, and the problem."""
    path = _write(bad, tmp_path)
    proc = _cli("forecast", str(path), *bad.args, cwd=tmp_path)
    stdout, stderr = proc.communicate(timeout=120)

    assert "Traceback" not in stderr, stderr
    assert proc.returncode == 2, (proc.returncode, stderr)
    lines = stderr.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{stderr}"
    msg = lines[0]
    assert msg.startswith("alliancelab: error: "), msg
    assert str(path) in msg, f"the message does not name the file: {msg}"
    if bad.line is not None:
        assert re.search(rf"{re.escape(str(path))}:{bad.line}\b", msg), (
            f"the message does not name line {bad.line}: {msg}"
        )
    if bad.field is not None:
        assert bad.field in msg, f"the message does not name the field {bad.field!r}: {msg}"
    assert re.search(bad.problem, msg, re.IGNORECASE), f"unclear problem: {msg}"
    assert stdout == "", f"something was printed on stdout: {stdout!r}"
    assert [p.name for p in tmp_path.iterdir()] == [path.name], "forecast wrote a file"


@pytest.mark.parametrize("bad", [p for p in ALL if p.values[0].convert])
def test_bad_input_writes_nothing(
    bad: Bad, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``alliancelab convert BAD --to yaml -o OUT`` (in process, for speed): exit 2, one
    line, and neither OUT nor a temporary file appears."""
    path = _write(bad, tmp_path)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "converted.yaml"
    code = main(["convert", str(path), "--to", "yaml", "-o", str(target)])
    captured = capsys.readouterr()
    assert code == 2, captured.err
    assert len(captured.err.splitlines()) == 1 and str(path) in captured.err, captured.err
    assert not target.exists(), "convert wrote a file for bad input"
    assert list(out_dir.iterdir()) == [], "convert left files behind"


@pytest.mark.parametrize("fmt", ["yaml", "scholz", "ktab"])
def test_convert_in_a_subprocess_writes_nothing(fmt: str, tmp_path: Path) -> None:
    """The same through the real command line, once per format."""
    bad = next(p.values[0] for p in ALL if p.id == f"{fmt}-negative-capability")
    path = _write(bad, tmp_path)
    target = tmp_path / "out" / "converted.yaml"
    proc = _cli("convert", str(path), "--to", "yaml", "-o", str(target), cwd=tmp_path)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "Traceback" not in err and err.count("\n") == 1, err
    assert not target.exists() and not target.parent.exists()


@pytest.mark.parametrize("bad", [pytest.param(b, id=b.id) for b in LATE_CASES
                                 if b.id in ("shock-unknown-actor", "lever-unknown-dynamics",
                                             "rounds-fraction", "link-unknown-perception")])
def test_run_refuses_what_forecast_refuses(bad: Bad, tmp_path: Path) -> None:
    """``alliancelab run`` on a late-check case: the same line as ``forecast``, before any
    work (nothing written under --out)."""
    path = _write(bad, tmp_path)
    messages = []
    for args in (("forecast", str(path)),
                 ("run", str(path), "--draws", "2", "--out", str(tmp_path / "out"))):
        proc = _cli(*args, cwd=tmp_path)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 2 and err.count("\n") == 1 and "Traceback" not in err, err
        messages.append(err)
    assert messages[0] == messages[1]
    assert re.search(rf"{re.escape(str(path))}:{bad.line}\b", messages[1]), messages[1]
    assert not (tmp_path / "out").exists()


def test_missing_file_and_directory(tmp_path: Path) -> None:
    for arg, problem in ((str(tmp_path / "nope.yaml"), "no such file"),
                         (str(tmp_path), "directory")):
        proc = _cli("forecast", arg, cwd=tmp_path)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 2
        assert err.count("\n") == 1 and arg in err and problem in err, err


def test_bad_option_is_one_line_and_exit_2(tmp_path: Path) -> None:
    case = tmp_path / "ok.yaml"
    case.write_text(YAML)
    proc = _cli("forecast", str(case), "--model", "median", "--rounds", "3", cwd=tmp_path)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and err.count("\n") == 1, err
    assert "not iterative" in err and str(case) in err
    proc = _cli("forecast", str(case), "--model", "oracle", cwd=tmp_path)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "Traceback" not in err and "oracle" in err, err


# ------------------------------------------------------------- issue 13: overflow (item 10)
OVERFLOW = """\
name: Overflow
issues:
  - name: troops
    scale: {min: 0, max: 100}
actors:
  - {name: A, capability: CAP, positions: {troops: 20}, saliences: {troops: 0.5}}
  - {name: B, capability: CAP, positions: {troops: 60}, saliences: {troops: 0.8}}
  - {name: C, capability: CAP, positions: {troops: 90}, saliences: {troops: 0.3}}
"""


@pytest.mark.parametrize("model", list(ENGINES))
@pytest.mark.parametrize("cap", ["1e308", "1.7e308", "1e-300", "5e-324"])
def test_huge_or_tiny_capabilities_forecast_as_capabilities_of_1(model: str, cap: str) -> None:
    """Only the ratios of capabilities matter: equal capabilities of 1e308 (whose products
    overflow) or 1e-300 (whose products underflow) forecast as capabilities of 1, without a
    RuntimeWarning. Tolerance 1e-9 of the scale width: the rescaled capabilities are a power
    of two times 1 (e.g. 1e308 * 2**-1024 = 0.556), not 1 itself, and an engine that adds
    capability terms in another order may differ by an ulp (bdm-scholz: 7e-15)."""
    import warnings

    import numpy as np

    from alliancelab import forecast, parse_case

    plain = forecast(parse_case(OVERFLOW.replace("CAP", "1"), fmt="yaml"), model, rng=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow warning fails the test
        huge = forecast(parse_case(OVERFLOW.replace("CAP", cap), fmt="yaml"), model, rng=1)
    np.testing.assert_allclose(huge.forecast, plain.forecast, rtol=0, atol=1e-9 * 100)
    np.testing.assert_allclose(huge.rounds, plain.rounds, rtol=0, atol=1e-9 * 100)


def test_unequal_huge_capabilities_keep_their_ratios() -> None:
    """Capabilities 4e307 : 3e307 : 3e307 forecast as 4 : 3 : 3 (to the rounding of the
    decimal inputs, 1e-12 of the scale), and 2**1000 times 4 : 3 : 3 exactly."""
    import numpy as np

    from alliancelab import Problem, forecast

    pos, sal = np.array([[20.0], [60.0], [90.0]]), np.array([[0.5], [0.8], [0.3]])
    base = np.array([4.0, 3.0, 3.0])
    for model in ENGINES:
        want = forecast(Problem.from_arrays(base, pos, sal), model, rng=1).forecast
        exact = forecast(Problem.from_arrays(base * 2.0**1000, pos, sal), model, rng=1).forecast
        np.testing.assert_array_equal(exact, want, err_msg=model)
        near = forecast(Problem.from_arrays(base * 1e307, pos, sal), model, rng=1).forecast
        np.testing.assert_allclose(near, want, rtol=0, atol=1e-12 * 100, err_msg=model)
        # the batch path (explorations, Monte Carlo) normalises each problem the same way
        engine = engine_class(model)()
        huge = Problem.from_arrays(base * 2.0**1000, pos, sal)
        rngs = [np.random.default_rng(1), np.random.default_rng(1)]
        batch = engine.solve_batch([huge, Problem.from_arrays(base, pos, sal)], rngs)
        np.testing.assert_array_equal(batch[0], batch[1], err_msg=model)
