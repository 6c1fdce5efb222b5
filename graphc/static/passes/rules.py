"""The algebraic rewrite database of :func:`~graphc.static.passes.simplify`.

A rule is a named function ``rule(site) -> Value | None``: given a :class:`Site` (one node and
helpers to look at its inputs and build replacement nodes), it returns the value that computes
the same thing more cheaply, or None.  The driver checks that the replacement has the node's
exact dtype and shape (else the rule does not fire) and moves every use over.

Rules marked ``unsafe`` change results for NaN, infinity or the sign of zero (``x*0 -> 0``,
``x-x -> 0``, ``x/x -> 1``, ``x+0.0 -> x`` at ``x = -0.0``) and run only under
``unsafe_math=True``.  For integer dtypes, where no such values exist, the same rewrites are safe.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ...ir.graph import Graph, Value
from ...ops.promotion import compute_dtype, spec_operands
from ...ops.registry import REGISTRY

__all__ = ["Rule", "Site", "NoMatch", "RULES", "rules_for"]


class NoMatch(Exception):
    """Raised inside a rule to say it does not apply after all (the driver rolls back)."""


@dataclass(frozen=True)
class Rule:
    """One rewrite: its name (quoted in PassStats changes), the ops it looks at, the function."""

    name: str
    ops: tuple
    fn: Callable
    unsafe: bool = False


class Site:
    """One node under a rule's eye, with helpers; nodes built through it carry the node's ``loc``
    and are removed again if the rewrite does not happen."""

    def __init__(self, g: Graph, n: int, max_broadcast: int):
        data = g.node(n)
        self.g, self.n = g, n
        self.op, self.attrs, self.loc = data["op"], data["attrs"], data["loc"]
        self.spec = data["specs"][0]
        self.inputs = g.inputs_of(n)
        self.max_broadcast = max_broadcast
        self.created: list = []
        self._compute_dtype = None

    # ------------------------------------------------------------------ looking
    def producer(self, v: Value, op: str):
        """The node behind value ``v`` if it is a (non-opaque) ``op`` node, else None."""
        data = self.g.node(v.node)
        if data["op"] != op or data.get("opaque") or len(data["specs"]) != 1:
            return None
        return v.node

    def arg(self, node: int, i: int = 0) -> Value:
        """Input ``i`` of ``node``."""
        return self.g.inputs_of(node)[i]

    def compute_dtype(self):
        """The dtype the node's kernel computes in (after its inputs are promoted)."""
        if self._compute_dtype is None:
            op = REGISTRY[self.op]
            if op.promote is None:
                self._compute_dtype = self.spec.dtype
            else:
                self._compute_dtype = compute_dtype(op, spec_operands([self.g.input_spec(v) for v in self.inputs]))
        return self._compute_dtype

    def constant(self, v: Value):
        """Input value ``v``'s array as the node's kernel sees it (cast to the compute dtype), or
        None when ``v`` is not a constant with a known value."""
        data = self.g.node(v.node)
        if data["op"] != "constant" or data.get("value") is None:
            return None
        with np.errstate(all="ignore"):
            return data["value"].astype(self.compute_dtype().np)

    def is_all(self, v: Value, x: float) -> bool:
        """True when ``v`` is a constant whose every element equals ``x`` in the compute dtype."""
        arr = self.constant(v)
        return arr is not None and arr.size > 0 and bool((arr == x).all())

    def zero_sign(self, v: Value):
        """For an all-zero constant: "+" (all +0), "-" (all -0) or "mixed"; None if not all zero."""
        if not self.is_all(v, 0):
            return None
        arr = self.constant(v)
        if arr.dtype.kind != "f":
            return "+"
        neg = np.signbit(arr)
        return "-" if neg.all() else "+" if not neg.any() else "mixed"

    def is_float(self) -> bool:
        return self.compute_dtype().is_floating_point

    def is_integer(self) -> bool:
        dt = self.compute_dtype()
        return dt.category == 1

    # ------------------------------------------------------------------ building
    def new(self, op: str, inputs: list, attrs: dict | None = None) -> Value:
        """A new ``op`` node (specs from its shape rule) at the node's ``loc``; raises
        :class:`NoMatch` when the shape rule refuses the inputs."""
        try:
            nid = self.g.add_op(op, inputs, attrs, loc=self.loc)
        except Exception as e:  # noqa: BLE001 - any refusal of the shape rule means "no rewrite"
            raise NoMatch(f"{op} refuses the inputs: {e}") from e
        self.created.append(nid)
        return Value(nid, 0)

    def new_constant(self, arr: np.ndarray, dtype) -> Value:
        nid = self.g.add_constant(arr, dtype=dtype, loc=self.loc)
        self.created.append(nid)
        return Value(nid, 0)

    def full(self, fill) -> Value | None:
        """A value of the node's spec filled with ``fill``: a constant when small, else a scalar
        constant expanded (free in a kernel); None for a symbolic shape."""
        shape, dtype = self.spec.shape, self.spec.dtype
        if any(d is None for d in shape):
            return None
        scalar = np.array(fill, dtype=dtype.np)
        if int(np.prod(shape, dtype=np.int64)) <= self.max_broadcast:
            return self.new_constant(np.broadcast_to(scalar, shape), dtype)
        c = self.new_constant(scalar, dtype)
        return self.new("expand", [c], {"shape": tuple(shape)}) if shape else c

    def rollback(self) -> None:
        """Remove the nodes this site built (the rewrite did not happen)."""
        for nid in reversed(self.created):
            if nid in self.g.nx and not self.g.nx._succ[nid]:
                self.g.nx.remove_node(nid)
        self.created.clear()


# ---------------------------------------------------------------------------- helpers
def _operand_pairs(s: Site):
    """(x, c) orders of a binary node's operands: both for commutative ops, else (a, b) only."""
    a, b = s.inputs
    return ((a, b), (b, a)) if s.op in ("add", "mul") else ((a, b),)


def _identity_if(s: Site, cond: bool):
    return s.inputs[0] if cond else None


def _concrete(shape) -> bool:
    return all(d is not None for d in shape)


# ---------------------------------------------------------------------------- arithmetic identities
def mul_one(s: Site):
    """x * 1 -> x, 1 * x -> x."""
    for x, c in _operand_pairs(s):
        if s.is_all(c, 1):
            return x
    return None


def add_zero(s: Site):
    """x + 0 -> x for integers and for -0.0 (x + (+0.0) turns -0.0 into +0.0: see signed_zero)."""
    for x, c in _operand_pairs(s):
        sign = s.zero_sign(c)
        if sign == "-" or (sign is not None and not s.is_float()):
            return x
    return None


def signed_zero(s: Site):
    """x + 0.0 -> x and x - (-0.0) -> x for floats (unsafe: -0.0 + 0.0 is +0.0)."""
    pairs = _operand_pairs(s) if s.op == "add" else (tuple(s.inputs),)
    for x, c in pairs:
        if s.zero_sign(c) is not None:
            return x
    return None


def sub_zero(s: Site):
    """x - 0 -> x (for floats only +0.0: x - (-0.0) turns -0.0 into +0.0)."""
    sign = s.zero_sign(s.inputs[1])
    return _identity_if(s, sign == "+")


def div_one(s: Site):
    """x / 1 -> x."""
    return _identity_if(s, s.is_all(s.inputs[1], 1))


def pow_one(s: Site):
    """pow(x, 1) -> x."""
    return _identity_if(s, s.is_all(s.inputs[1], 1))


def pow_two(s: Site):
    """pow(x, 2) -> square(x) (x*x is exactly rounded, as pow is)."""
    if s.is_all(s.inputs[1], 2):
        return s.new("square", [s.inputs[0]])
    return None


def neg_neg(s: Site):
    """neg(neg(x)) -> x."""
    inner = s.producer(s.inputs[0], "neg")
    if inner is None or s.spec.dtype.category == 0:
        return None  # neg of bool is an error at run time: keep it
    return s.arg(inner)


def _neg_operand(s: Site, v: Value):
    """y when ``v`` is neg(y) computed in the node's own dtype (so no cast sits between the
    negation and the arithmetic: neg(int8 -128) wraps, its int32 cast would not)."""
    inner = s.producer(v, "neg")
    if inner is None or s.g.spec(v).dtype is not s.compute_dtype():
        return None
    return s.arg(inner)


def sub_neg(s: Site):
    """x - neg(y) -> x + y."""
    y = _neg_operand(s, s.inputs[1])
    return None if y is None else s.new("add", [s.inputs[0], y])


def add_neg(s: Site):
    """x + neg(y) -> x - y, neg(x) + y -> y - x."""
    a, b = s.inputs
    y = _neg_operand(s, b)
    if y is not None:
        return s.new("sub", [a, y])
    x = _neg_operand(s, a)
    return None if x is None else s.new("sub", [b, x])


# ---------------------------------------------------------------------------- exact for integers only
def mul_zero_exact(s: Site):
    """x * 0 -> 0 for integers and bool (no NaN or infinity to propagate)."""
    if s.is_float():
        return None
    return mul_zero(s)


def mul_zero(s: Site):
    """x * 0 -> 0 (unsafe for floats: inf * 0 and nan * 0 are nan, -1 * 0 is -0.0)."""
    for _x, c in _operand_pairs(s):
        if s.is_all(c, 0):
            return s.full(0)
    return None


def sub_self_exact(s: Site):
    """x - x -> 0 for integers."""
    return sub_self(s) if s.is_integer() else None


def sub_self(s: Site):
    """x - x -> 0 (unsafe for floats: inf - inf is nan)."""
    a, b = s.inputs
    return s.full(0) if a == b else None


def div_self(s: Site):
    """x / x -> 1 (unsafe: 0/0 and inf/inf are nan)."""
    a, b = s.inputs
    return s.full(1) if a == b else None


# ---------------------------------------------------------------------------- movement and casts
def permute_permute(s: Site):
    """permute(permute(x, p), q) -> permute(x, p[q]) (dropped altogether when that is the identity)."""
    inner = s.producer(s.inputs[0], "permute")
    if inner is None:
        return None
    p, q = s.g.attrs(inner)["dims"], s.attrs["dims"]
    dims = tuple(p[j] for j in q)
    x = s.arg(inner)
    if dims == tuple(range(len(dims))):
        return x
    return s.new("permute", [x], {"dims": dims})


def permute_identity(s: Site):
    """permute(x, (0, 1, ...)) -> x."""
    dims = tuple(s.attrs["dims"])
    return _identity_if(s, dims == tuple(range(len(dims))))


def reshape_reshape(s: Site):
    """reshape(reshape(x)) -> reshape(x) (a view of a view stays a view)."""
    for inner_op in ("reshape", "view"):
        inner = s.producer(s.inputs[0], inner_op)
        if inner is not None:
            op = "view" if s.op == "view" and inner_op == "view" else "reshape"
            return s.new(op, [s.arg(inner)], {"shape": tuple(s.attrs["shape"])})
    return None


def same_shape_identity(s: Site):
    """reshape/view/expand to the shape the input already has -> the input."""
    shape = s.g.spec(s.inputs[0]).shape
    return _identity_if(s, _concrete(shape) and tuple(shape) == tuple(s.spec.shape))


def expand_expand(s: Site):
    """expand(expand(x, s1), s2) -> expand(x, s2)."""
    inner = s.producer(s.inputs[0], "expand")
    return None if inner is None else s.new("expand", [s.arg(inner)], {"shape": tuple(s.attrs["shape"])})


def expand_constant(s: Site):
    """expand(constant) -> a constant of the final shape, when it is small."""
    data = s.g.node(s.inputs[0].node)
    shape = s.spec.shape
    if data["op"] != "constant" or data.get("value") is None or not _concrete(shape):
        return None
    if int(np.prod(shape, dtype=np.int64)) > s.max_broadcast:
        return None
    arr = np.broadcast_to(data["value"].astype(s.spec.dtype.np), shape)
    return s.new_constant(arr, s.spec.dtype)


def cast_identity(s: Site):
    """cast(x, dtype of x) -> x."""
    return _identity_if(s, s.g.spec(s.inputs[0]).dtype is s.attrs["dtype"])


RULES = (
    Rule("mul_one", ("mul",), mul_one),
    Rule("add_zero", ("add",), add_zero),
    Rule("sub_zero", ("sub",), sub_zero),
    Rule("div_one", ("div",), div_one),
    Rule("pow_one", ("pow",), pow_one),
    Rule("pow_two", ("pow",), pow_two),
    Rule("neg_neg", ("neg",), neg_neg),
    Rule("sub_neg", ("sub",), sub_neg),
    Rule("add_neg", ("add",), add_neg),
    Rule("mul_zero_exact", ("mul",), mul_zero_exact),
    Rule("sub_self_exact", ("sub",), sub_self_exact),
    Rule("permute_identity", ("permute",), permute_identity),
    Rule("permute_permute", ("permute",), permute_permute),
    Rule("same_shape_identity", ("reshape", "view", "expand"), same_shape_identity),
    Rule("reshape_reshape", ("reshape", "view"), reshape_reshape),
    Rule("expand_expand", ("expand",), expand_expand),
    Rule("expand_constant", ("expand",), expand_constant),
    Rule("cast_identity", ("cast",), cast_identity),
    # change NaN/inf/signed-zero results: only with unsafe_math=True
    Rule("signed_zero", ("add", "sub"), signed_zero, unsafe=True),
    Rule("mul_zero", ("mul",), mul_zero, unsafe=True),
    Rule("sub_self", ("sub",), sub_self, unsafe=True),
    Rule("div_self", ("div",), div_self, unsafe=True),
)


def rules_for(rules=RULES, unsafe_math: bool = False) -> dict:
    """op name -> the rules that look at it, in database order."""
    table: dict = {}
    for r in rules:
        if r.unsafe and not unsafe_math:
            continue
        for op in r.ops:
            table.setdefault(op, []).append(r)
    return table
