"""benchmarks/lesson_resources.capacity: what a class needs, from the measured lessons
(book/teaching.md includes its table). Checked against arithmetic done here by hand."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import lesson_resources  # noqa: E402

MIB = 1e6 / 2**20          # peak_mib of exactly 1 MB


def _results():
    return {"a.ipynb": {"seconds": 10.0, "peak_mib": 400 * MIB},
            "b.ipynb": {"seconds": 30.0, "peak_mib": 700 * MIB},
            "c.ipynb": {"seconds": 50.0, "peak_mib": 500 * MIB},
            "d.ipynb": {"seconds": 99.0, "peak_mib": 900 * MIB, "error": "timeout"}}


def test_capacity_takes_the_largest_the_slowest_and_the_sum_of_the_lessons_that_ran():
    text = lesson_resources.capacity(_results())
    # memory: 300 x 700 MB = 210 GB; 3,000 x 700 MB = 2,100 GB
    assert "`b.ipynb`" in text and "300 × 700 MB ≈ 210 GB" in text
    assert "3,000 × 700 MB ≈ 2,100 GB" in text
    # cores: 300 x 50 s / 300 s = 50; 3,000 x 50 / 300 = 500
    assert "`c.ipynb`, 50.0 s" in text and "≈ 50 cores" in text and "≈ 500 cores" in text
    # a whole course: 10 + 30 + 50 = 90 s per student; 300 x 90 s = 7.5 h; 3,000 x 90 s = 75 h
    assert "all 3 notebooks" in text and "300 × 90 s ≈ 8 core-hours" in text
    assert "≈ 75 core-hours" in text
    assert "d.ipynb" not in text                     # a failed lesson is not a measurement


def test_capacity_says_when_nothing_was_measured():
    assert "no lesson measured" in lesson_resources.capacity({})
    assert "no lesson measured" in lesson_resources.capacity(
        {"x.ipynb": {"seconds": 1.0, "peak_mib": 1.0, "error": "boom"}})
