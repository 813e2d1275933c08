"""The shape of the code, checked from its source: which module imports which.

The graph is built from the AST of every module in cms/ and sitecontent/ (migrations
left out: they run only under ``migrate`` and import nothing of ours). Every import
statement counts, wherever it is, a function-level one too: an import deferred to the
first call still ties the two modules together, and a cycle through one is a cycle.

Dependencies run one way (the README's tour draws them):

    admin, api, public  ->  publishing, media, caching  ->  roles, models

and the project package (cms) names the app only where it wires URLs together.
"""

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("cms", "sitecontent")

# The layers, as dotted prefixes: a module is in a layer when its name is one of these
# or starts with one plus a dot.
WEB = ("sitecontent.admin", "sitecontent.api", "sitecontent.public")
DOMAIN = ("sitecontent.publishing", "sitecontent.media", "sitecontent.caching")
BASE = ("sitecontent.roles", "sitecontent.models")

# Libraries inside a layer's folder that any layer may use: they work on bytes alone and
# import nothing of the app but each other (checked below, so the allowance cannot rot).
# The models' file validators run the byte checks: a stored file is checked by the
# same code whichever way it arrived (admin form, S3 upload, a command).
LIBRARIES = ("sitecontent.media.inspection", "sitecontent.media.imageformats")

# Where the project package may name the app: the URLconfs that mount its views, and
# the release's smoke test, which reads the newest live article to request it.
CMS_INTO_SITECONTENT = {"cms.urls", "cms.public_urls", "cms.management.commands.release_smoke"}

# Eight: what stored data or configuration names by dotted path (events, tasks, roles,
# richtext), apps, signals, and the package itself.
MAX_ROOT_MODULES = 8


# -- the graph ---------------------------------------------------------------------


def module_files(root: Path, packages=PACKAGES) -> dict[str, Path]:
    """Dotted module name -> source file, for every module of ``packages`` under ``root``."""
    found = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            relative = path.relative_to(root)
            if "migrations" in relative.parts:
                continue
            parts = list(relative.with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _resolve_relative(module: str, is_package: bool, level: int, name: str | None) -> str:
    """The absolute name ``from <level dots><name> import ...`` means inside ``module``."""
    base = module.split(".") if is_package else module.split(".")[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join([*base, *([name] if name else [])])


def imported_names(module: str, path: Path) -> set[tuple[str, ...]]:
    """What each import statement in ``path`` loads, anywhere in the file: for each
    imported name, the module names it may mean, most specific first.

    ``from pkg import name`` loads ``pkg.name`` when that is a submodule, else it takes
    a name defined in ``pkg``; ``import a.b.c`` loads ``a.b.c``. The caller keeps the
    first candidate that is a module of ours.
    """
    tree = ast.parse(path.read_text(), filename=str(path))
    is_package = path.name == "__init__.py"
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update((alias.name,) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                source = _resolve_relative(module, is_package, node.level, node.module)
            else:
                source = node.module
            names.update(
                (f"{source}.{alias.name}", source) if alias.name != "*" else (source,)
                for alias in node.names
            )
    return names


def import_graph(root: Path = ROOT, packages=PACKAGES) -> dict[str, set[str]]:
    """Module -> the modules of ``packages`` it imports (edges to the named module only,
    not to the packages above it, whose ``__init__`` Python runs first anyway)."""
    files = module_files(root, packages)
    graph = {}
    for module, path in files.items():
        edges = set()
        for candidates in imported_names(module, path):
            target = next((name for name in candidates if name in files), None)
            if target is None:
                # `import a.b.c` of no module of ours: the nearest one above, if any.
                target = candidates[-1]
                while target and target not in files:
                    target = target.rpartition(".")[0]
            if target and target != module:
                edges.add(target)
        graph[module] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (a path that comes back to its start) per strongly connected component
    of more than one module, found with Tarjan's algorithm."""
    index, low, on_stack, stack, components = {}, {}, set(), [], []
    counter = [0]
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(graph) + 100))

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
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
                components.append(set(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_cycle_in(graph, component) for component in components]


def _cycle_in(graph, component: set[str]) -> list[str]:
    """A shortest path from the component's first module back to itself (breadth first)."""
    start = min(component)
    previous = {start: None}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for target in sorted(graph[node] & component):
            if target == start:
                path = [node]
                while previous[path[-1]] is not None:
                    path.append(previous[path[-1]])
                return [*reversed(path), start]
            if target not in previous:
                previous[target] = node
                queue.append(target)
    raise AssertionError(f"no cycle in {component}")  # a component of 2+ always has one


def describe(found: list[list[str]]) -> str:
    return "\n".join(" -> ".join(cycle) for cycle in found)


def in_layer(module: str, layer) -> bool:
    return any(module == prefix or module.startswith(prefix + ".") for prefix in layer)


def crossings(graph, sources, targets) -> list[str]:
    """Edges from a module in ``sources`` to one in ``targets``, as "a -> b" lines."""
    return sorted(
        f"{module} -> {target}"
        for module, edges in graph.items()
        if in_layer(module, sources)
        for target in edges
        if in_layer(target, targets)
    )


@pytest.fixture(scope="module")
def graph():
    return import_graph()


# -- the builder itself, on a made-up package ----------------------------------------


def write_package(root: Path, files: dict[str, str]) -> None:
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)


def test_the_builder_catches_a_cycle_through_a_function_level_import(tmp_path):
    write_package(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from pkg import b\n",
            "pkg/b.py": "def later():\n    from pkg.sub import c\n    return c\n",
            "pkg/sub/__init__.py": "",
            "pkg/sub/c.py": "from .. import a  # relative, two levels up\n",
            "pkg/migrations/0001_initial.py": "import pkg.a\n",
        },
    )
    graph = import_graph(tmp_path, packages=("pkg",))
    assert graph["pkg.a"] == {"pkg.b"}  # `from pkg import b`: the submodule, not pkg
    assert graph["pkg.b"] == {"pkg.sub.c"}  # found inside the function
    assert graph["pkg.sub.c"] == {"pkg.a"}
    assert "pkg.migrations.0001_initial" not in graph
    assert cycles(graph) == [["pkg.a", "pkg.b", "pkg.sub.c", "pkg.a"]]


def test_the_builder_reads_names_imported_from_a_package_as_an_edge_to_it(tmp_path):
    write_package(
        tmp_path,
        {
            "pkg/__init__.py": "from pkg.models import Thing\n",
            "pkg/models/__init__.py": "from .thing import Thing\n",
            "pkg/models/thing.py": "import json\n\nclass Thing: ...\n",
            "pkg/views.py": "import pkg.models.missing\nfrom . import models\n",
        },
    )
    graph = import_graph(tmp_path, packages=("pkg",))
    assert graph["pkg"] == {"pkg.models"}
    assert graph["pkg.models"] == {"pkg.models.thing"}
    assert graph["pkg.models.thing"] == set()  # the standard library is not ours
    assert graph["pkg.views"] == {"pkg.models"}
    assert cycles(graph) == []


# -- the code's shape ----------------------------------------------------------------


def test_the_graph_sees_the_code(graph):
    """A guard on the guard: a builder that found nothing would pass every check below."""
    assert len(graph) > 80
    assert "sitecontent.models" in graph["sitecontent.public.views"]
    assert "cms.cdn" in graph["cms.purge_queue"]


def test_no_import_cycles(graph):
    found = cycles(graph)
    assert not found, f"import cycles (function-level imports included):\n{describe(found)}"


def test_at_most_eight_python_modules_directly_in_sitecontent():
    modules = sorted(path.name for path in (ROOT / "sitecontent").glob("*.py"))
    assert len(modules) <= MAX_ROOT_MODULES, modules


def test_publishing_media_and_caching_never_import_admin_api_or_public(graph):
    assert crossings(graph, DOMAIN, WEB) == []


def test_roles_and_models_import_no_subpackage_above_them(graph):
    above = [line for line in crossings(graph, BASE, WEB + DOMAIN)
             if line.split(" -> ")[1] not in LIBRARIES]  # fmt: skip
    assert above == []


def test_the_libraries_any_layer_may_use_import_nothing_of_the_app_but_each_other(graph):
    for library in LIBRARIES:
        ours = {t for t in graph[library] if in_layer(t, ("sitecontent",))}
        assert ours <= set(LIBRARIES), (library, ours)


def test_cms_names_sitecontent_only_where_it_wires_urls(graph):
    # Settings name the app by string (INSTALLED_APPS, ROOT_URLCONF), which is no import.
    found = {
        module
        for module, edges in graph.items()
        if in_layer(module, ("cms",)) and any(in_layer(t, ("sitecontent",)) for t in edges)
    }
    assert found <= CMS_INTO_SITECONTENT, crossings(graph, ("cms",), ("sitecontent",))
    assert found, "no cms module imports sitecontent: is CMS_INTO_SITECONTENT stale?"


def test_the_cdn_backends_are_a_leaf_and_purge_batching_needs_only_them(graph):
    """cms.cdn sends purges through the AWS client factory and nothing else of ours;
    the gathering (cms.purging) knows the queue and the task that sends it; the queue
    (cms.purge_queue) knows the backends, the records and the metrics, not the tasks."""
    assert graph["cms.aws"] == set()
    assert graph["cms.cdn"] <= {"cms.aws"}
    assert graph["cms.purging"] <= {"cms.purge_queue", "cms.tasks", "cms.models"}
    assert graph["cms.purge_queue"] <= {"cms.cdn", "cms.metrics", "cms.models"}


def test_task_run_records_have_one_home_that_both_backends_call(graph):
    """Django's immediate backend (by signals) and ours on Lambda record runs through
    cms.task_runs, which knows neither the tasks nor the backends (it records a failure's
    metric through cms.metrics, a leaf)."""
    assert graph["cms.task_runs"] == {"cms.models", "cms.metrics"}
    assert "cms.task_runs" in graph["cms.task_backends"]
    assert "cms.task_runs" in graph["cms.apps"]  # connects the immediate backend's signals
    assert "cms.task_backends" not in graph["cms.tasks"]


def test_describe_names_every_module_of_a_cycle():
    assert describe([["a", "b", "a"]]) == "a -> b -> a"


@pytest.mark.parametrize(
    ("graph_", "expected"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
        ({"a": {"b"}, "b": {"a"}}, [["a", "b", "a"]]),
        ({"a": {"b", "c"}, "b": {"c"}, "c": {"a"}, "d": {"d"}}, [["a", "c", "a"]]),
    ],
    ids=["chain", "pair", "shortest"],
)
def test_cycles_are_found_and_printed_shortest_first(graph_, expected):
    # A module importing itself is harmless (and the builder drops such edges).
    graph_ = {k: v - {k} for k, v in graph_.items()}
    assert cycles(graph_) == expected


def test_every_module_of_the_graph_exists(graph):
    files = module_files(ROOT)
    assert set(graph) == set(files)
    assert all(target in files for edges in graph.values() for target in edges)
