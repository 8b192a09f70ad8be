"""Comparing answers, in the grader's own interpreter: turning the data a kernel sends into
values, telling tampering from a wrong answer, and running a question's tests.

Nothing here runs student code. A value arrives as plain data (``from_data``: JSON and arrays
read with ``allow_pickle=False``); anything that poses as a number or an array is
``Tampered``. The library and language functions the tests rely on (``WATCHED``) are compared,
by type, name and code hash, with this interpreter's own clean ones (``replaced``). A question's
tests (``run_tests``) get their arguments from a ``fetch`` callable (in grading: read from the
kernel) and the grader's own ``torch``, ``numpy`` and ``math``.
"""

from __future__ import annotations

# What a kernel must leave alone: the comparisons and numerics the tests and the notebooks
# use. A difference from this interpreter's own (clean) functions means tampering.
WATCHED = (
    [f"numpy:{f}" for f in ("allclose", "isclose", "array_equal", "all", "any", "abs", "asarray",
                            "array", "mean", "max", "min", "diff", "polyfit", "log", "argmax")]
    + ["numpy.linalg:norm", "numpy.testing:assert_allclose"]
    + [f"torch:{f}" for f in ("allclose", "isclose", "equal", "all", "any", "abs", "as_tensor",
                              "tensor", "stack", "cat", "relu", "arccos", "sqrt", "cdist")]
    + [f"torch.linalg:{f}" for f in ("eigvalsh", "solve", "matrix_norm", "norm")]
    + [f"torch:Tensor.{f}" for f in ("__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__",
                                     "__sub__", "__rsub__", "__abs__", "__float__", "__bool__",
                                     "__len__", "__getitem__", "__iter__", "__array__", "item",
                                     "tolist", "numpy", "norm", "abs", "max", "min", "all",
                                     "__torch_function__")]
    + [f"math:{f}" for f in ("isclose", "sqrt", "fabs", "isfinite", "pi")]
    + [f"builtins:{f}" for f in ("abs", "float", "int", "bool", "isinstance", "all", "any", "len",
                                 "max", "min", "sum", "round", "zip", "range", "sorted", "set",
                                 "list", "tuple", "dict", "type", "getattr", "hasattr")]
    + [f"overparam.data:{f}" for f in ("sphere_data", "separation", "check_inputs")]
    + [f"overparam.kernels:{f}" for f in ("h_infinity", "g_infinity", "deep_ntk", "empirical_ntk",
                                          "gram_matrix", "lambda_min")]
    + [f"overparam.models:{c}.{f}" for c in ("TwoLayerReLU", "DeepReLU")
       for f in ("forward", "__init__", "__call__", "preactivations")]
    + ["overparam.train:train"]
)


class Tampered(Exception):
    """A value or a function of the kernel that is not what it claims to be."""


class StudentError(Exception):
    """The student's function raised, or the asked name is missing."""


class Unsupported:
    """A value that is not plain data (a string, a model, ...): tests on it fail."""

    def __init__(self, kind):
        self.kind = kind

    def __repr__(self):
        return f"<not plain data: {self.kind}>"


def from_data(spec, arrays: dict, what: str):
    """The value described by ``spec`` (the JSON ``grader_kernel.py`` writes) and ``arrays``
    (its ``.npz``). Raises ``Tampered`` for an object posing as a number or array and for
    malformed data; a value that is not plain data becomes ``Unsupported``."""
    import numpy as np
    import torch

    t = spec.get("t") if isinstance(spec, dict) else None
    if t in ("bool", "int"):
        v = spec["v"]
        if type(v) is not {"bool": bool, "int": int}[t]:
            raise Tampered(f"{what}: malformed data")
        return v
    if t == "float":
        return float.fromhex(spec["v"])
    if t == "str":
        return str(spec["v"])
    if t == "none":
        return None
    if t == "ellipsis":
        return Ellipsis
    if t in ("npscalar", "ndarray", "tensor"):
        a = arrays.get(spec.get("k"))
        if a is None or a.dtype.kind not in "biuf":
            raise Tampered(f"{what}: malformed data")
        if t == "npscalar":
            return a[()]
        return a if t == "ndarray" else torch.from_numpy(np.array(a))
    if t in ("list", "tuple"):
        items = [from_data(x, arrays, what) for x in spec["items"]]
        return items if t == "list" else tuple(items)
    if t == "dict":
        try:
            return {from_data(k, arrays, what): from_data(v, arrays, what)
                    for k, v in spec["items"]}
        except TypeError:
            return Unsupported("a dict with unhashable keys")
    if t == "posing":
        raise Tampered(f"{what} is a {spec.get('type')} posing as a number or array")
    if t == "other":
        return Unsupported(spec.get("type"))
    raise Tampered(f"{what}: malformed data")


def reference_fingerprints(describe) -> dict[str, str]:
    """``describe`` (``grader_kernel.py``'s) of each clean ``WATCHED`` function of this
    interpreter: what the kernel's must equal."""
    import importlib
    import inspect

    out = {}
    for path in WATCHED:
        mod, _, attr = path.rpartition(":")
        obj = importlib.import_module(mod)
        for part in attr.split("."):
            obj = inspect.getattr_static(obj, part) if isinstance(obj, type) \
                else getattr(obj, part)
        out[path] = describe(obj)
    return out


def replaced(theirs: dict, reference: dict) -> list[str]:
    """The watched functions whose fingerprint in the kernel differs from the clean one
    (``numpy.allclose``, ...); a missing one counts as replaced."""
    return [p.replace(":", ".") for p in WATCHED if theirs.get(p) != reference[p]]


def clean_modules() -> dict:
    """The grader's own modules a test may ask for by name."""
    import math

    import numpy as np
    import torch

    return {"torch": torch, "np": np, "numpy": np, "math": math}


def _why(e: BaseException) -> str:
    text = str(e).strip().splitlines()[0][:300] if str(e).strip() else ""
    if isinstance(e, AssertionError):
        return text or "a check failed"
    if isinstance(e, StudentError) and text:     # says itself what is missing or what raised
        return text
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


def run_tests(tests_q: list[dict], fetch, clean: dict | None = None, log=None) -> dict:
    """Run one question's tests here, each on arguments from ``clean`` (the grader's modules)
    or ``fetch(name)`` (a value or a callable for a student's function).

    Returns ``{"score", "tampered": message or None, "tests": [{"name", "points", "hidden",
    "passed", "message"}]}``; a question that was tampered with scores 0."""
    import inspect
    import time

    clean = clean_modules() if clean is None else clean
    score, tampered, results = 0.0, None, []
    for t in tests_q:
        t0 = time.monotonic()
        ns: dict = {}
        exec(compile(t["source"], f"<{t['name']}>", "exec"), ns)
        fn = ns[t["name"]]
        passed, message = False, ""
        try:
            kwargs = {p: clean[p] if p in clean else fetch(p)
                      for p in inspect.signature(fn).parameters}
            fn(**kwargs)
            passed = True
            score += t["points"]
        except Tampered as e:
            tampered = message = str(e)
        except Exception as e:  # a failed test (assertion, error in student output)
            message = _why(e)
        results.append({"name": t["name"], "points": t["points"], "hidden": t["hidden"],
                        "passed": passed, "message": message})
        if log:
            log(f"{t['name']}: {time.monotonic() - t0:.1f} s")
    if tampered:
        for r in results:
            r["passed"] = False
    return {"score": 0.0 if tampered else score, "tampered": tampered, "tests": results}
