"""The architecture as the folders show it, held by tests: checks/ is pure and has no import cycle,
flows/ is organised by role, every package says its job, and no module outgrows a reading."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from checks.registry import all_rules, families, family_modules
from tests.support.paths import ROOT

PACKAGES = ("checks", "flows", "schemas", "reports", "data")
# checks/ and schemas/ are pure: no orchestration, rendering, GE, storage or our own I/O layers
PURE_FORBIDDEN = {"prefect", "jinja2", "great_expectations", "duckdb", "dask", "flows", "reports"}
MAX_LINES = 400


def _modules(package: str) -> dict[str, Path]:
    found = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _imports(path: Path) -> set[str]:
    """Every module an import statement names, at any depth (function-level imports too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_checks_has_no_import_cycle() -> None:
    modules = _modules("checks")
    graph = {m: {i for i in _imports(p) if i in modules and i != m} for m, p in modules.items()}
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        if module in path:
            cycle = " -> ".join((*path[path.index(module) :], module))
            pytest.fail(f"import cycle in checks/: {cycle}")
        if module in done:
            return
        for target in sorted(graph[module]):
            visit(target, (*path, module))
        done.add(module)

    for module in sorted(graph):
        visit(module, ())


@pytest.mark.parametrize("package", ["checks", "schemas"])
def test_pure_packages_import_no_io_layer(package: str) -> None:
    for module, path in _modules(package).items():
        bad = {i for i in _imports(path) if i.split(".")[0] in PURE_FORBIDDEN}
        assert not bad, f"{module} imports {sorted(bad)}"


def test_flows_is_organised_by_role() -> None:
    top = sorted(p.name for p in (ROOT / "flows").iterdir() if p.name != "__pycache__")
    assert len(top) <= 10, top
    assert all((ROOT / "flows" / p / "__init__.py").exists() for p in top if "." not in p)


@pytest.mark.parametrize("package", PACKAGES)
def test_every_package_says_its_job(package: str) -> None:
    for module, path in _modules(package).items():
        if path.name == "__init__.py":
            doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
            assert doc and len(doc.split()) >= 8, f"{module}: no docstring saying its job"


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_outgrows_a_reading(package: str) -> None:
    for module, path in _modules(package).items():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        assert lines <= MAX_LINES, f"{module}: {lines} lines (split it by role)"


def test_a_family_is_a_module_and_its_rule_ids_share_one_prefix() -> None:
    assert families() == family_modules()
    prefixes = {f: {r.rule_id.split("-")[0] for r in all_rules().values() if r.family == f}
                for f in families()}  # fmt: skip
    assert all(len(p) == 1 for p in prefixes.values()), prefixes
    assert len({next(iter(p)) for p in prefixes.values()}) == len(prefixes), prefixes
    # truth tables mirror the families: tests/checks/rules/test_<family>.py
    tables = {p.stem.removeprefix("test_") for p in (ROOT / "tests/checks/rules").glob("test_*.py")}
    assert set(families()) <= tables
