"""Fuzz the readers (issue 2, "Bad input"): no input - random text or bytes, or a valid case
mutated - may raise anything but the project's own :class:`AllianceLabError`.

Every format's reader is tried directly (``parse_case(text, fmt=...)``), through recognition
of the format (``fmt=None``, with a ``.yaml`` and a ``.csv`` file name) and from a file
(``read_case``, which also refuses binary, non-UTF-8 and empty files).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alliancelab import AllianceLabError, Case, format_case, parse_case, read_case
from alliancelab.formats import FORMATS
from alliancelab.formats.yaml_case import validate
from alliancelab.testing import case_dicts, cases

#: examples per test; set ALLIANCELAB_FUZZ_EXAMPLES=5000 for a deeper run
FUZZ = settings(
    max_examples=int(os.environ.get("ALLIANCELAB_FUZZ_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

#: tokens that have broken YAML or CSV readers elsewhere
YAML_TOKENS = [
    ".nan",
    "-.inf",
    "1e999",
    "-1",
    "0x1F",
    "0o17",
    "1_000",
    "~",
    "null",
    "true",
    "yes",
    "",
    "[",
    "]",
    "{",
    "}",
    ":",
    "? ",
    "- ",
    "&a",
    "*a",
    "&a [*a]",
    "<<: *a",
    "!!binary aGk=",
    "!!set {a, b}",
    "!!omap [a: 1]",
    "!!python/name:os.system",
    "!!python/object:x {}",
    "!custom 1",
    "2025-01-01",
    "2025-01-01T00:00:00Z",
    "'",
    '"',
    '"\\x00"',
    "|",
    ">",
    "#",
    "%YAML 1.1",
    "---",
    "...",
    "9" * 400,
    "1" + "0" * 400 + ".0",
    "{[1]: 2}",
    "{? [1] : 2}",
    "[[[[[[[[[[]]]]]]]]]]",
    "{a: {b: {c: {}}}}",
    "\t",
    "\ufeff",
    "\u2028",
    "é",
]
CSV_TOKENS = [
    ",",
    ",,",
    '"',
    '""',
    "\r",
    "\n",
    "\r\n",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "-0",
    "1e309",
    "1e-400",
    "",
    " ",
    "\t",
    "Actor",
    "Salience",
    "0x10",
    "1_0",
    "١٢",
    "\ufeff",
    "\x85",
    "9" * 400,
    "-1",
    "101",
    "1.5",
    "Actor,Capability,Position,Salience",
]


def _only_our_error(call: Callable[[], Any]) -> None:
    try:
        call()
    except AllianceLabError as exc:
        text = str(exc)
        assert text and "\n" not in text, f"error message is not one line: {text!r}"


def _all_readers(text: str) -> None:
    for fmt in FORMATS:
        _only_our_error(lambda fmt=fmt: parse_case(text, "fuzz", fmt))
    _only_our_error(lambda: parse_case(text, "fuzz.yaml"))
    _only_our_error(lambda: parse_case(text, "fuzz.csv"))


@st.composite
def mutated(draw: st.DrawFn, base: st.SearchStrategy[str], tokens: list[str]) -> str:
    """``base`` text with a few random edits: insert a token or random text, delete a span,
    duplicate, drop or swap lines, or replace a span."""
    text = draw(base)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["insert", "delete", "replace", "dup", "drop", "swap"]))
        n = len(text)
        at = draw(st.integers(0, n))
        if op in ("insert", "replace"):
            piece = draw(st.sampled_from(tokens) | st.text(max_size=8))
            end = at if op == "insert" else min(n, at + draw(st.integers(0, 12)))
            text = text[:at] + piece + text[end:]
        elif op == "delete":
            text = text[:at] + text[min(n, at + draw(st.integers(1, 20))) :]
        else:
            lines = text.splitlines(keepends=True)
            if not lines:
                continue
            k = draw(st.integers(0, len(lines) - 1))
            if op == "dup":
                lines.insert(k, lines[k])
            elif op == "drop":
                del lines[k]
            else:
                j = draw(st.integers(0, len(lines) - 1))
                lines[k], lines[j] = lines[j], lines[k]
            text = "".join(lines)
    return text


def _yaml_texts() -> st.SearchStrategy[str]:
    return (cases(max_actors=4, max_issues=2) | cases(max_actors=3, max_issues=2, rich=True)).map(
        format_case
    )


def _scholz_texts() -> st.SearchStrategy[str]:
    return cases(max_actors=6, max_issues=1).map(lambda c: format_case(c, "scholz"))


def _ktab_texts() -> st.SearchStrategy[str]:
    def to_ktab(case: Case) -> str:
        try:
            return format_case(case, "ktab")
        except AllianceLabError:  # e.g. a case the KTAB format cannot hold
            return format_case(case, "scholz")

    scale = {"min": 0.0, "max": 100.0}
    return (
        case_dicts(min_actors=3, max_actors=6, max_issues=3)
        .map(
            lambda d: {
                **d,
                "issues": [{**i, "scale": scale, "status_quo": None} for i in d["issues"]],
            }
        )
        .map(lambda d: Case.model_validate(_clip_positions(d)))
        .map(to_ktab)
    )


def _clip_positions(data: dict[str, Any]) -> dict[str, Any]:
    for actor in data["actors"]:
        for k, v in actor["positions"].items():
            actor["positions"][k] = min(max(v if isinstance(v, float) else v["value"], 0), 100)
    for issue in data["issues"]:
        issue.pop("status_quo", None)
    return data


@FUZZ
@given(st.text(max_size=300))
def test_random_text(text: str) -> None:
    _all_readers(text)


@FUZZ
@given(st.text(st.sampled_from(list("ab:-,{}[]&*!?|>#'\"\n 0.1e9")), max_size=120))
def test_random_yaml_and_csv_punctuation(text: str) -> None:
    _all_readers(text)


@FUZZ
@given(mutated(_yaml_texts(), YAML_TOKENS))
def test_mutated_yaml_cases(text: str) -> None:
    _all_readers(text)


@FUZZ
@given(mutated(_scholz_texts(), CSV_TOKENS))
def test_mutated_scholz_cases(text: str) -> None:
    _all_readers(text)


@FUZZ
@given(mutated(_ktab_texts(), CSV_TOKENS))
def test_mutated_ktab_cases(text: str) -> None:
    _all_readers(text)


_JUNK = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=10)
    | st.dates()
    | st.binary(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=5) | st.integers() | st.booleans(), inner, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def _case_with_junk(draw: st.DrawFn) -> dict[str, Any]:
    """A valid case mapping with one value somewhere replaced by random data (non-string
    keys, lists where mappings are expected, dates, bytes, huge integers...)."""
    data = draw(case_dicts(max_actors=3, max_issues=2, rich=draw(st.booleans())))
    node: Any = data
    for _ in range(draw(st.integers(1, 5))):
        if isinstance(node, dict) and node:
            key = draw(st.sampled_from(sorted(node, key=str)))
            if draw(st.booleans()) or not isinstance(node[key], dict | list):
                node[key] = draw(_JUNK)
                return data
            node = node[key]
        elif isinstance(node, list) and node:
            k = draw(st.integers(0, len(node) - 1))
            if draw(st.booleans()) or not isinstance(node[k], dict | list):
                node[k] = draw(_JUNK)
                return data
            node = node[k]
        else:
            break
    if isinstance(node, dict):
        node[draw(st.text(max_size=5) | st.integers())] = draw(_JUNK)
    return data


@FUZZ
@given(_case_with_junk())
def test_cases_with_junk_values(data: dict[str, Any]) -> None:
    _only_our_error(lambda: validate(data, file="junk"))
    try:
        text = yaml.safe_dump(data, allow_unicode=True)
    except yaml.YAMLError:
        return
    _all_readers(text)


@FUZZ
@given(st.binary(max_size=400), st.sampled_from([".yaml", ".csv", ".txt", ""]))
def test_random_files(raw: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"case{suffix}"
        path.write_bytes(raw)
        _only_our_error(lambda: read_case(path))
        for fmt in FORMATS:
            _only_our_error(lambda fmt=fmt: read_case(path, fmt))


@pytest.mark.parametrize(
    "text",
    [
        # "billion laughs": aliases that would expand to 10**9 nodes
        "a: &a [1,1,1,1,1,1,1,1,1,1]\n"
        + "".join(
            f"{chr(98 + k)}: &{chr(98 + k)} [{', '.join(['*' + chr(97 + k)] * 10)}]\n"
            for k in range(8)
        ),
        "a: &a [*a]\n",
        "a: &a {b: *a}\n",
        "[" * 5000 + "]" * 5000,
        "{a: " * 3000 + "1" + "}" * 3000,
        "- " * 3000 + "1",
        "name: x\nissues: [{name: i}]\nactors: [{name: A, capability: 1"
        + "0" * 5000
        + ", positions: {i: 1}, saliences: {i: 1}}]\n",
    ],
    ids=[
        "billion-laughs",
        "recursive-list",
        "recursive-map",
        "deep-list",
        "deep-map",
        "deep-block",
        "huge-integer",
    ],
)
def test_hostile_yaml(text: str) -> None:
    with pytest.raises(AllianceLabError) as info:
        parse_case(text, "hostile.yaml")
    assert "\n" not in str(info.value)
