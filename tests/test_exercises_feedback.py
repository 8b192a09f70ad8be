"""The feedback a student gets from ``grader.check`` in the student notebooks, run as a student
runs them: in a Jupyter kernel, with otter (exercises/<set>/student/<set>.ipynb).

- In the untouched notebook, every public test says what is missing (a name not defined yet,
  an answer still ``...``, a function that returns None) rather than failing on it with
  ``TypeError: object of type 'NoneType' has no len()``.
- A renamed notebook (a second download is called ``set1_two_layer (1).ipynb``) still finds its
  public tests when Jupyter names its file to the kernel, and otherwise the first cell and every
  ``grader.check`` say what to do.
- A mistake a question warns about fails its public test through otter too, with a message that
  names it, while the reference answers pass (``check.py`` proves the same for every marked
  mutant through the course's grader).
"""

from __future__ import annotations

import copy
import os
import shutil
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "exercises"))
import grading  # noqa: E402
from check import MISSING_FEEDBACK  # noqa: E402

pytestmark = pytest.mark.slow
SET = "set1_two_layer"
RENAMED = f"{SET} (1).ipynb"


def _run(nb, folder: Path, name: str, session: bool) -> list[tuple[str, str]]:
    """Execute ``nb`` saved as ``folder/name`` in a fresh kernel started in ``folder`` (with
    ``JPY_SESSION_NAME``, as Jupyter's server sets it, when ``session``); the text of every cell
    that uses ``grader``, with its source: ``[(source, output text)]``."""
    from nbclient import NotebookClient

    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / name)
    nb = nbformat.read(folder / name, as_version=4)
    env = {k: v for k, v in os.environ.items() if k != "JPY_SESSION_NAME"}
    env.update(OMP_NUM_THREADS="1", CUDA_VISIBLE_DEVICES="")
    if session:
        env["JPY_SESSION_NAME"] = str(folder / name)
    NotebookClient(nb, timeout=240, allow_errors=True, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute(env=env)
    out = []
    for cell in nb.cells:
        if cell.cell_type == "code" and "grader" in cell.source:
            text = "\n".join(
                o.get("text") or o.get("data", {}).get("text/plain")
                or f"{o.get('ename')}: {o.get('evalue')}" for o in cell.outputs)
            out.append((cell.source, text))
    return out


def _checks(outputs) -> dict[str, str]:
    return {src.split('"')[1]: text for src, text in outputs if src.startswith("grader.check(")}


@pytest.mark.parametrize("set_name", grading.SETS)
def test_untouched_notebook_says_what_is_missing(set_name, tmp_path):
    nb = nbformat.read(grading.student_notebook(set_name), as_version=4)
    checks = _checks(_run(nb, tmp_path, f"{set_name}.ipynb", session=False))
    auto = [q["name"] for q in grading.questions(set_name) if not q["manual"]]
    assert sorted(checks) == auto
    for q, text in checks.items():
        assert "Test case failed" in text, (q, text)
        assert f"AssertionError: {q}: " in text, (q, text)
        assert any(s in text for s in MISSING_FEEDBACK), (q, text)
        assert "NoneType" not in text and "TypeError" not in text, (q, text)


def test_renamed_notebook_without_its_name_says_what_to_do(tmp_path):
    nb = nbformat.read(grading.student_notebook(SET), as_version=4)
    q1 = next(i for i, c in enumerate(nb.cells) if c.source == 'grader.check("q1")')
    nb.cells = nb.cells[:q1 + 1]
    outputs = _run(nb, tmp_path, RENAMED, session=False)
    init, check = outputs[0][1], _checks(outputs)["q1"]
    for text in (init, check):
        assert text.startswith("FileNotFoundError: grader.check reads the public tests"), text
        assert f"rename the notebook to {SET}.ipynb" in text and "restart the kernel" in text


def test_renamed_notebook_finds_its_tests_and_warned_mistakes_fail_them(tmp_path):
    """Set 1 answered with the reference solutions but two mistakes its questions warn about
    (row 1 not normalized in q3, ``>`` for ``>=`` in q4), in a notebook renamed by a second
    download: Jupyter names the file, so grader.check runs; q3 and q4 fail with a message that
    points at the mistake, the other questions pass."""
    built = grading.assign(SET, tmp_path / "dist")
    solution = nbformat.read(built["solution"], as_version=4)
    marked = {m["name"]: m for m in grading.mutants(SET) if m.get("public")}
    for name in ("not-normalized", "strict-indicator"):
        for cell in solution.cells:
            old, new = marked[name]["replace"][0]
            cell.source = cell.source.replace(old, new)
    student = nbformat.read(grading.student_notebook(SET), as_version=4)
    nb = copy.deepcopy(student)
    stu = [i for i, c in enumerate(student.cells)
           if "otter_answer_cell" in c.metadata.get("tags", [])]
    sol = [i for i, c in enumerate(solution.cells)
           if "otter_assign_solution_cell" in c.metadata.get("tags", [])]
    assert len(stu) == len(sol) > 0
    for i, j in zip(stu, sol):
        nb.cells[i].source = solution.cells[j].source
    folder = tmp_path / "downloads"
    checks = _checks(_run(nb, folder, RENAMED, session=True))
    assert not (folder / f"{SET}.ipynb").exists()
    for q in ("q1", "q2", "q5"):
        assert "passed" in checks[q] and "failed" not in checks[q], (q, checks[q])
    assert "AssertionError: q3: lams[0] (epsilon = 0.1) should be" in checks["q3"]
    assert "divided by its norm" in checks["q3"]
    assert "AssertionError: q4: with w = (0, 1)" in checks["q4"] and ">= 0, not > 0" in checks["q4"]
    shutil.rmtree(tmp_path / "dist", ignore_errors=True)
