"""The shared IR: a :class:`Graph` of op applications, its text form, verifier, DOT export,
and the export of an eager tape (:func:`from_tape`).

Both front ends produce it and every pass, backend and visualizer consumes it.
It imports only :mod:`graphc.ops` and :mod:`graphc.dtypes`.
"""
from .graph import STRUCTURAL, Graph, Value, WrappedSpec  # noqa: F401
from .printer import format_graph, format_node  # noqa: F401
from .parser import ParseError, parse  # noqa: F401
from .verify import VerifyError, verify  # noqa: F401
from .dot import to_dot  # noqa: F401
from .from_tape import from_tape  # noqa: F401

__all__ = ["Graph", "Value", "WrappedSpec", "STRUCTURAL", "format_graph", "format_node", "parse", "ParseError",
           "verify", "VerifyError", "to_dot", "from_tape"]
