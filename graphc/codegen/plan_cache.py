"""Whole compiled plans on disk: a warm compile skips the passes, the lowering and LLVM.

The object-code cache (:mod:`.cache`) keys on LLVM IR, so even a warm hit pays for the
passes and for writing that IR.  This cache keys on the graph as traced instead: the entry
for a source graph holds its optimized graph, the pass statistics and the pickled
:class:`~graphc.codegen.backend.NativePlan` (its object code inside), so loading one is
unpickling plus linking the object code (a few milliseconds).

    >>> key = plan_key(graph, optimize=True, fastmath=False)
    >>> parts = load_plan(key)          # (optimized graph, pass stats, NativePlan) or None
    >>> store_plan(key, parts)

The key text holds everything the plan depends on: the graph's content hash and node ids,
the options, the host target and LLVM versions (``jit.CompileFlags.key``), the thread count
large kernels are cut for, the BLAS library matmul calls (and its thread count), and a
fingerprint of graphc's own sources (a changed graphc never loads an older plan).  Entries use the object cache's file
envelope (magic, format version, full key, length, sha256 of the payload): a damaged or
foreign file is a miss, rebuilt and replaced, never unpickled.  Like the object files, the
entries are trusted code from the user's own cache folder (``$GRAPHC_CACHE_DIR``).
"""
from __future__ import annotations

import hashlib
import pickle
from functools import lru_cache
from pathlib import Path

from ..ir.graph import Graph
from . import blas as _blas, cache, jit
from .threads import thread_count

__all__ = ["PLAN_FORMAT", "plan_key", "load_plan", "store_plan", "code_fingerprint"]

PLAN_FORMAT = 1
_SUFFIX = ".gcp"


@lru_cache(maxsize=None)
def code_fingerprint() -> str:
    """sha256 over graphc's Python sources (paths and contents), computed once per process."""
    root = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode() + b"\0")
        h.update(path.read_bytes())
    return h.hexdigest()


def plan_key(graph: Graph, *, optimize: bool, fastmath: bool, opt_level: int = 3) -> str:
    """The full key text of ``graph``'s compiled plan under these options on this machine."""
    blas = _blas.resolve_gemm()
    ids = ",".join(map(str, graph.topo_order()))   # the plan refers to nodes by id
    ids_hash = hashlib.sha256(ids.encode()).hexdigest()[:16]
    return (f"graphc-plan-v{PLAN_FORMAT}|graph={graph.graph_hash()}|ids={ids_hash}|optimize={int(optimize)}"
            f"|{jit.compile_flags(opt_level, fastmath).key()}|threads={thread_count()}"
            f"|blas={blas.path if blas else None}:{_blas.blas_threads()}|code={code_fingerprint()}")


def load_plan(key: str) -> tuple | None:
    """``(optimized graph, pass stats, NativePlan)`` stored under ``key``, or None (a miss)."""
    store = cache.default_cache()
    payload = store.read_entry(key, _SUFFIX) if store.disk else None
    parts = None
    if payload is not None:
        try:
            parts = pickle.loads(payload)
        except Exception:  # noqa: BLE001 - an entry that does not load is a miss, never fatal
            store.count("rejected")
    store.count("plan_misses" if parts is None else "plan_hits")
    return parts


def store_plan(key: str, parts: tuple) -> bool:
    """Write ``parts`` under ``key``; False when they cannot be pickled (nothing written)."""
    store = cache.default_cache()
    if not store.disk:
        return False
    try:
        payload = pickle.dumps(parts, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - e.g. an attribute holding a function: just not cached
        return False
    store.write_entry(key, payload, _SUFFIX)
    return True
