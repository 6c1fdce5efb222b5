"""Optimization passes over the shared IR, and their pipeline.

Each pass is a function ``pass_(g) -> PassStats`` that rewrites the :class:`~graphc.ir.Graph`
in place and says what it changed; results never change (the IR verifier holds after every
pass, and values are bit-for-bit the same unless ``simplify(unsafe_math=True)`` is asked for).

    >>> g, stats = run_pipeline(graph)          # dce, cse, fold, simplify, cse, dce, fuse
    >>> print(explain(stats))

* :func:`dce`       drop nodes the outputs do not need (placeholders and parameters stay);
* :func:`cse`       merge equal computations (never random or opaque ops);
* :func:`fold`      evaluate ops on constants with their own kernels;
* :func:`simplify`  algebraic rewrites from a database of named rules (:mod:`.rules`);
* :func:`fuse`      group elementwise/broadcast nodes (and one final reduction) into kernels.
"""
from ._base import PassStats  # noqa: F401
from .cse import cse  # noqa: F401
from .dce import dce  # noqa: F401
from .fold import fold  # noqa: F401
from .fusion import fuse, fusion, fusion_groups, groups_of  # noqa: F401
from .pipeline import DEFAULT_PIPELINE, explain, run_pipeline  # noqa: F401
from .simplify import simplify  # noqa: F401

__all__ = ["PassStats", "dce", "cse", "fold", "simplify", "fuse", "fusion", "fusion_groups", "groups_of",
           "run_pipeline", "explain", "DEFAULT_PIPELINE"]
