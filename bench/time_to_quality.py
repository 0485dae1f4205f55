"""Time to quality: wall seconds of training until WGAN-GP covers every mode with a high share of
high-quality samples, tracked over training, on several seeds.

    python bench/time_to_quality.py                       # ring8: 'sharp-wgan-gp' vs the old settings, 3 seeds
    python bench/time_to_quality.py --data grid25 --preset stable-wgan-gp --set steps=6000
                                     # grid25 (25/25 modes, >= 93.6% HQ, 180 s): the 3x256 networks
    python bench/time_to_quality.py --only preset --set lr_g=1e-3 --set batch_size=512   # try a variant
    python bench/time_to_quality.py --smoke               # seconds, for CI

Every ``--every`` generator steps the run is paused, 2500 samples are scored (VEEGAN / PacGAN
definitions: modes covered, high-quality share), and the clock resumes: evaluation time is not
training time. A run "reaches the target" at the first evaluation with all modes and at least the
target HQ share. Both configurations run in this one process, seed by seed, alternately, on the
same threads: the ratio of their times is what to quote. Targets (issue 10): ring8 8/8 modes and
>= 95% HQ within 60 s; grid25 25/25 and >= 93.6% within 180 s (median of 3 seeds).
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace

TARGETS = {"ring8": (0.95, 60.0), "grid25": (0.936, 180.0)}

#: The settings of the 'stable-wgan-gp' preset before issue 10, the comparison.
OLD = dict(method="wgan-gp", steps=1500, batch_size=256, n_critic=5, lr_g=5e-4, lr_d=5e-4, betas=(0.5, 0.9),
           g_width=128, d_width=128, g_depth=3, d_depth=3, z_dim=2, log_every=10, lambda_gp=0.1)


def _parse_value(text: str):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    if "," in text:
        return tuple(float(v) for v in text.split(","))
    return text


def track(cfg, every: int, hq_target: float, max_seconds: float, progress: bool = True) -> dict:
    """Train ``cfg`` and score it every ``every`` steps; stop at the target or after ``max_seconds``."""
    from wgan_lessons.metrics import mode_coverage
    from wgan_lessons.train import Trainer

    t = Trainer(cfg, progress=False)
    k = len(t.dist.centers)
    curve, reached, clock = [], None, 0.0
    while not t.done and clock < max_seconds:
        a = time.perf_counter()
        t.run(min(every, t.config.steps - t.step))
        clock += time.perf_counter() - a
        m = mode_coverage(t.sample(2500), t.dist.centers, t.dist.std)
        curve.append((t.step, round(clock, 1), m["modes"], round(m["hq_fraction"], 3)))
        if progress:
            print(f"    step {t.step:5d}  {clock:6.1f} s  modes {m['modes']:2d}/{k}  HQ {100 * m['hq_fraction']:5.1f}%",
                  flush=True)
        if reached is None and m["modes"] == k and m["hq_fraction"] >= hq_target:
            reached = clock
            break
    best = max(curve, key=lambda r: (r[2], r[3]))
    return {"seconds": reached, "curve": curve, "best": best, "steps_per_s": t.step / max(clock, 1e-9)}


def main(argv=None) -> int:
    from wgan_lessons.presets import get_preset
    from wgan_lessons.train import TrainConfig

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="ring8", choices=sorted(TARGETS))
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--every", type=int, default=125, help="generator steps between two evaluations")
    p.add_argument("--preset", default="sharp-wgan-gp", help="the course preset to time (default sharp-wgan-gp)")
    p.add_argument("--only", choices=("preset", "old"), default=None, help="run one of the two")
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                   help="change a field of the preset's config (repeatable)")
    p.add_argument("--max-seconds", type=float, default=None, help="give up after this much training")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--smoke", action="store_true")
    args = p.parse_args(argv)
    hq_target, budget = TARGETS[args.data]
    max_seconds = args.max_seconds or 1.5 * budget
    changes = dict(kv.split("=", 1) for kv in args.set)
    preset = replace(get_preset(args.preset), data=args.data, device="cpu",
                     **{k: _parse_value(v) for k, v in changes.items()})
    old = TrainConfig(data=args.data, device="cpu", **OLD)
    if args.data == "grid25":  # more modes: more steps for the old settings too
        old = replace(old, steps=4000)
    if args.smoke:
        preset = replace(preset, steps=20, g_width=16, d_width=16, batch_size=32)
        old = replace(old, steps=20, g_width=16, d_width=16, batch_size=32)
        args.every, args.seeds, max_seconds = 10, [0], 30.0
    runs = {"preset": preset, "old": old}
    if args.only:
        runs = {args.only: runs[args.only]}
    results = {name: [] for name in runs}
    for seed in args.seeds:
        for name, cfg in runs.items():
            if not args.quiet:
                print(f"{name} seed {seed}:", flush=True)
            results[name].append(track(replace(cfg, seed=seed), args.every, hq_target, max_seconds, not args.quiet))

    print(f"\n{args.data}: target all modes and >= {100 * hq_target:.1f}% HQ within {budget:.0f} s of training "
          f"(median of {len(args.seeds)} seeds)")
    print("| settings | seconds to target per seed | median | best (step, s, modes, HQ) per seed | steps/s |")
    print("|---|---|---|---|---|")
    medians = {}
    for name, rows in results.items():
        secs = [r["seconds"] for r in rows]
        finite = [s if s is not None else float("inf") for s in secs]
        medians[name] = statistics.median(finite)
        shown = ", ".join("not reached" if s is None else f"{s:.0f}" for s in secs)
        print(f"| {name} | {shown} | {medians[name]:.0f} | {'; '.join(str(r['best']) for r in rows)} | "
              f"{statistics.median(r['steps_per_s'] for r in rows):.1f} |")
    if "preset" in medians:
        print(f"target {'met' if medians['preset'] <= budget else 'NOT met'} by the preset "
              f"(median {medians['preset']:.0f} s vs {budget:.0f} s)")
    if len(medians) == 2 and all(v < float("inf") for v in medians.values()):
        print(f"ratio old / preset: {medians['old'] / medians['preset']:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
