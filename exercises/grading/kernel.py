"""Running a submission in a sandboxed Jupyter kernel, from the supervisor.

The kernel starts through ``exercises/sandbox.py`` (a memory limit, no capabilities and, with
Landlock, writes only into the submission's folder and reads only of the Python installation
and the library). ``KernelSession`` executes the notebook's cells there, then talks to
``grader_kernel.py`` (run in the kernel after the student's cells) through files in the
submission's folder: a value comes back as plain data, a student's function is called there on
the inputs the grader sends and only its output comes back.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import sys
import time
from pathlib import Path

from .compare import StudentError, Tampered, from_data
from .sources import HERE, SETS, init_cell, python

SKIPPED_CELL = re.compile(r"\s*grader\.check\(\s*[\"']\w+[\"']\s*\)\s*")
# otter's own init cell (in notebooks handed out before the sets had their own, INIT_CELL):
# importing otter takes seconds, and grading needs no grader.check
OTTER_INIT = re.compile(
    r"\s*# Initialize Otter\s*\nimport otter\s*\ngrader = otter\.Notebook\(.*\)\s*")
GRADER_STUB = """class _NoCheck:
    def check(self, *args, **kwargs):
        return None


grader = _NoCheck()
"""
MAX_RESPONSE = 256 * 1024 ** 2
KERNEL_ENV = ("PATH", "LANG", "LC_ALL", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
              "CUDA_VISIBLE_DEVICES", "PYTHONHASHSEED", "MPLBACKEND", "CI", "VIRTUAL_ENV")


def is_init_cell(source: str) -> bool:
    """Whether a code cell is a set's init cell (``sources.INIT_CELL``) or otter's own, which
    grading replaces by ``GRADER_STUB``. Only the exact text: code a student added to the cell
    would run as written."""
    return bool(OTTER_INIT.fullmatch(source)) or source.strip() in {
        init_cell(s).strip() for s in SETS}


def helper_source() -> str:
    return (HERE / "grader_kernel.py").read_text()


def clean_describe():
    """``grader_kernel.py``'s ``describe``, run in this (clean) interpreter."""
    ns: dict = {}
    exec(compile(helper_source(), "grader_kernel.py", "exec"), ns)
    return ns["_overparam_grader"].describe


def read_roots(work: Path) -> list[str]:
    """What the kernel may read: the system, the Python installation, the library; not the
    course repository (its sources hold the solutions and the tests) nor the autograder's
    folder."""
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


def kernel_env(work: Path, marker_name: str, marker: str) -> dict:
    """The kernel's environment: a few of ours, its home and caches in its folder, the marker."""
    env = {k: v for k, v in os.environ.items() if k in KERNEL_ENV}
    env.update({"HOME": str(work), "TMPDIR": str(work / "tmp"),
                "IPYTHONDIR": str(work / ".ipython"), "MPLCONFIGDIR": str(work / ".mpl"),
                "XDG_CACHE_HOME": str(work / ".cache"), marker_name: marker,
                "JUPYTER_RUNTIME_DIR": str(work), "PYDEVD_DISABLE_FILE_VALIDATION": "1"})
    return env


def sandbox_spec(work: Path, memory: int) -> dict:
    return {"memory_bytes": memory, "read_roots": read_roots(work),
            "write_roots": [str(work), "/dev/null"],
            # Off only to show what the sandbox prevents (tests/test_grading_sandbox.py).
            "landlock": os.environ.get("OVERPARAM_GRADING_LANDLOCK", "on") != "off"}


def make_kernel_manager(work: Path, spec: dict):
    """A Jupyter kernel manager whose kernel starts inside ``sandbox.py`` with ``spec``."""
    from jupyter_client.manager import KernelManager

    wrapper = [python(), str(HERE / "sandbox.py"), json.dumps(spec), "--"]

    class SandboxedKernelManager(KernelManager):
        def format_kernel_cmd(self, extra_arguments=None):
            return wrapper + super().format_kernel_cmd(extra_arguments)

    return SandboxedKernelManager(kernel_name="python3", transport="ipc", ip=str(work / "k"),
                                  connection_file=str(work / "kernel.json"))


class KernelSession:
    """One sandboxed kernel of a submission, its cells run until ``t_end`` (monotonic)."""

    def __init__(self, work: Path, *, memory: int, t_end: float):
        import nbformat
        from nbclient import NotebookClient

        self.work, self.t_end = Path(work), t_end
        for sub in ("tmp", ".ipython", ".mpl", ".cache"):
            (self.work / sub).mkdir(exist_ok=True)
        self.km = make_kernel_manager(self.work, sandbox_spec(self.work, memory))
        self.client = NotebookClient(
            nbformat.v4.new_notebook(), km=self.km,      # the grader's own cells go here
            timeout=max(5, int(t_end - time.monotonic())), allow_errors=True,
            kernel_name="python3", resources={"metadata": {"path": str(self.work)}})

    def start(self, env: dict):
        """A context manager: the kernel runs inside it."""
        return self.client.setup_kernel(env=env, cwd=str(self.work))

    def _timeout(self) -> int:
        return max(1, int(self.t_end - time.monotonic()))

    def run_notebook(self, nb) -> list[str]:
        """Execute the notebook's code cells (otter's init cell replaced by a stub, its
        ``grader.check`` cells skipped); the errors the cells raised."""
        errors: list[str] = []
        self.client.nb = nb
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != "code" or SKIPPED_CELL.fullmatch(cell.source):
                continue
            if is_init_cell(cell.source):
                cell.source = GRADER_STUB
            self.client.timeout = self._timeout()
            self.client.execute_cell(cell, i)
            for o in cell.get("outputs", []):
                if o.get("output_type") == "error":
                    errors.append(f"{o.get('ename')}: {str(o.get('evalue'))[:80]}")
        return errors

    def run_code(self, code: str) -> str | None:
        """Execute ``code`` in the kernel; the error it raised, if any."""
        import nbformat

        cell = nbformat.v4.new_code_cell(code)
        self.client.nb.cells.append(cell)
        self.client.timeout = self._timeout()
        self.client.execute_cell(cell, len(self.client.nb.cells) - 1)
        for o in cell.get("outputs", []):
            if o.get("output_type") == "error":
                return f"{o.get('ename')}: {str(o.get('evalue'))[:200]}"
        return None

    def reset(self) -> None:
        """A clean namespace (between the instructor's own notebooks of one batch)."""
        self.run_code("get_ipython().reset(new_session=False)")

    def install_helper(self) -> None:
        err = self.run_code(helper_source())
        if err:
            raise Tampered(f"the grader's helper could not run in the kernel ({err})")

    def _out(self) -> Path:
        return self.work / f"resp_{secrets.token_hex(8)}"

    def response(self, out: Path):
        """The data the helper wrote to ``out``: its JSON and its arrays (no pickles)."""
        import numpy as np

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

    def fingerprints(self, paths) -> dict:
        """The kernel's own ``describe`` of each watched function (empty if it would not say)."""
        out = self._out()
        err = self.run_code(f"_overparam_grader.fingerprint({list(paths)!r}, {str(out)!r})")
        spec, _ = self.response(out) if not err else ({}, {})
        return spec.get("functions", {}) if isinstance(spec, dict) else {}

    def fetch(self, name: str):
        """A name of the student's namespace: its value as data, or a ``Remote`` function."""
        out = self._out()
        err = self.run_code(f"_overparam_grader.get({name!r}, {str(out)!r})")
        if err:
            raise StudentError(f"reading {name}: {err}")
        spec, arrays = self.response(out)
        if spec.get("t") == "missing":
            raise StudentError(f"`{name}` is not defined: no cell sets it, or the cell that "
                               "does raised an error")
        if spec.get("t") == "function":
            return Remote(self, name)
        return from_data(spec, arrays, name)


class Remote:
    """A student's function: called in the kernel, its output read back as data."""

    def __init__(self, session: KernelSession, name: str):
        self.session, self.name = session, name

    def __call__(self, *args, **kwargs):
        import torch

        s = self.session
        token = secrets.token_hex(8)
        req, out = s.work / f"req_{token}.pt", s.work / f"resp_{token}"
        torch.save((args, kwargs), req)
        err = s.run_code(f"_overparam_grader.call({self.name!r}, {str(req)!r}, {str(out)!r})")
        req.unlink(missing_ok=True)
        if err:
            raise StudentError(f"calling {self.name}: {err}")
        spec, arrays = s.response(out)
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
