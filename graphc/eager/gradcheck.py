"""``gradcheck``: compare autograd's gradients with central finite differences."""
from __future__ import annotations

import numpy as np

from .autograd import grad as _grad
from .grad_mode import enable_grad, no_grad
from .tensor import Tensor

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """Raised by gradcheck when analytical and numerical gradients differ."""


def _outputs(fn, inputs):
    out = fn(*inputs)
    return (out,) if isinstance(out, Tensor) else tuple(o for o in out if isinstance(o, Tensor))


def gradcheck(fn, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, nondet_tol: float = 0.0, check_undefined_grad: bool = True,
              fast_mode: bool = False, **_ignored) -> bool:
    """True when every Jacobian entry from autograd matches central differences of ``fn`` at ``inputs``.

    Inputs that require grad are perturbed one element at a time (use float64).
    """
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    diff = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not diff:
        raise ValueError("gradcheck expects at least one input tensor to require gradient")
    outs = _outputs(fn, inputs)
    for oi, out in enumerate(outs):
        if not out.dtype.is_floating_point:
            continue
        n_out = out.numel()
        # analytical: one vector-Jacobian product per output element
        analytical = [np.zeros((inputs[i].numel(), n_out)) for i in diff]
        for k in range(n_out):
            g = np.zeros(out.shape, out.dtype.np)
            g.reshape(-1)[k] = 1
            o = _outputs(fn, inputs)[oi]
            if not o.requires_grad:
                break
            grads = _grad(o, [inputs[i] for i in diff], grad_outputs=Tensor._make(g), allow_unused=True)
            for j, gr in enumerate(grads):
                if gr is not None:
                    analytical[j][:, k] = gr.detach().numpy().reshape(-1)
        # numerical: central differences
        for j, i in enumerate(diff):
            x = inputs[i]
            data = x._data  # perturbed in place, element by element (works for any strides)
            numerical = np.zeros((x.numel(), n_out))
            with no_grad():
                for e in range(x.numel()):
                    at = np.unravel_index(e, data.shape)
                    orig = data[at].item()
                    data[at] = orig + eps
                    plus = _outputs(fn, inputs)[oi]._data.astype(np.float64).reshape(-1).copy()
                    data[at] = orig - eps
                    minus = _outputs(fn, inputs)[oi]._data.astype(np.float64).reshape(-1).copy()
                    data[at] = orig
                    numerical[e] = (plus - minus) / (2 * eps)
            a = analytical[j]
            if not np.allclose(a, numerical, atol=atol, rtol=rtol, equal_nan=True):
                if raise_exception:
                    bad = np.argwhere(~np.isclose(a, numerical, atol=atol, rtol=rtol, equal_nan=True))[0]
                    raise GradcheckError(
                        f"Jacobian mismatch for output {oi} with respect to input {i},\n"
                        f"numerical:{numerical}\nanalytical:{a}\n(first mismatch at {tuple(bad)})"
                    )
                return False
    return True


def gradgradcheck(fn, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
                  raise_exception: bool = True, **_ignored) -> bool:
    """gradcheck of the first derivative: checks second-order gradients (create_graph)."""
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    outs = _outputs(fn, inputs)
    rng = np.random.default_rng(0)
    if grad_outputs is None:
        grad_outputs = [Tensor._make(rng.standard_normal(o.shape).astype(o.dtype.np)) for o in outs]

    def first(*xs):
        # gradcheck evaluates its function under no_grad for the numerical part; a gradient needs the tape
        with enable_grad():
            os = _outputs(fn, xs)
            return _grad(os, [x for x in xs if isinstance(x, Tensor) and x.requires_grad],
                         grad_outputs=list(grad_outputs), create_graph=True, allow_unused=True)

    def first_defined(*xs):
        return tuple(g for g in first(*xs) if g is not None)

    return gradcheck(first_defined, inputs, eps=eps, atol=atol, rtol=rtol, raise_exception=raise_exception)
