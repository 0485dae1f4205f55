"""Per-step throughput: the package's WGAN-GP generator step against a plain loop, side by side.

    python bench/step_throughput.py                 # the toy reference config: 3x512 MLPs, batch 256, n_critic 5
    python bench/step_throughput.py --width 256     # the package's default width
    python bench/step_throughput.py --smoke         # seconds, for CI

The plain loop is Algorithm 1 of Gulrajani et al. (2017) as a textbook writes it: per critic step
a fresh real batch, a generator forward for the fakes, and separate critic passes for the real,
the fake and the interpolated points; then a generator step. It is written here, not imported,
so that it stays the fixed reference. Both run in this one process, alternately (A B A B ...),
on the same number of threads; the ratio of their median seconds per generator step is what to
quote. ``--precision`` sets the package's ``TrainConfig.precision`` (default ``auto``: bfloat16
autocast where the CPU has AMX; float32 elsewhere); run it with
``--precision fp32`` for the float32-to-float32 comparison. The matmul FLOPs of one step are counted at the dispatcher (``count_flops``) and compared with a
large matmul measured in the same run: the achieved fraction of the machine's matmul throughput. The
same matmul through oneDNN is printed beside it: on AMD CPUs it shows float32 headroom that torch's
default BLAS leaves (README, Performance).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn


def mlp(i, o, width, depth=3):
    layers, d = [], i
    for _ in range(depth):
        layers += [nn.Linear(d, width), nn.ReLU()]
        d = width
    return nn.Sequential(*layers, nn.Linear(d, o))


class PlainLoop:
    """Algorithm 1 of the WGAN-GP paper, written the textbook way."""

    def __init__(self, width, batch, n_critic, lambda_gp=0.1, seed=0):
        from wgan_lessons.data import ring8

        torch.manual_seed(seed)
        self.G, self.D = mlp(2, 2, width), mlp(2, 1, width)
        self.opt_g = torch.optim.Adam(self.G.parameters(), 1e-4, betas=(0.5, 0.9))
        self.opt_d = torch.optim.Adam(self.D.parameters(), 1e-4, betas=(0.5, 0.9))
        self.dist, self.batch, self.n_critic, self.lam = ring8(), batch, n_critic, lambda_gp

    def step(self):
        B = self.batch
        for _ in range(self.n_critic):
            real = self.dist.sample(B)
            fake = self.G(torch.randn(B, 2)).detach()
            eps = torch.rand(B, 1)
            x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
            d_real, d_fake, d_hat = self.D(real).mean(), self.D(fake).mean(), self.D(x_hat)
            (grad,) = torch.autograd.grad(d_hat.sum(), x_hat, create_graph=True)
            gp = self.lam * ((grad.norm(2, dim=1) - 1) ** 2).mean()
            loss_d = d_fake - d_real + gp
            self.opt_d.zero_grad()
            loss_d.backward()
            self.opt_d.step()
        loss_g = -self.D(self.G(torch.randn(B, 2))).mean()
        self.opt_g.zero_grad()
        loss_g.backward()
        self.opt_g.step()


def matmul_gflops(n=2048, repeat=5, backend: str = "default") -> float | None:
    """GFLOP/s of an n x n float32 product, the best of ``repeat``. ``backend="default"`` is ``a @ b``,
    torch's default CPU BLAS (MKL in the x86 wheels); ``"onednn"`` the same product through oneDNN
    (``torch.ops.mkldnn._linear_pointwise``, a private op: None where this torch lacks it). On AMD CPUs
    MKL's float32 GEMM can stay far below the core's peak while oneDNN reaches it, so the two side by side
    show the float32 headroom torch's default leaves. (oneDNN sums in a different order: training through
    it would change every number the lessons quote.)"""
    a, b = torch.randn(n, n), torch.randn(n, n)  # contiguous: the oneDNN op mishandles a strided weight
    if backend == "default":
        def product():
            return a @ b
    elif backend == "onednn":
        op = getattr(torch.ops.mkldnn, "_linear_pointwise", None)

        def product():
            return op(a, b, None, "none", [], "")  # a @ b^T: the same FLOPs
        try:
            product()
        except (AttributeError, RuntimeError, TypeError):
            return None
    else:
        raise ValueError(f"backend must be 'default' or 'onednn', not {backend!r}")
    product()
    best = min(_timed(product) for _ in range(repeat))
    return 2 * n**3 / best / 1e9


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def count_flops(fn) -> float:
    """Matrix-multiply FLOPs of ``fn()`` (forward, backward and double backward), counted at the
    dispatcher: 2 * m * k * n for every mm / addmm / bmm. (torch's FlopCounterMode cannot follow
    autograd.grad with create_graph through its module hooks.)"""
    from torch.utils._python_dispatch import TorchDispatchMode

    aten = torch.ops.aten
    total = [0.0]

    class Count(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            if func in (aten.mm.default, aten.addmm.default):
                a, b = args[-2], args[-1]
                total[0] += 2.0 * a.shape[0] * a.shape[1] * b.shape[1]
            elif func == aten.bmm.default:
                a, b = args
                total[0] += 2.0 * a.shape[0] * a.shape[1] * a.shape[2] * b.shape[2]
            return out

    with Count():
        fn()
    return total[0]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--width", type=int, default=512)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--n-critic", type=int, default=5)
    p.add_argument("--rounds", type=int, default=7, help="A B pairs measured")
    p.add_argument("--steps", type=int, default=8, help="generator steps per measurement")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    p.add_argument("--precision", default="auto", choices=("fp32", "bf16", "auto"),
                   help="the package's TrainConfig.precision (the plain loop is always float32); default auto")
    p.add_argument("--smoke", action="store_true", help="tiny sizes, for CI")
    args = p.parse_args(argv)
    if args.smoke:
        args.width, args.batch, args.rounds, args.steps = 32, 32, 2, 2
    if args.threads:
        torch.set_num_threads(args.threads)

    from wgan_lessons.train import TrainConfig, Trainer

    cfg = TrainConfig(method="wgan-gp", data="ring8", batch_size=args.batch, n_critic=args.n_critic,
                      g_width=args.width, d_width=args.width, device="cpu", steps=10**9, log_every=10,
                      precision=args.precision)
    package = Trainer(cfg, progress=False)
    plain = PlainLoop(args.width, args.batch, args.n_critic)
    package.run(1), plain.step()  # warm-up

    times = {"package": [], "plain": []}
    for _ in range(args.rounds):
        times["package"].append(_timed(lambda: package.run(args.steps)) / args.steps)
        times["plain"].append(_timed(lambda: [plain.step() for _ in range(args.steps)]) / args.steps)
    ratios = [b / a for a, b in zip(times["package"], times["plain"])]
    flops = count_flops(lambda: plain.step())
    n = 512 if args.smoke else 2048
    peak = matmul_gflops(n)
    onednn = matmul_gflops(n, backend="onednn")
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"config: 3x{args.width} MLPs, batch {args.batch}, n_critic {args.n_critic}, "
          f"{torch.get_num_threads()} torch threads, torch {torch.__version__}; package precision "
          f"{args.precision} -> {package.amp_dtype or 'float32'}, plain loop float32")
    for k in ("plain", "package"):
        achieved = flops / med[k] / 1e9
        print(f"{k:8s}: {1e3 * med[k]:7.1f} ms per generator step (median of {args.rounds}), "
              f"{1 / med[k]:5.2f} steps/s, {achieved:6.1f} GFLOP/s = {100 * achieved / peak:4.1f}% of the float32 matmul peak")
    print(f"speed-up package / plain: median {statistics.median(ratios):.2f}x "
          f"(min {min(ratios):.2f}, max {max(ratios):.2f}); one step = {flops / 1e9:.2f} GFLOP; "
          f"float32 matmul peak ({n}^3) measured in this run: {peak:.0f} GFLOP/s")
    if onednn is not None:
        print(f"the same float32 matmul through oneDNN: {onednn:.0f} GFLOP/s = {onednn / peak:.2f}x torch's default "
              f"({torch.get_num_threads()} threads)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
