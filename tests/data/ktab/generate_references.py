"""Regenerate the KTAB reference numbers in this folder (not run by the tests).

Runs KTAB's console program ``smpc`` (built from GitHub KAPSARC/KTAB in a temporary
folder, never part of this project) on seeded random cases and writes, per case,
``<name>.json``: the input (KTAB CSV or XML text), KTAB's model parameters, the number of
states, every actor's position at every state (KTAB's ``postn`` log lines, 4 decimals on
0-100) and the probability of each actor's position at each state (4 decimals).

    SMPC=/tmp/ktab/build/smpc python tests/data/ktab/generate_references.py

The two shipped KTAB reference logs (``20170530_ref-*.txt``) are parsed the same way with
``--from-log NAME LOG CSV``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
LOGGER_CONF = """* GLOBAL:
    FORMAT = %msg
    FILENAME = "smpc-log.txt"
    ENABLED = true
    TO_FILE = true
    TO_STANDARD_OUTPUT = false
"""

#: non-default parameter sets, KTAB's names (XML <ModelParameters>)
XML_RUNS = {
    "opts_a": dict(VictoryProbModel="Square", PCEModel="MarkovIncentive", VotingRule="PropBin",
                   BigRRange="Min", BigRAdjust="TwoThirds", ThirdPartyCommit="NoCommit",
                   InterVecBrgn="S1P1", BargnModel="InitRcvrInterp"),
    "opts_b": dict(VictoryProbModel="Quartic", PCEModel="MarkovUniform", VotingRule="Cubic",
                   BigRRange="Max", BigRAdjust="None", ThirdPartyCommit="FullCommit",
                   InterVecBrgn="S2PMax", BargnModel="PWCompInterp"),
    "opts_c": dict(VictoryProbModel="Square", PCEModel="Conditional", VotingRule="Prop",
                   BigRRange="Mid", BigRAdjust="Half", ThirdPartyCommit="SemiCommit",
                   InterVecBrgn="S2P2", BargnModel="PWCompInterp"),
    "opts_d": dict(VictoryProbModel="Linear", PCEModel="MarkovIncentive", VotingRule="PropCbc",
                   BigRRange="Mid", BigRAdjust="OneThird", ThirdPartyCommit="SemiCommit",
                   InterVecBrgn="S2P2", BargnModel="InitRcvrInterp"),
}
CSV_RUNS = {"rand_a12_d2": (12, 2, 11), "rand_a20_d1": (20, 1, 12), "rand_a9_d4": (9, 4, 13)}


def random_case(n: int, d: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Capabilities 10-200, positions 0-100, saliences summing to 60-99 (2 decimals)."""
    g = np.random.default_rng(seed)
    cap = np.round(g.uniform(10, 200, n), 2)
    pos = np.round(g.uniform(0, 100, (n, d)), 2)
    raw = g.uniform(0.1, 1.0, (n, d))
    sal = np.floor(raw / raw.sum(axis=1, keepdims=True) * g.uniform(60, 99, (n, 1)) * 100) / 100
    return cap, pos, sal


def to_csv(name: str, cap: np.ndarray, pos: np.ndarray, sal: np.ndarray) -> str:
    n, d = pos.shape
    head = ["Actor", "Description", "Power"] + [
        c for k in range(d) for c in (f"Dim{k + 1}", f"Sal{k + 1}")
    ]
    lines = [f"{name},Random test case,{n},{d},", ",".join(head) + ","]
    for i in range(n):
        cells = [f"A{i:02d}", "Random actor", f"{cap[i]:.2f}"]
        for k in range(d):
            cells += [f"{pos[i, k]:.2f}", f"{sal[i, k]:.2f}"]
        lines.append(",".join(cells) + ",")
    return "\n".join(lines) + "\n"


def to_xml(name: str, cap: np.ndarray, pos: np.ndarray, sal: np.ndarray, params: dict) -> str:
    n, d = pos.shape
    out = ['<?xml version="1.0" encoding="UTF-8"?>', "<Scenario>", f"  <name>{name}</name>",
           "  <desc>Random test case</desc>", "  <prngSeed>12345</prngSeed>",
           "  <ModelParameters>"]
    order = ["VictoryProbModel", "PCEModel", "VotingRule", "BigRAdjust", "BigRRange",
             "ThirdPartyCommit", "InterVecBrgn", "BargnModel"]
    out.append("    <StateTransitions>Deterministic</StateTransitions>")
    out += [f"    <{k}>{params[k]}</{k}>" for k in order]
    out += ["  </ModelParameters>", "  <Dimensions>"]
    out += [f"    <dName>Dim{k + 1}</dName>" for k in range(d)]
    out += ["  </Dimensions>", "  <Actors>"]
    for i in range(n):
        out += ["    <Actor>", f"      <name>A{i:02d}</name>",
                "      <description>Random actor</description>",
                f"      <capability>{cap[i]:.2f}</capability>", "      <Position>"]
        out += [f"        <dCoord>{pos[i, k]:.2f}</dCoord>" for k in range(d)]
        out += ["      </Position>", "      <Salience>"]
        out += [f"        <dSal>{sal[i, k]:.2f}</dSal>" for k in range(d)]
        out += ["      </Salience>", "    </Actor>"]
    # identity accommodation (KTAB's CSV default); xmlRead needs at least one pair
    out += ["  </Actors>", "  <IdealAdjustment>", "    <iaPair>",
            "      <adjustingIdeal>A00</adjustingIdeal>", "      <referencePos>A00</referencePos>",
            "      <adjust>1.0</adjust>", "    </iaPair>", "  </IdealAdjustment>", "</Scenario>"]
    return "\n".join(out) + "\n"


def parse_log(text: str, n: int) -> dict:
    """States, positions per state (state 0 from the input) and position probabilities."""
    lines = text.splitlines()
    blocks: list[list[float]] = []
    for k, line in enumerate(lines):
        if re.match(r"\s*postn\s+\d+\s*,\s*0\s*:\s*$", line):
            blocks.append([float(t) for t in lines[k + 1].split()])
    states = int(re.search(r"There were (\d+) states", text).group(1))
    steps = [blocks[s * n:(s + 1) * n] for s in range(len(blocks) // n)]
    probs = [
        [float(t) for t in ln.split(":", 1)[1].split()] for ln in lines if " prob :" in ln
    ]
    return {"states": states, "positions": steps, "probabilities": probs}


def run_smpc(smpc: str, path: Path, n: int, repeat: int = 3) -> dict:
    """KTAB's parsed log; smpc's threads order each actor's bargains at random, which can
    change the outcome when two bargains tie: such cases are refused."""
    runs = [parse_log(_run_once(smpc, path), n) for _ in range(repeat)]
    if any(r != runs[0] for r in runs[1:]):
        raise RuntimeError(f"{path.name}: smpc gives different results from run to run")
    return runs[0]


def _run_once(smpc: str, path: Path) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "smpc-logger.conf").write_text(LOGGER_CONF)
        flag = "--xml" if path.suffix == ".xml" else "--csv"
        subprocess.run(
            [smpc, "--logmin", flag, str(path), "--connstr", "Driver=QSQLITE;Database=ref"],
            cwd=tmp, check=True, capture_output=True, timeout=3600,
        )
        return Path(tmp, "smpc-log.txt").read_text()


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--from-log":
        name, log, csv = sys.argv[2:]
        text = Path(log).read_text()
        n = int(re.search(r"Number of actors: (\d+)", text).group(1))
        ref = parse_log(text, n) | {"input": Path(csv).name, "format": "ktab", "params": {}}
        (HERE / f"{name}.json").write_text(json.dumps(ref) + "\n")
        return
    smpc = os.environ.get("SMPC", "/tmp/ktab/build/smpc")
    with tempfile.TemporaryDirectory() as tmp:
        for name, (n, d, seed) in CSV_RUNS.items():
            text = to_csv(name, *random_case(n, d, seed))
            path = Path(tmp, f"{name}.csv")
            path.write_text(text)
            ref = run_smpc(smpc, path, n)
            ref |= {"input_text": text, "format": "ktab", "params": {}}
            (HERE / f"{name}.json").write_text(json.dumps(ref) + "\n")
            print(name, ref["states"], "states")
        for k, (name, params) in enumerate(XML_RUNS.items()):
            n, d = 10, 2
            cap, pos, sal = random_case(n, d, 100 + k)
            path = Path(tmp, f"{name}.xml")
            path.write_text(to_xml(name, cap, pos, sal, params))
            ref = run_smpc(smpc, path, n)
            ref |= {"input_text": to_csv(name, cap, pos, sal), "format": "ktab", "params": params}
            (HERE / f"{name}.json").write_text(json.dumps(ref) + "\n")
            print(name, ref["states"], "states")


if __name__ == "__main__":
    main()
