"""Shared test helpers: compare graphc with numpy, and gradients with finite differences."""
from __future__ import annotations

import numpy as np

import graphc as gc

# the llvm backend's tolerance per dtype, (rtol, atol): a few ulp (native transcendentals are
# polynomial approximations; native reductions may add in another order). atol covers results
# near zero.
LLVM_TOL = {np.dtype(np.float16): (1e-3, 1e-4), np.dtype(np.float32): (1e-5, 1e-6),
            np.dtype(np.float64): (1e-12, 1e-14)}


def llvm_tol(dtype=np.float64) -> dict:
    """``dict(rtol=, atol=)`` for comparing llvm-backend results of ``dtype`` with eager (ints: exact)."""
    rtol, atol = LLVM_TOL.get(np.dtype(getattr(dtype, "np", dtype)), (0.0, 0.0))
    return {"rtol": rtol, "atol": atol}

NP_OF = {gc.float16: np.float16, gc.float32: np.float32, gc.float64: np.float64, gc.int8: np.int8,
         gc.uint8: np.uint8, gc.int16: np.int16, gc.int32: np.int32, gc.int64: np.int64, gc.bool: np.bool_}


def assert_matches(t, expected, dtype=None, rtol=1e-6, atol=1e-6):
    """``t`` is a graphc Tensor equal to the numpy ``expected`` in values, shape and dtype.

    ``dtype`` (a graphc dtype) is the dtype torch would give; by default the expected array's own.
    """
    assert isinstance(t, gc.Tensor), f"expected a Tensor, got {type(t).__name__}"
    expected = np.asarray(expected)
    want_dt = dtype if dtype is not None else gc.dtypes.from_numpy_dtype(expected.dtype)
    assert t.dtype == want_dt, f"dtype {t.dtype} != {want_dt}"
    assert tuple(t.shape) == expected.shape, f"shape {tuple(t.shape)} != {expected.shape}"
    got = t.detach().numpy()
    if got.dtype.kind == "f" or expected.dtype.kind == "f":
        np.testing.assert_allclose(got.astype(np.float64), expected.astype(np.float64), rtol=rtol, atol=atol,
                                   equal_nan=True)
    else:
        np.testing.assert_array_equal(got, expected)


def rand64(*shape, low=-1.0, high=1.0, seed=0, requires_grad=True):
    """A float64 leaf tensor with uniform values, for gradcheck."""
    rng = np.random.default_rng(seed)
    arr = rng.uniform(low, high, size=shape)
    return gc.tensor(arr, dtype=gc.float64, requires_grad=requires_grad)


def check_grad(fn, *inputs, **kw):
    """Assert gc.autograd.gradcheck passes for ``fn`` at ``inputs`` (float64 tensors)."""
    assert gc.autograd.gradcheck(fn, inputs, **kw)


def line_of(path: str, text: str) -> int:
    """The 1-based line of ``path`` holding ``text`` (for asserting error messages name the user's line)."""
    with open(path) as f:
        for i, line in enumerate(f, 1):
            if text in line and "line_of" not in line:
                return i
    raise AssertionError(f"{text!r} not found in {path}")


def sgd_train_step(model, opt):
    """One training step written with the eager API: cross-entropy, backward, a step of ``opt`` (any optimizer)."""
    import graphc.nn.functional as F

    def step(x, y):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return step
