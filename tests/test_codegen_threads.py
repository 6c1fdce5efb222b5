"""Large native kernels split their outer loop across threads (graphc.codegen.threads); the results
must be bit-identical to the single-threaded plan (GRAPHC_THREADS=1), and small kernels stay
single-threaded."""
import numpy as np
import pytest

import graphc as gc
from graphc.codegen import threads
from graphc.codegen.threads import chunk_bounds

F = gc.nn.functional
SMALL_THRESHOLD = 1 << 14   # the tests lower the threshold so that their graphs stay fast
BIG = 1 << 17


@pytest.fixture(autouse=True)
def _low_threshold(monkeypatch):
    monkeypatch.setattr(threads, "PARALLEL_MIN_ELEMENTS", SMALL_THRESHOLD)


def _rand(*shape, dtype=np.float32, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _compile(fn, specs, monkeypatch, nthreads):
    """``fn`` on placeholders x0, x1, ... compiled with the llvm backend under GRAPHC_THREADS=nthreads."""
    monkeypatch.setenv("GRAPHC_THREADS", str(nthreads))
    g = gc.static.Graph()
    xs = [g.placeholder(f"x{i}", shape, dt) for i, (shape, dt) in enumerate(specs)]
    return g.compile(fn(*xs), backend="llvm")


def _run(exe, arrays):
    out = exe.run({f"x{i}": a for i, a in enumerate(arrays)})
    outs = out if isinstance(out, (list, tuple)) else [out]
    return [o.numpy() if hasattr(o, "numpy") else np.asarray(o) for o in outs]


def _threaded(exe) -> list:
    return [k for k in exe.kernels if k.threads > 1]


def _w1(a, b, c):
    return (a * b + c).sigmoid() * a.tanh() - 0.5 * c


def _bias_relu(x, b):
    return (x + b).relu() * 2.0


def _row_softmax(x):
    return F.softmax(x, dim=-1)


def _mid_sum(x):
    return (x * x).sum(dim=1)


def _last_amax(x):
    return x.amax(dim=-1, keepdim=True)


def _mean_rows(x):
    return (x.exp() - 1.0).mean(dim=-1)


CASES = [
    ("elementwise", _w1, [((BIG,), np.float32)] * 3),
    ("elementwise_f64_odd", _w1, [((BIG + 37,), np.float64)] * 3),
    ("broadcast", _bias_relu, [((1024, 130), np.float32), ((130,), np.float32)]),
    ("broadcast_col", _bias_relu, [((513, 257), np.float64), ((513, 1), np.float64)]),
    ("softmax", _row_softmax, [((512, 300), np.float32)]),
    ("sum_mid_dim", _mid_sum, [((67, 40, 50), np.float32)]),
    ("amax_last", _last_amax, [((999, 131), np.float32)]),
    ("mean_rows_f64", _mean_rows, [((300, 301), np.float64)]),
]


@pytest.mark.parametrize("name,fn,specs", CASES, ids=[c[0] for c in CASES])
def test_threaded_matches_single_thread_bitwise(name, fn, specs, monkeypatch):
    arrays = [_rand(*shape, dtype=dt, seed=i) for i, (shape, dt) in enumerate(specs)]
    multi = _compile(fn, specs, monkeypatch, 2)
    single = _compile(fn, specs, monkeypatch, 1)
    assert _threaded(multi), f"{name}: no kernel runs threaded: {multi.kernels}"
    assert not _threaded(single)
    got, want = _run(multi, arrays), _run(single, arrays)
    for g_, w in zip(got, want):
        assert g_.dtype == w.dtype and g_.shape == w.shape
        np.testing.assert_array_equal(g_, w)
    # and again: the second call reuses arena and pooled outputs
    for g_, w in zip(_run(multi, arrays), want):
        np.testing.assert_array_equal(g_, w)


def test_three_threads_uneven_rows(monkeypatch):
    specs = [((7, 20000), np.float32)]
    x = _rand(7, 20000)
    multi = _compile(_mid_sum_last := (lambda t: (t * 3.0).sum(dim=-1)), specs, monkeypatch, 3)
    single = _compile(_mid_sum_last, specs, monkeypatch, 1)
    assert [k.threads for k in _threaded(multi)] == [3]
    np.testing.assert_array_equal(_run(multi, [x])[0], _run(single, [x])[0])


def test_small_kernels_stay_single_threaded(monkeypatch):
    exe = _compile(_w1, [((1000,), np.float32)] * 3, monkeypatch, 2)
    assert exe.kernels and not _threaded(exe)


def test_default_threshold(monkeypatch):
    monkeypatch.undo()
    n = threads.PARALLEL_MIN_ELEMENTS
    below = _compile(lambda t: t * 2.0, [((n - 1,), np.float32)], monkeypatch, 2)
    assert below.kernels and not _threaded(below)
    at = _compile(lambda t: t * 2.0, [((n,), np.float32)], monkeypatch, 2)
    assert [k.threads for k in at.kernels] == [2]
    x = _rand(n)
    np.testing.assert_array_equal(_run(at, [x])[0], x * np.float32(2.0))


def test_full_reduction_is_not_split(monkeypatch):
    # a reduction to one value has no outer loop over outputs: splitting would change the order
    exe = _compile(lambda t: t.sum(), [((BIG,), np.float32)], monkeypatch, 2)
    assert exe.kernels and not _threaded(exe)
    x = _rand(BIG)
    np.testing.assert_allclose(_run(exe, [x])[0], x.sum(dtype=np.float64), rtol=1e-5)


def test_column_reduction_is_not_split(monkeypatch):
    # the outer loop walks the reduced dim (read-modify-write into the outputs)
    exe = _compile(lambda t: t.sum(dim=0), [((1024, 256), np.float32)], monkeypatch, 2)
    assert exe.kernels and not _threaded(exe)


def test_chunk_bounds():
    assert chunk_bounds(100, threads.PARALLEL_MIN_ELEMENTS - 1, 2) == [(0, 100)]
    assert chunk_bounds(100, 1 << 20, 1) == [(0, 100)]
    assert chunk_bounds(1, 1 << 20, 2) == [(0, 1)]
    assert chunk_bounds(7, 1 << 20, 3) == [(0, 2), (2, 4), (4, 7)]
    big = chunk_bounds(1 << 20, 1 << 20, 2)
    assert big == [(0, 1 << 19), (1 << 19, 1 << 20)]
    odd = chunk_bounds(100003, 100003, 2)
    assert odd[0][0] == 0 and odd[-1][1] == 100003 and odd[0][1] % 64 == 0 and odd[0][1] == odd[1][0]


def test_bad_thread_count(monkeypatch):
    monkeypatch.setenv("GRAPHC_THREADS", "two")
    with pytest.raises(ValueError, match="GRAPHC_THREADS"):
        threads.thread_count()
