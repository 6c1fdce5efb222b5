"""graphc quickstart: tensors, ops, autograd, and the tape printed as IR.

    python examples/quickstart.py
"""
import graphc as gc

gc.manual_seed(0)

# tensors and ops, PyTorch style
a = gc.tensor([[1.0, 2.0], [3.0, 4.0]])
b = gc.ones(2, 2)
print("a + b =", a + b)
print("a @ b =", a @ b)
print("int tensor + 2.5 ->", (gc.tensor([1, 2]) + 2.5).dtype)  # torch promotion

# a tiny regression, trained eagerly
x = gc.randn(64, 3)
true_w = gc.tensor([[2.0], [-1.0], [0.5]])
y = x @ true_w + 0.1 * gc.randn(64, 1)

w = gc.zeros(3, 1, requires_grad=True)
for step in range(200):
    loss = ((x @ w - y) ** 2).mean()
    loss.backward()
    with gc.no_grad():
        w -= 0.1 * w.grad
    w.grad = None
print(f"learned w = {w.detach().flatten().tolist()}, loss = {loss.item():.5f}")

# higher-order derivatives: d/dt t**3 = 3 t**2, d2/dt2 = 6 t
t = gc.tensor(2.0, requires_grad=True)
(d1,) = gc.autograd.grad(t ** 3, t, create_graph=True)
(d2,) = gc.autograd.grad(d1, t)
print(f"d/dt t^3 at 2 = {d1.item()}, d2/dt2 = {d2.item()}")

# the tape behind a loss is the shared IR: print it
h = gc.randn(4, 3, requires_grad=True)
out = (h * 2).tanh().sum()
print("\nthe tape of (h * 2).tanh().sum() as IR:")
print(gc.ir.from_tape(out))
