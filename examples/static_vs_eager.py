"""One function, two ways to run it: eager (op by op, recording a tape) and static (a traced graph).

    python examples/static_vs_eager.py

1. a small MLP's forward pass and loss, run eagerly and through gc.compile: same numbers;
2. the two IRs side by side: the eager tape (gc.ir.from_tape) and the optimized static graph;
3. what each optimization pass did (gc.static.explain);
4. retracing: a new batch size means a new graph, unless dynamic=True;
5. data-dependent control flow: `if` cannot be traced, gc.static.cond can.
"""
import warnings

import numpy as np

import graphc as gc
import graphc.nn as nn
import graphc.nn.functional as F

gc.manual_seed(0)
model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))


def loss_fn(x, y):
    """Forward pass and loss: ordinary graphc code, nothing static about it."""
    pred = model(x)
    return F.mse_loss(pred.sigmoid() * 2 - 1, y) + 0.01 * (pred * 1).abs().mean()


x, y = gc.randn(8, 3), gc.randn(8, 1).tanh()


def section(title: str) -> None:
    print(f"\n{'=' * 8} {title} {'=' * (60 - len(title))}")


# --------------------------------------------------------------------------- 1. same numbers
section("1. eager and compiled agree")
eager_loss = loss_fn(x, y)                 # runs op by op; records a tape for backward
compiled = gc.compile(loss_fn)             # traces loss_fn on its first call, then runs the graph
static_loss = compiled(x, y)
print(f"eager    loss = {eager_loss.item():.7f}")
print(f"compiled loss = {static_loss.item():.7f}")
assert np.allclose(eager_loss.item(), static_loss.item(), rtol=1e-6)

# --------------------------------------------------------------------------- 2. two IRs
section("2a. the eager tape, exported as IR")
names = {f"model.{k}": p for k, p in model.named_parameters()}
print(gc.ir.from_tape(eager_loss, names=names))  # what backward would walk: one node per op that ran

section("2b. the static graph after the passes")
print(compiled.traces[0].graph)  # the same ops, from the trace; `* 1` is gone (simplify)

# --------------------------------------------------------------------------- 3. the passes
section("3. gc.static.explain: what each pass did")
print(gc.static.explain(compiled, x, y))

# --------------------------------------------------------------------------- 4. retracing
section("4. retraces: a new batch size")
compiled(gc.randn(16, 3), gc.randn(16, 1))  # another shape: another trace
print("static batch :", compiled.retraces)
dynamic = gc.compile(loss_fn, dynamic=True)  # the leading dim stays symbolic ('?' in the IR)
for n in (8, 16, 5):
    dynamic(gc.randn(n, 3), gc.randn(n, 1))
print("dynamic=True :", dynamic.retraces)

# --------------------------------------------------------------------------- 5. control flow
section("5. data-dependent control flow")


def clipped(x):
    if x.abs().sum() > 10:  # Python `if` on a tensor: the value is unknown while tracing
        return x / x.abs().sum() * 10
    return x


with warnings.catch_warnings(record=True) as caught:  # a graph break: this signature runs eagerly
    warnings.simplefilter("always")
    broken = gc.compile(clipped)
    assert np.allclose(broken(x).numpy(), clipped(x).numpy())
print("graph break:", broken.retraces, "-", caught[0].category.__name__)
try:
    gc.compile(clipped, fullgraph=True)(x)  # fullgraph=True refuses instead, naming the line
except gc.static.TracingError as e:
    print("fullgraph=True: TracingError:", str(e).split(" needs the value")[0], "...")


def clipped_cond(x):
    total = x.abs().sum()
    return gc.static.cond(total > 10, lambda v: v / total * 10, lambda v: v, x)


cc = gc.compile(clipped_cond)
for scale in (0.1, 10.0):
    xs = x * scale
    assert np.allclose(cc(xs).numpy(), clipped(xs).numpy())
print("gc.static.cond agrees with the eager `if` for both branches; its graph:")
print(cc.traces[0].graph)
