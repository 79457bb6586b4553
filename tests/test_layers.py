"""The package's imports point down: a layer never imports a layer above it.

The order (docs/architecture.md, "Layers"), lowest first. Units on one rank are
peers and must not import each other either. Every import counts, including
those inside functions and under TYPE_CHECKING: a lazy import is still a
dependency.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.helpers.paths import REPO

PACKAGE = REPO / "protoverify"

LAYERS: list[set[str]] = [
    {"_ordered", "_version", "config"},
    {"bspl"},
    {"enactment"},
    {"findings"},
    {"traces"},
    {"prover", "monitor"},
    {"agents"},
    {"exchange"},
    {"auditor", "check"},
    {"report"},
    {"api"},
    {"experiment"},
    {"analysis"},
    {"commands"},
    {"cli"},
    {"<root>", "__main__"},
]
RANK = {unit: i for i, layer in enumerate(LAYERS) for unit in layer}


def _unit(module: str) -> str:
    """`protoverify.auditor.driver` -> `auditor`; the package itself -> `<root>`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "<root>"


def _exists(module: str) -> bool:
    path = REPO.joinpath(*module.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _imports(path: Path) -> list[tuple[str, int]]:
    """The project modules `path` imports, with the line of each import."""
    rel = path.relative_to(REPO).with_suffix("")
    module = ".".join(rel.parts)
    package = module[: -len(".__init__")] if module.endswith(".__init__") else module.rsplit(".", 1)[0]
    found: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            # `from . import x` imports the module x when there is one, else a name of the package
            subs = [f"{target}.{a.name}" for a in node.names if _exists(f"{target}.{a.name}")]
            found += [(t, node.lineno) for t in subs or [target]]
    return [(t, line) for t, line in found if t == "protoverify" or t.startswith("protoverify.")]


def _module_of(path: Path) -> str:
    return ".".join(path.relative_to(REPO).with_suffix("").parts)


FILES = sorted(PACKAGE.rglob("*.py"))


def upward_edges() -> list[str]:
    bad = []
    for f in FILES:
        here = _unit(_module_of(f).removesuffix(".__init__"))
        for target, line in _imports(f):
            there = _unit(target)
            if there != here and RANK[there] >= RANK[here]:
                bad.append(f"{f.relative_to(REPO)}:{line}: {here} imports {target} ({there} is not below)")
    return bad


def test_every_unit_has_a_layer() -> None:
    units = {_unit(_module_of(f).removesuffix(".__init__")) for f in FILES}
    assert units - set(RANK) == set(), "give the new module or package a layer here and in the docs"


def test_imports_point_down() -> None:
    assert upward_edges() == []


def test_the_check_sees_imports() -> None:
    """The walker finds the edges it must judge (else the test above proves nothing)."""
    edges = {(_unit(_module_of(f).removesuffix(".__init__")), _unit(t)) for f in FILES for t, _ in _imports(f)}
    assert {("auditor", "monitor"), ("cli", "commands"), ("monitor", "bspl"), ("<root>", "api")} <= edges


@pytest.mark.parametrize("here,there", [("monitor", "auditor"), ("commands", "cli"), ("bspl", "prover"),
                                        ("traces", "monitor"), ("prover", "monitor"), ("findings", "auditor")])
def test_named_upward_edges_are_absent(here: str, there: str) -> None:
    edges = {(_unit(_module_of(f).removesuffix(".__init__")), _unit(t)) for f in FILES for t, _ in _imports(f)}
    assert (here, there) not in edges
