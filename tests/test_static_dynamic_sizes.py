"""Symbolic sizes as user code sees them (graphc.static.symsize.StandInSize): adding, subtracting
and multiplying a symbolic size by integers keeps the graph dynamic; any other use of its value
(``//``, a comparison, ``int()``) would bake the stand-in into the graph, so a dynamic=True trace
refuses it and the function runs with static shapes instead.  Results match eager either way."""
import pickle
import warnings

import numpy as np
import pytest

import graphc as gc
from graphc.static import GraphBreakWarning, TracingError
from graphc.static.symsize import EXAMPLE_SIZE, StandInSize, plain

SIZES = (4, 6, 11)


def _x(n, cols=3):
    return gc.tensor(np.arange(n * cols, dtype=np.float32).reshape(n, cols) - 5)


def _check(fn, backend, traces):
    f = gc.compile(fn, backend=backend, dynamic=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GraphBreakWarning)
        for n in SIZES:
            x = _x(n)
            got, want = f(x), fn(x)
            assert got.shape == want.shape
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
    assert len(f.traces) == traces
    return f


@pytest.mark.parametrize("fn", [
    lambda x: x.view(x.shape[0], -1).sum(1),
    lambda x: gc.zeros(x.shape[0] * 2, 1) + x.repeat(2, 1).sum(1, keepdim=True),
    lambda x: x.reshape(x.size(0) * 3) * 2,
    lambda x: x.sum() / x.numel(),
    lambda x: x[: x.shape[0] - 1] * 2,
])
def test_affine_uses_of_a_symbolic_size_stay_dynamic(backend, fn):
    _check(fn, backend, traces=1)


@pytest.mark.parametrize("fn", [
    lambda x: x[: x.shape[0] // 2] * 2,                       # silently x[:3959] before
    lambda x: x * 2 if x.shape[0] > 4 else x * 3,             # the branch taken for the stand-in
    lambda x: x.sum(0) * (1.0 / x.shape[0]),
    lambda x: x[: int(x.size(0)) - 1],
    lambda x: x.reshape(x.shape[0] ** 1, -1) + x.shape[0] % 5,
])
def test_other_uses_run_with_static_shapes_and_match_eager(backend, fn):
    f = gc.compile(fn, backend=backend, dynamic=True)
    with pytest.warns(GraphBreakWarning, match="static shapes"):
        f(_x(SIZES[0]))
    _check(fn, backend, traces=len(SIZES))


def test_a_graph_built_with_a_symbolic_size_refuses_arithmetic_it_cannot_follow():
    g = gc.static.Graph()
    x = g.placeholder("x", (None, 3))
    n = x.shape[0]
    assert isinstance(n, StandInSize) and int.__int__(n) == EXAMPLE_SIZE
    assert isinstance(x.shape[1], int) and not isinstance(x.shape[1], StandInSize)
    with pytest.raises(TracingError, match=r"'floordiv' of the symbolic size .*test_static_dynamic_sizes.py"):
        x[: n // 2]
    with pytest.raises(TracingError, match="'gt'"):
        bool(n > 1)
    # adding and multiplying by integers stays symbolic, and the graph runs at any size
    y = x.view(n * 3) * 2.0
    exe = g.compile(y)
    for rows in (2, 5):
        a = np.arange(rows * 3, dtype=np.float32).reshape(rows, 3)
        np.testing.assert_array_equal(exe(x=a).numpy(), a.reshape(-1) * 2)


def test_stand_in_size_arithmetic_and_pickling():
    n = StandInSize(EXAMPLE_SIZE)
    assert type(n + 1) is StandInSize and int.__int__(n + 1) == EXAMPLE_SIZE + 1
    assert type(2 * n - 3) is StandInSize and type(n * 5) is StandInSize
    for op in (lambda: n // 2, lambda: n / 2, lambda: n ** 2, lambda: -n, lambda: n < 3, lambda: n == 3,
               lambda: float(n), lambda: int(n)):
        with pytest.raises(TracingError):
            op()
    back = pickle.loads(pickle.dumps(n))
    assert type(back) is int and back == EXAMPLE_SIZE
    assert plain({"shape": (n, 3), "k": [n]}) == {"shape": (EXAMPLE_SIZE, 3), "k": [EXAMPLE_SIZE]}
    assert all(type(v) is int for v in plain((n, [n]))[1] + [plain(n)])


def test_static_graphs_show_plain_sizes():
    g = gc.static.Graph()
    x = g.placeholder("x", (4, 3))
    assert all(type(d) is int for d in x.shape) and type(x.numel()) is int


@pytest.mark.parametrize("fn", [lambda x: x[:-1] + 1, lambda x: x[: x.size(0) - 1] * x[1:]])
def test_outputs_whose_size_is_not_the_batch_size_stay_differentiable(backend, fn):
    # their upstream gradient cannot be a placeholder of the batch size: the function is traced
    # with static shapes instead (before, the outputs silently lost their grad_fn)
    f = gc.compile(fn, backend=backend, dynamic=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GraphBreakWarning)
        for n in (3, 5):
            x = gc.tensor(np.random.default_rng(n).standard_normal((n, 4)).astype(np.float32), requires_grad=True)
            y = f(x)
            assert y.requires_grad
            (y * y).sum().backward()
            got = x.grad.numpy().copy()
            x.grad = None
            (fn(x) ** 2).sum().backward()
            np.testing.assert_allclose(got, x.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("fn,raises_below", [
    (lambda x: x[x.shape[0] - 1] * 3, 1),      # x[-1]: the last row, none in an empty batch
    (lambda x: x[-1] * 3, 1),
    (lambda x: x[2] * 3, 3),
    (lambda x: x[-2:] * 3, 0),                 # clips: one row at a batch of one
    (lambda x: x[-3:-1] * 3, 0),
    (lambda x: x[1:] * 3, 0),
])
def test_indexing_the_batch_dim_at_small_sizes_matches_eager(backend, fn, raises_below):
    # the plan traced at the stand-in size reads row S-1 or 2; at fewer rows the index must raise
    # IndexError (it used to read memory before or past the input under llvm) or clip like eager
    f = gc.compile(fn, backend=backend, dynamic=True)
    f(_x(5))
    for n in (0, 1, 2, 3, 4):
        x = _x(n)
        if n < raises_below:
            with pytest.raises(IndexError, match="out of bounds"):
                f(x)
            with pytest.raises(IndexError):
                fn(x)
            continue
        got, want = f(x), fn(x)
        assert got.shape == want.shape
        np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize("fn", [
    lambda x: gc.zeros(x.shape[0] * x.shape[0]) + 1,          # S * S is not k * S + b
    lambda x: x * abs(x.shape[0] - 3),                        # negative below S = 3
    lambda x: x[::2] * 2,                                     # ceil(S / 2) rows
    lambda x: x[1::3].sum(0),
    lambda x: gc.stack([r * (i + 1) for i, r in enumerate(x.unbind(0))]),
])
def test_sizes_that_are_not_affine_in_the_batch_size_run_with_static_shapes(backend, fn):
    f = gc.compile(fn, backend=backend, dynamic=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GraphBreakWarning)
        for n in (1, 3, 4):
            x = _x(n)
            got, want = f(x), fn(x)
            assert got.shape == want.shape
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)


def test_stepped_slice_of_the_batch_dim_keeps_its_gradient(backend):
    f = gc.compile(lambda x: (x[::2] * x[::2]).sum(), backend=backend, dynamic=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GraphBreakWarning)
        for n in (4, 5):
            x = gc.tensor(np.arange(2 * n, dtype=np.float32).reshape(n, 2), requires_grad=True)
            f(x).backward()
            want = np.zeros((n, 2), np.float32)
            want[::2] = 2 * x.detach().numpy()[::2]
            np.testing.assert_allclose(x.grad.numpy(), want)
