"""What ``gc.compile`` does with a function it cannot trace (torch.compile's "graph break").

By default (``fullgraph=False``) a compiled function never fails where the plain function
would run:

* a ``dynamic=True`` trace that fails (an argument whose leading dim is not a batch dim, a
  size used in a way no affine ``a * S + b`` describes) is retried with static shapes, and the
  function stays static from then on (each new shape traces, as without ``dynamic``);
* a trace that raises :class:`~graphc.static.errors.TracingError` (a Python ``if`` on a tensor,
  ``.item()``, a random op, boolean-mask indexing, ...) leaves an :class:`EagerEntry` in the
  cache: calls with that signature run the function eagerly, with autograd, as if it were not
  compiled.  A :class:`GraphBreakWarning` says so once per function, with the reason.

``fullgraph=True`` turns both off: the first error is raised, naming the user's file and line.
Other errors of a static trace (a shape mismatch, a bad argument) are the user's and are raised
either way, as eager mode would raise them.
"""
from __future__ import annotations

from typing import Callable

from . import tree

__all__ = ["GraphBreakWarning", "EagerEntry"]


class GraphBreakWarning(UserWarning):
    """A compiled function (or one signature of it) runs eagerly: it could not be traced."""


class EagerEntry:
    """A cache entry standing for a trace that failed: runs the function eagerly."""

    guards: tuple = ()
    graph = None
    executable = None

    def __init__(self, fn: Callable, treedef, reason: str) -> None:
        self.fn = fn
        self.treedef = treedef
        self.reason = reason

    def failed_guard(self) -> None:
        return None

    def run(self, leaves: list):
        args, kwargs = tree.unflatten(self.treedef, leaves)
        return self.fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<EagerEntry: runs eagerly ({self.reason.splitlines()[0] if self.reason else ''})>"
