"""The package's layout is its pipeline: imports point one way, from later stages to earlier.

source (content) <- render (HTML, WeasyPrint) <- assemble (pypdf merge) <- finish (profiles,
PDF/A) <- jobs (documents, packs, batches) <- api <- cli. The shared leaves (errors, output,
options) import nothing of briefing but each other. Every import counts, those inside
functions too: a lazy import still ties two modules together.
"""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import REPO

PACKAGE = REPO / "briefing"
LAYERS = ["errors", "output", "options", "source", "render", "assemble", "finish", "jobs",
          "starter", "preview", "send", "api", "cli", "__init__", "__main__"]
SHARED = {"errors", "output", "options"}


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Every module this file imports, absolute names; relative imports are resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base]) if base else ".".join(anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
GRAPH = {name: {m for m in imports(path) if m in MODULES and m != name}
         for name, path in MODULES.items()}


def layer(module: str) -> int:
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else "__init__"
    return LAYERS.index(top)


def test_imports_point_from_later_stages_to_earlier() -> None:
    wrong = [f"{a} imports {b}" for a, deps in GRAPH.items() for b in deps
             if b != "briefing" and layer(b) > layer(a)]
    assert wrong == []


def test_no_import_cycle() -> None:
    done: set[str] = set()
    path: list[str] = []

    def visit(node: str) -> None:
        if node in path:
            raise AssertionError("import cycle: " + " -> ".join([*path[path.index(node):], node]))
        if node in done:
            return
        path.append(node)
        for dep in sorted(GRAPH[node] - {"briefing"}):
            visit(dep)
        path.pop()
        done.add(node)

    for module in MODULES:
        visit(module)


def test_weasyprint_only_in_render_and_pypdf_never_in_source() -> None:
    misplaced = []
    for name, path in MODULES.items():
        used = {m.split(".")[0] for m in imports(path)}
        if used & {"weasyprint", "pydyf"} and not name.startswith("briefing.render"):
            misplaced.append(f"{name} imports weasyprint")
        early = name.startswith(("briefing.source", "briefing.render"))
        if "pypdf" in used and (early or name.split(".")[-1] in SHARED):
            misplaced.append(f"{name} imports pypdf")
    assert misplaced == []


def test_the_stage_packages_exist() -> None:
    for stage in ("source", "render", "assemble", "finish", "jobs"):
        assert (PACKAGE / stage / "__init__.py").is_file(), stage
