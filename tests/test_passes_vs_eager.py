"""The optimized graph computes what eager execution of the same ops computes.

Random graphs from the property-test generator are run three ways: op by op through eager
dispatch (real graphc tensors, eager promotion and kernels), through the numpy reference
evaluator, and after the whole pass pipeline; all three must agree.
"""
from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import graphc as gc
from graphc.eager import dispatch
from graphc.eager._args import wrap
from graphc.ops import get as get_op
from graphc.static.passes import run_pipeline
from graphc.static.passes._reference import evaluate
from test_passes_properties import _SETTINGS, assert_close, feeds_for, graphs


def eager_run(g, feeds: dict) -> list:
    """Each node of ``g`` applied with eager dispatch on graphc tensors, in topological order."""
    values: dict = {}
    for n in g.topo_order():
        data = g.node(n)
        op = data["op"]
        if op == "output":
            continue
        if op in ("placeholder", "parameter"):
            values[n] = (gc.tensor(feeds[data["name"]], dtype=data["specs"][0].dtype),)
        elif op == "constant":
            value = data["value"]
            if data["attrs"].get("wrapped"):
                values[n] = (wrap(value.item()),)
            else:
                values[n] = (gc.tensor(value, dtype=data["specs"][0].dtype),)
        else:
            ins = tuple(values[u][o] for u, o in g.inputs_of(n))
            if op == "view":  # the IR has no memory layout; eager views need a contiguous input
                ins = (ins[0].contiguous(),) + ins[1:]
            out = dispatch.apply(get_op(op), ins, dict(data["attrs"]))
            values[n] = out if isinstance(out, tuple) else (out,)
    return [values[u][o].numpy() for u, o in g.outputs]


@_SETTINGS
@given(graphs(), st.integers(0, 2**16))
def test_pipeline_result_equals_eager_execution(g, seed):
    feeds = feeds_for(g, seed)
    eager = eager_run(g, feeds)
    assert_close(eager, evaluate(g, feeds), "reference evaluator vs eager")
    h = g.copy()
    run_pipeline(h)
    assert_close(eager, evaluate(h, feeds), "optimized graph vs eager")
