"""The package layout says the architecture: folders in layers, and no import cycles.

Read from the source (every ``import`` and ``from ... import`` statement, lazy ones
inside functions included), not from a running interpreter, so an import hidden in a
function counts as much as one at the top.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, Set

PACKAGE = Path(__file__).resolve().parents[1] / "infnminio_boto"
# Each folder may import from the folders before it (and from itself); the modules at
# the root (errors, _log, _timestamps) come before all of them. The root __init__ (the lazy public
# API), __main__ and the dask alias may import anything but the CLI; only the CLI imports
# the root __init__ (for the version), and nothing imports the CLI.
LAYERS = [
    "compat",
    "settings",
    "sources",
    "sts",
    "keys",
    "profiles",
    "integrations",
    "adapters",
    "sandbox",
    "cli",
]
BASE = {"errors", "_log", "_timestamps", "_files"}
ANYTHING = {"__init__", "__main__", "dask"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> Set[str]:
    """Every module of the package that ``path`` imports, as dotted names."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: Set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("infnminio_boto"):
                continue
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                found.add(candidate if exists(candidate) else target)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("infnminio_boto"))
    return {module for module in found if module != name}


def exists(dotted: str) -> bool:
    path = PACKAGE.parent.joinpath(*dotted.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def graph() -> Dict[str, Set[str]]:
    return {module_name(p): imports_of(p) for p in PACKAGE.rglob("*.py")}


def top(dotted: str) -> str:
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_there_is_no_import_cycle():
    edges = graph()
    state: Dict[str, int] = {}
    stack: list = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for target in sorted(edges.get(node, ())):
            if state.get(target) == 1:
                cycle = [*stack[stack.index(target) :], target]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if target in edges and not state.get(target):
                visit(target)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if not state.get(node):
            visit(node)


def test_each_folder_imports_only_the_folders_before_it():
    wrong = []
    for module, targets in graph().items():
        source = top(module)
        if source in ANYTHING:
            if (
                any(top(target) == "cli" for target in targets)
                and module != "infnminio_boto.__main__"
            ):
                wrong.append(f"{module} imports the command line")
            continue
        for target in targets:
            destination = top(target)
            if destination in BASE or destination == source:
                continue
            if destination == "__init__" and source == "cli":
                continue
            allowed = (
                source in LAYERS
                and destination in LAYERS
                and (LAYERS.index(destination) < LAYERS.index(source))
            )
            if source in BASE or not allowed:
                wrong.append(f"{module} imports {target}")
    assert not wrong, "\n".join(sorted(wrong))


def test_the_root_holds_only_the_public_entry_points():
    root = {p.stem for p in PACKAGE.glob("*.py")}
    assert root == BASE | ANYTHING, root
    folders = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert folders == set(LAYERS), folders


# Each extension point has one table; anything that chooses by a kind's, a server's or a
# library's name (a comparison, a dict key, a look-up by a literal name) belongs there.
# A module may still say its own name (a source class's ``kind``, an adapter recording
# its library in an activation's changes): that is not a choice among them.
NAMED = {
    "token kind": (
        {"file", "command", "oidc-agent", "loader", "variable", "argument"},
        {"settings/hot_path.py", "sources/discovery.py"},  # the table, and the order
    ),
    "server": ({"rgw", "minio", "generic"}, {"settings/servers.py"}),
    "library": ({"boto3", "fsspec", "pyarrow", "polars", "duckdb"}, {"adapters/activate.py"}),
}


def choices_by_name(tree: ast.AST, names: Set[str]) -> list:
    """Line numbers where a literal name from ``names`` is compared with, used as a key,
    or looked up by."""
    found = []

    def literal(node: ast.AST) -> bool:
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return any(literal(item) for item in node.elts)
        return isinstance(node, ast.Constant) and node.value in names

    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and any(
            literal(each) for each in [node.left, *node.comparators]
        ):
            found.append(node.lineno)
        elif isinstance(node, ast.Dict) and any(k is not None and literal(k) for k in node.keys):
            found.append(node.lineno)
        elif isinstance(node, ast.Subscript) and literal(node.slice):
            found.append(node.lineno)
    return found


def test_kinds_servers_and_libraries_are_chosen_only_in_their_tables():
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith("sandbox/"):  # a user of the settings (a real RGW's)
            continue
        tree = ast.parse(path.read_text())
        for what, (names, tables) in NAMED.items():
            if relative not in tables:
                wrong += [f"{relative}:{line} chooses by a {what}'s name"
                          for line in choices_by_name(tree, names)]
    assert not wrong, "\n".join(sorted(wrong))


def test_the_name_check_finds_what_it_looks_for():
    code = 'if token.kind == "file": pass\nx = {"duckdb": 1}\ny = SERVERS["rgw"]\n'
    tree = ast.parse(code)
    assert choices_by_name(tree, {"file"}) == [1]
    assert choices_by_name(tree, {"duckdb"}) == [2]
    assert choices_by_name(tree, {"rgw"}) == [3]
