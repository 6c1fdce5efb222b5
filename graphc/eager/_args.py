"""Argument checks the front-end functions share: dims, sizes, scalars."""
from __future__ import annotations

import math
import numbers

import numpy as np

from .. import dtypes as _dt

__all__ = ["canon_dim", "canon_dims", "size_args", "wrap", "as_tensor_arg"]


def canon_dim(dim, ndim: int, op: str = "") -> int:
    """A dim in ``[0, ndim)``; IndexError like torch's when it is out of range."""
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        if hasattr(dim, "__index__") and not isinstance(dim, float):
            dim = dim.__index__()
        else:
            raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__}")
    lo, hi = (-1, 0) if ndim == 0 else (-ndim, ndim - 1)
    if dim < lo or dim > hi:
        raise IndexError(
            f"{op}: Dimension out of range (expected to be in range of [{lo}, {hi}], but got {dim})"
        )
    return dim % ndim if ndim else 0


def canon_dims(dims, ndim: int, op: str = "") -> tuple:
    """Normalize an int or a sequence of dims; None means all dims."""
    if dims is None:
        return tuple(range(ndim))
    if isinstance(dims, (int, np.integer)):
        return (canon_dim(dims, ndim, op),)
    out = tuple(canon_dim(d, ndim, op) for d in dims)
    if len(set(out)) != len(out):
        raise RuntimeError(f"{op}: dim {out} appears multiple times in the list of dims")
    return out


def size_args(size: tuple, op: str = "") -> tuple:
    """``f(2, 3)``, ``f((2, 3))`` and ``f([2, 3])`` all mean shape (2, 3)."""
    if len(size) == 1 and not isinstance(size[0], (int, np.integer)):
        size = size[0]
        if hasattr(size, "tolist") and not isinstance(size, tuple):
            size = size.tolist()
        if isinstance(size, (int, np.integer)):
            size = (size,)
    out = []
    for s in size:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)):
            if hasattr(s, "__index__"):
                s = s.__index__()
            else:
                raise TypeError(f"{op}: size must be a tuple of ints, got element {s!r} of type {type(s).__name__}")
        if s < 0:
            raise RuntimeError(f"{op}: Trying to create tensor with negative dimension {s}: {list(size)}")
        out.append(int(s))
    return tuple(out)


# Wrapped numbers are immutable (never written, never require grad), so the common ones are shared:
# ``x * 2`` in a loop then costs a dict lookup, not a new tensor.  Float zeros are not cached
# (0.0 == -0.0 would merge them); the cache is cleared when it grows past a bound.
_WRAP_CACHE: dict = {}


def wrap(x):
    """A Python number as a wrapped-number tensor (lowest promotion priority)."""
    tx = type(x)
    if tx is float:
        key = (x, _dt._default_float)
        t = _WRAP_CACHE.get(key) if x != 0 else None
        if t is None:
            t = Tensor.__new__(Tensor)
            _init(t, np.array(x))
            t._wrapped = True
            t._dtype = _dt._default_float
            if x != 0:
                _remember(key, t)
        return t
    if tx is int and -(2 ** 63) <= x < 2 ** 63:
        key = (x, int)
        t = _WRAP_CACHE.get(key)
        if t is None:
            t = Tensor.__new__(Tensor)
            _init(t, np.array(x, dtype=np.int64))
            t._wrapped = True
            _remember(key, t)
        return t
    if isinstance(x, bool):
        arr = np.array(x)
    elif isinstance(x, numbers.Integral):
        arr = np.array(x, dtype=np.int64) if -(2 ** 63) <= int(x) < 2 ** 63 else np.array(float(x))
    elif isinstance(x, numbers.Real):
        arr = np.array(float(x), dtype=np.float64)
    elif isinstance(x, np.generic):
        arr = np.asarray(x)
    else:
        raise TypeError(f"expected a Tensor or a number, got {type(x).__name__}")
    t = Tensor.__new__(Tensor)
    _init(t, arr)
    t._wrapped = True
    if arr.dtype == np.float64 and not isinstance(x, np.generic):
        t._dtype = _dt.get_default_dtype()  # promotes as the default float; value keeps double precision
    return t


def _remember(key, t) -> None:
    if len(_WRAP_CACHE) > 1024:
        _WRAP_CACHE.clear()
    t._data.flags.writeable = False
    _WRAP_CACHE[key] = t


def as_tensor_arg(x, op: str = ""):
    """Tensors pass through; Python numbers become wrapped numbers; anything else is a TypeError."""
    if isinstance(x, Tensor):
        return x
    tx = type(x)
    if tx is float or tx is int:
        return wrap(x)
    if isinstance(x, (numbers.Number, np.generic)) and not isinstance(x, complex):
        return wrap(x)
    raise TypeError(f"{op}: expected a Tensor or a number, got {type(x).__name__}")


from .tensor import Tensor, _init  # noqa: E402  (tensor.py imports this module lazily; no cycle at load)


def fill_scalar(value, dtype: _dt.DType, op: str):
    """``value`` (a Python or numpy number) as a numpy scalar of ``dtype``, with torch's overflow
    check for integer dtypes: RuntimeError beyond the type's range, except that an unsigned type
    takes a negative number down to minus its maximum by wrapping (``fill_(-1)`` on uint8 is 255)."""
    if dtype.is_floating_point:
        with np.errstate(over="ignore"):
            return dtype.np.type(value)
    if dtype is _dt.bool:
        return np.bool_(value)
    info = np.iinfo(dtype.np)
    lowest = -info.max if info.min == 0 else info.min
    if isinstance(value, (float, np.floating)) and not math.isfinite(value) or not lowest <= value <= info.max:
        raise RuntimeError(f"{op}(): value {value} cannot be converted to type {dtype.name} without overflow")
    v = int(value)
    return np.array(v).astype(dtype.np)[()] if v < info.min else dtype.np.type(v)
