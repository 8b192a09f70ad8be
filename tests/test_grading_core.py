"""exercises/grading/core.py: what is graded at all (notebooks only) and the signed result of
the supervisor (the grading itself: test_exercises.py, test_grading_sandbox.py)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "exercises"))
import grading  # noqa: E402


def test_not_a_notebook_is_recognized(tmp_path):
    bad = tmp_path / "broken.ipynb"
    bad.write_text("{ this is not json")
    assert grading.is_notebook(bad).startswith("not a readable notebook")
    assert grading.is_notebook(tmp_path / "x.pdf").startswith("not a notebook")
    assert grading.is_notebook(grading.student_notebook("set1_two_layer")) is None
    res = grading.grade_one(tmp_path / "x.pdf", "set1_two_layer", timeout=5)
    assert res["status"] == "not a notebook" and res["scores"] == {}


def test_result_file_must_carry_the_graders_signature(tmp_path):
    key = os.urandom(32)
    good = json.dumps([{"status": "ok", "scores": {"q1": 1.0}, "message": ""}])
    path = tmp_path / "result.json"
    path.write_text(json.dumps({"payload": good, "signature": grading._sign(key, good)}))
    assert grading.read_signed(path, key, 1)[0]["scores"] == {"q1": 1.0}
    forged = good.replace("1.0", "4.0")
    for sig in (grading._sign(key, good), grading._sign(os.urandom(32), forged), "0" * 64):
        path.write_text(json.dumps({"payload": forged, "signature": sig}))
        with pytest.raises(ValueError, match="signed"):
            grading.read_signed(path, key, 1)
    path.write_text("not json")
    with pytest.raises(ValueError, match="unreadable"):
        grading.read_signed(path, key, 1)
    path.write_text(json.dumps({"payload": good, "signature": grading._sign(key, good)}))
    with pytest.raises(ValueError, match="shape"):
        grading.read_signed(path, key, 2)
