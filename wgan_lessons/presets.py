"""Named training settings that the lessons, the training lab and the CLI share.

    python -m wgan_lessons train --preset mode-collapse --seed 1 --out runs/collapse

Each preset is a full :class:`~wgan_lessons.train.TrainConfig`; the claims attached to the
presets (how many modes they cover over 5 seeds) are measured by ``tests/test_presets.py``
and ``scripts/preset_claims.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from wgan_lessons.train import TrainConfig

__all__ = ["Preset", "PRESETS", "get_preset", "measure_presets", "mode_hops", "claims_table"]


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    config: TrainConfig


#: What the presets share: data, networks, noise and learning rates. The WGAN-GP presets use the
#: issue-10 recipe (width 256, lr 1e-3 decaying linearly, 3 critic steps, bfloat16 autocast where the
#: CPU has AMX, float32 elsewhere). The mode-collapse preset keeps the settings lesson 01 measured
#: it with (5 discriminator steps, batch 128, 600 steps, a constant learning rate); matching every
#: setting but the method is the open issue 12.
_COMMON = dict(data="ring8", steps=1000, batch_size=256, lr_g=1e-3, lr_d=1e-3, lr_schedule="linear",
               g_width=256, d_width=256, g_depth=3, d_depth=3, z_dim=2, log_every=10, precision="auto")
_WGAN_GP = dict(method="wgan-gp", n_critic=3, lambda_gp=0.1, betas=(0.5, 0.9))

PRESETS: dict[str, Preset] = {
    p.name: p
    for p in [
        Preset(
            "mode-collapse",
            "the original minimax GAN (saturating loss) on ring8 with the same networks; its discriminator is "
            "trained 5x per generator step at a constant learning rate, on batches of 128, for 600 steps: "
            "the generator fails to cover the modes",
            TrainConfig(method="gan", n_critic=5, betas=(0.5, 0.999),
                        **{**_COMMON, "steps": 600, "batch_size": 128, "lr_schedule": "constant"}),
        ),
        Preset(
            "stable-wgan-gp",
            "WGAN-GP (lambda 0.1, 3 critic steps) on ring8 with the same data, networks and settings: "
            "it covers all 8 modes",
            TrainConfig(**_WGAN_GP, **_COMMON),
        ),
        Preset(
            "sharp-wgan-gp",
            "stable-wgan-gp trained 2.5x longer (2500 steps, the learning rates decaying linearly to 0): "
            "all 8 modes with about 95% high-quality samples in about a minute on a 2-core CPU",
            TrainConfig(**_WGAN_GP, **{**_COMMON, "steps": 2500}),
        ),
    ]
}


def get_preset(name: str, **overrides) -> TrainConfig:
    """The config of preset ``name``, with ``overrides`` (e.g. ``seed=3``) applied."""
    try:
        cfg = PRESETS[name].config
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}") from None
    return replace(cfg, **overrides)


def measure_presets(names=("mode-collapse", "stable-wgan-gp"), seeds=(0, 1, 2, 3, 4), n_samples: int = 2500,
                    steps: int | None = None, w1: bool = True, progress: bool = True,
                    track_every: int | None = 100) -> list[dict]:
    """Train each preset once per seed (on the CPU, so the numbers are reproducible) and measure
    it: modes, hq_fraction, reverse_kl, exact w1 and seconds at the end, and, every ``track_every``
    generator steps, which modes the generator covers (``covered``: a list of sorted mode index
    lists, 500 samples each) and how often that set changed (``hops``: mode hopping). ``steps``
    overrides the preset's (fast mode). Returns one dict per run; ``seconds`` is training time only."""
    import time

    from tqdm.auto import tqdm

    from wgan_lessons.metrics import evaluate_samples, mode_coverage
    from wgan_lessons.train import Trainer

    for name in names:  # every name checked before the first (long) run
        get_preset(name)
    rows = []
    runs = [(name, seed) for name in names for seed in seeds]
    for name, seed in tqdm(runs, desc="presets x seeds", disable=not progress):
        overrides = {"seed": seed, "device": "cpu"}
        if steps is not None:
            overrides["steps"] = steps
        tr = Trainer(get_preset(name, **overrides), progress=False)
        covered, seconds = [], 0.0
        every = track_every or tr.config.steps
        while not tr.done:
            t0 = time.perf_counter()
            tr.run(min(every, tr.config.steps - tr.step))
            seconds += time.perf_counter() - t0
            if track_every:
                cov = mode_coverage(tr.sample(500, seed=10_000 + tr.step), tr.dist.centers, tr.dist.std)
                covered.append([k for k, c in enumerate(cov["counts"]) if c > 0])
            if tr.stop_reason:
                break
        if w1:
            m = tr.evaluate(n_samples)
        else:
            m = mode_coverage(tr.sample(n_samples), tr.dist.centers, tr.dist.std)
            m["w1"] = float("nan")
        rows.append({"preset": name, "seed": seed, "modes": m["modes"], "hq_fraction": m["hq_fraction"],
                     "reverse_kl": m["reverse_kl"], "w1": m["w1"], "seconds": seconds, "covered": covered,
                     "hops": mode_hops(covered)})
    return rows


def mode_hops(covered: list) -> int:
    """How many times the set of covered modes changed between consecutive measurements, counting
    only measurements where some mode is covered: 0 for a generator that stays on the same modes,
    and > 0 when it moves from mode to mode (mode hopping, Metz et al. 2017, Figure 1)."""
    sets = [tuple(c) for c in covered if len(c)]
    return sum(a != b for a, b in zip(sets, sets[1:]))


def claims_table(rows: list[dict]) -> str:
    """A markdown table of :func:`measure_presets` rows."""
    from wgan_lessons.metrics import HQ_PERFECT

    lines = [f"| preset | seed | modes (of 8) | HQ % (perfect: {100 * HQ_PERFECT:.1f}) | reverse KL | exact W1 "
             f"| mode hops | train seconds |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['preset']} | {r['seed']} | {r['modes']} | {100 * r['hq_fraction']:.1f} | "
                     f"{r['reverse_kl']:.3f} | {r['w1']:.3f} | {r.get('hops', '-')} | {r['seconds']:.1f} |")
    return "\n".join(lines)
