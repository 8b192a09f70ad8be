"""Shared machinery of the graded exercise sets: build the student notebook with ``otter
assign``, read the questions and tests from an instructor source, and grade one submission
without trusting the student's code.

How a submission is graded (``grade_one``). A *supervisor* process, started in its own session
and killed at the time limit with everything it started, runs the notebook's cells in a Jupyter
kernel that is sandboxed (``exercises/sandbox.py``: a memory limit, no capabilities and, with
Landlock, writes only into the submission's own folder, no reads of the course's sources, no
signals outside the sandbox). The tests never run in that kernel: the supervisor runs them in
its own interpreter, which never imports student code. A test's argument that is a value
(``lambda0``) is fetched from the kernel as plain data (JSON and ``.npz`` read with
``allow_pickle=False``); one that is a function (``h_inf``) is called in the kernel on the
inputs the test gives it, and its output comes back as data. Values that are not plain data
(objects posing as numbers) and replaced library functions (numpy, torch, math, builtins,
overparam) are reported as tampering. The supervisor signs its result, so that a result file
written by anyone else is rejected. When grading ends, every process the submission started is
killed: the supervisor is a child subreaper (orphans come back to it), and each process of the
submission carries a marker in its environment that a final scan of ``/proc`` looks for.

``python exercises/grading.py --supervise`` is that supervisor (its job arrives on stdin).
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
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


def check_set_name(set_name: str) -> str:
    if set_name not in SETS:
        raise SystemExit(f"unknown exercise set {set_name!r}: choose one of {', '.join(SETS)}")
    return set_name


# --- questions and points, read from the source notebook ----------------------------------
def questions(set_name: str) -> list[dict]:
    """The questions of a set in order: ``{"name", "points", "manual"}`` from each
    ``# BEGIN QUESTION`` raw cell of the instructor source (every question states its points)."""
    import nbformat
    import yaml

    nb = nbformat.read(source_notebook(set_name), as_version=4)
    out = []
    for cell in nb.cells:
        if cell.cell_type == "raw" and re.match(r"#\s+BEGIN\s+QUESTION", cell.source, re.I):
            cfg = yaml.safe_load(cell.source.split("\n", 1)[1]) or {}
            if "points" not in cfg:
                raise ValueError(f"{set_name}: question {cfg.get('name')} states no points")
            out.append({"name": cfg["name"], "points": cfg["points"],
                        "manual": bool(cfg.get("manual", False))})
    return out


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


# --- the tests of a set, read from the source notebook ------------------------------------
_CONFIG = re.compile(
    r'^\s*"""\s*#\s*BEGIN TEST CONFIG\s*\n(.*?)\n\s*"""\s*#\s*END TEST CONFIG\s*\n', re.S)


@functools.cache
def _tests_cached(set_name: str, mtime: float) -> str:
    return json.dumps(_read_tests(set_name))


def tests(set_name: str) -> dict[str, list[dict]]:
    """The tests of each auto-graded question: ``{question: [{"name", "source", "points",
    "hidden"}]}``, from the ``# BEGIN TESTS`` blocks of the instructor source. This is the
    autograder: it stays in the grader's memory, never in a file a submission could reach."""
    return json.loads(_tests_cached(set_name, source_notebook(set_name).stat().st_mtime))


def _read_tests(set_name: str) -> dict[str, list[dict]]:
    import nbformat
    import yaml

    nb = nbformat.read(source_notebook(set_name), as_version=4)
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


# --- the mutant suite: plausible wrong answers that must lose points -----------------------
def mutants_file(set_name: str) -> Path:
    return HERE / set_name / "source" / "mutants.yml"


def mutants(set_name: str) -> list[dict]:
    """The set's mutants: ``{"question", "name", "mistake", "replace": [[old, new], ...]}``,
    read from ``<set>/source/mutants.yml`` (instructor material, beside the sources)."""
    import yaml

    path = mutants_file(set_name)
    items = yaml.safe_load(path.read_text()) if path.exists() else []
    for m in items:
        missing = {"question", "name", "mistake", "replace"} - set(m)
        if missing:
            raise ValueError(f"{path}: mutant {m.get('name')} lacks {sorted(missing)}")
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


# --- grading one submission: limits, killing what it started -------------------------------
MARKER = "OVERPARAM_GRADING_ID"
DEFAULT_MEMORY = 4 * 1024 ** 3
SUPERVISOR_MEMORY = 6 * 1024 ** 3          # the grader's own interpreter: tests and references


def is_notebook(path: Path) -> str | None:
    """None if ``path`` reads as a Jupyter notebook, else the reason it does not."""
    import nbformat

    if path.suffix != ".ipynb":
        kind = path.suffix or "file without extension"
        return f"not a notebook (a {kind}); submit the .ipynb file"
    try:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
    except Exception as e:  # any reading problem means: not a notebook we can grade
        return f"not a readable notebook ({type(e).__name__}: {str(e).splitlines()[0][:120]})"
    return None


def parse_memory(text: str | int | float) -> int:
    """``"4G"``, ``"512M"``, ``"0"`` (no limit) or a number of bytes, as bytes."""
    if isinstance(text, (int, float)):
        return int(text)
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)[bB]?\s*", str(text))
    if not m:
        raise ValueError(f"memory limit {text!r}: write a size such as 4G, 512M or 0 (none)")
    return int(float(m.group(1)) * 1024 ** " KMGT".index(m.group(2).upper() or " "))


def marked_processes(marker: str) -> list[int]:
    """Processes whose environment carries ``MARKER=marker`` (a detached process keeps it)."""
    needle = f"{MARKER}={marker}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                if needle in f.read().split(b"\0"):
                    found.append(int(entry))
        except OSError:
            continue
    return found


def kill_all(pid: int | None, marker: str) -> int:
    """Kill ``pid``, all its descendants and every process carrying the marker, until none is
    left; returns how many were killed."""
    import psutil

    killed = 0
    for _ in range(20):
        procs = []
        if pid is not None:
            try:
                parent = psutil.Process(pid)
                procs = parent.children(recursive=True) + [parent]
            except psutil.NoSuchProcess:
                pid = None
        seen = {p.pid for p in procs}
        for q in marked_processes(marker):
            if q not in seen:
                try:
                    procs.append(psutil.Process(q))
                except psutil.NoSuchProcess:
                    pass
        procs = [p for p in procs if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        if not procs:
            break
        for p in procs:
            try:
                p.kill()
                killed += 1
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(procs, timeout=5)
    return killed


def set_subreaper() -> bool:
    """Make this process adopt its orphaned descendants (Linux), so a double-forked process of
    a submission still has an ancestor that can find and kill it."""
    import ctypes

    try:
        return ctypes.CDLL(None).prctl(36, 1, 0, 0, 0) == 0   # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def kill_orphans() -> int:
    """Kill the processes this (subreaper) process adopted: what escaped a killed supervisor."""
    import psutil

    procs = psutil.Process().children(recursive=True)
    for p in procs:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(procs, timeout=5)
    return len(procs)


def _sign(key: bytes, payload: str) -> str:
    import hashlib
    import hmac

    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()


def grade_one(submission: Path, set_name: str, *, timeout: float, name: str | None = None,
              memory: int = DEFAULT_MEMORY, only: list[str] | None = None) -> dict:
    """Grade one submission on a copy, in a supervisor process killed after ``timeout``
    seconds together with every process the submission started.

    Returns ``{"status", "scores": {question: points}, "message"}``; ``status`` is ``ok``,
    ``errors`` (graded, but some cells raised), ``tampered`` (scored 0 on what it touched),
    ``timeout``, ``crashed`` (the kernel died, or the grader could not finish) or ``not a
    notebook``. ``only`` grades a subset of the questions. The submission itself is only read.
    """
    submission = Path(submission)
    reason = is_notebook(submission)
    if reason:
        return {"status": "not a notebook", "scores": {}, "message": reason}
    return _supervised([(submission, only)], set_name, timeout=timeout, memory=memory,
                       name=name)[0]


def grade_batch(notebooks: list[tuple[Path, list[str] | None]], set_name: str, *,
                timeout: float) -> list[dict]:
    """Grade several of the *instructor's own* notebooks (the mutants) one after the other in
    one kernel, its namespace reset in between: never for submissions, which each get a
    fresh kernel (``grade_one``)."""
    return _supervised(notebooks, set_name, timeout=timeout, memory=DEFAULT_MEMORY)


def read_signed(path: Path, key: bytes, n: int) -> list[dict]:
    """The supervisor's results from ``path``; ValueError unless signed with ``key`` (which
    only the grader and the supervisor know) and holding ``n`` results."""
    import hmac

    try:
        signed = json.loads(Path(path).read_text())
        payload, sig = str(signed["payload"]), str(signed["signature"])
        res = json.loads(payload)
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ValueError(f"unreadable result: {e}") from None
    if not hmac.compare_digest(sig, _sign(key, payload)):
        raise ValueError("result not signed by the grader")
    if not isinstance(res, list) or len(res) != n or not all(isinstance(r, dict) for r in res):
        raise ValueError("result of the wrong shape")
    return res


def _supervised(notebooks, set_name, *, timeout, memory, name=None) -> list[dict]:
    import secrets

    base = Path(tempfile.mkdtemp(prefix="grade_"))
    os.chmod(base, 0o700)
    marker = secrets.token_hex(16)
    key = secrets.token_bytes(32)
    proc = None
    n = len(notebooks)

    def everyone(status, message):
        return [{"status": status, "scores": {}, "message": message} for _ in range(n)]

    try:
        private = base / "private"
        private.mkdir(mode=0o700)
        work = base / "work"
        work.mkdir(mode=0o700)
        items = []
        for k, (path, only) in enumerate(notebooks):
            copy = private / f"{k}_{name or set_name}.ipynb"
            shutil.copyfile(path, copy)              # graded from a copy, never the original
            items.append({"path": str(copy), "only": only})
        result = private / "result.json"
        job = {"notebooks": items, "set": set_name, "work": str(work), "result": str(result),
               "memory": int(memory), "marker": marker, "key": key.hex(),
               "deadline_s": float(timeout), "tests": tests(set_name)}
        log = open(private / "log.txt", "w")
        env = {k: v for k, v in os.environ.items() if k != MARKER}
        # One thread per submission: the problems are small and several gradings share the
        # cores (oversubscribed threads made a set 30x slower). The CPU only: the tests'
        # references are computed on the CPU.
        env.update({"CI": "1", "PYTHONHASHSEED": "0", "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1",
                    "MKL_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""})
        proc = subprocess.Popen([python(), str(Path(__file__).resolve()), "--supervise"],
                                cwd=private, stdin=subprocess.PIPE, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True, env=env)
        try:
            proc.stdin.write(json.dumps(job).encode())
            proc.stdin.close()
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return everyone("timeout", f"stopped after the time limit of {timeout:g} s "
                                       "(an endless loop?)")
        except BrokenPipeError:
            proc.wait(timeout=timeout)
        finally:
            kill_all(proc.pid, marker)
            log.close()
        if not result.exists():
            lines = (private / "log.txt").read_text(errors="replace").strip().splitlines()
            last = lines[-1].strip() if lines else f"exit status {proc.returncode}"
            return everyone("crashed", f"grading stopped: {last[-300:]}")
        try:
            return read_signed(result, key, n)
        except ValueError:
            return everyone("tampered", "the grader's result file was written by someone else")
    finally:
        if proc is not None:
            kill_all(None, marker)
        if os.environ.get("OVERPARAM_GRADING_KEEP"):      # debugging: keep logs and files
            print(f"kept {base}", file=sys.stderr)
        else:
            shutil.rmtree(base, ignore_errors=True)


# --- the supervisor: runs the kernel, runs the tests in its own interpreter ----------------
# What a kernel must leave alone: the comparisons and numerics the tests and the notebooks
# use. A difference from this interpreter's own (clean) functions means tampering.
WATCHED = (
    [f"numpy:{f}" for f in ("allclose", "isclose", "array_equal", "all", "any", "abs", "asarray",
                            "array", "mean", "max", "min", "diff", "polyfit", "log", "argmax")]
    + ["numpy.linalg:norm", "numpy.testing:assert_allclose"]
    + [f"torch:{f}" for f in ("allclose", "isclose", "equal", "all", "any", "abs", "as_tensor",
                              "tensor", "stack", "cat", "relu", "arccos", "sqrt", "cdist")]
    + [f"torch.linalg:{f}" for f in ("eigvalsh", "solve", "matrix_norm", "norm")]
    + [f"torch:Tensor.{f}" for f in ("__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__",
                                     "__sub__", "__rsub__", "__abs__", "__float__", "__bool__",
                                     "__len__", "__getitem__", "__iter__", "__array__", "item",
                                     "tolist", "numpy", "norm", "abs", "max", "min", "all",
                                     "__torch_function__")]
    + [f"math:{f}" for f in ("isclose", "sqrt", "fabs", "isfinite", "pi")]
    + [f"builtins:{f}" for f in ("abs", "float", "int", "bool", "isinstance", "all", "any", "len",
                                 "max", "min", "sum", "round", "zip", "range", "sorted", "set",
                                 "list", "tuple", "dict", "type", "getattr", "hasattr")]
    + [f"overparam.data:{f}" for f in ("sphere_data", "separation", "check_inputs")]
    + [f"overparam.kernels:{f}" for f in ("h_infinity", "g_infinity", "deep_ntk", "empirical_ntk",
                                          "gram_matrix", "lambda_min")]
    + [f"overparam.models:{c}.{f}" for c in ("TwoLayerReLU", "DeepReLU")
       for f in ("forward", "__init__", "__call__", "preactivations")]
    + ["overparam.train:train"]
)
SKIPPED_CELL = re.compile(r"\s*grader\.check\(\s*[\"']\w+[\"']\s*\)\s*")
# otter's init cell: importing otter takes seconds, and grading needs no grader.check
OTTER_INIT = re.compile(
    r"\s*# Initialize Otter\s*\nimport otter\s*\ngrader = otter\.Notebook\(.*\)\s*")
GRADER_STUB = """class _NoCheck:
    def check(self, *args, **kwargs):
        return None


grader = _NoCheck()
"""
MAX_RESPONSE = 256 * 1024 ** 2


class Tampered(Exception):
    """A value or a function of the kernel that is not what it claims to be."""


class StudentError(Exception):
    """The student's function raised, or the asked name is missing."""


class Unsupported:
    """A value that is not plain data (a string, a model, ...): tests on it fail."""

    def __init__(self, kind):
        self.kind = kind

    def __repr__(self):
        return f"<not plain data: {self.kind}>"


def _helper_source() -> str:
    return (HERE / "grader_kernel.py").read_text()


def _clean_describe():
    ns: dict = {}
    exec(compile(_helper_source(), "grader_kernel.py", "exec"), ns)
    return ns["_overparam_grader"].describe


def _read_roots(work: Path) -> list[str]:
    """What the kernel may read: the system, the Python installation, the library; not the
    course repository (its sources hold the solutions and the tests)."""
    import overparam

    roots = {"/usr", "/lib", "/lib32", "/lib64", "/bin", "/sbin", "/etc", "/proc", "/sys", "/dev",
             "/opt", sys.prefix, sys.base_prefix, os.path.realpath(sys.executable),
             str(Path(overparam.__file__).resolve().parent), str(work)}
    repo = HERE.parent.resolve()
    for p in sys.path:
        rp = Path(p).resolve() if p else None
        if rp and rp.is_dir() and rp != repo and not (rp == HERE or HERE in rp.parents):
            roots.add(str(rp))
    return sorted(roots)


def _make_kernel_manager(work: Path, sandbox_spec: dict):
    from jupyter_client.manager import KernelManager

    wrapper = [python(), str(HERE / "sandbox.py"), json.dumps(sandbox_spec), "--"]

    class SandboxedKernelManager(KernelManager):
        def format_kernel_cmd(self, extra_arguments=None):
            return wrapper + super().format_kernel_cmd(extra_arguments)

    return SandboxedKernelManager(kernel_name="python3", transport="ipc", ip=str(work / "k"),
                                  connection_file=str(work / "kernel.json"))


def supervise(job: dict) -> list[dict]:
    """Run a submission's notebook in a sandboxed kernel and its tests here; the result (one
    per notebook of ``job["notebooks"]``: more than one only for the instructor's mutants)."""
    import secrets
    import time

    import nbformat
    import numpy as np
    import torch
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    t_start = time.monotonic()
    print(f"imports done at {time.time():.1f}", flush=True)
    t_end = t_start + job["deadline_s"] - 3
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)
    work = Path(job["work"])
    for sub in ("tmp", ".ipython", ".mpl", ".cache"):
        (work / sub).mkdir(exist_ok=True)
    kernel_env = {k: v for k, v in os.environ.items()
                  if k in ("PATH", "LANG", "LC_ALL", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                           "CUDA_VISIBLE_DEVICES", "PYTHONHASHSEED", "MPLBACKEND", "CI",
                           "VIRTUAL_ENV")}
    kernel_env.update({"HOME": str(work), "TMPDIR": str(work / "tmp"),
                       "IPYTHONDIR": str(work / ".ipython"), "MPLCONFIGDIR": str(work / ".mpl"),
                       "XDG_CACHE_HOME": str(work / ".cache"), MARKER: job["marker"],
                       "JUPYTER_RUNTIME_DIR": str(work), "PYDEVD_DISABLE_FILE_VALIDATION": "1"})
    spec = {"memory_bytes": job["memory"], "read_roots": _read_roots(work),
            "write_roots": [str(work), "/dev/null"],
            # Off only to show what the sandbox prevents (tests/test_grading_sandbox.py).
            "landlock": os.environ.get("OVERPARAM_GRADING_LANDLOCK", "on") != "off"}
    scratch = nbformat.v4.new_notebook()       # the grader's own cells go here
    km = _make_kernel_manager(work, spec)
    client = NotebookClient(scratch, km=km, timeout=max(5, int(t_end - time.monotonic())),
                            allow_errors=True, kernel_name="python3",
                            resources={"metadata": {"path": str(work)}})

    def run_code(code: str) -> str | None:
        """Execute ``code`` in the kernel; the error it raised, if any."""
        cell = nbformat.v4.new_code_cell(code)
        client.nb.cells.append(cell)
        client.timeout = max(1, int(t_end - time.monotonic()))
        client.execute_cell(cell, len(client.nb.cells) - 1)
        for o in cell.get("outputs", []):
            if o.get("output_type") == "error":
                return f"{o.get('ename')}: {str(o.get('evalue'))[:200]}"
        return None

    def response(out: Path):
        js, npz = Path(f"{out}.json"), Path(f"{out}.npz")
        if not js.exists() or js.stat().st_size > MAX_RESPONSE or (
                npz.exists() and npz.stat().st_size > MAX_RESPONSE):
            raise StudentError("the kernel gave no answer (or one too large)")
        spec = json.loads(js.read_text())
        arrays = {}
        if npz.exists():
            with np.load(npz, allow_pickle=False) as z:
                arrays = {k: np.array(z[k]) for k in z.files}
        for p in (js, npz):
            p.unlink(missing_ok=True)
        return spec, arrays

    def from_data(spec, arrays, what):
        t = spec.get("t") if isinstance(spec, dict) else None
        if t in ("bool", "int"):
            v = spec["v"]
            if type(v) is not {"bool": bool, "int": int}[t]:
                raise Tampered(f"{what}: malformed data")
            return v
        if t == "float":
            return float.fromhex(spec["v"])
        if t == "str":
            return str(spec["v"])
        if t == "none":
            return None
        if t == "ellipsis":
            return Ellipsis
        if t in ("npscalar", "ndarray", "tensor"):
            a = arrays.get(spec.get("k"))
            if a is None or a.dtype.kind not in "biuf":
                raise Tampered(f"{what}: malformed data")
            if t == "npscalar":
                return a[()]
            return a if t == "ndarray" else torch.from_numpy(np.array(a))
        if t in ("list", "tuple"):
            items = [from_data(x, arrays, what) for x in spec["items"]]
            return items if t == "list" else tuple(items)
        if t == "dict":
            try:
                return {from_data(k, arrays, what): from_data(v, arrays, what)
                        for k, v in spec["items"]}
            except TypeError:
                return Unsupported("a dict with unhashable keys")
        if t == "posing":
            raise Tampered(f"{what} is a {spec.get('type')} posing as a number or array")
        if t == "other":
            return Unsupported(spec.get("type"))
        raise Tampered(f"{what}: malformed data")

    class Remote:
        """A student's function: called in the kernel, its output read back as data."""

        def __init__(self, name):
            self.name = name

        def __call__(self, *args, **kwargs):
            token = secrets.token_hex(8)
            req, out = work / f"req_{token}.pt", work / f"resp_{token}"
            torch.save((args, kwargs), req)
            err = run_code(f"_overparam_grader.call({self.name!r}, {str(req)!r}, {str(out)!r})")
            req.unlink(missing_ok=True)
            if err:
                raise StudentError(f"calling {self.name}: {err}")
            spec, arrays = response(out)
            if spec.get("t") == "error":
                raise StudentError(f"{self.name} raised {spec.get('type')}: {spec.get('msg')}")
            if spec.get("t") != "call":
                raise Tampered(f"{self.name}: malformed data")
            result = from_data(spec["result"], arrays, f"the output of {self.name}")
            for i, kind, state in spec.get("mutated", []):
                new = from_data(state, arrays, f"an argument of {self.name}")
                target = args[i] if isinstance(i, int) and 0 <= i < len(args) else None
                with torch.no_grad():
                    if kind == "module" and isinstance(target, torch.nn.Module) \
                            and isinstance(new, dict):
                        for k, v in target.state_dict().items():
                            if k in new and isinstance(new[k], torch.Tensor) \
                                    and new[k].shape == v.shape:
                                v.copy_(new[k])
                    elif kind == "tensor" and isinstance(target, torch.Tensor) \
                            and isinstance(new, torch.Tensor) and new.shape == target.shape:
                        target.copy_(new)
            return result

    def fetch(name):
        token = secrets.token_hex(8)
        out = work / f"resp_{token}"
        err = run_code(f"_overparam_grader.get({name!r}, {str(out)!r})")
        if err:
            raise StudentError(f"reading {name}: {err}")
        spec, arrays = response(out)
        if spec.get("t") == "missing":
            raise StudentError(f"{name} is not defined")
        if spec.get("t") == "function":
            return Remote(name)
        return from_data(spec, arrays, name)

    clean = {"torch": torch, "np": np, "numpy": np, "math": __import__("math")}
    import importlib
    import inspect

    describe = _clean_describe()
    reference = {}
    for path in WATCHED:
        mod, _, attr = path.rpartition(":")
        obj = importlib.import_module(mod)
        for part in attr.split("."):
            obj = inspect.getattr_static(obj, part) if isinstance(obj, type) \
                else getattr(obj, part)
        reference[path] = describe(obj)

    def grade_notebook(nb, only) -> dict:
        """Run one notebook's cells in the kernel, then the tests here."""
        errors: list[str] = []
        res = {"status": "ok", "scores": {}, "message": ""}
        qtests = {q: ts for q, ts in job["tests"].items() if not only or q in only}
        client.nb = nb
        t_nb = time.monotonic()
        try:
            for i, cell in enumerate(nb.cells):
                if cell.cell_type != "code" or SKIPPED_CELL.fullmatch(cell.source):
                    continue
                if OTTER_INIT.fullmatch(cell.source):
                    cell.source = GRADER_STUB
                client.timeout = max(1, int(t_end - time.monotonic()))
                client.execute_cell(cell, i)
                for o in cell.get("outputs", []):
                    if o.get("output_type") == "error":
                        errors.append(f"{o.get('ename')}: {str(o.get('evalue'))[:80]}")
            err = run_code(_helper_source())
            if err:
                raise Tampered(f"the grader's helper could not run in the kernel ({err})")
            out = work / f"resp_{secrets.token_hex(8)}"
            err = run_code(f"_overparam_grader.fingerprint({list(WATCHED)!r}, {str(out)!r})")
            spec, _ = response(out) if not err else ({}, {})
            theirs = spec.get("functions", {}) if isinstance(spec, dict) else {}
            replaced = [p.replace(":", ".") for p in WATCHED if theirs.get(p) != reference[p]]
            if replaced:
                raise Tampered("replaced " + ", ".join(replaced[:6])
                               + (" ..." if len(replaced) > 6 else ""))
            touched: list[str] = []
            print(f"cells ran in {time.monotonic() - t_nb:.1f} s", flush=True)
            for q, tests_q in qtests.items():
                score, q_tampered = 0.0, None
                for t in tests_q:
                    t_test = time.monotonic()
                    ns: dict = {}
                    exec(compile(t["source"], f"<{t['name']}>", "exec"), ns)
                    fn = ns[t["name"]]
                    try:
                        kwargs = {p: clean[p] if p in clean else fetch(p)
                                  for p in inspect.signature(fn).parameters}
                        fn(**kwargs)
                        score += t["points"]
                    except Tampered as e:
                        q_tampered = str(e)
                    except Exception:  # a failed test (assertion, error in student output)
                        pass
                    print(f"{t['name']}: {time.monotonic() - t_test:.1f} s", flush=True)
                if q_tampered:
                    touched.append(f"{q}: {q_tampered}")
                res["scores"][q] = 0.0 if q_tampered else score
            if touched:
                res["status"] = "tampered"
                res["message"] = "; ".join(touched)
        except Tampered as e:
            res = {"status": "tampered", "scores": {q: 0.0 for q in qtests}, "message": str(e)}
        if res["status"] == "ok" and errors:
            res["status"] = "errors"
            res["message"] = "cells raised: " + "; ".join(errors[:3])
        elif res["status"] == "tampered" and errors:
            res["message"] += " (cells raised: " + "; ".join(errors[:2]) + ")"
        return res

    results: list[dict] = []
    items = job["notebooks"]
    try:
        print(f"supervisor ready after {time.monotonic() - t_start:.1f} s", flush=True)
        with client.setup_kernel(env=kernel_env, cwd=str(work)):
            print(f"kernel up after {time.monotonic() - t_start:.1f} s", flush=True)
            for k, item in enumerate(items):
                if k:    # a batch of the instructor's own notebooks (mutants): a clean namespace
                    run_code("get_ipython().reset(new_session=False)")
                results.append(grade_notebook(nbformat.read(item["path"], as_version=4),
                                              item.get("only")))
    except DeadKernelError as e:
        why = str(e).splitlines()[0][:120] if str(e) else "out of memory?"
        results.append({"status": "crashed", "scores": {}, "message": f"the kernel died ({why})"})
    except CellTimeoutError:
        results.append({"status": "timeout", "scores": {},
                        "message": f"stopped after the time limit of {job['deadline_s']:g} s"})
    print(f"kernel down after {time.monotonic() - t_start:.1f} s", flush=True)
    while len(results) < len(items):
        results.append(dict(results[-1]))
    return results


def _supervisor_main() -> int:
    import time

    print(f"supervisor started at {time.time():.1f}", flush=True)
    job = json.loads(sys.stdin.read())
    set_subreaper()
    try:
        res = supervise(job)
    finally:
        import psutil
        procs = psutil.Process().children(recursive=True)     # the kernel and its orphans
        for p in procs:
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(procs, timeout=5)                  # reaped here, not left as zombies
    payload = json.dumps(res)
    signed = {"payload": payload, "signature": _sign(bytes.fromhex(job["key"]), payload)}
    Path(job["result"]).write_text(json.dumps(signed))
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] == "--supervise":
        sys.exit(_supervisor_main())
    print(__doc__)
    sys.exit(2)
