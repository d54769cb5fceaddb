"""Imports point one way (review → catalogue → glamml.ml) and never in a cycle.

Read from the source, so an import inside a function counts as much as one at the top.
"""

from __future__ import annotations

import ast
import functools
import graphlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("glamml", "catalogue", "review")


# Each source file is read and parsed once per process, not once per test (about 0.7 s of CPU for
# every module of the three packages): the three checks below read the same files.
@functools.cache
def _modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _imported(name: str, path: Path, node: ast.Import | ast.ImportFrom) -> set[str]:
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names}
    base = node.module or ""
    if node.level:
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        package = package[: len(package) - node.level + 1]
        base = ".".join([*package, base] if base else package)
    # ``from catalogue.services import training``: the module imported is the submodule.
    return {f"{base}.{alias.name}" for alias in node.names} | {base}


@functools.cache
def imports_of(name: str, path: Path) -> frozenset[str]:
    """Everything a module imports anywhere in its source (and the packages named on the way)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import | ast.ImportFrom):
            found |= _imported(name, path, node)
    return frozenset(found)


def import_graph() -> dict[str, set[str]]:
    """Every project module and the project modules it imports."""
    modules = _modules()
    return {
        name: {m for m in imports_of(name, path) if m in modules and m != name}
        for name, path in modules.items()
    }


def test_no_module_imports_itself_back_through_others():
    try:
        graphlib.TopologicalSorter(import_graph()).prepare()
    except graphlib.CycleError as exc:
        raise AssertionError(f"import cycle: {' → '.join(exc.args[1])}") from None


def test_the_ml_core_imports_no_django_and_catalogue_nothing_of_review():
    wrong = [
        f"{module} imports {imported}"
        for module, path in _modules().items()
        for imported in imports_of(module, path)
        if (
            module.startswith("glamml.ml")
            and imported.split(".")[0] in {"django", "catalogue", "review"}
        )
        or (module.startswith("catalogue") and imported.split(".")[0] == "review")
    ]
    assert wrong == []


def test_services_hand_work_to_the_queue_by_name_never_by_importing_the_tasks():
    wrong = [
        module
        for module, imports in import_graph().items()
        if module.startswith("catalogue.services") and "catalogue.tasks" in imports
    ]
    assert wrong == []


def test_the_graph_sees_imports_inside_functions(tmp_path):
    # The checks above are only worth something if a function-level import is an edge.
    path = tmp_path / "example.py"
    path.write_text("def f():\n    from catalogue.tasks import train_field\n", encoding="utf-8")
    node = next(n for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.ImportFrom))
    assert "catalogue.tasks" in _imported("catalogue.services.example", path, node)
