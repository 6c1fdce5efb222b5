"""The op registry and every primitive's entry (importing this package registers them all)."""
from .registry import REGISTRY, GradContext, OpDef, Spec, get, op_error, register  # noqa: F401
from . import pointwise, movement, reduction, views, shape, indexing, linalg, sorting, control, extra, checks  # noqa: F401,E402,E501  (registration side effects)
