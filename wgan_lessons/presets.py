"""Named training settings that the lessons, the training lab and the CLI share.

    python -m wgan_lessons train --preset mode-collapse --seed 1 --out runs/collapse

Each preset is a full :class:`~wgan_lessons.train.TrainConfig`; the claims attached to the
presets (how many modes they cover over 5 seeds) are measured by ``tests/test_presets.py``
and ``scripts/preset_claims.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from wgan_lessons.train import TrainConfig

__all__ = ["Preset", "PRESETS", "get_preset"]


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    config: TrainConfig


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in [
        Preset(
            "mode-collapse",
            "the original (minimax) GAN on ring8: it covers only a few of the 8 modes",
            TrainConfig(method="gan", data="ring8", steps=600, batch_size=128, n_critic=1,
                        lr_g=1e-3, lr_d=1e-3, betas=(0.5, 0.999), g_width=128, d_width=128, log_every=10),
        ),
        Preset(
            "stable-wgan-gp",
            "WGAN-GP on ring8 with the same networks: it covers all 8 modes",
            TrainConfig(method="wgan-gp", data="ring8", steps=600, batch_size=128, n_critic=5,
                        lr_g=1e-3, lr_d=1e-3, betas=(0.5, 0.9), lambda_gp=0.1, g_width=128, d_width=128,
                        log_every=10),
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
