"""The autograd engine: run gradient rules over the tape, iteratively.

Nodes run in a topological order computed with Kahn's algorithm (no
recursion, so a 100,000-op chain backpropagates), each once, after every
consumer has contributed its gradient.  ``backward`` accumulates into
``.grad``; ``grad`` captures the gradients of chosen inputs instead.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .grad_mode import GRAD
from .node import AccumulateGrad, Node

__all__ = ["run_backward"]


def _topo_order(roots: list) -> list:
    """Nodes reachable from ``roots``, each after all nodes that feed it a gradient."""
    deps: dict = {}
    roots = list(dict.fromkeys(roots))   # a root given twice (backward([y, y])) is walked once
    seen = set(roots)
    stack = list(roots)
    while stack:
        n = stack.pop()
        for nxt, _ in n.next_functions:
            if nxt is None:
                continue
            deps[nxt] = deps.get(nxt, 0) + 1
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    ready = [r for r in dict.fromkeys(roots) if deps.get(r, 0) == 0]
    order = []
    while ready:
        n = ready.pop()
        order.append(n)
        for nxt, _ in n.next_functions:
            if nxt is None:
                continue
            deps[nxt] -= 1
            if deps[nxt] == 0:
                ready.append(nxt)
    return order


def _needed(order: list, targets: set) -> set:
    """Nodes from which some target node is reachable (walk the order backwards)."""
    need = set()
    for n in reversed(order):
        if n in targets or any(nxt in need for nxt, _ in n.next_functions if nxt is not None):
            need.add(n)
    return need


def _accumulate(buf: list, i: int, g, add):
    cur = buf[i]
    buf[i] = g if cur is None else add(cur, g)


def run_backward(
    tensors: Sequence,
    grad_tensors: Sequence,
    retain_graph: bool,
    create_graph: bool,
    inputs: Sequence | None = None,
    capture: bool = False,
    allow_unused: bool = False,
):
    """Propagate ``grad_tensors`` from ``tensors`` through the tape.

    With ``capture`` (``autograd.grad``) the gradients of ``inputs`` are returned
    and nothing is accumulated; otherwise leaves (only ``inputs``, when given)
    accumulate into ``.grad``.
    """
    from .tensor import Tensor, _make_node_output

    roots = []
    buffers: dict = {}
    for i, (t, g) in enumerate(zip(tensors, grad_tensors)):
        node = t.grad_fn
        nr = t._out
        if node is None:
            if not t._requires_grad:
                raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
            node = t._accumulate_node()
            nr = 0
        roots.append(node)
        nouts = len(node.out_meta) if isinstance(node, Node) else 1
        buf = buffers.setdefault(node, [None] * nouts)
        _accumulate(buf, nr, g, _add)

    # what to capture or restrict to
    leaf_targets: dict = {}
    edge_targets: dict = {}
    if inputs is not None:
        for idx, x in enumerate(inputs):
            if not isinstance(x, Tensor):
                raise TypeError(f"inputs must be tensors, got {type(x).__name__} at index {idx}")
            if not x._requires_grad:
                raise RuntimeError(f"One of the differentiated Tensors (index {idx}) does not require grad")
            if x.grad_fn is None:
                leaf_targets.setdefault(x._accumulate_node(), []).append(idx)
            else:
                edge_targets.setdefault((x.grad_fn, x._out), []).append(idx)
    order = _topo_order(roots)
    need = None
    if inputs is not None:
        need = _needed(order, set(leaf_targets) | {n for n, _ in edge_targets})
    captured = [None] * (len(inputs) if inputs is not None else 0)

    prev_mode = GRAD.enabled
    GRAD.enabled = bool(create_graph)
    try:
        for node in order:
            if need is not None and node not in need:
                continue
            buf = buffers.pop(node, None)
            if buf is None:
                continue
            if isinstance(node, AccumulateGrad):
                g = buf[0]
                if g is None:
                    continue
                if node.hooks:
                    for h in node.hooks:
                        r = h(g)
                        if r is not None:
                            g = r
                leaf = node.variable
                if leaf is None:
                    continue
                if capture:
                    for idx in leaf_targets.get(node, ()):
                        captured[idx] = g
                elif inputs is None or node in leaf_targets:
                    leaf._accumulate_grad(g, create_graph)
                continue

            # tensor hooks and retain_grad, then captures at this node's outputs
            if node.retained:
                for nr, hooks in node.retained.items():
                    if buf[nr] is None:
                        continue
                    # retain_grad's hook runs after the user's hooks, whatever the order they came in
                    for h in sorted(hooks, key=_is_retain_hook):
                        r = h(buf[nr])
                        if r is not None:
                            buf[nr] = r
            if edge_targets:
                for nr in range(len(buf)):
                    for idx in edge_targets.get((node, nr), ()):
                        if capture:
                            captured[idx] = buf[nr]
                        elif buf[nr] is not None and not inputs[idx]._retains_grad:
                            # backward(inputs=[non_leaf]) accumulates into that tensor's .grad
                            inputs[idx]._accumulate_grad(buf[nr], create_graph)
            if need is not None and not any(
                nxt in need for nxt, _ in node.next_functions if nxt is not None
            ):
                continue
            if (buf[0] is None if len(buf) == 1 else any(g is None for g in buf)) and _materializes(node):
                like = next((g for g in buf if g is not None), None)
                for i, g in enumerate(buf):
                    if g is None:
                        shape, dt = node.out_meta[i]
                        if like is not None and like._symbolic:  # a static graph: zeros are a graph node too
                            buf[i] = like.new_zeros(shape, dtype=dt)
                        else:
                            buf[i] = Tensor._make(np.zeros(shape, dt.np))
            if node.saved or node.released:
                node.check_saved()
            grads = node.apply(tuple(buf), _make_node_output)
            if node.hooks:
                for h in node.hooks:
                    h(grads, tuple(buf))
            nexts = node.next_functions
            if len(grads) != len(nexts):
                raise RuntimeError(
                    f"function {node.name()} returned an incorrect number of gradients "
                    f"(expected {len(nexts)}, got {len(grads)})"
                )
            in_meta = node.in_meta
            for i, ((nxt, nr), g) in enumerate(zip(nexts, grads)):
                if nxt is None or g is None:
                    continue
                shape, dt = in_meta[i]
                if g._data.shape != shape or g._dtype is not dt:
                    g = _validate(node, i, g)
                if need is not None and nxt not in need:
                    continue
                b = buffers.get(nxt)
                if b is None:
                    b = buffers[nxt] = [None] * (len(nxt.out_meta) if type(nxt) is Node else 1)
                cur = b[nr]
                b[nr] = g if cur is None else cur + g
            if not retain_graph:
                node.release()
    finally:
        GRAD.enabled = prev_mode

    if capture:
        for idx, g in enumerate(captured):
            if g is None and not allow_unused:
                raise RuntimeError(
                    f"One of the differentiated Tensors (index {idx}) appears to not have been used in the graph. "
                    "Set allow_unused=True if this is the desired behavior."
                )
        return tuple(captured)
    return None


def _add(a, b):
    return a + b


def _is_retain_hook(hook) -> bool:
    return getattr(hook, "_graphc_retain", False)


def _materializes(node: Node) -> bool:
    """Whether missing output gradients become zeros (a custom Function may ask for None instead)."""
    if "function" in node.op.extra:
        return node.attrs["ctx"].materialize_grads
    return True


def _validate(node: Node, i: int, g):
    """Make a rule's gradient match its input: same shape (summing broadcast dims) and dtype."""
    from .tensor import sum_to_shape

    shape, dt = node.in_meta[i]
    if g._data.shape != shape:
        try:
            g = sum_to_shape(g, shape)
        except Exception:
            raise RuntimeError(
                f"Function {node.name()} returned an invalid gradient at index {i} - got {list(g.shape)} "
                f"but expected shape compatible with {list(shape)}"
            ) from None
    if g._dtype is not dt:
        g = g.to(dt)
    return g
