"""Whole models compiled as one training step (both backends) match eager step by step."""
import numpy as np

import graphc as gc
import graphc.nn as nn
import graphc.nn.functional as F
from helpers import assert_matches, sgd_train_step


class _AttentionBlock(nn.Module):
    """An embedding lookup, a hand-written layer norm, multi-head self-attention, a residual,
    mean pooling, GELU and a classifier: views, transposes, chunks, batched matmuls and
    index ops between fused kernels."""

    def __init__(self, vocab=50, d=16, heads=4, classes=5):
        super().__init__()
        self.emb = nn.Parameter(gc.randn(vocab, d))
        self.qkv = nn.Linear(d, 3 * d)
        self.out = nn.Linear(d, d)
        self.head = nn.Linear(d, classes)
        self.heads = heads

    def forward(self, idx):
        x = self.emb[idx]                                   # (B, T, d)
        b, t, d = x.shape
        h = (x - x.mean(-1, keepdim=True)) / (x.var(-1, keepdim=True) + 1e-5).sqrt()
        q, k, v = self.qkv(h).chunk(3, dim=-1)
        q, k, v = (z.view(b, t, self.heads, d // self.heads).transpose(1, 2) for z in (q, k, v))
        att = F.softmax(q @ k.transpose(-2, -1) / (d // self.heads) ** 0.5, dim=-1) @ v
        x = x + self.out(att.transpose(1, 2).reshape(b, t, d))
        return self.head(F.gelu(x.mean(1)))


def test_attention_block_training_step_matches_eager(backend):
    # once failed to compile: fusion built a cycle between groups through a third group's members
    def make():
        gc.manual_seed(0)
        return _AttentionBlock()

    rng = np.random.default_rng(0)
    idx = gc.tensor(rng.integers(0, 50, (3, 6)))
    y = gc.tensor(rng.integers(0, 5, 3))
    me, mc = make(), make()
    eager = sgd_train_step(me, gc.optim.SGD(me.parameters(), lr=0.1))
    compiled = gc.compile(sgd_train_step(mc, gc.optim.SGD(mc.parameters(), lr=0.1)), backend=backend)
    for _ in range(3):
        want = eager(idx, y)
        assert_matches(compiled(idx, y), want.detach().numpy(), rtol=1e-5, atol=1e-6)
    for pe, pc in zip(me.parameters(), mc.parameters()):
        assert_matches(pc, pe.detach().numpy(), rtol=1e-4, atol=1e-6)


def test_adam_training_step_compiles_and_matches_eager(backend):
    # the bias corrections are tensor ops on the step count (no .item()), so the count is state
    # the graph reads and writes back, and every step runs the one compiled graph
    def make():
        gc.manual_seed(1)
        return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))

    rng = np.random.default_rng(1)
    x = gc.tensor(rng.standard_normal((6, 4)).astype(np.float32))
    y = gc.tensor(rng.integers(0, 3, 6))
    for make_opt in (lambda ps: gc.optim.Adam(ps, lr=0.01),
                     lambda ps: gc.optim.AdamW(ps, lr=0.01, weight_decay=0.1, amsgrad=True)):
        me, mc = make(), make()
        oe, oc = make_opt(me.parameters()), make_opt(mc.parameters())
        eager, compiled = sgd_train_step(me, oe), gc.compile(sgd_train_step(mc, oc), backend=backend)
        for _ in range(4):
            want = eager(x, y)
            assert_matches(compiled(x, y), want.detach().numpy(), rtol=1e-5, atol=1e-6)
        assert len(compiled.traces) == 2          # the first call has no .grad and no state yet
        for pe, pc in zip(me.parameters(), mc.parameters()):
            assert_matches(pc, pe.detach().numpy(), rtol=1e-5, atol=1e-6)
            assert oc.state[pc]["step"].item() == oe.state[pe]["step"].item() == 4
