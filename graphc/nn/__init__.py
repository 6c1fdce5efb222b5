"""``gc.nn``: layers (``Module`` and friends), ``Parameter``, ``init`` and ``functional``."""
from . import functional
from . import init
from . import utils
from .parameter import Parameter
from .modules import *  # noqa: F401,F403
from .modules import __all__ as _modules_all

__all__ = ["functional", "init", "utils", "Parameter"] + list(_modules_all)
