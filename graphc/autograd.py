"""``gc.autograd``: backward, grad, Function, gradcheck and the grad-mode switches."""
from .eager.autograd import Function, FunctionCtx, backward, grad  # noqa: F401
from .eager.grad_mode import enable_grad, no_grad, set_grad_enabled  # noqa: F401
from .eager.gradcheck import GradcheckError, gradcheck, gradgradcheck  # noqa: F401
