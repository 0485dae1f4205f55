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


#: The networks, data, n_critic and noise both presets share. The collapse preset also trains
#: faster (lr 1e-3, batch 128, 600 steps): at WGAN-GP's settings the minimax GAN collapsed in
#: only 3 of 5 seeds (measured), not reliably enough for the lesson's claim.
_COMMON = dict(data="ring8", steps=1500, batch_size=256, n_critic=5, lr_g=5e-4, lr_d=5e-4, betas=(0.5, 0.9),
               g_width=128, d_width=128, g_depth=3, d_depth=3, z_dim=2, log_every=10)

PRESETS: dict[str, Preset] = {
    p.name: p
    for p in [
        Preset(
            "mode-collapse",
            "the original minimax GAN on ring8, same networks, discriminator trained 5x per generator step "
            "at a 2x higher learning rate: the generator collapses",
            TrainConfig(method="gan", **{**_COMMON, "steps": 600, "batch_size": 128, "lr_g": 1e-3, "lr_d": 1e-3,
                                         "betas": (0.5, 0.999)}),
        ),
        Preset(
            "stable-wgan-gp",
            "WGAN-GP (lambda 0.1) on ring8 with the same networks and settings: it covers all 8 modes",
            TrainConfig(method="wgan-gp", lambda_gp=0.1, **_COMMON),
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
    lines = ["| preset | seed | modes (of 8) | HQ % | reverse KL | exact W1 | mode hops | train seconds |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['preset']} | {r['seed']} | {r['modes']} | {100 * r['hq_fraction']:.1f} | "
                     f"{r['reverse_kl']:.3f} | {r['w1']:.3f} | {r.get('hops', '-')} | {r['seconds']:.1f} |")
    return "\n".join(lines)
