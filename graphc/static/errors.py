"""Errors of the static front end, and the user's ``file:line`` that they (and IR nodes) name."""
from __future__ import annotations

import os
import sys

import numpy as np

__all__ = ["TracingError", "user_location", "needs_values_error", "symbolic_size_error"]

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep  # .../graphc/
# frames in these directories are never the user's line (numpy reads a symbolic tensor's data for graphc code)
_LIBRARY_DIRS = (_PACKAGE_DIR, os.path.dirname(os.path.abspath(np.__file__)) + os.sep)
_SHORT: dict = {}  # filename -> the form IR locs and messages print


class TracingError(RuntimeError):
    """Code that needs a symbolic tensor's values (or another thing a static graph cannot hold)
    ran while a graph was being built.  The message names the user's file and line."""


def _short(filename: str) -> str:
    short = _SHORT.get(filename)
    if short is None:
        try:
            rel = os.path.relpath(filename)
            short = filename if rel.startswith("..") else rel
        except ValueError:  # another drive (Windows)
            short = filename
        _SHORT[filename] = short
    return short


def user_location(skip: int = 1) -> str | None:
    """``file:line`` of the innermost stack frame outside the graphc package (None if there is none)."""
    f = sys._getframe(skip)
    while f is not None:
        fname = f.f_code.co_filename
        if not fname.startswith(_LIBRARY_DIRS):
            return f"{_short(fname)}:{f.f_lineno}"
        f = f.f_back
    return None


def needs_values_error(what: str, loc: str | None = None) -> TracingError:
    """The error for Python code that needs the values of a symbolic tensor (``bool(t)``, ``t.item()``...)."""
    where = loc or user_location(2) or "<unknown location>"
    return TracingError(
        f"{what} at {where} needs the value of a symbolic tensor, but its value is not known while the "
        "static graph is built: the graph is built once and then runs for all input values, so Python code "
        "cannot branch on or read tensor values inside it. Use gc.static.cond / gc.static.while_loop for "
        "data-dependent control flow, compute the value outside the compiled function, or run this code "
        "eagerly (without gc.compile, or with GRAPHC_DISABLE_COMPILE=1)."
    )


def symbolic_size_error(what: str) -> TracingError:
    """The error for Python code that needs a symbolic size (``len(x)`` when dim 0 is None)."""
    where = user_location(2) or "<unknown location>"
    return TracingError(
        f"{what} at {where} needs a size that is symbolic (None): it is only known when the graph runs. "
        "Write the code without it (x.shape gives a stand-in value that ops understand), or give that "
        "dimension a fixed size (dynamic=False)."
    )
