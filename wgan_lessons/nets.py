"""Generators and critics.

- :class:`MLP` with :func:`mlp_generator` / :func:`mlp_critic` for 2-D toys. The
  reference (WGAN-GP toy script) is 3 hidden layers of 512 with ReLU.
- :class:`ConvGenerator` / :class:`ConvCritic`: small DCGAN-style nets for images
  (8x8 digits, 28x28 MNIST, 32x32).

Rules the whole course relies on:

- No critic uses batch norm: it couples the samples of a batch and breaks the
  per-sample gradient penalty (Gulrajani et al. 2017, section 4). Where
  normalisation is wanted we use layer norm (``GroupNorm(1, C)`` for conv maps is
  layer norm over (C, H, W)).
- No critic ends in a sigmoid. The GAN discriminator is the same network read as
  returning *logits*; the losses apply the sigmoid in a numerically stable way.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["MLP", "mlp_generator", "mlp_critic", "ConvGenerator", "ConvCritic", "ACTIVATIONS"]

ACTIVATIONS = {
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.2),
    "tanh": nn.Tanh,
    "elu": nn.ELU,
    "gelu": nn.GELU,
}


def _activation(name: str) -> nn.Module:
    try:
        return ACTIVATIONS[name]()
    except KeyError:
        raise ValueError(f"activation: unknown {name!r}; choose one of {sorted(ACTIVATIONS)}") from None


class MLP(nn.Module):
    """x (B, in_dim) -> (B, out_dim) through ``depth`` hidden layers of ``width`` units.

    ``layer_norm=True`` puts a LayerNorm after each hidden linear layer (never batch norm).
    """

    def __init__(self, in_dim: int, out_dim: int, width: int = 512, depth: int = 3, activation: str = "relu",
                 layer_norm: bool = False):
        super().__init__()
        if width < 1 or depth < 0:
            raise ValueError(f"width must be >= 1 and depth >= 0, got width={width}, depth={depth}")
        layers: list[nn.Module] = []
        d = in_dim
        for _ in range(depth):
            layers.append(nn.Linear(d, width))
            if layer_norm:
                layers.append(nn.LayerNorm(width))
            layers.append(_activation(activation))
            d = width
        layers.append(nn.Linear(d, out_dim))
        self.net = nn.Sequential(*layers)
        self.in_dim, self.out_dim = in_dim, out_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def mlp_generator(z_dim: int = 2, out_dim: int = 2, width: int = 512, depth: int = 3,
                  activation: str = "relu") -> MLP:
    """G: z (B, z_dim) -> x (B, out_dim). Linear output: toy data is not bounded."""
    return MLP(z_dim, out_dim, width, depth, activation)


def mlp_critic(in_dim: int = 2, width: int = 512, depth: int = 3, activation: str = "relu",
               layer_norm: bool = False) -> nn.Module:
    """f: x (B, in_dim) -> (B,) scores. A WGAN critic, or a GAN discriminator's logits."""
    return _Squeeze(MLP(in_dim, 1, width, depth, activation, layer_norm))


class _Squeeze(nn.Module):
    """Wraps a net with output (B, 1) so that it returns (B,)."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1)


def _check_img_size(img_size: int) -> int:
    if img_size % 4 != 0 or img_size < 8:
        raise ValueError(f"img_size must be a multiple of 4 and at least 8 (8, 28, 32...), got {img_size}")
    return img_size // 4


class ConvGenerator(nn.Module):
    """DCGAN-style G: z (B, z_dim) -> images (B, channels, img_size, img_size) in [-1, 1].

    Linear -> (4c, s/4, s/4) -> up-conv -> (2c, s/2, s/2) -> up-conv -> (c, s, s) -> conv -> tanh.
    Batch norm is fine in a generator (it never sees the gradient penalty); we keep it.
    """

    def __init__(self, z_dim: int = 32, img_size: int = 8, channels: int = 1, base: int = 32):
        super().__init__()
        s0 = _check_img_size(img_size)
        self.z_dim, self.img_size, self.channels, self.base, self.s0 = z_dim, img_size, channels, base, s0
        self.fc = nn.Sequential(nn.Linear(z_dim, 4 * base * s0 * s0), nn.ReLU())
        self.conv = nn.Sequential(
            nn.ConvTranspose2d(4 * base, 2 * base, 4, 2, 1), nn.BatchNorm2d(2 * base), nn.ReLU(),
            nn.ConvTranspose2d(2 * base, base, 4, 2, 1), nn.BatchNorm2d(base), nn.ReLU(),
            nn.Conv2d(base, channels, 3, 1, 1), nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.fc(z).view(-1, 4 * self.base, self.s0, self.s0)  # (B, 4c, s/4, s/4)
        return self.conv(h)  # (B, C, s, s)


class ConvCritic(nn.Module):
    """DCGAN-style critic: images (B, channels, s, s) -> (B,) scores. No batch norm, no sigmoid.

    conv(stride 2) -> LeakyReLU -> conv(stride 2) -> LayerNorm over (C, H, W) -> LeakyReLU -> linear.
    """

    def __init__(self, img_size: int = 8, channels: int = 1, base: int = 32, layer_norm: bool = True):
        super().__init__()
        s0 = _check_img_size(img_size)
        self.net = nn.Sequential(
            nn.Conv2d(channels, base, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(base, 2 * base, 4, 2, 1),
            nn.GroupNorm(1, 2 * base) if layer_norm else nn.Identity(),  # layer norm over (C, H, W)
            nn.LeakyReLU(0.2),
            nn.Flatten(),
            nn.Linear(2 * base * s0 * s0, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1)
