"""The text form of a Graph: compact SSA, one node a line, deterministic.

    %0 = placeholder "x" : f32[64,784]
    %1 = parameter "w" : f32[784,10]
    %2 = matmul %0, %1 : f32[64,10]
    %3 = constant 0.5 : f32[]
    %4 = mul %2, %3 : f32[64,10]
    %5 = sum %4 {dim=(1,), keepdim=False} : f32[64]
    %6, %7 = max %5 {dim=0, keepdim=False} : f32[], i64[]
    %8 = opaque.Square %6 : f32[]
    return %8, %7

Output ``i`` of node ``n`` is ``%{n+i}`` (a node reserves one id per output).
Symbolic sizes print as ``?``; constants up to ``max_inline`` elements print
their value, larger ones ``...``; attributes print sorted by name.
:mod:`graphc.ir.parser` reads this form back (except the subgraphs below).

A control-flow node (``cond``, ``while_loop``: ``OpDef.extra["subgraphs"]`` names
the attributes holding subgraphs) is followed by each subgraph, indented, under a
header naming the node operands its inputs ``in0, in1, ...`` take:

    %5 = cond %4, %0, %1 {false_graph=<subgraph(...)>, true_graph=<subgraph(...)>} : f32[3]
      true_graph(%0, %1):
        %0 = placeholder "in0" : f32[3]
        ...
"""
from __future__ import annotations

import json
import re

import numpy as np

from .. import dtypes as _dt
from ..ops.registry import REGISTRY, OpDef

__all__ = ["format_graph", "format_node", "format_spec", "format_specs", "format_attrs", "format_attr_value",
           "format_value", "format_array"]

MAX_INLINE = 8
_IDENT = re.compile(r"[A-Za-z_]\w*\Z")


def format_value(v) -> str:
    """``%k`` for the value (node, out): k = node + out."""
    n, out = v
    return f"%{n + out}"


def format_shape(shape) -> str:
    return "[" + ",".join("?" if d is None else str(d) for d in shape) + "]"


def format_spec(spec) -> str:
    """``f32[64,?]``."""
    return spec.dtype.short + format_shape(spec.shape)


def format_specs(specs) -> str:
    return ", ".join(format_spec(s) for s in specs) if specs else "()"


def _format_float(x: float) -> str:
    return repr(float(x))


def _format_scalar(x) -> str:
    # numpy's str of a float scalar is the shortest text that reads back to the same value in its dtype
    if isinstance(x, (bool, np.bool_)):
        return "True" if x else "False"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    return str(x)


def format_array(arr: np.ndarray) -> str:
    """A numpy array as a (nested) literal: ``0.5``, ``[1, 2]``, ``[[True, False]]``."""
    if arr.ndim == 0:
        return _format_scalar(arr[()])
    return "[" + ", ".join(format_array(a) for a in arr) + "]"


def _format_key(k) -> str:
    if isinstance(k, str) and _IDENT.match(k) and k not in ("True", "False", "None"):
        return k
    return format_attr_value(k)


def format_attr_value(v) -> str:
    """One attribute value in text form (the parser reads every form printed here except ``<...>``)."""
    if v is None or isinstance(v, (bool, np.bool_)):
        return str(None if v is None else bool(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return _format_float(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, _dt.DType):
        return v.short
    if isinstance(v, OpDef):
        return "@" + v.name
    if isinstance(v, tuple):
        if len(v) == 1:
            return "(" + format_attr_value(v[0]) + ",)"
        return "(" + ", ".join(format_attr_value(x) for x in v) + ")"
    if isinstance(v, list):
        return "[" + ", ".join(format_attr_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_format_key(k)}={format_attr_value(x)}"
                               for k, x in sorted(v.items(), key=lambda kv: str(kv[0]))) + "}"
    if isinstance(v, slice):
        return f"slice({format_attr_value(v.start)}, {format_attr_value(v.stop)}, {format_attr_value(v.step)})"
    if v is Ellipsis:
        return "..."
    if isinstance(v, np.ndarray):
        dt = _dt.from_numpy_dtype(v.dtype)
        return f"array({format_array(v)}, {dt.short}, {format_attr_value(tuple(v.shape))})"
    return f"<{v!r}>"


def format_attrs(attrs: dict) -> str:
    """``{dim=(1,), keepdim=False}`` (keys sorted), or the empty string for no attributes."""
    if not attrs:
        return ""
    return format_attr_value(dict(attrs))


def _line(n: int, data: dict, ins: list, locs: bool, max_inline: int) -> str:
    op = data["op"]
    if op == "output":
        return ("return " + ", ".join(f"%{u + o}" for u, o in ins)).rstrip()
    specs = data["specs"]
    parts = [", ".join(f"%{n + i}" for i in range(len(specs))) if len(specs) > 1 else f"%{n}", "=",
             ("opaque." + op) if data.get("opaque") else op]
    if data["name"] is not None:
        parts.append(json.dumps(data["name"]))
    if op == "constant":
        val = data.get("value")
        parts.append("..." if val is None or val.size > max_inline else format_array(val))
    if ins:
        parts.append(", ".join(f"%{u + o}" for u, o in ins))
    if data["attrs"]:
        parts.append(format_attrs(data["attrs"]))
    parts.append(":")
    parts.append(format_specs(specs))
    line = " ".join(parts)
    if locs and data.get("loc"):
        line += "  # " + data["loc"]
    return line


def format_node(g, n: int, locs: bool = False, max_inline: int = MAX_INLINE) -> str:
    """One node's line (the output node prints as ``return ...``)."""
    return _line(n, g.node(n), g.inputs_of(n), locs, max_inline)


def format_graph(g, locs: bool = False, max_inline: int = MAX_INLINE) -> str:
    """The whole graph, nodes in :meth:`Graph.topo_order`, the ``return`` line last."""
    nodes, pred = g.nx._node, g.nx._pred
    out = g.output_node
    lines = []
    for n in g.topo_order():
        if n == out:
            continue
        into = pred[n]
        if into:
            ins = sorted((d["arg"], u, d["out"]) for u, keyed in into.items() for d in keyed.values())
            ins = [(u, o) for _, u, o in ins]
        else:
            ins = ()
        data = nodes[n]
        lines.append(_line(n, data, ins, locs, max_inline))
        op = REGISTRY.get(data["op"])
        if op is not None and op.extra.get("subgraphs"):
            lines.extend(_bodies(data, ins, op.extra["subgraphs"], locs, max_inline))
    if out is not None:
        lines.append(format_node(g, out, locs, max_inline))
    return "\n".join(lines)


def _bodies(data: dict, ins, keys, locs: bool, max_inline: int) -> list:
    """The indented text of a control-flow node's subgraphs (see the module docstring)."""
    lines = []
    for key in keys:
        sub = data["attrs"].get(key)
        body = getattr(sub, "graph", None)
        if body is None:
            continue
        bound = ", ".join(f"%{u + o}" for u, o in list(ins)[getattr(sub, "offset", 0):])
        lines.append(f"  {key}({bound}):")
        lines.extend("    " + line for line in format_graph(body, locs, max_inline).splitlines())
    return lines
