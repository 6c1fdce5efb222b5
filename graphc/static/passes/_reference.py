"""A small numpy evaluator for IR graphs: the reference that pass tests compare against.

It runs each node's registry kernel with eager dispatch's casting (:func:`run_op`), in
topological order, with no planning or fusion: slow and obviously right.  Values have no
memory layout in the IR, so ``view`` gets a contiguous array.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np

from ...ir.graph import Graph, constant_storage
from ...ops.registry import REGISTRY
from ._kernels import run_op

__all__ = ["evaluate"]


def evaluate(g: Graph, feeds: Mapping[str, np.ndarray] | None = None) -> list:
    """The values of ``g``'s outputs, given arrays for its placeholders and parameters by name.

    Opaque ops and elided constants cannot be evaluated (RuntimeError).
    """
    feeds = dict(feeds or {})
    values: dict = {}
    for n in g.topo_order():
        data = g.node(n)
        op = data["op"]
        if op == "output":
            continue
        if op in ("placeholder", "parameter"):
            if data["name"] not in feeds:
                raise KeyError(f"evaluate: no value given for {op} {data['name']!r}")
            spec = data["specs"][0]
            arr = np.asarray(feeds[data["name"]], dtype=constant_storage(spec.dtype, bool(data["attrs"].get("wrapped"))))
            values[n] = (arr,)
            continue
        if op == "constant":
            if data.get("value") is None:
                raise RuntimeError(f"evaluate: constant %{n} has no value (elided)")
            values[n] = (data["value"],)
            continue
        opdef = REGISTRY.get(op)
        if data.get("opaque") or opdef is None:
            raise RuntimeError(f"evaluate: cannot run opaque op {op!r} (%{n})")
        ins = g.inputs_of(n)
        arrays = [values[u][o] for u, o in ins]
        if op == "view":
            # values have no memory layout in the IR: numpy cannot view a transposed array as
            # another shape (eager refuses such a view), a graph is free to copy first
            arrays = [np.ascontiguousarray(a) for a in arrays]
        values[n] = run_op(opdef, data["attrs"], [g.input_spec(v) for v in ins], arrays)
    return [values[u][o] for u, o in g.outputs]
