"""Grad mode: whether ops record on the tape (``no_grad``, ``enable_grad``, ``set_grad_enabled``).

Each is a context manager and a decorator, as in torch:

    >>> with no_grad():
    ...     y = x * 2          # y.requires_grad is False
"""
from __future__ import annotations

import functools
import threading

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "inference_mode", "GRAD"]


class _GradState(threading.local):
    # thread-local like torch; one attribute read in the hot dispatch path
    enabled = True


GRAD = _GradState()


def is_grad_enabled() -> bool:
    """True when new ops record on the autograd tape."""
    return GRAD.enabled


class _GradModeBase:
    """Shared context-manager and decorator plumbing.

    ``@no_grad`` (bare) and ``@no_grad()`` both decorate: given a function, the
    class returns the wrapped function instead of an instance, as torch does.
    """

    _mode: bool = True

    def __new__(cls, *args, **kwargs):
        if len(args) == 1 and not kwargs and callable(args[0]) and not isinstance(args[0], bool):
            return cls()(args[0])
        return super().__new__(cls)

    def __enter__(self):
        self._prev = GRAD.enabled
        GRAD.enabled = self._mode
        return self

    def __exit__(self, *exc):
        GRAD.enabled = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self._clone():
                return fn(*args, **kwargs)

        return wrapper

    def _clone(self):
        return self.__class__()


class no_grad(_GradModeBase):
    """Disable gradient recording inside the block (or decorated function)."""

    _mode = False


class enable_grad(_GradModeBase):
    """Enable gradient recording inside the block, even under ``no_grad``."""

    _mode = True


class inference_mode(_GradModeBase):
    """Like ``no_grad`` (graphc has no separate inference tensors); ``inference_mode(False)`` enables grad."""

    def __init__(self, mode: bool = True):
        self._mode = not mode

    def _clone(self):
        return inference_mode(not self._mode)


class set_grad_enabled(_GradModeBase):
    """Set grad mode to ``mode``; takes effect at once, and also works as a context manager or decorator."""

    def __init__(self, mode: bool):
        self._prev = GRAD.enabled
        self._mode = bool(mode)
        GRAD.enabled = self._mode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        GRAD.enabled = self._prev
        return False

    def __call__(self, fn):
        # used as a decorator: undo the immediate switch made by __init__
        GRAD.enabled = self._prev
        mode = self._mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            prev = GRAD.enabled
            GRAD.enabled = mode
            try:
                return fn(*args, **kwargs)
            finally:
                GRAD.enabled = prev

        return wrapper
