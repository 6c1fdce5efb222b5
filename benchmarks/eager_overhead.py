"""Eager per-op overhead: a chain of 100 small ops on an (8, 8) tensor, graphc vs plain numpy.

Prints microseconds per op (median of repeats) with grad recording on and off, and
the ratio to numpy, all measured in this one run.  A benchmark, not a test.

    python benchmarks/eager_overhead.py
"""
from __future__ import annotations

import statistics
import time

import numpy as np

import graphc as gc

N_OPS = 100


def chain_graphc(x, w):
    y = x
    for i in range(N_OPS // 4):
        y = y * w
        y = y + 0.5
        y = y.tanh()
        y = y - w
    return y


def chain_numpy(x, w):
    y = x
    for i in range(N_OPS // 4):
        y = y * w
        y = y + 0.5
        y = np.tanh(y)
        y = y - w
    return y


def per_op_us(fn, *args, repeats: int = 30, inner: int = 20) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn(*args)
        times.append((time.perf_counter() - t0) / inner / N_OPS * 1e6)
    return statistics.median(times)


def main() -> None:
    rng = np.random.default_rng(0)
    xa = rng.standard_normal((8, 8)).astype(np.float32)
    wa = rng.standard_normal((8, 8)).astype(np.float32)
    x_grad = gc.tensor(xa, requires_grad=True)
    w_grad = gc.tensor(wa, requires_grad=True)
    x_plain, w_plain = gc.tensor(xa), gc.tensor(wa)

    def with_backward():
        chain_graphc(x_grad, w_grad).sum().backward()

    rows = [
        ("numpy", per_op_us(chain_numpy, xa, wa)),
        ("graphc eager, no grad", per_op_us(chain_graphc, x_plain, w_plain)),
        ("graphc eager, recording", per_op_us(chain_graphc, x_grad, w_grad)),
        ("graphc eager, forward+backward", per_op_us(with_backward, repeats=15, inner=5)),
    ]
    base = rows[0][1]
    print(f"chain of {N_OPS} ops on (8, 8) float32, median us per op")
    print(f"{'mode':34s} {'us/op':>8s} {'x numpy':>8s}")
    for name, us in rows:
        print(f"{name:34s} {us:8.2f} {us / base:8.1f}")
    target = rows[2][1]
    print(f"target: under 10 us per op with grad recording -> {'met' if target < 10 else 'NOT met'} ({target:.2f} us)")


if __name__ == "__main__":
    main()
