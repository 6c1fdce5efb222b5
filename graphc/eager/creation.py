"""Turning data into tensors: ``tensor``, ``as_tensor``, ``from_numpy`` (factories live in functions/creation)."""
from __future__ import annotations

import numbers

import numpy as np

from .. import dtypes as _dt
from .device import check_device
from .tensor import Tensor

__all__ = ["tensor", "as_tensor", "from_numpy", "asarray"]


def _contains_tensor(data) -> bool:
    if isinstance(data, Tensor):
        return True
    if isinstance(data, (list, tuple)) and data:
        return _contains_tensor(data[0])
    return False


def _array_from_data(data, dtype=None, copy: bool = True) -> np.ndarray:
    """A numpy array for ``data`` with torch's dtype inference (Python floats -> default float)."""
    want = _dt.to_dtype(dtype) if dtype is not None else None
    if isinstance(data, Tensor):
        arr = data._data
    elif isinstance(data, np.ndarray):
        arr = data
    else:
        if isinstance(data, (str, bytes)) or data is None:
            raise TypeError(f"tensor(): invalid data type '{type(data).__name__}'")
        if _contains_tensor(data):
            data = _tensors_to_lists(data)
        inferred = _infer_dtype(data)
        try:
            arr = np.array(data)
        except ValueError as e:
            raise ValueError(f"tensor(): data has a ragged or invalid structure: {e}") from None
        if arr.dtype == object or arr.dtype.kind == "u" and arr.dtype.itemsize == 8:
            if arr.dtype.kind == "u" or all(isinstance(x, numbers.Integral) for x in np.ravel(arr)):
                raise RuntimeError("tensor(): Overflow when unpacking long: an integer does not fit in int64")
            raise TypeError(f"tensor(): could not infer a dtype from {type(data).__name__} data")
        if want is None:
            want = inferred if inferred is not None else _dt.get_default_dtype()
        copy = False
    if want is not None:
        if arr.dtype != want.np:
            arr = arr.astype(want.np)
            copy = False
    else:
        _dt.from_numpy_dtype(arr.dtype)  # raises on unsupported dtypes
    return np.array(arr, copy=True) if copy else np.ascontiguousarray(arr) if not arr.flags.c_contiguous else arr


def _element_dtype(tp: type, x) -> _dt.DType:
    """torch's dtype for one element of nested data: by its type (arrays by their dtype)."""
    if tp is float:
        return _dt.get_default_dtype()
    if tp is int:
        return _dt.int64
    if tp is bool:
        return _dt.bool
    if issubclass(tp, (np.generic, np.ndarray)):
        return _dt.from_numpy_dtype(x.dtype)  # complex, strings, objects raise TypeError here
    if issubclass(tp, complex):
        raise TypeError("tensor(): complex data is not supported (graphc has no complex dtypes)")
    if issubclass(tp, bool):
        return _dt.bool
    if issubclass(tp, numbers.Integral):
        return _dt.int64
    if issubclass(tp, numbers.Real):
        return _dt.get_default_dtype()
    raise TypeError(f"tensor(): could not infer a dtype from an element of type {tp.__name__}")


def _infer_dtype(data) -> _dt.DType | None:
    """The dtype torch infers for a number or nested lists: every element's dtype, promoted together.

    Python floats count as the default float, ints as int64, bools as bool and numpy scalars as their
    own dtype, so ``[np.float32(1), 2.0]`` is float32 and ``[1.0, np.float64(2)]`` float64.  Empty
    data gives None (the caller uses the default float).
    """
    if not isinstance(data, (list, tuple)):
        return _element_dtype(type(data), data)
    result = None
    pending = [data]
    while pending:
        seq = pending.pop()
        # group by type so long flat lists cost one pass in C
        for tp in set(map(type, seq)):
            if tp is list or tp is tuple:
                pending.extend(x for x in seq if type(x) is tp)
                continue
            if issubclass(tp, (np.generic, np.ndarray)):
                found = [_element_dtype(tp, x) for x in seq if type(x) is tp]
            else:
                found = [_element_dtype(tp, None)]
            for d in found:
                result = d if result is None else _dt.promote_types(result, d)
    return result


def _tensors_to_lists(data):
    if isinstance(data, Tensor):
        return data._data
    return [_tensors_to_lists(d) for d in data]


def tensor(data, dtype=None, device=None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A new leaf tensor holding a copy of ``data`` (a number, nested lists, an array or a tensor).

    >>> gc.tensor([[1, 2], [3, 4]]).dtype
    graphc.int64
    """
    check_device(device)
    t = Tensor._make(_array_from_data(data, dtype, copy=True))
    if requires_grad:
        t.requires_grad = True
    return t


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor`` but shares memory with a tensor or numpy array of the right dtype."""
    check_device(device)
    if isinstance(data, Tensor):
        return data if dtype is None or _dt.to_dtype(dtype) is data._dtype else data.to(dtype)
    if isinstance(data, np.ndarray) and (dtype is None or _dt.to_dtype(dtype).np == data.dtype):
        return from_numpy(data)
    return Tensor._make(_array_from_data(data, dtype, copy=False))


asarray = as_tensor


def from_numpy(arr: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``arr`` (writes through either show in both)."""
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(arr).__name__})")
    if not arr.dtype.isnative:
        raise TypeError("from_numpy: non-native byte order is not supported")
    _dt.from_numpy_dtype(arr.dtype)
    return Tensor._make(arr)


def __getattr__(name: str):
    # Tensor.new_zeros & co. import the size-based factories from here; they live in functions/creation,
    # which imports this module, so they are looked up lazily
    if name in ("zeros", "ones", "full", "empty"):
        from .functions import creation as _factories

        fn = getattr(_factories, name)
        globals()[name] = fn  # later imports find it directly
        return fn
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
