"""Timing helpers shared by the benchmarks: paired, alternating measurements and the machine.

The machine the course is developed on is shared and noisy, so every figure in RESULTS.md is a
*ratio* of two timings taken in the same run, the two sides alternating round by round; the
table shows the less favourable of two estimates: the ratio of each side's fastest round
(``best_ratio``) and the median over rounds of the back-to-back ratios (``median_ratio``).
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import statistics
import time

import torch


def resolve():
    """The device the benchmarks run on: the GPU when there is one (as in the lessons)."""
    from overparam.device import resolve_device
    return resolve_device("auto")


def sync():
    """Wait for queued GPU work, so that a timing covers it."""
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def timed(fn) -> float:
    """Wall time of one call of ``fn()`` in seconds (GPU work included)."""
    sync()
    t0 = time.perf_counter()
    fn()
    sync()
    return time.perf_counter() - t0


def alternate(sides: dict, rounds: int) -> dict:
    """Time each callable of ``sides`` once per round, rotating the order every round.
    Returns ``{name: [seconds per round]}``."""
    names = list(sides)
    out = {k: [] for k in names}
    for r in range(rounds):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            out[name].append(sides[name]())
    return out


def median_ratio(a, b) -> float:
    """Median over rounds of a[i] / b[i] (two sides measured back to back in round i)."""
    return statistics.median(x / y for x, y in zip(a, b))


def best_ratio(a, b) -> float:
    """min(a) / min(b): each side's least disturbed round, the figure least moved by other work
    on the machine (a load spike only ever makes a timing longer)."""
    return min(a) / min(b)


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine() -> dict:
    """What the numbers were measured on."""
    info = {
        "date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu_name(),
        "cores": f"{len(os.sched_getaffinity(0))} usable ({os.cpu_count()} online)",
        "torch threads": str(torch.get_num_threads()),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "GPU": (torch.cuda.get_device_name(0) if torch.cuda.is_available()
                else "none (torch sees no CUDA device)"),
    }
    try:
        info["load average at start"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
        info["memory"] = f"{kb / 2**20:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return info


def row(key, what, compared, goal, value, met, detail="") -> dict:
    """One line of the results table. ``value`` is the measured figure as text, ``met`` is
    True/False, or None where nothing could be measured."""
    return {"key": key, "what": what, "compared": compared, "goal": goal, "value": value,
            "met": met, "detail": detail}
