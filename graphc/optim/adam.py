"""``gc.optim.Adam`` and ``gc.optim.AdamW`` (decoupled weight decay)."""
from __future__ import annotations

from typing import Iterable

import graphc as gc

from .optimizer import Optimizer

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """Torch's Adam. With gradient g (negated when ``maximize``) at step t:

        p <- p * (1 - lr * weight_decay)             if decoupled_weight_decay (AdamW)
        g <- g + weight_decay * p                    otherwise
        m <- beta1 * m + (1 - beta1) * g
        v <- beta2 * v + (1 - beta2) * g^2
        v_max <- max(v_max, v)                       (amsgrad; v_max replaces v below)
        p <- p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, maximize: bool = False,
                 decoupled_weight_decay: bool = False) -> None:
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if eps < 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _init_state(self, p: gc.Tensor, amsgrad: bool) -> dict:
        state = self.state[p]
        if not state:
            # torch keeps the step count as a float32 0-d tensor
            state["step"] = gc.tensor(0.0, dtype=gc.float32)
            state["exp_avg"] = gc.zeros_like(p)
            state["exp_avg_sq"] = gc.zeros_like(p)
            if amsgrad:
                state["max_exp_avg_sq"] = gc.zeros_like(p)
        elif amsgrad and "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = gc.zeros_like(p)
        return state

    def step(self, closure=None):
        """One Adam update of every parameter that has a gradient; returns the closure's loss if given."""
        loss = self._evaluate(closure)
        with gc.no_grad():
            for group in self.param_groups:
                lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
                weight_decay, amsgrad, maximize = group["weight_decay"], group["amsgrad"], group["maximize"]
                decoupled = group.get("decoupled_weight_decay", False)
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    grad = -p.grad if maximize else p.grad
                    state = self._init_state(p, amsgrad)
                    state["step"].add_(1)
                    # the bias corrections as float64 0-d tensors (torch computes them in Python
                    # floats): no .item(), so a compiled training step keeps the count in the graph
                    t = state["step"].double()
                    if weight_decay != 0:
                        if decoupled:
                            p.mul_(1 - lr * weight_decay)
                        else:
                            grad = grad.add(p, alpha=weight_decay)
                    exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                    exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
                    exp_avg_sq.mul_(beta2).add_(grad * grad, alpha=1 - beta2)
                    second = exp_avg_sq
                    if amsgrad:
                        max_sq = state["max_exp_avg_sq"]
                        max_sq.copy_(gc.maximum(max_sq, exp_avg_sq))
                        second = max_sq
                    step_size = lr / (1 - beta1 ** t)
                    denom = second.sqrt() / (1 - beta2 ** t).sqrt() + eps
                    p.sub_(exp_avg / denom * step_size)
        return loss


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): ``p <- p * (1 - lr * weight_decay)`` each step."""

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)
