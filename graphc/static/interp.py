"""The reference backend: run a Graph node by node with each op's numpy kernel.

:class:`Plan` prepares a graph once (topological order, value slots, each op's
compute dtype, constants, where symbolic sizes go) and then runs it for any
inputs.  Inputs are cast exactly as eager dispatch casts them
(:func:`graphc.ops.promotion.compute_dtype` over the input specs, wrapped
constants promoting like Python numbers), so results equal eager results bit for
bit wherever eager is deterministic.  Node data the interpreter does not need
(``loc``, a fusion ``group``) is ignored: nodes simply run in order.
"""
from __future__ import annotations

import numpy as np

from ..eager import dispatch
from ..eager.tensor import Tensor
from ..ir.graph import Graph
from ..ir.printer import format_node
from ..ops.promotion import compute_dtype, spec_operands
from ..ops.registry import REGISTRY, quiet
from .symsize import find_symbolic, substitute

__all__ = ["Plan", "run_graph"]

_KERNEL_ERRORS = (IndexError, RuntimeError, TypeError, ValueError, ZeroDivisionError, np.linalg.LinAlgError)


class _Step:
    __slots__ = ("op", "ins", "attrs", "sym", "cast", "outs", "free", "node", "wrapped", "control")

    def __init__(self, op, ins, attrs, sym, cast, outs, node, wrapped):
        self.op, self.ins, self.attrs, self.sym, self.cast = op, ins, attrs, sym, cast
        self.outs, self.node, self.wrapped = outs, node, wrapped
        self.free = ()
        # a control-flow op (cond, while_loop): its kernel runs subgraphs and takes size=
        self.control = bool(op.extra.get("subgraphs"))


class Plan:
    """A graph ready to run: ``plan.run({input node: array}, size) -> [output arrays]``.

    ``inputs`` lists ``(node, spec)`` for every placeholder and parameter; ``symbolic``
    tells whether some placeholder has a symbolic size (a subgraph of a control-flow node
    is told so by its graph: ``symbolic=True``); ``needs_size``, whether a run needs ``size``.
    """

    def __init__(self, g: Graph, symbolic: bool | None = None) -> None:
        self.graph = g
        slots: dict = {}
        self.inputs: list = []
        self.symbolic = (any(None in g.specs(n)[0].shape for n in g.placeholders())
                         if symbolic is None else symbolic)
        in_slots: list = []
        consts: list = []
        steps: list = []
        outputs: list = []

        def slot(v) -> int:
            return slots.setdefault(v, len(slots))

        for n in g.topo_order():
            data = g.node(n)
            op = data["op"]
            if op in ("placeholder", "parameter"):
                self.inputs.append((n, data["specs"][0]))
                in_slots.append((n, slot((n, 0))))
            elif op == "constant":
                val = data.get("value")
                if val is None:
                    raise ValueError(f"constant %{n} has no value (it was elided in the text form): it cannot run")
                consts.append((slot((n, 0)), val))
            elif op == "output":
                outputs = [slot(v) for v in g.inputs_of(n)]
            else:
                opdef = REGISTRY.get(op)
                if opdef is None or data.get("opaque"):
                    raise RuntimeError(f"the interpreter cannot run %{n} ({op}): it is not a registry op")
                ins = g.inputs_of(n)
                in_specs = [g.input_spec(v) for v in ins]
                cast = compute_dtype(opdef, spec_operands(in_specs)).np if opdef.promote is not None else None
                attrs = data["attrs"]
                sym = find_symbolic(attrs) if self.symbolic else {}
                outs = [slot((n, i)) for i in range(len(data["specs"]))]
                steps.append(_Step(opdef, [slot(v) for v in ins], attrs, sym, cast, outs, n,
                                   [len(s) > 2 and bool(s[2]) for s in in_specs]))
        self.nslots = len(slots)
        self._in_slots = in_slots
        self.consts = consts
        self.steps = steps
        self.outputs = outputs
        self.needs_size = any(st.sym for st in steps) or any(
            self.symbolic and st.control and any(st.attrs[k].needs_size for k in st.op.extra["subgraphs"])
            for st in steps)
        self._plan_frees()

    def _plan_frees(self) -> None:
        # drop each intermediate array after its last use, so a long graph does not hold them all
        last: dict = {}
        for i, st in enumerate(self.steps):
            for s in st.ins:
                last[s] = i
        keep = set(self.outputs)
        frees: dict = {}
        for s, i in last.items():
            if s not in keep:
                frees.setdefault(i, []).append(s)
        for i, st in enumerate(self.steps):
            st.free = tuple(frees.get(i, ()))

    def run(self, inputs: dict, size: int | None = None) -> list:
        """The output arrays for ``inputs`` ({placeholder or parameter node: array}); ``size`` is the value
        of the graph's symbolic size (see :mod:`graphc.static.symsize`)."""
        env = [None] * self.nslots
        for s, val in self.consts:
            env[s] = val
        for n, s in self._in_slots:
            env[s] = inputs[n]
        with quiet():  # numpy's floating-point warnings off, as in eager dispatch
            return self._run_steps(env, size)

    def _run_steps(self, env: list, size: int | None) -> list:
        for st in self.steps:
            arrays = [env[i] for i in st.ins]
            cast = st.cast
            if cast is not None:
                arrays = [a if a.dtype == cast else a.astype(cast) for a in arrays]
            attrs = st.attrs
            try:
                if st.sym and size is not None:
                    attrs = substitute(attrs, st.sym, size)
                    at_size = st.op.extra.get("attrs_at_size")   # bounds past the size (x[-2:] at S=1)
                    if at_size is not None:
                        attrs = at_size(attrs, [a.shape for a in arrays])
                out = st.op.kernel(*arrays, **attrs) if not st.control else st.op.kernel(*arrays, size=size, **attrs)
            except _KERNEL_ERRORS as e:
                raise self._error(st, arrays, attrs, e) from None
            outs = st.outs
            if len(outs) == 1:
                env[outs[0]] = out if type(out) is np.ndarray else np.asarray(out)
            else:
                for s, o in zip(outs, out):
                    env[s] = o if type(o) is np.ndarray else np.asarray(o)
            if dispatch.CHECK_SPECS:
                self._check_specs(st, [env[s] for s in outs], size)
            for s in st.free:
                env[s] = None
        return [env[s] for s in self.outputs]

    def _check_specs(self, st: _Step, arrays: list, size: int | None) -> None:
        """Tests run with dispatch.CHECK_SPECS: every result must match its node's specs (None: any size).
        A run at a symbolic size checks dtypes and ranks only: a graph traced at the stand-in size
        holds sizes (``x[-2:]``: 2 rows) that clip at smaller batches, as eager does."""
        for spec, a in zip(self.graph.specs(st.node), arrays):
            if a.dtype != spec.dtype.np or a.ndim != len(spec.shape) or size is None and any(
                    d is not None and d != n for d, n in zip(spec.shape, a.shape)):
                raise AssertionError(f"{format_node(self.graph, st.node)}: the kernel gave {a.dtype}{list(a.shape)}")

    def _error(self, st: _Step, arrays: list, attrs: dict, e: Exception) -> Exception:
        """The kernel's error, named like eager's (op, shapes, dtypes) plus the node and where it was built."""
        fakes = []
        for a, w in zip(arrays, st.wrapped):
            t = Tensor._make(np.asarray(a))
            t._wrapped = w
            fakes.append(t)
        err = dispatch.translate_error(st.op, tuple(fakes), attrs, e)
        loc = self.graph.loc(st.node)
        where = f" (graph node {format_node(self.graph, st.node)}" + (f", built at {loc})" if loc else ")")
        try:
            return type(err)(f"{err}{where}")
        except TypeError:  # an exception type with another constructor
            return err


def run_graph(g: Graph, inputs: dict, size: int | None = None) -> list:
    """Run ``g`` once: ``inputs`` maps placeholder and parameter node ids to arrays."""
    return Plan(g).run(inputs, size)
