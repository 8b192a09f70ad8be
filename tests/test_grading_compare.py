"""exercises/grading/compare.py: data from a kernel becomes values here, objects posing as
numbers are tampering, replaced library functions are found, and a question's tests give
points per test, all without running student code."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "exercises"))
from grading import compare  # noqa: E402
from grading.kernel import clean_describe  # noqa: E402


def test_plain_data_becomes_values():
    arrays = {"a0": np.arange(3.0), "a1": np.float64(2.5), "a2": np.eye(2)}
    spec = {"t": "dict", "items": [
        [{"t": "str", "v": "x"}, {"t": "ndarray", "k": "a0"}],
        [{"t": "str", "v": "y"}, {"t": "tuple", "items": [{"t": "float", "v": (0.1).hex()},
                                                          {"t": "int", "v": 3},
                                                          {"t": "npscalar", "k": "a1"}]}],
        [{"t": "str", "v": "z"}, {"t": "tensor", "k": "a2"}]]}
    v = compare.from_data(spec, arrays, "answer")
    assert np.array_equal(v["x"], np.arange(3.0))
    assert v["y"] == (0.1, 3, 2.5)
    assert isinstance(v["z"], torch.Tensor) and torch.equal(v["z"], torch.eye(2, dtype=torch.float64))
    assert isinstance(compare.from_data({"t": "other", "type": "Model"}, {}, "m"),
                      compare.Unsupported)


@pytest.mark.parametrize("spec, arrays", [
    ({"t": "posing", "type": "Anything"}, {}),
    ({"t": "int", "v": 1.5}, {}),
    ({"t": "ndarray", "k": "missing"}, {}),
    ({"t": "ndarray", "k": "a0"}, {"a0": np.array(["text"])}),
    ({"t": "pickle"}, {}),
])
def test_posing_or_malformed_data_is_tampering(spec, arrays):
    with pytest.raises(compare.Tampered):
        compare.from_data(spec, arrays, "lambda0")


def test_replaced_functions_are_found():
    reference = compare.reference_fingerprints(clean_describe())
    assert compare.replaced(dict(reference), reference) == []
    theirs = dict(reference)
    theirs["numpy:allclose"] = clean_describe()(lambda *a, **k: True)
    del theirs["math:isclose"]
    assert compare.replaced(theirs, reference) == ["numpy.allclose", "math.isclose"]


TESTS = [
    {"name": "test_value", "points": 1.0, "hidden": False,
     "source": "def test_value(lambda0, np):\n    assert np.isclose(lambda0, 0.5), 'not 0.5'\n"},
    {"name": "test_function", "points": 2.0, "hidden": True,
     "source": "def test_function(double, torch):\n"
               "    assert torch.equal(double(torch.ones(2)), 2 * torch.ones(2))\n"},
]


def test_each_test_gives_its_points():
    values = {"lambda0": 0.5, "double": lambda x: 2 * x}
    out = compare.run_tests(TESTS, values.__getitem__)
    assert out["score"] == 3.0 and out["tampered"] is None
    assert [t["passed"] for t in out["tests"]] == [True, True]
    values["lambda0"] = 0.4
    out = compare.run_tests(TESTS, values.__getitem__)
    assert out["score"] == 2.0
    assert out["tests"][0] == {"name": "test_value", "points": 1.0, "hidden": False,
                               "passed": False, "message": "not 0.5"}


def test_a_missing_name_fails_its_test_only():
    def fetch(name):
        if name == "double":
            raise compare.StudentError("double is not defined")
        return 0.5

    out = compare.run_tests(TESTS, fetch)
    assert out["score"] == 1.0
    assert out["tests"][1]["message"] == "double is not defined"


def test_tampering_zeroes_the_question():
    def fetch(name):
        if name == "double":
            raise compare.Tampered("double's output is a Fake posing as a number or array")
        return 0.5

    out = compare.run_tests(TESTS, fetch)
    assert out["score"] == 0.0 and "posing" in out["tampered"]
    assert not any(t["passed"] for t in out["tests"])
