"""The package map holds: no import cycles, and dependencies pointing one way (see ARCHITECTURE.md)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support import ROOT

PACKAGE = ROOT / "digest"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, *, module_level_only: bool) -> set[str]:
    """digest modules that ``path`` imports (at module level only, or anywhere), TYPE_CHECKING blocks excluded."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()

    def visit(node: ast.AST, top: bool) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("digest") and (top or not module_level_only))
        elif (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith("digest")
            and (top or not module_level_only)
        ):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        for child in ast.iter_child_nodes(node):
            nested = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda)
            visit(child, top and not nested)

    visit(tree, True)
    return found


def graph(module_level_only: bool) -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {
        name: {
            m for m in imports(path, module_level_only=module_level_only) if m in modules and m not in (name, "digest")
        }
        for name, path in modules.items()
    }


def test_no_import_cycles_between_modules() -> None:
    edges = graph(module_level_only=False)  # an import moved into a function to dodge a cycle is still one
    cycles: list[list[str]] = []
    state: dict[str, int] = {}

    def walk(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges[node]):
            # a package's __init__ importing its own submodules is how packages are built, not a cycle
            if node.startswith(nxt + ".") or nxt.startswith(node + "."):
                continue
            if state.get(nxt) == 1:
                cycles.append([*trail[trail.index(nxt) :], nxt] if nxt in trail else [node, nxt])
            elif nxt not in state:
                walk(nxt, [*trail, nxt])
        state[node] = 2

    for start in sorted(edges):
        if start not in state:
            walk(start, [start])
    assert cycles == []


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "digest"


# What each bottom layer may import (anywhere in the module, lazily or not).
ALLOWED = {
    "models": {"placeholders"},  # Rendered fills its slots
    "placeholders": set(),
    "clock": {"errors"},
    "errors": set(),
    "i18n": {"errors"},  # labels and dates in the reader's language: a leaf every layer may use
    "store": {"store", "models", "errors", "clock"},
}


def test_lower_layers_never_import_upper_ones() -> None:
    wrong = sorted(
        f"{name} imports {dep}"
        for name, deps in graph(module_level_only=False).items()
        if layer(name) in ALLOWED
        for dep in deps
        if layer(dep) not in ALLOWED[layer(name)] | {layer(name)}
    )
    assert wrong == []


def test_sending_never_imports_the_renderer() -> None:
    """Send takes the rendered artefact (``models.Rendered``) from its caller; it cannot compile anything."""
    edges = graph(module_level_only=False)
    wrong = sorted(
        f"{name} imports {dep}"
        for name, deps in edges.items()
        if layer(name) == "send"
        for dep in deps
        if layer(dep) == "render"
    )
    assert wrong == []
    assert "digest.models" in edges["digest.send"] and "digest.models.Rendered" in imports(
        PACKAGE / "send" / "__init__.py", module_level_only=False
    )


def test_store_comes_before_config_wherever_both_are_taken() -> None:
    """One argument order everywhere: ``(store, config, ...)``."""
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                names = [a.arg for a in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)]
                if {"store", "config"} <= set(names) and names.index("config") < names.index("store"):
                    wrong.append(f"{module_name(path)}.{node.name}")
    assert wrong == []
