"""A submission's processes and limits: the memory limit's parsing, the marker every process of
a submission carries, and killing all of them, detached or orphaned ones included.

The grader marks each submission's processes with ``MARKER=<random id>`` in their environment
(a detached process keeps it) and makes the supervisor a child subreaper (an orphan comes back
to it), so that ``kill_all`` finds everything a submission started.
"""

from __future__ import annotations

import os
import re

MARKER = "OVERPARAM_GRADING_ID"
DEFAULT_MEMORY = 4 * 1024 ** 3
SUPERVISOR_MEMORY = 6 * 1024 ** 3          # the grader's own interpreter: tests and references


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


def kill_children() -> int:
    """Kill every descendant of this process and reap them (none is left as a zombie)."""
    import psutil

    procs = psutil.Process().children(recursive=True)
    for p in procs:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(procs, timeout=5)
    return len(procs)


def kill_orphans() -> int:
    """Kill the processes this (subreaper) process adopted: what escaped a killed supervisor."""
    return kill_children()
