"""Common PyTorch conveniences built as composites of other graphc functions.

Every function here is written on existing graphc ops, so gradients and static
tracing come for free; none has a registry entry of its own.
"""
from __future__ import annotations

import builtins
import numbers

import numpy as np

from ... import dtypes as _dt
from ...ops import get as _get
from .._args import as_tensor_arg, canon_dim
from ..dispatch import apply
from ..tensor import Tensor
from . import basic as _basic
from . import pointwise as _pw
from . import reduction as _red
from .reduction import ValuesIndices as _ValuesIndices
from . import shape as _shape
from . import views as _views

__all__ = [
    "is_tensor", "is_floating_point", "numel", "result_type", "promote_types", "can_cast", "broadcast_shapes",
    "broadcast_tensors", "meshgrid", "clamp_min", "clamp_max", "addcmul", "addcdiv", "softmax", "log_softmax",
    "ravel", "diff", "cross", "trace", "kron", "rot90", "logcumsumexp", "nansum", "nanmean", "isneginf",
    "isposinf", "isreal", "block_diag", "cartesian_prod", "cdist", "trapezoid", "trapz", "vander",
    "masked_scatter", "index_copy", "cummax", "cummin", "unique", "bincount", "searchsorted", "bucketize", "histc",
]


# ------------------------------------------------------------------ type queries
def is_tensor(obj) -> bool:
    """True when ``obj`` is a graphc Tensor."""
    return isinstance(obj, Tensor)


def is_floating_point(input: Tensor) -> bool:
    """True when ``input`` has a floating dtype."""
    _need_tensor(input, "is_floating_point")
    return input._dtype.is_floating_point


def numel(input: Tensor) -> int:
    """The number of elements of ``input``."""
    _need_tensor(input, "numel")
    return int(input._data.size)


def _need_tensor(x, op: str) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(x).__name__}")


def _priority_of(x):
    if isinstance(x, Tensor):
        return (x._dtype, 0 if x._wrapped else (2 if x.ndim else 1))
    if isinstance(x, (numbers.Number, )) and not isinstance(x, complex):
        return (_dt.scalar_dtype(x), 0)
    raise TypeError(f"result_type: expected a Tensor or a number, got {type(x).__name__}")


def result_type(tensor1, tensor2) -> _dt.DType:
    """The dtype an arithmetic op on ``tensor1`` and ``tensor2`` gives (tensors or numbers)."""
    return _dt.result_type_of(_priority_of(tensor1), _priority_of(tensor2))


def promote_types(type1, type2) -> _dt.DType:
    """The smallest dtype both ``type1`` and ``type2`` convert to."""
    return _dt.promote_types(_dt.to_dtype(type1), _dt.to_dtype(type2))


def can_cast(from_, to) -> bool:
    """Whether torch's casting rules allow ``from_`` -> ``to``: never to a lower category (float->int, int->bool)."""
    return _dt.to_dtype(to).category >= _dt.to_dtype(from_).category


# ------------------------------------------------------------------ broadcasting
def broadcast_shapes(*shapes) -> tuple:
    """The shape tensors of ``shapes`` broadcast to (ints stand for 1-d shapes)."""
    from ..tensor import Size

    canon = [(int(s),) if isinstance(s, numbers.Integral) else tuple(int(d) for d in s) for s in shapes]
    ndim = builtins.max((len(s) for s in canon), default=0)
    out = [1] * ndim
    for k, s in enumerate(canon):
        for i, d in enumerate(s):
            j = ndim - len(s) + i
            if d < 0:
                raise RuntimeError(f"broadcast_shapes: trying to create tensor with negative dimension {d}: {list(s)}")
            if out[j] == 1:
                out[j] = d
            elif d != 1 and d != out[j]:
                raise RuntimeError(
                    f"broadcast_shapes: shape mismatch: a dimension of length {d} at {j - ndim} of argument {k} "
                    f"{s} does not broadcast to {tuple(out)}")
    return Size(out)


def broadcast_tensors(*tensors) -> tuple:
    """``tensors`` expanded to their common broadcast shape (views)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    for t in tensors:
        _need_tensor(t, "broadcast_tensors")
    shape = broadcast_shapes(*(t.shape for t in tensors))
    return tuple(t if t.shape == shape else _basic.expand(t, shape) for t in tensors)


def meshgrid(*tensors, indexing: str = "ij") -> tuple:
    """Coordinate grids from 1-d (or 0-d) tensors; ``indexing='xy'`` swaps the first two grid dims."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: {indexing}")
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for t in tensors:
        _need_tensor(t, "meshgrid")
        if t.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t.ndim}D")
    dt = tensors[0]._dtype
    if any(t._dtype is not dt for t in tensors):
        raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    sizes = tuple(t.numel() for t in tensors)
    n = len(tensors)
    grids = []
    for i, t in enumerate(tensors):
        shp = [1] * n
        shp[i] = sizes[i]
        grids.append(_basic.expand(_views.reshape(t, shp), sizes))
    if indexing == "xy" and n >= 2:
        # 'xy' is 'ij' with the first two grid dims swapped
        grids = [_shape.transpose(g, 0, 1) for g in grids]
    return tuple(grids)


# ------------------------------------------------------------------ pointwise
def clamp_min(input: Tensor, min) -> Tensor:
    """``clamp(input, min=min)``."""
    return _pw.clamp(input, min=min)


def clamp_max(input: Tensor, max) -> Tensor:
    """``clamp(input, max=max)``."""
    return _pw.clamp(input, max=max)


def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
    """``input + value * tensor1 * tensor2`` (broadcast)."""
    prod = _pw.mul(tensor1, tensor2)
    if isinstance(value, float) and not _dt.result_type_of(_priority_of(input), _priority_of(prod)).is_floating_point:
        value = int(value)  # torch casts value to an integer result's dtype
    if value != 1:
        prod = _pw.mul(prod, value)
    return _pw.add(input, prod)


def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
    """``input + value * tensor1 / tensor2`` (broadcast); integer tensor1/tensor2 are refused, as in torch."""
    t1, t2 = as_tensor_arg(tensor1, "addcdiv"), as_tensor_arg(tensor2, "addcdiv")
    if not t1._dtype.is_floating_point and not t2._dtype.is_floating_point:
        raise RuntimeError("addcdiv: integer division with addcdiv is no longer supported; "
                           f"got tensor1 {t1._dtype} and tensor2 {t2._dtype}")
    q = _pw.div(t1, t2)
    if value != 1:
        q = _pw.mul(q, value)
    return _pw.add(input, q)


def isneginf(input: Tensor) -> Tensor:
    """True where ``input`` is -inf."""
    _need_tensor(input, "isneginf")
    return _pw.logical_and(_pw.isinf(input), _pw.lt(input, 0))


def isposinf(input: Tensor) -> Tensor:
    """True where ``input`` is +inf."""
    _need_tensor(input, "isposinf")
    return _pw.logical_and(_pw.isinf(input), _pw.gt(input, 0))


def isreal(input: Tensor) -> Tensor:
    """True everywhere (graphc has no complex dtypes)."""
    _need_tensor(input, "isreal")
    from .creation import ones

    return ones(input.shape, dtype=_dt.bool)


# ------------------------------------------------------------------ softmax (the nn.functional implementation)
def softmax(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:
    """Softmax along ``dim`` (see graphc.nn.functional.softmax)."""
    from ...nn import functional as F  # lazy: nn sits above eager

    return F.softmax(input, dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:
    """Log-softmax along ``dim`` (see graphc.nn.functional.log_softmax)."""
    from ...nn import functional as F

    return F.log_softmax(input, dim, dtype=dtype)


# ------------------------------------------------------------------ shape helpers
def view_as(input: Tensor, other: Tensor) -> Tensor:
    """``input.view(other.shape)``."""
    return _views.view(input, other.shape)


def reshape_as(input: Tensor, other: Tensor) -> Tensor:
    """``input.reshape(other.shape)``."""
    return _views.reshape(input, other.shape)


def ravel(input: Tensor) -> Tensor:
    """``input`` flattened to 1-d."""
    return _views.reshape(input, (-1,))


def sum_to_size(input: Tensor, *size) -> Tensor:
    """Sum ``input`` down to ``size`` (a shape ``input`` is broadcastable from)."""
    if len(size) == 1 and not isinstance(size[0], numbers.Integral):
        size = tuple(size[0])
    size = tuple(int(s) for s in size)
    shape = tuple(input.shape)
    lead = len(shape) - len(size)
    if lead < 0 or any(s != 1 and s != shape[lead + i] for i, s in enumerate(size)):
        raise RuntimeError(f"sum_to_size: size {list(size)} is not expandable to size {list(shape)}.")
    dims = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(size) if s == 1 and shape[lead + i] != 1)
    if not dims:
        return input
    r = _red.sum(input, dims, keepdim=True)
    return _views.reshape(r, size) if lead else r


def diff(input: Tensor, n: int = 1, dim: int = -1, prepend=None, append=None) -> Tensor:
    """The ``n``-th forward difference along ``dim`` (bool: logical xor), after concatenating prepend/append."""
    _need_tensor(input, "diff")
    if input.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    d = canon_dim(dim, input.ndim, "diff")
    parts = []
    for extra in (prepend, input, append):
        if extra is None:
            continue
        e = as_tensor_arg(extra, "diff")
        if e.ndim == 0:
            shp = list(input.shape)
            shp[d] = 1
            e = _basic.expand(e, shp)
        parts.append(e)
    x = _shape.cat(parts, d) if len(parts) > 1 else input
    for _ in range(int(n)):
        length = x.shape[d]
        if length == 0:
            break
        hi, lo = _shape.narrow(x, d, 1, length - 1), _shape.narrow(x, d, 0, length - 1)
        x = _pw.ne(hi, lo) if x._dtype is _dt.bool else _pw.sub(hi, lo)
    return x


def cross(input: Tensor, other: Tensor, dim: int | None = None) -> Tensor:
    """Cross product of 3-vectors along ``dim`` (default: the first dim of size 3 after broadcasting)."""
    _need_tensor(input, "cross")
    _need_tensor(other, "cross")
    if input._dtype is not other._dtype:
        raise RuntimeError(f"linalg.cross: expected both inputs to have the same dtype, "
                           f"but input has dtype {input._dtype} and other has dtype {other._dtype}")
    a, b = broadcast_tensors(input, other)
    if dim is None:
        dims = [i for i, s in enumerate(a.shape) if s == 3]
        if not dims:
            raise RuntimeError(f"cross: no dimension of size 3 in input of shape {tuple(a.shape)}")
        d = dims[0]
    else:
        d = canon_dim(dim, a.ndim, "cross")
    if a.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {d} must have length 3. "
                           f"Got {input.shape[d] if input.ndim == a.ndim else a.shape[d]} and "
                           f"{other.shape[d] if other.ndim == a.ndim else b.shape[d]}")
    a0, a1, a2 = _shape.unbind(a, d)
    b0, b1, b2 = _shape.unbind(b, d)
    return _shape.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], d)


def trace(input: Tensor) -> Tensor:
    """Sum of the main diagonal of a 2-d tensor (integers sum as int64)."""
    _need_tensor(input, "trace")
    if input._dtype is _dt.bool:
        raise NotImplementedError("trace: not implemented for 'bool'")
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    return _red.sum(_shape.diagonal(input))


def kron(input: Tensor, other: Tensor) -> Tensor:
    """Kronecker product: block (i, j) is ``input[i, j] * other``."""
    _need_tensor(input, "kron")
    _need_tensor(other, "kron")
    nd = builtins.max(input.ndim, other.ndim)
    a_shape = (1,) * (nd - input.ndim) + tuple(input.shape)
    b_shape = (1,) * (nd - other.ndim) + tuple(other.shape)
    a = _views.reshape(input, [s for d in a_shape for s in (d, 1)])
    b = _views.reshape(other, [s for d in b_shape for s in (1, d)])
    return _views.reshape(_pw.mul(a, b), tuple(x * y for x, y in zip(a_shape, b_shape)))


def rot90(input: Tensor, k: int = 1, dims=(0, 1)) -> Tensor:
    """Rotate by 90 degrees ``k`` times in the plane ``dims`` (from dims[0] towards dims[1])."""
    _need_tensor(input, "rot90")
    dims = list(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.ndim}")
    d0, d1 = canon_dim(dims[0], input.ndim, "rot90"), canon_dim(dims[1], input.ndim, "rot90")
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {dims[0]} and dim1 = {dims[1]}")
    k = int(k) % 4
    if k == 1:
        return _shape.transpose(_shape.flip(input, [d1]), d0, d1)
    if k == 2:
        return _shape.flip(input, [d0, d1])
    if k == 3:
        return _shape.transpose(_shape.flip(input, [d0]), d0, d1)
    return _basic.clone(input)


# ------------------------------------------------------------------ reductions
def logcumsumexp(input: Tensor, dim: int) -> Tensor:
    """``log(cumsum(exp(input)))`` along ``dim``, shifted by the (constant) max for stability."""
    _need_tensor(input, "logcumsumexp")
    if not input._dtype.is_floating_point:
        raise NotImplementedError(f"logcumsumexp: not implemented for '{input._dtype.name}'")
    d = canon_dim(dim, builtins.max(input.ndim, 1), "logcumsumexp")
    if input.numel() == 0:
        return _basic.clone(input)
    if input.ndim == 0:
        return _basic.clone(input)
    m = _red.amax(input.detach(), d, keepdim=True)
    m = _pw.where(_pw.isinf(m), 0.0, m)
    return _pw.add(_pw.log(_red.cumsum(_pw.exp(_pw.sub(input, m)), d)), m)


def nansum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Sum treating nan as zero."""
    _need_tensor(input, "nansum")
    x = _pw.where(_pw.isnan(input), 0, input) if input._dtype.is_floating_point else input
    if dim is None:
        return _red.sum(x, dtype=dtype) if not keepdim else _red.sum(x, tuple(range(input.ndim)), True, dtype=dtype)
    return _red.sum(x, dim, keepdim, dtype=dtype)


def nanmean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Mean of the non-nan values (nan when there are none)."""
    _need_tensor(input, "nanmean")
    if not input._dtype.is_floating_point:
        raise RuntimeError(f"nanmean(): expected input to have floating point dtype but got {input._dtype.name}")
    count = nansum(_pw.logical_not(_pw.isnan(input)).to(input._dtype), dim, keepdim)
    return _pw.div(nansum(input, dim, keepdim, dtype=dtype), count)


# ------------------------------------------------------------------ constructions
def block_diag(*tensors) -> Tensor:
    """A block-diagonal matrix from 0-, 1- or 2-d tensors (a 1-d tensor is one row)."""
    from .creation import zeros

    mats = []
    for i, t in enumerate(tensors):
        _need_tensor(t, "block_diag")
        if t.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. "
                               f"Input {i} has {t.ndim} dimensions")
        mats.append(_views.reshape(t, (1, -1) if t.ndim == 1 else (1, 1)) if t.ndim < 2 else t)
    if not mats:
        return zeros(1, 0)
    dt = mats[0]._dtype
    for m in mats[1:]:
        dt = _dt.promote_types(dt, m._dtype)
    total = builtins.sum(m.shape[1] for m in mats)
    rows, col = [], 0
    for m in mats:
        r, c = m.shape
        m = m if m._dtype is dt else m.to(dt)
        row = _shape.cat([zeros(r, col, dtype=dt), m, zeros(r, total - col - c, dtype=dt)], 1)
        rows.append(row)
        col += c
    return _shape.cat(rows, 0)


def cartesian_prod(*tensors) -> Tensor:
    """Every combination of the 1-d ``tensors``' elements, one per row (a single tensor is returned as is)."""
    for t in tensors:
        _need_tensor(t, "cartesian_prod")
        if t.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return _shape.stack([ravel(g) for g in grids], 1)


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode=None) -> Tensor:
    """p-norm distances between the rows of ``x1`` (..., P, M) and ``x2`` (..., R, M): shape (..., P, R)."""
    from .linalg import vector_norm

    _need_tensor(x1, "cdist")
    _need_tensor(x2, "cdist")
    if x1.ndim < 2 or x2.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.ndim}D, X2 got: {x2.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}")
    if not x1._dtype.is_floating_point or not x2._dtype.is_floating_point:
        raise RuntimeError(f"cdist only supports floating-point dtypes, X1 got: {x1._dtype}, X2 got: {x2._dtype}")
    if x1._dtype is not x2._dtype:
        raise RuntimeError(f"cdist: X1 and X2 must have the same dtype, X1 got: {x1._dtype}, X2 got: {x2._dtype}")
    if p < 0:
        raise RuntimeError(f"cdist only supports non-negative p values, got {p}")
    d = _pw.sub(_shape.unsqueeze(x1, -2), _shape.unsqueeze(x2, -3))
    return vector_norm(d, p, dim=-1)


def trapezoid(y: Tensor, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """Trapezoidal-rule integral of ``y`` along ``dim``, at sample points ``x`` or spacing ``dx`` (default 1)."""
    _need_tensor(y, "trapezoid")
    if x is not None and dx is not None:
        raise TypeError("trapezoid: pass either x or dx, not both")
    if y.ndim == 0:
        raise IndexError("trapezoid: dimension specified as -1 but tensor has no dimensions")
    d = canon_dim(dim, y.ndim, "trapezoid")
    n = y.shape[d]
    if n == 0:
        return _red.sum(y, d) * 0 if y._dtype.is_floating_point else _red.sum(y, d).to(_dt.get_default_dtype())
    pair = _pw.add(_shape.narrow(y, d, 1, n - 1), _shape.narrow(y, d, 0, n - 1))
    if isinstance(x, Tensor):
        if x.ndim == 1:
            if x.shape[0] != n:
                raise RuntimeError(f"trapezoid: There must be one `x` value for each sample point; "
                                   f"got {x.shape[0]} x values for {n} samples")
            shp = [1] * y.ndim
            shp[d] = n - 1
            spacing = _views.reshape(diff(x), shp)
        else:
            spacing = diff(x, dim=dim)
        return _red.sum(_pw.mul(pair, spacing), d) / 2
    step = 1 if x is None and dx is None else (x if x is not None else dx)
    total = _red.sum(pair, d)
    if not total._dtype.is_floating_point:
        total = total.to(_dt.get_default_dtype())
    return _pw.mul(total, step / 2)


def trapz(y: Tensor, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """Alias of :func:`trapezoid`."""
    return trapezoid(y, x, dx=dx, dim=dim)


def vander(x: Tensor, N: int | None = None, increasing: bool = False) -> Tensor:
    """Vandermonde matrix: column j is ``x ** j`` (reversed unless ``increasing``); integers as int64."""
    from .creation import arange

    _need_tensor(x, "vander")
    if x.ndim != 1:
        raise RuntimeError(f"x must be a one-dimensional tensor, got {x.ndim}-d")
    n = x.shape[0] if N is None else int(N)
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    base = x if x._dtype.is_floating_point else x.to(_dt.int64)
    powers = arange(n, dtype=_dt.int64)
    if not increasing:
        powers = _shape.flip(powers, [0])
    col = _shape.unsqueeze(base, -1)
    if n == 0:
        return _basic.expand(col, (x.shape[0], 0)).clone()
    return _pw.pow(col, powers).to(base._dtype)


# ------------------------------------------------------------------ indexed writes
def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """``input`` with the leading elements of ``source`` (in row-major order) written where ``mask`` holds."""
    from .indexing import take

    _need_tensor(input, "masked_scatter")
    _need_tensor(source, "masked_scatter")
    if not isinstance(mask, Tensor) or mask._dtype is not _dt.bool:
        got = mask._dtype if isinstance(mask, Tensor) else type(mask).__name__
        raise RuntimeError(f"masked_scatter: only supports boolean masks, but got mask with dtype {got}")
    if source._dtype is not input._dtype:
        raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes but got "
                           f"{input._dtype} and {source._dtype}")
    shape = broadcast_shapes(input.shape, mask.shape)
    x = input if input.shape == shape else _basic.expand(input, shape)
    m = mask if mask.shape == shape else _basic.expand(mask, shape)
    flat = _views.reshape(m, (-1,))
    # the k-th true entry reads source[k]: a running count gives k without data-dependent shapes
    pos = _pw.sub(_red.cumsum(flat, 0), 1)
    if not getattr(m, "_symbolic", False):
        need = int(m._data.sum())
        if need > source.numel():
            raise RuntimeError(f"masked_scatter: number of elements of source ({source.numel()}) < number of "
                               f"ones in mask ({need})")
    if source.numel() == 0:
        return _basic.clone(x)
    pos = _pw.clamp(pos, 0, source.numel() - 1)
    picked = _views.reshape(take(source, pos), shape)
    return _pw.where(m, picked, x)


def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """A copy of ``input`` whose slices ``index`` along ``dim`` are replaced by ``source``'s slices."""
    from .indexing import scatter

    _need_tensor(input, "index_copy")
    if not isinstance(index, Tensor) or index._dtype is not _dt.int64:
        got = index._dtype if isinstance(index, Tensor) else type(index).__name__
        raise RuntimeError(f"index_copy_(): Expected a long tensor for index, but got {got}")
    if index.ndim > 1:
        raise IndexError(f"index_copy_(): Index should have dimension 1 or 0 (got {index.ndim})")
    if source._dtype is not input._dtype:
        raise RuntimeError(f"index_copy_(): self and source expected to have the same dtype, but got "
                           f"(self){input._dtype} and (source){source._dtype}")
    nd = builtins.max(input.ndim, 1)
    d = canon_dim(dim, nd, "index_copy")
    x = input if input.ndim else _views.reshape(input, (1,))
    src = source if source.ndim else _views.reshape(source, (1,))
    idx = index if index.ndim else _views.reshape(index, (1,))
    if src.ndim != x.ndim:
        raise IndexError(f"index_copy_(): When source and destination are not scalars, their dimensionality "
                         f"must match. Source dimensionality ({source.ndim}), destination dimensionality "
                         f"({input.ndim})")
    if src.shape[d] != idx.shape[0]:
        raise IndexError(f"index_copy_(): Number of indices ({idx.shape[0]}) should be equal to source.size(dim) "
                         f"({src.shape[d]})")
    for i in range(x.ndim):
        if i != d and src.shape[i] != x.shape[i]:
            raise RuntimeError(f"index_copy_(): source shape {tuple(source.shape)} does not match self shape "
                               f"{tuple(input.shape)} outside dim {d}")
    if not getattr(idx, "_symbolic", False) and idx.numel():
        bad = idx._data[(idx._data < 0) | (idx._data >= x.shape[d])]
        if bad.size:
            raise IndexError(f"index_copy_(): index {int(bad[0])} is out of bounds for dimension {d} with size "
                             f"{x.shape[d]}")
    shp = [1] * x.ndim
    shp[d] = idx.shape[0]
    full = _basic.expand(_views.reshape(idx, shp), src.shape)
    r = scatter(x, d, full, src)
    return r if input.ndim else _views.reshape(r, ())


def fill_diagonal_(input: Tensor, fill_value, wrap: bool = False) -> Tensor:
    """Write ``fill_value`` on the main diagonal in place (all dims equal, or a 2-d tall matrix with ``wrap``)."""
    from ..creation import tensor as _tensor

    _need_tensor(input, "fill_diagonal_")
    shape = tuple(input.shape)
    if input.ndim < 2:
        raise RuntimeError("fill_diagonal_: dimensions must larger than 1")
    if input.ndim > 2 and len(set(shape)) != 1:
        raise RuntimeError("fill_diagonal_: all dimensions of input must be of equal length")
    mask = np.zeros(shape, dtype=bool)
    n = builtins.min(shape)
    mask[(np.arange(n),) * input.ndim] = True
    if wrap and input.ndim == 2 and shape[0] > shape[1] + 1:
        # torch continues the diagonal after skipping one row past each square block
        flat = mask.reshape(-1)
        flat[np.arange(0, flat.size, shape[1] + 1)] = True
    return input.masked_fill_(_tensor(mask), fill_value)


def unfold(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """Slices of length ``size`` every ``step`` along ``dimension``, as a new last dim (a copy, not a view)."""
    from .creation import arange
    from .indexing import index_select

    _need_tensor(input, "unfold")
    x = input if input.ndim else _views.reshape(input, (1,))
    d = canon_dim(dimension, x.ndim, "unfold")
    n = x.shape[d]
    if size > n:
        raise RuntimeError(f"unfold: maximum size for tensor at dimension {d} is {n} but size is {size}")
    if size < 0:
        raise RuntimeError(f"unfold: size is {size} but must be >= 0")
    if step <= 0:
        raise RuntimeError(f"unfold: step is {step} but must be > 0")
    if input.ndim == 0:
        return _views.reshape(input, (size,))
    count = (n - size) // step + 1
    idx = _pw.add(_shape.unsqueeze(arange(count) * step, 1), _shape.unsqueeze(arange(size), 0))
    picked = index_select(x, d, _views.reshape(idx, (-1,)))
    shp = list(x.shape[:d]) + [count, size] + list(x.shape[d + 1:])
    return _shape.movedim(_views.reshape(picked, shp), d + 1, -1)


# ------------------------------------------------------------------ data-dependent primitives (graphc/ops/extra.py)
class CummaxResult(_ValuesIndices):
    """Result of ``cummax(input, dim)``."""

    __slots__ = ()


class CumminResult(_ValuesIndices):
    """Result of ``cummin(input, dim)``."""

    __slots__ = ()


def _cum_extreme(input, dim, op, result_type):
    _need_tensor(input, op)
    d = canon_dim(dim, builtins.max(input.ndim, 1), op)
    vals, idx = apply(_get(op), (input,), {"dim": d})
    return result_type(vals, idx)


def cummax(input: Tensor, dim: int) -> CummaxResult:
    """Running maximum along ``dim`` and the index where it was last attained (nan propagates)."""
    return _cum_extreme(input, dim, "cummax", CummaxResult)


def cummin(input: Tensor, dim: int) -> CumminResult:
    """Running minimum along ``dim`` and the index where it was last attained (nan propagates)."""
    return _cum_extreme(input, dim, "cummin", CumminResult)


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False,
           dim=None):
    """The sorted distinct values of ``input`` (flattened), with the inverse indices and counts on request."""
    _need_tensor(input, "unique")
    if dim is not None:
        raise NotImplementedError("unique: dim= is not supported by graphc; only dim=None (flattened)")
    vals, inverse, counts = apply(_get("unique"), (input,), {})
    if not return_inverse and not return_counts:
        return vals
    out = (vals,) + ((inverse,) if return_inverse else ()) + ((counts,) if return_counts else ())
    return out


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """Counts of each non-negative integer in 1-d ``input`` (or sums of ``weights``), at least ``minlength`` long."""
    _need_tensor(input, "bincount")
    if input._dtype.is_floating_point or input._dtype is _dt.bool:
        raise NotImplementedError(f"bincount: not implemented for '{input._dtype.name}'")
    if int(minlength) < 0:
        raise RuntimeError(f"bincount: minlength should be >= 0, got {minlength}")
    if weights is None:
        return apply(_get("bincount"), (input,), {"minlength": int(minlength)})
    _need_tensor(weights, "bincount")
    return apply(_get("bincount_weighted"), (input, weights.detach()), {"minlength": int(minlength)})


def searchsorted(sorted_sequence: Tensor, input, *, out_int32: bool = False, right: bool = False,
                 side: str | None = None, sorter=None) -> Tensor:
    """Insertion indices of ``input`` into the innermost dim of ``sorted_sequence``.

    ``right=True`` (or ``side='right'``) places a value after the boundaries equal to it.
    """
    _need_tensor(sorted_sequence, "searchsorted")
    if sorter is not None:
        raise NotImplementedError("searchsorted: sorter= is not supported by graphc")
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got side of left "
                               "while right was True")
        right = side == "right"
    if isinstance(input, Tensor):
        values = input
    elif isinstance(input, (numbers.Real, )) and not isinstance(input, complex):
        values = Tensor._make(np.asarray(input, dtype=_dt.scalar_dtype(input).np))
    else:
        raise TypeError(f"searchsorted(): argument 'input' must be Tensor or Number, not {type(input).__name__}")
    b = sorted_sequence
    if b.ndim == 0:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                           "dimensions of boundaries tensor and input value tensor must match, but we got "
                           "boundaries tensor [] and input value tensor {list(values.shape)}")
    if b.ndim > 1 and (values.ndim != b.ndim or tuple(values.shape[:-1]) != tuple(b.shape[:-1])):
        raise RuntimeError(f"torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                           f"dimensions of boundaries tensor and input value tensor must match, but we got "
                           f"boundaries tensor {list(b.shape)} and input value tensor {list(values.shape)}")
    return apply(_get("searchsorted"), (b.detach(), values.detach()), {"right": bool(right),
                                                                        "out_int32": bool(out_int32)})


def bucketize(input, boundaries: Tensor, *, out_int32: bool = False, right: bool = False) -> Tensor:
    """Which bucket of the 1-d ``boundaries`` each value falls in (``right``: boundaries[i-1] <= v < boundaries[i])."""
    _need_tensor(boundaries, "bucketize")
    if boundaries.ndim != 1:
        raise RuntimeError(f"bucketize: boundaries tensor must be 1 dimension, but got dim({boundaries.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def histc(input: Tensor, bins: int = 100, min=0, max=0) -> Tensor:
    """Histogram of ``input`` with ``bins`` equal bins over [min, max] (both 0: the data's range)."""
    _need_tensor(input, "histc")
    if not input._dtype.is_floating_point:
        raise NotImplementedError(f"histc: not implemented for '{input._dtype.name}'")
    if int(bins) <= 0:
        raise RuntimeError(f"torch.histc: bins must be > 0, but got {bins}")
    if max < min:
        raise RuntimeError("torch.histc: max must be larger than min")
    return apply(_get("histc"), (input.detach(),), {"bins": int(bins), "min": float(min), "max": float(max)})


METHODS = [
    "clamp_min", "clamp_max", "addcmul", "addcdiv", "softmax", "log_softmax", "view_as", "reshape_as", "ravel",
    "sum_to_size", "diff", "cross", "trace", "kron", "rot90", "logcumsumexp", "nansum", "nanmean", "isneginf",
    "isposinf", "isreal", "masked_scatter", "index_copy", "fill_diagonal_", "unfold", "cummax", "cummin",
    "unique", "bincount", "histc",
]
INPLACE = ["clamp_min", "clamp_max", "addcmul", "addcdiv", "masked_scatter", "index_copy"]
