"""Graphviz DOT export of a Graph (render with ``dot -Tsvg``).

Each node is ``n<id>`` labelled with its id, op, name or constant value,
attributes and output specs; each edge is labelled with the argument position
(and the source's output number when the source has several).  ``groups``
(node id -> group id, e.g. fusion groups) draws each group as a cluster.
"""
from __future__ import annotations

from .graph import Graph
from .printer import MAX_INLINE, format_array, format_attrs, format_specs

__all__ = ["to_dot"]

_LABEL_WIDTH = 60
_STYLE = {
    "placeholder": 'shape=ellipse, style=filled, fillcolor="#dbe9f6"',
    "parameter": 'shape=ellipse, style=filled, fillcolor="#fdf0c8"',
    "constant": 'shape=ellipse, style=filled, fillcolor="#eeeeee"',
    "output": 'shape=doubleoctagon',
}


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _clip(text: str) -> str:
    return text if len(text) <= _LABEL_WIDTH else text[:_LABEL_WIDTH - 3] + "..."


def _label(g: Graph, n: int) -> str:
    data = g.node(n)
    op = data["op"]
    if op == "output":
        return "return"
    head = f"%{n} " + (f"opaque.{op}" if data.get("opaque") else op)
    if data.get("name") is not None:
        head += f' "{data["name"]}"'
    lines = [head]
    if op == "constant":
        val = data.get("value")
        if val is not None and val.size <= MAX_INLINE:
            lines.append(_clip(format_array(val)))
    if data["attrs"]:
        lines.append(_clip(format_attrs(data["attrs"])))
    lines.append(format_specs(data["specs"]))
    return "\\n".join(_escape(line) for line in lines)


def _node_stmt(g: Graph, n: int) -> str:
    data = g.node(n)
    style = _STYLE.get(data["op"], 'shape=box, style="rounded,dashed"' if data.get("opaque") else "shape=box")
    return f'n{n} [label="{_label(g, n)}", {style}];'


def to_dot(g: Graph, groups: dict | None = None, title: str = "graphc") -> str:
    """The DOT text of ``g``; ``groups`` maps node ids to group ids drawn as clusters."""
    lines = [f'digraph "{_escape(title)}" {{', "  rankdir=TB;", '  node [fontname="monospace", fontsize=10];',
             '  edge [fontname="monospace", fontsize=8];']
    clusters: dict = {}
    order = g.topo_order()
    for n in order:
        stmt = _node_stmt(g, n)
        if groups is not None and n in groups:
            clusters.setdefault(groups[n], []).append(stmt)
        else:
            lines.append("  " + stmt)
    for i, gid in enumerate(sorted(clusters, key=lambda k: (str(type(k)), str(k)))):
        lines.append(f'  subgraph "cluster_{i}" {{')
        lines.append(f'    label="group {_escape(str(gid))}"; style=dashed;')
        lines.extend("    " + stmt for stmt in clusters[gid])
        lines.append("  }")
    for v in order:
        ins = g.inputs_of(v)
        for arg, (u, out) in enumerate(ins):
            parts = []
            if len(ins) > 1:
                parts.append(f'label="{arg}"')
            if len(g.specs(u)) > 1:
                parts.append(f'taillabel="{out}"')
            attrs = f" [{', '.join(parts)}]" if parts else ""
            lines.append(f"  n{u} -> n{v}{attrs};")
    lines.append("}")
    return "\n".join(lines) + "\n"
