"""The mutant suites: plausible wrong answers that must lose points.

Each set's ``source/mutants.yml`` lists mutants as textual replacements of the reference
solution (instructor material, beside the sources). ``mutant_notebook`` applies one to the
solution notebook and keeps only the cells its question needs, so that ``check.py`` can grade
the whole suite quickly.
"""

from __future__ import annotations

import re
from pathlib import Path

from .sources import HERE, SETS, tests


def mutants_file(set_name: str) -> Path:
    return HERE / set_name / "source" / "mutants.yml"


def mutants(set_name: str) -> list[dict]:
    """The set's mutants: ``{"question", "name", "mistake", "replace": [[old, new], ...]}`` and
    optionally ``"public": True`` (a mistake the question warns about: ``check.py`` requires a
    public test to catch it), read from ``<set>/source/mutants.yml`` (instructor material,
    beside the sources)."""
    import yaml

    path = mutants_file(set_name)
    items = yaml.safe_load(path.read_text()) if path.exists() else []
    for m in items:
        missing = {"question", "name", "mistake", "replace"} - set(m)
        if missing:
            raise ValueError(f"{path}: mutant {m.get('name')} lacks {sorted(missing)}")
        unknown = set(m) - {"question", "name", "mistake", "replace", "public"}
        if unknown or not isinstance(m.get("public", False), bool):
            raise ValueError(f"{path}: mutant {m.get('name')}: unknown keys {sorted(unknown)} "
                             "or a `public` that is not true or false")
    return items


def mutant_notebook(solution, mutant: dict):
    """The reference solution notebook with the mutant's replacements applied (each old text
    must occur exactly once in the code cells), cut after its question's ``grader.check``
    cell: later cells cannot change its answers, and leaving them out saves time."""
    import copy

    nb = copy.deepcopy(solution)
    code = [c for c in nb.cells if c.cell_type == "code"]
    for old, new in mutant["replace"]:
        hits = [c for c in code if old in c.source]
        count = sum(c.source.count(old) for c in hits)
        if count != 1:
            raise ValueError(f"mutant {mutant['question']}/{mutant['name']}: {old!r} occurs "
                             f"{count} times in the solutions (it must occur once); update "
                             "mutants.yml to the current source")
        hits[0].source = hits[0].source.replace(old, new)
    check = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"
             and re.fullmatch(rf"\s*grader\.check\(\s*[\"']{mutant['question']}[\"']\s*\)\s*",
                              c.source)]
    if check:
        nb.cells = nb.cells[:check[0] + 1]
    return _without_unneeded_answers(nb, mutant["question"])


def _names(source: str) -> tuple[set, set] | None:
    """(names a cell defines, names it reads), or None if it does not parse as Python."""
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)
            and not isinstance(n.ctx, ast.Store)}
    defined: set = set()

    def top(stmts):            # names bound at module level (not inside functions)
        for node in stmts:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                defined.add(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                defined.update((a.asname or a.name).split(".")[0] for a in node.names)
            else:
                targets = (node.targets if isinstance(node, ast.Assign) else
                           [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign,
                                                              ast.For)) else
                           [i.optional_vars for i in node.items if i.optional_vars]
                           if isinstance(node, ast.With) else [])
                for t in targets:
                    defined.update(n.id for n in ast.walk(t) if isinstance(n, ast.Name))
                for field in ("body", "orelse", "finalbody"):
                    top(getattr(node, field, []))
                for h in getattr(node, "handlers", []):
                    top(h.body)

    top(tree.body)
    return defined, used


def _without_unneeded_answers(nb, question: str):
    """Drop the answer cells of earlier questions that the question's own cells and tests do
    not need (by the names they define and read): a mutant of question 5 need not re-run the
    training of question 4. Every other cell is kept."""
    needed = {a for t in tests_of(nb, question) for a in t}
    check = re.compile(r"\s*grader\.check\(\s*[\"'](\w+)[\"']\s*\)\s*")
    keep, own_section = [], True        # walking back from the question's own check cell
    for cell in reversed(nb.cells):
        if cell.cell_type != "code":
            keep.append(cell)
            continue
        m = check.fullmatch(cell.source)
        if m:
            own_section = own_section and m.group(1) == question
            keep.append(cell)
            continue
        names = _names(cell.source)
        answer = "otter_assign_solution_cell" in cell.metadata.get("tags", [])
        if names is None or not answer or own_section or names[0] & needed:
            keep.append(cell)
            if names is not None:
                needed |= names[1]
    nb.cells = list(reversed(keep))
    return nb


def tests_of(nb, question: str) -> list[list[str]]:
    """The argument names of the tests of ``question`` (the names the grader reads)."""
    import inspect

    set_name = nb.metadata.get("otter", {}).get("assignment_name") or ""
    out = []
    for t in tests(set_name).get(question, []) if set_name in SETS else []:
        ns: dict = {}
        exec(compile(t["source"], t["name"], "exec"), ns)
        out.append(list(inspect.signature(ns[t["name"]]).parameters))
    return out
