"""A reader who copies a lesson's visible cells must be able to run them: no visible code cell uses a
name that only a hidden cell (tag ``remove-input``, whose code the website does not show) defines.
Cells tagged ``hide-input`` are shown behind a toggle and count as visible."""

import ast
import builtins
import json

import pytest
import test_lesson_style

LESSONS = test_lesson_style.LESSONS + test_lesson_style.CHECKS   # chapters, then checks pages


def _defined(tree) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return names


def _used(tree) -> set[str]:
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def hidden_only_names(nb) -> list[str]:
    """'cell k uses x' for each visible cell that loads a name only hidden cells have defined."""
    seen_visible, seen_hidden, found = set(dir(builtins)), set(), []
    for k, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        src = "".join(cell["source"])
        src = "\n".join(l for l in src.splitlines() if not l.lstrip().startswith(("%", "!")))
        tree = ast.parse(src)
        own = _defined(tree)
        if "remove-input" in cell.get("metadata", {}).get("tags", []):
            seen_hidden |= own
            continue
        for name in sorted(_used(tree) - own - seen_visible):
            if name in seen_hidden:
                found.append(f"cell {k} uses {name}")
        seen_visible |= own
    return found


def test_the_check_finds_a_name_from_a_hidden_cell():
    def code(src, tags=()):
        return {"cell_type": "code", "source": src, "metadata": {"tags": list(tags)}}
    nb = {"cells": [code("a = 1\nscore = a + 1", ["remove-input"]), code("b = 2"),
                    code("print(score, b)")]}
    assert hidden_only_names(nb) == ["cell 2 uses score"]


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_visible_cells_use_only_visible_names(path):
    assert hidden_only_names(json.loads(path.read_text())) == [], \
        "compute in a visible cell and glue in the hidden one (or show the cell)"
