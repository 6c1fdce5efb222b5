"""Linear-algebra primitives: matmul, inverse, determinants, solve, SVD, Cholesky, QR, vector norms.

Kernels run numpy/LAPACK on inputs of one dtype (``promote=None``: torch
refuses mixed dtypes here instead of promoting).  Gradient rules are written
with tensor methods only (``matmul``, ``transpose``, ``inverse`` ...), so they
build backward graphs eagerly and symbolically alike.

Torch raises :class:`LinAlgError` (a RuntimeError) when a factorization fails;
so do these kernels, naming the op and the failing batch element.
"""
from __future__ import annotations

import math

import numpy as np

from .. import dtypes as _dt
from .grad_utils import sum_to_shape
from .pointwise import broadcast_shapes
from .reduction import expand_reduced, reduced_shape
from .registry import quiet, Spec, op_error, register

__all__ = ["LinAlgError", "matmul_shape"]


class LinAlgError(RuntimeError):
    """A matrix factorization failed (singular or not positive-definite input), like torch.linalg.LinAlgError."""


_BY_NP = _dt._BY_NP


# ----------------------------------------------------------------------------- shared checks
def _dim_str(shape) -> str:
    return "x".join("?" if s is None else str(s) for s in shape)


def _same(a, b) -> bool:
    # symbolic sizes (None) match anything
    return a is None or b is None or a == b


def check_linalg_dtype(dt: _dt.DType, op: str) -> None:
    """Torch's LAPACK ops take float32/float64 only."""
    if not dt.is_floating_point:
        raise op_error(RuntimeError, f"{op}: Expected a floating point or complex tensor as input. Got {dt.name}")
    if dt is _dt.float16:
        raise op_error(RuntimeError, f"{op}: Low precision dtypes not supported. Got {dt.name}")


def check_square(shape, op: str, name: str = "A") -> None:
    """``shape`` is a batch of square matrices."""
    if len(shape) < 2:
        raise op_error(RuntimeError, f"{op}: The input tensor {name} must have at least 2 dimensions.")
    if not _same(shape[-1], shape[-2]):
        raise op_error(RuntimeError, f"{op}: {name} must be batches of square matrices, but they are "
                                     f"{shape[-2]} by {shape[-1]} matrices")


def _check_square_float(shape, dt, op: str) -> None:
    check_square(shape, op)
    check_linalg_dtype(dt, op)


def _failing_batch(a: np.ndarray, fn) -> str:
    """'(Batch element i): ' for the first matrix of ``a`` that ``fn`` fails on ('' for a single matrix)."""
    if a.ndim == 2:
        return ""
    flat = a.reshape((-1,) + a.shape[-2:])
    for i, m in enumerate(flat):
        try:
            fn(m)
        except np.linalg.LinAlgError:
            return f"(Batch element {i}): "
    return ""


def _t(x):
    """Swap the last two dims of a tensor (gradient rules run on tensors, eager or symbolic)."""
    return x.transpose(-2, -1)


def _unsq2(x):
    """Append two size-1 dims, so a per-matrix value broadcasts over its matrix."""
    return x.unsqueeze(-1).unsqueeze(-1)


# ----------------------------------------------------------------------------- matmul
def matmul_shape(sa: tuple, sb: tuple) -> tuple:
    """The shape of ``matmul`` of operands with shapes ``sa`` and ``sb`` (torch's rank rules, batch broadcasting)."""
    if len(sa) == 0 or len(sb) == 0:
        raise op_error(RuntimeError, f"both arguments to matmul need to be at least 1D, but they are "
                                     f"{len(sa)}D and {len(sb)}D")
    a2 = (1,) + tuple(sa) if len(sa) == 1 else tuple(sa)
    b2 = tuple(sb) + (1,) if len(sb) == 1 else tuple(sb)
    if not _same(a2[-1], b2[-2]):
        if len(sa) == 1 and len(sb) == 1:
            raise op_error(RuntimeError, f"inconsistent tensor size, expected tensor [{sa[0]}] and src [{sb[0]}] to "
                                         f"have the same number of elements, but got {sa[0]} and {sb[0]} elements respectively")
        raise op_error(RuntimeError, f"mat1 and mat2 shapes cannot be multiplied ({_dim_str(a2[-2:])} and "
                                     f"{_dim_str(b2[-2:])}): matmul of shapes {tuple(sa)} and {tuple(sb)}")
    batch = broadcast_shapes(a2[:-2], b2[:-2])
    out = batch
    if len(sa) > 1:
        out = out + (a2[-2],)
    if len(sb) > 1:
        out = out + (b2[-1],)
    return out


def _check_matmul_dtypes(da, db) -> None:
    if da is not db:
        raise op_error(RuntimeError, f"expected m1 and m2 to have the same dtype, but got: {da.name} != {db.name}")
    if da is _dt.bool:
        raise op_error(NotImplementedError, "matmul: \"addmm_impl_cpu_\" not implemented for 'Bool'")


def _matmul(a, b):
    if a.dtype != b.dtype or a.dtype == np.bool_:
        _check_matmul_dtypes(_BY_NP[a.dtype], _BY_NP[b.dtype])
    if a.ndim == 0 or b.ndim == 0:
        matmul_shape(a.shape, b.shape)
    try:
        return np.matmul(a, b)
    except ValueError:
        matmul_shape(a.shape, b.shape)  # raises the torch-style message
        raise


def _matmul_infer(a, b):
    _check_matmul_dtypes(a.dtype, b.dtype)
    return Spec(matmul_shape(a.shape, b.shape), a.dtype)


def _matmul_grad(ctx, g):
    a, b = ctx.inputs
    # lift vectors to matrices (a row, b a column) so one batched formula covers every rank case
    a1 = a.unsqueeze(0) if a.ndim == 1 else a
    b1 = b.unsqueeze(-1) if b.ndim == 1 else b
    if b.ndim == 1:
        g = g.unsqueeze(-1)
    if a.ndim == 1:
        g = g.unsqueeze(-2)
    ga = gb = None
    if ctx.needs_input_grad[0]:
        ga = sum_to_shape(g.matmul(_t(b1)), a1.shape)
        if a.ndim == 1:
            ga = ga.reshape(a.shape)
    if ctx.needs_input_grad[1]:
        gb = sum_to_shape(_t(a1).matmul(g), b1.shape)
        if b.ndim == 1:
            gb = gb.reshape(b.shape)
    return ga, gb


register("matmul", "matmul", kernel=_matmul, infer=_matmul_infer, grad=_matmul_grad, promote=None,
         saves="inputs", extra={"backward_name": "MmBackward0"})


# ----------------------------------------------------------------------------- inverse and determinants
def _inv(a):
    _check_square_float(a.shape, _BY_NP[a.dtype], "linalg.inv")
    try:
        return np.linalg.inv(a)
    except np.linalg.LinAlgError:
        where = _failing_batch(a, np.linalg.inv)
        raise op_error(LinAlgError, f"linalg.inv: {where}The input matrix is singular, so the inversion could not be "
                                    f"completed (input shape {list(a.shape)}).") from None


def _square_infer(s):
    _check_square_float(s.shape, s.dtype, "linalg.inv")
    return Spec(tuple(s.shape), s.dtype)


def _inv_grad(ctx, g):
    # d(A^-1) = -A^-1 dA A^-1, so gA = -A^-T g A^-T
    inv_t = _t(ctx.output)
    return (-(inv_t.matmul(g).matmul(inv_t)),)


register("linalg_inv", "opaque", kernel=_inv, infer=_square_infer, grad=_inv_grad, saves="output",
         extra={"backward_name": "LinalgInvExBackward0"})


def _det(a):
    _check_square_float(a.shape, _BY_NP[a.dtype], "linalg.det")
    return np.asarray(np.linalg.det(a), dtype=a.dtype)


def _det_infer(s):
    _check_square_float(s.shape, s.dtype, "linalg.det")
    return Spec(tuple(s.shape[:-2]), s.dtype)


def _det_grad(ctx, g):
    # d det(A) / dA = det(A) A^-T (Jacobi's formula).  Where det is exactly 0 torch's gradient is 0:
    # there the inverse is taken of the identity instead (no LinAlgError) and scaled by det = 0
    a, det = ctx.inputs[0], ctx.output
    singular = _unsq2(det == 0)
    safe = a.where(singular.logical_not(), a.new_ones(a.shape[-1]).diag())
    return (_unsq2(g * det) * _t(safe.inverse()),)


register("linalg_det", "opaque", kernel=_det, infer=_det_infer, grad=_det_grad, saves="both")


def _slogdet(a):
    _check_square_float(a.shape, _BY_NP[a.dtype], "linalg.slogdet")
    sign, logabs = np.linalg.slogdet(a)
    return np.asarray(sign, dtype=a.dtype), np.asarray(logabs, dtype=a.dtype)


def _slogdet_infer(s):
    _check_square_float(s.shape, s.dtype, "linalg.slogdet")
    out = Spec(tuple(s.shape[:-2]), s.dtype)
    return out, out


def _slogdet_grad(ctx, g_sign, g_logabs):
    return (_unsq2(g_logabs) * _t(ctx.inputs[0].inverse()),)


register("linalg_slogdet", "opaque", kernel=_slogdet, infer=_slogdet_infer, grad=_slogdet_grad, saves="inputs",
         num_outputs=2, nondiff_outputs=(0,))


# ----------------------------------------------------------------------------- solve
def solve_shape(sa: tuple, sb: tuple, dta, dtb) -> tuple:
    """The shape of X in A X = B for A (*, n, n) and B (*, n, k) (batch dims broadcast)."""
    _check_square_float(sa, dta, "linalg.solve")
    if dta is not dtb:
        raise op_error(RuntimeError, f"linalg.solve: Expected A and B to have the same dtype, but found A of type "
                                     f"{dta.name} and B of type {dtb.name} instead")
    if len(sb) < 2 or not _same(sb[-2], sa[-1]):
        raise op_error(RuntimeError, f"linalg.solve: Incompatible shapes of A and B for the equation AX = B "
                                     f"({_dim_str(sa[-2:])} and {_dim_str(sb[-2:])})")
    return broadcast_shapes(sa[:-2], sb[:-2]) + (sa[-2], sb[-1])


def _solve(a, b):
    solve_shape(a.shape, b.shape, _BY_NP[a.dtype], _BY_NP[b.dtype])
    try:
        return np.linalg.solve(a, b)
    except np.linalg.LinAlgError:
        raise op_error(LinAlgError, f"linalg.solve: The solver failed because the input matrix is singular "
                                    f"(A of shape {list(a.shape)}).") from None


def _solve_infer(a, b):
    return Spec(solve_shape(a.shape, b.shape, a.dtype, b.dtype), a.dtype)


def _solve_grad(ctx, g):
    a, b = ctx.inputs
    x = ctx.output
    # gB = A^-T g, gA = -gB X^T
    gb = _t(a.inverse()).matmul(g)
    ga = sum_to_shape(-(gb.matmul(_t(x))), a.shape) if ctx.needs_input_grad[0] else None
    return ga, (sum_to_shape(gb, b.shape) if ctx.needs_input_grad[1] else None)


register("linalg_solve", "opaque", kernel=_solve, infer=_solve_infer, grad=_solve_grad, saves="both")


# ----------------------------------------------------------------------------- SVD
def _check_matrix_float(shape, dt, op: str) -> None:
    if len(shape) < 2:
        raise op_error(RuntimeError, f"{op}: The input tensor A must have at least 2 dimensions.")
    check_linalg_dtype(dt, op)


def _min_size(m, n):
    return None if m is None or n is None else min(m, n)


def _svd(a, full_matrices: bool = True):
    _check_matrix_float(a.shape, _BY_NP[a.dtype], "linalg.svd")
    try:
        u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
    except np.linalg.LinAlgError:
        raise op_error(LinAlgError, f"linalg.svd: The algorithm failed to converge because the input matrix is "
                                    f"ill-conditioned or has too many repeated singular values "
                                    f"(input shape {list(a.shape)}).") from None
    return u, s, vh


def _svd_infer(s, full_matrices: bool = True):
    _check_matrix_float(s.shape, s.dtype, "linalg.svd")
    *batch, m, n = s.shape
    batch = tuple(batch)
    k = _min_size(m, n)
    u = batch + ((m, m) if full_matrices else (m, k))
    vh = batch + ((n, n) if full_matrices else (k, n))
    return Spec(u, s.dtype), Spec(batch + (k,), s.dtype), Spec(vh, s.dtype)


def _svd_grad(ctx, gu, gs, gvh):
    """Townsend's formula for a real SVD with distinct singular values.

    gA = U [F o (U^T gU - gU^T U) S + diag(gS) + S F o (V^T gV - gV^T V)] V^T
         + (I - U U^T) gU S^-1 V^T + U S^-1 gV^T (I - V V^T),   F_ij = 1 / (s_j^2 - s_i^2)
    """
    a = ctx.inputs[0]
    u, s, vh = ctx.outputs
    m, n = a.shape[-2], a.shape[-1]
    k = _min_size(m, n)
    if ctx.attrs.get("full_matrices", True) and m != n:
        # the columns past k are not unique: torch ignores their gradients too
        u, gu = u.narrow(-1, 0, k), gu.narrow(-1, 0, k)
        vh, gvh = vh.narrow(-2, 0, k), gvh.narrow(-2, 0, k)
    v, gv = _t(vh), _t(gvh)
    s_row = s.unsqueeze(-2)  # scales columns
    s_col = s.unsqueeze(-1)  # scales rows
    s2 = s * s
    e = s2.unsqueeze(-2) - s2.unsqueeze(-1)
    # zero on the diagonal (and for repeated values, where the gradient is undefined) without 0 * inf
    nonzero = e != 0
    f = (1 / (e + e.eq(0))) * nonzero
    utgu = _t(u).matmul(gu)
    vtgv = _t(v).matmul(gv)
    core = (f * (utgu - _t(utgu))) * s_row + s_col * (f * (vtgv - _t(vtgv)))
    # U diag(gS) V^T is U scaled column-wise by gS
    ga = (u.matmul(core) + u * gs.unsqueeze(-2)).matmul(vh)
    if m is None or m > k:
        ga = ga + ((gu - u.matmul(utgu)) / s_row).matmul(vh)
    if n is None or n > k:
        ga = ga + u.matmul(_t((gv - v.matmul(vtgv)) / s_row))
    return (ga,)


register("linalg_svd", "opaque", kernel=_svd, infer=_svd_infer, grad=_svd_grad, saves="both", num_outputs=3)


def _svdvals(a):
    _check_matrix_float(a.shape, _BY_NP[a.dtype], "linalg.svdvals")
    try:
        return np.linalg.svd(a, compute_uv=False)
    except np.linalg.LinAlgError:
        raise op_error(LinAlgError, f"linalg.svdvals: The algorithm failed to converge (input shape "
                                    f"{list(a.shape)}).") from None


def _svdvals_infer(s):
    _check_matrix_float(s.shape, s.dtype, "linalg.svdvals")
    return Spec(tuple(s.shape[:-2]) + (_min_size(s.shape[-2], s.shape[-1]),), s.dtype)


def _svdvals_grad(ctx, g):
    # only the values are needed: gA = U diag(gS) V^T, well defined even for repeated or zero values
    u, _, v = ctx.inputs[0].svd()
    return ((u * g.unsqueeze(-2)).matmul(_t(v)),)


register("linalg_svdvals", "opaque", kernel=_svdvals, infer=_svdvals_infer, grad=_svdvals_grad, saves="inputs")


# ----------------------------------------------------------------------------- vector norm
def _norm_reduce(ax, ord, dim, keepdim):
    if ord == 2:
        return np.sqrt(np.sum(ax * ax, axis=dim, keepdims=keepdim))
    if ord == 1:
        return np.sum(ax, axis=dim, keepdims=keepdim)
    if ord == math.inf or ord == -math.inf:
        if any(ax.shape[d] == 0 for d in dim):
            raise op_error(RuntimeError, f"linalg.vector_norm cannot compute the {ord} norm on an empty tensor because "
                                         "the operation does not have an identity")
        fn = np.max if ord > 0 else np.min
        return fn(ax, axis=dim, keepdims=keepdim)
    if ord == 0:
        return np.sum(ax != 0, axis=dim, keepdims=keepdim).astype(ax.dtype)
    return np.power(np.sum(np.power(ax, ord), axis=dim, keepdims=keepdim), 1.0 / ord)


def _vector_norm(x, ord=2.0, dim=(), keepdim: bool = False):
    check_vector_norm_dtype(_BY_NP[x.dtype])
    with quiet():
        r = _norm_reduce(np.abs(x), ord, dim, keepdim)
    return np.asarray(r, dtype=x.dtype)


def check_vector_norm_dtype(dt) -> None:
    if not dt.is_floating_point:
        raise op_error(RuntimeError, f"linalg.vector_norm: Expected a floating point or complex tensor as input. "
                                     f"Got {dt.name}")


def _vector_norm_infer(s, ord=2.0, dim=(), keepdim: bool = False):
    check_vector_norm_dtype(s.dtype)
    return Spec(reduced_shape(s.shape, dim, keepdim), s.dtype)


def _vector_norm_grad(ctx, g):
    x = ctx.inputs[0]
    ord, dim, keepdim = ctx.attrs.get("ord", 2.0), ctx.attrs["dim"], ctx.attrs.get("keepdim", False)
    if ord == 0:
        return (x.new_zeros(x.shape),)
    shape = x.shape
    g = expand_reduced(g, shape, dim, keepdim)
    if ord == 1:
        return (g * x.sign(),)
    n = expand_reduced(ctx.output, shape, dim, keepdim)
    n_ok = n != 0
    n_safe = n.where(n_ok, 1.0)  # a zero norm has a zero (sub)gradient, as in torch
    if ord == 2:
        return (g * x / n_safe,)
    ax = x.abs()
    if ord == math.inf or ord == -math.inf:
        # ties share the gradient evenly, like amax/amin
        hit = ax.eq(n)
        count = expand_reduced(hit.sum(dim=dim, keepdim=True), shape, dim, True)
        return (g * x.sign() * hit / count,)
    # d/dx (sum |x|^p)^(1/p) = sign(x) |x|^(p-1) / norm^(p-1); zero entries get 0
    ax_safe = ax.where(ax != 0, 1.0)
    return (g * x.sign() * ax_safe.pow(ord - 1) / n_safe.pow(ord - 1) * n_ok,)


register("linalg_vector_norm", "reduction", kernel=_vector_norm, infer=_vector_norm_infer, grad=_vector_norm_grad,
         saves="both")


# ----------------------------------------------------------------------------- Cholesky and QR
def _cholesky(a, upper: bool = False):
    _check_square_float(a.shape, _BY_NP[a.dtype], "linalg.cholesky")
    try:
        low = np.linalg.cholesky(a)
    except np.linalg.LinAlgError:
        where = _failing_batch(a, np.linalg.cholesky)
        raise op_error(LinAlgError, f"linalg.cholesky: {where}The factorization could not be completed because the "
                                    f"input is not positive-definite (input shape {list(a.shape)}).") from None
    return np.ascontiguousarray(np.swapaxes(low, -1, -2)) if upper else low


def _cholesky_infer(s, upper: bool = False):
    _check_square_float(s.shape, s.dtype, "linalg.cholesky")
    return Spec(tuple(s.shape), s.dtype)


def _phi(x):
    """Lower triangle of ``x`` with the diagonal halved."""
    return (x.tril() + x.tril(-1)) * 0.5


def _cholesky_grad(ctx, g):
    # A = L L^T: gA = sym(L^-T phi(L^T gL) L^-1), with sym(X) = (X + X^T) / 2
    low = ctx.output
    if ctx.attrs.get("upper", False):
        low, g = _t(low), _t(g)
    linv = low.inverse()
    ga = _t(linv).matmul(_phi(_t(low).matmul(g))).matmul(linv)
    return ((ga + _t(ga)) * 0.5,)


register("linalg_cholesky", "opaque", kernel=_cholesky, infer=_cholesky_infer, grad=_cholesky_grad, saves="output")


def _qr(a, mode: str = "reduced"):
    _check_matrix_float(a.shape, _BY_NP[a.dtype], "linalg.qr")
    q, r = np.linalg.qr(a, mode="complete" if mode == "complete" else "reduced")
    if mode == "r":
        return np.zeros((0,), a.dtype), r
    return q, r


def _qr_infer(s, mode: str = "reduced"):
    _check_matrix_float(s.shape, s.dtype, "linalg.qr")
    *batch, m, n = s.shape
    batch = tuple(batch)
    k = m if mode == "complete" else _min_size(m, n)
    q = (0,) if mode == "r" else batch + (m, k)
    return Spec(q, s.dtype), Spec(batch + (k, n), s.dtype)


def _copyltu(x):
    """tril(x) + tril(x, -1)^T: the symmetric matrix with x's lower triangle."""
    return x.tril() + _t(x.tril(-1))


def _qr_grad(ctx, gq, gr):
    """Reduced QR of a tall or square A (m >= n): gA = (gQ + Q copyltu(M)) R^-T, M = R gR^T - gQ^T Q."""
    a = ctx.inputs[0]
    q, r = ctx.outputs
    m, n = a.shape[-2], a.shape[-1]
    mode = ctx.attrs.get("mode", "reduced")
    if mode == "r":
        raise RuntimeError("linalg.qr: The derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
                           "Please use linalg.qr(A, mode='reduced') if you are going to differentiate through linalg.qr.")
    if m is not None and n is not None and m < n:
        raise RuntimeError("linalg.qr: the derivative is implemented only for inputs with at least as many rows as "
                           f"columns (got {m} by {n})")
    if mode == "complete" and m != n:
        raise RuntimeError("linalg.qr: The QR decomposition is not differentiable when mode='complete' and "
                           "nrows > ncols.")
    mm = r.matmul(_t(gr)) - _t(gq).matmul(q)
    b = gq + q.matmul(_copyltu(mm))
    return (b.matmul(_t(r.inverse())),)


register("linalg_qr", "opaque", kernel=_qr, infer=_qr_infer, grad=_qr_grad, saves="both", num_outputs=2)
