"""gc.static.explain: pass statistics, fusion groups, the optimized IR with locations, retrace history."""
import os
import re

import numpy as np
import pytest

import graphc as gc
import graphc.nn as nn
from graphc.static import Explanation, explain
from helpers import assert_matches, line_of

HERE = os.path.basename(__file__)


def _rand(*shape, seed=0):
    return gc.tensor(np.random.default_rng(seed).standard_normal(shape).astype(np.float32))


def _line_of(text: str) -> int:
    return line_of(__file__, text)


def model_fn(a, b, c):
    t = a * b + c  # line: fused elementwise start
    u = (t * 1).sigmoid() * a.tanh()  # line: x * 1 simplifies away
    return u - 0.5 * c + (c * 0).sum()  # line: a reduction and folding


def test_report_lists_every_pass_with_counts_that_match_its_stats():
    # interp only: explain reports the trace and passes, which do not depend on the backend
    a, b, c = _rand(3, 4), _rand(3, 4, seed=1), _rand(3, 4, seed=2)
    report = explain(model_fn, a, b, c)
    assert isinstance(report, Explanation)
    text = str(report)
    assert text == repr(report)
    assert [s.name for s in report.passes] == ["dce", "cse", "fold", "simplify", "cse", "dce", "fuse"]
    rows = [line for line in text.splitlines() if re.match(r"\s+\d+\s+\w+\s+\d+ -> ", line)]
    assert len(rows) == len(report.passes)
    for row, s in zip(rows, report.passes):
        nums = [int(x) for x in re.findall(r"\d+", row.split("ms")[0])[:-2]]  # drop the time's digits
        assert row.split()[1] == s.name
        assert nums[:6] == [nums[0], s.nodes_before, s.nodes_after, s.ops_before, s.ops_after, len(s.changes)]
    first, last = report.passes[0], report.passes[-1]
    total = f"total: {first.nodes_before} -> {last.nodes_after} nodes, {first.ops_before} -> {last.ops_after} ops"
    assert total in text
    assert last.ops_after < first.ops_before  # simplify and fold removed ops
    for s in report.passes:
        for change in s.changes:
            assert change in text
    assert "simplify:" in text and "nothing to do" in text
    # the source graph as traced, and the optimized graph that runs
    assert f"graph as traced: {first.nodes_before} nodes, {first.ops_before} ops" in text
    assert report.graph.equals(report.graph) and len(report.source) == first.ops_before


def test_optimized_ir_has_user_locations():
    # interp only: explain reports the trace and passes, which do not depend on the backend
    a, b, c = _rand(3, 4), _rand(3, 4, seed=1), _rand(3, 4, seed=2)
    text = str(explain(model_fn, a, b, c))
    ir = text.split("optimized IR")[1].split("\n\n")[0]
    start = _line_of("line: fused elementwise start")
    assert re.search(rf"= mul %0, %1 : f32\[3,4\]  # \S*{HERE}:{start}", ir)
    assert re.search(rf"= sigmoid .*# \S*{HERE}:{start + 1}", ir)
    op_lines = [line for line in ir.splitlines() if " = " in line and "placeholder" not in line]
    assert op_lines and all(f"{HERE}:" in line for line in op_lines)


def test_fusion_groups_name_their_members_and_what_ends_them():
    # interp only: explain reports the trace and passes, which do not depend on the backend
    gc.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    report = explain(lambda x: (model(x).exp() + 1).sum(), _rand(3, 4))
    text = str(report)
    fused = [m for m in report.groups if len(m) > 1]
    assert fused and f"{len(report.groups)} kernel(s), {len(fused)} of them fusing more than one op" in text
    g = report.graph
    for i, members in enumerate(report.groups):
        if len(members) > 1:
            assert f"group {i} ({len(members)} ops): " + ", ".join(f"%{m} {g.op(m)}" for m in members) in text
    assert re.search(r"ends at %\d+ relu \(read by %\d+ matmul, which cannot fuse\)", text)
    assert re.search(r"ends at %\d+ sum \(a reduction closes its group; a graph output\)", text)
    assert re.search(r"alone: .*matmul", text)


def test_retrace_history_with_reasons_and_timings(backend):
    cf = gc.compile(model_fn, backend=backend)
    x3 = [_rand(3, 4, seed=i) for i in range(3)]
    x5 = [_rand(5, 4, seed=i) for i in range(3)]
    cf(*x3)
    cf(*x5)
    cf(*[t.double() for t in x5])
    report = explain(cf, *x3)  # a cached graph: nothing new is traced
    assert len(cf.history) == 3 and cf.retraces == [r.reason for r in cf.history]
    text = str(report)
    assert "traces of model_fn (3):" in text
    assert "1. first call: traced in" in text
    shapes = "; ".join(f"arg {i} shape (3, 4) -> (5, 4)" for i in range(3))
    assert f"2. {shapes}: traced in" in text
    assert "3. arg 0 dtype float32 -> float64" in text
    for rec in cf.history:
        assert rec.trace_seconds > 0 and rec.compile_seconds > 0 and rec.ops > 0
        assert re.search(rf"traced in \d+\.\d ms, compiled in \d+\.\d ms \({rec.ops} ops\)", str(rec))
    dyn = gc.compile(model_fn, dynamic=True, backend=backend)
    dyn(*x3)
    dyn(*x5)
    assert dyn.retraces == ["first call"]
    assert "f32[?,4]" in str(explain(dyn, *x5))


def test_explain_traces_but_never_runs(backend, backend_tol):
    w = _rand(3).requires_grad_()

    def step(x):
        loss = (x * w).sum()
        loss.backward()
        with gc.no_grad():
            w.sub_(0.1 * w.grad)
        return loss

    before = w.detach().numpy().copy()
    cf = gc.compile(step, backend=backend)
    report = explain(cf, _rand(3, seed=1))
    assert_matches(w, before, **backend_tol(np.float32))
    assert w.grad is None and cf.retraces == ["first call"]
    assert "parameter \"w\"" in str(report)
    cf(_rand(3, seed=1))  # the call reuses the graph explain traced
    assert cf.retraces == ["first call"] and not np.array_equal(w.detach().numpy(), before)


def test_explain_an_executable_and_a_cond(backend):
    g = gc.static.Graph()
    x = g.placeholder("x", (None, 3))
    y = gc.static.cond(x.sum() > 0, lambda v: (v * 2).exp(), lambda v: v + 0, x)  # cond line
    report = explain(g.compile(y, backend=backend))
    text = str(report)
    assert report.history == [] and "traces of" not in text
    assert "cond %" in text and "true_graph(" in text and "false_graph(" in text
    assert re.search(rf"exp %\d+ : f32\[\?,3\]  # \S*{HERE}:{_line_of('# cond line')}", text)
    unoptimized = explain(g.compile(y, optimize=False, backend=backend))
    assert "passes: none ran" in str(unoptimized) and "fusion groups: none" in str(unoptimized)


def test_bad_arguments():
    with pytest.raises(TypeError, match="expected a function"):
        explain(42)
    g = gc.static.Graph()
    exe = g.compile(g.placeholder("x", (2,)) * 2)
    with pytest.raises(TypeError, match="an Executable takes no example arguments"):
        explain(exe, _rand(2))
