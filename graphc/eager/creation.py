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
            raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
        if _contains_tensor(data):
            data = _tensors_to_lists(data)
        try:
            arr = np.array(data)
        except ValueError as e:
            raise ValueError(f"tensor(): data has a ragged or invalid structure: {e}") from None
        if arr.dtype == object:
            raise TypeError(f"tensor(): could not infer a dtype from {type(data).__name__} data")
        if want is None:
            kind = arr.dtype.kind
            if kind == "f":
                # numpy scalars keep their precision; Python floats take the default dtype
                if not _has_numpy_float(data):
                    arr = arr.astype(_dt.get_default_dtype().np)
            elif kind in "iu":
                if not _has_numpy_int(data):
                    arr = arr.astype(np.int64)
            elif kind == "c":
                raise TypeError("graphc has no complex dtypes")
            elif kind not in "b":
                raise TypeError(f"tensor(): unsupported element type {arr.dtype}")
        copy = False
    if want is not None:
        if arr.dtype != want.np:
            arr = arr.astype(want.np)
            copy = False
    else:
        _dt.from_numpy_dtype(arr.dtype)  # raises on unsupported dtypes
    return np.array(arr, copy=True) if copy else np.ascontiguousarray(arr) if not arr.flags.c_contiguous else arr


def _has_numpy_float(data) -> bool:
    if isinstance(data, (list, tuple)):
        return bool(data) and _has_numpy_float(data[0])
    return isinstance(data, np.floating)


def _has_numpy_int(data) -> bool:
    if isinstance(data, (list, tuple)):
        return bool(data) and _has_numpy_int(data[0])
    return isinstance(data, np.integer)


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
