"""Imports run one way: each module imports only the layers below it (and its own group's siblings where
allowed). The layers are listed in docs/architecture.md ("Layers and imports"); LAYERS below is the
checked copy. Every import counts, module-level and inside functions."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# group → (layer, module prefixes, groups it may import). Lowest layer first; longest prefix wins.
LAYERS: dict[str, tuple[int, tuple[str, ...], frozenset[str]]] = {
    "leaf": (0, ("ingestion", "ingestion.errors", "ingestion.timestamps", "ingestion.environment"),
             frozenset({"leaf"})),
    "sources": (1, ("ingestion.sources",), frozenset({"leaf", "sources"})),
    "pipeline": (2, ("ingestion.pipeline",), frozenset({"leaf", "sources"})),
    # the demo simulates the tools independently of the clients that read them: never ingestion.sources
    "demo": (2, ("ingestion.demo",), frozenset({"leaf", "demo"})),
    "orchestration": (3, ("yardstick",), frozenset({"leaf", "sources", "pipeline", "demo", "orchestration"})),
    # the top: may import everything, and nothing imports it (no group lists "cli")
    "cli": (4, ("yardstick.cli",), frozenset({"leaf", "sources", "pipeline", "demo", "orchestration"})),
}
LEAF_MAY_IMPORT_THIRD_PARTY = False  # layer 0 is stdlib only


def group_of(module: str) -> str | None:
    best: tuple[int, str] | None = None
    for group, (_, prefixes, _) in LAYERS.items():
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and (best is None or len(prefix) > best[0]):
                best = (len(prefix), group)
    return best[1] if best else None


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    base = ROOT.joinpath(*name.split("."))
    return base.with_suffix(".py").exists() or (base / "__init__.py").exists()


def imported_modules(tree: ast.AST, importer: str) -> list[tuple[int, str]]:
    """(line, module) for every import in the tree, `from pkg import sub` resolved to `pkg.sub`."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                package = importer.split(".")[: -node.level] if node.level else []
                base = ".".join([*package, base] if base else package)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.append((node.lineno, candidate if _is_module(candidate) else base))
    return found


def parse(source: str, path: Path) -> ast.Module:
    """`ast.parse`, once more if CPython 3.11 raises its spurious "AST constructor recursion depth mismatch": the
    counter it checks is shared with whatever another thread of this worker compiles (python/cpython#106905)."""
    try:
        return ast.parse(source, filename=str(path))
    except SystemError:
        return ast.parse(source, filename=str(path))


def violations(path: Path, source: str | None = None) -> list[str]:
    importer = module_name(path)
    group = group_of(importer)
    assert group is not None, f"{path} is in no layer; add it to LAYERS"
    allowed = LAYERS[group][2]
    tree = parse(source if source is not None else path.read_text(), path)
    problems = []
    for line, module in imported_modules(tree, importer):
        target = group_of(module)
        where = f"{path.relative_to(ROOT)}:{line}: imports {module}"
        if target is None:
            top = module.split(".")[0]
            if group == "leaf" and not LEAF_MAY_IMPORT_THIRD_PARTY and top not in sys.stdlib_module_names \
                    and top != "__future__":
                problems.append(f"{where} (layer 0 is stdlib only)")
            continue
        if target not in allowed:
            problems.append(f"{where} ({group}, layer {LAYERS[group][0]}, may not import {target}, "
                            f"layer {LAYERS[target][0]})")
    return problems


def product_files() -> list[Path]:
    return sorted(p for package in ("ingestion", "yardstick") for p in (ROOT / package).rglob("*.py"))


def test_every_import_runs_down_the_layers() -> None:
    files = product_files()
    assert len(files) > 30
    problems = [problem for path in files for problem in violations(path)]
    assert not problems, "imports against the layers:\n" + "\n".join(problems)


@pytest.mark.parametrize(("path", "source", "offence"), [
    ("ingestion/demo/jira_api.py", "def f():\n    from ingestion.sources.client import ApiClient\n",
     "ingestion/demo/jira_api.py:2: imports ingestion.sources.client (demo, layer 2, may not import sources"),
    ("ingestion/sources/github.py", "from yardstick.errors import BuildFailed\n",
     "imports yardstick.errors (sources, layer 1, may not import orchestration, layer 3)"),
    ("ingestion/pipeline.py", "from ingestion.demo import server\n", "may not import demo"),
    ("yardstick/refresh.py", "import yardstick.cli\n", "may not import cli"),
    ("ingestion/errors.py", "import dlt\n", "layer 0 is stdlib only"),
])
def test_the_check_names_file_line_and_import(path: str, source: str, offence: str) -> None:
    problems = violations(ROOT / path, source)
    assert len(problems) == 1 and offence in problems[0], problems


def test_the_layers_are_documented() -> None:
    doc = (ROOT / "docs" / "architecture.md").read_text()
    section = doc.split("## Layers and imports", 1)[1].split("\n## ", 1)[0]
    for prefixes in (spec[1] for spec in LAYERS.values()):
        for prefix in prefixes[-1:]:
            assert f"`{prefix}" in section, f"{prefix} is missing from docs/architecture.md"


# the house's size limits (docs/architecture.md "Layers and imports"): the demo's organisation model stays a model,
# and no module of the product grows past what one reader holds in mind
ORG_MODULE_MAX_LINES, PRODUCT_FILE_MAX_LINES = 700, 600


def test_no_product_file_is_over_its_size_limit() -> None:
    files = [*product_files(), *(ROOT / "bench").glob("*.py"),
             *(p for folder in ("models", "macros") for p in (ROOT / folder).rglob("*.sql"))]
    lines = {path.relative_to(ROOT).as_posix(): len(path.read_text().splitlines()) for path in files}
    assert lines["ingestion/demo/org.py"] <= ORG_MODULE_MAX_LINES
    too_long = {path: count for path, count in lines.items() if count > PRODUCT_FILE_MAX_LINES}
    assert too_long == {}, f"files over {PRODUCT_FILE_MAX_LINES} lines: {too_long}"
