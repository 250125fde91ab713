"""The layering the code keeps: three doors over one domain, and no cycles inside the domain.

Read from the source with ``ast`` (nothing is imported), so the check is cheap and
covers imports inside functions too.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOORS = ("main_service", "api_service", "background_service")
PACKAGES = ("shared", *DOORS)


def _modules(package: str) -> Iterator[tuple[str, Path]]:
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), path


def _imports(name: str, path: Path) -> set[str]:
    """Every module ``name`` imports (absolute, resolved as far as the source shows)."""
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


@functools.cache
def _graph() -> dict[str, set[str]]:
    """Each module of the four packages -> the modules of theirs it imports (parsed once, when first asked)."""
    modules = {name: path for package in PACKAGES for name, path in _modules(package)}
    return {name: {m for m in _imports(name, path) if m in modules and m != name} for name, path in modules.items()}


def _top(module: str) -> str:
    return module.split(".", 1)[0]


@pytest.mark.parametrize("door", DOORS)
def test_a_door_imports_no_other_door(door):
    crossings = sorted(
        f"{name} imports {target}"
        for name, targets in _graph().items()
        if _top(name) == door
        for target in targets
        if _top(target) in DOORS and _top(target) != door
    )
    assert crossings == []


def test_the_domain_imports_no_door():
    crossings = sorted(
        f"{name} imports {target}"
        for name, targets in _graph().items()
        if _top(name) == "shared"
        for target in targets
        if _top(target) in DOORS
    )
    assert crossings == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _without_package_parents(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Edges between modules; a package's ``__init__`` re-exporting its own modules is not a cycle."""
    return {
        name: {t for t in targets if not t.startswith(name + ".") and not name.startswith(t + ".")}
        for name, targets in graph.items()
    }


def test_the_domain_has_no_import_cycles():
    shared = {n: {t for t in ts if _top(t) == "shared"} for n, ts in _graph().items() if _top(n) == "shared"}
    assert _cycles(_without_package_parents(shared)) == []


# ---------------------------------------------------------------- one vocabulary

# A state's spelling lives in shared/models/enums.py only; everything else names the enum member.
STATE_WORDS = sorted(
    {
        "draft", "open", "partially_paid", "paid", "void",
        "queued", "sending", "sent", "failed", "cancelled",
        "pending", "approved", "declined",
        "paused", "ended",
    }
)  # fmt: skip
_LITERAL = re.compile(r"""(?<![\w.-])(['"])({})\1""".format("|".join(STATE_WORDS)))
_TEMPLATE_COMPARISON = re.compile(r"""(==|!=|\bin\b|\bis\b)\s*[\(\[]?\s*(['"])({})\2""".format("|".join(STATE_WORDS)))


def _status_literals(path: Path, pattern: re.Pattern) -> list[str]:
    """Lines spelling a state; a line that uses one of these words for something else says so."""
    hits = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if pattern.search(line) and "# not a state" not in line:
            hits.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    return hits


def test_no_status_literal_outside_the_enums_module():
    enums = ROOT / "shared" / "models" / "enums.py"
    migrations = ROOT / "migrations"
    hits = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path == enums or migrations in path.parents:
                continue
            hits += _status_literals(path, _LITERAL)
    assert hits == []


def test_templates_ask_named_questions_instead_of_comparing_states():
    hits = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.html")):
            hits += _status_literals(path, _TEMPLATE_COMPARISON)
    assert hits == []
