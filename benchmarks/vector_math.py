"""exp / tanh / sigmoid over 2**24 float32: numpy against a JIT loop (one thread).

    python benchmarks/vector_math.py [--n 16777216] [--repeat 7]

The JIT side is ``graphc.codegen.mathlib.build_map_kernel`` compiled by
``graphc.codegen.jit``: ``void f(float* noalias out, float* noalias in, i64 n)``
called through ctypes.  numpy writes into a preallocated ``out=`` buffer (its
fastest form: no allocation or page faults timed), sigmoid as the in-place
chain neg -> exp -> +1 -> reciprocal.  GB/s counts one read and one write of
the array.  All figures come from one run, best of ``--repeat`` calls (the
minimum is the figure least disturbed by other work on the machine).
"""
from __future__ import annotations

import argparse
import ctypes
import re
import time

import numpy as np

from graphc.codegen import jit, mathlib


def _numpy_sigmoid(x: np.ndarray, out: np.ndarray) -> None:
    np.negative(x, out=out)
    np.exp(out, out=out)
    out += 1.0
    np.reciprocal(out, out=out)


NUMPY = {
    "exp": lambda x, out: np.exp(x, out=out),
    "tanh": lambda x, out: np.tanh(x, out=out),
    "sigmoid": _numpy_sigmoid,
}


def _best_ms(fn, repeat: int) -> float:
    fn()  # warm up (first touch, code paths)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times) * 1e3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2 ** 24)
    ap.add_argument("--repeat", type=int, default=10)
    args = ap.parse_args()
    n = args.n
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(n) * 4).astype(np.float32)
    out = np.empty_like(x)
    gb = 2 * x.nbytes / 1e9
    host = jit.host_target()
    print(f"host cpu {host.cpu}, n = {n} float32 ({x.nbytes / 2**20:.0f} MiB in, same out), "
          f"single thread, best of {args.repeat}")
    print(f"{'function':8s} {'numpy ms':>9s} {'GB/s':>6s} {'jit ms':>8s} {'GB/s':>6s} "
          f"{'speedup':>8s} {'max ulp':>8s} {'vector':>12s} {'compile ms':>10s}")
    for name, np_fn in NUMPY.items():
        t0 = time.perf_counter()
        cm = jit.compile_module(mathlib.build_map_kernel(mathlib.UNARY[name], "float32"),
                                keep_ir=True)
        compile_ms = (time.perf_counter() - t0) * 1e3
        kernel = cm.get_function("kernel", None, [ctypes.c_void_p] * 2 + [ctypes.c_int64])
        widths = sorted({int(w) for w in re.findall(r"<(\d+) x float>", cm.llvm_ir())})
        t_np = _best_ms(lambda: np_fn(x, out), args.repeat)
        t_jit = _best_ms(lambda: kernel(out.ctypes.data, x.ctypes.data, n), args.repeat)
        # accuracy on the same data, against float64 numpy
        kernel(out.ctypes.data, x.ctypes.data, n)
        ref = np.empty(n, np.float64)
        NUMPY[name](x.astype(np.float64), ref)
        ulp = np.abs(out.astype(np.float64) - ref) / np.spacing(np.abs(ref).astype(np.float32))
        print(f"{name:8s} {t_np:9.2f} {gb / t_np * 1e3:6.1f} {t_jit:8.2f} {gb / t_jit * 1e3:6.1f} "
              f"{t_np / t_jit:7.1f}x {ulp.max():8.2f} {'<%s x f32>' % max(widths):>12s} "
              f"{compile_ms:10.0f}")


if __name__ == "__main__":
    main()
