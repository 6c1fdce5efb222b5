"""Static gradients equal eager gradients for EVERY differentiable registry op.

One case per op (the coverage test fails when a new differentiable op has no case),
each run through ``gc.static.grad`` under both backends and compared with eager ``.grad``.
"""
import pytest

import graphc as gc
import graphc.nn.functional as F
from graphc.ops import REGISTRY
from test_static_grad import _compare

P = {"positive": True}
I = gc.tensor
# op name -> (function of the inputs, input shapes, options for _compare)
CASES = {
    "abs": (lambda a: a.abs(), [(3, 4)], {}),
    "acos": (lambda a: (a * 0.5).acos(), [(5,)], {}),
    "add": (lambda a, b: a + b, [(3, 1), (4,)], {}),
    "amax": (lambda a: a.amax(1), [(3, 4)], {}),
    "amin": (lambda a: a.amin(0, keepdim=True), [(3, 4)], {}),
    "asin": (lambda a: (a * 0.5).asin(), [(5,)], {}),
    "atan": (lambda a: a.atan(), [(5,)], {}),
    "atan2": (lambda a, b: gc.atan2(a, b), [(4,), (4,)], P),
    "basic_index": (lambda a: a[1:, ::2], [(3, 4)], {}),
    "cast": (lambda a: a.float().double() * 2, [(3,)], {}),
    "cat": (lambda a, b: gc.cat([a, b], 1), [(2, 3), (2, 1)], {}),
    "ceil": (lambda a: a.ceil() + a, [(4,)], {}),
    "clamp": (lambda a: a.clamp(-0.3, 0.4), [(6,)], {}),
    "clone": (lambda a: a.clone(), [(2, 2)], {}),
    "cond": (lambda a, b: gc.static.cond(a.sum() > b.sum(), lambda a, b: a * b, lambda a, b: a.exp() - b, a, b),
             [(3, 4), (4,)], {}),
    "cos": (lambda a: a.cos(), [(5,)], {}),
    "cosh": (lambda a: a.cosh(), [(5,)], {}),
    "cumprod": (lambda a: a.cumprod(1), [(2, 4)], {}),
    "cumsum": (lambda a: a.cumsum(0), [(3, 2)], {}),
    "diagonal": (lambda a: a.diagonal(), [(3, 3)], {}),
    "div": (lambda a, b: a / b, [(3,), (3,)], P),
    "erf": (lambda a: a.erf(), [(5,)], {}),
    "erfc": (lambda a: a.erfc(), [(5,)], {}),
    "erfinv": (lambda a: (a * 0.5).erfinv(), [(5,)], {}),
    "exp": (lambda a: a.exp(), [(5,)], {}),
    "exp2": (lambda a: a.exp2(), [(5,)], {}),
    "expand": (lambda a: a.expand(3, 4), [(1, 4)], {}),
    "expm1": (lambda a: a.expm1(), [(5,)], {}),
    "flip": (lambda a: a.flip(0), [(3, 2)], {}),
    "floor": (lambda a: a.floor() + a, [(4,)], {}),
    "floor_divide": (lambda a: gc.floor_divide(a, 0.3) + a, [(4,)], {}),
    "fmod": (lambda a, b: gc.fmod(a, b), [(4,), (4,)], P),
    "frac": (lambda a: a.frac(), [(4,)], {}),
    "gather": (lambda a: a.gather(1, I([[0, 0], [2, 1]])), [(2, 3)], {}),
    "gelu": (lambda a: F.gelu(a) + F.gelu(a, approximate="tanh"), [(5,)], {}),
    "index": (lambda a: a[I([0, 2, 2])], [(3, 4)], {}),
    "index_put": (lambda a, b: a.index_put((I([0, 0]),), b, accumulate=True), [(3,), (2,)], {}),
    "kthvalue": (lambda a: a.kthvalue(2, 1).values, [(3, 4)], {}),
    "cummax": (lambda a: a.cummax(1).values, [(3, 4)], {}),
    "cummin": (lambda a: a.cummin(0).values, [(3, 4)], {}),
    "linalg_cholesky": (lambda a: gc.linalg.cholesky(a @ a.mT + gc.eye(3, dtype=gc.float64)), [(3, 3)], {"rtol": 1e-10}),
    "linalg_det": (lambda a: gc.linalg.det(a + 2 * gc.eye(3, dtype=gc.float64)), [(3, 3)], {"rtol": 1e-10}),
    "linalg_inv": (lambda a: gc.linalg.inv(a + 2 * gc.eye(3, dtype=gc.float64)), [(3, 3)], {"rtol": 1e-10}),
    "linalg_qr": (lambda a: gc.linalg.qr(a)[1], [(4, 3)], {"rtol": 1e-10}),
    "linalg_slogdet": (lambda a: gc.linalg.slogdet(a + 2 * gc.eye(3, dtype=gc.float64))[1], [(3, 3)], {"rtol": 1e-10}),
    "linalg_solve": (lambda a, b: gc.linalg.solve(a + 2 * gc.eye(3, dtype=gc.float64), b), [(3, 3), (3, 2)],
                     {"rtol": 1e-10}),
    "linalg_svd": (lambda a: gc.linalg.svd(a, full_matrices=False)[1], [(4, 3)], {"rtol": 1e-10}),
    "linalg_svdvals": (lambda a: gc.linalg.svdvals(a), [(3, 4)], {"rtol": 1e-10}),
    "linalg_vector_norm": (lambda a: gc.linalg.vector_norm(a, 3, dim=1), [(3, 4)], {"rtol": 1e-12}),
    "log": (lambda a: a.log(), [(5,)], P),
    "log10": (lambda a: a.log10(), [(5,)], P),
    "log1p": (lambda a: a.log1p(), [(5,)], P),
    "log2": (lambda a: a.log2(), [(5,)], P),
    "logsumexp": (lambda a: a.logsumexp(1), [(3, 4)], {}),
    "matmul": (lambda a, b: a @ b, [(2, 3, 4), (4, 2)], {}),
    "max_dim": (lambda a: a.max(1).values, [(3, 4)], {}),
    "maximum": (lambda a, b: gc.maximum(a, b), [(4,), (4,)], {}),
    "median": (lambda a: a.median(), [(5,)], {}),
    "median_dim": (lambda a: a.median(1).values, [(3, 5)], {}),
    "min_dim": (lambda a: a.min(0).values, [(3, 4)], {}),
    "minimum": (lambda a, b: gc.minimum(a, b), [(4,), (4,)], {}),
    "mul": (lambda a, b: a * b, [(2, 3), (3,)], {}),
    "neg": (lambda a: -a, [(3,)], {}),
    "permute": (lambda a: a.permute(2, 0, 1), [(2, 3, 4)], {}),
    "pow": (lambda a, b: a ** b + a ** 2, [(4,), (4,)], P),
    "prod": (lambda a: a.prod(0), [(3, 2)], {}),
    "reciprocal": (lambda a: a.reciprocal(), [(4,)], P),
    "relu": (lambda a: a.relu(), [(6,)], {}),
    # relu's gradient rule, reached by differentiating a gradient: d/da of sum(relu(a) * b)'s grad
    "threshold_backward": (lambda a, b: a._threshold_backward(b.relu(), 0) * b, [(6,), (6,)], {}),
    "remainder": (lambda a, b: gc.remainder(a, b), [(4,), (4,)], P),
    "reshape": (lambda a: a.t().reshape(12), [(3, 4)], {}),
    "round": (lambda a: a.round() + a, [(4,)], {}),
    "rsqrt": (lambda a: a.rsqrt(), [(4,)], P),
    "scatter": (lambda a, b: a.scatter(1, I([[0, 2], [1, 0]]), b), [(2, 3), (2, 2)], {}),
    "scatter_add": (lambda a, b: a.scatter_add(1, I([[0, 0], [1, 2]]), b), [(2, 3), (2, 2)], {}),
    "scatter_reduce": (lambda a, b: a.scatter_reduce(1, I([[0, 0], [1, 2]]), b, "sum"), [(2, 3), (2, 2)], {}),
    "sigmoid": (lambda a: a.sigmoid(), [(5,)], {}),
    "sign": (lambda a: a.sign() + a, [(4,)], {}),
    "sin": (lambda a: a.sin(), [(5,)], {}),
    "sinh": (lambda a: a.sinh(), [(5,)], {}),
    "sort": (lambda a: a.sort(1).values, [(3, 4)], {}),
    "sqrt": (lambda a: a.sqrt(), [(4,)], P),
    "check_values": (lambda a: gc.nn.functional.binary_cross_entropy(a.sigmoid(), a.detach().sigmoid()),
                     [(4,)], {}),
    "square": (lambda a: a.square(), [(4,)], {}),
    "sub": (lambda a, b: a - b, [(3, 4), (1, 4)], {}),
    "sum": (lambda a: a.sum(1, keepdim=True), [(3, 4)], {}),
    "tan": (lambda a: a.tan(), [(5,)], {}),
    "tanh": (lambda a: a.tanh(), [(5,)], {}),
    "topk": (lambda a: a.topk(2, 1).values, [(3, 4)], {}),
    "tril": (lambda a: a.tril(), [(3, 3)], {}),
    "triu": (lambda a: a.triu(1), [(3, 3)], {}),
    "trunc": (lambda a: a.trunc() + a, [(4,)], {}),
    "view": (lambda a: a.view(2, 6), [(3, 4)], {}),
    "view_scatter": (lambda a, b: _write_through_view(a, b), [(3, 4), (4,)], {}),
    "where": (lambda a, b: gc.where(a > 0, a, b), [(4,), (4,)], {}),
}


def _write_through_view(a, b):
    y = a * 1
    y[1] = b * 2  # an in-place write through a view records view_scatter on y
    return y


# ops whose gradient rule raises on purpose (tested where the op is)
NO_REVERSE_MODE = {"while_loop"}


def test_every_differentiable_op_has_a_static_gradient_case():
    differentiable = {name for name, op in REGISTRY.items() if op.grad is not None} - NO_REVERSE_MODE
    missing = sorted(differentiable - set(CASES))
    assert not missing, f"add a static-gradient case for: {missing}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_static_gradient_equals_eager(name, backend):
    fn, shapes, opts = CASES[name]
    _compare(fn, shapes, backend=backend, **opts)
