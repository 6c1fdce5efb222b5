"""Eager mode: the Tensor, dispatch, the tape and the autograd engine."""
from .tensor import Tensor  # noqa: F401
from . import methods  # noqa: F401  (binds ops onto Tensor)
