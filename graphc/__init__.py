"""graphc: a small deep-learning framework that contrasts eager execution with compiled static graphs.

    >>> import graphc as gc
    >>> x = gc.tensor([1.0, 2.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([2., 4.])
"""
from __future__ import annotations

from . import dtypes as _dtypes
from .dtypes import (  # noqa: F401
    DType as dtype, bool, double, float, float16, float32, float64, get_default_dtype, half, int, int8, int16,
    int32, int64, long, set_default_dtype, short, uint8,
)
from . import ops  # noqa: F401
from . import ir  # noqa: F401
from .eager import Tensor  # noqa: F401
from .eager.tensor import Size  # noqa: F401
from .eager.device import device  # noqa: F401
from .eager.grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled  # noqa: F401
from .eager.creation import as_tensor, asarray, from_numpy, tensor  # noqa: F401
from .eager.printing import set_printoptions  # noqa: F401
from .eager.functions.pointwise import *  # noqa: F401,F403
from .eager.functions.reduction import *  # noqa: F401,F403
from .eager.functions.views import reshape, view  # noqa: F401
from .eager.functions.basic import *  # noqa: F401,F403
from .eager.functions.shape import *  # noqa: F401,F403
from .eager.functions.indexing import *  # noqa: F401,F403
from .eager.functions.linalg import *  # noqa: F401,F403
from .eager.functions.creation import *  # noqa: F401,F403
from .eager.functions.sorting import *  # noqa: F401,F403
from .eager.functions.extra import *  # noqa: F401,F403
from .eager.random import get_rng_state, initial_seed, manual_seed, seed, set_rng_state  # noqa: F401
from . import autograd  # noqa: F401
from . import nn, optim, utils  # noqa: F401
from .serialization import load, save  # noqa: F401
from . import linalg  # noqa: F401
from . import static  # noqa: F401
from .static import compile  # noqa: F401,A004

__version__ = "0.1.0"
