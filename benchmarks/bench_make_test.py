"""`make test` on a clean clone: the maintainer's whole check, timed (goal < 20 min).

Clones the repository's HEAD (the committed state, not the working tree) into a temporary
folder and runs `make test` there with CI=true, as CI does: it creates .venv from
requirements.txt (packages come from pip's cache when it has them), then runs every check.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

from common import row

ROOT = Path(__file__).resolve().parent.parent
LIMIT_S = 20 * 60


def make_test_bench(quick: bool) -> list:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["git", "clone", "-q", str(ROOT), tmp], check=True)
        start = time.perf_counter()
        proc = subprocess.run(["make", "test"], cwd=tmp, env={**os.environ, "CI": "true"},
                              capture_output=True, text=True)
        secs = time.perf_counter() - start
    passed = proc.returncode == 0
    value = f"{secs / 60:.1f} min" + ("" if passed else f", FAILED (exit {proc.returncode})")
    detail = ("`git clone` of HEAD into a temporary folder, then `CI=true make test` "
              "(creates .venv, then library, lessons, exercises and website checks)")
    if not passed:
        detail += ": " + " | ".join(proc.stdout.strip().splitlines()[-3:])
    return [row("make_test", "`make test` on a clean clone", "-", "< 20 min", value,
                passed and secs < LIMIT_S, detail)]
