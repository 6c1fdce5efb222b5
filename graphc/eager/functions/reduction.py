"""Public reductions and scans: sum, mean, prod, max/min, amax/amin, argmax/argmin, all/any, norm,
var/std (and var_mean/std_mean), logsumexp, cumsum/cumprod, count_nonzero, median, aminmax.

Primitives live in :mod:`graphc.ops.reduction`; mean, var, std, var_mean,
std_mean, count_nonzero and aminmax are composites written here on top of them,
and norm delegates to ``linalg.vector_norm`` / ``linalg.matrix_norm``.  Ops that
return values and indices give a named tuple (``r.values``, ``r.indices``) that
also unpacks, like torch's ``torch.return_types``.
"""
from __future__ import annotations

import builtins
from typing import NamedTuple

from ... import dtypes as _dt
from ...ops import get as _get
from .._args import canon_dim, canon_dims
from ..dispatch import apply
from ..tensor import Tensor
from . import linalg as _la
from . import pointwise as _pw
from ..node import named
from .out import write_out

__all__ = [
    "sum", "mean", "prod", "max", "min", "amax", "amin", "argmax", "argmin", "all", "any", "norm", "var",
    "std", "var_mean", "std_mean", "logsumexp", "cumsum", "cumprod", "count_nonzero", "median", "aminmax",
]

_SUM, _PROD, _AMAX, _AMIN, _MAX_DIM, _MIN_DIM, _ARGMAX, _ARGMIN, _ALL, _ANY, _LOGSUMEXP, _MEDIAN, \
    _MEDIAN_DIM, _CUMSUM, _CUMPROD = (_get(n) for n in (
        "sum", "prod", "amax", "amin", "max_dim", "min_dim", "argmax", "argmin", "all", "any", "logsumexp",
        "median", "median_dim", "cumsum", "cumprod"))


# ----------------------------------------------------------------------------- result types
class ValuesIndices(NamedTuple):
    """``(values, indices)`` of a reduction that selects elements; unpacks like a tuple."""

    values: Tensor
    indices: Tensor


class MaxResult(ValuesIndices):
    """Result of ``max(input, dim)``."""

    __slots__ = ()


class MinResult(ValuesIndices):
    """Result of ``min(input, dim)``."""

    __slots__ = ()


class MedianResult(ValuesIndices):
    """Result of ``median(input, dim)``."""

    __slots__ = ()


class AminmaxResult(NamedTuple):
    """Result of ``aminmax``: ``(min, max)``."""

    min: Tensor
    max: Tensor


# ----------------------------------------------------------------------------- argument helpers
def _dims(input: Tensor, dim, op: str) -> tuple:
    """Reduction dims as a tuple of non-negative ints; None or () mean all dims (a 0-d input has none)."""
    nd = input.ndim
    if dim is None:
        return tuple(range(nd))
    if type(dim) is int:
        if 0 <= dim < nd:
            return (dim,)
        d = canon_dim(dim, nd, op)
        return () if nd == 0 else (d,)
    if not isinstance(dim, (tuple, list)):
        d = canon_dim(dim, nd, op)  # a Tensor or numpy int, or a TypeError for anything else
        return () if nd == 0 else (d,)
    if len(dim) == 0:
        return tuple(range(nd))
    dims = canon_dims(dim, nd, op)
    return () if nd == 0 else dims


def _one_dim(input: Tensor, dim, op: str) -> int:
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"{op}(): argument 'dim' must be int, not {type(dim).__name__}")
    nd = input.ndim
    if type(dim) is int and 0 <= dim < nd:
        return dim
    return canon_dim(dim, nd, op)


def _numel(input: Tensor, dims: tuple) -> int:
    shape = input.shape
    n = 1
    for d in dims:
        n *= shape[d]
    return n


def _check_tensor(input, op: str) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(input).__name__}")


def _finish(r, out, op):
    return r if out is None else write_out(r, out, op)


def _finish_pair(r, out, op):
    if out is None:
        return r
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise TypeError(f"{op}(): out must be a tuple of two tensors (values, indices)")
    return type(r)(write_out(r[0], out[0], op), write_out(r[1], out[1], op))


# ----------------------------------------------------------------------------- sum / mean / prod
def sum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None, out=None) -> Tensor:
    """Sum over ``dim`` (an int, a tuple, or None / () for all); integral and bool inputs sum in int64."""
    _check_tensor(input, "sum")
    attrs = {"dim": _dims(input, dim, "sum"), "keepdim": bool(keepdim)}
    if dtype is not None:
        attrs["dtype"] = _dt.to_dtype(dtype)
    r = apply(_SUM, (input,), attrs)
    return _finish(named(r, "SumBackward0") if dim is None else named(r, "SumBackward1"), out, "sum")


def mean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None, out=None) -> Tensor:
    """Mean over ``dim``; floating inputs only unless ``dtype`` is a floating type (the input is cast to it).

    The mean over an empty dim is nan, as in torch.
    """
    _check_tensor(input, "mean")
    if dtype is not None:
        dtype = _dt.to_dtype(dtype)
        if not dtype.is_floating_point:
            raise RuntimeError(f"mean(): the dtype argument must be a floating point dtype, got {dtype}")
    elif not input.dtype.is_floating_point:
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. "
            f"Got: {input.dtype}")
    else:
        dtype = input.dtype
    dims = _dims(input, dim, "mean")
    # float16 means accumulate in float32 and round once at the end (from the input as given)
    work = input.to(_dt.float32 if dtype is _dt.float16 else dtype)
    s = apply(_SUM, (work,), {"dim": dims, "keepdim": bool(keepdim)})
    r = s / _numel(input, dims)
    r = r.to(dtype) if r.dtype is not dtype else r
    return _finish(named(r, "MeanBackward0" if dim is None else "MeanBackward1"), out, "mean")


def prod(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None, out=None) -> Tensor:
    """Product of all elements, or along the int ``dim``; integral and bool inputs give int64."""
    _check_tensor(input, "prod")
    dims = tuple(range(input.ndim)) if dim is None else _dims(input, _one_dim(input, dim, "prod"), "prod")
    attrs = {"dim": dims, "keepdim": bool(keepdim) if dim is not None else False}
    if dtype is not None:
        attrs["dtype"] = _dt.to_dtype(dtype)
    return _finish(apply(_PROD, (input,), attrs), out, "prod")


# ----------------------------------------------------------------------------- max / min / amax / amin
def _extreme(input, dim, keepdim, other, out, op: str, full_op, dim_op, pairwise, result_type):
    _check_tensor(input, op)
    if isinstance(dim, Tensor) or other is not None:
        # max(a, b): the elementwise maximum
        return pairwise(input, other if other is not None else dim, out=out)
    if dim is None:
        if input.numel() == 0:
            raise RuntimeError(f"{op}(): Expected reduction dim to be specified for input.numel() == 0. "
                               "Specify the reduction dim with the 'dim' argument.")
        # torch spreads the gradient of max() evenly among ties, exactly as amax does
        r = apply(full_op, (input,), {"dim": tuple(range(input.ndim)), "keepdim": False})
        return _finish(named(r, f"{op.capitalize()}Backward1"), out, op)
    d = _one_dim(input, dim, op)
    vals, idx = apply(dim_op, (input,), {"dim": d, "keepdim": bool(keepdim)})
    return _finish_pair(result_type(vals, idx), out, op)


def max(input: Tensor, dim=None, keepdim: bool = False, *, other=None, out=None):
    """``max(x)``: the largest element; ``max(x, dim)``: ``(values, indices)``; ``max(x, y)``: ``maximum``.

    Along a dim the index of the first maximum is returned (NaN counts as the maximum).
    """
    return _extreme(input, dim, keepdim, other, out, "max", _AMAX, _MAX_DIM, _pw.maximum, MaxResult)


def min(input: Tensor, dim=None, keepdim: bool = False, *, other=None, out=None):
    """``min(x)``: the smallest element; ``min(x, dim)``: ``(values, indices)``; ``min(x, y)``: ``minimum``."""
    return _extreme(input, dim, keepdim, other, out, "min", _AMIN, _MIN_DIM, _pw.minimum, MinResult)


def _amax_amin(input, dim, keepdim, out, op, opdef):
    _check_tensor(input, op)
    dims = _dims(input, dim, op)
    if input.numel() == 0 and (dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0)):
        raise RuntimeError(f"{op}(): Expected reduction dim to be specified for input.numel() == 0. "
                           "Specify the reduction dim with the 'dim' argument.")
    return _finish(apply(opdef, (input,), {"dim": dims, "keepdim": bool(keepdim)}), out, op)


def amax(input: Tensor, dim=(), keepdim: bool = False, *, out=None) -> Tensor:
    """Largest value over ``dim`` (int or tuple; () for all); the gradient is split evenly among ties."""
    return _amax_amin(input, dim, keepdim, out, "amax", _AMAX)


def amin(input: Tensor, dim=(), keepdim: bool = False, *, out=None) -> Tensor:
    """Smallest value over ``dim`` (int or tuple; () for all); the gradient is split evenly among ties."""
    return _amax_amin(input, dim, keepdim, out, "amin", _AMIN)


def aminmax(input: Tensor, *, dim=None, keepdim: bool = False) -> AminmaxResult:
    """``(min, max)`` over all elements or along the int ``dim``."""
    _check_tensor(input, "aminmax")
    if dim is not None:
        dim = _one_dim(input, dim, "aminmax")
        n = 1 if input.ndim == 0 else input.shape[dim]
    else:
        n = input.numel()
    if n == 0:
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the operation has no "
                           "identity.")
    dims = tuple(range(input.ndim)) if dim is None else _dims(input, dim, "aminmax")
    attrs = {"dim": dims, "keepdim": bool(keepdim)}
    return AminmaxResult(apply(_AMIN, (input,), attrs), apply(_AMAX, (input,), attrs))


def argmax(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the first maximum: over the flattened input when ``dim`` is None, else along ``dim``."""
    _check_tensor(input, "argmax")
    d = None if dim is None else _one_dim(input, dim, "argmax")
    return apply(_ARGMAX, (input,), {"dim": d, "keepdim": bool(keepdim)})


def argmin(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the first minimum: over the flattened input when ``dim`` is None, else along ``dim``."""
    _check_tensor(input, "argmin")
    d = None if dim is None else _one_dim(input, dim, "argmin")
    return apply(_ARGMIN, (input,), {"dim": d, "keepdim": bool(keepdim)})


# ----------------------------------------------------------------------------- all / any / count_nonzero
def all(input: Tensor, dim=None, keepdim: bool = False, *, out=None) -> Tensor:
    """True where every element over ``dim`` is nonzero (bool; uint8 for uint8 input, as torch)."""
    _check_tensor(input, "all")
    # dim=() reduces nothing here (torch), unlike sum's dim=() which means every dim
    dims = () if isinstance(dim, (tuple, list)) and len(dim) == 0 else _dims(input, dim, "all")
    return _finish(apply(_ALL, (input,), {"dim": dims, "keepdim": bool(keepdim)}), out, "all")


def any(input: Tensor, dim=None, keepdim: bool = False, *, out=None) -> Tensor:
    """True where some element over ``dim`` is nonzero (bool; uint8 for uint8 input, as torch)."""
    _check_tensor(input, "any")
    # dim=() reduces nothing here (torch), unlike sum's dim=() which means every dim
    dims = () if isinstance(dim, (tuple, list)) and len(dim) == 0 else _dims(input, dim, "any")
    return _finish(apply(_ANY, (input,), {"dim": dims, "keepdim": bool(keepdim)}), out, "any")


def count_nonzero(input: Tensor, dim=None) -> Tensor:
    """Number of nonzero elements over ``dim`` (int or tuple; None for all), as int64."""
    _check_tensor(input, "count_nonzero")
    dims = _dims(input, dim, "count_nonzero")
    return apply(_SUM, (_pw.ne(input, 0),), {"dim": dims, "keepdim": False})


# ----------------------------------------------------------------------------- norm
def norm(input: Tensor, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """``torch.norm``: the vector p-norm over ``dim`` (all dims when None) for a number p (2 when None;
    inf, -inf and 0 too) or 'fro' over at most two dims; 'nuc' and 'fro' over other dims are matrix norms.

    One implementation: this delegates to ``linalg.vector_norm`` / ``linalg.matrix_norm``, as torch does.
    """
    _check_tensor(input, "norm")
    if input.ndim == 0 and dim is not None:
        _dims(input, dim, "norm")  # validate; a 0-d tensor has no dims to reduce
        dim = None
    if isinstance(p, str):
        if p == "fro" and (dim is None or not isinstance(dim, (tuple, list)) or len(dim) <= 2):
            return _la.vector_norm(input, 2.0, dim, keepdim, dtype=dtype)
        if dim is None:
            dim = tuple(range(input.ndim))
        return _la.matrix_norm(input, p, dim, keepdim, dtype=dtype)
    return _la.vector_norm(input, 2.0 if p is None else p, dim, keepdim, dtype=dtype)


# ----------------------------------------------------------------------------- var / std
def _correction(unbiased, correction, op: str):
    if correction is not None:
        if unbiased is not None:
            raise TypeError(f"{op}(): pass either 'unbiased' or 'correction', not both")
        if isinstance(correction, bool) or not isinstance(correction, (int, float)):
            raise TypeError(f"{op}(): correction must be a number, got {type(correction).__name__}")
        return correction
    return 0 if unbiased is False else 1


def _centered(input: Tensor, dim, unbiased, keepdim, correction, op: str):
    """(variance, mean with kept dims) over ``dim``; the shared core of var, std and their _mean forms."""
    _check_tensor(input, op)
    if isinstance(dim, bool):
        dim, unbiased = None, dim  # var(x, True) means unbiased=True
    c = _correction(unbiased, correction, op)
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"{op}(): std and var only support floating point and complex dtypes. Got: {input.dtype}")
    dims = _dims(input, dim, op)
    n = _numel(input, dims)
    input = _accumulating(input)
    mu = apply(_SUM, (input,), {"dim": dims, "keepdim": True}) / n
    d = input - mu
    ss = apply(_SUM, (d * d,), {"dim": dims, "keepdim": bool(keepdim)})
    # torch divides by max(0, N - correction): inf or nan when the correction is too large
    if input._symbolic:  # traced: N may be the batch size, so the max must happen when the graph runs
        return ss / _pw.clamp(ss.new_zeros(()) + (n - c), min=0), mu, dims
    return ss / builtins.max(0, n - c), mu, dims


def _accumulating(input: Tensor) -> Tensor:
    """``input`` in the dtype torch accumulates it in: float16 works in float32 (see :func:`_as`)."""
    return input.to(_dt.float32) if input.dtype is _dt.float16 else input


def _as(r: Tensor, input: Tensor) -> Tensor:
    """A result computed in :func:`_accumulating`'s dtype, rounded back to ``input``'s."""
    return r.to(input.dtype) if r.dtype is not input.dtype else r


def _sqrt_zero_grad(v: Tensor) -> Tensor:
    """sqrt whose gradient is 0 (not inf) where ``v`` is 0, as torch's std backward."""
    nonzero = _pw.ne(v, 0)
    return _pw.where(nonzero, _pw.sqrt(_pw.where(nonzero, v, 1.0)), v)


def _squeeze_mean(mu: Tensor, input: Tensor, dims: tuple, keepdim: bool) -> Tensor:
    if keepdim:
        return mu
    shape = tuple(s for i, s in enumerate(input.shape) if i not in dims)
    return mu.reshape(shape)


def var(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None, out=None) -> Tensor:
    """Variance over ``dim`` divided by ``N - correction`` (default 1; ``unbiased=False`` means 0)."""
    v, _, _ = _centered(input, dim, unbiased, keepdim, correction, "var")
    return _finish(named(_as(v, input), "VarBackward0"), out, "var")


def std(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None, out=None) -> Tensor:
    """Standard deviation: the square root of :func:`var` (its gradient is 0 where it is 0, like torch)."""
    v, _, _ = _centered(input, dim, unbiased, keepdim, correction, "std")
    return _finish(named(_as(_sqrt_zero_grad(v), input), "StdBackward0"), out, "std")


def var_mean(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """``(var, mean)`` over ``dim`` in one pass over the mean."""
    v, mu, dims = _centered(input, dim, unbiased, keepdim, correction, "var_mean")
    return _as(v, input), _as(_squeeze_mean(mu, input, dims, keepdim), input)


def std_mean(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """``(std, mean)`` over ``dim``."""
    v, mu, dims = _centered(input, dim, unbiased, keepdim, correction, "std_mean")
    return _as(_sqrt_zero_grad(v), input), _as(_squeeze_mean(mu, input, dims, keepdim), input)


# ----------------------------------------------------------------------------- logsumexp
def logsumexp(input: Tensor, dim, keepdim: bool = False, *, out=None) -> Tensor:
    """``log(sum(exp(x)))`` over ``dim``, computed stably (shifted by the max); the gradient is softmax.

    Integral inputs are computed in the default float dtype; an empty dim gives -inf.
    """
    _check_tensor(input, "logsumexp")
    if not input.dtype.is_floating_point:
        input = input.to(_dt.get_default_dtype())
    r = apply(_LOGSUMEXP, (input,), {"dim": _dims(input, dim, "logsumexp"), "keepdim": bool(keepdim)})
    return _finish(r, out, "logsumexp")


# ----------------------------------------------------------------------------- median
def median(input: Tensor, dim=None, keepdim: bool = False, *, out=None):
    """``median(x)``: the lower median of all elements (nan if any is nan); ``median(x, dim)``:
    ``(values, indices)`` along ``dim``."""
    _check_tensor(input, "median")
    if dim is None:
        return _finish(apply(_MEDIAN, (input,), {}), out, "median")
    d = _one_dim(input, dim, "median")
    vals, idx = apply(_MEDIAN_DIM, (input,), {"dim": d, "keepdim": bool(keepdim)})
    return _finish_pair(MedianResult(vals, idx), out, "median")


# ----------------------------------------------------------------------------- scans
def _scan(input, dim, dtype, out, op, opdef):
    _check_tensor(input, op)
    attrs = {"dim": _one_dim(input, dim, op)}
    if dtype is not None:
        attrs["dtype"] = _dt.to_dtype(dtype)
    return _finish(apply(opdef, (input,), attrs), out, op)


def cumsum(input: Tensor, dim: int, *, dtype=None, out=None) -> Tensor:
    """Running sum along ``dim``; integral and bool inputs give int64 unless ``dtype`` says otherwise."""
    return _scan(input, dim, dtype, out, "cumsum", _CUMSUM)


def cumprod(input: Tensor, dim: int, *, dtype=None, out=None) -> Tensor:
    """Running product along ``dim``; its gradient is exact even where the input has zeros."""
    return _scan(input, dim, dtype, out, "cumprod", _CUMPROD)


METHODS = [
    "sum", "mean", "prod", "max", "min", "amax", "amin", "argmax", "argmin", "all", "any", "norm", "var", "std",
    "logsumexp", "cumsum", "cumprod", "count_nonzero", "median", "aminmax",
]
INPLACE = ["cumsum", "cumprod"]
