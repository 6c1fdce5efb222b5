"""What every tensor factory shares: size and dtype arguments, ``out=``, ``requires_grad=``, ``device=``."""
from __future__ import annotations

import numpy as np

from ... import dtypes as _dt
from .._args import size_args
from ..device import check_device
from ..tensor import Tensor
from .out import write_out

__all__ = ["parse_size", "factory_dtype", "finish", "check_input", "float_dtype_or_error"]


def parse_size(args: tuple, size, op: str) -> tuple:
    """The shape from ``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])``, ``f(gc.Size(...))`` or ``f(size=...)``."""
    if size is None:
        # fast path: plain non-negative ints, given flat or as one tuple (the common calls)
        dims = args[0] if len(args) == 1 and isinstance(args[0], tuple) else args
        for s in dims:
            if type(s) is not int or s < 0:
                break
        else:
            if dims:
                return tuple(dims)
    if size is not None:
        if args:
            raise TypeError(f"{op}(): got multiple values for argument 'size'")
        args = (size,)
    elif not args:
        raise TypeError(f"{op}() missing 1 required positional argument: 'size'")
    return size_args(args, op)


def factory_dtype(dtype, out, op: str, default: _dt.DType | None = None) -> _dt.DType:
    """The dtype a factory makes: ``dtype=``, else ``out``'s dtype, else ``default`` (the default float)."""
    if dtype is not None:
        dtype = _dt.to_dtype(dtype)
        if out is not None and isinstance(out, Tensor) and out._dtype is not dtype:
            raise RuntimeError(f"{op}(): dtype {dtype.name} does not match dtype of out parameter ({out._dtype.name})")
        return dtype
    if out is not None and isinstance(out, Tensor):
        return out._dtype
    return default if default is not None else _dt.get_default_dtype()


def finish(arr: np.ndarray, out, requires_grad: bool, device, op: str) -> Tensor:
    """Wrap a freshly made array: into ``out`` when given, else a new leaf (requiring grad if asked)."""
    if device is not None:
        check_device(device)
    t = Tensor._make(arr)
    if out is not None:
        return write_out(t, out, op)
    if requires_grad:
        t.requires_grad = True
    return t


def check_input(x, op: str, name: str = "input") -> Tensor:
    """``x`` itself when it is a Tensor; a TypeError naming the argument otherwise."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(x).__name__}")
    return x


def float_dtype_or_error(dtype: _dt.DType, kernel: str) -> _dt.DType:
    """``dtype`` when floating; torch's NotImplementedError (a RuntimeError) otherwise."""
    if not dtype.is_floating_point:
        raise NotImplementedError(f'"{kernel}" not implemented for \'{dtype.name}\': it needs a floating point dtype')
    return dtype
