"""``gc.static.explain``: what the static path did with a function, as a readable report.

    >>> report = gc.static.explain(step, x, y)      # a function, a gc.compile'd one, or an Executable
    >>> print(report)                               # or just `report` at the prompt

The report holds, for the graph the arguments select (traced now if needed,
never run):

* the graph as traced: node and op counts;
* each pass of the pipeline: nodes and ops before -> after, number of changes,
  time, then every change it made (``cse: %7 merged into %4 (mul)``);
* the fusion groups (the kernels a code generator would emit): members, and
  which op ends each group and why (a reduction closes it, its result feeds an
  op that cannot fuse, or it is a graph output);
* the optimized IR, each node with the user's ``file:line`` that made it;
* for a compiled function, every trace it has made: the reason (``first call``,
  ``arg 0 shape (3, 4) -> (5, 4)``), the time spent tracing and compiling, and the
  size of the graph.

The fields are there for programs too (``report.passes``, ``report.groups``,
``report.history``, ``report.graph``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..ir.graph import Graph as IRGraph
from ..ir.printer import format_graph
from .compile import CompiledFunction
from .errors import TracingError
from .executable import Executable

__all__ = ["explain", "Explanation"]

_MAX_CHANGES = 40  # change lines shown per pass (the rest are counted)


@dataclass
class Explanation:
    """The report :func:`explain` returns; ``str(report)`` is its text (see the module docstring)."""

    name: str
    backend: str
    source: IRGraph
    graph: IRGraph
    passes: list
    groups: list = field(default_factory=list)
    history: list = field(default_factory=list)

    def __str__(self) -> str:
        parts = [f"== gc.static.explain: {self.name} (backend {self.backend!r}) ==",
                 f"graph as traced: {_counts(self.source)}", "", self._passes_text(), "",
                 self._groups_text(), "", "optimized IR (# where each node was made):",
                 _indent(format_graph(self.graph, locs=True))]
        if self.history:
            parts += ["", f"traces of {self.name} ({len(self.history)}):"]
            parts += [f"  {i}. {rec}" for i, rec in enumerate(self.history, 1)]
        return "\n".join(parts)

    __repr__ = __str__

    def print(self) -> None:
        """Print the report."""
        print(self)

    def _passes_text(self) -> str:
        if not self.passes:
            return "passes: none ran (optimize=False, or graphc.static.passes is missing)"
        w = max(len(s.name) for s in self.passes)
        lines = [f"passes ({len(self.passes)}): nodes and ops before -> after",
                 f"  {'#':>2}  {'pass':<{w}}  {'nodes':^14}  {'ops':^14}  {'changes':>7}  {'time':>9}"]
        for i, s in enumerate(self.passes, 1):
            nodes = f"{s.nodes_before:>5} -> {s.nodes_after:<5}"
            ops = f"{s.ops_before:>5} -> {s.ops_after:<5}"
            lines.append(f"  {i:>2}  {s.name:<{w}}  {nodes}  {ops}  {len(s.changes):>7}  {s.seconds * 1e3:>6.2f} ms")
        first, last = self.passes[0], self.passes[-1]
        lines.append(f"  total: {first.nodes_before} -> {last.nodes_after} nodes, "
                     f"{first.ops_before} -> {last.ops_after} ops")
        lines.append("")
        lines.append("what each pass did:")
        for s in self.passes:
            if not s.changes:
                lines.append(f"  {s.name}: nothing to do")
                continue
            lines.append(f"  {s.name}:")
            lines += [f"    {c}" for c in s.changes[:_MAX_CHANGES]]
            if len(s.changes) > _MAX_CHANGES:
                lines.append(f"    ... and {len(s.changes) - _MAX_CHANGES} more")
        return "\n".join(lines)

    def _groups_text(self) -> str:
        fused = [m for m in self.groups if len(m) > 1]
        if not self.groups:
            return "fusion groups: none (the fusion pass did not run)"
        g = self.graph
        lines = [f"fusion groups: {len(self.groups)} kernel(s), {len(fused)} of them fusing more than one op"]
        for i, members in enumerate(self.groups):
            if len(members) < 2:
                continue
            names = ", ".join(f"%{m} {g.op(m)}" for m in members)
            lines.append(f"  group {i} ({len(members)} ops): {names}")
            for end in group_ends(g, members):
                lines.append(f"    ends at {end}")
        alone = [m[0] for m in self.groups if len(m) == 1]
        if alone:
            lines.append("  alone: " + ", ".join(f"%{m} {g.op(m)}" for m in alone))
        return "\n".join(lines)


def group_ends(g: IRGraph, members: list) -> list:
    """Why the group ``members`` stops: one line per member whose result leaves the group."""
    from .passes.fusion import FUSIBLE_REDUCTIONS, _domain, _kind

    inside = set(members)
    outs = {v.node for v in g.outputs}
    reduction = next((m for m in members if g.op(m) in FUSIBLE_REDUCTIONS), None)
    domain = _domain(g, members[0], _kind(g, members[0]) or "elementwise")
    ends = []
    for m in members:
        users = [u for u in g.users_of(m) if u not in inside and u != g.output_node]
        if not users and m not in outs:
            continue
        why = ["a graph output"] if m in outs else []
        if m == reduction:
            why.insert(0, "a reduction closes its group")
        else:
            for u in users:
                kind = _kind(g, u)
                if kind is None:
                    why.append(f"read by %{u} {g.op(u)}, which cannot fuse")
                elif reduction is not None:
                    why.append(f"read by %{u} {g.op(u)}; the group's reduction %{reduction} closed it")
                elif _domain(g, u, kind) != domain:
                    why.append(f"read by %{u} {g.op(u)}, which loops over another shape")
                else:
                    why.append(f"read by %{u} {g.op(u)} in another group (joining would make a cycle)")
        ends.append(f"%{m} {g.op(m)} ({'; '.join(why)})")
    return ends


def _counts(g: IRGraph) -> str:
    nodes = g.nx.number_of_nodes() - (g.output_node is not None)
    return f"{nodes} nodes, {len(g)} ops"


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


def _name(fn: Any) -> str:
    inner = fn.fn if isinstance(fn, CompiledFunction) else fn
    return getattr(inner, "__qualname__", None) or type(inner).__name__


def explain(fn, *example_args, **kwargs) -> Explanation:
    """A report on how the static path compiles ``fn`` for these arguments (see the module docstring).

    ``fn``: a function or module (traced here, as ``gc.compile(fn)`` would on its first call), a
    ``gc.compile``'d function (its cached graph for these arguments, traced if missing; the report
    then lists all its traces), or an :class:`~graphc.static.Executable` (no arguments).  Nothing
    runs: no results, no parameter updates.
    """
    if isinstance(fn, Executable):
        if example_args or kwargs:
            raise TypeError("explain(): an Executable takes no example arguments")
        return Explanation("executable", fn.backend, fn.source, fn.graph, list(fn.passes), _groups(fn))
    if not callable(fn):
        raise TypeError(f"explain(): expected a function, a gc.compile'd function or an Executable, "
                        f"got {type(fn).__name__}")
    cf = fn if isinstance(fn, CompiledFunction) else CompiledFunction(fn, fullgraph=True)
    entry = cf.trace_for(*example_args, **kwargs)
    if entry.executable is None:  # a graph break: this signature runs eagerly
        raise TracingError(f"explain(): {_name(fn)} runs eagerly for these arguments, it could not be traced: "
                           f"{entry.reason}")
    exe = entry.executable
    return Explanation(_name(fn), exe.backend, exe.source, exe.graph, list(exe.passes), _groups(exe),
                       list(cf.history))


def _groups(exe: Executable) -> list:
    for s in reversed(exe.passes):
        if s.groups is not None:
            groups = [list(m) for m in s.groups]
            # the unoptimized graph runs when a pass fixed a symbolic size: then the groups do not apply
            return groups if all(n in exe.graph for m in groups for n in m) else []
    return []
