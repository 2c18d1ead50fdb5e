"""The layout's rules, read from the source (issue 10; docs/architecture.md explains them).

Every module of ``src/alliancelab`` is parsed with :mod:`ast`; every import counts, at module
level or inside a function (an import inside a function still ties the two modules
together; it only hides the tie). Relative imports are resolved; ``from pkg import name``
is an import of ``pkg.name`` when that is a module and of ``pkg`` (its ``__init__``)
otherwise. The few dynamic imports allowed (the registries below) count too: their tables are
read from the source.

* no import cycle among alliancelab's modules;
* no module imports a higher layer (``LAYERS``), nor the forbidden pairs (``FORBIDDEN``),
  except the documented ``EXCEPTIONS``;
* ``importlib.import_module`` / ``__import__`` of alliancelab modules only in ``DYNAMIC``;
* no ``_optional(`` helper, and no ``try: import ... except ImportError`` around a module
  that ships;
* the side package ``alliancelab.testing`` (and Hypothesis) is imported by no runtime module,
  and ``import alliancelab`` and the CLI work without Hypothesis.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
ROOT = "alliancelab"

# --------------------------------------------------------------------------- the rules
#: the layers, lowest first: a module may import its own layer and lower ones. A name ending
#: in ".*" covers the modules under that package (not the package's __init__ itself); other
#: names cover that module, and -- for a package -- everything under it unless a longer name
#: says otherwise. Every module must fall in some layer.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("core", ("alliancelab.core",)),
    (
        "formats, calibration, cases",
        ("alliancelab.formats", "alliancelab.calibration", "alliancelab.cases"),
    ),
    # the public facade (alliancelab/__init__.py, api.py) sits with the models it fronts
    ("models", ("alliancelab.models", "alliancelab.api", "alliancelab")),
    # a case plug-in (cases/<name>.py, named by a case's ``plugin:``) adapts models to a case
    ("scenarios", ("alliancelab.scenarios", "alliancelab.cases.*")),
    ("execution", ("alliancelab.execution",)),
    ("explore and analysis", ("alliancelab.explore", "alliancelab.analysis")),
    ("jobs", ("alliancelab.jobs",)),
    ("report", ("alliancelab.report",)),
    ("cli and web", ("alliancelab.cli", "alliancelab.web", "alliancelab.__main__")),
)

#: imports within one layer that are forbidden all the same: (importer, imported, why)
FORBIDDEN: tuple[tuple[str, str, str], ...] = (
    (
        "alliancelab.analysis",
        "alliancelab.explore",
        "analysis takes arrays and frames and returns frames; explore runs and stores",
    ),
    ("alliancelab.web", "alliancelab.cli", "the web app and the CLI are two thin front ends"),
)

#: the side package for tests: may import every layer below this one; nothing imports it
SIDE_PACKAGE = "alliancelab.testing"
SIDE_PACKAGE_BELOW = "jobs"

#: allowed upward imports: (importer, imported) -> the reason. Keep it short; every entry must
#: still be needed (a stale one fails the test).
EXCEPTIONS: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Dynamic:
    """A module allowed to import alliancelab modules by name, and how its targets are read
    from its source: ``table`` is a module-level dict whose string values name modules of
    ``package`` (``parse`` turns a value into the module's name in that package); no table
    for a loader whose targets come from input (a case's ``plugin:``)."""

    reason: str
    table: str | None = None
    package: str | None = None
    parse: Callable[[str], str] = str


#: the legitimate places for importlib.import_module of alliancelab modules
DYNAMIC: dict[str, Dynamic] = {
    "alliancelab.models.bargaining": Dynamic(
        "the engine registry: ENGINES names each engine's module, imported on first use",
        table="ENGINES",
        package="alliancelab.models.bargaining",
        parse=lambda v: v.split(":")[0],
    ),
    "alliancelab.cli": Dynamic(
        "the CLI's sub-command table: COMMANDS names each sub-command's module",
        table="COMMANDS",
        package="alliancelab.cli",
    ),
    "alliancelab.jobs.alliance": Dynamic(
        "the case plug-in loader (load_plugin): imports the module a case names in ``plugin:``"
    ),
}


# --------------------------------------------------------------------------- the source
@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int
    in_function: bool
    dynamic: bool = False

    def where(self) -> str:
        how = "dynamic import" if self.dynamic else "inside a function" if self.in_function else ""
        return f"{path_of(self.importer)}:{self.line}" + (f", {how}" if how else "")


@cache
def modules() -> dict[str, Path]:
    """Every module of the package: dotted name -> file (a package is its __init__)."""
    out = {}
    for path in sorted((SRC / ROOT).rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def path_of(module: str) -> str:
    return str(modules()[module].relative_to(SRC.parent))


def is_package(module: str) -> bool:
    return modules()[module].name == "__init__.py"


@cache
def tree(module: str) -> ast.Module:
    path = modules()[module]
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _walk(node: ast.AST, in_function: bool = False) -> Iterator[tuple[ast.AST, bool]]:
    """Every node below ``node``, with whether it lies inside a function."""
    for child in ast.iter_child_nodes(node):
        inner = in_function or isinstance(
            child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
        )
        yield child, inner
        yield from _walk(child, inner)


def _base(module: str, level: int) -> str:
    """The package a relative import of ``level`` dots in ``module`` starts from."""
    parts = module.split(".") if is_package(module) else module.split(".")[:-1]
    if level - 1 > len(parts) - 1:
        raise AssertionError(f"{path_of(module)}: relative import beyond the top package")
    return ".".join(parts[: len(parts) - (level - 1)])


def _targets(module: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == ROOT]
    if node.level:
        base = _base(module, node.level)
        target = f"{base}.{node.module}" if node.module else base
    else:
        target = node.module or ""
    if target.split(".")[0] != ROOT:
        return []
    out = []
    for alias in node.names:
        sub = f"{target}.{alias.name}"
        out.append(sub if sub in modules() else target)
    return out


def _dynamic_calls(module: str) -> Iterator[tuple[ast.Call, bool]]:
    """Calls of importlib.import_module, import_module or __import__ in ``module``."""
    for node, in_function in _walk(tree(module)):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
        if name in ("import_module", "__import__"):
            yield node, in_function


def _third_party(module: str, call: ast.Call) -> bool:
    """Whether a dynamic import provably names a module outside alliancelab."""
    target = _literal_module(module, call)
    return target is not None and target.split(".")[0] != ROOT


def _literal_module(module: str, call: ast.Call) -> str | None:
    """The module a call names, when it is a string constant (resolving ``package=``)."""
    if not call.args or not isinstance(call.args[0], ast.Constant):
        return None
    value = call.args[0].value
    if not isinstance(value, str):
        return None
    if value.startswith("."):
        package = next((k.value for k in call.keywords if k.arg == "package"), None)
        if not (isinstance(package, ast.Constant) and isinstance(package.value, str)):
            return None
        level = len(value) - len(value.lstrip("."))
        return f"{package.value}.{value[level:]}" if value[level:] else package.value
    return value


def _table(module: str, name: str) -> dict[str, str] | None:
    for node in tree(module).body:
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AnnAssign)
            else []
        )
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            value = node.value  # type: ignore[union-attr]
            if isinstance(value, ast.Dict):
                return {
                    str(k.value): str(v.value)
                    for k, v in zip(value.keys, value.values, strict=True)
                    if isinstance(k, ast.Constant) and isinstance(v, ast.Constant)
                }
    return None


@cache
def imports() -> tuple[Import, ...]:
    """Every import between alliancelab's modules, static and (where readable) dynamic."""
    out: list[Import] = []
    for module in modules():
        for node, in_function in _walk(tree(module)):
            if isinstance(node, ast.Import | ast.ImportFrom):
                out += [Import(module, t, node.lineno, in_function) for t in _targets(module, node)]
        for call, in_function in _dynamic_calls(module):
            target = _literal_module(module, call)
            if target is not None and target.split(".")[0] == ROOT:
                out.append(Import(module, target, call.lineno, in_function, dynamic=True))
        spec = DYNAMIC.get(module)
        if spec is not None and spec.table is not None:
            table = _table(module, spec.table) or {}
            line = next((c.lineno for c, _ in _dynamic_calls(module)), 1)
            out += [
                Import(module, f"{spec.package}.{spec.parse(v)}", line, True, dynamic=True)
                for v in table.values()
            ]
    return tuple(out)


def graph() -> dict[str, dict[str, Import]]:
    """importer -> imported -> the first import that ties them (unknown modules dropped:
    test_every_import_names_a_module_that_exists reports them)."""
    out: dict[str, dict[str, Import]] = {m: {} for m in modules()}
    for imp in imports():
        if imp.imported in modules() and imp.imported != imp.importer:
            out[imp.importer].setdefault(imp.imported, imp)
    return out


# --------------------------------------------------------------------------- cycles
def strongly_connected(g: dict[str, dict[str, Import]]) -> list[list[str]]:
    """Tarjan's strongly connected components with more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in g[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return sorted(found)


def shortest_cycle(g: dict[str, dict[str, Import]], members: list[str]) -> list[str]:
    """A shortest cycle within one strongly connected component, as [a, b, ..., a]."""
    inside = set(members)
    best: list[str] | None = None
    for start in members:
        parent: dict[str, str] = {}
        frontier = [start]
        seen = {start}
        done = False
        while frontier and not done:
            nxt = []
            for v in frontier:
                for w in sorted(g[v]):
                    if w not in inside:
                        continue
                    if w == start:
                        path = [v]
                        while path[-1] != start:
                            path.append(parent[path[-1]])
                        cycle = [start, *reversed(path[:-1]), start]
                        if best is None or len(cycle) < len(best):
                            best = cycle
                        done = True
                        break
                    if w not in seen:
                        seen.add(w)
                        parent[w] = v
                        nxt.append(w)
                if done:
                    break
            frontier = nxt
    assert best is not None
    return best


def describe_cycle(g: dict[str, dict[str, Import]], cycle: list[str]) -> str:
    hops = [f"    {a} -> {b}  ({g[a][b].where()})" for a, b in zip(cycle, cycle[1:], strict=False)]
    return "\n".join(hops)


def test_no_import_cycles() -> None:
    g = graph()
    components = strongly_connected(g)
    report = []
    for comp in components:
        cycle = shortest_cycle(g, comp)
        ties = [
            f"    {a} -> {b}  ({imp.where()})"
            for a in comp
            for b, imp in sorted(g[a].items())
            if b in comp
        ]
        report.append(
            f"  a cycle among {len(comp)} modules ({', '.join(comp)}); the shortest loop:\n"
            + describe_cycle(g, cycle)
            + "\n   every import within them (break the cycle at one of these):\n"
            + "\n".join(ties)
        )
    assert not components, "import cycles (imports inside functions count):\n" + "\n".join(report)


def test_the_cycle_finder_finds_a_cycle() -> None:
    imp = Import("a", "b", 1, False)
    g: dict[str, dict[str, Import]] = {
        "a": {"b": imp},
        "b": {"c": imp},
        "c": {"a": imp},
        "d": {"a": imp},
    }
    (comp,) = strongly_connected(g)
    assert comp == ["a", "b", "c"]
    assert shortest_cycle(g, comp) == ["a", "b", "c", "a"]


def test_imports_inside_functions_and_relative_imports_are_read() -> None:
    """The reader sees the imports this test relies on (a guard against a reader that
    silently finds nothing)."""
    found = {(i.importer, i.imported) for i in imports()}
    assert ("alliancelab.api", "alliancelab.models.bargaining") in found
    assert ("alliancelab.models.bargaining", "alliancelab.models.bargaining.compromise") in found
    assert any(i.in_function for i in imports())


def test_every_import_names_a_module_that_exists() -> None:
    missing = [f"  {i.imported} ({i.where()})" for i in imports() if i.imported not in modules()]
    assert not missing, "imports of alliancelab modules that do not exist:\n" + "\n".join(missing)


# --------------------------------------------------------------------------- layers
def _layer_of(module: str) -> int | None:
    """The index in LAYERS of ``module`` (longest matching entry wins); None for the side
    package and for a module in no layer."""
    if module == SIDE_PACKAGE or module.startswith(SIDE_PACKAGE + "."):
        return None
    best, best_len = None, -1
    for rank, (_, names) in enumerate(LAYERS):
        for name in names:
            if name.endswith(".*"):
                pkg = name[:-2]
                hit = module.startswith(pkg + ".")
                length = len(pkg) + 1
            elif name == ROOT:
                hit, length = module == ROOT, len(name)
            else:
                hit = module == name or module.startswith(name + ".")
                length = len(name)
            if hit and length > best_len:
                best, best_len = rank, length
    return best


def _side_package_limit() -> int:
    return next(r for r, (label, _) in enumerate(LAYERS) if label == SIDE_PACKAGE_BELOW)


def _in(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_every_module_is_in_a_layer() -> None:
    lost = [m for m in modules() if _layer_of(m) is None and not _in(m, SIDE_PACKAGE)]
    assert not lost, f"modules in no layer (add them to LAYERS in {__name__}): {lost}"


def layer_violations() -> list[str]:
    out = []
    used: set[tuple[str, str]] = set()
    for importer, targets in graph().items():
        src = _layer_of(importer)
        for imported, imp in sorted(targets.items()):
            dst = _layer_of(imported)
            problem = None
            if _in(imported, SIDE_PACKAGE) and not _in(importer, SIDE_PACKAGE):
                problem = "imports the test side package"
            elif _in(importer, SIDE_PACKAGE):
                if dst is not None and dst >= _side_package_limit():
                    problem = (
                        f"is the test side package; it may only import below {SIDE_PACKAGE_BELOW}"
                    )
            elif src is not None and dst is not None and dst > src:
                problem = f"imports a higher layer ({LAYERS[src][0]} -> {LAYERS[dst][0]})"
            else:
                for low, high, why in FORBIDDEN:
                    if _in(importer, low) and _in(imported, high):
                        problem = f"is a forbidden import: {why}"
            if problem is None:
                continue
            if (importer, imported) in EXCEPTIONS:
                used.add((importer, imported))
                continue
            out.append(f"  {importer} -> {imported}: {problem} ({imp.where()})")
    stale = set(EXCEPTIONS) - used
    out += [f"  EXCEPTIONS entry {a} -> {b} is no longer needed; remove it" for a, b in stale]
    return out


def test_no_module_imports_a_higher_layer() -> None:
    bad = layer_violations()
    assert not bad, "imports against the layers (docs/architecture.md):\n" + "\n".join(bad)


def test_the_layer_table() -> None:
    assert (
        _layer_of("alliancelab")
        == _layer_of("alliancelab.api")
        == _layer_of("alliancelab.models.bargaining.bdm")
    )
    assert _layer_of("alliancelab.cases") == _layer_of("alliancelab.formats.yaml_case")
    assert _layer_of("alliancelab.cases.us_rok") == _layer_of("alliancelab.scenarios.uncertainty")
    assert _layer_of("alliancelab.testing.strategies") is None
    assert _layer_of("alliancelab.core.case") == 0
    assert _layer_of("alliancelab.__main__") == len(LAYERS) - 1
    assert _layer_of("alliancelab.nowhere") is None


# --------------------------------------------------------------------------- dynamic imports
def test_dynamic_imports_of_alliancelab_modules_only_in_the_registries() -> None:
    bad = []
    for module in modules():
        for call, _ in _dynamic_calls(module):
            if _third_party(module, call) or module in DYNAMIC:
                continue
            args = ", ".join(ast.unparse(a) for a in call.args)
            bad.append(f"  {path_of(module)}:{call.lineno}: {ast.unparse(call.func)}({args})")
    allowed = "\n".join(f"  {m}: {d.reason}" for m, d in DYNAMIC.items())
    assert not bad, (
        "importlib.import_module of alliancelab modules outside the registries (import the "
        "module plainly, so the tie is visible):\n"
        + "\n".join(bad)
        + f"\nthe allowed places:\n{allowed}"
    )


def test_the_registries_tables_are_read() -> None:
    for module, spec in DYNAMIC.items():
        if module not in modules() or spec.table is None:
            continue
        table = _table(module, spec.table)
        assert table, f"{path_of(module)}: no dict {spec.table} of string values to read"
        for value in table.values():
            target = f"{spec.package}.{spec.parse(value)}"
            assert target in modules(), f"{spec.table} names {target}, which does not exist"


# --------------------------------------------------------------------------- fallbacks
def test_no_optional_helper() -> None:
    bad = [
        f"  {path.relative_to(SRC.parent)}:{n}"
        for path in sorted((SRC / ROOT).rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "_optional(" in line
    ]
    assert not bad, "an _optional( helper (import the module that ships):\n" + "\n".join(bad)


def _guards_own_import(module: str, node: ast.Try) -> bool:
    calls = {id(c) for c, _ in _dynamic_calls(module) if not _third_party(module, c)}
    for stmt in node.body:
        for sub in [stmt, *(n for n, _ in _walk(stmt))]:
            if isinstance(sub, ast.Import | ast.ImportFrom) and _targets(module, sub):
                return True
            if isinstance(sub, ast.Call) and id(sub) in calls:
                return True
    return False


def _falls_back(handler: ast.ExceptHandler) -> bool:
    """Whether the handler carries on without the module (anything but ending in ``raise``
    with no way out before it: re-raising as a one-line error naming the extra is fine)."""
    ends_raising = bool(handler.body) and isinstance(handler.body[-1], ast.Raise)
    escapes = any(
        isinstance(n, ast.Continue | ast.Break | ast.Return | ast.Pass)
        for stmt in handler.body
        for n in [stmt, *(m for m, _ in _walk(stmt))]
    )
    return not ends_raising or escapes


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    names = {"ImportError", "ModuleNotFoundError"}
    t = handler.type
    items = t.elts if isinstance(t, ast.Tuple) else [t] if t is not None else []
    return any(isinstance(i, ast.Name) and i.id in names for i in items) or t is None


def test_no_import_error_fallback_for_a_module_that_ships() -> None:
    """``try: import <an alliancelab module> except ImportError: <carry on>`` hides a module
    that ships (the same thing as ``_optional``). Re-raising as the one-line error that names
    a missing dependency (``pip install .``) is no fallback."""
    bad = [
        f"  {path_of(module)}:{node.lineno}"
        for module in modules()
        for node, _ in _walk(tree(module))
        if isinstance(node, ast.Try)
        and any(_catches_import_error(h) and _falls_back(h) for h in node.handlers)
        and _guards_own_import(module, node)
    ]
    assert not bad, "ImportError fallbacks around alliancelab modules:\n" + "\n".join(bad)


# --------------------------------------------------------------------------- the side package
def test_no_runtime_module_imports_the_testing_package_or_hypothesis() -> None:
    bad = []
    for module in modules():
        if _in(module, SIDE_PACKAGE):
            continue
        for node, _ in _walk(tree(module)):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            else:
                names = []
            for name in names:
                if name.split(".")[0] == "hypothesis":
                    bad.append(f"  {path_of(module)}:{node.lineno}: imports {name}")
        bad += [
            f"  {imp.where()}: imports {imp.imported}"
            for imp in imports()
            if imp.importer == module and _in(imp.imported, SIDE_PACKAGE)
        ]
    assert not bad, (
        "runtime modules that need the testing extra (Hypothesis is not a runtime "
        "dependency):\n" + "\n".join(bad)
    )


_NO_HYPOTHESIS = """
import sys
sys.modules["hypothesis"] = None  # any import of hypothesis now raises ImportError
import alliancelab
from alliancelab.cli import build_parser, main
build_parser()  # imports every sub-command's module
assert main(["cases"]) == 0
try:
    import alliancelab.testing
except ImportError as exc:
    assert "pip install alliancelab[testing]" in str(exc), str(exc)
    print("ok")
else:
    raise SystemExit("alliancelab.testing imported without hypothesis")
"""


def test_alliancelab_and_the_cli_work_without_hypothesis() -> None:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.run(
        [sys.executable, "-c", _NO_HYPOTHESIS],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0 and proc.stdout.strip().endswith("ok"), proc.stderr[-3000:]


@pytest.mark.parametrize("module", ["alliancelab.testing", "alliancelab.testing.engine_checks"])
def test_the_testing_package_is_importable(module: str) -> None:
    __import__(module)
