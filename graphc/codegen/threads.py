"""Running one large kernel on several cores: its outermost loop cut into disjoint ranges.

A kernel whose outermost loop walks output elements only (``KernelInfo.split``, see
:func:`graphc.codegen.lower.emit_kernel`) can run each range of that loop on its own thread:
every output element is computed by exactly one range, in the same order as the whole loop
would, so the results are bit-identical to a single-threaded run.  Small kernels stay on the
calling thread (waking a worker costs more than they take).

``GRAPHC_THREADS`` (read when a plan is built) sets the number of threads; ``GRAPHC_THREADS=1``
disables threading.  The default is ``os.cpu_count()``.
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

__all__ = ["PARALLEL_MIN_ELEMENTS", "thread_count", "chunk_bounds", "run_chunks"]

# kernels over fewer domain elements run single-threaded: handing ranges to the pool and waiting
# costs about 25 us, so two threads first pay off near 2**17 elements (a float32 tanh chain,
# measured on idle cores) and clearly from 2**18
PARALLEL_MIN_ELEMENTS = 1 << 18
_ALIGN = 64            # range starts are multiples of this when rows are plentiful (cache lines)

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def thread_count() -> int:
    """How many threads a large kernel runs on: ``GRAPHC_THREADS`` if set, else the CPU count."""
    raw = os.environ.get("GRAPHC_THREADS")
    if raw:
        try:
            return max(1, int(raw))
        except ValueError:
            raise ValueError(f"GRAPHC_THREADS must be a positive integer, got {raw!r}") from None
    return os.cpu_count() or 1


def chunk_bounds(extent: int, elements: int, threads: int) -> list:
    """The ``(start, stop)`` ranges of an outer loop of ``extent`` rows over ``elements`` domain
    elements: one range (no threading) when the kernel is small, else up to ``threads`` ranges."""
    if threads < 2 or extent < 2 or elements < PARALLEL_MIN_ELEMENTS:
        return [(0, extent)]
    n = min(threads, extent)
    align = _ALIGN if extent >= _ALIGN * n * 8 else 1
    cuts = [0] + [(extent * i // n) // align * align for i in range(1, n)] + [extent]
    return [(lo, hi) for lo, hi in zip(cuts, cuts[1:]) if hi > lo]


def _executor() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                _pool = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 1),
                                           thread_name_prefix="graphc-kernel")
    return _pool


def run_chunks(fn, table_addr: int, bounds: list) -> None:
    """Call ``fn(table_addr, start, stop)`` for every range, the first on this thread, the others on
    the pool (ctypes drops the GIL, so they run in parallel), and wait for all of them."""
    if len(bounds) == 1:
        fn(table_addr, *bounds[0])
        return
    pool = _executor()
    futures = [pool.submit(fn, table_addr, lo, hi) for lo, hi in bounds[1:]]
    try:
        fn(table_addr, *bounds[0])
    finally:
        for f in futures:
            f.result()
