"""What a compiled function's graph depends on besides its arguments, and the cache key.

A traced graph holds the function's captured state: parameters (read at each
call), hyperparameters (baked in as constants), module train/eval flags, which
``.grad`` are None (backward assigns or accumulates), the optimizer state's keys.
:func:`captured` finds the modules, optimizers and tensors a function reaches
through its closure, the globals it names, its defaults and its ``self``
(recognized by duck typing: graphc.static does not import the training stack),
and :func:`signature` turns arguments plus captured state into a list of
``(label, value)`` pairs: the cache key, and a readable diff when it changes.
"""
from __future__ import annotations

import operator
import types
from typing import Any

import numpy as np

from ..eager.tensor import Tensor

__all__ = ["captured", "CaptureProbe", "signature", "describe_diff", "is_module", "is_optimizer"]

_MAX_ITEMS = 64  # items of a captured list/dict looked at


def is_module(obj: Any) -> bool:
    return hasattr(obj, "named_parameters") and hasattr(obj, "training") and hasattr(obj, "named_modules")


def is_optimizer(obj: Any) -> bool:
    return hasattr(obj, "param_groups") and hasattr(obj, "state") and hasattr(obj, "zero_grad")


def is_scheduler(obj: Any) -> bool:
    return hasattr(obj, "optimizer") and hasattr(obj, "last_epoch") and hasattr(obj, "step")


_NUMBERS = (int, float, complex, np.number, np.bool_)
_PLAIN = (int, float, complex, bool, str, type(None), np.number, np.bool_)


def _interesting(obj: Any) -> bool:
    return isinstance(obj, Tensor) or is_module(obj) or is_optimizer(obj) or is_scheduler(obj)


def python_state(captures: list) -> list:
    """The plain Python values a trace cannot repeat at each call, to compare before and after it:
    the optimizers' hyperparameters (``lr``...) and the number/str attributes of captured
    schedulers (``last_epoch``).  ``[(obj, kind, key, value)]``; see :func:`restore`."""
    out = []
    for _, obj in captures:
        if is_optimizer(obj):
            for gi, group in enumerate(obj.param_groups):
                out.extend((group, "item", k, v) for k, v in group.items() if isinstance(v, _PLAIN))
        elif is_scheduler(obj):
            attrs = getattr(obj, "__dict__", None)
            if attrs:
                out.extend((obj, "attr", k, v) for k, v in attrs.items() if isinstance(v, _PLAIN))
    return out


def state_changed(before: list) -> str | None:
    """The first value of ``before`` (from :func:`python_state`) that differs now, described, or None."""
    for obj, kind, key, value in before:
        now = obj.get(key) if kind == "item" else getattr(obj, key, None)
        if type(now) is not type(value) or now != value and not (now != now and value != value):
            return f"{type(obj).__name__ if kind == 'attr' else 'param group'} {key!r}: {value!r} -> {now!r}"
    return None


def optimizer_states(captures: list) -> list:
    """The captured optimizers' per-parameter state as it is now, for :func:`restore_optimizer_states`
    after a failed trace (a traced ``step()`` fills it with graph values, and the eager run that
    follows must find it as it was)."""
    out = []
    for _, obj in captures:
        if is_optimizer(obj) and hasattr(obj.state, "items"):
            out.append((obj.state, {p: (d, dict(d)) for p, d in obj.state.items() if isinstance(d, dict)}))
    return out


def restore_optimizer_states(saved: list) -> None:
    for state, entries in saved:
        for p in [p for p in state if p not in entries]:
            del state[p]
        for p, (d, items) in entries.items():
            d.clear()
            d.update(items)
            state[p] = d


def restore(before: list) -> None:
    """Put back the values :func:`python_state` recorded (a trace that failed or must not count)."""
    for obj, kind, key, value in before:
        if kind == "item":
            obj[key] = value
        else:
            setattr(obj, key, value)


def _code_names(code: types.CodeType) -> set:
    names = set(code.co_names)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            names |= _code_names(c)
    return names


def captured(fn: Any) -> list:
    """``[(label, object)]``: the modules, optimizers and tensors ``fn`` reaches outside its arguments."""
    found: list = []
    if is_module(fn):
        found.append(("self", fn))
        fn = type(fn).forward
    if isinstance(fn, types.MethodType):
        found.append(("self", fn.__self__))
        fn = fn.__func__
    fn = getattr(fn, "__wrapped__", fn)
    code = getattr(fn, "__code__", None)
    if code is None:
        return found
    cells = getattr(fn, "__closure__", None) or ()
    for name, cell in zip(code.co_freevars, cells):
        try:
            found.append((name, cell.cell_contents))
        except ValueError:  # an empty cell
            pass
    glob = getattr(fn, "__globals__", {})
    for name in sorted(_code_names(code)):
        if name in glob:
            found.append((name, glob[name]))
    for i, d in enumerate(getattr(fn, "__defaults__", None) or ()):
        found.append((f"default {i}", d))
    for k, d in (getattr(fn, "__kwdefaults__", None) or {}).items():
        found.append((f"default {k}", d))
    out = []
    for label, obj in found:
        # a number the function reads from a global or a closure is baked into the graph as a constant,
        # so its value is part of the key (numbers inside captured lists are not: a function may append
        # to a list it captures, say a log, and that must not retrace it)
        if _interesting(obj) or isinstance(obj, _NUMBERS):
            out.append((label, obj))
        elif isinstance(obj, (list, tuple)):
            out.extend((f"{label}[{i}]", x) for i, x in enumerate(obj[:_MAX_ITEMS]) if _interesting(x))
        elif isinstance(obj, dict):
            out.extend((f"{label}[{k!r}]", x) for k, x in list(obj.items())[:_MAX_ITEMS] if _interesting(x))
    return out


_MISSING = object()


class CaptureProbe:
    """``probe()`` is ``captured(fn)``, with little work per call for a plain function.

    What ``captured`` looks at (closure cells, the globals the code names, defaults) is looked up
    again and compared by identity with the previous call's objects; the full scan runs only when
    one of them changed or one is a list or dict (their items may have changed in place).  Modules,
    methods and wrapped functions always take the full scan.
    """

    def __init__(self, fn: Any) -> None:
        self.fn = fn
        self._plain = type(fn) is types.FunctionType and not hasattr(fn, "__wrapped__")
        self._code = None
        self._names: tuple = ()
        self._raw: list | None = None
        self._found: list = []

    def _objects(self) -> list:
        fn = self.fn
        code = fn.__code__
        if code is not self._code:  # a new code object names other globals
            self._code, self._names, self._raw = code, tuple(sorted(_code_names(code))), None
        glob = fn.__globals__
        raw = [code, fn.__defaults__]
        for cell in fn.__closure__ or ():
            try:
                raw.append(cell.cell_contents)
            except ValueError:  # an empty cell
                raw.append(_MISSING)
        raw.extend([glob.get(name, _MISSING) for name in self._names])
        kw = fn.__kwdefaults__
        if kw:
            raw.extend(kw)
            raw.extend(kw.values())
        return raw

    def __call__(self) -> list:
        if not self._plain:
            return captured(self.fn)
        raw = self._objects()
        last = self._raw
        if last is not None and len(raw) == len(last) and all(map(operator.is_, raw, last)):
            return self._found
        self._found = captured(self.fn)
        mutable = any(isinstance(o, (list, dict)) for o in raw)
        self._raw = None if mutable else raw
        return self._found


def _tensor_key(t: Tensor) -> tuple:
    return (id(t), tuple(t._data.shape), t._dtype.name, t._requires_grad, "None" if t._grad is None else "set")


_TENSOR_FIELDS = ("object", "shape", "dtype", "requires_grad", "grad")


def _describe_tensor_key(k: tuple) -> str:
    _, shape, dt, rg, grad = k
    return f"{dt}{list(shape)}{' requires_grad' if rg else ''}, grad {grad}"


def _tensor_change(label: str, old: tuple, new: tuple) -> str:
    """``w grad None -> set``: only the fields of a captured tensor that changed."""
    parts = []
    for name, a, b in zip(_TENSOR_FIELDS, old[1:], new[1:]):
        if a != b:
            parts.append(f"{label}: another tensor object" if name == "object" else f"{label} {name} {a} -> {b}")
    return "; ".join(parts)


def state_entries(label: str, obj: Any) -> list:
    """``(label, value)`` pairs for one captured object."""
    if isinstance(obj, Tensor):
        return [(label, ("tensor",) + _tensor_key(obj))]
    if isinstance(obj, _NUMBERS):
        return [(label, (type(obj).__name__, repr(obj)))]  # repr: nan equals nan, -0.0 differs from 0.0
    out = []
    if is_module(obj):
        for name, p in obj.named_parameters():
            out.append((f"{label}.{name}", ("tensor",) + _tensor_key(p)))
        if hasattr(obj, "named_buffers"):
            for name, b in obj.named_buffers():
                out.append((f"{label}.{name}", ("tensor",) + _tensor_key(b)))
        for name, m in obj.named_modules():
            out.append((f"{label}.{name}.training" if name else f"{label}.training", bool(m.training)))
        return out
    if is_optimizer(obj):
        for gi, group in enumerate(obj.param_groups):
            for k in sorted(group):
                if k == "params":
                    for j, p in enumerate(group["params"]):
                        out.append((f"{label}.param_groups[{gi}].params[{j}]", ("tensor",) + _tensor_key(p)))
                        st = obj.state.get(p) if hasattr(obj.state, "get") else None
                        if st:
                            out.append((f"{label}.state[{gi}][{j}]", tuple(
                                (sk, ("tensor",) + _tensor_key(v) if isinstance(v, Tensor) else _hashable(v))
                                for sk, v in sorted(st.items()))))
                else:
                    out.append((f"{label}.param_groups[{gi}].{k}", _hashable(group[k])))
    return out


def _hashable(v: Any):
    try:
        hash(v)
        return v
    except TypeError:
        if isinstance(v, (list, tuple)):
            return tuple(_hashable(x) for x in v)
        if isinstance(v, dict):
            return tuple(sorted((k, _hashable(x)) for k, x in v.items()))
        return ("object", id(v))


def symbolic_batch(leaves: list, dynamic: bool) -> int | None:
    """Under ``dynamic=True``, the leading size that becomes the symbolic size S: the most common
    leading size (the first on ties) among the tensor arguments, unless it is 0 or 1, which stay
    fixed as torch keeps them (a squeeze or a broadcast depends on them).  Only arguments with that
    leading size get the symbolic dim; others (a broadcasting (1, ...), a weight) keep theirs."""
    if not dynamic:
        return None
    counts: dict = {}
    for x in leaves:
        if isinstance(x, Tensor) and x._data.ndim:
            counts[x._data.shape[0]] = counts.get(x._data.shape[0], 0) + 1
    if not counts:
        return None
    best = max(counts, key=lambda n: counts[n])   # dicts keep first-seen order: ties go to the first
    return best if best >= 2 else None


def leading_symbolic(shape: tuple, batch: int | None) -> tuple:
    """``shape`` with its leading size as None where it is the symbolic batch size."""
    return (None,) + tuple(shape[1:]) if batch is not None and shape and shape[0] == batch else tuple(shape)


def arg_entries(label: str, x: Any, batch: int | None) -> list:
    """``(label, value)`` pairs for one flattened argument (``batch``: see :func:`symbolic_batch`)."""
    if isinstance(x, Tensor):
        shape = leading_symbolic(x._data.shape, batch)
        out = [(f"{label} shape", shape), (f"{label} dtype", x._dtype.name),
               (f"{label} requires_grad", x._requires_grad)]
        if not x._data.flags.c_contiguous:   # x.contiguous() is x itself only for a contiguous x
            out.append((f"{label} contiguous", False))
        if x._requires_grad:
            out.append((f"{label} grad", "None" if x._grad is None else "set"))
        return out
    if is_module(x) or is_optimizer(x):
        return [(f"{label} object", ("object", id(x)))] + state_entries(label, x)
    try:
        hash(x)
    except TypeError:
        raise TypeError(f"gc.compile: argument {label} of type {type(x).__name__} is neither a tensor nor "
                        "hashable, so calls cannot be told apart; pass tensors, numbers, strings or tuples") from None
    return [(f"{label} value", (type(x).__name__, x))]


def signature(arg_labels: list, arg_leaves: list, treedef, dynamic: bool, captures: list) -> tuple:
    """The cache key: a tuple of ``(label, value)`` pairs for the arguments and the captured state."""
    entries = [("argument structure", treedef)]
    batch = symbolic_batch(arg_leaves, dynamic)
    for label, x in zip(arg_labels, arg_leaves):
        entries.extend(arg_entries(label, x, batch))
    for label, obj in captures:
        if not isinstance(obj, _NUMBERS):  # a number counts by value (a new float object, same value: no retrace)
            entries.append((f"{label} object", ("object", id(obj))))
        entries.extend(state_entries(label, obj))
    return tuple(entries)


def _is_tensor_key(v: Any) -> bool:
    return isinstance(v, tuple) and len(v) == 6 and v[0] == "tensor"


def _show(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, tuple) and v and v[0] == "tensor":
        return _describe_tensor_key(v[1:])
    if isinstance(v, tuple) and len(v) == 2 and v[0] == "object":
        return f"object at {v[1]:#x}"
    if isinstance(v, tuple) and len(v) == 2 and isinstance(v[0], str) and not isinstance(v[1], tuple):
        return repr(v[1])
    return repr(v)


def describe_diff(old: tuple, new: tuple, limit: int = 4) -> str:
    """What changed from key ``old`` to ``new``: ``"arg 0 shape (3, 4) -> (5, 4)"`` (a few, '; '-joined)."""
    a, b = dict(old), dict(new)
    parts = []
    for label, v in b.items():
        if label not in a:
            parts.append(f"{label} is new ({_show(v)})")
        elif a[label] != v:
            if _is_tensor_key(a[label]) and _is_tensor_key(v):
                parts.append(_tensor_change(label, a[label], v))
                continue
            was, now = _show(a[label]), _show(v)
            parts.append(f"{label} {was} -> {now}" if was != now else f"{label}: another object ({now})")
    for label in a:
        if label not in b:
            parts.append(f"{label} is gone")
    if not parts:
        return "same signature"
    more = f"; and {len(parts) - limit} more" if len(parts) > limit else ""
    return "; ".join(parts[:limit]) + more
