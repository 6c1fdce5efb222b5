"""Dtype objects, torch-style type promotion, and the numpy type map.

A :class:`DType` wraps one numpy scalar type.  Promotion follows PyTorch's
``result_type``: operands fall into three priority groups (tensors with
dimensions, zero-dim tensors, Python numbers), and a lower group only changes
the result when it belongs to a higher *category* (bool < integer < floating).

    >>> result_type_of((float32, 1), (int64, 0))
    graphc.float32
"""
from __future__ import annotations

import builtins
from functools import lru_cache

import numpy as np

__all__ = [
    "DType", "float16", "float32", "float64", "half", "float", "double",
    "int8", "uint8", "int16", "int32", "int64", "int", "long", "short", "bool",
    "get_default_dtype", "set_default_dtype", "to_dtype", "from_numpy_dtype",
    "promote_types", "result_type_of", "scalar_dtype",
]


class DType:
    """A graphc dtype: ``graphc.float32`` and friends (compare with ``is`` or ``==``)."""

    __slots__ = ("name", "np", "itemsize", "is_floating_point", "is_signed", "short", "category")

    def __init__(self, name: str, np_type: type, short: str, category: int):
        self.name = name
        self.np = np.dtype(np_type)
        self.itemsize = self.np.itemsize
        self.is_floating_point = category == 2
        self.is_signed = name != "uint8" and name != "bool"
        self.short = short
        # 0 = bool, 1 = integer, 2 = floating: the order torch promotes across
        self.category = category

    @property
    def is_complex(self) -> builtins.bool:
        return False

    def to_complex(self):  # pragma: no cover - no complex dtypes yet
        raise TypeError("graphc has no complex dtypes")

    def __repr__(self) -> str:
        return f"graphc.{self.name}"

    def __reduce__(self):
        return (to_dtype, (self.name,))


float16 = DType("float16", np.float16, "f16", 2)
float32 = DType("float32", np.float32, "f32", 2)
float64 = DType("float64", np.float64, "f64", 2)
int8 = DType("int8", np.int8, "i8", 1)
uint8 = DType("uint8", np.uint8, "u8", 1)
int16 = DType("int16", np.int16, "i16", 1)
int32 = DType("int32", np.int32, "i32", 1)
int64 = DType("int64", np.int64, "i64", 1)
bool = DType("bool", np.bool_, "b8", 0)  # noqa: A001 - mirrors torch.bool
half, float, double = float16, float32, float64  # noqa: A001
short, int, long = int16, int32, int64  # noqa: A001

ALL_DTYPES = (bool, uint8, int8, int16, int32, int64, float16, float32, float64)
_BY_NAME = {d.name: d for d in ALL_DTYPES}
_BY_NAME.update(half=float16, float=float32, double=float64, short=int16, int=int32, long=int64)
_BY_NP = {d.np: d for d in ALL_DTYPES}

_default_float = float32


def get_default_dtype() -> DType:
    """The dtype Python floats and float factories default to (``float32``)."""
    return _default_float


def set_default_dtype(d) -> None:
    """Set the default floating dtype; only floating dtypes are allowed (as in torch)."""
    global _default_float
    d = to_dtype(d)
    if not d.is_floating_point:
        raise TypeError(f"set_default_dtype: only floating-point types are supported as the default type, got {d}")
    _default_float = d


def from_numpy_dtype(npd) -> DType:
    """The graphc dtype of a numpy dtype; raises TypeError for unsupported ones."""
    try:
        return _BY_NP[npd]
    except (KeyError, TypeError):
        pass
    try:
        return _BY_NP[np.dtype(npd)]
    except (KeyError, TypeError):
        raise TypeError(f"unsupported dtype {npd!r}: graphc supports {', '.join(d.name for d in ALL_DTYPES)}") from None


def to_dtype(d) -> DType:
    """Accept a DType, a name ('float32'), a numpy dtype or a Python type."""
    if isinstance(d, DType):
        return d
    if d is None:
        # np.dtype(None) would silently mean float64
        raise TypeError("expected a dtype, got None")
    if d is builtins.float:
        return _default_float
    if d is builtins.int:
        return int64
    if d is builtins.bool:
        return bool
    if isinstance(d, str):
        name = d[len("torch."):] if d.startswith("torch.") else d
        name = name[len("graphc."):] if name.startswith("graphc.") else name
        if name in _BY_NAME:
            return _BY_NAME[name]
        raise TypeError(f"unknown dtype {d!r}")
    return from_numpy_dtype(d)


@lru_cache(maxsize=None)
def promote_types(a: DType, b: DType) -> DType:
    """The smallest dtype both ``a`` and ``b`` convert to (torch.promote_types)."""
    if a is b:
        return a
    if a.category != b.category:
        hi, lo = (a, b) if a.category > b.category else (b, a)
        if hi.is_floating_point:
            return hi
        return hi  # integer beats bool
    # same category: numpy's table matches torch's for these types
    return _BY_NP[np.promote_types(a.np, b.np)]


def scalar_dtype(x) -> DType:
    """The dtype torch gives a Python number when it is wrapped: bool, int64 or the default float."""
    if isinstance(x, builtins.bool):
        return bool
    if isinstance(x, builtins.int):
        return int64
    if isinstance(x, builtins.float):
        return _default_float
    if isinstance(x, np.generic):
        return from_numpy_dtype(x.dtype)
    if isinstance(x, complex):
        raise TypeError("graphc has no complex dtypes")
    raise TypeError(f"expected a number, got {type(x).__name__}")


def _combine(higher: DType | None, lower: DType | None) -> DType | None:
    # torch's combine_categories: a lower-priority group only matters when it
    # brings a higher category; then the two promote
    if higher is None:
        return lower
    if lower is None or higher.is_floating_point:
        return higher
    if higher is bool or lower.is_floating_point:
        return promote_types(higher, lower)
    return higher


@lru_cache(maxsize=4096)
def result_type_of(*operands: tuple) -> DType:
    """Result dtype of operands given as ``(dtype, priority)`` pairs.

    priority 2: a tensor with dimensions, 1: a zero-dim tensor, 0: a Python number
    (whose dtype is its wrapped dtype: bool, int64 or the default float).
    """
    groups: list[DType | None] = [None, None, None]
    for dt, pr in operands:
        g = groups[pr]
        groups[pr] = dt if g is None else promote_types(g, dt)
    return _combine(groups[2], _combine(groups[1], groups[0]))
