"""The example notebooks in examples/ run from top to bottom (issue 14).

Executed with nbclient on a real IPython kernel when nbclient and ipykernel are installed (the
``test`` extra brings them); otherwise each code cell's source is run with ``exec`` in one
namespace, in order, so the notebook is checked either way. Each run works in a temporary folder
(anything a notebook writes lands there) and must stay under ``TIMEOUT`` seconds.
"""

from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path
from typing import Any

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))
TIMEOUT = 60
HAVE_NBCLIENT = all(importlib.util.find_spec(m) for m in ("nbclient", "nbformat", "ipykernel"))


def test_the_quickstart_notebook_exists() -> None:
    assert EXAMPLES / "us_rok_quickstart.ipynb" in NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_clean_nbformat_4(path: Path) -> None:
    """Stored without outputs (the test suite makes them), nbformat 4, valid when nbformat is
    installed."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert nb["nbformat"] == 4
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code and all(not c["outputs"] and c["execution_count"] is None for c in code)
    if importlib.util.find_spec("nbformat"):
        import nbformat

        nbformat.validate(nbformat.reads(path.read_text(encoding="utf-8"), as_version=4))


def _run_with_nbclient(path: Path, cwd: Path) -> list[str]:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=TIMEOUT, kernel_name="python3",
                   resources={"metadata": {"path": str(cwd)}}).execute()
    texts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                texts.append(out["text"])
            elif "data" in out:
                texts.append(out["data"].get("text/plain", ""))
    return texts


def _run_with_exec(path: Path, cwd: Path, monkeypatch: pytest.MonkeyPatch,
                   capsys: pytest.CaptureFixture[str]) -> list[str]:
    monkeypatch.chdir(cwd)
    nb = json.loads(path.read_text(encoding="utf-8"))
    namespace: dict[str, Any] = {"__name__": "__main__"}
    for i, cell in enumerate(c for c in nb["cells"] if c["cell_type"] == "code"):
        source = "".join(cell["source"])
        exec(compile(source, f"{path.name}[cell {i}]", "exec"), namespace)  # noqa: S102
    return [capsys.readouterr().out]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                       capsys: pytest.CaptureFixture[str]) -> None:
    start = time.perf_counter()
    if HAVE_NBCLIENT:
        texts = _run_with_nbclient(path, tmp_path)
    else:
        texts = _run_with_exec(path, tmp_path, monkeypatch, capsys)
    seconds = time.perf_counter() - start
    assert seconds < TIMEOUT, f"{path.name} took {seconds:.1f} s"
    printed = "\n".join(texts)
    if path.name == "us_rok_quickstart.ipynb":
        assert "us_rok_2025" in printed and "13 issues" in printed
        assert "most robust:" in printed
    assert not [p for p in tmp_path.iterdir() if p.suffix not in (".ipynb",)], (
        "the notebook wrote files into its working folder")
