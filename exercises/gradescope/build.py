"""Build a set's Gradescope autograder: ``make autograder SET=set1_two_layer`` writes
``dist/set1_two_layer-autograder.zip``.

    python exercises/gradescope/build.py SET [--timeout 120] [--memory 4G] [--out dist]

The zip follows Gradescope's autograder contract: at its root ``setup.sh`` (installs the pinned
environment once, when Gradescope builds the image) and ``run_autograder`` (grades one
submission and writes ``results/results.json``). Beside them:

- ``requirements.txt``: the lines of the course's requirements.txt that grading needs, copied
  with their pins;
- ``overparam-<version>-py3-none-any.whl``: the course's library;
- ``exercises/``: the grader (``grading/``, ``sandbox.py``, ``grader_kernel.py``), this folder's
  ``run.py`` and ``check_env.py``, and ``<set>/tests.json``, the set's questions and tests
  (public and hidden) without the reference solutions;
- ``autograder.json``: the set, the time limit and the memory limit of each submission.

The hidden tests travel only in this zip: upload it to Gradescope, never hand it out.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXERCISES = HERE.parent
ROOT = EXERCISES.parent
sys.path.insert(0, str(EXERCISES))
import grading  # noqa: E402

# What grading imports: the library's dependencies (pyproject.toml), what the notebooks may use
# beside it (scipy, scikit-learn for the library's data set), the kernel and the notebook runner.
GRADING_PACKAGES = ("torch", "numpy", "scipy", "matplotlib", "ipywidgets", "tqdm",
                    "scikit-learn", "ipykernel", "nbformat", "nbclient")
GRADER_FILES = ("sandbox.py", "grader_kernel.py")
GRADESCOPE_FILES = ("run.py", "check_env.py")
EXECUTABLE = ("setup.sh", "run_autograder")


def requirement_lines(path: Path = ROOT / "requirements.txt") -> list[str]:
    """The ``name==version`` lines of requirements.txt for ``GRADING_PACKAGES``, in order."""
    out, seen = [], set()
    for line in path.read_text().splitlines():
        spec = line.split("#")[0].strip()
        name = spec.partition("==")[0].strip().lower()
        if name in GRADING_PACKAGES:
            out.append(spec)
            seen.add(name)
    missing = set(GRADING_PACKAGES) - seen
    if missing:
        raise SystemExit(f"requirements.txt pins none of {sorted(missing)}: grading needs them")
    return out


def build_wheel(dest: Path) -> Path:
    """The library as a wheel, built from a copy (no build files left in the repository)."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="overparam_wheel_") as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        for name in ("pyproject.toml", "README.md"):
            shutil.copy(ROOT / name, src / name)
        shutil.copytree(ROOT / "lib" / "overparam", src / "lib" / "overparam",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                               "--no-build-isolation", "--no-index", "-q", "-w", str(dest),
                               str(src)], capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"building the overparam wheel failed:\n{proc.stderr}")
    wheels = sorted(dest.glob("overparam-*.whl"))
    if len(wheels) != 1:
        raise RuntimeError(f"expected one overparam wheel, found {wheels}")
    return wheels[0]


def stage(set_name: str, dest: Path, *, timeout: float, memory: str,
          wheel: Path | None = None) -> None:
    """Lay out the zip's contents in ``dest`` (``wheel``: the library's, if already built)."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in EXECUTABLE:
        shutil.copy(HERE / name, dest / name)
    (dest / "requirements.txt").write_text(
        "# The pins of the course's requirements.txt that grading needs (make autograder).\n"
        + "\n".join(requirement_lines()) + "\n")
    (dest / "autograder.json").write_text(json.dumps(
        {"set": set_name, "timeout": timeout, "memory": memory}, indent=1) + "\n")
    if wheel is None:
        build_wheel(dest)
    else:
        shutil.copy(wheel, dest / Path(wheel).name)
    ex = dest / "exercises"
    shutil.copytree(EXERCISES / "grading", ex / "grading",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in GRADER_FILES:
        shutil.copy(EXERCISES / name, ex / name)
    (ex / "gradescope").mkdir()
    for name in GRADESCOPE_FILES:
        shutil.copy(HERE / name, ex / "gradescope" / name)
    (ex / set_name).mkdir()
    (ex / set_name / "tests.json").write_text(json.dumps(grading.bundle(set_name), indent=1))


def build(set_name: str, out_dir: Path, *, timeout: float = 120, memory: str = "4G",
          wheel: Path | None = None) -> Path:
    """Write ``out_dir/<set>-autograder.zip``; returns its path. ``wheel``: the library's wheel,
    when one was built already (``build_wheel``)."""
    grading.check_set_name(set_name)
    grading.parse_memory(memory)                       # refuse a malformed limit now
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{set_name}-autograder.zip"
    with tempfile.TemporaryDirectory(prefix="autograder_") as tmp:
        staged = Path(tmp) / "zip"
        stage(set_name, staged, timeout=timeout, memory=memory, wheel=wheel)
        partial = target.with_suffix(".zip.part")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as z:
            for path in sorted(p for p in staged.rglob("*") if p.is_file()):
                rel = path.relative_to(staged).as_posix()
                info = zipfile.ZipInfo(rel, date_time=(2020, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                mode = 0o755 if rel in EXECUTABLE else 0o644
                info.external_attr = (0o100000 | mode) << 16     # a regular file, its mode
                z.writestr(info, path.read_bytes())
        partial.replace(target)
    return target


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("set", help=f"one of {', '.join(grading.SETS)}")
    p.add_argument("--timeout", type=float, default=120, help="seconds per submission")
    p.add_argument("--memory", default="4G", help="memory limit of the submission's kernel")
    p.add_argument("--out", type=Path, default=ROOT / "dist")
    a = p.parse_args(argv)
    try:
        target = build(a.set, a.out, timeout=a.timeout, memory=a.memory)
    except ValueError as e:
        p.error(str(e))
    print(f"wrote {target} ({target.stat().st_size / 1024:.0f} KB): upload it as the "
          "autograder of a Gradescope programming assignment; it holds the hidden tests, so "
          "never hand it out")
    return 0


if __name__ == "__main__":
    sys.exit(main())
