"""The static front end: build a graph first, optimize it, run it later.

Two ways in, one IR out (:class:`graphc.ir.Graph`):

* **define-then-run**: ``g = gc.static.Graph()``, ``x = g.placeholder("x", (None, 784))``,
  ordinary graphc ops on ``x`` add nodes, ``exe = g.compile(outputs)``, ``exe(x=batch)``;
* **tracing**: ``gc.compile(fn)`` runs ``fn`` once on symbolic arguments, keeps the graph
  (with the backward pass and parameter updates when ``fn`` does them) and runs it on
  later calls with the same signature.

Symbolic tensors are graphc Tensors (:class:`SymbolicTensor`) whose ops go through the
one dispatch point (``graphc.eager.dispatch.apply``) into :mod:`.staging`, so every
front-end function and every gradient rule works on them unchanged;
:func:`grad` runs the eager autograd engine on them to add backward nodes.
Python code that needs tensor values while a graph is built raises
:class:`TracingError` naming the user's line.  Graphs run on the interpreter
(:mod:`.interp`); the passes in :mod:`.passes` optimize them first.
"""
from ..eager import dispatch as _dispatch
from ..ops import control as _ops_control
from . import control_flow as _control_flow
from . import staging as _staging
from .autodiff import grad
from .builder import Graph
from .compile import CompiledFunction, RecompileWarning, compile
from .control_flow import cond, while_loop
from .errors import TracingError
from .fallback import GraphBreakWarning
from .executable import Executable
from .explain import Explanation, explain
from .symbolic import SymbolicTensor
from .symsize import EXAMPLE_SIZE

_dispatch.install_static(_staging)
_ops_control.install_static(_control_flow)

__all__ = ["Graph", "Executable", "compile", "CompiledFunction", "RecompileWarning", "GraphBreakWarning", "grad",
           "TracingError",
           "SymbolicTensor", "EXAMPLE_SIZE", "cond", "while_loop", "explain", "Explanation"]
