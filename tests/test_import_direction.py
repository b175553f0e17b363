"""Data flows one way: the engine imports no presentation, and nothing imports the CLI.

Read from the source (every ``import`` and ``from ... import``, those inside functions
and under ``TYPE_CHECKING`` too), so a lazy import cannot hide a cycle.

- No module under ``allocator/engine/`` reaches a presentation module (reports, the
  HTML page, the CLI, the web app, ``explain``, ``analysis``, ``recommend``), directly
  or through the modules it imports.
- Nothing outside the ``allocator/cli/`` package imports any of its modules but
  ``launch.py``, the entry point that loads it (the sweep once did, for the CLI's
  value limits: they live in ``allocator.contract.limits`` now); the benchmarks neither.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

import allocator

ROOT = Path(allocator.__file__).parent
#: Modules that present results to people, or take commands from them.
PRESENTATION = (
    "allocator.present.terminal",
    "allocator.present.html_report",
    "allocator.cli",
    "allocator.web",
    "allocator.explain.reasons",
    "allocator.present.analysis",
    "allocator.problems.recommend",
)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


@cache
def imports(name: str) -> frozenset[str]:
    """The ``allocator`` modules ``name`` imports anywhere in its source."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            # ``from allocator import cli``: a module imported by name.
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return frozenset(m for m in found if m in MODULES)


def reached(name: str) -> set[str]:
    """Every ``allocator`` module ``name`` imports, directly or not."""
    seen: set[str] = set()
    todo = [name]
    while todo:
        for m in imports(todo.pop()):
            if m not in seen:
                seen.add(m)
                todo.append(m)
    return seen


def is_presentation(name: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in PRESENTATION)


ENGINE = sorted(m for m in MODULES if m.startswith("allocator.engine"))


def test_the_engine_modules_are_found() -> None:
    assert {"allocator.engine.core", "allocator.engine.model", "allocator.engine.solve"} <= set(
        ENGINE
    )


@pytest.mark.parametrize("name", ENGINE)
def test_the_engine_imports_no_presentation(name: str) -> None:
    bad = sorted(m for m in reached(name) if is_presentation(m))
    assert not bad, f"{name} reaches {bad}"


def in_cli(name: str) -> bool:
    return name == "allocator.cli" or name.startswith("allocator.cli.")


def test_the_cli_modules_are_found() -> None:
    assert {"allocator.cli", "allocator.cli.group", "allocator.cli.morning"} <= set(MODULES)


def test_nothing_imports_the_cli_but_the_launcher() -> None:
    importers = sorted(m for m in MODULES if not in_cli(m) and any(in_cli(i) for i in imports(m)))
    assert importers == ["allocator.launch"]


def test_the_benchmarks_import_no_cli() -> None:
    for path in sorted((ROOT.parent / "benchmarks").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
            else:
                continue
            assert not any(in_cli(n) for n in names), f"{path}:{node.lineno} imports the CLI"
