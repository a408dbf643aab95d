"""The package's layout: imports run one way, with no import circle, even inside functions."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "curvecast"


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in SRC.rglob("*.py")}


def _imports(path: Path) -> set[str]:
    """Every curvecast module ``path`` imports, at module level or inside a function.

    A module's own parent packages are left out: Python initialises them before the
    module itself, so importing a sibling through them is no circle.
    """
    me = _module_name(path).split(".")
    ancestors = {".".join(me[:i]) for i in range(1, len(me))}
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        out |= {n for n in names if n in MODULES and n not in ancestors}
    return out


GRAPH = {m: _imports(p) - {m} for m, p in MODULES.items()}


def _reaches(start: str, goal: str) -> bool:
    seen, todo = set(), [start]
    while todo:
        m = todo.pop()
        for nxt in GRAPH.get(m, ()):
            if nxt == goal:
                return True
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return False


# the package and its CLI re-export on purpose; every other module must not reach itself
@pytest.mark.parametrize("module", sorted(m for m in MODULES if m not in ("curvecast", "curvecast.cli")))
def test_no_import_circle(module):
    assert not _reaches(module, module), f"{module} imports itself through {sorted(GRAPH[module])}"


@pytest.mark.parametrize(
    ("lower", "upper"),
    [
        ("curvecast.results", "curvecast.inference"),
        ("curvecast.results", "curvecast.persist"),
        ("curvecast.results", "curvecast.model"),
        ("curvecast.results", "curvecast.engines"),
        ("curvecast.families", "curvecast.model"),
        ("curvecast.priors", "curvecast.families"),
        ("curvecast.data", "curvecast.results"),
        ("curvecast.model", "curvecast.inference"),
        ("curvecast.engines", "curvecast.inference"),
        ("curvecast.inference", "curvecast.cli"),
        ("curvecast.persist", "curvecast.inference"),
    ],
)
def test_imports_run_one_way(lower, upper):
    assert not _reaches(lower, upper), f"{lower} must not import {upper}"


def test_results_module_needs_only_numpy():
    tree = ast.parse((SRC / "results.py").read_text())
    third_party = {
        (n.module or "").split(".")[0] if isinstance(n, ast.ImportFrom) else a.name.split(".")[0]
        for n in ast.walk(tree)
        if isinstance(n, ast.Import | ast.ImportFrom)
        for a in (n.names if isinstance(n, ast.Import) else [n])
    }
    assert third_party - {"__future__", "collections", "math", "typing", "numpy", "pandas", "curvecast"} == set()
