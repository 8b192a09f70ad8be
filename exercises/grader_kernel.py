"""Code the grader runs inside a student's kernel, after the student's cells (exercises/grading/).

It only turns values into plain data: a JSON description plus an ``.npz`` of arrays, written
into the submission's own folder. The grader reads that data with ``allow_pickle=False`` in its
own interpreter, which never runs student code, and runs the tests there. Nothing here decides
a score: whatever this code writes, a wrong number stays wrong.
"""


def _overparam_grader():
    import hashlib
    import inspect
    import json
    import types

    import numpy as np
    import torch

    from IPython import get_ipython

    ns = get_ipython().user_ns if get_ipython() is not None else {}
    plain_np = (np.float64, np.float32, np.float16, np.int64, np.int32, np.int16, np.int8,
                np.uint8, np.bool_)
    numeric_dunders = ("__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__float__",
                       "__int__", "__index__", "__abs__", "__bool__", "__sub__", "__array__",
                       "__array_ufunc__", "__array_function__", "__torch_function__",
                       "__len__", "__getitem__", "__iter__")

    def posing(v):
        t = type(v)
        if isinstance(v, (bool, int, float, complex, str, list, tuple, dict, np.ndarray,
                          np.generic, torch.Tensor)):
            return True                    # a subclass of a number, array or container
        return any(getattr(t, d, None) is not getattr(object, d, None) for d in numeric_dunders)

    def to_data(v, arrays, depth=0):
        t = type(v)
        if depth > 20:
            return {"t": "other", "type": "too deeply nested"}
        if t is bool:
            return {"t": "bool", "v": v}
        if t is int:
            return {"t": "int", "v": v} if abs(v) < 2 ** 53 else {"t": "other", "type": "huge int"}
        if t is float:
            return {"t": "float", "v": v.hex()}
        if t is str:
            return {"t": "str", "v": v[:1000]}
        if v is None or v is Ellipsis:
            return {"t": "none" if v is None else "ellipsis"}
        if t in plain_np:
            key = f"a{len(arrays)}"
            arrays[key] = np.asarray(v)
            return {"t": "npscalar", "k": key}
        if t is np.ndarray:
            if v.dtype.kind not in "biuf":
                return {"t": "other", "type": f"ndarray of dtype {v.dtype}"}
            key = f"a{len(arrays)}"
            arrays[key] = np.array(v, copy=True)
            return {"t": "ndarray", "k": key}
        if t is torch.Tensor or t is torch.nn.Parameter:
            if v.is_complex() or v.layout != torch.strided:
                return {"t": "other", "type": "complex or sparse tensor"}
            key = f"a{len(arrays)}"
            arrays[key] = v.detach().cpu().clone().numpy()
            return {"t": "tensor", "k": key}
        if t is list or t is tuple:
            return {"t": "list" if t is list else "tuple",
                    "items": [to_data(x, arrays, depth + 1) for x in v]}
        if t is dict:
            return {"t": "dict", "items": [[to_data(k, arrays, depth + 1),
                                            to_data(x, arrays, depth + 1)] for k, x in v.items()]}
        if isinstance(v, (types.FunctionType, types.BuiltinFunctionType, types.MethodType)):
            return {"t": "function"}
        if posing(v):
            return {"t": "posing", "type": f"{t.__module__}.{t.__qualname__}"}
        if callable(v):
            return {"t": "function"}
        return {"t": "other", "type": f"{t.__module__}.{t.__qualname__}"}

    def write(out, spec, arrays):
        np.savez(out + ".npz", **arrays)
        with open(out + ".json", "w") as f:
            json.dump(spec, f)

    def get(name, out):
        arrays = {}
        spec = to_data(ns[name], arrays) if name in ns else {"t": "missing"}
        write(out, spec, arrays)

    def call(name, req, out):
        args, kwargs = torch.load(req, weights_only=False)
        arrays = {}
        try:
            result = ns[name](*args, **kwargs)
        except BaseException as e:  # the student's function raised: a failed test, not ours
            write(out, {"t": "error", "type": type(e).__name__, "msg": str(e)[:300]}, arrays)
            return
        spec = {"t": "call", "result": to_data(result, arrays), "mutated": []}
        for i, a in enumerate(args):         # what the function changed in place
            if isinstance(a, torch.nn.Module):
                state = {k: v for k, v in a.state_dict().items()}
                spec["mutated"].append([i, "module", to_data(state, arrays)])
            elif isinstance(a, torch.Tensor):
                spec["mutated"].append([i, "tensor", to_data(a, arrays)])
        write(out, spec, arrays)

    def describe(obj):
        t = type(obj)
        d = [f"{t.__module__}.{t.__qualname__}", str(getattr(obj, "__module__", "")),
             str(getattr(obj, "__qualname__", getattr(obj, "__name__", "")))]
        code = getattr(obj, "__code__", None) or getattr(getattr(obj, "__func__", None),
                                                          "__code__", None)
        if code is not None:
            d.append(code_hash(code))
        if isinstance(obj, (classmethod, staticmethod)):
            d.append(describe(obj.__func__))
        return " ".join(d)

    def code_hash(code):
        h = hashlib.sha256(code.co_code)
        for c in code.co_consts:
            h.update(code_hash(c).encode() if isinstance(c, types.CodeType) else repr(c).encode())
        return h.hexdigest()

    def fingerprint(paths, out):
        import importlib
        res = {}
        for path in paths:
            mod, _, attr = path.rpartition(":")
            try:
                obj = importlib.import_module(mod)
                for part in attr.split("."):
                    obj = inspect.getattr_static(obj, part) if isinstance(obj, type) \
                        else getattr(obj, part)
                res[path] = describe(obj)
            except Exception as e:  # a missing function is a difference too
                res[path] = f"unavailable: {type(e).__name__}"
        write(out, {"t": "fingerprint", "functions": res}, {})

    return types.SimpleNamespace(get=get, call=call, fingerprint=fingerprint, describe=describe)


_overparam_grader = _overparam_grader()
