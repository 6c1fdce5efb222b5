"""The llvm backend (graphc.codegen.backend): fused groups as native kernels, checked against the
interpreter and eager mode.

Compiling a module costs tens of milliseconds, so graphs that serve many checks are built once
(module-scoped fixtures) and op tables are checked with one graph per dtype (all ops of a table
in one fusion group, hence one kernel).
"""
import copy
import re
import warnings

import numpy as np
import pytest

import graphc as gc
from graphc.codegen.backend import NativePlan
from graphc.codegen.scalar import LOWER
from graphc.ir.graph import Graph
from graphc.static.executable import Executable
from helpers import assert_matches, sgd_train_step

BACKENDS = ["interp", "llvm"]
F = gc.nn.functional


def _rand(*shape, dtype=np.float32, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _compile(fn, specs, backend, **kw):
    """``fn`` on placeholders x0, x1, ... (specs: (shape, dtype) pairs) compiled with ``backend``."""
    g = gc.static.Graph()
    xs = [g.placeholder(f"x{i}", shape, dt) for i, (shape, dt) in enumerate(specs)]
    return g.compile(fn(*xs), backend=backend, **kw)


def _feeds(arrays):
    return {f"x{i}": a for i, a in enumerate(arrays)}


def _eager(fn, arrays):
    return fn(*[gc.tensor(a) for a in arrays])


def _ir_exe(g: Graph, backend: str) -> Executable:
    return Executable(g, {}, None, [], backend=backend)


def _ir_run(exe: Executable, **feeds):
    return exe.run_arrays(exe.feed_arrays(feeds))


def _kernel_text(ir_text: str, name: str) -> str:
    start = ir_text.index(f"@{name}(")
    end = ir_text.find("\ndefine", start)
    return ir_text[start:end if end >= 0 else None]


# ============================================================================ elementwise chains
def _w1(a, b, c):
    return gc.sigmoid(a * b + c) * gc.tanh(a) - 0.5 * c


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", [gc.float32, gc.float64])
@pytest.mark.parametrize("shape", [(), (1,), (0,), (37,), (3, 4, 5)])
def test_elementwise_chain_matches_eager(backend, dtype, shape):
    arrays = [_rand(*shape, dtype=dtype.np, seed=s) * 3 for s in range(3)]
    exe = _compile(_w1, [(shape, dtype)] * 3, backend)
    tol = 2e-6 if dtype is gc.float32 else 1e-12
    assert_matches(exe(**_feeds(arrays)), _eager(_w1, arrays).numpy(), rtol=tol, atol=tol)
    if backend == "llvm":
        assert exe.numpy_nodes == []
        assert len(exe.kernels) == (1 if 0 not in shape else len(exe.kernels))


@pytest.fixture(scope="module")
def w1_f32():
    return _compile(_w1, [((4096,), gc.float32)] * 3, "llvm")


def test_float32_chain_kernel_is_vectorized_without_libm_calls(w1_f32):
    (k,) = w1_f32.kernels
    assert k.ops == ["mul", "add", "sigmoid", "tanh", "mul", "mul", "sub"]
    assert k.flags["fastmath"] is False and k.flags["opt_level"] == 3
    body = _kernel_text(w1_f32.llvm_ir(), k.name)
    assert re.search(r"<(8|16) x float>", body), "the inner loop was not vectorized"
    calls = set(re.findall(r"call [^@]*@([\w.]+)", body))
    assert all(c.startswith("llvm.") for c in calls), f"library calls in the kernel: {calls}"
    for libm in ("expf", "tanhf", "exp", "tanh", "logf"):
        assert f"@{libm}(" not in body
    assert "noalias" in body
    assert " nnan" not in body and " ninf" not in body and "fast " not in body
    assert w1_f32.asm()  # the host assembly is available


# ============================================================================ broadcasting, layouts
def _bcast(x, y, z):
    return (x * y + z).exp() - y


@pytest.mark.parametrize("backend", BACKENDS)
def test_broadcasting_and_wrapped_constants(backend):
    specs = [((3, 1, 5), gc.float32), ((4, 1), gc.float32), ((5,), gc.float32)]
    arrays = [_rand(3, 1, 5), _rand(4, 1, seed=1), _rand(5, seed=2)]
    exe = _compile(_bcast, specs, backend)
    assert_matches(exe(**_feeds(arrays)), _eager(_bcast, arrays).numpy(), rtol=2e-6, atol=2e-6)


@pytest.mark.parametrize("backend", BACKENDS)
def test_permute_expand_and_reshape_feed_kernels(backend):
    def fn(x, y):
        a = x.t() * 2.0                       # a transposed (strided) read
        b = y.expand(5, 3) + a                # a broadcast read
        return b.reshape(15).exp(), b.sum(0)  # a reshape of a kernel output

    arrays = [_rand(3, 5), _rand(1, 3, seed=1)]
    exe = _compile(fn, [((3, 5), gc.float32), ((1, 3), gc.float32)], backend)
    got = exe(**_feeds(arrays))
    want = _eager(fn, arrays)
    for g_, w in zip(got, want):
        assert_matches(g_, w.numpy(), rtol=1e-5, atol=1e-6)
    if backend == "llvm":
        assert exe.numpy_nodes == []


def test_non_contiguous_and_misaligned_feeds_are_copied_first(w1_f32):
    base = _rand(3, 8192, seed=4)
    strided = base[0, ::2]                                  # non-contiguous
    raw = np.zeros(4096 * 4 + 1, np.uint8)[1:].view(np.float32)  # misaligned
    raw[:] = _rand(4096, seed=5)
    c = _rand(4096, seed=6)
    want = _eager(_w1, [np.ascontiguousarray(strided), raw.copy(), c]).numpy()
    got = w1_f32(x0=strided, x1=raw, x2=c)
    assert_matches(got, want, rtol=2e-6, atol=2e-6)


def test_feeds_are_checked_before_native_code_runs(w1_f32):
    ok = _rand(4096)
    with pytest.raises(RuntimeError, match="wrong shape"):
        w1_f32(x0=_rand(4095), x1=ok, x2=ok)
    with pytest.raises(RuntimeError, match="wrong dtype"):
        w1_f32(x0=ok.astype(np.float64), x1=ok, x2=ok)
    plan = w1_f32._native
    with pytest.raises(RuntimeError, match="native backend: input"):
        plan.run({n: _rand(7) for n, _ in plan._feeds})


# ============================================================================ dtypes and promotion
def _mixed(i, f, d, b):
    r1 = i * 2.5 + f              # int32 tensor with a Python float -> float32
    r2 = f + d                    # float32 + float64 0-d tensor -> float32
    r3 = i + b                    # int32 + bool
    r4 = (f > 0.5) & b            # comparison, logic
    r5 = gc.where(r4, f, i.to(gc.float32))
    r6 = (i * 3 - 7).abs() + (i > 0).to(gc.int64)
    return r1, r2, r3, r4, r5, r6, d * 2 + 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_mixed_dtypes_promote_like_eager(backend):
    specs = [((4, 3), gc.int32), ((4, 3), gc.float32), ((), gc.float64), ((3,), gc.bool)]
    rng = np.random.default_rng(0)
    arrays = [rng.integers(-5, 5, (4, 3)).astype(np.int32), _rand(4, 3), np.array(0.25),
              np.array([True, False, True])]
    exe = _compile(_mixed, specs, backend)
    for g_, w in zip(exe(**_feeds(arrays)), _eager(_mixed, arrays)):
        assert_matches(g_, w.numpy(), dtype=w.dtype, rtol=1e-6, atol=1e-6)


# ============================================================================ op tables (one kernel per dtype)
_SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 1.5, 2.5, -2.5, 3.0, 1e-40, -1e-40, 1e30, -1e30, np.inf, -np.inf,
            np.nan, 88.0, -88.0, 100.0, -100.0, 7.0, -7.0, 0.1, 1e-8, 20.0, -20.0]
_TRANSCENDENTAL = {"exp", "expm1", "log", "log1p", "tanh", "sigmoid", "erf", "sin", "cos", "log2", "log10",
                   "exp2", "gelu", "pow", "rsqrt", "sqrt"}
_UNARY = ["neg", "abs", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "square", "sin",
          "cos", "tanh", "sigmoid", "relu", "erf", "gelu", "reciprocal", "floor", "ceil", "trunc", "round", "frac",
          "sign", "isnan", "isinf", "isfinite", "signbit", "logical_not", "bitwise_not"]
_BINARY = ["add", "sub", "mul", "div", "floor_divide", "remainder", "fmod", "pow", "maximum", "minimum", "eq", "ne",
           "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor", "bitwise_and", "bitwise_or",
           "bitwise_xor", "bitwise_left_shift", "bitwise_right_shift"]
_DTYPES = [gc.float32, gc.float64, gc.int32, gc.int64, gc.bool, gc.uint8, gc.int8, gc.int16]


def _values(dt, seed=0):
    rng = np.random.default_rng(seed)
    if dt.is_floating_point:
        with np.errstate(all="ignore"):
            sp = np.array(_SPECIAL).astype(dt.np)
        return np.concatenate([sp, (rng.standard_normal(37) * 3).astype(dt.np)])
    if dt is gc.bool:
        return rng.integers(0, 2, 64).astype(bool)
    info = np.iinfo(dt.np)
    sp = np.array([0, 1, -1, 2, 3, -7, 7, 31, 32, 33, 63, 64, info.max, info.min], dtype=np.int64)
    sp = sp[(sp >= info.min) & (sp <= info.max)].astype(dt.np)
    return np.concatenate([sp, rng.integers(max(info.min, -50), min(info.max, 50), 50).astype(dt.np)])


def _native_ops(dt, names, arity):
    """The ops the scalar table lowers for inputs of ``dt`` (others raise Unsupported or have no rule)."""
    from llvmlite import ir

    from graphc.codegen import scalar
    from graphc.ops.promotion import compute_dtype, spec_operands
    from graphc.ops.registry import REGISTRY, Spec

    ok = []
    for name in names:
        op = REGISTRY[name]
        try:
            out = op.infer(*[Spec((3,), dt)] * arity).dtype
        except Exception:
            continue
        cd = compute_dtype(op, spec_operands([Spec((3,), dt)] * arity)) if op.promote else dt
        fn = ir.Function(ir.Module(), ir.FunctionType(ir.VoidType(), []), "probe")
        e = scalar.Emitter(ir.IRBuilder(fn.append_basic_block()))
        args = [scalar.Val(ir.Constant(scalar.reg_type(cd), 0), cd) for _ in range(arity)]
        try:
            scalar.lower_op(e, name, args, {}, out)
        except scalar.Unsupported:
            continue
        ok.append(name)
    return ok


def _assert_same(got, want, name, tol):
    assert got.dtype == want.dtype and got.shape == want.shape, name
    if want.dtype.kind == "f":
        np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=tol, atol=tol,
                                   equal_nan=True, err_msg=name)
    else:
        np.testing.assert_array_equal(got, want, err_msg=name)


_RED_DIMS = [((2,), False), ((0,), True), ((0, 2), False), ((0, 1, 2), True)]


@pytest.fixture(scope="module", params=_DTYPES, ids=lambda d: d.name)
def dtype_tables(request):
    """For one dtype: every lowered unary and binary op, every cast and the reductions, in one graph
    (one module), run natively and by the interpreter.  Returns {category: [(name, native, reference)]}."""
    dt = request.param
    unary, binary = _native_ops(dt, _UNARY, 1), _native_ops(dt, _BINARY, 2)
    x = _values(dt)
    y = _values(dt, seed=1)[::-1].copy()
    xc = x[np.isfinite(x) & (np.abs(x) < 100)] if dt.is_floating_point else x  # float -> int of NaN/inf is UB
    r = np.resize(x, 60).reshape(3, 4, 5)
    if dt.is_floating_point:
        r = np.where(np.abs(r) > 1e10, 1.5, r).astype(dt.np)
    g = Graph()
    px, py = g.add_placeholder("x", ((x.size,), dt)), g.add_placeholder("y", ((y.size,), dt))
    pc, pr = g.add_placeholder("xc", ((xc.size,), dt)), g.add_placeholder("r", ((3, 4, 5), dt))
    named = [("unary", n, g.add_op(n, [px])) for n in unary]
    named += [("binary", n, g.add_op(n, [px, py])) for n in binary]
    named += [("cast", f"cast to {d.name}", g.add_op("cast", [pc], {"dtype": d})) for d in _DTYPES]
    for op in ("sum", "prod", "amax", "amin", "all", "any"):
        for dims, keep in _RED_DIMS:
            named.append(("reduction", f"{op}{dims}", g.add_op(op, [pr], {"dim": dims, "keepdim": keep})))
    g.set_outputs([n for _, _, n in named])
    native, ref = _ir_exe(g, "llvm"), _ir_exe(g, "interp")
    feeds = {"x": x, "y": y, "xc": xc, "r": r}
    table: dict = {"numpy_nodes": native.numpy_nodes}
    for (cat, name, _), got, want in zip(named, _ir_run(native, **feeds), _ir_run(ref, **feeds)):
        table.setdefault(cat, []).append((name, got, want))
    return table


@pytest.mark.parametrize("category", ["unary", "binary", "cast", "reduction"])
def test_op_tables_match_numpy_kernels(dtype_tables, category):
    assert dtype_tables["numpy_nodes"] == []  # every op of the tables ran natively
    for name, got, want in dtype_tables[category]:
        tol = 0
        if name in _TRANSCENDENTAL:
            tol = 3e-6 if got.dtype == np.float32 else 1e-13
        elif category == "reduction" and got.dtype.kind == "f":
            tol = 1e-4  # sequential sums against numpy's pairwise ones
        _assert_same(got, want, name, tol)


def test_table_covers_the_common_ops():
    assert len(_native_ops(gc.float32, _UNARY, 1)) >= 28
    assert set(_native_ops(gc.int32, _BINARY, 2)) >= {"add", "sub", "mul", "div", "maximum", "eq", "bitwise_and",
                                                       "bitwise_left_shift", "logical_xor"}


@pytest.mark.parametrize("backend", BACKENDS)
def test_clamp_and_where(backend):
    def fn(x, c):
        return x.clamp(-0.5, 0.75), x.clamp(min=0.0), gc.where(c, x, -x * 2)

    x = _values(gc.float32)
    c = np.arange(x.size) % 3 == 0
    exe = _compile(fn, [((x.size,), gc.float32), ((x.size,), gc.bool)], backend)
    for g_, w in zip(exe(x0=x, x1=c), _eager(fn, [x, c])):
        assert_matches(g_, w.numpy(), rtol=0, atol=0)


# ============================================================================ special values
@pytest.mark.parametrize("backend", BACKENDS)
def test_nan_inf_and_denormals_agree_with_eager(backend):
    def fn(x, y):
        return (x.exp(), x.log(), x.tanh(), x.sigmoid(), x.sqrt(), gc.maximum(x, y), gc.minimum(x, y), x.relu(),
                x.amax(), x.amin(), x.sum(), x * y, x / y, x.isnan(), x.isinf(), x.erf(), x.expm1(), x.log1p())

    x = np.array([np.nan, np.inf, -np.inf, 1e-40, -1e-40, 1e-45, 0.0, -0.0, 1.0, -1.0, 88.7, -103.9, 3e38],
                 np.float32)
    y = np.array([1.0, np.nan, 2.0, 1e-40, np.inf, -np.inf, -0.0, 0.0, np.nan, 2.0, 1.0, 1e-38, 3e38], np.float32)
    exe = _compile(fn, [((13,), gc.float32)] * 2, backend)
    for i, (g_, w) in enumerate(zip(exe(x0=x, x1=y), _eager(fn, [x, y]))):
        assert_matches(g_, w.numpy(), dtype=w.dtype, rtol=2e-6, atol=1e-44)


def test_nan_propagates_through_max_reductions_and_maximum():
    def fn(x):
        return x.amax(1), x.amin(1), gc.maximum(x, x.amax(1, keepdim=True) - 1)

    x = _rand(4, 9)
    x[1, 3] = np.nan
    x[2, 0] = np.nan
    exe = _compile(fn, [((4, 9), gc.float32)], "llvm")
    for g_, w in zip(exe(x0=x), _eager(fn, [x])):
        assert_matches(g_, w.numpy(), rtol=0, atol=0)


# ============================================================================ reductions
_RED_CASES = [((3, 4, 5), (0,)), ((3, 4, 5), (1,)), ((3, 4, 5), (2,)), ((3, 4, 5), (0, 2)),
              ((3, 4, 5), (0, 1, 2)), ((3, 4, 5), (1, 2)), ((7,), (0,)), ((1, 5), (0,)), ((4, 0), (1,)),
              ((2, 3), ())]


def _reductions(x, dims, keep):
    y = x * 1.5 - 0.25  # fused with each reduction
    out = [y.sum(dims, keepdim=keep), y.prod(dims[-1], keepdim=keep) if dims else y,
           (y > 0).all(dims[0], keepdim=keep) if dims else y, (y > 0.5).any(dims[0], keepdim=keep) if dims else y,
           y.to(gc.int32).sum(dims, keepdim=keep)]
    if all(x.shape[d] for d in dims):
        out += [y.amax(dims, keepdim=keep), y.amin(dims, keepdim=keep)]
    return tuple(out)


@pytest.fixture(scope="module", params=BACKENDS)
def reduction_cases(request):
    """Every (shape, dims, keepdim) case of _RED_CASES in one graph: (backend, exe, results, eager results)."""
    g = gc.static.Graph()
    xs, outs, eager = [], {}, {}
    for i, (shape, dims) in enumerate(_RED_CASES):
        x = _rand(*shape, seed=i)
        p = g.placeholder(f"x{i}", shape, gc.float32)
        xs.append(x)
        for keep in (False, True):
            outs[f"{i}-{keep}"] = _reductions(p, dims, keep)
            eager[f"{i}-{keep}"] = _reductions(gc.tensor(x), dims, keep)
    exe = g.compile(outs, backend=request.param)
    return request.param, exe, exe(**_feeds(xs)), eager


@pytest.mark.parametrize("case", range(len(_RED_CASES)), ids=[f"{s}-{d}" for s, d in _RED_CASES])
@pytest.mark.parametrize("keep", [False, True])
def test_reductions_over_dims_match_eager(reduction_cases, case, keep):
    backend, exe, got, eager = reduction_cases
    for g_, w in zip(got[f"{case}-{keep}"], eager[f"{case}-{keep}"]):
        assert_matches(g_, w.numpy(), dtype=w.dtype, rtol=1e-5, atol=1e-5)
    if backend == "llvm":
        assert exe.numpy_nodes == []


def test_reduction_errors_and_unsupported_ops_run_through_numpy_with_eager_errors():
    g = gc.static.Graph()
    x = g.placeholder("x", (4, 0), gc.float32)
    exe = g.compile(x.amax(1), backend="llvm")
    assert exe.numpy_nodes  # numpy raises the error
    with pytest.raises(IndexError, match="amax.*non-zero size"):
        exe(x=np.zeros((4, 0), np.float32))
    g = gc.static.Graph()
    i = g.placeholder("i", (3,), gc.int64)
    j = g.placeholder("j", (3,), gc.int64)
    exe = g.compile((i // j) + 1, backend="llvm")  # integer division: numpy checks the zero divisor
    assert_matches(exe(i=np.array([7, -7, 9]), j=np.array([2, 2, -4])), np.array([4, -3, -2]))
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        exe(i=np.array([1, 2, 3]), j=np.array([1, 0, 1]))


# ============================================================================ softmax and a training step
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("shape", [(4, 8), (3, 1), (5, 257)])
def test_softmax_matches_eager(backend, shape):
    x = _rand(*shape) * 4
    x[0, 0] = -np.inf
    exe = _compile(lambda t: F.softmax(t, dim=-1), [(shape, gc.float32)], backend)
    assert_matches(exe(x0=x), F.softmax(gc.tensor(x), dim=-1).numpy(), rtol=1e-6, atol=1e-7)
    if backend == "llvm":
        assert exe.numpy_nodes == []
        assert [k.reduction for k in exe.kernels] == ["amax", "sum", None]  # max | exp-sum | normalize


def _mlp():
    gc.manual_seed(0)
    return gc.nn.Sequential(gc.nn.Linear(12, 16), gc.nn.Tanh(), gc.nn.Linear(16, 16), gc.nn.ReLU(),
                            gc.nn.Linear(16, 5))


def _train_step(model, opt):
    return sgd_train_step(model, opt)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_mlp_training_steps_match_eager(backend, momentum):
    m_eager = _mlp()
    m_comp = copy.deepcopy(m_eager)

    def make(params):
        return gc.optim.SGD(params, lr=0.1, momentum=momentum, weight_decay=1e-3)

    eager = _train_step(m_eager, make(m_eager.parameters()))
    comp = gc.compile(_train_step(m_comp, make(m_comp.parameters())), backend=backend)
    rng = np.random.default_rng(0)
    for _ in range(4):
        x = gc.tensor(rng.standard_normal((8, 12)).astype(np.float32))
        y = gc.tensor(rng.integers(0, 5, 8))
        np.testing.assert_allclose(comp(x, y).item(), eager(x, y).item(), rtol=1e-5)
    for pc, pe in zip(m_comp.parameters(), m_eager.parameters()):
        np.testing.assert_allclose(pc.detach().numpy(), pe.detach().numpy(), rtol=1e-4, atol=1e-5)
    if backend == "llvm":
        exe = comp.traces[0].executable
        ops = {exe.graph.op(n) for n in exe.numpy_nodes}
        # check_values (the class targets' bounds) raises from numpy between native segments
        assert ops <= {"matmul", "check_values"}, f"ops outside native kernels: {ops}"
        assert len(exe.kernels) >= 10


# ============================================================================ dynamic sizes, fastmath, inspection
def test_dynamic_batch_sizes_share_one_module():
    calls = []

    @gc.compile(backend="llvm", dynamic=True)
    def f(x):
        calls.append(1)
        return (x - x.mean(0)).exp().sum(1)

    for n in (3, 5, 3):
        x = _rand(n, 6, seed=n)
        assert_matches(f(gc.tensor(x)), np.exp(x - x.mean(0)).sum(1), rtol=1e-5, atol=1e-6)
    assert len(calls) == 1  # traced once
    per_shape = f.traces[0].executable._native
    assert per_shape.generic is not None and not per_shape._plans  # one module for every size


@pytest.fixture(scope="module")
def long_sums():
    """Float sums/products over long inner dims (the split-lane accumulation), strict and fastmath."""
    sizes = [31, 32, 33, 47, 1000]

    def fn(*xs):
        out = []
        for x in xs:
            out += [x.sum(-1), (x * 0.01 + 1).prod(-1, keepdim=True), x.sum((0, 2))]
        return tuple(out)

    specs = [((3, 2, n), dt) for dt in (gc.float32, gc.float64) for n in sizes]
    xs = [_rand(*shape, dtype=dt.np, seed=i) for i, (shape, dt) in enumerate(specs)]
    strict = _compile(fn, specs, "llvm")
    fast = _compile(fn, specs, "llvm", fastmath=True)
    return fn, xs, strict, fast


def test_long_float_reductions_match_eager_strict_and_fast(long_sums):
    fn, xs, strict, fast = long_sums
    want = _eager(fn, xs)
    for exe in (strict, fast):
        got = exe(**_feeds(xs))
        assert exe.numpy_nodes == []
        for g_, w in zip(got, want):
            tol = 1e-5 if w.dtype is gc.float32 else 1e-12
            assert_matches(g_, w.numpy(), dtype=w.dtype, rtol=tol, atol=tol)
    again = strict(**_feeds(xs))
    for a, b in zip(strict(**_feeds(xs)), again):  # a fixed summation order
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_sums_vectorize_without_fastmath_flags(long_sums):
    _, _, strict, fast = long_sums
    assert fast.kernels[0].flags["fastmath"] is True and strict.kernels[0].flags["fastmath"] is False
    text = strict.llvm_ir()
    assert "reassoc" not in text and " fast " not in text and "reassoc" in fast.llvm_ir()
    row_sum = [k for k in strict.kernels if k.reduction == "sum" and k.domain == (3, 2, 1000)][0]
    assert re.search(r"<(8|16) x float>", _kernel_text(text, row_sum.name))


def test_softmax_kernels_vectorize():
    exe = _compile(lambda t: F.softmax(t, dim=-1), [((64, 512), gc.float32)], "llvm")
    text = exe.llvm_ir()
    for k in exe.kernels:
        assert re.search(r"<(8|16) x float>", _kernel_text(text, k.name)), k


def test_inspection_api():
    exe = _compile(lambda t: (t + 1).relu().sum(), [((8, 8), gc.float32)], "llvm")
    (k,) = exe.kernels
    assert k.ops == ["add", "relu", "sum"] and k.reduction == "sum" and k.domain == (8, 8)
    assert all(exe.graph.op(n) == op for n, op in zip(k.nodes, k.ops))
    assert "define" in exe.llvm_ir() and exe.asm()
    interp = _compile(lambda t: t + 1, [((2,), gc.float32)], "interp")
    with pytest.raises(RuntimeError, match="backend='llvm'"):
        interp.llvm_ir()


def test_llvm_backend_no_longer_warns():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exe = _compile(lambda t: t * 2, [((3,), gc.float32)], "llvm")
    assert exe.backend == "llvm"


# ============================================================================ memory planning
def test_arena_reuses_dead_intermediates_and_outputs_are_fresh():
    def fn(x):
        y = x
        for _ in range(6):  # a reduction ends each group: six intermediates, two alive at a time
            y = (y - y.amax(1, keepdim=True)).exp()
        return y

    x = _rand(16, 32)
    exe = _compile(fn, [((16, 32), gc.float32)], "llvm")
    plan = exe._native
    one = 16 * 32 * 4
    assert plan.arena_bytes <= 4 * one  # without reuse: 11 intermediates
    r1 = exe(x0=x)
    r2 = exe(x0=x * 2)
    assert not np.shares_memory(r1.numpy(), r2.numpy())
    assert_matches(r1, fn(gc.tensor(x)).numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("n", [8, 1 << 19])  # 32 bytes and 2 MiB of float32: both pooled
def test_outputs_come_from_a_pool_only_when_released(n):
    exe = _compile(lambda t: t * 2, [((n,), gc.float32)], "llvm")
    x = _rand(n)
    a = exe(x0=x)
    b = exe(x0=x + 1)
    assert not np.shares_memory(a.numpy(), b.numpy())  # a is alive: not handed out again
    np.testing.assert_array_equal(a.numpy(), x * 2)
    addr = b.numpy().ctypes.data
    del b
    c = exe(x0=x)
    assert c.numpy().ctypes.data == addr  # released: reused
    np.testing.assert_array_equal(c.numpy(), x * 2)
    # a view (of the tensor or of its array) keeps the output alive
    view, raw = c[1:], c.numpy()[:1]
    del c
    d = exe(x0=x + 3)
    assert not np.shares_memory(d.numpy(), view.numpy()) and not np.shares_memory(d.numpy(), raw)
    np.testing.assert_array_equal(view.numpy(), (x * 2)[1:])
    np.testing.assert_array_equal(raw, (x * 2)[:1])


def test_numpy_step_results_feed_kernels():
    def fn(x, w):
        h = (x @ w).tanh()            # matmul in numpy, tanh native
        return h.flip(0) * 2 + h[1:].sum(0)   # flip/basic_index results (views) read by kernels

    arrays = [_rand(5, 4), _rand(4, 3, seed=1)]
    exe = _compile(fn, [((5, 4), gc.float32), ((4, 3), gc.float32)], "llvm")
    assert_matches(exe(**_feeds(arrays)), _eager(fn, arrays).numpy(), rtol=1e-5, atol=1e-6)
    assert exe.kernels


def test_native_plan_refuses_symbolic_shapes():
    g = Graph()
    p = g.add_placeholder("x", ((None, 3), gc.float32))
    g.set_outputs([g.add_op("exp", [p])])
    with pytest.raises(ValueError, match="concrete shapes"):
        NativePlan(g)


def test_every_lowered_op_is_a_registry_op():
    from graphc.ops.registry import REGISTRY

    assert set(LOWER) <= set(REGISTRY)


def test_control_flow_and_zero_dim_constants_run_between_kernels():
    from graphc.static import cond

    def f(x):
        return cond(x.sum() > 0, lambda v: {"a": v.exp(), "b": [v + 1, 2]}, lambda v: {"a": -v, "b": [v, 3]}, x)

    cf = gc.compile(f, backend="llvm")
    for seed in range(3):
        x = gc.tensor(_rand(4, seed=seed))
        got, want = cf(x), f(x)
        assert_matches(got["a"], want["a"].numpy(), rtol=2e-6, atol=1e-7)
        assert_matches(got["b"][0], want["b"][0].numpy())
        assert_matches(got["b"][1], np.array(want["b"][1]))  # a 0-d int64 constant stays 0-d
    exe = cf.traces[0].executable
    assert [exe.graph.op(n) for n in exe.numpy_nodes] == ["cond"]


def _random_program(seed: int):
    """A random chain of layout changes (permute, reshape, slices, flips), elementwise ops and
    reductions: aliases, strided reads and numpy steps feeding kernels in many combinations."""
    import random

    rng = random.Random(seed)
    steps = [rng.choice(["perm", "exp", "bcast", "sum", "center", "flat", "sign", "slice", "flip", "where", "f64",
                         "relu", "tanh"]) for _ in range(rng.randint(3, 7))]

    def fn(x, y):
        t = x
        for s in steps:
            if s == "perm" and t.ndim >= 2:
                t = t.permute(*reversed(range(t.ndim)))
            elif s == "exp":
                t = (t * 0.1).exp()
            elif s == "bcast" and t.ndim:
                t = t + y[: t.shape[-1]] if t.shape[-1] <= y.shape[0] else t + y[0]
            elif s == "sum" and t.ndim:
                t = t.sum(seed % t.ndim)
            elif s == "center" and t.ndim:
                t = t - t.amax(-1, keepdim=True)
            elif s == "flat" and t.ndim >= 2:
                t = t.reshape(-1)
            elif s == "sign":
                t = t * t.sign()
            elif s == "slice" and t.ndim and t.shape[0] > 1:
                t = t[1:]
            elif s == "flip" and t.ndim:
                t = t.flip(0)
            elif s == "where":
                t = gc.where(t > 0, t, t * 0.5)
            elif s == "f64":
                t = t.to(gc.float64) * 1.5
            elif s == "relu":
                t = t.relu()
            elif s == "tanh":
                t = t.tanh() - t
        return t, t.sum()

    shape = tuple(rng.choice([1, 2, 3, 5]) for _ in range(rng.randint(1, 3)))
    return fn, shape


@pytest.mark.parametrize("seed", range(10))
def test_random_programs_agree_with_the_interpreter(seed):
    fn, shape = _random_program(seed)
    x = _rand(*shape, seed=seed)
    if seed % 2:
        x = np.asfortranarray(x)  # a non-contiguous feed
    y = _rand(5, seed=seed + 1)
    res = {}
    for backend in BACKENDS:
        exe = _compile(fn, [(shape, gc.float32), ((5,), gc.float32)], backend)
        res[backend] = exe(x0=x, x1=y)
    for a, b in zip(res["interp"], res["llvm"]):
        assert_matches(b, a.numpy(), dtype=a.dtype, rtol=1e-5, atol=1e-6)


def test_unfused_graphs_run_one_kernel_per_node():
    g = gc.static.Graph()
    x = g.placeholder("x", (4, 3), gc.float32)
    exe = g.compile((x * 2 + 1).exp().sum(1), backend="llvm", optimize=False)
    assert [k.ops for k in exe.kernels] == [["mul"], ["add"], ["exp"], ["sum"]]
    v = _rand(4, 3)
    np.testing.assert_allclose(exe(x=v).numpy(), np.exp(v * 2 + 1).sum(1), rtol=1e-6)


def test_slices_and_selects_are_strided_reads_not_copies():
    def fn(x, w):
        a = x[1:, ::2].exp()                   # slice with a step feeding a kernel
        b = x[-1] * 2 + x[0]                   # int selects
        c = x[None, 2, 1:4].sum(dim=-1)        # a new axis, then a reduction
        d = x[:, 1:5] @ w[2:6]                 # strided operands of a GEMM
        return a, b, c, d, x[:2, 3]            # and a view as a graph output (copied)

    arrays = [_rand(5, 8), _rand(7, 3, seed=1)]
    exe = _compile(fn, [((5, 8), gc.float32), ((7, 3), gc.float32)], "llvm")
    assert "basic_index" not in [exe.graph.op(n) for n in exe.numpy_nodes]
    x, w = arrays
    want = [np.exp(x[1:, ::2]), x[-1] * 2 + x[0], x[None, 2, 1:4].sum(-1), x[:, 1:5] @ w[2:6], x[:2, 3]]
    got = exe(**_feeds(arrays))
    for g_, w_ in zip(got, want):
        assert_matches(g_, w_, rtol=1e-5, atol=1e-6)
    assert not np.shares_memory(got[-1].numpy(), x)


def test_selects_at_the_end_of_a_dynamic_batch():
    f = gc.compile(lambda x: (x[-1] + x[1:].sum(dim=0)).exp(), dynamic=True)
    for n in [4, 2, 9]:
        x = _rand(n, 3, seed=n)
        assert_matches(f(gc.tensor(x)), np.exp(x[-1] + x[1:].sum(0)), rtol=1e-5, atol=1e-6)
    r = f.traces[0].executable._native
    assert r.generic is not None and "basic_index" not in [r.graph.op(n) for n in r.generic.numpy_nodes]
    assert sorted(shapes[0][0] for (shapes, _) in r._plans) == []   # n >= 2 = min_size: one module


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat_is_copy_kernels_into_the_output(dim):
    const = gc.tensor(np.full((3, 2), 7, np.int32))

    def fn(x, y, z):   # transposed, int64, empty and int32-constant parts: a float32 result
        empty = z.t()[:, :0] if dim else z.t()[:0, :2]
        return gc.cat([x.t() * 2, y.t(), empty, const], dim=dim).exp()

    arrays = [_rand(2, 3), np.arange(6, dtype=np.int64).reshape(2, 3), _rand(4, 3, seed=2)]
    exe = _compile(fn, [((2, 3), gc.float32), ((2, 3), gc.int64), ((4, 3), gc.float32)], "llvm")
    assert "cat" not in [exe.graph.op(n) for n in exe.numpy_nodes]
    assert_matches(exe(**_feeds(arrays)), _eager(fn, arrays).numpy(), rtol=1e-5, atol=1e-6)


def test_cat_along_a_dynamic_batch():
    f = gc.compile(lambda x: gc.cat([x, x * 2, x[:1]], dim=0).sum(dim=1), dynamic=True)
    for n in [3, 1, 6]:
        x = _rand(n, 4, seed=n)
        assert_matches(f(gc.tensor(x)), np.concatenate([x, x * 2, x[:1]]).sum(1), rtol=1e-5, atol=1e-6)
    assert len(f.traces) == 2            # batch 1 has a static trace of its own, as in torch
    r = f.traces[-1].executable._native  # the dynamic one, used last (n=6)
    assert r.generic is not None and not r.generic.numpy_nodes


def test_flip_is_a_read_with_negative_strides():
    def fn(x, w):
        f = x.flip(0, 1)
        return (f * 2).exp(), f.sum(dim=1), x.flip(1) @ w, x.flip(0)

    arrays = [_rand(4, 5), _rand(5, 3, seed=1)]
    exe = _compile(fn, [((4, 5), gc.float32), ((5, 3), gc.float32)], "llvm")
    assert "flip" not in [exe.graph.op(n) for n in exe.numpy_nodes]
    x, w = arrays
    want = [np.exp(x[::-1, ::-1] * 2), x[::-1, ::-1].sum(1), x[:, ::-1] @ w, x[::-1]]
    for got, wnt in zip(exe(**_feeds(arrays)), want):
        assert_matches(got, np.ascontiguousarray(wnt), rtol=1e-5, atol=1e-6)
    f = gc.compile(lambda t: t.flip(0) - t, dynamic=True)
    for n in [3, 1, 5]:
        t = _rand(n, 2, seed=n)
        assert_matches(f(gc.tensor(t)), t[::-1] - t)
    assert f.traces[-1].executable._native.generic is not None   # the dynamic trace, used last (n=5)
