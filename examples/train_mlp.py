"""Train a small MLP eagerly on a synthetic 3-class spiral with graphc's training stack.

    python examples/train_mlp.py            # Adam
    python examples/train_mlp.py --sgd      # SGD with Nesterov momentum

Shows Dataset/DataLoader with shuffling, random_split, nn.Sequential, CrossEntropyLoss,
an optimizer with a cosine learning-rate schedule, eval mode, and a gc.save/gc.load checkpoint.
"""
import math
import os
import sys
import tempfile
import time

import numpy as np

import graphc as gc
from graphc import nn
from graphc.utils.data import DataLoader, TensorDataset, random_split


def spiral(points_per_class: int = 100, classes: int = 3, noise: float = 0.15, seed: int = 0):
    """Interleaved spiral arms, one per class: a classic problem no linear model can solve."""
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for c in range(classes):
        r = np.linspace(0.05, 1.0, points_per_class)
        theta = np.linspace(c * 2 * math.pi / classes, c * 2 * math.pi / classes + 3.5, points_per_class)
        theta = theta + rng.normal(scale=noise, size=points_per_class)
        xs.append(np.stack([r * np.sin(theta), r * np.cos(theta)], axis=1))
        ys.append(np.full(points_per_class, c))
    return gc.tensor(np.concatenate(xs), dtype=gc.float32), gc.tensor(np.concatenate(ys))


def accuracy(model: nn.Module, loader: DataLoader) -> float:
    model.eval()
    correct = total = 0
    with gc.no_grad():
        for xb, yb in loader:
            correct += int((model(xb).argmax(dim=1) == yb).sum().item())
            total += len(yb)
    model.train()
    return correct / total


def main(use_sgd: bool = False, epochs: int = 30) -> float:
    gc.manual_seed(0)
    x, y = spiral()
    train_set, val_set = random_split(TensorDataset(x, y), [0.8, 0.2])
    train_loader = DataLoader(train_set, batch_size=32, shuffle=True)
    val_loader = DataLoader(val_set, batch_size=128)

    model = nn.Sequential(
        nn.Linear(2, 64), nn.ReLU(),
        nn.Linear(64, 64), nn.ReLU(),
        nn.Linear(64, 3),
    )
    print(model)
    loss_fn = nn.CrossEntropyLoss()
    if use_sgd:
        opt = gc.optim.SGD(model.parameters(), lr=0.2, momentum=0.9, nesterov=True)
    else:
        opt = gc.optim.Adam(model.parameters(), lr=0.01)
    sched = gc.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs, eta_min=1e-4)

    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        total, count = 0.0, 0
        for xb, yb in train_loader:
            loss = loss_fn(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(yb)
            count += len(yb)
        sched.step()
        if epoch == 1 or epoch % 5 == 0:
            print(f"epoch {epoch:3d}  loss {total / count:.4f}  lr {sched.get_last_lr()[0]:.5f}  "
                  f"val acc {accuracy(model, val_loader):.3f}")
    print(f"trained in {time.perf_counter() - start:.1f}s")

    # checkpoint round trip: a fresh model loaded from the file predicts the same
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "mlp.gcz")
        gc.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": epochs}, path)
        ckpt = gc.load(path)
    restored = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 3))
    restored.load_state_dict(ckpt["model"])
    train_acc = accuracy(restored, DataLoader(train_set, batch_size=256))
    val_acc = accuracy(restored, val_loader)
    print(f"final accuracy: train {train_acc:.3f}  val {val_acc:.3f}  (from checkpoint of epoch {ckpt['epoch']})")
    return val_acc


if __name__ == "__main__":
    main(use_sgd="--sgd" in sys.argv[1:])
