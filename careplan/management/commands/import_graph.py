"""``manage.py import_graph``: the import graph of the project's own packages, and its
circles.

Reads the source (``ast``, nothing is imported) of every installed app under the
project directory, migrations excepted, and draws an edge for every import of another
project module: at module level, inside functions and classes too (an import inside a
function still ties the two modules together), but not under ``if TYPE_CHECKING:``.
A package's ``__init__`` counts as the module ``pkg``; an import of a submodule of a
package does not count as an import of the package's ``__init__``.

Prints every strongly connected component of more than one module (a circle), with
the imports that close it, and exits with status 1 if there is one. ``--inner`` lists
the imports inside functions, and which of them have no comment beside them (the line
itself or the line above) saying why they are there.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the imported project module
    line: int
    inner: bool  # inside a function
    reason: bool  # a comment on the line or the line above


def project_roots(base: Path) -> list[Path]:
    """The top-level packages of the installed apps that live in the project."""
    roots = set()
    for config in apps.get_app_configs():
        path = Path(config.path).resolve()
        if base in path.parents and "site-packages" not in path.parts:
            top = path.relative_to(base).parts[0]
            if not top.startswith("."):
                roots.add(base / top)
    return sorted(roots)


def module_files(base: Path, roots: Iterable[Path]) -> dict[str, Path]:
    modules = {}
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            rel = path.relative_to(base)
            if "migrations" in rel.parts:
                continue
            parts = list(rel.with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(node: ast.AST, inner: bool = False) -> Iterator[tuple[ast.AST, bool]]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for other in child.orelse:
                yield from _walk_one(other, inner)
            continue
        yield from _walk_one(child, inner)


def _walk_one(node: ast.AST, inner: bool) -> Iterator[tuple[ast.AST, bool]]:
    yield node, inner
    is_function = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
    yield from _walk(node, inner or is_function)


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> list[Import]:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source, filename=str(path))
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    found = []
    seen: set[tuple[str, int]] = set()

    def has_reason(lineno: int) -> bool:
        here = lines[lineno - 1]
        above = lines[lineno - 2].strip() if lineno > 1 else ""
        return "#" in here or above.startswith("#")

    def add(target: str, node: ast.stmt, inner: bool) -> None:
        while target and target not in modules:
            target = target.rpartition(".")[0]
        if target and target != name and (target, node.lineno) not in seen:
            seen.add((target, node.lineno))
            found.append(Import(name, target, node.lineno, inner, has_reason(node.lineno)))

    for node, inner in _walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, node, inner)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                if node.level > 1:
                    base = base[: -(node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            for alias in node.names:
                candidate = f"{module}.{alias.name}"
                add(candidate if candidate in modules else module, node, inner)
    return found


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iteratively; components of more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        components.append(sorted(component))
    return sorted(components)


def build(base: Path | None = None) -> tuple[dict[str, set[str]], list[Import]]:
    base = (base or Path(settings.BASE_DIR)).resolve()
    modules = module_files(base, project_roots(base))
    graph: dict[str, set[str]] = {name: set() for name in modules}
    edges = []
    for name, path in modules.items():
        for edge in imports_of(name, path, modules):
            graph[name].add(edge.target)
            edges.append(edge)
    return graph, edges


class Command(BaseCommand):
    help = "Print the import circles between the project's modules; exit 1 if any."

    def add_arguments(self, parser):
        parser.add_argument(
            "--inner",
            action="store_true",
            help="List the imports of project modules inside functions.",
        )

    def handle(self, *args, inner: bool = False, **options):
        graph, edges = build()
        components = strongly_connected(graph)
        for component in components:
            members = set(component)
            self.stdout.write(f"circle: {' ↔ '.join(component)}")
            for edge in edges:
                if edge.source in members and edge.target in members:
                    where = "in a function" if edge.inner else "module level"
                    self.stdout.write(
                        f"    {edge.source}:{edge.line} imports {edge.target} ({where})"
                    )
        inside = [e for e in edges if e.inner]
        if inner:
            for edge in inside:
                mark = "" if edge.reason else "  [no reason given]"
                self.stdout.write(f"inner import {edge.source}:{edge.line} → {edge.target}{mark}")
        self.stdout.write(
            f"{len(graph)} modules, {len(edges)} imports of project modules "
            f"({len(inside)} inside functions, "
            f"{sum(not e.reason for e in inside)} of those without a reason), "
            f"{len(components)} circle(s)."
        )
        if components:
            sys.stdout.flush()
            raise CommandError(f"{len(components)} import circle(s)", returncode=1)
