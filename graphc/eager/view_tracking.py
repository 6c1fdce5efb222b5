"""Keep views' autograd history current when their base changes in place.

A view's ``grad_fn`` describes how it was cut from its base *at that time*.
After an in-place write to the base (directly or through another view) the
base continues from a new node, and every live view must be re-derived from
it, or gradients through the view would skip the write (torch regenerates
the view's grad_fn the same way).  Bases hold weak references to their views.
"""
from __future__ import annotations

import weakref

__all__ = ["register_view", "live_views", "refresh_views"]


def register_view(base, view) -> None:
    """Remember ``view`` (a view of the root tensor ``base``) weakly."""
    views = base.__dict__.get("_live_views")
    if views is None:
        views = base.__dict__["_live_views"] = []
    elif len(views) > 16:
        views[:] = [r for r in views if r() is not None]
    views.append(weakref.ref(view))


def live_views(base, skip=None) -> list:
    """The live views of ``base`` that were cut from it (a view chain), except ``skip``; forgets dead ones."""
    views = base.__dict__.get("_live_views")
    if not views:
        return []
    alive = [v for v in (r() for r in views) if v is not None]
    views[:] = [weakref.ref(v) for v in alive]
    return [v for v in alive if v is not skip and v._view_chain]


def refresh_views(base, skip=None) -> None:
    """Re-derive the history of every live view of ``base`` (except ``skip``) from its current node."""
    from ..ops.views import replay

    for v in live_views(base, skip):
        nv = replay(base, v._view_chain)
        v.grad_fn = nv.grad_fn
        v._out = nv._out
        v._requires_grad = nv._requires_grad
