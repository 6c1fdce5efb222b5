"""``gc.linalg``: torch.linalg's names for graphc's linear algebra.

    >>> A = gc.tensor([[2.0, 0.0], [0.0, 4.0]])
    >>> gc.linalg.det(A), gc.linalg.inv(A), gc.linalg.solve(A, gc.tensor([2.0, 4.0]))
"""
from __future__ import annotations

from .eager.functions.linalg import (  # noqa: F401
    LinAlgError, det, inv, linalg_cholesky as cholesky, linalg_qr as qr, linalg_svd as svd, matmul, matrix_norm,
    matrix_power, multi_dot, norm, pinv, slogdet, solve, svdvals, vecdot, vector_norm,
)

__all__ = [
    "LinAlgError", "cholesky", "det", "inv", "matmul", "matrix_norm", "matrix_power", "multi_dot", "norm", "pinv",
    "qr", "slogdet", "solve", "svd", "svdvals", "vecdot", "vector_norm",
]
