"""Every pointwise function: values, dtype and shape against numpy, torch's promotion, broadcasting,
operator forms, in-place and out= forms, NaN/inf handling, errors, and gradients (float64 gradcheck).

NumPy floating-point warnings are errors here: kernels must handle inf/nan silently, like torch.
"""
import math

import numpy as np
import pytest

import graphc as gc
from graphc.autograd import gradcheck, gradgradcheck
from helpers import assert_matches, rand64

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

F32, F64 = gc.float32, gc.float64
SPECIAL = np.array([0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 1e-30, 1e30, np.inf, -np.inf, np.nan])
SHAPES = [(), (1,), (0,), (2, 3), (1, 3, 1)]


def _erf_ref(a):
    return np.vectorize(math.erf, otypes=[np.float64])(a)


def _erfc_ref(a):
    return np.vectorize(math.erfc, otypes=[np.float64])(a)


def _sign_ref(a):
    return np.where(np.isnan(a), 0, np.sign(a)).astype(a.dtype)


def _sigmoid_ref(a):
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-a))


def _gelu_ref(a, approximate="none"):
    if approximate == "tanh":
        return 0.5 * a * (1 + np.tanh(np.sqrt(2 / np.pi) * (a + 0.044715 * a ** 3)))
    return 0.5 * a * (1 + _erf_ref(a / np.sqrt(2)))


# name -> (numpy reference on float64, float domain for values and gradients or None if not differentiable,
#          result kind on integer input: "float" (default float), "same" (keeps the dtype) or "bool")
UNARY = {
    "neg": (np.negative, (-2, 2), "same"),
    "abs": (np.abs, (0.2, 2), "same"),
    "exp": (np.exp, (-2, 2), "float"),
    "exp2": (np.exp2, (-2, 2), "float"),
    "expm1": (np.expm1, (-2, 2), "float"),
    "log": (np.log, (0.1, 3), "float"),
    "log2": (np.log2, (0.1, 3), "float"),
    "log10": (np.log10, (0.1, 3), "float"),
    "log1p": (np.log1p, (-0.8, 3), "float"),
    "sqrt": (np.sqrt, (0.1, 3), "float"),
    "rsqrt": (lambda a: 1 / np.sqrt(a), (0.1, 3), "float"),
    "square": (np.square, (-2, 2), "same"),
    "sin": (np.sin, (-3, 3), "float"),
    "cos": (np.cos, (-3, 3), "float"),
    "tan": (np.tan, (-1.2, 1.2), "float"),
    "asin": (np.arcsin, (-0.9, 0.9), "float"),
    "acos": (np.arccos, (-0.9, 0.9), "float"),
    "atan": (np.arctan, (-3, 3), "float"),
    "sinh": (np.sinh, (-2, 2), "float"),
    "cosh": (np.cosh, (-2, 2), "float"),
    "tanh": (np.tanh, (-2, 2), "float"),
    "sigmoid": (_sigmoid_ref, (-4, 4), "float"),
    "relu": (lambda a: np.maximum(a, 0), (0.1, 2), "same"),
    "erf": (_erf_ref, (-3, 3), "float"),
    "erfc": (_erfc_ref, (-3, 3), "float"),
    "reciprocal": (np.reciprocal, (0.5, 3), "float"),
    "floor": (np.floor, (0.1, 0.9), "same"),
    "ceil": (np.ceil, (0.1, 0.9), "same"),
    "trunc": (np.trunc, (0.1, 0.9), "same"),
    "frac": (lambda a: a - np.trunc(a), (0.1, 0.9), "same"),
    "sign": (_sign_ref, (0.1, 2), "same"),
    "isnan": (np.isnan, None, "bool"),
    "isinf": (np.isinf, None, "bool"),
    "isfinite": (np.isfinite, None, "bool"),
    "signbit": (np.signbit, None, "bool"),
    "logical_not": (np.logical_not, None, "bool"),
}
ALIASES = {"negative": "neg", "absolute": "abs", "arcsin": "asin", "arccos": "acos", "arctan": "atan",
           "fix": "trunc", "sgn": "sign"}
NOT_ON_INT = {"frac"}  # torch: not implemented for integer dtypes
NOT_ON_BOOL = {"neg", "abs", "relu", "floor", "ceil", "trunc", "frac"}


def _ref(name, a):
    fn = UNARY[name][0]
    with np.errstate(all="ignore"):
        return fn(a)


def _uniform(shape, lo, hi, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).uniform(lo, hi, size=shape).astype(dtype)


# ----------------------------------------------------------------------------- unary: values
def test_unary_lists_cover_the_module():
    from graphc.eager.functions import pointwise as P

    assert set(P.UNARY) - {"bitwise_not", "erfinv"} == set(UNARY)


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("shape", SHAPES)
def test_unary_float_values(name, dtype, shape):
    lo, hi = UNARY[name][1] or (-2, 2)
    a = _uniform(shape, lo, hi, dtype.np)
    got = getattr(gc, name)(gc.tensor(a))
    kind = UNARY[name][2]
    want = _ref(name, a.astype(np.float64))
    assert_matches(got, want, dtype=gc.bool if kind == "bool" else dtype,
                   rtol=1e-5 if dtype is F32 else 1e-12, atol=1e-6 if dtype is F32 else 1e-13)


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("dtype", [F32, F64])
def test_unary_special_values_match_numpy_without_warnings(name, dtype):
    a = SPECIAL.astype(dtype.np)
    got = getattr(gc, name)(gc.tensor(a))
    kind = UNARY[name][2]
    want = _ref(name, a)  # numpy in the same dtype: same inf/nan conventions
    assert_matches(got, want, dtype=gc.bool if kind == "bool" else dtype, rtol=2e-6 if dtype is F32 else 1e-12,
                   atol=0)


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("dtype", [gc.int64, gc.int32, gc.uint8, gc.int8])
def test_unary_integer_inputs(name, dtype):
    vals = np.array([0, 1, 2, 3, 7], dtype=dtype.np)
    if dtype.is_signed:
        vals = np.array([-3, -1, 0, 1, 2, 7], dtype=dtype.np)
    t = gc.tensor(vals)
    if name in NOT_ON_INT:
        with pytest.raises(RuntimeError, match="not implemented"):
            getattr(gc, name)(t)
        return
    got = getattr(gc, name)(t)
    kind = UNARY[name][2]
    if kind == "float":
        with np.errstate(all="ignore"):
            want = _ref(name, vals.astype(np.float64)).astype(np.float32)
        assert_matches(got, want, dtype=F32, rtol=1e-6)
    elif kind == "bool":
        assert_matches(got, _ref(name, vals), dtype=gc.bool)
    else:
        with np.errstate(all="ignore"):
            want = _ref(name, vals).astype(dtype.np)  # integer results keep the dtype (and wrap like torch)
        assert_matches(got, want, dtype=dtype)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_bool_inputs(name):
    vals = np.array([True, False, True])
    t = gc.tensor(vals)
    kind = UNARY[name][2]
    if name in NOT_ON_BOOL:
        with pytest.raises(RuntimeError):
            getattr(gc, name)(t)
        return
    got = getattr(gc, name)(t)
    if kind == "float":
        assert_matches(got, _ref(name, vals.astype(np.float64)).astype(np.float32), dtype=F32)
    elif kind == "bool":
        assert_matches(got, _ref(name, vals), dtype=gc.bool)
    elif name == "square":
        assert_matches(got, vals.astype(np.int64), dtype=gc.int64)  # torch squares bool as int64
    else:
        assert_matches(got, vals, dtype=gc.bool)


def test_neg_of_bool_message():
    with pytest.raises(RuntimeError, match="logical_not"):
        -gc.tensor([True])


@pytest.mark.parametrize("alias, name", sorted(ALIASES.items()))
def test_unary_aliases(alias, name):
    a = _uniform((4,), 0.1, 0.9)
    assert_matches(getattr(gc, alias)(gc.tensor(a)), getattr(gc, name)(gc.tensor(a)).numpy())
    assert_matches(getattr(gc.tensor(a), alias)(), getattr(gc, name)(gc.tensor(a)).numpy())


def test_float16_unary():
    a = np.array([0.5, -1.0, 2.0], dtype=np.float16)
    got = gc.exp(gc.tensor(a))
    assert_matches(got, np.exp(a), dtype=gc.float16, rtol=1e-3)
    assert_matches(gc.erf(gc.tensor(a)), _erf_ref(a.astype(np.float64)).astype(np.float16), dtype=gc.float16,
                   rtol=1e-3)


def test_default_dtype_decides_float_result_of_int_input():
    gc.set_default_dtype(gc.float64)
    assert gc.exp(gc.tensor([1, 2])).dtype == gc.float64
    assert (gc.tensor([1, 2]) + 0.5).dtype == gc.float64


def test_sign_of_nan_is_zero_and_bitwise_not():
    assert_matches(gc.sign(gc.tensor([np.nan, -0.0, -3.0])), np.array([0.0, 0.0, -1.0], np.float32))
    assert_matches(gc.bitwise_not(gc.tensor([0, 5, -1])), np.array([-1, -6, 0]))
    assert_matches(~gc.tensor([True, False]), np.array([False, True]))
    assert_matches(gc.bitwise_not(gc.tensor([0, 200], dtype=gc.uint8)), np.array([255, 55], np.uint8))
    with pytest.raises(RuntimeError, match="bitwise_not"):
        gc.bitwise_not(gc.tensor([1.0]))
    with pytest.raises(TypeError):
        ~gc.tensor([1.0])


def test_unary_rejects_non_tensor():
    with pytest.raises(TypeError, match="exp"):
        gc.exp([1.0, 2.0])
    with pytest.raises(TypeError):
        gc.sin(2.0)


# ----------------------------------------------------------------------------- unary: gradients
DIFFERENTIABLE_UNARY = sorted(n for n, (_, dom, kind) in UNARY.items() if dom is not None and kind != "bool")


@pytest.mark.parametrize("name", DIFFERENTIABLE_UNARY + ["erfinv"])
def test_unary_gradcheck(name):
    lo, hi = UNARY[name][1] if name in UNARY else (-0.9, 0.9)
    x = rand64(2, 3, low=lo, high=hi)
    assert gradcheck(getattr(gc, name), (x,))


@pytest.mark.parametrize("name", ["exp", "log", "sin", "tanh", "sigmoid", "sqrt", "erf", "erfinv", "rsqrt",
                                  "reciprocal", "atan", "asin", "expm1", "tan"])
def test_unary_gradgradcheck(name):
    lo, hi = UNARY[name][1] if name in UNARY else (-0.8, 0.8)
    x = rand64(4, low=lo, high=hi)
    assert gradgradcheck(getattr(gc, name), (x,))


def test_piecewise_gradients_are_zero():
    x = gc.tensor([0.3, 1.7, -2.2], dtype=F64, requires_grad=True)
    for fn in (gc.floor, gc.ceil, gc.trunc, gc.round, gc.sign):
        (g,) = gc.autograd.grad(fn(x).sum(), x)
        assert_matches(g, np.zeros(3))


def test_abs_and_relu_gradient_at_zero_is_zero():
    x = gc.tensor([0.0, -1.0, 2.0], dtype=F64, requires_grad=True)
    (g,) = gc.autograd.grad(gc.abs(x).sum(), x)
    assert_matches(g, np.array([0.0, -1.0, 1.0]))
    (g,) = gc.autograd.grad(gc.relu(x).sum(), x)
    assert_matches(g, np.array([0.0, 0.0, 1.0]))


def test_unary_gradient_dtype_follows_input():
    x = gc.tensor([0.5, 1.0], requires_grad=True)
    gc.exp(x).sum().backward()
    assert x.grad.dtype == F32


# ----------------------------------------------------------------------------- erf / erfc / erfinv accuracy
def test_erf_is_accurate_on_a_wide_grid():
    x = np.concatenate([np.linspace(-7, 7, 20001), np.geomspace(1e-300, 1e-2, 300),
                        -np.geomspace(1e-300, 1e-2, 300), [0.5, 8.0, 0.4999999999999, 7.9999999999]])
    got = gc.erf(gc.tensor(x)).numpy()
    want = _erf_ref(x)
    rel = np.abs(got - want) / np.maximum(np.abs(want), 1e-300)
    assert rel.max() < 2e-15


def test_erfc_is_accurate_in_the_tails():
    x = np.concatenate([np.linspace(-6, 27, 20001), [8.0, 10.0, 20.0, 26.5]])
    got = gc.erfc(gc.tensor(x)).numpy()
    want = _erfc_ref(x)
    normal = want > 1e-300
    rel = np.abs(got[normal] - want[normal]) / want[normal]
    assert rel.max() < 4e-15
    assert np.all(np.abs(got[~normal] - want[~normal]) < 1e-310)


def test_erf_special_values():
    x = gc.tensor([np.inf, -np.inf, np.nan, 0.0, -0.0, 30.0, -30.0, 1e30])
    assert_matches(gc.erf(x), np.array([1.0, -1.0, np.nan, 0.0, -0.0, 1.0, -1.0, 1.0], np.float32))
    assert np.signbit(gc.erf(gc.tensor([-0.0])).numpy()[0])
    assert_matches(gc.erfc(x), np.array([0.0, 2.0, np.nan, 1.0, 1.0, 0.0, 2.0, 0.0], np.float32))


def test_erf_float32_rounds_from_float64():
    x = np.linspace(-4, 4, 2001).astype(np.float32)
    got = gc.erf(gc.tensor(x))
    assert got.dtype == F32
    np.testing.assert_array_equal(got.numpy(), _erf_ref(x.astype(np.float64)).astype(np.float32))


def test_erfinv_values_and_round_trip():
    # exact values at these doubles (50-digit arithmetic)
    known = {0.5: 0.47693627620446987338, 0.9: 1.1630871536766741628, -0.999: -2.3267537655135244939,
             0.1: 0.088855990494257691974, 1e-10: 8.8622692545275804594e-11, 0.999999: 3.4589107372754987775}
    ys = np.array(list(known))
    got = gc.erfinv(gc.tensor(ys)).numpy()
    np.testing.assert_allclose(got, list(known.values()), rtol=1e-14)
    y = np.concatenate([np.linspace(-0.999999, 0.999999, 4001), 1 - np.geomspace(1e-15, 1e-3, 50)])
    x = gc.erfinv(gc.tensor(y))
    back = gc.erf(x).numpy()
    np.testing.assert_allclose(back, y, rtol=0, atol=4e-16)


def test_erfinv_special_values():
    got = gc.erfinv(gc.tensor([1.0, -1.0, 1.5, -2.0, np.nan, 0.0]))
    assert_matches(got, np.array([np.inf, -np.inf, np.nan, np.nan, np.nan, 0.0], np.float32))
    assert gc.erfinv(gc.tensor([1, 0])).dtype == F32


# ----------------------------------------------------------------------------- binary
BINARY = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide,
    "floor_divide": np.floor_divide, "remainder": np.remainder, "fmod": np.fmod, "pow": np.power,
    "atan2": np.arctan2, "maximum": np.maximum, "minimum": np.minimum,
    "eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal, "gt": np.greater,
    "ge": np.greater_equal, "logical_and": np.logical_and, "logical_or": np.logical_or,
    "logical_xor": np.logical_xor,
}
BITWISE = {"bitwise_and": np.bitwise_and, "bitwise_or": np.bitwise_or, "bitwise_xor": np.bitwise_xor,
           "bitwise_left_shift": np.left_shift, "bitwise_right_shift": np.right_shift}
BOOL_RESULT = {"eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor"}
FLOAT_RESULT = {"div", "atan2"}


def _binary_ref(name, a, b):
    with np.errstate(all="ignore"):
        return BINARY[name](a, b)


def test_binary_lists_cover_the_module():
    from graphc.eager.functions import pointwise as P

    assert set(P.BINARY) | {"add", "sub", "div", "pow"} == set(BINARY) | set(BITWISE)


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("shapes", [((2, 3), (2, 3)), ((2, 1), (1, 3)), ((3,), ()), ((), ()), ((0, 3), (3,)),
                                    ((4, 1, 2), (3, 1))])
def test_binary_float_values_and_broadcasting(name, dtype, shapes):
    a = _uniform(shapes[0], 0.5, 2.0, dtype.np, seed=1)
    b = _uniform(shapes[1], 0.5, 2.0, dtype.np, seed=2)
    got = getattr(gc, name)(gc.tensor(a), gc.tensor(b))
    want = _binary_ref(name, a, b)
    assert_matches(got, want, dtype=gc.bool if name in BOOL_RESULT else dtype,
                   rtol=1e-6 if dtype is F32 else 1e-13)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_special_values_without_warnings(name):
    a = np.repeat(SPECIAL, SPECIAL.size).astype(np.float64)
    b = np.tile(SPECIAL, SPECIAL.size).astype(np.float64)
    got = getattr(gc, name)(gc.tensor(a), gc.tensor(b))
    assert_matches(got, _binary_ref(name, a, b), rtol=1e-15, atol=0)


@pytest.mark.parametrize("name", sorted(set(BINARY) - FLOAT_RESULT - {"pow"}) + sorted(BITWISE))
@pytest.mark.parametrize("dtype", [gc.int64, gc.int32, gc.int16, gc.uint8])
def test_binary_integer_values(name, dtype):
    a = np.array([[7, 9, 12, 100], [5, 6, 1, 3]], dtype=dtype.np)
    b = np.array([2, 4, 5, 3], dtype=dtype.np)
    if dtype.is_signed:
        a[0, :2] *= -1
    if name in ("sub",) and dtype is gc.uint8:
        a, b = np.maximum(a, b), np.minimum(a, b)
    ref = BITWISE.get(name) or BINARY[name]
    got = getattr(gc, name)(gc.tensor(a), gc.tensor(b))
    assert_matches(got, ref(a, b), dtype=gc.bool if name in BOOL_RESULT else dtype)


@pytest.mark.parametrize("name", ["div", "atan2"])
def test_binary_integer_inputs_give_default_float(name):
    a, b = np.array([1, -7, 9]), np.array([2, 2, -4])
    got = getattr(gc, name)(gc.tensor(a), gc.tensor(b))
    assert_matches(got, BINARY[name](a.astype(np.float64), b).astype(np.float32), dtype=F32)


@pytest.mark.parametrize("name", ["add", "mul", "maximum", "minimum", "eq", "logical_and", "logical_xor",
                                  "bitwise_and", "bitwise_or", "bitwise_xor"])
def test_binary_bool_values(name):
    a = np.array([True, True, False, False])
    b = np.array([True, False, True, False])
    ref = BITWISE.get(name) or BINARY[name]
    want = ref(a, b) if name not in ("add", "mul") else (a | b if name == "add" else a & b)
    assert_matches(getattr(gc, name)(gc.tensor(a), gc.tensor(b)), want, dtype=gc.bool)


@pytest.mark.parametrize("name", ["floor_divide", "remainder", "fmod"])
@pytest.mark.parametrize("divisor", [0, [1, 0]])
def test_integer_division_by_zero_raises(name, divisor):
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        getattr(gc, name)(gc.tensor([5, 6]), gc.tensor(divisor) if isinstance(divisor, list) else divisor)


def test_integer_division_by_zero_other_forms():
    t = gc.tensor([5, -6])
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        t // 0
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        t % gc.tensor([1, 0])
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        gc.div(t, 0, rounding_mode="trunc")
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        gc.div(t, 0, rounding_mode="floor")
    assert_matches(t / 0, np.array([np.inf, -np.inf], np.float32))  # true division is float


def test_float_division_by_zero_is_silent():
    t = gc.tensor([1.0, -1.0, 0.0])
    assert_matches(t / 0, np.array([np.inf, -np.inf, np.nan], np.float32))
    assert_matches(t // 0.0, np.array([np.inf, -np.inf, np.nan], np.float32))
    assert_matches(t % 0.0, np.array([np.nan, np.nan, np.nan], np.float32))
    assert_matches(gc.fmod(t, 0.0), np.array([np.nan, np.nan, np.nan], np.float32))


def test_floor_divide_and_remainder_follow_python_signs():
    a, b = np.array([5, -5, 7, -7]), np.array([3, 3, -3, -3])
    assert_matches(gc.tensor(a) // gc.tensor(b), a // b)
    assert_matches(gc.tensor(a) % gc.tensor(b), a % b)
    assert_matches(gc.fmod(gc.tensor(a), gc.tensor(b)), np.fmod(a, b))
    af = a.astype(np.float32) + 0.5
    assert_matches(gc.tensor(af) // 2, np.floor_divide(af, np.float32(2)))


def test_shifts_and_bitwise_on_floats_error():
    assert_matches(gc.tensor([1, 2]) << 3, np.array([8, 16]))
    assert_matches(gc.tensor([-8]) >> 1, np.array([-4]))
    assert_matches(1 << gc.tensor([1, 2]), np.array([2, 4]))
    for fn in (gc.bitwise_and, gc.bitwise_or, gc.bitwise_xor, gc.bitwise_left_shift):
        with pytest.raises(RuntimeError, match="not implemented for 'float32'"):
            fn(gc.tensor([1.0]), gc.tensor([1.0]))


def test_binary_shape_mismatch_names_op_and_shapes():
    with pytest.raises(RuntimeError) as e:
        gc.mul(gc.ones(2, 3), gc.ones(4))
    msg = str(e.value)
    assert "mul" in msg and "(2, 3)" in msg and "(4,)" in msg
    with pytest.raises(RuntimeError) as e:
        gc.ones(2, 3) + gc.ones(2, 2)
    assert "add" in str(e.value) and "(2, 2)" in str(e.value)


def test_binary_rejects_bad_argument_types():
    with pytest.raises(TypeError):
        gc.add(gc.ones(2), "a")
    with pytest.raises(TypeError):
        gc.mul(gc.ones(2), [1.0, 2.0])
    with pytest.raises(TypeError):
        gc.ones(2) + None
    with pytest.raises(TypeError):
        gc.pow(2, 3)


# ----------------------------------------------------------------------------- promotion
I64, I32, I16, I8, U8, B = gc.int64, gc.int32, gc.int16, gc.int8, gc.uint8, gc.bool


def _t(dtype, zero_dim=False):
    return gc.tensor(3 if zero_dim else [1, 2], dtype=dtype)


@pytest.mark.parametrize("a, b, want", [
    (lambda: _t(I64), lambda: 2.5, F32),
    (lambda: _t(I64), lambda: 2, I64),
    (lambda: _t(I32), lambda: 2, I32),
    (lambda: _t(U8), lambda: 2, U8),
    (lambda: _t(B), lambda: 2, I64),
    (lambda: _t(B), lambda: True, B),
    (lambda: _t(B), lambda: 1.5, F32),
    (lambda: _t(F32), lambda: _t(F64, True), F32),
    (lambda: _t(F32), lambda: _t(F64), F64),
    (lambda: _t(gc.float16), lambda: _t(F32, True), gc.float16),
    (lambda: _t(I32), lambda: _t(I64, True), I32),
    (lambda: _t(I64), lambda: _t(F64, True), F64),
    (lambda: _t(I32), lambda: _t(I64), I64),
    (lambda: _t(U8), lambda: _t(I8), I16),
    (lambda: _t(B), lambda: _t(U8), U8),
    (lambda: _t(F64, True), lambda: _t(I64, True), F64),
    (lambda: _t(F32, True), lambda: _t(F64, True), F64),
    (lambda: 2.5, lambda: _t(I64), F32),
])
@pytest.mark.parametrize("op", ["add", "mul", "maximum", "where"])
def test_promotion(a, b, want, op):
    x, y = a(), b()
    if op == "where":
        cond = gc.tensor([True, False])
        r = gc.where(cond, x, y)
    else:  # maximum also takes Python numbers here (torch wants tensors); promotion is the same
        r = getattr(gc, op)(x, y)
    assert r.dtype == want


def test_promotion_values_keep_double_precision_of_python_floats():
    # a Python float promotes as float32 but a float64 tensor uses its full value
    t = gc.tensor([1.0], dtype=F64) + 0.1
    assert t.dtype == F64 and t.item() == 1.1


def test_int8_wraps_like_torch():
    assert_matches(gc.tensor([1, 2], dtype=I8) + 1000, (np.array([1, 2], np.int8) + np.int8(1000 - 1024)))


# ----------------------------------------------------------------------------- operators and reflected forms
@pytest.mark.parametrize("expr, ref", [
    (lambda x: x + 2, lambda a: a + 2), (lambda x: 2 + x, lambda a: 2 + a),
    (lambda x: x - 2, lambda a: a - 2), (lambda x: 2 - x, lambda a: 2 - a),
    (lambda x: x * 3, lambda a: a * 3), (lambda x: 3 * x, lambda a: 3 * a),
    (lambda x: x / 4, lambda a: a / 4), (lambda x: 4 / x, lambda a: 4 / a),
    (lambda x: x // 2, lambda a: a // 2), (lambda x: 7 // x, lambda a: 7 // a),
    (lambda x: x % 2, lambda a: a % 2), (lambda x: 7 % x, lambda a: 7 % a),
    (lambda x: x ** 2, lambda a: a ** 2), (lambda x: 2 ** x, lambda a: 2 ** a),
    (lambda x: -x, lambda a: -a), (lambda x: +x, lambda a: +a), (lambda x: abs(x), lambda a: abs(a)),
    (lambda x: x == 2, lambda a: a == 2), (lambda x: x != 2, lambda a: a != 2), (lambda x: x < 2, lambda a: a < 2),
    (lambda x: x <= 2, lambda a: a <= 2), (lambda x: x > 2, lambda a: a > 2), (lambda x: x >= 2, lambda a: a >= 2),
    (lambda x: 2 < x, lambda a: 2 < a),
])
@pytest.mark.parametrize("dtype", [F32, I64])
def test_operators(expr, ref, dtype):
    a = np.array([1, 2, 3, 5], dtype=dtype.np) * (1 if dtype is I64 else 1.5)
    a = a.astype(dtype.np)
    got = expr(gc.tensor(a))
    with np.errstate(all="ignore"):
        want = ref(a)
    if isinstance(want, np.ndarray) and want.dtype == np.float64 and dtype is I64:
        want = want.astype(np.float32)  # int / int and int ** float give the default float
    if isinstance(want, np.ndarray) and want.dtype == np.float64 and dtype is F32:
        want = want.astype(np.float32)
    assert_matches(got, want, rtol=1e-6)


def test_bitwise_operators():
    a, b = np.array([12, 10, 7]), np.array([10, 6, 1])
    ta, tb = gc.tensor(a), gc.tensor(b)
    assert_matches(ta & tb, a & b)
    assert_matches(ta | tb, a | b)
    assert_matches(ta ^ tb, a ^ b)
    assert_matches(3 & ta, 3 & a)
    assert_matches(3 | ta, 3 | a)
    assert_matches(3 ^ ta, 3 ^ a)
    assert_matches(~ta, ~a)
    m = gc.tensor([True, False])
    assert_matches(m & gc.tensor([True, True]), np.array([True, False]))


def test_operators_with_numpy_scalars_and_arrays():
    t = gc.tensor([1.0, 2.0])
    assert_matches(t * np.float64(2.0), np.array([2.0, 4.0], np.float32))
    r = np.float32(3.0) + t
    assert isinstance(r, gc.Tensor)
    assert_matches(r, np.array([4.0, 5.0], np.float32))


def test_sub_with_bool_is_refused():
    b = gc.tensor([True, False])
    with pytest.raises(RuntimeError, match="two bool tensors"):
        b - b
    with pytest.raises(RuntimeError, match="bool tensor is not supported"):
        gc.tensor([1.0]) - b
    with pytest.raises(RuntimeError, match="bool tensor is not supported"):
        1 - b
    with pytest.raises(RuntimeError, match="bool"):
        gc.tensor([1, 2]) - True


# ----------------------------------------------------------------------------- composites with options
@pytest.mark.parametrize("fn, ref", [(gc.add, np.add), (gc.sub, np.subtract)])
def test_add_sub_alpha(fn, ref):
    a, b = np.array([1.0, 2.0], np.float32), np.array([3.0, 5.0], np.float32)
    assert_matches(fn(gc.tensor(a), gc.tensor(b), alpha=2), ref(a, 2 * b))
    assert_matches(fn(gc.tensor(a), gc.tensor(b), alpha=0.5), ref(a, 0.5 * b))
    assert_matches(fn(gc.tensor(a), 3, alpha=2), ref(a, 6).astype(np.float32))
    ia, ib = np.array([1, 2], np.int32), np.array([200, 100], np.uint8)
    assert_matches(fn(gc.tensor(ia), gc.tensor(ib), alpha=2), ref(ia, 2 * ib.astype(np.int32)))  # no uint8 wrap
    assert_matches(getattr(gc.tensor(a), fn.__name__)(gc.tensor(b), alpha=-1), ref(a, -b))


def test_alpha_errors():
    i = gc.tensor([1, 2])
    with pytest.raises(RuntimeError, match="alpha must not be a floating point"):
        gc.add(i, i, alpha=0.5)
    with pytest.raises(RuntimeError, match="Boolean alpha"):
        gc.add(gc.tensor([1.0]), gc.tensor([1.0]), alpha=True)
    b = gc.tensor([True, False])
    assert_matches(gc.add(b, b, alpha=True), np.array([True, False]))


def test_alpha_keeps_dtype_of_promotion():
    r = gc.add(gc.tensor([1], dtype=I32), gc.tensor([True]), alpha=2)
    assert_matches(r, np.array([3], np.int32))


def test_add_alpha_gradient():
    a, b = rand64(3, seed=1), rand64(2, 1, seed=2)
    assert gradcheck(lambda a, b: gc.add(a, b, alpha=2.5), (a, b))
    assert gradcheck(lambda a, b: gc.sub(a, b, alpha=-3), (a, b))


@pytest.mark.parametrize("dtype", [F32, F64, I64, I32])
def test_div_rounding_modes(dtype):
    a = np.array([7, -7, 7, -7, 6, 0], dtype=dtype.np)
    b = np.array([2, 2, -2, -2, 3, 5], dtype=dtype.np)
    if dtype.is_floating_point:
        a = a + np.array(0.5, dtype.np)
    ta, tb = gc.tensor(a), gc.tensor(b)
    true_dt = dtype if dtype.is_floating_point else F32
    assert_matches(gc.div(ta, tb), (a / b).astype(true_dt.np), dtype=true_dt)
    assert_matches(gc.true_divide(ta, tb), (a / b).astype(true_dt.np), dtype=true_dt)
    assert_matches(gc.divide(ta, tb, rounding_mode="floor"), np.floor_divide(a, b), dtype=dtype)
    want_trunc = np.trunc(a / b).astype(dtype.np)
    assert_matches(gc.div(ta, tb, rounding_mode="trunc"), want_trunc, dtype=dtype)
    assert_matches(ta.div(tb, rounding_mode="trunc"), want_trunc, dtype=dtype)
    with pytest.raises(RuntimeError, match="rounding_mode"):
        gc.div(ta, tb, rounding_mode="round")


def test_div_gradients():
    a, b = rand64(2, 3, seed=1), rand64(3, low=0.5, high=2, seed=2)
    assert gradcheck(gc.div, (a, b))
    assert gradgradcheck(gc.div, (a, b))
    assert gradcheck(lambda a: 2.0 / (a + 3.0), (a,))


@pytest.mark.parametrize("base, exp, want_dtype", [
    (lambda: gc.tensor([1.5, 2.0, 0.5]), lambda: 2, F32),
    (lambda: gc.tensor([1.5, 2.0, 0.5]), lambda: -1.5, F32),
    (lambda: gc.tensor([1.5, 2.0, 0.5]), lambda: gc.tensor([1.0, 2.0, 3.0]), F32),
    (lambda: 2.0, lambda: gc.tensor([1.0, -2.0, 0.5]), F32),
    (lambda: 2, lambda: gc.tensor([1, 2, 3]), I64),
    (lambda: gc.tensor([1, 2, 3]), lambda: 2, I64),
    (lambda: gc.tensor([1, 2, 3]), lambda: 0.5, F32),
    (lambda: gc.tensor([1, 2, 3]), lambda: gc.tensor(2.0, dtype=F64), F64),
    (lambda: gc.tensor([1.0, 2.0, 3.0]), lambda: gc.tensor([2, 1, 0]), F32),
])
def test_pow_forms(base, exp, want_dtype):
    x, y = base(), exp()
    r = gc.pow(x, y)
    xa = x.numpy().astype(np.float64) if isinstance(x, gc.Tensor) else x
    ya = y.numpy().astype(np.float64) if isinstance(y, gc.Tensor) else y
    assert_matches(r, np.power(xa, ya).astype(want_dtype.np), dtype=want_dtype)
    assert_matches(x ** y, np.power(xa, ya).astype(want_dtype.np), dtype=want_dtype)


def test_integer_pow_with_negative_exponents():
    base = gc.tensor([-2, -1, 0, 1, 2, 3])
    with pytest.raises(RuntimeError, match="negative integer powers"):
        base ** -1
    with pytest.raises(RuntimeError, match="negative integer powers"):
        gc.pow(gc.tensor([2], dtype=U8), -2)
    # a negative exponent tensor: torch gives 1 for base 1, +-1 for base -1, else 0
    assert_matches(base ** gc.tensor(-1), np.array([0, -1, 0, 1, 0, 0]))
    assert_matches(base ** gc.tensor([-2]), np.array([0, 1, 0, 1, 0, 0]))
    assert_matches(2 ** gc.tensor([-1, 3]), np.array([0, 8]))
    assert_matches(gc.tensor([2.0]) ** -1, np.array([0.5], np.float32))


def test_pow_special_cases():
    x = gc.tensor([0.0, -0.0, 2.0, -2.0, np.inf, np.nan])
    assert_matches(x ** 0, np.ones(6, np.float32))
    with np.errstate(invalid="ignore"):
        want = np.power(x.numpy(), np.float32(0.5))
    assert_matches(x ** 0.5, want)
    assert_matches(gc.tensor([True, False]) ** 2, np.array([1, 0]))


def test_pow_gradients():
    a = rand64(2, 3, low=0.5, high=2, seed=1)
    b = rand64(3, low=-1.5, high=1.5, seed=2)
    assert gradcheck(gc.pow, (a, b))
    assert gradgradcheck(gc.pow, (a, b))
    assert gradcheck(lambda a: a ** 3, (a,))
    assert gradcheck(lambda b: 2.5 ** b, (b,))
    assert gradcheck(lambda b: gc.float_power(2, b), (b,))


def test_pow_gradient_edge_cases_match_torch():
    x = gc.tensor([0.0, 2.0], dtype=F64, requires_grad=True)
    (g,) = gc.autograd.grad((x ** 0).sum(), x)
    assert_matches(g, np.array([0.0, 0.0]))
    (g,) = gc.autograd.grad((x ** 2).sum(), x)
    assert_matches(g, np.array([0.0, 4.0]))
    e = gc.tensor([2.0, 3.0], dtype=F64, requires_grad=True)
    (g,) = gc.autograd.grad(gc.pow(gc.tensor([0.0, 2.0], dtype=F64), e).sum(), e)
    assert_matches(g, np.array([0.0, 8 * math.log(2)]))  # 0 ** e has gradient 0, not nan


def test_float_power():
    r = gc.float_power(gc.tensor([2, 3]), 2)
    assert_matches(r, np.array([4.0, 9.0]), dtype=F64)
    assert_matches(gc.float_power(gc.tensor([2.0], dtype=F32), gc.tensor([-1])), np.array([0.5]), dtype=F64)


@pytest.mark.parametrize("binary", ["atan2", "maximum", "minimum", "remainder", "fmod", "mul", "sub"])
def test_binary_gradcheck_with_broadcasting(binary):
    a = rand64(3, 1, low=0.6, high=2.0, seed=1)
    b = rand64(1, 4, low=-2.0, high=-0.3, seed=2)
    assert gradcheck(getattr(gc, binary), (a, b))
    c = rand64(low=0.5, high=1.0, seed=3)  # 0-d
    assert gradcheck(getattr(gc, binary), (a, c))


def test_maximum_minimum_ties_split_gradient():
    a = gc.tensor([1.0, 2.0, 3.0], dtype=F64, requires_grad=True)
    b = gc.tensor([1.0, 5.0, 0.0], dtype=F64, requires_grad=True)
    gc.maximum(a, b).sum().backward()
    assert_matches(a.grad, np.array([0.5, 0.0, 1.0]))
    assert_matches(b.grad, np.array([0.5, 1.0, 0.0]))


def test_maximum_propagates_nan_and_fmax_ignores_it():
    a = gc.tensor([np.nan, 1.0, np.nan, 2.0])
    b = gc.tensor([1.0, np.nan, np.nan, 3.0])
    assert_matches(gc.maximum(a, b), np.array([np.nan, np.nan, np.nan, 3.0], np.float32))
    assert_matches(gc.fmax(a, b), np.fmax(a.numpy(), b.numpy()))
    assert_matches(gc.fmin(a, b), np.fmin(a.numpy(), b.numpy()))
    assert_matches(gc.fmax(gc.tensor([1, 5]), gc.tensor([3, 2])), np.array([3, 5]))
    x = rand64(4, seed=1)
    y = rand64(4, seed=2)
    assert gradcheck(gc.fmax, (x, y)) and gradcheck(gc.fmin, (x, y))


def test_where():
    c = np.array([[True, False, True]])
    a = _uniform((2, 3), -1, 1, np.float32)
    b = _uniform((2, 1), -1, 1, np.float64)
    assert_matches(gc.where(gc.tensor(c), gc.tensor(a), gc.tensor(b)), np.where(c, a, b))
    assert_matches(gc.where(gc.tensor(c), gc.tensor(a), 0.0), np.where(c, a, np.float32(0)))
    assert_matches(gc.where(gc.tensor(c), 1, 0), np.where(c, 1, 0))
    assert_matches(gc.where(gc.tensor(c), 1.0, 0), np.where(c, 1.0, 0.0).astype(np.float32))
    assert_matches(gc.tensor(a).where(gc.tensor(c), -1.0), np.where(c, a, np.float32(-1)))
    assert_matches(gc.where(gc.tensor([1, 0, 2], dtype=U8), gc.tensor([1, 2, 3]), 0), np.array([1, 0, 3]))
    with pytest.raises(RuntimeError, match="boolean"):
        gc.where(gc.tensor([1.0]), gc.tensor([1.0]), 0.0)
    with pytest.raises(RuntimeError):
        gc.where(gc.tensor([True, False]), gc.ones(3), 0.0)


def test_where_gradients():
    c = gc.tensor([[True, False, True]])
    a = rand64(2, 3, seed=1)
    b = rand64(2, 1, seed=2)
    assert gradcheck(lambda a, b: gc.where(c, a, b), (a, b))
    assert gradgradcheck(lambda a, b: gc.where(c, a * a, b * b), (a, b))


@pytest.mark.parametrize("weight", [0.25, 0.75, -1.5, 2.0])
def test_lerp_scalar_weight(weight):
    a = _uniform((2, 3), -2, 2, np.float32, 1)
    b = _uniform((3,), -2, 2, np.float32, 2)
    want = a + np.float32(weight) * (b - a)
    assert_matches(gc.lerp(gc.tensor(a), gc.tensor(b), weight), want, rtol=1e-5, atol=1e-5)
    x, y = rand64(2, 3, seed=1), rand64(3, seed=2)
    assert gradcheck(lambda x, y: gc.lerp(x, y, weight), (x, y))


def test_lerp_tensor_weight_and_exact_end():
    a = gc.tensor([1.0, 1e8, -3.0])
    b = gc.tensor([2.0, 1.0, 7.0])
    w = gc.tensor([0.3, 1.0, 0.9])
    want = np.where(np.abs(w.numpy()) < 0.5, a.numpy() + w.numpy() * (b.numpy() - a.numpy()),
                    b.numpy() - (b.numpy() - a.numpy()) * (1 - w.numpy()))
    r = gc.lerp(a, b, w)
    assert_matches(r, want)
    assert r.numpy()[1] == 1.0  # weight 1 gives exactly end, like torch
    x, y, ww = rand64(4, seed=1), rand64(4, seed=2), rand64(4, low=-1, high=1.5, seed=3)
    assert gradcheck(gc.lerp, (x, y, ww))
    with pytest.raises(RuntimeError, match="not implemented"):
        gc.lerp(gc.tensor([1, 2]), gc.tensor([3, 4]), 0.5)


@pytest.mark.parametrize("lo, hi", [(-0.5, 0.5), (None, 0.2), (-0.2, None), (0.5, -0.5)])
@pytest.mark.parametrize("dtype", [F32, F64])
def test_clamp_numbers(lo, hi, dtype):
    a = _uniform((3, 4), -1, 1, dtype.np)
    want = a
    if lo is not None:
        want = np.maximum(want, dtype.np.type(lo))
    if hi is not None:
        want = np.minimum(want, dtype.np.type(hi))
    assert_matches(gc.clamp(gc.tensor(a), lo, hi), want)
    assert_matches(gc.clip(gc.tensor(a), min=lo, max=hi), want)
    assert_matches(gc.tensor(a).clamp(min=lo, max=hi), want)


def test_clamp_dtypes_and_nan():
    assert_matches(gc.clamp(gc.tensor([1, 5, 9]), 2, 7), np.array([2, 5, 7]))
    assert_matches(gc.clamp(gc.tensor([1, 5, 9]), 2.5, 7), np.array([2.5, 5.0, 7.0], np.float32))
    assert_matches(gc.clamp(gc.tensor([np.nan, 3.0]), 0.0, 1.0), np.array([np.nan, 1.0], np.float32))
    with pytest.raises(RuntimeError, match="At least one"):
        gc.clamp(gc.ones(2))
    with pytest.raises(RuntimeError, match="not implemented for 'bool'"):
        gc.clamp(gc.tensor([True]), False, True)   # int bounds would promote to int64 (torch)


def test_clamp_tensor_bounds():
    x = gc.tensor([1.0, 5.0, 9.0])
    r = gc.clamp(x, gc.tensor([2.0, 6.0, 0.0]), gc.tensor(7.0))
    assert_matches(r, np.array([2.0, 6.0, 7.0], np.float32))
    assert_matches(gc.clamp(x, min=gc.tensor([[0.0], [6.0]])), np.array([[1, 5, 9], [6, 6, 9]], np.float32))
    a = rand64(2, 3, low=-1, high=1, seed=1)
    lo = rand64(3, low=-0.6, high=-0.1, seed=2)
    hi = rand64(2, 1, low=0.1, high=0.6, seed=3)
    assert gradcheck(lambda a, lo, hi: gc.clamp(a, lo, hi), (a, lo, hi))


def test_clamp_gradient_passes_inside_range_inclusive():
    x = gc.tensor([-2.0, -1.0, 0.0, 1.0, 2.0], dtype=F64, requires_grad=True)
    (g,) = gc.autograd.grad(gc.clamp(x, -1.0, 1.0).sum(), x)
    assert_matches(g, np.array([0.0, 1.0, 1.0, 1.0, 0.0]))
    a = rand64(5, low=-2, high=2)
    assert gradcheck(lambda a: gc.clamp(a, -1.05, 1.05), (a,))


@pytest.mark.parametrize("decimals", [0, 1, 2, -1, -2])
def test_round_decimals(decimals):
    a = np.array([0.5, 1.5, 2.5, -0.5, 1.2345, 125.0, 1234.5678, -76.54321], np.float32)
    f = np.float32(10.0 ** abs(decimals))
    want = np.round(a) if decimals == 0 else (np.round(a * f) / f if decimals > 0 else np.round(a / f) * f)
    assert_matches(gc.round(gc.tensor(a), decimals=decimals), want.astype(np.float32), rtol=0, atol=0)


def test_round_half_to_even_and_int():
    assert_matches(gc.round(gc.tensor([0.5, 1.5, 2.5, -2.5])), np.array([0.0, 2.0, 2.0, -2.0], np.float32))
    assert_matches(gc.round(gc.tensor([3, -4])), np.array([3, -4]))
    with pytest.raises(RuntimeError):
        gc.round(gc.tensor([3]), decimals=1)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu(approximate):
    a = np.linspace(-5, 5, 41)
    assert_matches(gc.gelu(gc.tensor(a), approximate=approximate), _gelu_ref(a, approximate), rtol=1e-12,
                   atol=1e-14)
    x = rand64(2, 3, low=-3, high=3)
    assert gradcheck(lambda x: gc.gelu(x, approximate=approximate), (x,))
    assert gradgradcheck(lambda x: gc.gelu(x, approximate=approximate), (x,))


def test_gelu_errors():
    with pytest.raises(RuntimeError, match="approximate"):
        gc.gelu(gc.ones(2), approximate="fast")
    with pytest.raises(RuntimeError, match="not implemented"):
        gc.gelu(gc.tensor([1, 2]))


def test_xlogy():
    x = np.array([0.0, 0.0, 2.0, 1.5, 0.0, 3.0])
    y = np.array([0.0, np.nan, 3.0, 0.0, -1.0, -1.0])
    with np.errstate(all="ignore"):
        want = np.where(np.isnan(y), np.nan, np.where(x == 0, 0.0, x * np.log(y)))
    assert_matches(gc.xlogy(gc.tensor(x), gc.tensor(y)), want)
    assert gc.xlogy(gc.tensor([1, 2]), gc.tensor([3])).dtype == F32
    assert gc.xlogy(gc.tensor(2.0, dtype=F64), gc.tensor([1, 2])).dtype == F64
    assert_matches(gc.xlogy(2, gc.tensor([1.0, np.e])), np.array([0.0, 2.0], np.float32))
    a, b = rand64(3, seed=1), rand64(3, low=0.5, high=2, seed=2)
    assert gradcheck(gc.xlogy, (a, b))
    xz = gc.tensor([0.0, 1.0], dtype=F64, requires_grad=True)
    yz = gc.tensor([0.0, 2.0], dtype=F64, requires_grad=True)
    gc.xlogy(xz, yz).sum().backward()
    assert_matches(xz.grad, np.array([0.0, math.log(2)]))  # no nan from 0 * log(0)


def test_hypot():
    a = np.array([3.0, 1e200, 1e-200, 0.0, np.inf, np.nan, -5.0])
    b = np.array([4.0, 1e200, 1e-200, 0.0, np.nan, 1.0, 12.0])
    assert_matches(gc.hypot(gc.tensor(a), gc.tensor(b)), np.hypot(a, b), rtol=1e-15)
    assert gc.hypot(gc.tensor([3.0]), gc.tensor([4], dtype=U8)).dtype == F32
    with pytest.raises(RuntimeError, match="not implemented"):
        gc.hypot(gc.tensor([3]), gc.tensor([4]))
    x, y = rand64(2, 3, seed=1), rand64(3, seed=2)
    assert gradcheck(gc.hypot, (x, y))


def test_logaddexp():
    a = np.array([0.0, 1000.0, -1000.0, -np.inf, np.inf, 2.0, np.nan])
    b = np.array([0.0, 1000.0, -1001.0, -np.inf, -np.inf, -3.0, 1.0])
    with np.errstate(invalid="ignore"):
        want = np.logaddexp(a, b)
    assert_matches(gc.logaddexp(gc.tensor(a), gc.tensor(b)), want, rtol=1e-14)
    with pytest.raises(RuntimeError, match="not implemented"):
        gc.logaddexp(gc.tensor([1]), gc.tensor([2]))
    x, y = rand64(2, 3, seed=1), rand64(3, seed=2)
    assert gradcheck(gc.logaddexp, (x, y))


def test_copysign():
    a = np.array([1.0, -2.0, 3.0, 0.0, np.inf, np.nan])
    b = np.array([-1.0, 2.0, -0.0, -5.0, -1.0, -1.0])
    assert_matches(gc.copysign(gc.tensor(a), gc.tensor(b)), np.copysign(a, b))
    assert_matches(gc.copysign(gc.tensor([1, 2]), gc.tensor([-1, 1])), np.array([-1.0, 2.0], np.float32))
    assert_matches(gc.copysign(gc.tensor([1, 2]), -1.0), np.array([-1.0, -2.0], np.float32))
    assert gc.copysign(gc.tensor([1.0]), gc.tensor([1.0], dtype=F64)).dtype == F64
    assert_matches(gc.copysign(gc.tensor([True]), -1), np.array([-1.0], np.float32))
    x, y = rand64(4, seed=1), rand64(4, seed=2)
    assert gradcheck(gc.copysign, (x, y))


def test_signbit():
    assert_matches(gc.signbit(gc.tensor([-0.0, 0.0, -1.0, np.inf, -np.inf])),
                   np.array([True, False, True, False, True]))
    assert_matches(gc.signbit(gc.tensor([-3, 0, 2])), np.array([True, False, False]))
    assert_matches(gc.signbit(gc.tensor([True, False])), np.array([False, False]))


@pytest.mark.parametrize("dtype", [F32, F64, gc.float16])
def test_nan_to_num(dtype):
    a = np.array([np.nan, np.inf, -np.inf, 1.5], dtype=dtype.np)
    assert_matches(gc.nan_to_num(gc.tensor(a)), np.nan_to_num(a), dtype=dtype)
    assert_matches(gc.nan_to_num(gc.tensor(a), nan=1.0, posinf=2.0, neginf=-3.0),
                   np.nan_to_num(a, nan=1.0, posinf=2.0, neginf=-3.0), dtype=dtype)
    assert_matches(gc.tensor(a).nan_to_num(0.5), np.nan_to_num(a, nan=0.5), dtype=dtype)


def test_nan_to_num_int_and_grad():
    assert_matches(gc.nan_to_num(gc.tensor([1, 2])), np.array([1, 2]))
    x = gc.tensor([np.nan, 2.0, np.inf], dtype=F64, requires_grad=True)
    gc.nan_to_num(x).sum().backward()
    assert_matches(x.grad, np.array([0.0, 1.0, 0.0]))


def test_logit():
    p = np.array([0.1, 0.5, 0.9, 0.0, 1.0])
    with np.errstate(all="ignore"):
        want = np.log(p / (1 - p))
    assert_matches(gc.logit(gc.tensor(p)), want)
    eps = 0.2
    pc = np.clip(p, eps, 1 - eps)
    assert_matches(gc.logit(gc.tensor(p), eps), np.log(pc / (1 - pc)))
    assert_matches(gc.logit(gc.tensor([0, 1, 2], dtype=U8)), np.array([-np.inf, np.inf, np.nan], np.float32))
    x = rand64(4, low=0.1, high=0.9)
    assert gradcheck(gc.logit, (x,))
    assert gradcheck(lambda x: gc.logit(x, 0.05), (x,))


def test_sinc():
    a = np.array([0.0, 0.5, 1.0, -2.5, 1e-20, np.inf])
    with np.errstate(all="ignore"):
        assert_matches(gc.sinc(gc.tensor(a)), np.sinc(a))
    assert gc.sinc(gc.tensor([0, 1])).dtype == F32
    x = rand64(5, low=-2, high=2)
    assert gradcheck(gc.sinc, (x,))
    z = gc.tensor([0.0], dtype=F64, requires_grad=True)
    gc.sinc(z).sum().backward()
    assert_matches(z.grad, np.array([0.0]))


def test_frac_and_fix():
    a = np.array([1.5, -1.5, 2.0, -0.25, np.inf, np.nan], np.float32)
    with np.errstate(all="ignore"):
        assert_matches(gc.frac(gc.tensor(a)), a - np.trunc(a))
    assert_matches(gc.fix(gc.tensor(a)), np.trunc(a))


def test_heaviside():
    x = gc.tensor([-1.5, 0.0, 2.0])
    assert_matches(gc.heaviside(x, gc.tensor([0.5])), np.heaviside(x.numpy(), np.float32(0.5)))
    assert_matches(gc.heaviside(gc.tensor([0, 1, -1]), gc.tensor([5])), np.array([5, 1, 0]))
    with pytest.raises(RuntimeError, match="different dtypes"):
        gc.heaviside(x, gc.tensor([1.0], dtype=F64))


def test_deg_rad_and_positive():
    a = np.array([0.0, 90.0, -180.0], np.float32)
    assert_matches(gc.deg2rad(gc.tensor(a)), np.deg2rad(a))
    assert_matches(gc.rad2deg(gc.deg2rad(gc.tensor(a))), a, rtol=1e-6)
    assert_matches(gc.deg2rad(gc.tensor([180])), np.array([np.pi], np.float32))
    t = gc.tensor([1.0])
    assert gc.positive(t) is t
    with pytest.raises(RuntimeError, match="bool"):
        gc.positive(gc.tensor([True]))


@pytest.mark.parametrize("name", ["xlogy", "hypot", "logaddexp", "copysign", "fmax", "fmin", "lerp"])
def test_composite_binary_broadcast_and_zero_dim(name):
    a = _uniform((2, 1, 3), 0.5, 2.0, np.float64, 1)
    b = _uniform((4, 1), 0.5, 2.0, np.float64, 2)
    args = (gc.tensor(a), gc.tensor(b)) + ((0.3,) if name == "lerp" else ())
    assert getattr(gc, name)(*args).shape == (2, 4, 3)
    args0 = (gc.tensor(1.5, dtype=F64), gc.tensor(0.5, dtype=F64)) + ((0.3,) if name == "lerp" else ())
    assert getattr(gc, name)(*args0).shape == ()


def test_comparisons_and_logic_with_scalars():
    t = gc.tensor([1.0, np.nan, 3.0])
    assert_matches(t == 1.0, np.array([True, False, False]))
    assert_matches(t != t, np.array([False, True, False]))
    assert_matches(gc.eq(gc.tensor([1, 2]), 2.0), np.array([False, True]))
    assert_matches(gc.logical_and(gc.tensor([1.0, 0.0]), gc.tensor([2, 2])), np.array([True, False]))
    assert_matches(gc.greater(t, 2), np.array([False, False, True]))
    assert_matches(gc.less_equal(t, 1), np.array([True, False, False]))
    assert_matches(gc.not_equal(t, 1), np.array([False, True, True]))


def test_comparisons_carry_no_gradient():
    x = rand64(3)
    for r in (x > 0, gc.eq(x, x), gc.isnan(x), gc.logical_not(x), gc.signbit(x)):
        assert not r.requires_grad and r.grad_fn is None


# ----------------------------------------------------------------------------- empty, 0-d and size-1
@pytest.mark.parametrize("name", ["exp", "neg", "sigmoid", "erf", "floor", "isnan"])
def test_unary_shapes_kept(name):
    for shape in [(), (1,), (0,), (0, 3), (1, 1, 1)]:
        r = getattr(gc, name)(gc.zeros(shape))
        assert r.shape == shape


def test_empty_broadcasting():
    assert (gc.zeros(0, 3) + gc.ones(3)).shape == (0, 3)
    assert (gc.zeros(0) * gc.ones(1)).shape == (0,)
    assert gc.where(gc.zeros(0, dtype=B), gc.ones(1), 0.0).shape == (0,)
    with pytest.raises(RuntimeError):
        gc.zeros(0) + gc.ones(2)


def test_zero_dim_results_are_tensors():
    r = gc.tensor(2.0) * 3
    assert isinstance(r, gc.Tensor) and r.shape == () and r.item() == 6.0
    assert (gc.tensor(2) + gc.tensor(3)).dtype == I64


def test_empty_gradients():
    x = gc.zeros(0, 3, dtype=F64, requires_grad=True)
    (x.exp() * 2).sum().backward()
    assert x.grad.shape == (0, 3)


# ----------------------------------------------------------------------------- in-place and out=
INPLACE_CASES = ["neg", "abs", "exp", "log1p", "sqrt", "sin", "tanh", "sigmoid", "relu", "erf", "erfinv",
                 "reciprocal", "floor", "ceil", "trunc", "frac", "sign", "square", "exp2", "rsqrt", "expm1",
                 "atan", "sinh", "cosh", "tan", "asin", "acos", "log", "log2", "log10", "cos", "erfc",
                 "sgn", "fix", "negative", "arcsin", "arccos", "arctan", "deg2rad", "rad2deg", "logit", "sinc",
                 "absolute", "nan_to_num"]


@pytest.mark.parametrize("name", INPLACE_CASES)
def test_unary_in_place_forms(name):
    a = _uniform((2, 3), 0.1, 0.8, np.float32)
    t = gc.tensor(a)
    want = getattr(gc, name)(gc.tensor(a)).numpy()
    assert getattr(t, name + "_")() is t
    assert_matches(t, want)


@pytest.mark.parametrize("name, other", [
    ("add", 2.0), ("sub", 2.0), ("mul", 3.0), ("div", 2.0), ("true_divide", 2.0), ("pow", 2.0),
    ("floor_divide", 2.0), ("remainder", 0.3), ("fmod", 0.3), ("atan2", 0.5), ("xlogy", 2.0), ("hypot", 2.0),
    ("copysign", -1.0), ("float_power", 2.0), ("subtract", 1.0), ("multiply", 2.0), ("divide", 4.0),
    ("arctan2", 1.0), ("eq", 0.5), ("lt", 0.5), ("logical_or", 0.0), ("clamp", 0.3), ("clip", 0.3),
])
def test_binary_in_place_forms(name, other):
    a = _uniform((2, 3), 0.1, 0.8, np.float64)
    t = gc.tensor(a)
    want = getattr(gc, name)(gc.tensor(a), other)
    assert getattr(t, name + "_")(other) is t
    assert_matches(t, want.numpy().astype(np.float64), dtype=F64)  # results cast back into t's dtype


def test_in_place_lerp_and_round():
    t = gc.tensor([1.0, 2.0])
    t.lerp_(gc.tensor([3.0, 4.0]), 0.5)
    assert_matches(t, np.array([2.0, 3.0], np.float32))
    t.round_(decimals=0)
    assert_matches(t, np.array([2.0, 3.0], np.float32))


def test_bitwise_in_place():
    t = gc.tensor([12, 10])
    t.bitwise_and_(gc.tensor([10, 6]))
    assert_matches(t, np.array([8, 2]))
    t.bitwise_left_shift_(1)
    assert_matches(t, np.array([16, 4]))
    m = gc.tensor([True, False])
    m.logical_not_()
    assert_matches(m, np.array([False, True]))


@pytest.mark.parametrize("name, args", [
    ("exp", ()), ("abs", ()), ("add", (2.0,)), ("mul", (gc.tensor([2.0]),)), ("div", (4.0,)), ("pow", (2,)),
    ("maximum", (gc.tensor([0.5]),)), ("clamp", (0.2, 0.6)), ("where", None), ("round", ()), ("xlogy", (2.0,)),
    ("erf", ()), ("sigmoid", ()), ("remainder", (0.3,)), ("logaddexp", (gc.tensor([0.0]),)),
])
def test_out_argument(name, args):
    a = gc.tensor(_uniform((2, 3), 0.1, 0.9, np.float32))
    if args is None:
        want = gc.where(a > 0.5, a, 0.0)
        out = gc.empty(2, 3)
        r = gc.where(a > 0.5, a, 0.0, out=out)
    else:
        want = getattr(gc, name)(a, *args)
        out = gc.empty(2, 3)
        r = getattr(gc, name)(a, *args, out=out)
    assert r is out
    assert_matches(out, want.numpy())


def test_out_resizes_casts_and_refuses():
    out = gc.empty(0)
    gc.add(gc.ones(2, 2), 1.0, out=out)
    assert_matches(out, np.full((2, 2), 2.0, np.float32))
    o64 = gc.empty(3, dtype=F64)
    gc.mul(gc.ones(3), 2.0, out=o64)
    assert_matches(o64, np.full(3, 2.0))
    oi = gc.empty(3, dtype=I64)
    with pytest.raises(RuntimeError, match="can't be cast"):
        gc.exp(gc.ones(3), out=oi)
    with pytest.raises(RuntimeError, match="automatic differentiation"):
        gc.exp(gc.ones(3, requires_grad=True), out=gc.empty(3))
    ob = gc.empty(3, dtype=B)
    gc.gt(gc.tensor([1.0, -1.0, 2.0]), 0, out=ob)
    assert_matches(ob, np.array([True, False, True]))


# ----------------------------------------------------------------------------- more gradients
@pytest.mark.parametrize("fn", [
    gc.deg2rad, gc.rad2deg, lambda x: gc.true_divide(x, 3.0), lambda x: gc.float_power(x + 2, 1.5),
    lambda x: gc.add(x, x * x, alpha=3), lambda x: 1.5 - x, lambda x: 2 / (x + 3), lambda x: x % 0.7,
    lambda x: gc.nan_to_num(x / 0.5), gc.positive, gc.negative, gc.absolute, gc.arcsin, gc.arctan, gc.sgn,
    lambda x: gc.arctan2(x, x + 2.0), lambda x: gc.clip(x, max=0.3), lambda x: gc.square(x) * gc.exp2(x),
    lambda x: gc.heaviside(x, gc.tensor(0.5, dtype=F64)) * x,
], ids=["deg2rad", "rad2deg", "true_divide", "float_power", "add_alpha", "rsub", "rdiv", "rmod", "nan_to_num",
        "positive", "negative", "absolute", "arcsin", "arctan", "sgn", "arctan2", "clip", "square_exp2",
        "heaviside"])
def test_composite_gradcheck(fn):
    x = rand64(2, 3, low=-0.9, high=0.9, seed=11)
    assert gradcheck(fn, (x,))


def test_scalar_operand_gradients_keep_float64_precision():
    # Python numbers are wrapped as the default float; a rule must not round them through float32
    x = gc.tensor([0.7, 1.3], dtype=F64, requires_grad=True)
    xv = x.detach().numpy()
    (g,) = gc.autograd.grad((x ** 0.1).sum(), x)
    np.testing.assert_allclose(g.numpy(), 0.1 * xv ** -0.9, rtol=1e-15)
    (g,) = gc.autograd.grad((2.5 ** x).sum(), x)
    np.testing.assert_allclose(g.numpy(), math.log(2.5) * 2.5 ** xv, rtol=1e-15)
    (g,) = gc.autograd.grad(gc.atan2(x, 0.1).sum(), x)
    np.testing.assert_allclose(g.numpy(), 0.1 / (xv ** 2 + 0.01), rtol=1e-15)


def test_rsub():
    a = np.array([1.0, 2.0], np.float32)
    assert_matches(gc.rsub(gc.tensor(a), 3), 3 - a)
    assert_matches(gc.rsub(gc.tensor(a), gc.tensor([1.0, 1.0]), alpha=2), 1 - 2 * a)
    with pytest.raises(RuntimeError, match="bool"):
        gc.rsub(gc.tensor([True]), 1)


@pytest.mark.parametrize("dtype,rtol", [(gc.float32, 2e-7), (gc.float64, 1e-15)])
def test_sigmoid_keeps_relative_accuracy_for_negative_inputs(dtype, rtol):
    # 0.5 + 0.5 tanh(x / 2) cancels for x < 0 (it gave 0 for sigmoid(-20) in float32)
    xs = [-100.0, -60.0, -20.0, -10.0, -6.6, -1.0, -1e-3, 0.0, 1e-3, 1.0, 6.6, 20.0]
    got = gc.sigmoid(gc.tensor(xs, dtype=dtype)).numpy()
    np_dt = np.float32 if dtype is gc.float32 else np.float64
    exact = [1.0 / (1.0 + math.exp(-float(np_dt(x)))) for x in xs]
    tiny = np.finfo(np_dt).tiny
    normal = np.abs(exact) >= tiny
    np.testing.assert_allclose(got[normal], np.array(exact, np_dt)[normal], rtol=rtol, atol=0)
    assert np.all(got[~normal] <= 4 * tiny)        # float32 sigmoid(-100) is subnormal


# ----------------------------------------------------------------------------- torch conventions at edges
def test_clamp_with_tensor_bounds_gives_ties_to_the_input():
    # torch: x takes the gradient where lo <= x <= hi; a bound only where x is strictly beyond it
    x = gc.tensor([0.0, 1.0, 2.0, 3.0, 5.0], requires_grad=True)
    lo = gc.tensor([0.0, 0.5, 2.5, 1.0, 1.0], requires_grad=True)
    hi = gc.tensor([1.0, 1.0, 3.0, 3.0, 4.0], requires_grad=True)
    r = gc.clamp(x, lo, hi)
    np.testing.assert_array_equal(r.detach().numpy(), np.minimum(np.maximum(x.detach().numpy(), lo.detach().numpy()),
                                                                 hi.detach().numpy()))
    r.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 0.0, 1.0, 0.0]
    assert lo.grad.tolist() == [0.0, 0.0, 1.0, 0.0, 0.0]
    assert hi.grad.tolist() == [0.0, 0.0, 0.0, 0.0, 1.0]
    nan = float("nan")
    got = gc.clamp(gc.tensor([nan, 1.0]), gc.tensor([0.0, nan]), gc.tensor([2.0, 2.0]))
    assert np.isnan(got.numpy()).all()


def test_atan2_gradient_at_the_origin_is_zero():
    a = gc.tensor([0.0, 1.0], requires_grad=True)
    b = gc.tensor([0.0, 0.0], requires_grad=True)
    gc.atan2(a, b).sum().backward()
    # d/da atan2(a, b) = b / (a^2 + b^2), d/db = -a / (a^2 + b^2); 0 at (0, 0) by torch's convention
    assert a.grad.tolist() == [0.0, 0.0] and b.grad.tolist() == [0.0, -1.0]


def test_all_and_any_over_no_dims_reduce_nothing():
    x = gc.tensor([[0, 1], [2, 3]])
    np.testing.assert_array_equal(x.all(dim=()).numpy(), x.numpy() != 0)
    np.testing.assert_array_equal(gc.any(x, dim=()).numpy(), x.numpy() != 0)
    assert x.all(dim=()).dtype == gc.bool and gc.tensor([0, 3], dtype=gc.uint8).any(dim=()).dtype == gc.uint8
    assert x.sum(dim=()).item() == 6  # sum's dim=() still means every dim


def test_uint8_truncating_division_by_a_negative_number_wraps_the_divisor_first():
    a = np.array([0, 1, 5, 200, 255], np.uint8)
    got = gc.div(gc.tensor(a), -2, rounding_mode="trunc").numpy()
    np.testing.assert_array_equal(got, a // np.uint8(254))


@pytest.mark.parametrize("write", [lambda u: u.clamp(min=300), lambda u: u.clamp(max=-300),
                                   lambda u: gc.where(u > 1, u, 300), lambda u: u.masked_fill(u > 1, 300),
                                   lambda u: u.__setitem__(0, 256), lambda u: u.fill_(255.5)])
def test_numbers_an_integer_dtype_cannot_hold_are_refused(write):
    with pytest.raises(RuntimeError, match="cannot be converted to type uint8 without overflow"):
        write(gc.tensor([1, 2, 250], dtype=gc.uint8))


def test_small_negative_numbers_wrap_into_unsigned_dtypes_like_torch():
    u = gc.tensor([1, 2, 250], dtype=gc.uint8)
    assert u.clamp(min=-1).tolist() == [255] * 3
    assert u.clone().fill_(-200).tolist() == [56] * 3
    with pytest.raises(RuntimeError, match="int8 without overflow"):
        gc.tensor([1, -2], dtype=gc.int8).clamp(max=-200)


@pytest.mark.parametrize("op", [lambda b: b // True, lambda b: b % b, lambda b: gc.fmod(b, True),
                                lambda b: b ** b, lambda b: b << True, lambda b: b.clamp(min=False)])
def test_arithmetic_torch_does_not_define_for_two_bools_is_refused(op):
    with pytest.raises(NotImplementedError, match="not implemented for 'bool'"):
        op(gc.tensor([True, False]))


def test_bool_tensors_with_int_numbers_promote_to_int64():
    b = gc.tensor([True, False])
    assert gc.clamp(b, 0, 1).dtype == gc.int64 and gc.clamp(b, 0, 1).tolist() == [1, 0]
    assert (b ** 2).dtype == gc.int64 and (b & b).dtype == gc.bool


@pytest.mark.parametrize("backend", [None, "llvm", "interp"])
def test_half_powers_are_sqrt_and_rsqrt_like_torch(backend):
    # torch takes x ** 0.5 and x ** -0.5 as sqrt and rsqrt: (-inf) ** 0.5 is nan, (-0.0) ** -0.5 is -inf
    vals = np.array([-np.inf, -0.0, 4.0, -4.0, np.inf, 0.0, 2.0], np.float32)
    for p in (0.5, -0.5):
        fn = (lambda t, p=p: t ** p)
        run = fn if backend is None else gc.compile(fn, backend=backend)
        got = run(gc.tensor(vals)).numpy()
        with np.errstate(all="ignore"):
            want = np.sqrt(vals) if p > 0 else 1 / np.sqrt(vals)
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(np.signbit(got), np.signbit(want))
