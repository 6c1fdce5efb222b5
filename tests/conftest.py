"""Test configuration: every eager op result is checked against its registry shape rule;
static-mode tests run under both graph backends through the ``backend`` fixture."""
import os
import shutil
import tempfile

# The llvm backend caches compiled kernels on disk: keep the suite's objects in a session folder
# (removed at the end) instead of ~/.cache, unless the caller chose a folder. Set before graphc loads.
_SESSION_CACHE = None
if not os.environ.get("GRAPHC_CACHE_DIR"):
    _SESSION_CACHE = tempfile.mkdtemp(prefix="graphc-test-cache-")
    os.environ["GRAPHC_CACHE_DIR"] = _SESSION_CACHE

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import graphc as gc  # noqa: E402
from graphc.eager import dispatch  # noqa: E402
from helpers import llvm_tol  # noqa: E402

BACKENDS = ("interp", "llvm")


def pytest_sessionfinish(session, exitstatus):
    if _SESSION_CACHE is not None:
        shutil.rmtree(_SESSION_CACHE, ignore_errors=True)


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    """The graph backend a static test compiles with: 'interp' (numpy reference, results equal
    eager bit for bit) or 'llvm' (native kernels: equal within float tolerance, see backend_tol)."""
    return request.param


@pytest.fixture(autouse=True)
def _check_specs_and_reset():
    dispatch.CHECK_SPECS = True
    prev_default = gc.get_default_dtype()
    prev_grad = gc.is_grad_enabled()
    yield
    dispatch.CHECK_SPECS = False
    gc.set_default_dtype(prev_default)
    gc.set_grad_enabled(prev_grad)




@pytest.fixture
def backend_tol(backend):
    """``backend_tol(dtype)`` -> dict(rtol=, atol=) for comparing ``backend``'s results with eager:
    exact for interp (the same numpy kernels), a few ulp of ``dtype`` for llvm (ints: exact)."""
    def tol(dtype=np.float64) -> dict:
        return {"rtol": 0.0, "atol": 0.0} if backend == "interp" else llvm_tol(dtype)
    return tol
