"""Plain-data encoding of values between the grader and the sandboxed worker (one JSON object
per line). Arrays travel as dtype, shape and base64 bytes; only numeric and boolean dtypes are
accepted, so decoding never runs code (no pickle). Both sides use this module."""
from __future__ import annotations

import base64
import math

import numpy as np

#: dtypes that may cross the boundary (everything numeric is converted to one of them).
DTYPES = {"f": "<f8", "i": "<i8", "u": "<i8", "b": "|b1", "c": "<c16"}
MAX_ITEMS = 50_000_000      # entries of one decoded array
MAX_DEPTH = 20


class CodecError(ValueError):
    """A value that cannot be encoded, or a message that is not valid plain data."""


def encode(x, depth=0, primal=None):
    """``x`` (None, bool, int, float, str, tuple, list, dict, array-like) as JSON-ready data.

    ``primal`` (optional) unwraps traced values first (``autodiff_core.primal``).
    Raises CodecError for anything else (the worker reports the type instead)."""
    if depth > MAX_DEPTH:
        raise CodecError("value nested too deeply")
    if x is None or type(x) in (bool, str):
        return x
    if type(x) is int:
        return x if abs(x) < 2 ** 53 else float(x)
    if type(x) is float:
        return x if math.isfinite(x) else {"float": repr(x)}
    if isinstance(x, tuple):
        return {"tuple": [encode(v, depth + 1, primal) for v in x]}
    if isinstance(x, list):
        return {"list": [encode(v, depth + 1, primal) for v in x]}
    if isinstance(x, dict):
        return {"dict": [[str(k), encode(v, depth + 1, primal)] for k, v in x.items()]}
    if primal is not None:
        x = primal(x)
    a = np.asarray(x)
    if a.dtype.kind not in DTYPES:
        raise CodecError(f"a {type(x).__name__} is not an array of numbers")
    a = np.array(a, dtype=DTYPES[a.dtype.kind], order="C")
    return {"nd": a.dtype.str, "shape": list(a.shape), "b64": base64.b64encode(a.tobytes()).decode()}


def decode(d, depth=0):
    """Inverse of :func:`encode`; validates everything, raises CodecError on malformed data."""
    if depth > MAX_DEPTH:
        raise CodecError("value nested too deeply")
    if type(d) is int and abs(d) >= 2 ** 53:    # encode sends these as floats
        raise CodecError("integer out of range")
    if d is None or type(d) in (bool, str, int, float):
        return d
    if type(d) is not dict or len(d) not in (1, 3):
        raise CodecError(f"unexpected {type(d).__name__} in a message")
    if set(d) == {"float"}:
        if d["float"] not in ("inf", "-inf", "nan"):
            raise CodecError("bad float")
        return float(d["float"])
    if set(d) == {"tuple"} and type(d["tuple"]) is list:
        return tuple(decode(v, depth + 1) for v in d["tuple"])
    if set(d) == {"list"} and type(d["list"]) is list:
        return [decode(v, depth + 1) for v in d["list"]]
    if set(d) == {"dict"} and type(d["dict"]) is list:
        out = {}
        for kv in d["dict"]:
            if type(kv) is not list or len(kv) != 2 or type(kv[0]) is not str:
                raise CodecError("bad dict entry")
            out[kv[0]] = decode(kv[1], depth + 1)
        return out
    if set(d) == {"nd", "shape", "b64"}:
        if d["nd"] not in DTYPES.values():
            raise CodecError(f"dtype {d['nd']!r} not allowed")
        shape = d["shape"]
        if type(shape) is not list or len(shape) > 32 or any(
                type(n) is not int or n < 0 for n in shape):
            raise CodecError("bad shape")
        size = math.prod(shape)
        if size > MAX_ITEMS:
            raise CodecError("array too large")
        dtype = np.dtype(d["nd"])
        raw = base64.b64decode(d["b64"], validate=True)
        if len(raw) != size * dtype.itemsize:
            raise CodecError("array data does not match its shape")
        return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    raise CodecError("unknown value kind")
