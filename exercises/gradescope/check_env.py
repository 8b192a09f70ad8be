"""Check that this interpreter is the environment the autograder needs (setup.sh's last step):
Python ``MAJOR.MINOR``, every ``name==version`` of the given requirements file, the course's
library and the modules the grader imports. Exits non-zero, naming what differs.

    python check_env.py 3.11 requirements.txt
"""

from __future__ import annotations

import importlib
import sys
from importlib import metadata


def pins(path: str) -> dict[str, str]:
    out = {}
    for line in open(path).read().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, sep, version = line.partition("==")
            if not sep:
                raise SystemExit(f"{path}: {line!r} is not pinned with ==")
            out[name.strip().lower()] = version.strip()
    return out


def problems(python: str, wanted: dict[str, str]) -> list[str]:
    found = []
    have = f"{sys.version_info[0]}.{sys.version_info[1]}"
    if have != python:
        found.append(f"Python {have}, not {python}")
    for name, version in wanted.items():
        try:
            got = metadata.version(name).split("+")[0]       # 2.13.0+cpu is 2.13.0
        except metadata.PackageNotFoundError:
            found.append(f"{name} is not installed ({version} wanted)")
            continue
        if got != version:
            found.append(f"{name} {got}, not {version}")
    for module in ("overparam", "nbformat", "nbclient", "jupyter_client", "ipykernel", "psutil",
                   "numpy", "torch"):
        try:
            importlib.import_module(module)
        except Exception as e:  # any failure to import is a broken environment
            found.append(f"import {module}: {type(e).__name__}: {e}")
    return found


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print(__doc__)
        return 2
    found = problems(argv[0], pins(argv[1]))
    for p in found:
        print(f"check_env: {p}")
    if not found:
        print(f"check_env: Python {sys.version.split()[0]} at {sys.executable} has the pinned "
              f"versions of {argv[1]}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
