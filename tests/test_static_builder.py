"""gc.static.Graph: define-then-run graphs of symbolic tensors, their IR, feeds and running them
(tests that run a graph do so under both backends: the ``backend`` fixture of conftest)."""
import os
import warnings

import numpy as np
import pytest

import graphc as gc
from graphc.ir import parse, verify
from graphc.static import TracingError
from helpers import assert_matches, line_of

HERE = os.path.basename(__file__)


def _rand(*shape, dtype=np.float32, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# ----------------------------------------------------------------------------- IR text
def test_ops_on_placeholders_build_the_expected_ir():
    g = gc.static.Graph()
    x = g.placeholder("x", (None, 4))
    w = g.placeholder("w", (4, 3))
    b = g.placeholder("b", (3,), gc.float64)
    y = (x @ w).relu() + 2.5
    z = y.sum(dim=1, keepdim=True).to(gc.float64) * b
    z.mean()
    assert str(g) == "\n".join([
        '%0 = placeholder "x" : f32[?,4]',
        '%1 = placeholder "w" : f32[4,3]',
        '%2 = placeholder "b" : f64[3]',
        "%3 = matmul %0, %1 : f32[?,3]",
        "%4 = relu %3 : f32[?,3]",
        "%5 = constant 2.5 {wrapped=True} : f32[]",
        "%6 = add %4, %5 : f32[?,3]",
        "%7 = sum %6 {dim=(1,), keepdim=True} : f32[?,1]",
        "%8 = cast %7 {dtype=f64} : f64[?,1]",
        "%9 = mul %8, %2 : f64[?,3]",
        "%10 = sum %9 {dim=(0, 1), keepdim=False} : f64[]",
        # the mean's count depends on the symbolic size: an input set at run time, not a constant
        '%11 = placeholder "3*?" {wrapped=True} : i64[]',
        "%12 = div %10, %11 : f64[]",
    ])


def test_ir_records_the_users_line_and_parses_back():
    # interp only: checks the IR and passes, which come before (and do not depend on) the backend
    g = gc.static.Graph()
    x = g.placeholder("x", (2, 3))
    y = x.exp()  # this line
    line = y.graph.ir.loc(y.node)
    assert line.endswith(f"{HERE}:{_line_of('y = x.exp()  # this line')}")
    exe = g.compile(y)
    verify(exe.graph)
    assert parse(str(exe.graph)).equals(exe.graph, locs=False)


def _line_of(text: str) -> int:
    return line_of(__file__, text)


def test_eager_tensors_become_parameters_or_constants():
    w = gc.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    c = gc.tensor([10.0, 20.0])
    g = gc.static.Graph()
    x = g.placeholder("x", (2,))
    (x @ w + c).sum()
    text = str(g)
    assert '%1 = parameter "p0" : f32[2,2]' in text
    assert "constant [10.0, 20.0] : f32[2]" in text


# ----------------------------------------------------------------------------- running == eager
CASES = [
    ("pointwise", [(3, 4), (3, 4)], lambda a, b: (a * b).exp() - a / (b.abs() + 1)),
    ("broadcast", [(3, 1), (4,)], lambda a, b: a + b * 2),
    ("reductions", [(2, 3, 4)], lambda a: (a.sum(dim=(0, 2)), a.amax(-1), a.mean(1, keepdim=True), a.var(2))),
    ("matmul", [(5, 3), (3, 2)], lambda a, b: a @ b),
    ("movement", [(2, 3, 4)], lambda a: (a.permute(2, 0, 1).reshape(4, 6), a[:, 1:, ::2], a[0, -1], a.flatten(1))),
    ("nn", [(4, 5)], lambda a: (gc.nn.functional.softmax(a, 1), gc.nn.functional.log_softmax(a, 0),
                                gc.nn.functional.gelu(a))),
    ("compare", [(3, 3), (3, 3)], lambda a, b: (gc.where(a > b, a, b), (a >= 0).sum(), a.argmax(1))),
    ("cat", [(2, 3), (1, 3)], lambda a, b: gc.cat([a, b, a], 0).cumsum(0)),
]


@pytest.mark.parametrize("name,shapes,fn", CASES, ids=[c[0] for c in CASES])
def test_graph_results_equal_eager_results(name, shapes, fn, backend, backend_tol):
    arrays = [_rand(*s, seed=i) for i, s in enumerate(shapes)]
    g = gc.static.Graph()
    syms = [g.placeholder(f"in{i}", s) for i, s in enumerate(shapes)]
    exe = g.compile(fn(*syms), backend=backend)
    got = exe(**{f"in{i}": a for i, a in enumerate(arrays)})
    want = fn(*[gc.tensor(a) for a in arrays])
    got, want = (got, want) if isinstance(want, tuple) else ((got,), (want,))
    assert isinstance(got, tuple) and len(got) == len(want)
    for a, b in zip(got, want):
        assert_matches(a, b.numpy(), **backend_tol(b.dtype.np))  # interp: bit for bit (same kernels)


@pytest.mark.parametrize("dtype", [gc.int32, gc.float16, gc.float64, gc.bool])
def test_promotion_with_python_numbers_matches_eager(dtype, backend, backend_tol):
    a = (np.arange(6).reshape(2, 3) % 3).astype(dtype.np)
    g = gc.static.Graph()
    x = g.placeholder("x", (2, 3), dtype)
    fn = [lambda t: t + 2.5, lambda t: t * 3, lambda t: t / 2, lambda t: (t * 1.5) > 1]
    exe = g.compile([f(x) for f in fn], backend=backend)
    for got, f in zip(exe(x=a), fn):
        want = f(gc.tensor(a))
        assert_matches(got, want.numpy(), **backend_tol(want.dtype.np))


def test_symbolic_size_runs_for_every_batch_size(backend, backend_tol):
    g = gc.static.Graph()
    x = g.placeholder("x", (None, 3, 4))
    y = x.view(x.shape[0], -1)[:-1].mean(0) + x.sum(0).reshape(-1)
    exe = g.compile(y, backend=backend)
    assert exe.placeholders == {"x": gc.ops.Spec((None, 3, 4), gc.float32)}
    for n in (2, 5, 9):
        a = _rand(n, 3, 4, seed=n)
        t = gc.tensor(a)
        want = t.view(n, -1)[:-1].mean(0) + t.sum(0).reshape(-1)
        assert_matches(exe(x=a), want.numpy(), **backend_tol(np.float32))


def test_zeros_like_of_a_symbolic_tensor_stays_symbolic(backend):
    g = gc.static.Graph()
    x = g.placeholder("x", (None, 2))
    y = gc.zeros_like(x) + x.new_ones(x.shape) * 3 + x
    exe = g.compile(y, backend=backend)
    a = _rand(5, 2)
    assert_matches(exe(x=a), a + 3)


def test_concrete_values_of_a_symbolic_size_are_an_error():
    g = gc.static.Graph()
    x = g.placeholder("x", (None,), gc.int64)
    with pytest.raises(TracingError, match=f"symbolic size at .*{HERE}"):
        x + gc.arange(x.shape[0])


def test_results_keep_the_structure_and_own_their_memory(backend):
    g = gc.static.Graph()
    x = g.placeholder("x", (3,))
    exe = g.compile({"same": x, "pair": (x.reshape(3), x * 2), "list": [x[1:]]}, backend=backend)
    a = _rand(3)
    r = exe.run({"x": a})
    assert set(r) == {"same", "pair", "list"} and isinstance(r["pair"], tuple) and isinstance(r["list"], list)
    assert all(isinstance(t, gc.Tensor) for t in (r["same"], *r["pair"], *r["list"]))
    assert_matches(r["pair"][1], a * 2)
    r["same"].add_(1)  # a result is a fresh array: writing it changes neither the feed nor another result
    assert_matches(gc.tensor(a), a) and np.array_equal(r["pair"][0].numpy(), a)


def test_feeds_accept_tensors_and_python_data(backend):
    g = gc.static.Graph()
    x = g.placeholder("x", (2,), gc.int64)
    exe = g.compile(x * 2, backend=backend)
    assert_matches(exe(x=gc.tensor([1, 2])), np.array([2, 4]))
    assert_matches(exe(x=[3, 4]), np.array([6, 8]))


# ----------------------------------------------------------------------------- bad feeds
@pytest.fixture
def exe(backend):
    g = gc.static.Graph()
    x = g.placeholder("x", (None, 3))
    y = g.placeholder("y", (3,), gc.int64)
    return g.compile(x * y, backend=backend)


def test_wrong_shape_names_the_placeholder_and_both_specs(exe):
    with pytest.raises(RuntimeError, match=r"feed 'x' has the wrong shape: placeholder 'x' expects f32\[\?,3\].*got f32\[2,4\]"):
        exe(x=np.zeros((2, 4), np.float32), y=np.zeros(3, np.int64))
    with pytest.raises(RuntimeError, match=r"'y' expects i64\[3\].*got i64\[1,3\]"):
        exe(x=np.zeros((2, 3), np.float32), y=np.zeros((1, 3), np.int64))


def test_wrong_dtype_names_the_placeholder(exe):
    with pytest.raises(RuntimeError, match=r"feed 'x' has the wrong dtype: .*expects f32\[\?,3\].*got f64\[2,3\]"):
        exe(x=np.zeros((2, 3)), y=np.zeros(3, np.int64))


def test_missing_and_unknown_feeds(exe):
    with pytest.raises(TypeError, match=r"missing feed for placeholder 'y' \(i64\[3\]\)"):
        exe(x=np.zeros((2, 3), np.float32))
    with pytest.raises(TypeError, match=r"unknown feed\(s\) 'z'.*x \(f32\[\?,3\]\), y \(i64\[3\]\)"):
        exe(x=np.zeros((2, 3), np.float32), y=np.zeros(3, np.int64), z=1)


def test_symbolic_sizes_must_agree_when_the_graph_computes_with_them(backend):
    g = gc.static.Graph()
    x = g.placeholder("x", (None,))
    y = g.placeholder("y", (None,))
    exe = g.compile(x.mean() + y.mean(), backend=backend)
    with pytest.raises(RuntimeError, match="symbolic sizes of this graph must agree"):
        exe(x=np.ones(2, np.float32), y=np.ones(3, np.float32))
    free = g.compile(x.sum() + y.sum(), backend=backend)  # nothing depends on the size: any sizes go
    assert free(x=np.ones(2, np.float32), y=np.ones(3, np.float32)).item() == 5.0


def test_placeholder_arguments_are_checked():
    g = gc.static.Graph()
    g.placeholder("x", (2,))
    with pytest.raises(ValueError, match="already has an input named 'x'"):
        g.placeholder("x", (3,))
    with pytest.raises(TypeError, match="non-negative int or None"):
        g.placeholder("z", (2, -1))


# ----------------------------------------------------------------------------- parameters, in-place ops
def test_parameters_are_read_at_each_run(backend):
    w = gc.tensor([1.0, 2.0])
    g = gc.static.Graph()
    x = g.placeholder("x", (2,))
    exe = g.compile(x * g.parameter("w", w), backend=backend)
    assert_matches(exe(x=np.ones(2, np.float32)), np.array([1.0, 2.0], np.float32))
    w.mul_(10)
    assert_matches(exe(x=np.ones(2, np.float32)), np.array([10.0, 20.0], np.float32))


def test_in_place_ops_are_functionalized(backend, backend_tol):
    g = gc.static.Graph()
    x = g.placeholder("x", (2, 3))
    y = x.clone()
    y.add_(1)
    y[0] = 0.0
    y[:, 1].mul_(5)
    v = y.view(6)
    v[2:4] = v[2:4] * 10
    exe = g.compile(y, backend=backend)
    a = _rand(2, 3)
    t = gc.tensor(a).clone()
    t.add_(1)
    t[0] = 0.0
    t[:, 1].mul_(5)
    tv = t.view(6)
    tv[2:4] = tv[2:4] * 10
    assert_matches(exe(x=a), t.numpy(), **backend_tol(np.float32))


def test_writing_a_symbolic_value_into_an_eager_tensor_is_an_error():
    buf = gc.zeros(3)
    g = gc.static.Graph()
    x = g.placeholder("x", (3,))
    with pytest.raises(TracingError, match="cannot change eager tensors"):
        buf.add_(x)
    with pytest.raises(TracingError, match="cannot change eager tensors"):
        buf[0] = x[1]


def test_tensors_of_two_graphs_do_not_mix():
    a = gc.static.Graph().placeholder("a", (2,))
    b = gc.static.Graph().placeholder("b", (2,))
    with pytest.raises(TracingError, match="two different graphs"):
        a + b


# ----------------------------------------------------------------------------- no values while building
@pytest.mark.parametrize("what,fn", [
    ("bool", lambda x: bool(x.sum() > 0)),
    ("if", lambda x: 1 if x.max() > 0 else 2),
    ("item", lambda x: x.sum().item()),
    ("int", lambda x: int(x[0, 0])),
    ("float", lambda x: float(x.sum())),
    ("tolist", lambda x: x.tolist()),
    ("numpy", lambda x: x.numpy()),
    ("np.asarray", lambda x: np.asarray(x)),
    ("iter over symbolic dim", lambda x: [r for r in x]),
])
def test_data_dependent_python_raises_tracing_error_naming_the_line(what, fn):
    g = gc.static.Graph()
    x = g.placeholder("x", (None, 3))
    with pytest.raises(TracingError) as e:
        fn(x)
    assert isinstance(e.value, RuntimeError)
    msg = str(e.value)
    assert f"{HERE}:" in msg
    assert "static graph" in msg or "symbolic" in msg
    assert "gc.static.cond" in msg or "fixed size" in msg


def test_error_line_is_the_callers_line():
    g = gc.static.Graph()
    x = g.placeholder("x", (2,))
    with pytest.raises(TracingError, match=f"{HERE}:{_line_of('bool(x.sum())  # the line')}"):
        bool(x.sum())  # the line


def test_static_sizes_give_len_and_iteration():
    g = gc.static.Graph()
    x = g.placeholder("x", (3, None))
    assert len(x) == 3
    rows = list(x)
    assert len(rows) == 3 and rows[0].spec.shape == (None,)


def test_kernel_errors_at_run_time_name_the_op_and_the_users_line(backend):
    g = gc.static.Graph()
    i = g.placeholder("i", (2,), gc.int64)
    src = gc.tensor([1.0, 2.0, 3.0])
    y = src[i]  # an index known only at run time
    exe = g.compile(y, backend=backend)
    assert_matches(exe(i=np.array([2, 0])), np.array([3.0, 1.0], np.float32))
    with pytest.raises(IndexError, match=f"index.*{HERE}:{_line_of('y = src[i]')}"):
        exe(i=np.array([5, 0]))


def test_llvm_backend_runs_natively_and_unknown_backends_are_refused():
    g = gc.static.Graph()
    x = g.placeholder("x", (2,))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exe = g.compile(x + 1, backend="llvm")
    assert exe.backend == "llvm" and exe.kernels
    assert_matches(exe(x=np.array([1.0, 2.0], np.float32)), np.array([2.0, 3.0], np.float32))
    with pytest.raises(ValueError, match="unknown backend"):
        g.compile(x, backend="cuda")


def test_optimized_graph_and_pass_stats_are_exposed():
    # interp only: checks the IR and passes, which come before (and do not depend on) the backend
    g = gc.static.Graph()
    x = g.placeholder("x", (4,))
    y = x * 2
    exe = g.compile(y)
    verify(exe.graph)
    assert exe.graph is not exe.source and isinstance(exe.passes, list)
    raw = g.compile(y, optimize=False)
    assert raw.passes == [] and raw.graph is raw.source


def test_a_compiled_graph_holds_only_what_its_outputs_need(backend):
    g = gc.static.Graph()
    x = g.placeholder("x", (4,))
    other = g.placeholder("other", (4,))
    (x.exp() + other).sum()
    exe = g.compile(x * 2, backend=backend)
    assert "exp" not in str(exe.source) and "other" not in str(exe.source)
    assert exe.placeholders == {"x": gc.ops.Spec((4,), gc.float32)}
    a = _rand(4)
    assert_matches(exe(x=a), a * 2)
    assert_matches(exe(x=a, other=a), a * 2)  # a placeholder of the graph that these outputs do not need
