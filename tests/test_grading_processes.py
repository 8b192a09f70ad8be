"""exercises/grading/processes.py: memory limits, the marker of a submission's processes and
killing all of them (the end-to-end check is in test_grading_sandbox.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "exercises"))
import grading  # noqa: E402


def test_memory_limit_parsing():
    assert grading.parse_memory("4G") == 4 * 1024 ** 3
    assert grading.parse_memory("512M") == 512 * 1024 ** 2
    assert grading.parse_memory("0") == 0
    assert grading.parse_memory(1000) == 1000
    with pytest.raises(ValueError, match="4G"):
        grading.parse_memory("lots")


def test_marked_detached_process_is_found_and_killed():
    marker = f"probe{os.getpid()}"
    env = {"PATH": os.environ["PATH"], grading.MARKER: marker}
    subprocess.run(["sh", "-c", "setsid sleep 600 >/dev/null 2>&1 &"], env=env, check=True)
    for _ in range(50):
        found = grading.marked_processes(marker)
        if found:
            break
        time.sleep(0.05)
    assert len(found) == 1
    assert grading.kill_all(None, marker) == 1
    assert grading.marked_processes(marker) == []
