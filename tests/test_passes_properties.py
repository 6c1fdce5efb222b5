"""Property tests of the optimization passes on random graphs (hypothesis).

The generator builds DAGs of elementwise, broadcast, reduction, movement (reshape, permute,
expand), cast, where and matmul ops through ``Graph.add_op`` (the registry's shape rules), with
shapes valid by construction, random and special constants (0, -0.0, 1, 2, NaN), duplicated
nodes (work for CSE) and unused branches (work for DCE).  Inputs may hold inf, NaN and -0.0.

Checked: every pass and the whole pipeline keep the results (numpy reference evaluator);
the verifier passes after each pass; DCE removes exactly the unreachable nodes; after CSE no two
nodes share a key; the pipeline is idempotent; fusion groups are acyclic and well formed.

Bounded for the suite (``max_examples`` 60, derandomized); ``GRAPHC_FUZZ=1`` runs a long
randomized fuzz (``GRAPHC_FUZZ=<n>`` for n examples).
"""
from __future__ import annotations

import os

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import graphc as gc
from graphc.ir import Graph, format_graph, verify
from graphc.ops.pointwise import broadcast_shapes
from graphc.static.passes import cse, dce, fold, fuse, run_pipeline, simplify
from graphc.static.passes._reference import evaluate
from graphc.static.passes.cse import node_key
from graphc.static.passes.dce import dead_nodes
from graphc.static.passes.fusion import FUSIBLE_REDUCTIONS, group_graph

F32, F64, I64 = gc.float32, gc.float64, gc.int64

_FUZZ = os.environ.get("GRAPHC_FUZZ", "")
if _FUZZ:
    _SETTINGS = settings(max_examples=int(_FUZZ) if _FUZZ.isdigit() and int(_FUZZ) > 1 else 2000, deadline=None,
                         suppress_health_check=list(HealthCheck))
else:
    _SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

SPECIAL = [0.0, -0.0, 1.0, 2.0, 0.5, -1.0, float("nan")]
UNARY_FLOAT = ["neg", "abs", "exp", "tanh", "sin", "square", "sqrt", "log", "sigmoid"]
UNARY_INT = ["neg", "abs", "square", "exp"]
BINARY = ["add", "sub", "mul", "div", "maximum", "minimum", "pow"]
REDUCTIONS = ["sum", "amax", "amin", "prod"]


# ----------------------------------------------------------------------------- generator
class Builder:
    """Grows one random graph; ``vals`` are the single-output, non-bool values built so far."""

    def __init__(self, draw):
        self.draw = draw
        self.g = Graph()
        self.vals: list = []

    def pick(self, pred=lambda n: True):
        choices = [v for v in self.vals if pred(v)]
        if not choices:
            return None
        # favour recent values, so chains grow deep
        i = self.draw(st.integers(0, len(choices) - 1))
        return choices[max(i, self.draw(st.integers(0, len(choices) - 1)))]

    def spec(self, v):
        return self.g.spec(v)

    def add(self, op, inputs, attrs=None):
        v = self.g.add_op(op, inputs, attrs)
        self.vals.append(v)
        return v

    def constant_like(self, shape, dtype):
        """A constant of ``shape``: all one special value, or random values."""
        draw = self.draw
        if draw(st.booleans()):
            value = np.full(shape, draw(st.sampled_from(SPECIAL)))
        else:
            seed = draw(st.integers(0, 2**16))
            value = np.random.default_rng(seed).uniform(-2, 2, size=shape)
        if not dtype.is_floating_point:
            value = np.nan_to_num(value, nan=3.0).round()
        return self.g.add_constant(value, dtype=dtype)

    def scalar_operand(self, like):
        """A wrapped number, a 0-d constant, or a constant shaped like a suffix of ``like``."""
        draw = self.draw
        kind = draw(st.sampled_from(["wrapped", "zero_d", "suffix"]))
        if kind == "wrapped":
            if draw(st.booleans()):
                return self.g.add_constant(draw(st.sampled_from([0, 1, 2, -1, 3])), wrapped=True)
            return self.g.add_constant(draw(st.sampled_from(SPECIAL)), wrapped=True)
        dtype = draw(st.sampled_from([like.dtype, like.dtype, F32, F64, I64]))
        if kind == "zero_d":
            return self.constant_like((), dtype)
        shape = tuple(like.shape)
        k = draw(st.integers(0, len(shape)))
        suffix = tuple(1 if draw(st.booleans()) else d for d in shape[len(shape) - k:])
        return self.constant_like(suffix, dtype)


@st.composite
def graphs(draw):
    b = Builder(draw)
    g = b.g
    for i in range(draw(st.integers(1, 3))):
        dtype = draw(st.sampled_from([F32, F32, F64, I64]))
        shape = tuple(draw(st.lists(st.integers(1, 3), max_size=3)))
        if dtype.is_floating_point and draw(st.integers(0, 3)) == 0:
            b.vals.append(g.add_parameter(f"p{i}", (shape, dtype)))
        else:
            b.vals.append(g.add_placeholder(f"x{i}", (shape, dtype)))
    for _ in range(draw(st.integers(1, 18))):
        action = draw(st.sampled_from(ACTIONS))
        action(b)
    ops = [v for v in b.vals if g.op(v) not in ("placeholder", "parameter", "constant")] or b.vals
    k = draw(st.integers(1, min(3, len(ops))))
    outs = draw(st.lists(st.sampled_from(ops), min_size=k, max_size=k))
    g.set_outputs(outs)
    verify(g)
    note(format_graph(g))  # what a failing example prints
    return g


def _unary(b: Builder):
    v = b.pick()
    is_float = b.spec(v).dtype.is_floating_point
    b.add(b.draw(st.sampled_from(UNARY_FLOAT if is_float else UNARY_INT)), [v])


def _neg_neg(b: Builder):
    v = b.pick()
    b.add("neg", [b.add("neg", [v])])


def _binary_values(b: Builder):
    v = b.pick()
    sv = tuple(b.spec(v).shape)

    def fits(w):
        try:
            broadcast_shapes(sv, tuple(b.spec(w).shape))
            return True
        except RuntimeError:
            return False

    w = b.pick(fits)
    op = b.draw(st.sampled_from(BINARY))
    args = [v, w] if b.draw(st.booleans()) else [w, v]
    b.add(op, args)


def _binary_constant(b: Builder):
    v = b.pick()
    c = b.scalar_operand(b.spec(v))
    op = b.draw(st.sampled_from(BINARY))
    args = [v, c] if op == "pow" or b.draw(st.booleans()) else [c, v]
    b.add(op, args)


def _reduce(b: Builder):
    v = b.pick()
    nd = len(b.spec(v).shape)
    if nd == 0:
        dims = ()
    else:
        dims = tuple(sorted(b.draw(st.sets(st.integers(0, nd - 1), min_size=1))))
    b.add(b.draw(st.sampled_from(REDUCTIONS)), [v], {"dim": dims, "keepdim": b.draw(st.booleans())})


def _reshape(b: Builder):
    v = b.pick()
    shape = tuple(b.spec(v).shape)
    numel = int(np.prod(shape, dtype=np.int64))
    targets = [(numel,), (1,) + shape, tuple(d for d in shape if d != 1), shape]
    if len(shape) >= 2:
        targets.append(shape[:-2] + (shape[-2] * shape[-1],))
    op = b.draw(st.sampled_from(["reshape", "reshape", "view"]))
    b.add(op, [v], {"shape": b.draw(st.sampled_from(targets))})


def _permute(b: Builder):
    v = b.pick(lambda n: len(b.spec(n).shape) >= 2)
    if v is None:
        return
    nd = len(b.spec(v).shape)
    b.add("permute", [v], {"dims": tuple(b.draw(st.permutations(range(nd))))})


def _expand(b: Builder):
    v = b.pick()
    shape = tuple(b.draw(st.sampled_from([1, 2, 3])) if d == 1 else d for d in b.spec(v).shape)
    if b.draw(st.booleans()):
        shape = (b.draw(st.integers(1, 2)),) + shape
    b.add("expand", [v], {"shape": shape})


def _matmul(b: Builder):
    v = b.pick(lambda n: len(b.spec(n).shape) == 2)
    if v is None:
        return
    s = b.spec(v)
    k = s.shape[1]
    w = b.pick(lambda n: len(b.spec(n).shape) == 2 and b.spec(n).shape[0] == k and b.spec(n).dtype is s.dtype)
    if w is None or b.draw(st.booleans()):
        w = b.constant_like((k, b.draw(st.integers(1, 3))), s.dtype)
    b.add("matmul", [v, w])


def _cast(b: Builder):
    v = b.pick()
    dt = b.spec(v).dtype
    targets = [F32, F64] + ([I64] if not dt.is_floating_point else [dt])
    b.add("cast", [v], {"dtype": b.draw(st.sampled_from(targets))})


def _where(b: Builder):
    v = b.pick()
    s = b.spec(v)
    zero = b.g.add_constant(0, wrapped=True)
    cond = b.g.add_op("gt", [v, zero])
    other = b.scalar_operand(s)
    os_ = b.g.spec(other)
    if os_.dtype is not s.dtype:  # the front end casts both branches to their result dtype
        other = b.g.add_op("cast", [other], {"dtype": s.dtype})
    b.add("where", [cond, v, other])


def _duplicate(b: Builder):
    v = b.pick(lambda n: b.g.op(n) not in ("placeholder", "parameter"))
    if v is None:
        return
    d = b.g.node(v)
    if d["op"] == "constant":
        dup = b.g.add_constant(d["value"], dtype=d["specs"][0].dtype, wrapped=bool(d["attrs"].get("wrapped")))
    else:
        dup = b.g.add_node(d["op"], b.g.inputs_of(v), dict(d["attrs"]), d["specs"])
    b.vals.append(dup)


ACTIONS = [_unary, _neg_neg, _binary_values, _binary_constant, _binary_constant, _reduce, _reshape, _permute,
           _expand, _matmul, _cast, _where, _duplicate, _duplicate]


# ----------------------------------------------------------------------------- checking
def feeds_for(g: Graph, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    out = {}
    for n in g.placeholders() + g.parameters():
        spec = g.spec(n)
        shape = tuple(spec.shape)
        if spec.dtype.is_floating_point:
            arr = rng.uniform(-2, 2, size=shape)
            if arr.size and rng.integers(0, 3) == 0:
                arr.reshape(-1)[rng.integers(0, arr.size)] = rng.choice([np.inf, -np.inf, np.nan, -0.0])
        else:
            arr = rng.integers(-4, 5, size=shape)
        out[g.name(n)] = np.asarray(arr, dtype=spec.dtype.np)
    return out


def assert_close(before: list, after: list, context: str):
    assert len(before) == len(after), context
    for a, b in zip(before, after):
        assert a.dtype == b.dtype and a.shape == b.shape, f"{a.dtype}{a.shape} != {b.dtype}{b.shape}\n{context}"
        if a.dtype.kind == "f":
            tol = 1e-5 if a.dtype == np.float32 else 1e-12
            np.testing.assert_allclose(b, a, rtol=tol, atol=tol, equal_nan=True, err_msg=context)
        else:
            np.testing.assert_array_equal(b, a, err_msg=context)


def check_groups(g: Graph, groups: list):
    """Fusion groups partition the op nodes, contract to a DAG, and end in at most one reduction."""
    members = [m for grp in groups for m in grp]
    assert sorted(members) == g.op_nodes() and len(set(members)) == len(members)
    assert nx.is_directed_acyclic_graph(group_graph(g, groups))
    for grp in groups:
        if len(grp) == 1:
            continue
        reds = [m for m in grp if g.op(m) in FUSIBLE_REDUCTIONS]
        assert len(reds) <= 1, grp
        others = [m for m in grp if m not in reds]
        shapes = {tuple(g.spec(m).shape) for m in others}
        if reds:
            shapes.add(tuple(g.spec(g.inputs_of(reds[0])[0]).shape))
            assert not set(g.users_of(reds[0])) & set(grp), "a reduction must end its group"
        assert len(shapes) == 1, f"group {grp} mixes domains {shapes}"
        assert all(g.op(m) in FUSIBLE_REDUCTIONS or g.op(m) == "expand"
                   or gc.ops.get(g.op(m)).category == "elementwise" for m in grp)


@_SETTINGS
@given(graphs(), st.integers(0, 2**16))
def test_each_pass_preserves_results(g, seed):
    feeds = feeds_for(g, seed)
    want = evaluate(g, feeds)
    for p in (dce, cse, fold, simplify, fuse):
        h = g.copy()
        p(h)
        verify(h)
        assert_close(want, evaluate(h, feeds), f"after {p.__name__}:\n{format_graph(g)}\n--->\n{format_graph(h)}")


@_SETTINGS
@given(graphs())
def test_dce_removes_exactly_the_unreachable_nodes(g):
    live = g.ancestors(g.outputs) | {g.output_node}
    signature = set(g.placeholders() + g.parameters())
    expected = set(g.nodes()) - live - signature
    assert set(dead_nodes(g)) == expected
    before = set(g.nodes())
    stats = dce(g)
    verify(g)
    assert set(g.nodes()) == before - expected
    assert len(stats.changes) == len(expected)


@_SETTINGS
@given(graphs())
def test_after_cse_no_two_nodes_share_a_key(g):
    cse(g)
    verify(g)
    keys = [k for k in (node_key(g, n) for n in g.nodes()) if k is not None]
    assert len(keys) == len(set(keys)), format_graph(g)
    assert not cse(g).changed


@_SETTINGS
@given(graphs(), st.integers(0, 2**16))
def test_pipeline_preserves_results_and_is_idempotent(g, seed):
    feeds = feeds_for(g, seed)
    want = evaluate(g, feeds)
    original = format_graph(g)
    _, stats = run_pipeline(g)
    assert_close(want, evaluate(g, feeds), f"pipeline:\n{original}\n--->\n{format_graph(g)}")
    check_groups(g, stats[-1].groups)
    text = format_graph(g)
    groups = stats[-1].groups
    _, again = run_pipeline(g)
    assert format_graph(g) == text
    assert [s.changes for s in again] == [[] for _ in again], [c for s in again for c in s.changes]
    assert again[-1].groups == groups


@pytest.mark.skipif(not _FUZZ, reason="long fuzzing runs only with GRAPHC_FUZZ=1")
@_SETTINGS
@given(graphs(), st.integers(0, 2**16))
def test_fuzz_unsafe_math_keeps_finite_results(g, seed):
    """With unsafe_math the rewrites may change NaN/inf/-0.0, but never finite values' dtype or shape."""
    feeds = feeds_for(g, seed)
    want = evaluate(g, feeds)
    h = g.copy()
    simplify(h, unsafe_math=True)
    verify(h)
    got = evaluate(h, feeds)
    for a, b in zip(want, got):
        assert a.dtype == b.dtype and a.shape == b.shape
        finite = np.isfinite(a) if a.dtype.kind == "f" else np.ones(a.shape, bool)
        np.testing.assert_allclose(np.where(finite, b, 0), np.where(finite, a, 0), rtol=1e-5, atol=1e-5)
