"""Measure the claims attached to the training lab's presets over several seeds.

    python scripts/preset_claims.py                  # 5 seeds, both presets, prints a table
    python scripts/preset_claims.py --seeds 0 1 2 --json out.json

Claims (lesson 01, section 7): the 'mode-collapse' preset never covers more than 4 of ring8's 8
modes, and collapses (<= 4 modes, >= 50% high-quality samples, at least one hop) in at least 2 of 5
seeds; the 'stable-wgan-gp' preset covers all 8 in at least 4 of 5 seeds.
"""

from __future__ import annotations

import argparse

import torch

from wgan_lessons.jsonio import write_json

from wgan_lessons.presets import claims_table, measure_presets


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--presets", nargs="+", default=["mode-collapse", "stable-wgan-gp"])
    p.add_argument("--json", default=None, help="also write the rows to this file (strict JSON: inf/NaN as null)")
    args = p.parse_args(argv)
    from wgan_lessons.presets import PRESETS

    unknown = [name for name in args.presets if name not in PRESETS]
    if unknown:  # before any training
        p.error(f"unknown preset(s) {unknown}; choose from {sorted(PRESETS)}")
    torch.set_num_threads(min(2, torch.get_num_threads()))
    rows = measure_presets(args.presets, args.seeds)
    print(claims_table(rows))
    for name in args.presets:
        rs = [r for r in rows if r["preset"] == name]
        collapsed = sum(r["modes"] <= 4 and r["hq_fraction"] >= 0.5 and r["hops"] >= 1 for r in rs)
        print(f"{name}: modes per seed {[r['modes'] for r in rs]}; collapsed (<= 4 modes, >= 50% HQ, "
              f"a hop) in {collapsed} of {len(rs)}")
    if args.json:
        write_json(args.json, rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
