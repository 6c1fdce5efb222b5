"""Vectorizable transcendental functions (graphc.codegen.mathlib) against numpy.

Every function is JIT-compiled once per dtype into a loop kernel
``void f(T* noalias out, T* noalias in, i64 n)`` and compared, in ulps of the
result dtype, with a reference computed in higher precision (float64 for
float32 results, long double for float64 results).  Special values (0, -0,
+-inf, NaN, subnormals, overflow thresholds) must match exactly.
"""
import ctypes
import math
import re

import numpy as np
import pytest
from llvmlite import ir

from graphc.codegen import jit, mathlib

P = ctypes.c_void_p
I64 = ctypes.c_int64
LD = np.longdouble
DTYPES = ("float32", "float64")
UNARY_NAMES = ("exp", "expm1", "log", "log1p", "tanh", "sigmoid", "erf", "sin", "cos", "sqrt")

# max ulp error allowed per (float32, float64).  Measured maxima (float32 over
# every 13th bit pattern, float64 over 3e6 log-spaced points): exp 0.97/0.95,
# expm1 1.44/1.78, log 0.90/0.99, log1p 2.11/2.07, tanh 1.43/1.39,
# sigmoid 1.48/1.38, erf 1.00/1.00, sin 0.50/1.07, cos 0.50/1.05, sqrt 0.5/0.5,
# pow 0.50/1.11 (random sample), sin_fast/cos_fast 1.67/1.57 (float32).
ULP_BOUND = {
    "exp": (1.5, 1.5), "expm1": (2.0, 2.5), "log": (1.5, 1.5), "log1p": (2.5, 2.5),
    "tanh": (2.0, 2.0), "sigmoid": (2.0, 2.0), "erf": (1.5, 1.5), "sin": (1.0, 1.5),
    "cos": (1.0, 1.5), "sqrt": (0.5, 0.5), "pow": (1.0, 2.0),
}

# magnitude ranges swept (log-spaced, both signs) per function
RANGE = {
    "exp": (1e-30, 800.0), "expm1": (1e-30, 800.0), "log": (1e-320, 1e308),
    "log1p": (1e-30, 1e308), "tanh": (1e-30, 40.0), "sigmoid": (1e-30, 800.0),
    "erf": (1e-30, 10.0), "sin": (1e-30, 3e38), "cos": (1e-30, 3e38), "sqrt": (1e-320, 1e308),
}


@pytest.fixture(scope="module")
def kernels():
    """One module holding every test kernel (one compile), and its callables."""
    module = ir.Module(name="mathlib_tests")
    for dt in DTYPES:
        for name in UNARY_NAMES:
            mathlib.build_map_kernel(mathlib.UNARY[name], dt, f"{name}_{dt}", module=module)
        mathlib.build_map_kernel(mathlib.emit_pow, dt, f"pow_{dt}", arity=2, module=module)
    for name in ("sin_fast", "cos_fast"):
        mathlib.build_map_kernel(getattr(mathlib, f"emit_{name}"), "float32", f"{name}_float32",
                                 module=module)
    cm = jit.compile_module(module, keep_ir=True)

    def get(name, dt, arity=1):
        fn = cm.get_function(f"{name}_{dt}", None, [P] * (arity + 1) + [I64])

        def call(*xs):
            xs = [np.ascontiguousarray(x, dtype=dt) for x in xs]
            out = np.empty_like(xs[0])
            fn(out.ctypes.data, *[x.ctypes.data for x in xs], out.size)
            return out
        return call
    return cm, get


# --- references and ulp measure ---------------------------------------------------

def _erf_ref(x):
    """erf in long double: series below 1, 1 - erfc (double) above."""
    x = np.asarray(x, LD)
    ax = np.abs(x)
    small = np.minimum(ax, LD(1))
    # erf(x) = 2x/sqrt(pi) exp(-x^2) sum (2x^2)^n / (1*3*...*(2n+1)), all terms positive
    term = np.ones_like(small)
    total = np.ones_like(small)
    for n in range(1, 40):
        term = term * 2 * small * small / (2 * n + 1)
        total = total + term
    series = 2 * small / np.sqrt(LD(np.pi)) * np.exp(-small * small) * total
    big = np.ones_like(x)
    mid = (ax >= 1) & (ax < 30)
    big[mid] = 1 - np.array([math.erfc(v) for v in ax[mid].astype(float)], LD)
    return np.where(np.isnan(x), x, np.copysign(np.where(ax < 1, series, big), x))


def _reference(name, x):
    """name(x) in the reference precision (x already in it)."""
    with np.errstate(all="ignore"):
        if name == "sigmoid":
            return 1 / (1 + np.exp(-x))
        if name == "erf":
            return _erf_ref(x)
        return getattr(np, name)(x)


def _ulp_errors(y, ref, dt):
    """|y - ref| in ulps of dt at ref; inf where a non-finite result differs."""
    p, emin = (24, -149) if dt == "float32" else (53, -1074)
    ref = np.asarray(ref, LD)
    with np.errstate(all="ignore"):  # references beyond dt's range round to inf on purpose
        rounded = ref.astype(dt)
    special = ~np.isfinite(rounded)
    special_ok = (np.isnan(rounded) & np.isnan(y)) | (rounded == y)
    _, e = np.frexp(np.abs(ref))
    ulp = np.ldexp(LD(1), np.maximum(e.astype(np.int64) - p, emin))
    with np.errstate(invalid="ignore"):
        err = np.where(special, 0, np.abs(y.astype(LD) - ref) / ulp)
    return np.where(special & ~special_ok, np.inf, err)


def _sweep(dt, lo, hi, n=60000):
    info = np.finfo(dt)
    lo = max(lo, float(info.smallest_subnormal))
    hi = min(hi, float(info.max))
    mags = np.geomspace(lo, hi, n)
    edge = [0.0, -0.0, np.inf, -np.inf, np.nan, info.smallest_subnormal, info.smallest_subnormal * 3,
            info.tiny, info.tiny / 2, info.tiny * 1.5, info.max, 1.0, 2.0, 0.5, np.pi / 2, np.pi]
    edge = np.array(edge, dt)
    return np.concatenate([mags.astype(dt), (-mags).astype(dt), edge, -edge])


def _thresholds(name, dt):
    """Inputs around overflow/underflow/saturation points, a few ulps each side."""
    pts = {
        "exp": {"float32": [88.72283935546875, -87.33654, -103.97208, -103.27893],
                "float64": [709.782712893384, -708.3964185322641, -745.1332191019411, -744.44007192138]},
        "expm1": {"float32": [88.72283935546875, -17.32868], "float64": [709.782712893384, -38.1230]},
        "sigmoid": {"float32": [88.72283935546875, 103.97208, 16.635532], "float64": [745.1332191019411, 36.7368]},
        "tanh": {"float32": [9.010913, 0.54930615], "float64": [19.061547465398498, 0.5493061443340549]},
        "erf": {"float32": [3.832506, 1.0], "float64": [5.863584748755167, 1.0]},
    }.get(name, {}).get(dt, [])
    out = []
    for v in pts:
        c = np.array(v, dt)
        for k in range(-3, 4):
            out.append(c + k * np.spacing(c))
    return np.array(out, dt).reshape(-1)


def _check_unary(get, name, dt):
    x = np.concatenate([_sweep(dt, *RANGE[name]), _thresholds(name, dt), -_thresholds(name, dt)])
    y = get(name, dt)(x)
    ref = _reference(name, x.astype(np.float64 if dt == "float32" else LD))
    err = _ulp_errors(y, ref, dt)
    worst = int(np.argmax(err))
    bound = ULP_BOUND[name][DTYPES.index(dt)]
    assert err[worst] <= bound, (f"{name} {dt}: {err[worst]:.3f} ulp at x={x[worst]!r}: "
                                 f"got {y[worst]!r}, want {ref[worst]!r}")
    # signed zeros come out with the right sign
    zeros = (ref == 0) & np.isfinite(x)
    assert np.array_equal(np.signbit(y[zeros]), np.signbit(ref[zeros].astype(dt))), name
    return float(err.max())


# --- accuracy ------------------------------------------------------------------

@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("name", [n for n in UNARY_NAMES if n not in ("sin", "cos")])
def test_unary_accuracy(kernels, name, dt):
    _check_unary(kernels[1], name, dt)


@pytest.mark.parametrize("name", ["sin", "cos"])
def test_sin_cos_float32_full_range(kernels, name):
    _check_unary(kernels[1], name, "float32")
    # hard cases: float32 values closest to multiples of pi/2 and huge arguments
    x = np.array([1.5707964, 4.712389, 252.89821, 16367173 * 2.0 ** 72, 1e38, 3.4e38, 2.0 ** 127,
                  71476.0625, 8388608.0, 1e10], np.float32)
    y = kernels[1](name, "float32")(np.concatenate([x, -x]))
    ref = getattr(np, name)(np.concatenate([x, -x]).astype(np.float64))
    assert _ulp_errors(y, ref, "float32").max() <= 1.0


@pytest.mark.parametrize("name", ["sin", "cos"])
def test_sin_cos_float64(kernels, name):
    get = kernels[1]
    x = np.concatenate([_sweep("float64", 1e-300, mathlib.SIN_COS_F64_LIMIT * 0.999),
                        np.arange(-2000, 2000) * (np.pi / 4)])
    y = get(name, "float64")(x)
    err = _ulp_errors(y, _reference(name, x.astype(LD)), "float64")
    err = err[np.isfinite(x) & (np.abs(x) < mathlib.SIN_COS_F64_LIMIT)]
    assert err.max() <= ULP_BOUND[name][1], err.max()
    # documented limit: exact reduction below it, NaN beyond it
    big = np.array([mathlib.SIN_COS_F64_LIMIT, 1e300, -1e20, np.inf, -np.inf, np.nan])
    assert np.isnan(get(name, "float64")(big)).all()


@pytest.mark.parametrize("name", ["sin", "cos"])
def test_sin_cos_fast_float32(kernels, name):
    limit = mathlib.SIN_COS_F32_FAST_LIMIT
    x = _sweep("float32", 1e-30, limit)
    x = x[np.isnan(x) | (np.abs(x) < limit)]
    x = np.concatenate([x, np.arange(-3000, 3000, dtype=np.float32) * np.float32(np.pi / 4)])
    y = kernels[1](f"{name}_fast", "float32")(x)
    err = _ulp_errors(y, _reference(name, x.astype(np.float64)), "float32")
    assert err.max() <= 2.0, (err.max(), x[np.argmax(err)])
    beyond = np.array([limit, -limit, 1e30, np.inf, -np.inf, np.nan], np.float32)
    assert np.isnan(kernels[1](f"{name}_fast", "float32")(beyond)).all()


@pytest.mark.parametrize("dt", DTYPES)
def test_pow_accuracy(kernels, dt):
    rng = np.random.default_rng(0)
    n = 40000
    x = np.exp(rng.uniform(-80, 80, n)) * rng.choice([-1.0, 1.0], n)
    near_one = 1 + rng.uniform(-0.5, 0.5, n) * 10.0 ** rng.uniform(-8, 0, n)
    xs = np.concatenate([np.abs(x), x, near_one])
    ys = np.concatenate([rng.uniform(-30, 30, n), np.round(rng.uniform(-60, 60, n)),
                         rng.uniform(-1, 1, n) * 10.0 ** rng.uniform(0, 6, n)])
    with np.errstate(all="ignore"):
        xs, ys = xs.astype(dt), ys.astype(dt)
        y = kernels[1]("pow", dt, 2)(xs, ys)
        hi = np.float64 if dt == "float32" else LD
        ref = np.power(xs.astype(hi), ys.astype(hi))
    err = _ulp_errors(y, ref, dt)
    worst = int(np.argmax(err))
    assert err[worst] <= ULP_BOUND["pow"][DTYPES.index(dt)], (err[worst], xs[worst], ys[worst], y[worst])


@pytest.mark.parametrize("dt", DTYPES)
def test_pow_special_cases_match_numpy(kernels, dt):
    sp = np.array([0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 3.0, -3.0, 0.25, 1e-30, 1e30,
                   np.inf, -np.inf, np.nan], dt)
    x = np.repeat(sp, sp.size)
    y = np.tile(sp, sp.size)
    got = kernels[1]("pow", dt, 2)(x, y)
    with np.errstate(all="ignore"):
        want = np.power(x, y)
    both_nan = np.isnan(got) & np.isnan(want)
    with np.errstate(all="ignore"):  # inf - inf in the comparison is expected here
        close = np.abs(got.astype(LD) - want) <= 2 * np.spacing(np.abs(want))
    same = both_nan | ((got == want) & (np.signbit(got) == np.signbit(want))) | (
        np.isfinite(want) & (want != 0) & close)
    bad = [(a, b, g, w) for a, b, g, w, s in zip(x, y, got, want, same) if not s]
    assert not bad, bad[:10]


# --- code shape ------------------------------------------------------------------

def test_loops_vectorize_without_libm_calls(kernels):
    cm, _ = kernels
    text = cm.llvm_ir()
    for dt, elem in (("float32", "float"), ("float64", "double")):
        for name in UNARY_NAMES + ("pow",):
            body = re.search(rf'define void @"?{name}_{dt}"?\(.*?\n}}', text, re.S)
            assert body, name
            assert re.search(rf"<\d+ x {elem}>", body.group(0)), f"{name} {dt} did not vectorize"
    called = set(re.findall(r"call [^@\n]*@\"?([\w.]+)", text))
    assert all(c.startswith("llvm.") for c in called), called - {c for c in called if c.startswith("llvm.")}
    assert mathlib.HELPER_PREFIX not in text  # helpers were inlined and dropped
    asm_calls = re.findall(r"^\s*(?:call|jmp)\w*\s+([A-Za-z_]\w*)\s*$", cm.asm(), re.M)
    assert not [c for c in asm_calls if not c.startswith(".L")], asm_calls


def test_helpers_are_internal_and_alwaysinline():
    module = ir.Module()
    mathlib.build_map_kernel(mathlib.emit_tanh, "float32", module=module)
    mathlib.build_map_kernel(mathlib.emit_tanh, "float32", "again", module=module)
    helpers = [f for f in module.functions if f.name.startswith(mathlib.HELPER_PREFIX)]
    assert [f.name for f in helpers] == ["graphc.math.tanh.f32"]  # one per module and type
    assert helpers[0].linkage == "internal" and "alwaysinline" in helpers[0].attributes


@pytest.mark.parametrize("lanes", [4, 8])
def test_vector_values(lanes):
    """emit_* accept vector values directly (the code generator may emit them)."""
    vty = ir.VectorType(ir.FloatType(), lanes)
    module = ir.Module()
    fn = ir.Function(module, ir.FunctionType(ir.VoidType(), [vty.as_pointer()] * 2), name="vexp")
    b = ir.IRBuilder(fn.append_basic_block())
    v = b.load(fn.args[1], align=4)  # numpy buffers are not vector-aligned
    b.store(mathlib.emit_sigmoid(b, mathlib.emit_exp(b, v)), fn.args[0], align=4)
    b.ret_void()
    cm = jit.compile_module(module)
    x = np.linspace(-3, 3, lanes).astype(np.float32)
    out = np.empty_like(x)
    cm.get_function("vexp", None, [P, P])(out.ctypes.data, x.ctypes.data)
    np.testing.assert_allclose(out, 1 / (1 + np.exp(-np.exp(x.astype(np.float64)))), rtol=1e-6)


def test_bad_types_raise():
    module = ir.Module()
    fn = ir.Function(module, ir.FunctionType(ir.VoidType(), [ir.IntType(32), ir.FloatType(),
                                                             ir.DoubleType()]), name="f")
    b = ir.IRBuilder(fn.append_basic_block())
    with pytest.raises(TypeError, match="float, double"):
        mathlib.emit_exp(b, fn.args[0])
    with pytest.raises(TypeError, match="one type"):
        mathlib.emit_pow(b, fn.args[1], fn.args[2])


def test_constants():
    """The digit tables behind the reductions agree with the math module."""
    assert sum(mathlib._PIO2) == pytest.approx(math.pi / 2, rel=1e-16)
    assert mathlib._PIO2[0] + mathlib._PIO2[1] + mathlib._PIO2[2] + mathlib._PIO2[3] == math.pi / 2
    assert sum(mathlib._TWO_OVER_PI_CHUNKS) == 2 / math.pi
    for c in mathlib._TWO_OVER_PI_CHUNKS:
        assert c == 0 or math.frexp(c)[0] * 2 ** 29 == int(math.frexp(c)[0] * 2 ** 29)
    assert mathlib._LN2_HI_F64 + mathlib._LN2_LO_F64 == math.log(2)
    assert float(np.float32(mathlib._LN2_HI_F32)) == mathlib._LN2_HI_F32
