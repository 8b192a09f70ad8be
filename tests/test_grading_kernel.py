"""exercises/grading/kernel.py: what a submission's sandboxed kernel may read and which
environment it gets (running it: test_exercises.py and test_grading_sandbox.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "exercises"))
import grading  # noqa: E402
from grading import kernel  # noqa: E402


def test_kernel_reads_neither_the_repository_nor_the_grader(tmp_path):
    roots = [Path(r) for r in kernel.read_roots(tmp_path)]
    assert tmp_path in roots
    import overparam
    assert Path(overparam.__file__).resolve().parent in roots
    sources = ROOT / "exercises"                 # the instructor sources: solutions, tests
    for r in roots:
        assert r != sources and r not in sources.parents and sources not in r.parents, \
            f"the kernel may read {r}, which holds or lies in {sources}"


def test_kernel_environment_carries_the_marker_and_nothing_private(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_TOKEN", "x")
    env = kernel.kernel_env(tmp_path, grading.MARKER, "abc")
    assert env[grading.MARKER] == "abc" and env["HOME"] == str(tmp_path)
    assert "SECRET_TOKEN" not in env
    assert set(env) - {"HOME", "TMPDIR", "IPYTHONDIR", "MPLCONFIGDIR", "XDG_CACHE_HOME",
                       "JUPYTER_RUNTIME_DIR", "PYDEVD_DISABLE_FILE_VALIDATION",
                       grading.MARKER} <= set(kernel.KERNEL_ENV)


def test_sandbox_spec_writes_only_in_the_submissions_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("OVERPARAM_GRADING_LANDLOCK", raising=False)
    spec = kernel.sandbox_spec(tmp_path, 2 * 1024 ** 3)
    assert spec["write_roots"] == [str(tmp_path), "/dev/null"]
    assert spec["landlock"] and spec["memory_bytes"] == 2 * 1024 ** 3
    cmd = kernel.make_kernel_manager(tmp_path, spec).format_kernel_cmd()
    assert cmd[1] == str(ROOT / "exercises" / "sandbox.py") and cmd[3] == "--"


def test_otter_cells_are_replaced_or_skipped():
    for s in grading.SETS:
        nb = nbformat.read(grading.student_notebook(s), as_version=4)
        code = [c.source for c in nb.cells if c.cell_type == "code"]
        assert code[0] == grading.init_cell(s) and kernel.is_init_cell(code[0])
        assert sum(kernel.is_init_cell(c) for c in code) == 1
        assert sum(bool(kernel.SKIPPED_CELL.fullmatch(c)) for c in code) >= 4
    # otter's own init cell, in notebooks handed out before the sets had theirs
    assert kernel.is_init_cell('# Initialize Otter\nimport otter\ngrader = otter.Notebook("set1_two_layer.ipynb")')
    # the exact text only: code added to the cell would run as written
    assert not kernel.is_init_cell(grading.init_cell("set2_ntk") + "\nlambda0 = 0.1")
    assert os.path.basename(str(kernel.HERE)) == "exercises"
