"""The shape of the code, checked: which modules may import which, no import cycles, one runner.

The import graph is read from the source (every ``import``, module-level or inside a function),
so a lazy import counts as much as one at the top."""

import ast
import subprocess
import sys
from functools import cache
from pathlib import Path

from tests.helpers import FOLDERS

ROOT = Path(__file__).resolve().parent.parent
# The code a turn runs: it must not reach training or evaluation code.
RUN_TIME = (
    "openbook.assistant.turn",
    "openbook.agents",
    "openbook.assistant.models",
    "openbook.assistant.retrieval",
)
NOT_AT_RUN_TIME = ("openbook.assistant.finetune", "openbook.assistant.evaluation")


@cache
def modules() -> dict[str, Path]:
    out = {}
    for folder, name in FOLDERS.items():
        for path in (ROOT / folder).rglob("*.py"):
            if "__pycache__" in path.parts:
                continue
            rel = path.relative_to(ROOT / folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            out[".".join([name, *parts])] = path
    return out


def _resolve(module: str, path: Path, node: ast.ImportFrom) -> list[str]:
    if node.level:
        package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        base = package[: len(package) - node.level + 1]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    known = modules()
    names = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in known]
    return names or [target]


@cache
def graph() -> dict[str, set[str]]:
    known = modules()
    edges: dict[str, set[str]] = {}
    for module, path in known.items():
        found: set[str] = set()
        for node in _run_time_nodes(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                found |= set(_resolve(module, path, node))
        edges[module] = {_owner(t) for t in found if _owner(t) is not None} - {module}
    return edges


def _run_time_nodes(tree: ast.AST):
    """Every node, except inside ``if TYPE_CHECKING:`` (imports for type hints never run)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            yield from (n for child in node.orelse for n in [child, *_run_time_nodes(child)])
            continue
        yield node
        yield from _run_time_nodes(node)


def _owner(target: str) -> str | None:
    """The project module an import names (``openbook.db.sessions.add`` -> ``openbook.db.sessions``)."""
    known = modules()
    parts = target.split(".")
    for i in range(len(parts), 0, -1):
        if ".".join(parts[:i]) in known:
            return ".".join(parts[:i])
    return None


def _under(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def test_the_graph_is_read_from_the_source():
    g = graph()
    assert "openbook.agents.kit.runner" in g["openbook.agents.pipeline"]
    assert "openbook.db.sessions" in g["openbook.assistant.turn"]
    assert "openbook.assistant.finetune.train" in g["openbook.assistant.cli.finetune_cmds"]  # a lazy one


def test_agents_import_nothing_from_the_application():
    g = graph()
    bad = {
        m: sorted(t for t in ts if t.startswith("openbook.assistant"))
        for m, ts in g.items()
        if m.startswith("openbook.agents")
    }
    assert not {m: ts for m, ts in bad.items() if ts}


def test_run_time_code_imports_nothing_from_training_or_evaluation():
    g = graph()
    bad = {
        m: sorted(t for t in ts if _under(t, NOT_AT_RUN_TIME)) for m, ts in g.items() if _under(m, RUN_TIME)
    }
    assert not {m: ts for m, ts in bad.items() if ts}


def test_there_is_no_import_cycle():
    g = graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in g[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in g:
        if v not in index:
            visit(v)
    assert not cycles


def test_no_step_replaces_the_runner():
    """Loops and conditions are the runner's constructs (agents/pipeline.py), not a step's own
    ``execute``; only the runner runs steps."""
    offenders = []
    for module, path in modules().items():
        if not module.startswith("openbook.agents"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                names = {f.name for f in node.body if isinstance(f, ast.FunctionDef)}
                if "execute" in names or "run_steps" in names:
                    offenders.append(f"{module}.{node.name}")
    assert not offenders


def test_the_chat_path_does_not_import_torch():
    code = (
        "import sys; import openbook.assistant.cli.main, openbook.assistant.tui.app; "
        "import openbook.assistant.turn, openbook.assistant.models.resolve; "
        "print('torch' in sys.modules, 'transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
