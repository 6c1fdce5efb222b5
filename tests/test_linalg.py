"""Matrix products and linear algebra: values against numpy, gradients against finite differences."""
import math

import numpy as np
import pytest

import graphc as gc
from helpers import assert_matches, check_grad, rand64

RNG = np.random.default_rng(1234)


def _arr(*shape, dtype=np.float64):
    if np.issubdtype(dtype, np.integer):
        return RNG.integers(-5, 6, size=shape).astype(dtype)
    return RNG.standard_normal(shape).astype(dtype)


def _well_conditioned(*shape, seed=0):
    """A float64 leaf: random matrices pushed away from singular (diagonal shift)."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape) * 0.5 + 3 * np.eye(shape[-1])
    return gc.tensor(a, dtype=gc.float64, requires_grad=True)


def _np(t):
    return t.detach().numpy()


# ----------------------------------------------------------------------------- matmul
MATMUL_SHAPES = [
    ((3,), (3,)),            # dot
    ((2, 3), (3,)),          # mv
    ((3,), (3, 4)),          # vector @ matrix
    ((2, 3), (3, 4)),        # mm
    ((5, 2, 3), (3, 4)),     # batched @ matrix
    ((3,), (5, 3, 4)),       # vector @ batched
    ((5, 2, 3), (3,)),       # batched @ vector
    ((2, 1, 2, 3), (5, 3, 4)),  # broadcast batch dims
    ((2, 3), (4, 3, 2)),     # matrix @ batched
    ((1, 1), (1, 1)),
    ((0, 3), (3, 2)),        # empty rows
    ((2, 0), (0, 2)),        # empty contraction: zeros
]


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul_values_and_shapes(sa, sb):
    a, b = _arr(*sa), _arr(*sb)
    assert_matches(gc.matmul(gc.tensor(a), gc.tensor(b)), np.matmul(a, b), rtol=1e-12)
    assert_matches(gc.tensor(a) @ gc.tensor(b), np.matmul(a, b), rtol=1e-12)


@pytest.mark.parametrize("sa,sb", [s for s in MATMUL_SHAPES if 0 not in s[0] + s[1]])
def test_matmul_grad(sa, sb):
    check_grad(gc.matmul, rand64(*sa, seed=1), rand64(*sb, seed=2))


@pytest.mark.parametrize("dtype", [gc.float16, gc.float32, gc.float64, gc.int32, gc.int64, gc.int8, gc.uint8])
def test_matmul_keeps_dtype(dtype):
    npd = dtype.np
    a, b = _arr(2, 3, dtype=np.int64).astype(npd), _arr(3, 4, dtype=np.int64).astype(npd)
    r = gc.tensor(a) @ gc.tensor(b)
    assert r.dtype == dtype
    np.testing.assert_allclose(r.numpy().astype(np.float64), np.matmul(a, b).astype(np.float64), rtol=1e-3)


def test_matmul_errors():
    f32 = gc.ones(2, 3)
    with pytest.raises(RuntimeError, match="same dtype"):
        gc.matmul(f32, gc.ones(3, 2, dtype=gc.float64))
    with pytest.raises(RuntimeError, match="same dtype"):
        gc.mm(f32, gc.ones(3, 2, dtype=gc.int64))
    with pytest.raises(NotImplementedError, match="Bool"):
        gc.matmul(gc.ones(2, 2, dtype=gc.bool), gc.ones(2, 2, dtype=gc.bool))
    with pytest.raises(RuntimeError, match="at least 1D"):
        gc.matmul(gc.tensor(1.0), gc.ones(3))
    with pytest.raises(RuntimeError, match=r"cannot be multiplied \(2x3 and 4x2\)"):
        gc.matmul(f32, gc.ones(4, 2))
    with pytest.raises(RuntimeError, match="inconsistent tensor size"):
        gc.matmul(gc.ones(3), gc.ones(4))
    with pytest.raises(RuntimeError, match="must match"):
        gc.matmul(gc.ones(2, 2, 3), gc.ones(3, 3, 4))
    with pytest.raises(TypeError):
        gc.matmul(f32, [[1.0]])


def test_matmul_operators_and_methods():
    a, b = _arr(2, 3), _arr(3, 4)
    ta, tb = gc.tensor(a), gc.tensor(b)
    assert_matches(ta.matmul(tb), a @ b)
    c = _arr(4, 2)
    assert_matches(ta.__rmatmul__(gc.tensor(c)), c @ a)
    with pytest.raises(TypeError):
        ta @ 2
    with pytest.raises(TypeError):
        2 @ ta
    x = ta
    x @= tb  # rebinds like torch (no in-place matmul)
    assert x.shape == (2, 4) and ta.shape == (2, 3)


def test_matmul_grad_names_and_no_grad_for_ints():
    a = rand64(2, 3)
    r = a @ rand64(3, 2, requires_grad=False)
    assert r.requires_grad and r.grad_fn is not None
    r = gc.ones(2, 2, dtype=gc.int64) @ gc.ones(2, 2, dtype=gc.int64)
    assert not r.requires_grad


# ----------------------------------------------------------------------------- mm, bmm, mv, dot ...
def test_mm_bmm_mv_values():
    a, b = _arr(2, 3), _arr(3, 4)
    assert_matches(gc.mm(gc.tensor(a), gc.tensor(b)), a @ b)
    assert_matches(gc.tensor(a).mm(gc.tensor(b)), a @ b)
    x, y = _arr(4, 2, 3), _arr(4, 3, 5)
    assert_matches(gc.bmm(gc.tensor(x), gc.tensor(y)), x @ y)
    v = _arr(3)
    assert_matches(gc.mv(gc.tensor(a), gc.tensor(v)), a @ v)
    assert_matches(gc.tensor(a).mv(gc.tensor(v)), a @ v)


def test_mm_bmm_mv_errors():
    with pytest.raises(RuntimeError, match="self must be a matrix"):
        gc.mm(gc.ones(3), gc.ones(3, 2))
    with pytest.raises(RuntimeError, match="mat2 must be a matrix"):
        gc.mm(gc.ones(2, 3), gc.ones(2, 3, 2))
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        gc.mm(gc.ones(2, 3), gc.ones(4, 3))
    with pytest.raises(RuntimeError, match="batch1 must be a 3D tensor"):
        gc.bmm(gc.ones(2, 3), gc.ones(2, 3, 3))
    with pytest.raises(RuntimeError, match=r"Expected size for first two dimensions of batch2 tensor to be: \[2, 4\]"):
        gc.bmm(gc.ones(2, 3, 4), gc.ones(2, 3, 3))
    with pytest.raises(RuntimeError, match="batch2 tensor"):
        gc.bmm(gc.ones(2, 3, 4), gc.ones(3, 4, 3))  # no batch broadcasting in bmm
    with pytest.raises(RuntimeError, match="vector \\+ matrix @ vector expected"):
        gc.mv(gc.ones(3), gc.ones(3))
    with pytest.raises(RuntimeError, match="size mismatch"):
        gc.mv(gc.ones(2, 3), gc.ones(4))


def test_mm_bmm_mv_grads():
    check_grad(gc.mm, rand64(2, 3), rand64(3, 4, seed=1))
    check_grad(gc.bmm, rand64(2, 2, 3), rand64(2, 3, 2, seed=1))
    check_grad(gc.mv, rand64(2, 3), rand64(3, seed=1))


def test_dot_vdot_inner_outer():
    a, b = _arr(4), _arr(4)
    assert_matches(gc.dot(gc.tensor(a), gc.tensor(b)), np.dot(a, b))
    assert_matches(gc.vdot(gc.tensor(a), gc.tensor(b)), np.vdot(a, b))
    ia = np.arange(3)
    assert_matches(gc.dot(gc.tensor(ia), gc.tensor(ia)), np.array(5))
    x, y = _arr(2, 3), _arr(4, 3)
    assert_matches(gc.inner(gc.tensor(x), gc.tensor(y)), np.inner(x, y))
    assert_matches(gc.inner(gc.tensor(2.0, dtype=gc.float64), gc.tensor(y)), 2.0 * y)
    assert_matches(gc.outer(gc.tensor(a), gc.tensor(b[:3])), np.outer(a, b[:3]))
    assert_matches(gc.ger(gc.tensor(a), gc.tensor(b)), np.outer(a, b))
    # outer promotes like mul
    assert gc.outer(gc.ones(2), gc.arange(3)).dtype == gc.float32
    check_grad(gc.dot, rand64(4), rand64(4, seed=1))
    check_grad(gc.inner, rand64(2, 3), rand64(4, 3, seed=1))
    check_grad(gc.outer, rand64(2), rand64(3, seed=1))


def test_dot_inner_outer_errors():
    with pytest.raises(RuntimeError, match="1D tensors expected"):
        gc.dot(gc.ones(2, 3), gc.ones(3))
    with pytest.raises(RuntimeError, match="inconsistent tensor size"):
        gc.dot(gc.ones(3), gc.ones(4))
    with pytest.raises(RuntimeError, match="same dtype"):
        gc.dot(gc.ones(3), gc.ones(3, dtype=gc.float64))
    with pytest.raises(RuntimeError, match="last dimension must match"):
        gc.inner(gc.ones(2, 3), gc.ones(4, 2))
    with pytest.raises(RuntimeError, match="same dtype"):
        gc.inner(gc.ones(2, 3), gc.ones(4, 3, dtype=gc.float64))
    with pytest.raises(RuntimeError, match="Expected 1-D argument"):
        gc.outer(gc.ones(2, 3), gc.ones(3))


def test_addmm_family():
    inp, m1, m2 = _arr(3), _arr(2, 4), _arr(4, 3)
    r = gc.addmm(gc.tensor(inp), gc.tensor(m1), gc.tensor(m2), beta=2, alpha=0.5)
    assert_matches(r, 2 * inp + 0.5 * (m1 @ m2))
    v = _arr(4)
    assert_matches(gc.addmv(gc.tensor(inp[:2]), gc.tensor(m1), gc.tensor(v), alpha=3), inp[:2] + 3 * (m1 @ v))
    v1, v2 = _arr(2), _arr(3)
    assert_matches(gc.addr(gc.tensor(m1[:, :3]), gc.tensor(v1), gc.tensor(v2)), m1[:, :3] + np.outer(v1, v2))
    b1, b2, c = _arr(5, 2, 4), _arr(5, 4, 3), _arr(2, 3)
    assert_matches(gc.baddbmm(gc.tensor(c), gc.tensor(b1), gc.tensor(b2), beta=0.5),
                   0.5 * c + b1 @ b2)
    assert_matches(gc.addbmm(gc.tensor(c), gc.tensor(b1), gc.tensor(b2)), c + (b1 @ b2).sum(0))
    # beta=0 ignores the input entirely, nan included
    nan_in = gc.full((2, 3), float("nan"), dtype=gc.float64)
    assert_matches(gc.addmm(nan_in, gc.tensor(m1), gc.tensor(m2), beta=0), m1 @ m2)
    # the in-place and method forms
    t = gc.tensor(np.zeros((2, 3)))
    t.addmm_(gc.tensor(m1), gc.tensor(m2))
    assert_matches(t, m1 @ m2)
    assert_matches(gc.tensor(inp).addmm(gc.tensor(m1), gc.tensor(m2)), inp + m1 @ m2)
    check_grad(lambda i, a, b: gc.addmm(i, a, b, beta=0.5, alpha=2), rand64(3), rand64(2, 4, seed=1),
               rand64(4, 3, seed=2))


def test_addmm_errors():
    with pytest.raises(RuntimeError, match="same dtype"):
        gc.addmm(gc.ones(3, dtype=gc.float64), gc.ones(2, 3), gc.ones(3, 3))
    with pytest.raises(RuntimeError):
        gc.addmm(gc.ones(4), gc.ones(2, 3), gc.ones(3, 3))
    with pytest.raises(RuntimeError):
        gc.addmm(gc.ones(1, 2, 3), gc.ones(2, 3), gc.ones(3, 3))


def test_addmm_int_keeps_dtype():
    r = gc.addmm(gc.ones(3, dtype=gc.int64), gc.ones(2, 3, dtype=gc.int64), gc.ones(3, 3, dtype=gc.int64), beta=2)
    assert_matches(r, np.full((2, 3), 5, dtype=np.int64))


# ----------------------------------------------------------------------------- tensordot and einsum
def test_tensordot():
    a, b = _arr(2, 3, 4), _arr(3, 4, 5)
    assert_matches(gc.tensordot(gc.tensor(a), gc.tensor(b)), np.tensordot(a, b), rtol=1e-10)
    c = _arr(4, 3, 5)
    assert_matches(gc.tensordot(gc.tensor(a), gc.tensor(c), dims=([1, 2], [1, 0])),
                   np.tensordot(a, c, axes=([1, 2], [1, 0])), rtol=1e-10)
    assert_matches(gc.tensordot(gc.tensor(a), gc.tensor(b), dims=0), np.tensordot(a, b, axes=0))
    assert_matches(gc.tensordot(gc.tensor(a), gc.tensor(c), dims=([-2], [1])),
                   np.tensordot(a, c, axes=([1], [1])), rtol=1e-10)
    check_grad(lambda x, y: gc.tensordot(x, y, dims=([1, 2], [1, 0])), rand64(2, 3, 2), rand64(2, 3, 2, seed=1))
    with pytest.raises(RuntimeError, match="contracted dimensions need to match"):
        gc.tensordot(gc.ones(2, 3), gc.ones(4, 2), dims=1)
    with pytest.raises(RuntimeError, match="dims >= 0"):
        gc.tensordot(gc.ones(2, 3), gc.ones(3, 2), dims=-1)


EINSUM_CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ii", [(3, 3)]),
    ("ii->i", [(3, 3)]),
    ("ij->ji", [(2, 3)]),
    ("ij->", [(2, 3)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("...ij,...jk", [(2, 3, 4), (4, 5)]),
    ("i,i", [(3,), (3,)]),
    ("i,j->ij", [(3,), (4,)]),
    ("bhid,bhjd->bhij", [(2, 2, 3, 4), (2, 2, 5, 4)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("iij->j", [(3, 3, 2)]),
    ("ba,ab", [(3, 2), (2, 3)]),
    ("i...->...", [(3, 4, 2)]),
    ("a,b,c->abc", [(2,), (3,), (2,)]),
    (",->", [(), ()]),
    ("i,->i", [(3,), ()]),
    ("ij,kj->ik", [(2, 1), (4, 3)]),  # size-1 dims broadcast
    (" i j , j k -> i k ", [(2, 3), (3, 2)]),
]


@pytest.mark.parametrize("eq,shapes", EINSUM_CASES)
def test_einsum_matches_numpy(eq, shapes):
    arrs = [_arr(*s) for s in shapes]
    out = gc.einsum(eq, *[gc.tensor(a) for a in arrs])
    assert_matches(out, np.einsum(eq.replace(" ", ""), *arrs), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("eq,shapes", [EINSUM_CASES[i] for i in (0, 1, 2, 5, 6, 10, 11, 17)])
def test_einsum_grad(eq, shapes):
    ops = [rand64(*s, seed=i) for i, s in enumerate(shapes)]
    check_grad(lambda *xs: gc.einsum(eq, *xs), *ops)


def test_einsum_list_operands_and_errors():
    a, b = _arr(2, 3), _arr(3, 4)
    assert_matches(gc.einsum("ij,jk", [gc.tensor(a), gc.tensor(b)]), a @ b)
    with pytest.raises(RuntimeError, match="operands"):
        gc.einsum("ij,jk->ik", gc.tensor(a))
    with pytest.raises(RuntimeError, match="number of subscripts"):
        gc.einsum("ijk", gc.tensor(a))
    with pytest.raises(RuntimeError, match="does not appear"):
        gc.einsum("ij->iz", gc.tensor(a))
    with pytest.raises(RuntimeError, match="more than once"):
        gc.einsum("ij->ii", gc.tensor(a))
    with pytest.raises(RuntimeError, match="broadcast"):
        gc.einsum("ij,jk", gc.tensor(a), gc.tensor(_arr(4, 2)))


# ----------------------------------------------------------------------------- inverse, det, slogdet
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (1, 1), (2, 0, 0)])
def test_inv_values(shape):
    a = _np(_well_conditioned(*shape))
    assert_matches(gc.linalg.inv(gc.tensor(a)), np.linalg.inv(a), rtol=1e-10, atol=1e-12)
    assert_matches(gc.inverse(gc.tensor(a)), np.linalg.inv(a), rtol=1e-10, atol=1e-12)
    assert_matches(gc.tensor(a).inverse(), np.linalg.inv(a), rtol=1e-10, atol=1e-12)


def test_inv_float32_and_grad():
    a = np.array([[2.0, 1.0], [1.0, 3.0]], np.float32)
    assert_matches(gc.linalg.inv(gc.tensor(a)), np.linalg.inv(a), rtol=1e-5)
    check_grad(gc.linalg.inv, _well_conditioned(3, 3))
    check_grad(gc.linalg.inv, _well_conditioned(2, 2, 2))


def test_inv_errors():
    with pytest.raises(gc.linalg.LinAlgError, match="linalg.inv.*singular"):
        gc.linalg.inv(gc.zeros(2, 2))
    with pytest.raises(RuntimeError, match=r"Batch element 1"):
        gc.linalg.inv(gc.stack([gc.eye(2), gc.zeros(2, 2)]))
    assert issubclass(gc.linalg.LinAlgError, RuntimeError)
    with pytest.raises(RuntimeError, match="square matrices"):
        gc.linalg.inv(gc.ones(2, 3))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        gc.linalg.inv(gc.ones(3))
    with pytest.raises(RuntimeError, match="floating point"):
        gc.linalg.inv(gc.ones(2, 2, dtype=gc.int64))
    with pytest.raises(RuntimeError, match="Low precision"):
        gc.linalg.inv(gc.ones(2, 2, dtype=gc.float16))


@pytest.mark.parametrize("shape", [(3, 3), (2, 3, 3), (1, 1), (0, 0), (3, 0, 0)])
def test_det_values(shape):
    a = _np(_well_conditioned(*shape)) if shape[-1] else np.zeros(shape)
    want = np.linalg.det(a) if shape[-1] else np.ones(shape[:-2])
    assert_matches(gc.linalg.det(gc.tensor(a)), want, rtol=1e-10)
    assert_matches(gc.det(gc.tensor(a)), want, rtol=1e-10)
    assert_matches(gc.tensor(a).det(), want, rtol=1e-10)


def test_det_grad_and_singular_value():
    check_grad(gc.linalg.det, rand64(3, 3))
    check_grad(gc.linalg.det, rand64(2, 3, 3, seed=5))
    assert gc.linalg.det(gc.zeros(2, 2)).item() == 0.0
    with pytest.raises(RuntimeError, match="floating point"):
        gc.det(gc.ones(2, 2, dtype=gc.int64))
    with pytest.raises(RuntimeError, match="square"):
        gc.det(gc.ones(2, 3))


def test_slogdet_and_logdet():
    a = np.array([[[1.0, 2.0], [3.0, 4.0]], [[2.0, 0.0], [0.0, 3.0]], [[0.0, 0.0], [0.0, 1.0]]])
    sign, logabs = gc.linalg.slogdet(gc.tensor(a))
    ns, nl = np.linalg.slogdet(a)
    assert_matches(sign, ns)
    assert_matches(logabs, nl)
    s2, l2 = gc.slogdet(gc.tensor(a))
    assert_matches(l2, nl)
    assert sign.requires_grad is False
    ld = gc.logdet(gc.tensor(a))
    assert math.isnan(ld[0].item()) and ld[1].item() == pytest.approx(math.log(6)) and ld[2].item() == -math.inf
    check_grad(lambda x: gc.linalg.slogdet(x)[1], rand64(3, 3))
    check_grad(gc.logdet, _well_conditioned(2, 2, 2))


# ----------------------------------------------------------------------------- solve
@pytest.mark.parametrize("sa,sb", [
    ((3, 3), (3,)),          # vector
    ((3, 3), (3, 2)),        # matrix
    ((4, 3, 3), (4, 3)),     # batch of vectors
    ((4, 3, 3), (3,)),       # one vector for the whole batch
    ((4, 3, 3), (3, 2)),     # broadcast B
    ((3, 3), (4, 3, 1)),     # broadcast A
    ((2, 1, 3, 3), (4, 3, 2)),
])
def test_solve_shapes_and_values(sa, sb):
    A = _np(_well_conditioned(*sa))
    B = _arr(*sb)
    X = gc.linalg.solve(gc.tensor(A), gc.tensor(B))
    vector = len(sb) == 1 or (len(sb) == len(sa) - 1 and sb == sa[:-1])
    want = np.linalg.solve(A, B[..., None])[..., 0] if vector else np.linalg.solve(A, B)
    if vector and len(sb) == 1:
        want = np.linalg.solve(A, np.broadcast_to(B, sa[:-1])[..., None])[..., 0]
    assert_matches(X, want, rtol=1e-10, atol=1e-12)


def test_solve_grad_and_left():
    check_grad(gc.linalg.solve, _well_conditioned(3, 3), rand64(3, 2))
    check_grad(gc.linalg.solve, _well_conditioned(2, 3, 3), rand64(2, 3))
    check_grad(gc.linalg.solve, _well_conditioned(3, 3), rand64(2, 3, 1))  # broadcast A: its grad sums
    A, B = _np(_well_conditioned(3, 3)), _arr(2, 3)
    assert_matches(gc.linalg.solve(gc.tensor(A), gc.tensor(B), left=False), B @ np.linalg.inv(A), rtol=1e-10)


def test_solve_errors():
    with pytest.raises(gc.linalg.LinAlgError, match="linalg.solve.*singular"):
        gc.linalg.solve(gc.zeros(2, 2), gc.ones(2))
    with pytest.raises(RuntimeError, match="Incompatible shapes"):
        gc.linalg.solve(gc.eye(3), gc.ones(4, 3))
    with pytest.raises(RuntimeError, match="Incompatible shapes"):
        gc.linalg.solve(gc.eye(3), gc.ones(2))
    with pytest.raises(RuntimeError, match="same dtype"):
        gc.linalg.solve(gc.eye(3), gc.ones(3, dtype=gc.float64))
    with pytest.raises(RuntimeError, match="square"):
        gc.linalg.solve(gc.ones(2, 3), gc.ones(2))


# ----------------------------------------------------------------------------- SVD
@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 4), (2, 3, 2), (0, 3)])
@pytest.mark.parametrize("full", [True, False])
def test_svd_shapes_and_reconstruction(shape, full):
    a = _arr(*shape)
    U, S, Vh = gc.linalg.svd(gc.tensor(a), full_matrices=full)
    nu, ns, nvh = np.linalg.svd(a, full_matrices=full)
    assert U.shape == nu.shape and S.shape == ns.shape and Vh.shape == nvh.shape
    assert U.dtype == S.dtype == Vh.dtype == gc.float64
    assert_matches(S, ns, rtol=1e-10)
    k = S.shape[-1]
    rebuilt = (_np(U)[..., :k] * _np(S)[..., None, :]) @ _np(Vh)[..., :k, :]
    np.testing.assert_allclose(rebuilt, a, atol=1e-10)
    assert gc.linalg.svd(gc.tensor(a)).U.shape == np.linalg.svd(a)[0].shape  # full_matrices=True by default


def test_torch_svd_returns_v():
    a = _arr(4, 3)
    U, S, V = gc.svd(gc.tensor(a))
    assert U.shape == (4, 3) and V.shape == (3, 3)
    np.testing.assert_allclose((_np(U) * _np(S)) @ _np(V).T, a, atol=1e-10)
    U, S, V = gc.tensor(a).svd(some=False)
    assert U.shape == (4, 4)


def _svd_gauge_invariant(full):
    """Functions of the SVD that do not depend on the sign of each singular-vector pair."""
    w = gc.tensor([0.7, -1.3, 0.4], dtype=gc.float64)

    def f(x):
        U, S, Vh = gc.linalg.svd(x, full_matrices=full)
        k = S.shape[-1]
        Uk, Vk = U.narrow(-1, 0, k), Vh.narrow(-2, 0, k)
        return (Uk * w[:k]) @ Vk, S, Uk.abs(), Vk.abs()

    return f


@pytest.mark.parametrize("shape", [(3, 3), (4, 3), (3, 4), (2, 3, 2)])
@pytest.mark.parametrize("full", [True, False])
def test_svd_grad(shape, full):
    check_grad(_svd_gauge_invariant(full), rand64(*shape, seed=3))


def test_svdvals():
    a = _arr(2, 4, 3)
    assert_matches(gc.linalg.svdvals(gc.tensor(a)), np.linalg.svd(a, compute_uv=False), rtol=1e-10)
    check_grad(gc.linalg.svdvals, rand64(3, 4))
    # repeated singular values still have a finite gradient (U diag(g) V^T)
    x = gc.eye(3, dtype=gc.float64).requires_grad_()
    gc.linalg.svdvals(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.eye(3), atol=1e-12)
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        gc.linalg.svdvals(gc.ones(3))
    with pytest.raises(RuntimeError, match="floating point"):
        gc.linalg.svd(gc.ones(2, 2, dtype=gc.int32))


# ----------------------------------------------------------------------------- norms
VECTOR_ORDS = [2, 1, 3, 0.5, -1, math.inf, -math.inf, 0]


def _np_vector_norm(x, ord, axis=None, keepdims=False):
    ax = np.abs(x)
    if ord == math.inf:
        return ax.max(axis=axis, keepdims=keepdims)
    if ord == -math.inf:
        return ax.min(axis=axis, keepdims=keepdims)
    if ord == 0:
        return (ax != 0).sum(axis=axis, keepdims=keepdims).astype(x.dtype)
    with np.errstate(divide="ignore"):
        return (ax ** ord).sum(axis=axis, keepdims=keepdims) ** (1.0 / ord)


@pytest.mark.parametrize("ord", VECTOR_ORDS)
@pytest.mark.parametrize("dim,keepdim", [(None, False), (1, False), (-1, True), ((0, 2), False), ((0, 2), True)])
def test_vector_norm_values(ord, dim, keepdim):
    x = _arr(2, 3, 4)
    x[0, 0, 0] = 0.0
    axis = dim if not isinstance(dim, int) or dim is None else (dim,)
    want = _np_vector_norm(x, ord, axis, keepdim)
    assert_matches(gc.linalg.vector_norm(gc.tensor(x), ord, dim, keepdim), want, rtol=1e-10)


@pytest.mark.parametrize("ord", VECTOR_ORDS)
def test_vector_norm_grad(ord):
    check_grad(lambda t: gc.linalg.vector_norm(t, ord, dim=1), rand64(2, 3))
    check_grad(lambda t: gc.linalg.vector_norm(t, ord, keepdim=True), rand64(2, 3, seed=4))


def test_vector_norm_edge_cases():
    # a zero vector has a zero (sub)gradient, as in torch
    for ord in (2, 1, 3, -1, 0.5):
        z = gc.zeros(3, dtype=gc.float64, requires_grad=True)
        gc.linalg.vector_norm(z, ord).backward()
        assert_matches(z.grad, np.zeros(3))
    # inf norm: ties share the gradient
    t = gc.tensor([2.0, 1.0, -2.0], dtype=gc.float64, requires_grad=True)
    gc.linalg.vector_norm(t, math.inf).backward()
    assert_matches(t.grad, np.array([0.5, 0.0, -0.5]))
    assert_matches(gc.linalg.vector_norm(gc.tensor(-3.0)), np.array(3.0, np.float32))
    assert_matches(gc.linalg.vector_norm(gc.zeros(0)), np.array(0.0, np.float32))
    assert gc.linalg.vector_norm(gc.ones(3, dtype=gc.float16), dtype=gc.float32).dtype == gc.float32
    assert gc.linalg.vector_norm(gc.ones(2, 3), dim=()).shape == ()
    with pytest.raises(RuntimeError, match="floating point"):
        gc.linalg.vector_norm(gc.ones(3, dtype=gc.int64))
    with pytest.raises(RuntimeError, match="empty tensor"):
        gc.linalg.vector_norm(gc.zeros(0), math.inf)
    with pytest.raises(RuntimeError, match="narrowing"):
        gc.linalg.vector_norm(gc.ones(3, dtype=gc.float64), dtype=gc.float32)
    with pytest.raises(IndexError):
        gc.linalg.vector_norm(gc.ones(2, 3), dim=2)


MATRIX_ORDS = ["fro", "nuc", 2, -2, 1, -1, math.inf, -math.inf]


@pytest.mark.parametrize("ord", MATRIX_ORDS)
def test_matrix_norm_values_and_grad(ord):
    x = _arr(2, 3, 4)
    want = np.linalg.norm(x, ord, axis=(-2, -1))
    assert_matches(gc.linalg.matrix_norm(gc.tensor(x), ord), want, rtol=1e-10)
    want_k = np.linalg.norm(x, ord, axis=(0, 2), keepdims=True)
    assert_matches(gc.linalg.matrix_norm(gc.tensor(x), ord, dim=(0, 2), keepdim=True), want_k, rtol=1e-10)
    check_grad(lambda t: gc.linalg.matrix_norm(t, ord), rand64(2, 3, 4, seed=6))


def test_linalg_norm_dispatch():
    x = _arr(2, 3, 4)
    t = gc.tensor(x)
    assert_matches(gc.linalg.norm(t), np.linalg.norm(x.reshape(-1)), rtol=1e-12)
    assert_matches(gc.linalg.norm(t, keepdim=True), np.linalg.norm(x.reshape(-1)).reshape(1, 1, 1), rtol=1e-12)
    assert_matches(gc.linalg.norm(t, dim=1), np.linalg.norm(x, axis=1), rtol=1e-12)
    assert_matches(gc.linalg.norm(t, 1, dim=-1), np.linalg.norm(x, 1, axis=-1), rtol=1e-12)
    assert_matches(gc.linalg.norm(t, "nuc", dim=(1, 2)), np.linalg.norm(x, "nuc", axis=(1, 2)), rtol=1e-12)
    m = x[0]
    for ord in (None, "fro", "nuc", 2, 1, -math.inf):
        assert_matches(gc.linalg.norm(gc.tensor(m), ord), np.linalg.norm(m, ord), rtol=1e-12)
    v = x[0, 0]
    for ord in (None, 2, 1, 0, math.inf, 3.5):
        assert_matches(gc.linalg.norm(gc.tensor(v), ord), np.linalg.norm(v, ord), rtol=1e-12)
    with pytest.raises(RuntimeError, match="must be 1D or 2D"):
        gc.linalg.norm(t, 2)
    with pytest.raises(RuntimeError, match="length 1 or 2"):
        gc.linalg.norm(t, dim=(0, 1, 2))
    with pytest.raises(RuntimeError, match="Order 3"):
        gc.linalg.norm(gc.tensor(m), 3)
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        gc.linalg.norm(gc.tensor(v), "fro")
    with pytest.raises(RuntimeError, match="dims must be different"):
        gc.linalg.matrix_norm(t, dim=(1, -2))
    with pytest.raises(RuntimeError, match="2-tuple"):
        gc.linalg.matrix_norm(t, dim=1)
    with pytest.raises(RuntimeError, match="floating point"):
        gc.linalg.matrix_norm(gc.ones(2, 2, dtype=gc.int64))


# ----------------------------------------------------------------------------- other factorizations and helpers
def _spd(n, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, n))
    return a @ a.T + n * np.eye(n)


def test_cholesky():
    a = np.stack([_spd(3), _spd(3, 1)])
    L = gc.linalg.cholesky(gc.tensor(a))
    assert_matches(L, np.linalg.cholesky(a), rtol=1e-10)
    U = gc.linalg.cholesky(gc.tensor(a), upper=True)
    assert_matches(U, np.swapaxes(np.linalg.cholesky(a), -1, -2), rtol=1e-10)
    assert_matches(gc.cholesky(gc.tensor(a)), np.linalg.cholesky(a), rtol=1e-10)
    eye = gc.eye(3, dtype=gc.float64)
    check_grad(lambda x: gc.linalg.cholesky(x @ x.mT + 3 * eye), rand64(3, 3))
    check_grad(lambda x: gc.linalg.cholesky(x @ x.mT + 3 * eye, upper=True), rand64(2, 3, 3))
    with pytest.raises(gc.linalg.LinAlgError, match="positive-definite"):
        gc.linalg.cholesky(-gc.eye(2))


@pytest.mark.parametrize("shape", [(3, 3), (4, 3), (2, 5, 3), (3, 4)])
def test_qr(shape):
    a = _arr(*shape)
    Q, R = gc.linalg.qr(gc.tensor(a))
    nq, nr = np.linalg.qr(a)
    assert Q.shape == nq.shape and R.shape == nr.shape
    np.testing.assert_allclose(_np(Q) @ _np(R), a, atol=1e-10)
    np.testing.assert_allclose(np.abs(_np(R)), np.abs(nr), atol=1e-10)
    Qc, Rc = gc.linalg.qr(gc.tensor(a), mode="complete")
    assert Qc.shape == shape[:-2] + (shape[-2], shape[-2])
    if shape[-2] >= shape[-1]:
        check_grad(gc.linalg.qr, rand64(*shape, seed=2))


def test_pinv_matrix_power_multi_dot():
    a = _arr(3, 4)
    assert_matches(gc.linalg.pinv(gc.tensor(a)), np.linalg.pinv(a), rtol=1e-8, atol=1e-10)
    rank1 = np.outer(_arr(3), _arr(3))
    assert_matches(gc.linalg.pinv(gc.tensor(rank1)), np.linalg.pinv(rank1), rtol=1e-6, atol=1e-8)
    m = _np(_well_conditioned(3, 3))
    for n in (0, 1, 2, 3, 5, -1, -2):
        assert_matches(gc.linalg.matrix_power(gc.tensor(m), n), np.linalg.matrix_power(m, n), rtol=1e-9)
    assert_matches(gc.tensor(m).matrix_power(2), m @ m)
    check_grad(lambda x: gc.linalg.matrix_power(x, 3), rand64(2, 2))
    v, w, x = _arr(3), _arr(3, 4), _arr(4)
    assert_matches(gc.linalg.multi_dot([gc.tensor(v), gc.tensor(w), gc.tensor(x)]), v @ w @ x)
    assert_matches(gc.chain_matmul(gc.tensor(w.T), gc.tensor(w)), w.T @ w)
    assert_matches(gc.linalg.vecdot(gc.tensor(w), gc.tensor(x)), (w * x).sum(-1))
    with pytest.raises(RuntimeError, match="multi_dot"):
        gc.linalg.multi_dot([gc.tensor(w)])


@pytest.mark.parametrize("name", ["matmul", "matmul_vec", "inv", "det", "solve", "vector_norm", "svdvals"])
def test_second_order_gradients(name):
    """Gradient rules are built from differentiable tensor ops, so they differentiate again."""
    from graphc.eager.gradcheck import gradgradcheck

    cases = {
        "matmul": (gc.matmul, (rand64(2, 3), rand64(3, 2, seed=1))),
        "matmul_vec": (gc.matmul, (rand64(3), rand64(2, 3, 2, seed=1))),
        "inv": (gc.linalg.inv, (_well_conditioned(3, 3),)),
        "det": (gc.linalg.det, (_well_conditioned(3, 3),)),
        "solve": (gc.linalg.solve, (_well_conditioned(3, 3), rand64(3, 2))),
        "vector_norm": (gc.linalg.vector_norm, (rand64(2, 3),)),
        "svdvals": (gc.linalg.svdvals, (rand64(3, 2),)),
    }
    fn, args = cases[name]
    assert gradgradcheck(fn, args)


def test_det_gradient_of_a_singular_matrix_is_zero_like_torch():
    a = gc.tensor([[1.0, 2.0], [2.0, 4.0]], requires_grad=True)
    gc.linalg.det(a).backward()
    assert a.grad.tolist() == [[0.0, 0.0], [0.0, 0.0]]
    b = gc.tensor(np.stack([np.zeros((3, 3)), np.diag([1.0, 2.0, 4.0])]), requires_grad=True)
    gc.linalg.det(b).sum().backward()
    np.testing.assert_allclose(b.grad.numpy()[0], 0.0)
    np.testing.assert_allclose(b.grad.numpy()[1], np.diag([8.0, 4.0, 2.0]))   # det(B) B^-T for a diagonal B


def test_addmm_zero_factors_skip_their_term_but_keep_it_in_the_graph():
    nan = float("nan")
    inp = gc.tensor([[nan, 1.0], [2.0, 3.0]], requires_grad=True)
    m = gc.ones(2, 2, requires_grad=True)
    r = gc.addmm(inp, m, m, beta=0)
    assert r.tolist() == [[2.0, 2.0], [2.0, 2.0]] and r.requires_grad
    r.sum().backward()
    assert inp.grad.tolist() == [[0.0, 0.0], [0.0, 0.0]] and m.grad.tolist() == [[4.0, 4.0], [4.0, 4.0]]
    only_input = gc.ones(2, 2, requires_grad=True)
    gc.addmm(only_input, gc.ones(2, 2), gc.ones(2, 2), beta=0).sum().backward()
    assert only_input.grad.tolist() == [[0.0, 0.0], [0.0, 0.0]]
    m2 = gc.tensor([[nan, 1.0], [1.0, 1.0]])
    assert gc.addmm(gc.ones(2, 2), m2, m2, alpha=0).tolist() == [[1.0, 1.0], [1.0, 1.0]]
