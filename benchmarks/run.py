"""The benchmark table: numpy, graphc eager, graphc interp, graphc llvm and the installed peers.

    python benchmarks/run.py [--repeat 7] [--threads 1] [--quick] [--no-torch-compile]

Workloads (see /work/shared/PERFORMANCE.md for the peers' figures):

* W1  ``sigmoid(a*b + c) * tanh(a) - 0.5*c`` on 2**24 float32; GB/s counts the 268 MB the
  fused kernel must move (three inputs read, one output written);
* W2  row softmax of a 4096x4096 float32 matrix; GB/s counts one read and one write;
* W3  one SGD training step of an MLP 784-512-512-10, batch 256 (eager and interp call numpy's
  BLAS; llvm calls the same gemm from native code; numpy column: the same step written by hand);
* W4  the call overhead of a compiled 100-op elementwise chain on an (8, 8) input, in us;
* W5  a 1024x1024 float32 matmul; the GB/s column holds GFLOP/s (2 n**3 flops) for this row;
* W6  compiling W3's training step with the llvm backend (trace, passes, native code), each
  in a fresh subprocess: cold with an empty ``GRAPHC_CACHE_DIR`` (a new temporary folder),
  warm in a second process on the disk cache the first left; "vs numpy" compares with cold.
  The child imports every module that compiling loads (``graphc.codegen``, ``graphc.static.passes``,
  ``graphc.static.specialize``, and through them llvmlite) before its timer starts: W6 measures
  compiling, not importing the library (with ``PYTHONDONTWRITEBYTECODE=1`` each import
  recompiles its sources, about 0.1 s).

"vs numpy" is numpy's time divided by the row's (above 1: faster than numpy).  All numbers come
from one run of this script, medians of ``--repeat`` timed calls after a warm-up call, so the
ratios compare like with like.  The copy bandwidth is a 64 MB ``np.copyto``, the best of
``--repeat`` copies measured before W1 and again after W2 (the larger of the two): the memory
bandwidth one core reaches here, the ceiling for W1/W2's GB/s.

Peers, measured in the same run when installed (each imported inside ``try``; a missing one has
no rows and is named under the table), after the graphc rows of each workload:

* torch: "torch eager" on W1-W5 (W3: the same MLP with the same initial weights,
  ``F.cross_entropy`` and ``torch.optim.SGD``), on ``torch.set_num_threads(--threads)``;
  "torch.compile" (inductor) on W1 and W2, timed on warm calls only: compiling happens in the
  warm-up call, its seconds are printed under the table (10-25 s here on an empty inductor
  cache, about 6 s on a warm one); ``--no-torch-compile`` leaves it out, and a failure to compile
  (inductor needs a C++ compiler) is one line under the table instead of the rows;
* jax: "jax.jit" on W1, W2 and W5, waiting on ``block_until_ready``; XLA's CPU thread pool
  takes every core whatever ``--threads`` says (jax 0.10 offers no setting that changes it);
* numexpr: W1 as one ``numexpr.evaluate`` on ``numexpr.set_num_threads(--threads)``.

Environment: this process removes ``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE`` from its own
environment before numpy loads (they make OpenBLAS pick a slower kernel; the test suite keeps
them), and pins BLAS to ``--threads`` threads (default 1).  Large native kernels split their
outer loop over ``GRAPHC_THREADS`` threads (default: every core), and with a one-thread BLAS
large GEMMs run as row ranges on those threads too; W1, W2, W3 and W5 also show "graphc llvm
1T", the same plan compiled with ``GRAPHC_THREADS=1`` (every kernel and GEMM on one thread, like
the numpy and eager rows), measured in the same run (two vCPUs are not always two physical
cores, so the threaded figures swing between runs).
"""
from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import subprocess
import sys
import tempfile
import time


def _configure_env(threads: int) -> None:
    # must happen before numpy (and its OpenBLAS) is imported
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        os.environ.pop(var, None)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)


def _args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7, help="timed calls per row (median)")
    ap.add_argument("--threads", type=int, default=1, help="threads for BLAS, torch and numexpr")
    ap.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run, not for reporting)")
    ap.add_argument("--no-torch-compile", action="store_true", help="leave out the torch.compile rows")
    return ap.parse_args()


ARGS = _args() if __name__ == "__main__" else None
if ARGS is not None:
    _configure_env(ARGS.threads)

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import graphc as gc  # noqa: E402

F = gc.nn.functional


def median_s(fn, repeat: int, inner: int = 1) -> float:
    """Median seconds of one call of ``fn`` (``inner`` calls per timing, for tiny calls)."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        times.append((time.perf_counter() - t0) / inner)
    return float(np.median(times))


@contextlib.contextmanager
def _kernel_threads(n: int):
    """Plans compiled inside run their native kernels on ``n`` threads (GRAPHC_THREADS)."""
    old = os.environ.get("GRAPHC_THREADS")
    os.environ["GRAPHC_THREADS"] = str(n)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("GRAPHC_THREADS")
        else:
            os.environ["GRAPHC_THREADS"] = old


# ----------------------------------------------------------------------------- peers
class Peers:
    """The peer libraries that are installed, and the lines the table prints about them."""

    def __init__(self, threads: int, torch_compile: bool) -> None:
        self.missing: list[str] = []  # peers not installed: named under the table
        self.notes: list[str] = []  # why torch.compile rows are missing, if they are
        self.compile_s: dict[str, float] = {}  # torch.compile's warm-up (compiling) seconds by workload
        self.torch = self._load("torch")
        if self.torch is not None:
            self.torch.set_num_threads(threads)  # as many as BLAS gets, so the rows compare
        self.jax = self._load("jax")
        self.jnp = self._load("jax.numpy") if self.jax is not None else None
        if self.jnp is None:
            self.jax = None
        self.numexpr = self._load("numexpr")
        if self.numexpr is not None:
            self.numexpr.set_num_threads(threads)
        self.torch_compile = torch_compile and self.torch is not None

    def _load(self, name: str):
        try:
            return importlib.import_module(name)
        except ImportError:
            self.missing.append(name.split(".")[0])
            return None

    def describe(self, threads: int) -> str:
        """One line: the peers that will have rows, with versions and threads."""
        parts = []
        if self.torch is not None:
            parts.append(f"torch {self.torch.__version__} (threads {threads}"
                         f"{', torch.compile' if self.torch_compile else ''})")
        if self.jax is not None:
            parts.append(f"jax {self.jax.__version__} (XLA's own pool: every core)")
        if self.numexpr is not None:
            parts.append(f"numexpr {self.numexpr.__version__} (threads {threads})")
        return "peers: " + ("; ".join(parts) if parts else "none installed")

    def torch_compiled(self, fn, args: tuple, workload: str):
        """``torch.compile(fn)`` after its first call on ``args`` (which compiles it); None if that fails."""
        if not self.torch_compile:
            return None
        t0 = time.perf_counter()
        try:
            compiled = self.torch.compile(fn)
            compiled(*args)
        except Exception as exc:  # inductor needs a working C++ toolchain: any failure drops the rows
            self.torch_compile = False
            why = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
            self.notes.append(f"torch.compile rows left out: {type(exc).__name__}: {why}")
            return None
        self.compile_s[workload] = time.perf_counter() - t0
        return compiled


def peer_rows_w1(peers: Peers, a: np.ndarray, b: np.ndarray, c: np.ndarray, repeat: int) -> list:
    """W1 rows of torch eager, torch.compile, jax.jit and numexpr (those installed)."""
    rows = []
    if peers.torch is not None:
        torch = peers.torch

        def torch_w1(x, y, z):
            return torch.sigmoid(x * y + z) * torch.tanh(x) - 0.5 * z

        xa, xb, xc = (torch.from_numpy(v) for v in (a, b, c))
        rows.append(("torch eager", median_s(lambda: torch_w1(xa, xb, xc), repeat)))
        compiled = peers.torch_compiled(torch_w1, (xa, xb, xc), "W1")
        if compiled is not None:
            rows.append(("torch.compile", median_s(lambda: compiled(xa, xb, xc), repeat)))
    if peers.jax is not None:
        jax, jnp = peers.jax, peers.jnp
        ja, jb, jc = (jnp.asarray(v) for v in (a, b, c))
        jitted = jax.jit(lambda x, y, z: jax.nn.sigmoid(x * y + z) * jnp.tanh(x) - 0.5 * z)
        rows.append(("jax.jit", median_s(lambda: jitted(ja, jb, jc).block_until_ready(), repeat)))
    if peers.numexpr is not None:
        # a literal 0.5 is a float64 constant to numexpr and would make the whole result float64
        names = dict(a=a, b=b, c=c, half=np.float32(0.5))
        expr = "1 / (1 + exp(-(a * b + c))) * tanh(a) - half * c"
        rows.append(("numexpr", median_s(lambda: peers.numexpr.evaluate(expr, local_dict=names), repeat)))
    return rows


def peer_rows_w2(peers: Peers, x: np.ndarray, repeat: int) -> list:
    """W2 rows of torch eager, torch.compile and jax.jit (those installed)."""
    rows = []
    if peers.torch is not None:
        torch = peers.torch

        def torch_softmax(t):
            return torch.softmax(t, dim=-1)

        tx = torch.from_numpy(x)
        rows.append(("torch eager", median_s(lambda: torch_softmax(tx), repeat)))
        compiled = peers.torch_compiled(torch_softmax, (tx,), "W2")
        if compiled is not None:
            rows.append(("torch.compile", median_s(lambda: compiled(tx), repeat)))
    if peers.jax is not None:
        jax = peers.jax
        jx = peers.jnp.asarray(x)
        jitted = jax.jit(lambda t: jax.nn.softmax(t, axis=-1))
        rows.append(("jax.jit", median_s(lambda: jitted(jx).block_until_ready(), repeat)))
    return rows


def peer_rows_w3(peers: Peers, weights: list, x: np.ndarray, y: np.ndarray, lr: float, repeat: int) -> list:
    """W3 row of torch eager: the same MLP from the same initial ``weights`` (Linear order: weight, bias)."""
    if peers.torch is None:
        return []
    torch = peers.torch
    nn = torch.nn
    sizes = [w.shape[1] for w in weights[::2]] + [weights[-1].shape[0]]
    layers = []
    for i in range(len(sizes) - 1):
        layers += [nn.Linear(sizes[i], sizes[i + 1]), nn.ReLU()]
    model = nn.Sequential(*layers[:-1])
    with torch.no_grad():
        for param, w in zip(model.parameters(), weights):
            param.copy_(torch.from_numpy(w))
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)

    def step():
        loss = nn.functional.cross_entropy(model(tx), ty)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return [("torch eager", median_s(step, repeat))]


def peer_rows_w4(peers: Peers, x: np.ndarray, chain, repeat: int) -> list:
    """W4 row of torch eager: the same Python chain on a torch tensor (100 dispatched ops)."""
    if peers.torch is None:
        return []
    tx = peers.torch.from_numpy(x)
    return [("torch eager", median_s(lambda: chain(tx), repeat, inner=50))]


def peer_rows_w5(peers: Peers, a: np.ndarray, b: np.ndarray, repeat: int) -> list:
    """W5 rows of torch eager and jax.jit (those installed)."""
    rows = []
    if peers.torch is not None:
        ta, tb = peers.torch.from_numpy(a), peers.torch.from_numpy(b)
        rows.append(("torch eager", median_s(lambda: ta @ tb, repeat)))
    if peers.jax is not None:
        ja, jb = peers.jnp.asarray(a), peers.jnp.asarray(b)
        jitted = peers.jax.jit(lambda x, y: x @ y)
        rows.append(("jax.jit", median_s(lambda: jitted(ja, jb).block_until_ready(), repeat)))
    return rows


def one_thread(f, *args):
    """``f`` (a gc.compile'd function) traced and compiled now for ``args`` with GRAPHC_THREADS=1:
    its plan runs every kernel, GEMMs included, on the calling thread (compiling is lazy, so the
    setting must hold during the first call)."""
    with _kernel_threads(1):
        f(*args)
        f(*args)   # a training step traces again once .grad exists
    return f


# ----------------------------------------------------------------------------- workloads
def w1(n: int, repeat: int, peers: Peers) -> list:
    rng = np.random.default_rng(0)
    a, b, c = (rng.standard_normal(n).astype(np.float32) for _ in range(3))

    def numpy_w1():
        return 1.0 / (1.0 + np.exp(-(a * b + c))) * np.tanh(a) - np.float32(0.5) * c

    def graph(x, y, z):
        return gc.sigmoid(x * y + z) * gc.tanh(x) - 0.5 * z

    ta, tb, tc = gc.tensor(a), gc.tensor(b), gc.tensor(c)
    rows = [("numpy", median_s(numpy_w1, repeat)),
            ("graphc eager", median_s(lambda: graph(ta, tb, tc), repeat))]
    for backend in ("interp", "llvm"):
        f = gc.compile(graph, backend=backend)
        rows.append((f"graphc {backend}", median_s(lambda: f(ta, tb, tc), repeat)))
    f = one_thread(gc.compile(graph, backend="llvm"), ta, tb, tc)
    rows.append(("graphc llvm 1T", median_s(lambda: f(ta, tb, tc), repeat)))
    return rows + peer_rows_w1(peers, a, b, c, repeat)


def w2(rows_cols: tuple, repeat: int, peers: Peers) -> list:
    x = np.random.default_rng(1).standard_normal(rows_cols).astype(np.float32)

    def numpy_softmax():
        e = np.exp(x - x.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    tx = gc.tensor(x)
    rows = [("numpy", median_s(numpy_softmax, repeat)),
            ("graphc eager", median_s(lambda: F.softmax(tx, dim=-1), repeat))]
    for backend in ("interp", "llvm"):
        f = gc.compile(lambda t: F.softmax(t, dim=-1), backend=backend)
        rows.append((f"graphc {backend}", median_s(lambda: f(tx), repeat)))
    f = one_thread(gc.compile(lambda t: F.softmax(t, dim=-1), backend="llvm"), tx)
    rows.append(("graphc llvm 1T", median_s(lambda: f(tx), repeat)))
    return rows + peer_rows_w2(peers, x, repeat)


def w3(batch: int, repeat: int, peers: Peers) -> list:
    sizes = (784, 512, 512, 10)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    y = rng.integers(0, sizes[-1], batch)
    lr = np.float32(0.01)

    def make_model():
        gc.manual_seed(0)
        return gc.nn.Sequential(gc.nn.Linear(sizes[0], sizes[1]), gc.nn.ReLU(), gc.nn.Linear(sizes[1], sizes[2]),
                                gc.nn.ReLU(), gc.nn.Linear(sizes[2], sizes[3]))

    # numpy by hand: the same step (forward, cross-entropy, backward, SGD)
    ws = [p.detach().numpy().copy() for p in make_model().parameters()]
    initial = [w.copy() for w in ws]  # numpy_step updates ws in place
    onehot = np.eye(sizes[-1], dtype=np.float32)[y]

    def numpy_step():
        w1_, b1, w2_, b2, w3_, b3 = ws
        h1 = np.maximum(x @ w1_.T + b1, 0)
        h2 = np.maximum(h1 @ w2_.T + b2, 0)
        z = h2 @ w3_.T + b3
        e = np.exp(z - z.max(1, keepdims=True))
        p = e / e.sum(1, keepdims=True)
        g3 = (p - onehot) / batch
        g2 = (g3 @ w3_) * (h2 > 0)
        g1 = (g2 @ w2_) * (h1 > 0)
        for w, gw in ((w3_, g3.T @ h2), (b3, g3.sum(0)), (w2_, g2.T @ h1), (b2, g2.sum(0)),
                      (w1_, g1.T @ x), (b1, g1.sum(0))):
            w -= lr * gw

    def step_fn(model, opt):
        def step(xb, yb):
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss
        return step

    tx, ty = gc.tensor(x), gc.tensor(y)
    rows = [("numpy", median_s(numpy_step, repeat))]
    model = make_model()
    eager = step_fn(model, gc.optim.SGD(model.parameters(), lr=float(lr)))
    rows.append(("graphc eager", median_s(lambda: eager(tx, ty), repeat)))
    for backend in ("interp", "llvm"):
        model = make_model()
        f = gc.compile(step_fn(model, gc.optim.SGD(model.parameters(), lr=float(lr))), backend=backend)
        rows.append((f"graphc {backend}", median_s(lambda: f(tx, ty), repeat)))
    model = make_model()
    f = one_thread(gc.compile(step_fn(model, gc.optim.SGD(model.parameters(), lr=float(lr)))), tx, ty)
    rows.append(("graphc llvm 1T", median_s(lambda: f(tx, ty), repeat)))
    return rows + peer_rows_w3(peers, initial, x, y, float(lr), repeat)


def w4(repeat: int, peers: Peers) -> list:
    x = np.random.default_rng(3).standard_normal((8, 8)).astype(np.float32)

    def chain(t):
        for _ in range(50):  # 100 ops
            t = t * 1.0001 + 0.5
        return t

    def numpy_chain():
        t = x
        for _ in range(50):
            t = t * np.float32(1.0001) + np.float32(0.5)
        return t

    tx = gc.tensor(x)
    rows = [("numpy", median_s(numpy_chain, repeat, inner=200)),
            ("graphc eager", median_s(lambda: chain(tx), repeat, inner=50))]
    for backend in ("interp", "llvm"):
        f = gc.compile(chain, backend=backend)
        rows.append((f"graphc {backend}", median_s(lambda: f(tx), repeat, inner=50 if backend == "interp" else 2000)))
    return rows + peer_rows_w4(peers, x, chain, repeat)


def w5(n: int, repeat: int, peers: Peers) -> list:
    rng = np.random.default_rng(4)
    a, b = (rng.standard_normal((n, n)).astype(np.float32) for _ in range(2))
    ta, tb = gc.tensor(a), gc.tensor(b)
    f = gc.compile(lambda x, y: x @ y, backend="llvm")
    f1 = one_thread(gc.compile(lambda x, y: x @ y, backend="llvm"), ta, tb)
    return [("numpy", median_s(lambda: a @ b, repeat)),
            ("graphc eager", median_s(lambda: ta @ tb, repeat)),
            ("graphc llvm", median_s(lambda: f(ta, tb), repeat)),
            ("graphc llvm 1T", median_s(lambda: f1(ta, tb), repeat))] + peer_rows_w5(peers, a, b, repeat)


# run in a fresh interpreter: nothing compiled earlier in this process can help it
_W6_CHILD = r"""
import os, sys, time
sys.path.insert(0, sys.argv[1])
import numpy as np
import graphc as gc
# what compiling imports on first use, loaded before the timer: W6 times compiling, not importing
import graphc.codegen, graphc.static.passes, graphc.static.specialize
F = gc.nn.functional
batch = int(sys.argv[2])
rng = np.random.default_rng(2)
x = gc.tensor(rng.standard_normal((batch, 784)).astype(np.float32))
y = gc.tensor(rng.integers(0, 10, batch))
gc.manual_seed(0)
model = gc.nn.Sequential(gc.nn.Linear(784, 512), gc.nn.ReLU(), gc.nn.Linear(512, 512), gc.nn.ReLU(),
                         gc.nn.Linear(512, 10))
opt = gc.optim.SGD(model.parameters(), lr=0.01)

def step(xb, yb):
    loss = F.cross_entropy(model(xb), yb)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss

f = gc.compile(step, backend="llvm")
t0 = time.perf_counter()
f.trace_for(x, y)
print(time.perf_counter() - t0)
"""


def w6(batch: int, repeat: int) -> list:
    """Cold and warm compile seconds of W3's step (medians over ``repeat`` fresh cache folders)."""
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    cold, warm = [], []
    for _ in range(max(1, min(repeat, 3))):  # each sample costs two interpreters
        with tempfile.TemporaryDirectory(prefix="graphc-w6-") as cache_dir:
            env = dict(os.environ, GRAPHC_CACHE_DIR=cache_dir)
            for out in (cold, warm):
                res = subprocess.run([sys.executable, "-c", _W6_CHILD, root, str(batch)], env=env,
                                     capture_output=True, text=True, check=True)
                out.append(float(res.stdout.split()[-1]))
    return [("compile cold", float(np.median(cold))), ("compile warm", float(np.median(warm)))]


def copy_bandwidth(nbytes: int, repeat: int) -> float:
    """GB/s of a large np.copyto (bytes read + bytes written), the best of ``repeat`` copies: the
    ceiling the memory reaches here (a shared machine's neighbours only ever lower a sample)."""
    src = np.ones(nbytes // 4, np.float32)
    dst = np.empty_like(src)
    np.copyto(dst, src)
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        np.copyto(dst, src)
        best = min(best, time.perf_counter() - t0)
    return 2 * nbytes / best / 1e9


# ----------------------------------------------------------------------------- the table
def main() -> None:
    args = ARGS or _args()
    repeat = args.repeat
    n1 = 1 << (20 if args.quick else 24)
    n2 = (512, 512) if args.quick else (4096, 4096)
    batch = 32 if args.quick else 256
    n5 = 256 if args.quick else 1024
    from graphc.codegen import jit

    host = jit.host_target()
    peers = Peers(args.threads, torch_compile=not args.no_torch_compile)
    copy_bytes = 64 << 20 if not args.quick else 4 << 20
    bw_before = copy_bandwidth(copy_bytes, repeat)
    print(f"graphc benchmarks: cpu {host.cpu}, {os.cpu_count()} logical cpus, BLAS threads {args.threads}, "
          f"median of {repeat}; OPENBLAS_CORETYPE/L2_SIZE unset in this process")
    print(peers.describe(args.threads))
    rows1, rows2 = w1(n1, repeat, peers), w2(n2, repeat, peers)
    bw_after = copy_bandwidth(copy_bytes, repeat)
    bw = max(bw_before, bw_after)
    print(f"large-array copy bandwidth: {bw:.1f} GB/s (read + write; best copy before W1 {bw_before:.1f}, "
          f"after W2 {bw_after:.1f})\n")
    table = [
        (f"W1 sigmoid(a*b+c)*tanh(a)-0.5*c, {n1} f32", rows1, 16 * n1, "ms"),
        (f"W2 row softmax {n2[0]}x{n2[1]} f32", rows2, 8 * n2[0] * n2[1], "ms"),
        (f"W3 MLP 784-512-512-10 SGD step, batch {batch}", w3(batch, repeat, peers), None, "ms"),
        ("W4 call, 100-op chain on (8, 8)", w4(repeat, peers), None, "us"),
        (f"W5 matmul {n5}x{n5} f32 (GFLOP/s)", w5(n5, repeat, peers), 2 * n5 ** 3, "ms"),
        (f"W6 compile W3 step (llvm), batch {batch}", w6(batch, repeat), None, "ms"),
    ]
    width = max(len(name) for name, *_ in table)
    head = f"{'workload':<{width}} {'implementation':<14} {'time':>10} {'GB/s':>7} {'% copy bw':>9} {'vs numpy':>9}"
    print(head)
    print("-" * len(head))
    for name, rows, traffic, unit in table:
        base = rows[0][1]
        for i, (impl, sec) in enumerate(rows):
            t = sec * (1e3 if unit == "ms" else 1e6)
            gbs = f"{traffic / sec / 1e9:7.1f}" if traffic else f"{'':>7}"
            pct = f"{100 * traffic / sec / 1e9 / bw:8.0f}%" if traffic and not name.startswith("W5") else f"{'':>9}"
            print(f"{name if i == 0 else '':<{width}} {impl:<14} {t:>7.2f} {unit} {gbs} {pct} {base / sec:>8.2f}x")
    print("\nGB/s: the workload's minimal traffic (W1 3 reads + 1 write, W2 1 read + 1 write) over the time; "
          "W5's column is GFLOP/s (2 n**3 flops over the time); W6's ratio is cold over warm.")
    if peers.compile_s:
        print("torch.compile: " + ", ".join(f"{w} compiled in {s:.1f} s" for w, s in peers.compile_s.items())
              + " (the warm-up call, not timed; inductor's disk cache makes later runs faster)")
    for note in peers.notes:
        print(note)
    if peers.missing:
        print(f"peers not installed (no rows): {', '.join(peers.missing)}")

if __name__ == "__main__":
    main()
