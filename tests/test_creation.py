"""Deterministic factories: zeros/ones/full/empty (+ _like, new_*), arange, linspace, logspace, eye,
empty_strided, scalar_tensor, and the shared dtype=/device=/requires_grad=/out= keywords."""
import math

import numpy as np
import pytest

import graphc as gc
from helpers import assert_matches

ALL_DTYPES = [gc.bool, gc.uint8, gc.int8, gc.int16, gc.int32, gc.int64, gc.float16, gc.float32, gc.float64]
FLOATS = [gc.float16, gc.float32, gc.float64]

SIZE_FORMS = [
    ((2, 3), {}),
    (((2, 3),), {}),
    (([2, 3],), {}),
    ((gc.Size([2, 3]),), {}),
    ((np.int64(2), 3), {}),
    ((), {"size": (2, 3)}),
]


# ----------------------------------------------------------------------------- zeros, ones, empty, full
@pytest.mark.parametrize("args,kw", SIZE_FORMS)
@pytest.mark.parametrize("name,value", [("zeros", 0), ("ones", 1)])
def test_zeros_ones_size_forms(name, value, args, kw):
    t = getattr(gc, name)(*args, **kw)
    assert_matches(t, np.full((2, 3), value, np.float32))
    assert t.is_leaf and not t.requires_grad


@pytest.mark.parametrize("args,kw", SIZE_FORMS)
def test_empty_size_forms(args, kw):
    t = gc.empty(*args, **kw)
    assert t.shape == (2, 3) and t.dtype == gc.float32


@pytest.mark.parametrize("shape", [(), (0,), (1,), (0, 3), (2, 1, 4)])
@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_factory_shapes_and_dtypes(shape, dtype):
    npd = dtype.np
    assert_matches(gc.zeros(shape, dtype=dtype), np.zeros(shape, npd))
    assert_matches(gc.ones(shape, dtype=dtype), np.ones(shape, npd))
    e = gc.empty(shape, dtype=dtype)
    assert e.shape == shape and e.dtype == dtype


def test_default_dtype_follows_set_default_dtype():
    gc.set_default_dtype(gc.float64)
    for t in (gc.zeros(2), gc.ones(2), gc.empty(2), gc.full((2,), 1.5), gc.eye(2), gc.linspace(0, 1, 3),
              gc.arange(0.0, 1.0, 0.5), gc.logspace(0, 1, 2), gc.scalar_tensor(1)):
        assert t.dtype == gc.float64
    assert gc.full((2,), 3).dtype == gc.int64
    assert gc.arange(3).dtype == gc.int64


@pytest.mark.parametrize("fn", [gc.zeros, gc.ones, gc.empty, gc.rand, gc.randn])
def test_bad_sizes(fn):
    with pytest.raises(RuntimeError, match="negative dimension"):
        fn(2, -1)
    with pytest.raises(TypeError):
        fn(2, 3.0)
    with pytest.raises(TypeError):
        fn("2")
    with pytest.raises(TypeError, match="size"):
        fn()
    with pytest.raises(TypeError):
        fn(2, size=(2,))


def test_requires_grad_and_device_keywords():
    t = gc.zeros(2, 3, requires_grad=True)
    assert t.requires_grad and t.is_leaf and t.grad_fn is None
    (t * 2).sum().backward()
    assert_matches(t.grad, np.full((2, 3), 2, np.float32))
    with pytest.raises(RuntimeError, match="floating point"):
        gc.zeros(2, dtype=gc.int64, requires_grad=True)
    assert gc.ones(2, device="cpu").device == gc.device("cpu")
    assert gc.ones(2, device=gc.device("cpu")).shape == (2,)
    for fn in (lambda: gc.zeros(2, device="cuda"), lambda: gc.arange(3, device="cuda:0"),
               lambda: gc.rand(2, device="cuda"), lambda: gc.zeros_like(gc.ones(2), device="cuda"),
               lambda: gc.eye(2, device="cuda")):
        with pytest.raises(RuntimeError, match="cuda"):
            fn()


@pytest.mark.parametrize("dtype", [gc.float16, gc.float64, gc.int32, gc.uint8])
def test_dtype_accepts_names_and_numpy(dtype):
    assert gc.zeros(2, dtype=dtype.name).dtype == dtype
    assert gc.zeros(2, dtype=dtype.np).dtype == dtype


def test_unsupported_dtype_is_type_error():
    for bad in (np.complex64, "complex64", object, np.str_, "float128x"):
        with pytest.raises(TypeError):
            gc.zeros(2, dtype=bad)


# ----------------------------------------------------------------------------- out=
@pytest.mark.parametrize("make", [
    lambda out: gc.zeros(2, 3, out=out),
    lambda out: gc.ones((2, 3), out=out),
    lambda out: gc.full((2, 3), 7, out=out),
    lambda out: gc.empty(2, 3, out=out),
])
def test_out_returns_the_same_object_resized(make):
    out = gc.empty(5)
    r = make(out)
    assert r is out
    assert out.shape == (2, 3) and out.dtype == gc.float32


def test_out_keeps_its_dtype_and_values():
    out = gc.zeros(2, dtype=gc.int64)
    r = gc.full((3,), 2.7, out=out)
    assert r is out
    assert_matches(out, np.array([2, 2, 2], np.int64))
    same = gc.zeros(4, dtype=gc.float64)
    data_before = same._data
    gc.ones(4, out=same)
    assert same._data is data_before  # same shape: written in place
    assert_matches(same, np.ones(4))
    r = gc.arange(5, out=gc.empty(0))
    assert_matches(r, np.arange(5, dtype=np.float32))
    r = gc.linspace(0, 1, 3, out=gc.empty(1, dtype=gc.float64))
    assert_matches(r, np.array([0, 0.5, 1]))
    r = gc.eye(2, out=gc.empty(4, dtype=gc.int64))
    assert_matches(r, np.eye(2, dtype=np.int64))


def test_out_errors():
    with pytest.raises(RuntimeError, match="does not match dtype of out"):
        gc.zeros(2, dtype=gc.float64, out=gc.empty(2))
    with pytest.raises(RuntimeError, match="automatic differentiation"):
        gc.zeros(2, out=gc.empty(2, requires_grad=True))
    with pytest.raises(TypeError):
        gc.zeros(2, out=np.zeros(2))


def test_out_bumps_version():
    out = gc.empty(3)
    v = out._version.v
    gc.zeros(3, out=out)
    assert out._version.v == v + 1


# ----------------------------------------------------------------------------- full
@pytest.mark.parametrize("value,dtype", [
    (True, gc.bool), (False, gc.bool), (3, gc.int64), (-2, gc.int64), (2.5, gc.float32), (np.float64(2.5), gc.float32),
    (np.int32(4), gc.int64), (np.bool_(True), gc.bool), (float("inf"), gc.float32),
])
def test_full_infers_dtype_from_the_value(value, dtype):
    t = gc.full((2, 2), value)
    assert t.dtype == dtype
    np.testing.assert_array_equal(t.numpy(), np.full((2, 2), value, dtype.np))


def test_full_value_conversion():
    assert_matches(gc.full((2,), 2.7, dtype=gc.int64), np.array([2, 2], np.int64))
    assert_matches(gc.full((2,), -2.7, dtype=gc.int32), np.array([-2, -2], np.int32))
    assert_matches(gc.full((2,), 2.5, dtype=gc.bool), np.array([True, True]))
    assert_matches(gc.full((2,), -1, dtype=gc.uint8), np.array([255, 255], np.uint8))
    assert_matches(gc.full((), 1.5, dtype=gc.float64), np.array(1.5))
    assert_matches(gc.full([3], gc.tensor(4.5, dtype=gc.float64)), np.full(3, 4.5, np.float32))
    assert_matches(gc.full((2,), gc.tensor(3)), np.full(2, 3, np.int64))
    assert_matches(gc.full((0, 2), 1), np.zeros((0, 2), np.int64))


def test_full_errors():
    with pytest.raises(RuntimeError, match="overflow"):
        gc.full((2,), 300, dtype=gc.uint8)
    with pytest.raises(RuntimeError, match="overflow"):
        gc.full((2,), float("inf"), dtype=gc.int64)
    with pytest.raises(RuntimeError, match="overflow"):
        gc.full((2,), 2 ** 70, dtype=gc.int64)
    with pytest.raises(TypeError, match="size"):
        gc.full(3, 1.0)
    with pytest.raises(TypeError, match="complex"):
        gc.full((2,), 1 + 2j)
    with pytest.raises(TypeError):
        gc.full((2,), "a")
    with pytest.raises(RuntimeError):
        gc.full((2,), gc.ones(2))


def test_scalar_tensor():
    assert_matches(gc.scalar_tensor(3), np.array(3.0, np.float32))
    assert_matches(gc.scalar_tensor(True, dtype=gc.bool), np.array(True))
    assert gc.scalar_tensor(1.5, requires_grad=True).requires_grad


# ----------------------------------------------------------------------------- _like and new_*
@pytest.mark.parametrize("src", [
    np.zeros((2, 3), np.float64), np.zeros((), np.int32), np.zeros((0, 4), np.bool_), np.zeros((1,), np.float16),
])
def test_like_factories_keep_shape_and_dtype(src):
    x = gc.from_numpy(src)
    assert_matches(gc.zeros_like(x), np.zeros_like(src))
    assert_matches(gc.ones_like(x), np.ones_like(src))
    assert_matches(gc.full_like(x, 1), np.full_like(src, 1))
    e = gc.empty_like(x)
    assert e.shape == src.shape and e.dtype == x.dtype
    assert not np.may_share_memory(e.numpy(), src)


def test_like_dtype_override_and_requires_grad():
    x = gc.ones(2, 3)
    assert_matches(gc.zeros_like(x, dtype=gc.int64), np.zeros((2, 3), np.int64))
    assert_matches(gc.full_like(x, 2.7, dtype=gc.float64), np.full((2, 3), 2.7))
    assert_matches(gc.full_like(gc.zeros(2, dtype=gc.int64), 2.7), np.array([2, 2], np.int64))
    assert_matches(gc.full_like(gc.zeros(2, dtype=gc.uint8), -1), np.array([255, 255], np.uint8))
    t = gc.ones_like(x, requires_grad=True)
    assert t.requires_grad and t.is_leaf
    # the source's autograd state does not carry over
    y = gc.zeros_like(gc.ones(2, requires_grad=True) * 2)
    assert not y.requires_grad and y.grad_fn is None


def test_like_factories_need_a_tensor():
    for fn in (gc.zeros_like, gc.ones_like, gc.empty_like, gc.rand_like, gc.randn_like):
        with pytest.raises(TypeError, match="Tensor"):
            fn([1.0, 2.0])
    with pytest.raises(TypeError):
        gc.full_like(np.zeros(2), 1)


def test_new_factories_take_dtype_from_self():
    x = gc.tensor([1, 2])
    assert_matches(x.new_zeros(3), np.zeros(3, np.int64))
    assert_matches(x.new_zeros((2, 2)), np.zeros((2, 2), np.int64))
    assert_matches(x.new_ones(2, dtype=gc.float64), np.ones(2))
    assert_matches(x.new_full((3,), 2.5), np.full(3, 2, np.int64))
    assert x.new_empty(4).shape == (4,) and x.new_empty(4).dtype == gc.int64
    f = gc.tensor([1.0, 2.0], dtype=gc.float64)
    assert_matches(f.new_tensor([1, 2]), np.array([1.0, 2.0]))
    assert_matches(f.new_zeros(f.shape), np.zeros(2))
    assert f.new_zeros(2, requires_grad=True).requires_grad


# ----------------------------------------------------------------------------- arange
@pytest.mark.parametrize("args,dtype", [
    ((5,), gc.int64), ((0,), gc.int64), ((2, 7), gc.int64), ((5, 0, -2), gc.int64), ((-3, 10, 4), gc.int64),
    ((5, 5), gc.int64), ((0, 1, 0.1), gc.float32), ((1, 2.5, 0.5), gc.float32), ((0, 10, 3.0), gc.float32),
    ((2.0,), gc.float32), ((np.float64(2),), gc.float32), ((1.5, -1.5, -0.5), gc.float32), ((True,), gc.int64),
    ((gc.tensor(3),), gc.int64), ((gc.tensor(0.5), 3), gc.float32),
])
def test_arange_values_and_dtype(args, dtype):
    plain = [a.item() if isinstance(a, gc.Tensor) else a for a in args]
    start, end, step = (0, plain[0], 1) if len(plain) == 1 else (plain + [1])[:3]
    n = max(math.ceil((float(end) - float(start)) / float(step)), 0)
    expected = np.array([start + i * step for i in range(n)], dtype=np.float64)
    t = gc.arange(*args)
    assert t.shape == (n,)
    assert_matches(t, expected.astype(dtype.np), dtype=dtype)


def test_arange_length_rule_with_inexact_steps():
    # torch's length is ceil((end - start) / step) computed in double
    for start, end, step in [(0, 1, 0.1), (0, 0.3, 0.1), (1, 2, 1 / 3), (0, 1e-1, 1e-2), (-1, 1, 0.25)]:
        assert gc.arange(start, end, step).numel() == math.ceil((end - start) / step)


@pytest.mark.parametrize("dtype", [gc.float16, gc.float64, gc.int32, gc.int16, gc.uint8, gc.int8])
def test_arange_dtype_keyword(dtype):
    t = gc.arange(0, 10, 3, dtype=dtype)
    assert_matches(t, np.array([0, 3, 6, 9], dtype.np))


def test_arange_integer_dtype_truncates_bounds():
    # bounds convert to the integer type first; non-int64 types count elements in double
    assert_matches(gc.arange(0.5, 4, dtype=gc.int32), np.arange(4, dtype=np.int32))
    assert_matches(gc.arange(-0.5, 4, dtype=gc.int32), np.arange(5, dtype=np.int32))
    assert_matches(gc.arange(0, 4.5, 1.5, dtype=gc.int32), np.arange(3, dtype=np.int32))
    assert_matches(gc.arange(0.5, 4, dtype=gc.int64), np.arange(4, dtype=np.int64))
    assert_matches(gc.arange(2 ** 62, 2 ** 62 + 3), np.arange(2 ** 62, 2 ** 62 + 3, dtype=np.int64))


def test_arange_errors():
    with pytest.raises(RuntimeError, match="step must be nonzero"):
        gc.arange(0, 5, 0)
    with pytest.raises(RuntimeError, match="step must be nonzero"):
        gc.arange(0, 5, 0.5, dtype=gc.int64)  # the step truncates to 0
    with pytest.raises(RuntimeError, match="inconsistent with step sign"):
        gc.arange(0, 5, -1)
    with pytest.raises(RuntimeError, match="inconsistent with step sign"):
        gc.arange(5, 0)
    with pytest.raises(RuntimeError, match="unsupported range"):
        gc.arange(0, float("inf"))
    with pytest.raises(RuntimeError, match="unsupported range"):
        gc.arange(0, float("nan"))
    with pytest.raises(RuntimeError):
        gc.arange(5, dtype=gc.bool)
    with pytest.raises(TypeError):
        gc.arange("5")
    with pytest.raises(TypeError):
        gc.arange(1 + 2j)


def test_arange_requires_grad():
    t = gc.arange(0.0, 3.0, requires_grad=True)
    assert t.requires_grad and t.is_leaf
    with pytest.raises(RuntimeError):
        gc.arange(3, requires_grad=True)


# ----------------------------------------------------------------------------- linspace, logspace
@pytest.mark.parametrize("start,end,steps", [(0, 10, 4), (0, 1, 5), (-3.5, 2.25, 7), (1, 1, 3), (5, -5, 11),
                                             (0, 1, 1), (0, 1, 0), (0, 1, 2), (0, 1, 100)])
@pytest.mark.parametrize("dtype", [gc.float32, gc.float64])
def test_linspace_matches_numpy(start, end, steps, dtype):
    t = gc.linspace(start, end, steps, dtype=dtype)
    expected = np.linspace(start, end, steps)
    assert_matches(t, expected.astype(dtype.np), rtol=1e-6, atol=1e-6)
    if steps >= 2:  # both ends are exact
        a = t.numpy()
        assert a[0] == dtype.np.type(start) and a[-1] == dtype.np.type(end)


def test_linspace_default_dtype_and_float16():
    assert gc.linspace(0, 1, 3).dtype == gc.float32
    assert_matches(gc.linspace(0, 1, 5, dtype=gc.float16), np.linspace(0, 1, 5).astype(np.float16), rtol=1e-3)
    assert_matches(gc.linspace(gc.tensor(0.0), gc.tensor(1.0), 3), np.array([0, 0.5, 1], np.float32))


def test_linspace_integer_dtypes_truncate():
    # the ends truncate to integers, the points are computed in double, then truncated toward zero
    assert_matches(gc.linspace(0, 10, 4, dtype=gc.int64), np.array([0, 3, 6, 10]))
    assert_matches(gc.linspace(-7, 10, 5, dtype=gc.int64), np.array([-7, -2, 1, 5, 10]))
    assert_matches(gc.linspace(10, -7, 6, dtype=gc.int64), np.array([10, 6, 3, 0, -3, -7]))
    assert_matches(gc.linspace(0.5, 10.9, 3, dtype=gc.int64), np.array([0, 5, 10]))
    assert_matches(gc.linspace(0, 10, 3, dtype=gc.uint8), np.array([0, 5, 10], np.uint8))


def test_linspace_errors():
    with pytest.raises(RuntimeError, match="non-negative"):
        gc.linspace(0, 1, -1)
    with pytest.raises(TypeError, match="steps"):
        gc.linspace(0, 1, 3.0)
    with pytest.raises(TypeError):
        gc.linspace(0, 1)
    with pytest.raises(RuntimeError):
        gc.linspace(0, 1, 3, dtype=gc.bool)


@pytest.mark.parametrize("start,end,steps,base", [(0, 3, 4, 10.0), (0, 3, 4, 2), (-2, 2, 5, 10.0), (1, 1, 1, 3.0),
                                                  (0, 2, 3, -2), (0, 1, 0, 10.0), (0.5, 2.5, 6, np.e)])
def test_logspace_matches_numpy(start, end, steps, base):
    t = gc.logspace(start, end, steps, base=base, dtype=gc.float64)
    with np.errstate(invalid="ignore"):
        expected = np.power(float(base), np.linspace(start, end, steps))
    assert_matches(t, expected, rtol=1e-12)
    assert gc.logspace(start, end, steps, base).dtype == gc.float32


def test_logspace_integer_dtype():
    assert_matches(gc.logspace(0, 3, 4, dtype=gc.int64), np.array([1, 10, 100, 1000]))
    assert_matches(gc.logspace(0, 3.5, 4, base=2, dtype=gc.int64), np.array([1, 2, 4, 8]))


# ----------------------------------------------------------------------------- eye, empty_strided
@pytest.mark.parametrize("n,m", [(0, None), (1, None), (3, None), (2, 3), (3, 2), (2, 0)])
@pytest.mark.parametrize("dtype", [None, gc.float64, gc.int64, gc.bool])
def test_eye(n, m, dtype):
    t = gc.eye(n, m, dtype=dtype)
    want = dtype or gc.float32
    assert_matches(t, np.eye(n, m, dtype=want.np))


def test_eye_errors():
    with pytest.raises(RuntimeError, match="n must be greater or equal to 0"):
        gc.eye(-1)
    with pytest.raises(RuntimeError, match="m must be greater or equal to 0"):
        gc.eye(2, -1)
    with pytest.raises(TypeError):
        gc.eye(2.0)
    with pytest.raises(TypeError):
        gc.eye(True)


@pytest.mark.parametrize("size,stride", [((2, 3), (1, 2)), ((2, 3), (3, 1)), ((4,), (2,)), ((), ()), ((0, 3), (3, 1)),
                                         ((2, 2), (0, 1))])
def test_empty_strided(size, stride):
    t = gc.empty_strided(size, stride, dtype=gc.float64)
    assert t.shape == size and t.dtype == gc.float64
    assert t.stride() == stride
    assert t.is_contiguous() == (stride == tuple(int(np.prod(size[i + 1:])) for i in range(len(size))) or 0 in size)


def test_empty_strided_errors():
    with pytest.raises(RuntimeError, match="dimensionality"):
        gc.empty_strided((2, 3), (1,))
    with pytest.raises(RuntimeError):
        gc.empty_strided((2, 3), (1, -2))
    assert gc.empty_strided((2, 3), (1, 2), dtype=gc.int64).dtype == gc.int64
