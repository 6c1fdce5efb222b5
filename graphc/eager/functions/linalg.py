"""Public matrix products and linear algebra: ``gc.matmul``, ``gc.mm``, ``gc.det`` ... and the ``gc.linalg`` bodies.

The primitives live in ``graphc/ops/linalg.py``; everything else here
(mm, bmm, mv, dot, addmm, inner, outer, tensordot, einsum, matrix norms, pinv ...)
is a composite that validates its arguments like torch and calls them.
``graphc/linalg.py`` re-exports the ``linalg_*`` functions under torch.linalg's names.
"""
from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

from ... import dtypes as _dt
from ...ops import get as _get
from ...ops.linalg import LinAlgError  # noqa: F401  (re-exported by gc.linalg)
from ...ops.reduction import reduced_shape
from .._args import canon_dim, canon_dims
from ..dispatch import apply
from ..tensor import Tensor
from ..node import named
from . import pointwise as _pw
from .out import write_out

__all__ = [
    "matmul", "mm", "bmm", "mv", "addmm", "addmv", "addr", "baddbmm", "addbmm", "dot", "vdot", "inner", "outer",
    "ger", "tensordot", "einsum", "det", "logdet", "slogdet", "inverse", "svd", "cholesky", "qr", "matrix_power",
    "pinverse", "chain_matmul",
]

_MATMUL, _INV, _DET, _SLOGDET, _SOLVE, _SVD, _SVDVALS, _VNORM, _CHOL, _QR = (
    _get(n) for n in ("matmul", "linalg_inv", "linalg_det", "linalg_slogdet", "linalg_solve", "linalg_svd",
                      "linalg_svdvals", "linalg_vector_norm", "linalg_cholesky", "linalg_qr"))

SVDResult = namedtuple("SVDResult", ["U", "S", "Vh"])
SVDOldResult = namedtuple("SVDOldResult", ["U", "S", "V"])
SlogdetResult = namedtuple("SlogdetResult", ["sign", "logabsdet"])
QRResult = namedtuple("QRResult", ["Q", "R"])


def _tensor(x, op: str, name: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(x).__name__}")
    return x


def _same_dtype(a: Tensor, b: Tensor, msg: str) -> None:
    if a._dtype is not b._dtype:
        raise RuntimeError(msg.format(a._dtype.name, b._dtype.name))


# ----------------------------------------------------------------------------- products
def matmul(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Matrix product with torch's rank rules: dot (1-d, 1-d), mv, mm and batched matmul with broadcast batches."""
    r = apply(_MATMUL, (_tensor(input, "matmul", "input"), _tensor(other, "matmul", "other")), {})
    return r if out is None else write_out(r, out, "matmul")


def mm(input: Tensor, mat2: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Product of two 2-d matrices (no broadcasting)."""
    _tensor(input, "mm", "input")
    _tensor(mat2, "mm", "mat2")
    if input._data.ndim != 2:
        raise RuntimeError(f"mm: self must be a matrix, got a {input._data.ndim}-D tensor of shape {list(input.shape)}")
    if mat2._data.ndim != 2:
        raise RuntimeError(f"mm: mat2 must be a matrix, got a {mat2._data.ndim}-D tensor of shape {list(mat2.shape)}")
    r = apply(_MATMUL, (input, mat2), {})
    return r if out is None else write_out(r, out, "mm")


def bmm(input: Tensor, mat2: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Batched product of (b, n, m) and (b, m, p) tensors (batch sizes must be equal)."""
    _tensor(input, "bmm", "input")
    _tensor(mat2, "bmm", "mat2")
    if input.ndim != 3:
        raise RuntimeError(f"bmm: batch1 must be a 3D tensor, got shape {list(input.shape)}")
    if mat2.ndim != 3:
        raise RuntimeError(f"bmm: batch2 must be a 3D tensor, got shape {list(mat2.shape)}")
    b, _, m = input.shape
    if tuple(mat2.shape[:2]) != (b, m):
        raise RuntimeError(f"bmm: Expected size for first two dimensions of batch2 tensor to be: [{b}, {m}] but got: "
                           f"{list(mat2.shape[:2])}.")
    r = apply(_MATMUL, (input, mat2), {})
    return named(r, "BmmBackward0") if out is None else write_out(r, out, "bmm")


def mv(input: Tensor, vec: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Matrix (n, m) times vector (m,)."""
    _tensor(input, "mv", "input")
    _tensor(vec, "mv", "vec")
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"mv: vector + matrix @ vector expected, got 1, {input.ndim}, {vec.ndim}")
    if input.shape[1] != vec.shape[0]:
        raise RuntimeError(f"mv: size mismatch, got input ({input.shape[0]}), mat ({input.shape[0]}x{input.shape[1]}), "
                           f"vec ({vec.shape[0]})")
    r = apply(_MATMUL, (input, vec), {})
    return named(r, "MvBackward0") if out is None else write_out(r, out, "mv")


def _check_1d_pair(a: Tensor, b: Tensor, op: str) -> None:
    _tensor(a, op, "input")
    _tensor(b, op, "other")
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"{op}: 1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(f"{op}: inconsistent tensor size, expected tensor [{a.shape[0]}] and src [{b.shape[0]}] to "
                           f"have the same number of elements, but got {a.shape[0]} and {b.shape[0]} elements respectively")
    _same_dtype(a, b, op + ": expected both vectors to have same dtype, but found {} and {}")


def dot(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Inner product of two 1-d tensors of the same length and dtype."""
    _check_1d_pair(input, other, "dot")
    r = apply(_MATMUL, (input, other), {})
    return named(r, "DotBackward0") if out is None else write_out(r, out, "dot")


def vdot(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """``dot`` with the first argument conjugated (the same thing for real tensors)."""
    _check_1d_pair(input, other, "vdot")
    r = apply(_MATMUL, (input, other), {})
    return r if out is None else write_out(r, out, "vdot")


def inner(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Sum over the last dims: shape ``input.shape[:-1] + other.shape[:-1]``; a 0-d operand multiplies."""
    _tensor(input, "inner", "input")
    _tensor(other, "inner", "other")
    if input.ndim == 0 or other.ndim == 0:
        r = input * other
    else:
        _same_dtype(input, other, "inner: both inputs should have same dtype, got {} and {}")
        k = input.shape[-1]
        if other.shape[-1] != k:
            raise RuntimeError(f"inner() the last dimension must match on both input tensors but got shapes "
                               f"{list(input.shape)} and {list(other.shape)}")
        if input.ndim == 1 and other.ndim == 1:
            r = apply(_MATMUL, (input, other), {})
        else:
            a = input.reshape(-1, k)
            b = other.reshape(-1, k)
            r = matmul(a, b.transpose(0, 1)).reshape(tuple(input.shape[:-1]) + tuple(other.shape[:-1]))
    return r if out is None else write_out(r, out, "inner")


def outer(input: Tensor, vec2: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Outer product of two 1-d tensors (types promote like ``mul``)."""
    _tensor(input, "outer", "input")
    _tensor(vec2, "outer", "vec2")
    for t, name in ((input, "self"), (vec2, "vec2")):
        if t.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {t.ndim}-D")
    r = input.reshape(-1, 1) * vec2.reshape(1, -1)
    return r if out is None else write_out(r, out, "outer")


ger = outer


def _zero_term(t: Tensor) -> Tensor:
    """Zeros shaped like ``t``, connected to it with a zero gradient (nan in ``t`` ignored)."""
    return _pw.zero_gradient_to(t.new_zeros(()), t) if t.requires_grad else t.new_zeros(t.shape)


def _scaled_sum(input: Tensor, prod: Tensor, beta, alpha, op: str) -> Tensor:
    """``beta * input + alpha * prod`` with ``input`` broadcast to ``prod``'s shape; beta=0 ignores input (nan too)."""
    _same_dtype(input, prod, op + ": self and mat2 must have the same dtype, but got {} and {}")
    try:
        input = input.expand(prod.shape) if tuple(input.shape) != tuple(prod.shape) else input
    except RuntimeError as e:
        raise RuntimeError(f"{op}: input of shape {list(input.shape)} can't be broadcast to the product's shape "
                           f"{list(prod.shape)} ({e})") from None
    dt = prod._dtype
    # a zero factor skips its term, so nan/inf there never reach the result (torch); a term that
    # requires grad stays in the graph with a zero gradient: where(never, term, 0)
    if alpha == 0:
        prod = _zero_term(prod)
    elif alpha != 1:
        prod = prod * alpha
    if beta == 0:
        r = prod if not input.requires_grad else prod + _zero_term(input)
    else:
        r = (input if beta == 1 else input * beta) + prod
    # torch keeps the operands' dtype even for a float alpha/beta on integer tensors
    return r if r._dtype is dt else r.to(dt)


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1, out: Tensor | None = None) -> Tensor:
    """``beta * input + alpha * (mat1 @ mat2)``."""
    r = _scaled_sum(_tensor(input, "addmm", "input"), mm(mat1, mat2), beta, alpha, "addmm")
    return named(r, "AddmmBackward0") if out is None else write_out(r, out, "addmm")


def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta=1, alpha=1, out: Tensor | None = None) -> Tensor:
    """``beta * input + alpha * (mat @ vec)``."""
    r = _scaled_sum(_tensor(input, "addmv", "input"), mv(mat, vec), beta, alpha, "addmv")
    return r if out is None else write_out(r, out, "addmv")


def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta=1, alpha=1, out: Tensor | None = None) -> Tensor:
    """``beta * input + alpha * outer(vec1, vec2)``."""
    r = _scaled_sum(_tensor(input, "addr", "input"), outer(vec1, vec2), beta, alpha, "addr")
    return r if out is None else write_out(r, out, "addr")


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1, out: Tensor | None = None) -> Tensor:
    """``beta * input + alpha * bmm(batch1, batch2)``."""
    r = _scaled_sum(_tensor(input, "baddbmm", "input"), bmm(batch1, batch2), beta, alpha, "baddbmm")
    return r if out is None else write_out(r, out, "baddbmm")


def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1, out: Tensor | None = None) -> Tensor:
    """``beta * input + alpha * sum_b(batch1[b] @ batch2[b])``."""
    r = _scaled_sum(_tensor(input, "addbmm", "input"), bmm(batch1, batch2).sum(0), beta, alpha, "addbmm")
    return r if out is None else write_out(r, out, "addbmm")


def matrix_power(input: Tensor, n: int) -> Tensor:
    """``A @ A @ ... @ A`` (n times, by squaring); n = 0 gives the identity, n < 0 powers the inverse."""
    _tensor(input, "matrix_power", "input")
    if input.ndim < 2 or input.shape[-1] != input.shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but they are "
                           f"{list(input.shape)}")
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"matrix_power(): argument 'n' must be int, not {type(n).__name__}")
    if n == 0:
        from .creation import eye

        return eye(input.shape[-1], dtype=input.dtype).expand(input.shape).clone()
    base = inv(input) if n < 0 else input
    n = abs(n)
    result = None
    while n:
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if n:
            base = matmul(base, base)
    return result


def chain_matmul(*matrices: Tensor) -> Tensor:
    """``matrices[0] @ matrices[1] @ ...`` of 2-d tensors (torch.linalg.multi_dot for matrices)."""
    if len(matrices) == 1 and isinstance(matrices[0], (list, tuple)):
        matrices = tuple(matrices[0])
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    r = matrices[0]
    for m in matrices[1:]:
        r = mm(r, m)
    return r


def multi_dot(tensors) -> Tensor:
    """``linalg.multi_dot``: the first and last may be 1-d (row and column vectors), the rest 2-d."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    for i, t in enumerate(tensors):
        ok = t.ndim == 2 or (t.ndim == 1 and i in (0, len(tensors) - 1))
        if not ok:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D (or 1D if it is the first or last), got "
                               f"{t.ndim}D")
    r = tensors[0]
    for t in tensors[1:]:
        r = matmul(r, t)
    return r


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    """``linalg.vecdot``: ``sum(x * y, dim)`` with broadcasting."""
    return (x * y).sum(dim)


# ----------------------------------------------------------------------------- inverse, determinants, solve
def inv(A: Tensor, *, out: Tensor | None = None) -> Tensor:
    """``linalg.inv``: inverse of each square matrix; LinAlgError (a RuntimeError) when one is singular."""
    r = apply(_INV, (_tensor(A, "linalg.inv", "A"),), {})
    return r if out is None else write_out(r, out, "linalg.inv")


def inverse(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """``torch.inverse``, the same as ``linalg.inv``."""
    return inv(input, out=out)


def det(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Determinant of each square matrix (shape ``input.shape[:-2]``)."""
    r = apply(_DET, (_tensor(input, "linalg.det", "A"),), {})
    return r if out is None else write_out(r, out, "linalg.det")


def slogdet(input: Tensor) -> SlogdetResult:
    """``(sign, logabsdet)`` of each square matrix; sign is 0 and logabsdet -inf for a singular one."""
    sign, logabs = apply(_SLOGDET, (_tensor(input, "linalg.slogdet", "A"),), {})
    return SlogdetResult(sign, logabs)


def logdet(input: Tensor) -> Tensor:
    """``log(det(A))``: nan for a negative determinant, -inf for a zero one."""
    sign, logabs = slogdet(input)
    return logabs.where(sign >= 0, math.nan)


def solve(A: Tensor, B: Tensor, *, left: bool = True, out: Tensor | None = None) -> Tensor:
    """``linalg.solve``: X with A X = B (``left=False``: X A = B).

    B is a batch of vectors when it is 1-d or has A's shape without the last dim; otherwise a
    batch of matrices (n, k).  Batch dims broadcast.
    """
    _tensor(A, "linalg.solve", "A")
    _tensor(B, "linalg.solve", "B")
    if not left:
        r = solve(A.transpose(-2, -1), B.transpose(-2, -1)).transpose(-2, -1)
        return r if out is None else write_out(r, out, "linalg.solve")
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    if vector:
        if A.ndim < 2:
            raise RuntimeError("linalg.solve: The input tensor A must have at least 2 dimensions.")
        r = apply(_SOLVE, (A, B.unsqueeze(-1)), {}).squeeze(-1)
    else:
        r = apply(_SOLVE, (A, B), {})
    return r if out is None else write_out(r, out, "linalg.solve")


# ----------------------------------------------------------------------------- SVD, factorizations
def linalg_svd(A: Tensor, full_matrices: bool = True, *, driver=None) -> SVDResult:
    """``linalg.svd``: A = U diag(S) Vh, singular values descending; reduced shapes when ``full_matrices=False``."""
    u, s, vh = apply(_SVD, (_tensor(A, "linalg.svd", "A"),), {"full_matrices": bool(full_matrices)})
    return SVDResult(u, s, vh)


def svd(input: Tensor, some: bool = True, compute_uv: bool = True) -> SVDOldResult:
    """``torch.svd``: (U, S, V) with V = Vh^T (reduced when ``some``); without ``compute_uv`` U and V are zeros."""
    if not compute_uv:
        s = svdvals(input)
        m, n = input.shape[-2], input.shape[-1]
        batch = tuple(input.shape[:-2])
        return SVDOldResult(input.new_zeros(batch + (m, m if not some else min(m, n))), s,
                            input.new_zeros(batch + (n, n if not some else min(m, n))))
    u, s, vh = linalg_svd(input, full_matrices=not some)
    return SVDOldResult(u, s, vh.transpose(-2, -1))


def svdvals(A: Tensor, *, driver=None) -> Tensor:
    """``linalg.svdvals``: the singular values, descending; the gradient is defined even for repeated values."""
    return apply(_SVDVALS, (_tensor(A, "linalg.svdvals", "A"),), {})


def linalg_cholesky(A: Tensor, *, upper: bool = False, out: Tensor | None = None) -> Tensor:
    """``linalg.cholesky``: lower-triangular L with A = L L^T (or upper U with A = U^T U)."""
    r = apply(_CHOL, (_tensor(A, "linalg.cholesky", "A"),), {"upper": True} if upper else {})
    return r if out is None else write_out(r, out, "linalg.cholesky")


def cholesky(input: Tensor, upper: bool = False, *, out: Tensor | None = None) -> Tensor:
    """``torch.cholesky`` (the deprecated form of ``linalg.cholesky``)."""
    return linalg_cholesky(input, upper=upper, out=out)


def linalg_qr(A: Tensor, mode: str = "reduced") -> QRResult:
    """``linalg.qr``: A = Q R with ``mode`` 'reduced', 'complete' or 'r' (Q empty)."""
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', "
                           "or 'complete'")
    q, r = apply(_QR, (_tensor(A, "linalg.qr", "A"),), {"mode": mode} if mode != "reduced" else {})
    return QRResult(q, r)


def qr(input: Tensor, some: bool = True) -> QRResult:
    """``torch.qr``: reduced (``some``) or complete QR."""
    return linalg_qr(input, "reduced" if some else "complete")


def pinv(A: Tensor, *, atol=None, rtol=None, hermitian: bool = False) -> Tensor:
    """``linalg.pinv``: Moore-Penrose pseudo-inverse via the SVD, dropping singular values below
    ``max(atol, rtol * largest)`` (rtol defaults to ``max(m, n) * eps`` when atol is not given)."""
    u, s, vh = linalg_svd(A, full_matrices=False)
    smax = s.amax(-1, keepdim=True) if s.shape[-1] else s.sum(-1, keepdim=True)
    if rtol is None:
        rtol = max(A.shape[-2:]) * float(np.finfo(A._dtype.np).eps) if atol is None or atol == 0 else 0.0
    tol = smax * rtol
    if atol is not None:
        tol = tol.maximum(atol) if isinstance(atol, Tensor) else tol.clamp(min=atol)
    keep = s > tol
    s_inv = (1 / s.where(keep, 1.0)) * keep
    return (vh.transpose(-2, -1) * s_inv.unsqueeze(-2)).matmul(u.transpose(-2, -1))


def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:
    """``torch.pinverse``: ``linalg.pinv`` with a relative cutoff ``rcond``."""
    return pinv(input, rtol=rcond)


# ----------------------------------------------------------------------------- norms
def _float_dtype(x: Tensor, dtype, op: str) -> Tensor:
    if dtype is None:
        return x
    dtype = _dt.to_dtype(dtype)
    if x._dtype.is_floating_point and dtype.is_floating_point and dtype.itemsize < x._dtype.itemsize:
        raise RuntimeError(f"{op}: the dtype of the input ({x._dtype.name}) should be convertible without narrowing "
                           f"to the specified dtype ({dtype.name})")
    if not x._dtype.is_floating_point:
        return x  # the norm refuses it with torch's message
    return x.to(dtype)


def _ord_value(ord, op: str) -> float:
    if isinstance(ord, bool) or not isinstance(ord, (int, float)):
        raise TypeError(f"{op}(): argument 'ord' must be a number, not {type(ord).__name__}")
    return float(ord)


def vector_norm(x: Tensor, ord=2, dim=None, keepdim: bool = False, *, dtype=None, out=None) -> Tensor:
    """``linalg.vector_norm``: (sum |x|^ord)^(1/ord) over ``dim`` (all dims when None); ord may be inf, -inf, 0."""
    _tensor(x, "linalg.vector_norm", "x")
    x = _float_dtype(x, dtype, "linalg.vector_norm")
    o = _ord_value(ord, "linalg.vector_norm")
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        dims = tuple(range(x.ndim))
    else:
        dims = canon_dims(dim, x.ndim, "linalg.vector_norm")
    r = apply(_VNORM, (x,), {"ord": o, "dim": dims, "keepdim": bool(keepdim)})
    return r if out is None else write_out(r, out, "linalg.vector_norm")


_MATRIX_ORDS = ("fro", "nuc", 2.0, -2.0, 1.0, -1.0, math.inf, -math.inf)


def matrix_norm(A: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False, *, dtype=None, out=None) -> Tensor:
    """``linalg.matrix_norm``: 'fro', 'nuc', 2/-2 (largest/smallest singular value), 1/-1 (max/min column abs sum),
    inf/-inf (max/min row abs sum) over the two dims ``dim``."""
    op = "linalg.matrix_norm"
    _tensor(A, op, "A")
    if A.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor A must have at least 2 dimensions.")
    if isinstance(dim, int) or len(dim) != 2:
        raise RuntimeError(f"{op}: dim must be a 2-tuple. Got {dim if isinstance(dim, int) else len(dim)}")
    d0, d1 = (canon_dim(d, A.ndim, op) for d in dim)
    if d0 == d1:
        raise RuntimeError(f"{op}: dims must be different. Got ({d0}, {d1})")
    if not isinstance(ord, str):
        ord = _ord_value(ord, op)
    if ord not in _MATRIX_ORDS:
        raise RuntimeError(f"{op}: Order {ord} not supported.")
    A = _float_dtype(A, dtype, op)
    if not A._dtype.is_floating_point:
        raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. Got {A._dtype.name}")
    final = reduced_shape(tuple(A.shape), (d0, d1), keepdim)
    if ord == "fro":
        r = vector_norm(A, 2, (d0, d1), keepdim)
    elif ord == "nuc" or abs(ord) == 2:
        rest = [i for i in range(A.ndim) if i not in (d0, d1)]
        s = svdvals(A.permute(rest + [d0, d1]))
        r = s.sum(-1) if ord == "nuc" else (s.amax(-1) if ord > 0 else s.amin(-1))
        r = r.reshape(final)
    else:
        # 1: max over columns of the column sums; inf: max over rows of the row sums
        summed, other = (d0, d1) if abs(ord) == 1 else (d1, d0)
        sums = A.abs().sum(summed, keepdim=True)
        r = (sums.amax(other, keepdim=True) if ord > 0 else sums.amin(other, keepdim=True)).reshape(final)
    return r if out is None else write_out(r, out, op)


def norm(A: Tensor, ord=None, dim=None, keepdim: bool = False, *, dtype=None, out=None) -> Tensor:
    """``linalg.norm``: a vector norm over one dim, a matrix norm over two, or (ord None, dim None) the
    2-norm of the flattened tensor; with ``ord`` and no ``dim`` the input must be 1-d or 2-d."""
    op = "linalg.norm"
    _tensor(A, op, "A")
    if dim is not None:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        if len(dims) == 1:
            if isinstance(ord, str):
                raise RuntimeError(f"{op}: ord '{ord}' is a matrix norm but dim={list(dims)} has length 1")
            r = vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
        elif len(dims) == 2:
            r = matrix_norm(A, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
        else:
            raise RuntimeError(f"{op}: If dim is specified, it must be of length 1 or 2. Got {list(dims)}")
    elif ord is None:
        r = vector_norm(A, 2, None, keepdim, dtype=dtype)
    elif A.ndim == 1 and not isinstance(ord, str):
        r = vector_norm(A, ord, None, keepdim, dtype=dtype)
    elif A.ndim == 2 or (A.ndim == 1 and isinstance(ord, str)):
        r = matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    else:
        raise RuntimeError(f"{op}: If dim is not specified but ord is, the input must be 1D or 2D. Got {A.ndim}D.")
    return r if out is None else write_out(r, out, op)


# ----------------------------------------------------------------------------- tensordot and einsum
def _prod(sizes) -> int:
    n = 1
    for x in sizes:
        n *= x
    return n


def tensordot(a: Tensor, b: Tensor, dims=2, out: Tensor | None = None) -> Tensor:
    """Contract the last ``dims`` dims of ``a`` with the first of ``b``, or the dims listed in ``dims=(da, db)``."""
    _tensor(a, "tensordot", "a")
    _tensor(b, "tensordot", "b")
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > min(a.ndim, b.ndim):
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        da, db = dims
        da = [da] if isinstance(da, int) else list(da)
        db = [db] if isinstance(db, int) else list(db)
        if len(da) != len(db):
            raise RuntimeError(f"both dimension lists should have same length, got {da} and {db}")
        da = list(canon_dims(da, a.ndim, "tensordot"))
        db = list(canon_dims(db, b.ndim, "tensordot"))
    for i, j in zip(da, db):
        if a.shape[i] != b.shape[j]:
            raise RuntimeError(f"tensordot: contracted dimensions need to match, but first has size {a.shape[i]} in "
                               f"dim {i} and second has size {b.shape[j]} in dim {j}")
    free_a = [i for i in range(a.ndim) if i not in da]
    free_b = [j for j in range(b.ndim) if j not in db]
    k = _prod(a.shape[i] for i in da)
    pa = a.permute(free_a + da).reshape(_prod(a.shape[i] for i in free_a), k)
    pb = b.permute(db + free_b).reshape(k, _prod(b.shape[j] for j in free_b))
    r = matmul(pa, pb).reshape(tuple(a.shape[i] for i in free_a) + tuple(b.shape[j] for j in free_b))
    return r if out is None else write_out(r, out, "tensordot")


_ELLIPSIS_BASE = 0x2460  # private label characters for the dims '...' stands for


def _einsum_parse(equation: str, shapes: list) -> tuple:
    """(input label strings, output label string) with '...' spelled out as one private label per dim."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise RuntimeError(f"einsum(): {len(terms)} operands specified in the equation {equation!r} but "
                           f"{len(shapes)} were given")
    n_ell = 0
    for i, (t, shape) in enumerate(zip(terms, shapes)):
        core = t.replace("...", "", 1)
        bad = [c for c in core if not c.isalpha()]
        if bad:
            raise RuntimeError(f"einsum(): invalid subscript given in equation {equation!r}: {bad[0]!r}")
        if "..." in t:
            if len(core) > len(shape):
                raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(core)}) is more than "
                                   f"the number of dimensions ({len(shape)}) for operand {i}")
            n_ell = max(n_ell, len(shape) - len(core))
        elif len(core) != len(shape):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(core)}) does not match the "
                               f"number of dimensions ({len(shape)}) for operand {i} and no ellipsis was given")
    ell = "".join(chr(_ELLIPSIS_BASE + i) for i in range(n_ell))
    # ellipsis dims are right-aligned across operands, like broadcasting
    ins = [t.replace("...", ell[n_ell - (len(shape) - len(t) + 3):] if len(shape) - len(t) + 3 else "")
           for t, shape in zip(terms, shapes)]
    if arrow:
        out = rhs.replace("...", ell)
        for c in out:
            if c not in ell and not c.isalpha():
                raise RuntimeError(f"einsum(): invalid subscript given in equation {equation!r}: {c!r}")
            if not any(c in t for t in ins):
                raise RuntimeError(f"einsum(): output subscript {c} does not appear in the equation for any input "
                                   "operand")
        if len(set(out)) != len(out):
            raise RuntimeError(f"einsum(): output subscript appears more than once in the output of {equation!r}")
    else:
        counts = {}
        for t in ins:
            for c in t:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    return ins, out


def _einsum_diagonal(x: Tensor, labels: str) -> tuple:
    """Take the diagonal over repeated labels (``'ii'``): multiply by an identity mask and sum one copy away."""
    while True:
        seen = {}
        pair = None
        for i, c in enumerate(labels):
            if c in seen:
                pair = (seen[c], i)
                break
            seen[c] = i
        if pair is None:
            return x, labels
        i, j = pair
        n = x.shape[i]
        if x.shape[j] != n:
            raise RuntimeError(f"einsum(): subscript {labels[i]} is repeated for operand but the sizes don't match, "
                               f"{n} != {x.shape[j]}")
        shape = [1] * x.ndim
        shape[i] = shape[j] = n
        mask = Tensor._make(np.eye(n, dtype=x._dtype.np).reshape(shape))
        x = (x * mask).sum(j)
        labels = labels[:j] + labels[j + 1:]


def _einsum_pair(x: Tensor, lx: str, y: Tensor, ly: str, keep: set) -> tuple:
    """Contract two labelled operands with one batched matmul; ``keep`` = labels still needed afterwards."""
    batch = [c for c in lx if c in ly and c in keep]
    contract = [c for c in lx if c in ly and c not in keep]
    left = [c for c in lx if c not in ly]
    right = [c for c in ly if c not in lx]
    size = {}
    for t, l in ((x, lx), (y, ly)):
        for c, s in zip(l, t.shape):
            if size.get(c, 1) == 1:
                size[c] = s
            elif s != 1 and s != size[c]:
                raise RuntimeError(f"einsum(): operands do not broadcast with remapped shapes: subscript {c} has size "
                                   f"{size[c]} and {s}")

    def arrange(t, labels, order):
        t = t.permute([labels.index(c) for c in order])
        full = tuple(size[c] for c in order)
        return t.expand(full) if tuple(t.shape) != full else t

    xb = arrange(x, lx, batch + left + contract)
    yb = arrange(y, ly, batch + contract + right)
    nb, nl = _prod(size[c] for c in batch), _prod(size[c] for c in left)
    nc, nr = _prod(size[c] for c in contract), _prod(size[c] for c in right)
    r = matmul(xb.reshape(nb, nl, nc), yb.reshape(nb, nc, nr))
    labels = batch + left + right
    return r.reshape(tuple(size[c] for c in labels)), "".join(labels)


def einsum(equation: str, *operands) -> Tensor:
    """Einstein summation (``'ij,jk->ik'``, ``'bij->bji'``, ``'ii->'``, ``'...ij,...jk'`` ...).

    Operands are contracted left to right with batched matmuls, labels no later operand or the
    output needs are summed as early as possible, and size-1 dims broadcast.
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not isinstance(equation, str):
        raise TypeError(f"einsum(): the equation must be a str, not {type(equation).__name__}")
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    for i, t in enumerate(operands):
        _tensor(t, "einsum", f"operands[{i}]")
    ins, out = _einsum_parse(equation, [t.shape for t in operands])
    items = [_einsum_diagonal(t, l) for t, l in zip(operands, ins)]

    def needed(k: int) -> set:
        """Labels used by operands after index k, or by the output."""
        s = set(out)
        for _, l in items[k + 1:]:
            s.update(l)
        return s

    def sum_unused(t, labels, keep):
        drop = [i for i, c in enumerate(labels) if c not in keep]
        if not drop:
            return t, labels
        return t.sum(tuple(drop)), "".join(c for c in labels if c in keep)

    x, lx = items[0]
    for k in range(1, len(items)):
        y, ly = items[k]
        later = needed(k)
        x, lx = sum_unused(x, lx, later | set(ly))
        y, ly = sum_unused(y, ly, later | set(lx))
        x, lx = _einsum_pair(x, lx, y, ly, later)
    x, lx = sum_unused(x, lx, set(out))
    if lx != out:
        x = x.permute([lx.index(c) for c in out])
    return x


# ---------------------------------------------------------------- method forms (bound by eager/methods.py)
METHODS = [
    "matmul", "mm", "bmm", "mv", "addmm", "addmv", "addr", "baddbmm", "addbmm", "dot", "vdot", "inner", "outer",
    "ger", "det", "logdet", "slogdet", "inverse", "svd", "cholesky", "qr", "matrix_power", "pinverse",
]
INPLACE = ["addmm", "addmv", "addr", "baddbmm", "addbmm"]
