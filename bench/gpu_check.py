"""Steps per second and peak memory of the toy and the image model, on the CPU and (when CUDA is
there) on the GPU, for a fixed number of generator steps.

    python bench/gpu_check.py                 # 200 toy steps and 100 image steps on each device
    python bench/gpu_check.py --smoke         # a few steps, for CI (CPU only when there is no GPU)

Toy: the 'sharp-wgan-gp' preset's networks (3x160 MLPs, batch 256, 3 critic steps, WGAN-GP).
Images: WGAN-GP on scikit-learn's 8x8 digits with the conv nets (batch 64, 5 critic steps, lambda 10).
Each runs with ``precision='fp32'`` and ``precision='auto'`` (bfloat16 autocast where the device is
fast at it: a CPU with AMX, a CUDA GPU with bf16), side by side, so the ratio is what to quote.
Peak memory: the process's peak resident set on the CPU (it only grows, so read it as an upper
bound), ``torch.cuda.max_memory_allocated`` on the GPU.
"""

from __future__ import annotations

import argparse
import resource
import time
from dataclasses import replace

import torch


def measure(cfg, steps: int) -> tuple[float, float]:
    from wgan_lessons.train import Trainer

    t = Trainer(replace(cfg, steps=10**9), progress=False)
    t.run(2)  # warm-up (kernels, allocator)
    if t.device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    t.run(steps)
    if t.device.type == "cuda":
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() / 2**20
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return steps / (time.perf_counter() - t0), peak


def main(argv=None) -> int:
    from wgan_lessons.presets import get_preset
    from wgan_lessons.train import TrainConfig

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--toy-steps", type=int, default=200)
    p.add_argument("--image-steps", type=int, default=100)
    p.add_argument("--smoke", action="store_true")
    args = p.parse_args(argv)
    if args.smoke:
        args.toy_steps, args.image_steps = 3, 2
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    toy = get_preset("sharp-wgan-gp")
    image = TrainConfig(method="wgan-gp", data="digits", batch_size=64, n_critic=5, log_every=50)
    if args.smoke:
        toy = replace(toy, g_width=16, d_width=16, batch_size=32)
        image = replace(image, batch_size=8, conv_base=4)
    name = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no CUDA device"
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, GPU: {name}")
    print("| model | device | precision | steps/s | peak memory MiB | auto / fp32 |")
    print("|---|---|---|---|---|---|")
    runs = ((f"toy 3x{toy.g_width} MLP", toy, args.toy_steps), ("digits conv", image, args.image_steps))
    for label, cfg, steps in runs:
        for device in devices:
            speeds = {}
            for precision in ("fp32", "auto"):
                speeds[precision], peak = measure(replace(cfg, device=device, precision=precision), steps)
                ratio = f"{speeds['auto'] / speeds['fp32']:.2f}x" if precision == "auto" else ""
                print(f"| {label} | {device} | {precision} | {speeds[precision]:.1f} | {peak:.0f} | {ratio} |",
                      flush=True)
    if len(devices) == 1:
        print("No CUDA device here: the GPU rows are missing. Run this script on a machine with a GPU.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
