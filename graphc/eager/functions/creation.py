"""Tensor factories: zeros, ones, full, empty (and their ``_like`` forms), arange, linspace, logspace, eye,
empty_strided; the random factories are written in ``sampling`` and exported from here too.

Factories make new leaf tensors, so they are not registry ops: they have no inputs to record.
Every one takes torch's keywords ``dtype=``, ``device=`` (CPU only), ``requires_grad=`` and,
where torch has it, ``out=`` (the given tensor is filled, resized if needed, and returned).
"""
from __future__ import annotations

import math
import numbers
import operator

import numpy as np

from ... import dtypes as _dt
from ..random import Generator  # noqa: F401  (gc.Generator)
from ..tensor import Tensor
from .._args import fill_scalar
from ._factory import check_input, factory_dtype, finish, parse_size
from .sampling import (  # noqa: F401  (re-exported: gc.rand ... and Tensor methods)
    bernoulli, bernoulli_, exponential_, multinomial, normal, normal_, poisson, rand, rand_like, randint,
    randint_like, randn, randn_like, randperm, random_, uniform_,
)

__all__ = [
    "zeros", "ones", "full", "empty", "zeros_like", "ones_like", "full_like", "empty_like", "arange",
    "linspace", "logspace", "eye", "empty_strided", "scalar_tensor", "Generator",
    "rand", "randn", "randint", "randperm", "rand_like", "randn_like", "randint_like", "normal", "bernoulli",
    "multinomial", "poisson",
]


# ----------------------------------------------------------------------------- fill values
def _number(x, op: str, name: str):
    """A Python number from a number, a numpy scalar or a one-element tensor."""
    if isinstance(x, Tensor):
        if x.numel() != 1:
            raise RuntimeError(f"{op}(): argument '{name}' must be a number or a one-element tensor, got shape {list(x.shape)}")
        return x.item()
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, complex):
        raise TypeError(f"{op}(): complex argument '{name}' is not supported (graphc has no complex dtypes)")
    if not isinstance(x, numbers.Real):
        raise TypeError(f"{op}(): argument '{name}' must be a number, not {type(x).__name__}")
    return x


def _fill_dtype(value) -> _dt.DType:
    # torch.full infers from the Python type of the value: bool, int64 or the default float
    if isinstance(value, bool):
        return _dt.bool
    if isinstance(value, numbers.Integral):
        return _dt.int64
    return _dt.get_default_dtype()


# ----------------------------------------------------------------------------- size-based factories
def zeros(*size, out=None, dtype=None, layout=None, device=None, requires_grad: bool = False,
          pin_memory: bool = False, memory_format=None, **kw) -> Tensor:
    """A tensor of zeros: ``zeros(2, 3)``, ``zeros((2, 3), dtype=gc.int64)``."""
    shape = parse_size(size, kw.pop("size", None), "zeros")
    _no_extra(kw, "zeros")
    dt = factory_dtype(dtype, out, "zeros")
    return finish(np.zeros(shape, dt.np), out, requires_grad, device, "zeros")


def ones(*size, out=None, dtype=None, layout=None, device=None, requires_grad: bool = False,
         pin_memory: bool = False, memory_format=None, **kw) -> Tensor:
    """A tensor of ones."""
    shape = parse_size(size, kw.pop("size", None), "ones")
    _no_extra(kw, "ones")
    dt = factory_dtype(dtype, out, "ones")
    return finish(np.ones(shape, dt.np), out, requires_grad, device, "ones")


def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad: bool = False,
          pin_memory: bool = False, memory_format=None, **kw) -> Tensor:
    """An uninitialized tensor (its values are whatever the memory held)."""
    shape = parse_size(size, kw.pop("size", None), "empty")
    _no_extra(kw, "empty")
    dt = factory_dtype(dtype, out, "empty")
    return finish(np.empty(shape, dt.np), out, requires_grad, device, "empty")


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None, requires_grad: bool = False,
         pin_memory: bool = False) -> Tensor:
    """A tensor filled with ``fill_value``; the dtype follows the value (bool, int64, default float) unless given."""
    if isinstance(size, (int, np.integer)):
        raise TypeError(f"full(): argument 'size' must be tuple of ints, not {type(size).__name__}")
    shape = parse_size((size,), None, "full")
    value = _number(fill_value, "full", "fill_value")
    dt = factory_dtype(dtype, out, "full", _fill_dtype(value))
    return finish(np.full(shape, fill_scalar(value, dt, "full"), dt.np), out, requires_grad, device, "full")


def scalar_tensor(s, *, dtype=None, layout=None, device=None, requires_grad: bool = False,
                  pin_memory: bool = False) -> Tensor:
    """A 0-d tensor holding ``s`` (default float dtype unless ``dtype=``)."""
    value = _number(s, "scalar_tensor", "s")
    dt = factory_dtype(dtype, None, "scalar_tensor")
    return finish(np.array(fill_scalar(value, dt, "scalar_tensor"), dt.np), None, requires_grad, device, "scalar_tensor")


def _no_extra(kw: dict, op: str) -> None:
    if kw:
        raise TypeError(f"{op}() got unexpected keyword arguments {sorted(kw)}")


# ----------------------------------------------------------------------------- _like factories
def _like(input, dtype, op: str):
    check_input(input, op)
    return input._data.shape, (_dt.to_dtype(dtype) if dtype is not None else input._dtype)


def _filled_like(input: Tensor, value, dt, requires_grad: bool, device, op: str) -> Tensor:
    if input._symbolic:
        # gc.compile is tracing: a 0-d constant expanded to input's shape in the graph, so the shape
        # follows input's at run time (its batch size under dynamic=True), then a fresh copy
        t = finish(np.array(value, dt.np), None, False, device, op).expand(input.shape).clone()
        return t.requires_grad_(True) if requires_grad else t
    return finish(np.full(input._data.shape, value, dt.np), None, requires_grad, device, op)


def zeros_like(input: Tensor, *, dtype=None, layout=None, device=None, requires_grad: bool = False,
               memory_format=None) -> Tensor:
    """Zeros with ``input``'s shape and dtype (or ``dtype=``)."""
    _, dt = _like(input, dtype, "zeros_like")
    return _filled_like(input, 0, dt, requires_grad, device, "zeros_like")


def ones_like(input: Tensor, *, dtype=None, layout=None, device=None, requires_grad: bool = False,
              memory_format=None) -> Tensor:
    """Ones with ``input``'s shape and dtype (or ``dtype=``)."""
    _, dt = _like(input, dtype, "ones_like")
    return _filled_like(input, 1, dt, requires_grad, device, "ones_like")


def empty_like(input: Tensor, *, dtype=None, layout=None, device=None, requires_grad: bool = False,
               memory_format=None) -> Tensor:
    """An uninitialized tensor with ``input``'s shape and dtype (or ``dtype=``)."""
    shape, dt = _like(input, dtype, "empty_like")
    if input._symbolic:  # traced: zeros (uninitialized memory cannot be a graph value)
        return _filled_like(input, 0, dt, requires_grad, device, "empty_like")
    return finish(np.empty(shape, dt.np), None, requires_grad, device, "empty_like")


def full_like(input: Tensor, fill_value, *, dtype=None, layout=None, device=None, requires_grad: bool = False,
              memory_format=None) -> Tensor:
    """``fill_value`` (converted to the dtype) with ``input``'s shape and dtype (or ``dtype=``)."""
    _, dt = _like(input, dtype, "full_like")
    value = _number(fill_value, "full_like", "fill_value")
    return _filled_like(input, fill_scalar(value, dt, "full_like"), dt, requires_grad, device, "full_like")


# ----------------------------------------------------------------------------- ranges
def _is_float(x) -> bool:
    return isinstance(x, (float, np.floating))


def arange(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
           requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """Values from ``start`` up to (not including) ``end`` by ``step``: ``ceil((end - start) / step)`` of them.

    Integer arguments give int64, any float argument the default float dtype.
    """
    if end is None:
        start, end = 0, start
    start, end, step = (_number(v, "arange", n) for v, n in ((start, "start"), (end, "end"), (step, "step")))
    default = _dt.get_default_dtype() if any(_is_float(v) for v in (start, end, step)) else _dt.int64
    dt = factory_dtype(dtype, out, "arange", default)
    if dt is _dt.bool:
        raise NotImplementedError("arange: not implemented for 'bool'")
    if not (math.isfinite(start) and math.isfinite(end)):
        if step == 0:
            raise RuntimeError("arange: step must be nonzero")
        raise RuntimeError(f"arange: unsupported range: {start} -> {end}")
    # torch converts the bounds to the accumulate type first: int64 for integers (truncating), double for floats
    acc = _dt.int64 if not dt.is_floating_point else (_dt.float32 if dt is _dt.float16 else _dt.float64)
    conv = int if acc is _dt.int64 else float
    xs, xe, xst = conv(start), conv(end), conv(step)
    if xst == 0:
        raise RuntimeError("arange: step must be nonzero")
    if (xst > 0 and xe < xs) or (xst < 0 and xe > xs):
        raise RuntimeError(
            f"arange: upper bound and lower bound inconsistent with step sign (start={start}, end={end}, step={step})"
        )
    if dt is _dt.int64:
        sgn = 1 if xst > 0 else -1
        n = (xe - xs + xst - sgn) // xst
    else:
        n = math.ceil((float(end) - float(start)) / float(step))
    if acc is _dt.int64:
        arr = (np.arange(n, dtype=np.int64) * xst + xs).astype(dt.np, copy=False)
    else:
        arr = (np.arange(n, dtype=acc.np) * acc.np.type(xst) + acc.np.type(xs)).astype(dt.np, copy=False)
    return finish(arr, out, requires_grad, device, "arange")


def _steps(steps, op: str) -> int:
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)):
        raise TypeError(f"{op}(): argument 'steps' must be int, not {type(steps).__name__}")
    steps = int(steps)
    if steps < 0:
        raise RuntimeError(f"{op}(): number of steps must be non-negative, got {steps}")
    return steps


def _linspace_values(start, end, steps: int, dt: _dt.DType) -> np.ndarray:
    """torch's linspace: the first half counts up from ``start``, the second down from ``end`` (exact ends).

    Floating dtypes compute in their own precision (float16 in float32); integer dtypes truncate the
    ends first and step in double.  The result has the compute type; the caller casts.
    """
    if dt.is_floating_point:
        ct = np.float32 if dt is _dt.float16 else dt.np.type
        s, e = ct(start), ct(end)
    else:
        ct = np.float64
        s, e = ct(int(start)), ct(int(end))
    if steps == 1:
        return np.array([s], dtype=ct)
    with np.errstate(all="ignore"):
        step = (e - s) / ct(steps - 1)
        half = steps // 2
        up = s + step * np.arange(half, dtype=ct)
        down = e - step * np.arange(steps - 1 - half, -1, -1, dtype=ct)
    return np.concatenate([up, down])


def _check_finite_ends(start, end, dt, op: str) -> None:
    if not dt.is_floating_point and not (math.isfinite(start) and math.isfinite(end)):
        raise RuntimeError(f"{op}(): start and end must be finite for an integer dtype, got {start} and {end}")


def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None,
             requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive (default float dtype)."""
    start, end = _number(start, "linspace", "start"), _number(end, "linspace", "end")
    steps = _steps(steps, "linspace")
    dt = factory_dtype(dtype, out, "linspace")
    if dt is _dt.bool:
        raise NotImplementedError("linspace: not implemented for 'bool'")
    _check_finite_ends(start, end, dt, "linspace")
    vals = _linspace_values(start, end, steps, dt) if steps else np.empty(0, dt.np)
    return finish(vals.astype(dt.np, copy=False), out, requires_grad, device, "linspace")


def logspace(start, end, steps, base: float = 10.0, *, out=None, dtype=None, layout=None, device=None,
             requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """``base ** linspace(start, end, steps)`` (the power taken in double, then cast)."""
    start, end = _number(start, "logspace", "start"), _number(end, "logspace", "end")
    base = _number(base, "logspace", "base")
    steps = _steps(steps, "logspace")
    dt = factory_dtype(dtype, out, "logspace")
    if dt is _dt.bool:
        raise NotImplementedError("logspace: not implemented for 'bool'")
    _check_finite_ends(start, end, dt, "logspace")
    if steps:
        with np.errstate(all="ignore"):
            vals = np.power(np.float64(base), _linspace_values(start, end, steps, dt).astype(np.float64))
            vals = vals.astype(dt.np)
    else:
        vals = np.empty(0, dt.np)
    return finish(vals, out, requires_grad, device, "logspace")


# ----------------------------------------------------------------------------- eye, empty_strided
def _count(x, op: str, name: str) -> int:
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)):
        raise TypeError(f"{op}(): argument '{name}' must be int, not {type(x).__name__}")
    x = int(x)
    if x < 0:
        raise RuntimeError(f"{op}(): {name} must be greater or equal to 0, got {x}")
    return x


def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad: bool = False,
        pin_memory: bool = False) -> Tensor:
    """An ``n x m`` matrix (``m`` defaults to ``n``) with ones on the diagonal."""
    n = _count(n, "eye", "n")
    m = n if m is None else _count(m, "eye", "m")
    dt = factory_dtype(dtype, out, "eye")
    return finish(np.eye(n, m, dtype=dt.np), out, requires_grad, device, "eye")


def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad: bool = False,
                  pin_memory: bool = False) -> Tensor:
    """An uninitialized tensor of ``size`` whose elements are ``stride`` elements apart in memory."""
    shape = parse_size((size,), None, "empty_strided")
    if isinstance(stride, (int, np.integer)):
        stride = (stride,)
    strides = tuple(operator.index(s) for s in stride)
    if len(strides) != len(shape):
        raise RuntimeError(
            f"empty_strided(): dimensionality of sizes ({len(shape)}) must match dimensionality of strides ({len(strides)})"
        )
    if any(s < 0 for s in strides):
        raise RuntimeError(f"empty_strided(): strides must be non-negative, got {list(strides)}")
    dt = factory_dtype(dtype, None, "empty_strided")
    storage = 0 if 0 in shape else 1 + sum((n - 1) * s for n, s in zip(shape, strides))
    base = np.empty(storage, dt.np)
    isz = dt.itemsize
    arr = np.lib.stride_tricks.as_strided(base, shape, tuple(s * isz for s in strides))
    return finish(arr, None, requires_grad, device, "empty_strided")


# Tensor methods torch has for these (the in-place random fills end in "_" already)
METHODS = ["bernoulli", "multinomial", "bernoulli_", "uniform_", "normal_", "random_", "exponential_"]
INPLACE: list = []
