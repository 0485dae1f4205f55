"""Measure the claims attached to the training lab's presets over several seeds.

    python scripts/preset_claims.py                  # 5 seeds, both presets, prints a table
    python scripts/preset_claims.py --seeds 0 1 2 --json out.json

Claims (lesson 01): the 'mode-collapse' preset covers at most half of ring8's 8 modes in at
least 4 of 5 seeds; the 'stable-wgan-gp' preset covers all 8 in at least 4 of 5 seeds.
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from wgan_lessons.presets import get_preset
from wgan_lessons.train import Trainer


def measure(preset: str, seeds, n: int = 2500) -> list[dict]:
    rows = []
    for seed in seeds:
        t0 = time.perf_counter()
        tr = Trainer(get_preset(preset, seed=seed, device="cpu"), progress=False)
        tr.run()
        m = tr.evaluate(n)
        rows.append({"preset": preset, "seed": seed, "modes": m["modes"], "hq_fraction": m["hq_fraction"],
                     "reverse_kl": m["reverse_kl"], "w1": m["w1"], "seconds": time.perf_counter() - t0})
    return rows


def table(rows: list[dict]) -> str:
    lines = ["| preset | seed | modes | HQ % | reverse KL | exact W1 | seconds |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['preset']} | {r['seed']} | {r['modes']} | {100 * r['hq_fraction']:.1f} | "
                     f"{r['reverse_kl']:.3f} | {r['w1']:.3f} | {r['seconds']:.1f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--presets", nargs="+", default=["mode-collapse", "stable-wgan-gp"])
    p.add_argument("--json", default=None, help="also write the rows to this file")
    args = p.parse_args(argv)
    torch.set_num_threads(min(2, torch.get_num_threads()))
    rows = [r for name in args.presets for r in measure(name, args.seeds)]
    print(table(rows))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
