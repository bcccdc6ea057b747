"""ntc_jury.core must stay framework-free: only the standard library and ntc_jury itself."""

import ast
import sys
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "ntc_jury" / "core"
ALLOWED = frozenset(sys.stdlib_module_names) | {"ntc_jury"}


def imported_top_level_modules(source: str) -> set[str]:
    """Absolute imports of `source` as top-level module names (relative imports skipped)."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.partition(".")[0])
    return names


def core_files() -> list[Path]:
    return sorted(CORE.rglob("*.py"))


def test_core_files_found():
    assert {"__init__.py", "suggestion.py"} <= {p.name for p in core_files()}


@pytest.mark.parametrize("path", core_files(), ids=lambda p: p.relative_to(CORE).as_posix())
def test_core_imports_only_stdlib(path):
    imported = imported_top_level_modules(path.read_text(encoding="utf-8"))
    assert not imported - ALLOWED, f"{path.name} imports non-stdlib {imported - ALLOWED}"


def test_core_has_imports_to_check():
    found = set().union(*(imported_top_level_modules(p.read_text("utf-8")) for p in core_files()))
    # Guards against a parser change that would make the purity check pass vacuously.
    assert {"dataclasses", "enum"} <= found


@pytest.mark.parametrize(
    ("source", "imported", "forbidden"),
    [
        pytest.param("import flask", {"flask"}, {"flask"}, id="plain-import"),
        pytest.param(
            "from sqlalchemy.orm import Session", {"sqlalchemy"}, {"sqlalchemy"}, id="submodule"
        ),
        pytest.param("import os.path, yaml as y", {"os", "yaml"}, {"yaml"}, id="several-aliases"),
        pytest.param(
            "def f():\n    import flask_babel", {"flask_babel"}, {"flask_babel"}, id="nested"
        ),
        pytest.param("from ntc_jury.core import grids", {"ntc_jury"}, set(), id="own-package"),
        pytest.param("from . import grids\nfrom .grids import x", set(), set(), id="relative"),
    ],
)
def test_import_collector_catches_third_party(source, imported, forbidden):
    found = imported_top_level_modules(source)
    assert found == imported
    assert found - ALLOWED == forbidden
