"""The exercise sets' sources: which sets exist, where their notebooks are, their questions and
points, and their tests (public and hidden), read from the instructor source notebook; and
``otter assign``, which makes the student notebook from it.

The Gradescope autograder ships no source notebook (it holds the reference solutions): it ships
the *bundle* ``<set>/tests.json`` instead, the questions and the tests only, written by
``bundle()``. ``questions()`` and ``tests()`` read the source notebook where it exists and the
bundle otherwise, so that the grader runs unchanged in both places.
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]          # exercises/: one folder per set
SETS = ("set1_two_layer", "set2_ntk", "set3_deep", "set4_sgd")


def python() -> str:
    """The interpreter of the course's environment (the one running this file)."""
    return sys.executable


def otter_cli() -> list[str]:
    return [python(), "-m", "otter"]


def source_notebook(set_name: str) -> Path:
    return HERE / set_name / "source" / f"{set_name}.ipynb"


def student_notebook(set_name: str) -> Path:
    return HERE / set_name / "student" / f"{set_name}.ipynb"


def bundle_file(set_name: str) -> Path:
    """Where the autograder keeps a set's questions and tests (no solutions)."""
    return HERE / set_name / "tests.json"


# The first cell of every student notebook (``init_cell: false`` in the assignment config:
# otter's own init cell names the file and fails with a bare FileNotFoundError when the
# notebook was renamed, e.g. by a second download to "set1_two_layer (1).ipynb"). otter reads
# the public tests from the notebook's file, so the cell asks Jupyter (JupyterLab, Notebook 7:
# ``__session__``; VS Code: ``__vsc_ipynb_file__``) which file this is, and says what to do
# when it finds none. The grader replaces this cell by a stub (``kernel.is_init_cell``).
INIT_CELL = """\
# Initialize Otter: grader.check("q1") runs the public tests of question 1. otter reads them
# from this notebook's file: the one Jupyter names, else {set}.ipynb in this folder.
import os

import otter

_file = globals().get("__session__") or globals().get("__vsc_ipynb_file__") or ""
if not (_file.endswith(".ipynb") and os.path.isfile(_file)):
    _file = "{set}.ipynb"
try:
    grader = otter.Notebook(_file)
except FileNotFoundError:
    _why = (f"grader.check reads the public tests from this notebook's file, but there is no "
            f"{_file} in {os.getcwd()}. If you renamed or moved this notebook (a second "
            "download is often called '{set} (1).ipynb'), restart the kernel and run the "
            "first cell again; if that does not help, rename the notebook to "
            "{set}.ipynb (File > Rename) in the folder where it runs.")

    class _NoTests:                 # every grader.check below repeats what to do
        def check(self, question):
            raise FileNotFoundError(_why)

    grader = _NoTests()
    raise FileNotFoundError(_why) from None"""


def init_cell(set_name: str) -> str:
    """The source of the first code cell of the set's notebooks (see ``INIT_CELL``)."""
    return INIT_CELL.replace("{set}", set_name)


def check_set_name(set_name: str) -> str:
    if set_name not in SETS:
        raise SystemExit(f"unknown exercise set {set_name!r}: choose one of {', '.join(SETS)}")
    return set_name


def _origin(set_name: str) -> Path:
    """The file the set's questions and tests come from: the source, else the bundle."""
    src = source_notebook(set_name)
    if src.exists():
        return src
    if bundle_file(set_name).exists():
        return bundle_file(set_name)
    raise FileNotFoundError(f"{set_name}: neither {src} nor {bundle_file(set_name)} exists")


@functools.cache
def _read_cached(set_name: str, path: str, mtime: float) -> str:
    if path.endswith(".json"):
        data = json.loads(Path(path).read_text())
        if data.get("set") != set_name:
            raise ValueError(f"{path} holds the tests of {data.get('set')!r}, not {set_name!r}")
        return json.dumps({"questions": data["questions"], "tests": data["tests"]})
    return json.dumps({"questions": _read_questions(Path(path), set_name),
                       "tests": _read_tests(Path(path), set_name)})


def _read(set_name: str) -> dict:
    path = _origin(set_name)
    return json.loads(_read_cached(set_name, str(path), path.stat().st_mtime))


# --- questions and points -----------------------------------------------------------------
def questions(set_name: str) -> list[dict]:
    """The questions of a set in order: ``{"name", "points", "manual"}`` from each
    ``# BEGIN QUESTION`` raw cell of the instructor source (every question states its points)."""
    return _read(set_name)["questions"]


def _read_questions(path: Path, set_name: str) -> list[dict]:
    import nbformat
    import yaml

    nb = nbformat.read(path, as_version=4)
    out = []
    for cell in nb.cells:
        if cell.cell_type == "raw" and re.match(r"#\s+BEGIN\s+QUESTION", cell.source, re.I):
            cfg = yaml.safe_load(cell.source.split("\n", 1)[1]) or {}
            if "points" not in cfg:
                raise ValueError(f"{set_name}: question {cfg.get('name')} states no points")
            out.append({"name": cfg["name"], "points": cfg["points"],
                        "manual": bool(cfg.get("manual", False))})
    return out


# --- the tests ----------------------------------------------------------------------------
_CONFIG = re.compile(
    r'^\s*"""\s*#\s*BEGIN TEST CONFIG\s*\n(.*?)\n\s*"""\s*#\s*END TEST CONFIG\s*\n', re.S)


def tests(set_name: str) -> dict[str, list[dict]]:
    """The tests of each auto-graded question: ``{question: [{"name", "source", "points",
    "hidden"}]}``, from the ``# BEGIN TESTS`` blocks of the instructor source. This is the
    autograder: it stays in the grader's memory, never in a file a submission could reach."""
    return _read(set_name)["tests"]


def _read_tests(path: Path, set_name: str) -> dict[str, list[dict]]:
    import nbformat
    import yaml

    nb = nbformat.read(path, as_version=4)
    out: dict[str, list[dict]] = {}
    question, in_tests = None, False
    for cell in nb.cells:
        text = cell.source
        if cell.cell_type == "raw":
            if re.match(r"#\s+BEGIN\s+QUESTION", text, re.I):
                question = (yaml.safe_load(text.split("\n", 1)[1]) or {})["name"]
            elif re.match(r"#\s+BEGIN\s+TESTS", text, re.I):
                in_tests = True
            elif re.match(r"#\s+END\s+TESTS", text, re.I):
                in_tests = False
            continue
        if cell.cell_type == "code" and in_tests and question:
            m = _CONFIG.match(text)
            cfg = yaml.safe_load(m.group(1)) if m else {}
            code = text[m.end():] if m else text
            name = re.search(r"^def\s+(\w+)\s*\(", code, re.M)
            if not name:
                raise ValueError(f"{set_name} {question}: a test cell defines no function")
            out.setdefault(question, []).append(
                {"name": name.group(1), "source": code, "points": float(cfg.get("points", 1)),
                 "hidden": bool(cfg.get("hidden", False))})
    return out


def bundle(set_name: str) -> dict:
    """What the autograder needs of a set, and nothing more: its questions and its tests (public
    and hidden), without the reference solutions."""
    data = _read(set_name)
    return {"set": set_name, "questions": data["questions"], "tests": data["tests"]}


# --- otter assign --------------------------------------------------------------------------
def assign(set_name: str, dest: Path, *, run_tests: bool = False) -> dict:
    """Run ``otter assign`` on the set's source into ``dest`` (``dest/student``,
    ``dest/autograder``). Returns the paths of the student notebook, the solution (autograder)
    notebook and the autograder zip."""
    dest = Path(dest)
    cmd = otter_cli() + ["assign", str(source_notebook(set_name)), str(dest)]
    if not run_tests:
        cmd.append("--no-run-tests")
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=HERE)
    if proc.returncode != 0:
        raise RuntimeError(f"otter assign failed for {set_name}:\n{proc.stdout}\n{proc.stderr}")
    zips = sorted((dest / "autograder").glob("*.zip"))
    if len(zips) != 1:
        raise RuntimeError(f"otter assign made {len(zips)} autograder zips for {set_name}")
    return {"student": dest / "student" / f"{set_name}.ipynb",
            "solution": dest / "autograder" / f"{set_name}.ipynb",
            "zip": zips[0]}
