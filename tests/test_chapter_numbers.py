"""book/_ext/chapter_numbers.py: figures and exercises numbered per chapter."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "book" / "_ext"))

from chapter_numbers import chapter_of, renumber  # noqa: E402


def test_chapter_of_reads_the_lesson_file_name():
    assert chapter_of("lessons/13_classification") == "13"
    assert chapter_of("lessons/01_the_puzzle") == "1"
    assert chapter_of("lessons/12b_deep_sgd_and_depth") == "12b"
    assert chapter_of("lessons/checks/09_lazy_vs_active_checks") == "C9"
    assert chapter_of("lessons/checks/12b_deep_sgd_and_depth_checks") == "C12b"
    assert chapter_of("lessons/checks/notes") is None
    assert chapter_of("book/intro") is None
    assert chapter_of("exercises/set1_two_layer/student/set1_two_layer") is None


def test_renumber_counts_from_one_in_page_order_per_type():
    book_wide = {
        "lessons/13_classification": {"figure": {"f-b": (48,), "f-a": (47,), "f-c": (49,)},
                                      "exercise": {"e2": (42,), "e1": (41,)}},
        "lessons/12b_deep_sgd_and_depth": {"exercise": {"x": (40,)}},
        "book/intro": {"figure": {"g": (10,), "h": (2,)}},
    }
    out = renumber(book_wide)
    assert out["lessons/13_classification"]["figure"] == {
        "f-a": ("13", 1), "f-b": ("13", 2), "f-c": ("13", 3)}
    assert out["lessons/13_classification"]["exercise"] == {"e1": ("13", 1), "e2": ("13", 2)}
    assert out["lessons/12b_deep_sgd_and_depth"]["exercise"] == {"x": ("12b", 1)}
    assert out["book/intro"]["figure"] == {"h": (1,), "g": (2,)}   # 10 > 2: order by number
