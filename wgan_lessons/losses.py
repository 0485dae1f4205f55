"""The losses of the GAN family, the gradient penalty, and weight clipping.

Conventions: every function returns the quantity that its network *minimises*.
A GAN discriminator outputs logits ``l``, with D(x) = sigmoid(l); all log-probabilities
are taken through ``softplus`` so that nothing overflows:

    log D(x)       = log sigmoid(l)     = -softplus(-l)
    log(1 - D(x))  = log sigmoid(-l)    = -softplus(l)

A WGAN critic outputs unbounded scores f(x).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "gan_discriminator_loss",
    "gan_generator_loss_saturating",
    "gan_generator_loss_nonsaturating",
    "wasserstein_critic_loss",
    "wasserstein_generator_loss",
    "interpolate",
    "critic_grad_norm",
    "gradient_penalty",
    "clip_weights_",
]


# ----------------------------------------------------------------------------- GAN


def gan_discriminator_loss(logits_real: torch.Tensor, logits_fake: torch.Tensor) -> torch.Tensor:
    """Discriminator loss of the GAN minimax game (Goodfellow et al. 2014, eq. 1).

    D maximises V(D, G) = E_r[log D(x)] + E_g[log(1 - D(G(z)))], so it minimises

        L_D = -E_r[log D(x)] - E_g[log(1 - D(x~))] = E_r[softplus(-l)] + E_g[softplus(l~)].

    Args:
        logits_real: (B,) logits on real samples.
        logits_fake: (B,) logits on generated samples.
    """
    return F.softplus(-logits_real).mean() + F.softplus(logits_fake).mean()


def gan_generator_loss_saturating(logits_fake: torch.Tensor) -> torch.Tensor:
    """The minimax ("saturating") generator loss: G minimises E_g[log(1 - D(G(z)))] = -E_g[softplus(l~)].

    Its gradient with respect to the logit is -sigmoid(l~) = -D(G(z)): it vanishes when
    D confidently rejects the fakes, early in training (Goodfellow et al. 2014, section 3).
    """
    return -F.softplus(logits_fake).mean()


def gan_generator_loss_nonsaturating(logits_fake: torch.Tensor) -> torch.Tensor:
    """The non-saturating generator loss: G minimises -E_g[log D(G(z))] = E_g[softplus(-l~)].

    Same fixed point as the minimax loss, but the gradient with respect to the logit is
    -(1 - D(G(z))), strong exactly when D rejects the fakes (Goodfellow et al. 2014, section 3).
    """
    return F.softplus(-logits_fake).mean()


# ----------------------------------------------------------------------------- WGAN


def wasserstein_critic_loss(critic_real: torch.Tensor, critic_fake: torch.Tensor) -> torch.Tensor:
    """The WGAN critic loss (Arjovsky et al. 2017, Algorithm 1), to be *minimised* by the critic:

        L_f = E_g[f(x~)] - E_r[f(x)].

    By Kantorovich-Rubinstein duality, W1(P_r, P_g) = sup_{||f||_L <= 1} E_r[f] - E_g[f],
    so ``-L_f`` is the critic's estimate of W1 (up to the Lipschitz constant): plot -loss.

    Args:
        critic_real: (B,) scores f(x) on real samples.
        critic_fake: (B,) scores f(x~) on generated samples.
    """
    return critic_fake.mean() - critic_real.mean()


def wasserstein_generator_loss(critic_fake: torch.Tensor) -> torch.Tensor:
    """The WGAN generator loss: G minimises -E_g[f(G(z))] (Arjovsky et al. 2017, Algorithm 1)."""
    return -critic_fake.mean()


# ----------------------------------------------------------------------------- gradient penalty


def interpolate(real: torch.Tensor, fake: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """x_hat = eps * x + (1 - eps) * x~ with **one** eps ~ U[0, 1] per sample
    (Gulrajani et al. 2017, Algorithm 1, line 6).

    eps has shape (B, 1, ..., 1), so it broadcasts over every non-batch dimension:
    one draw per pixel, or one for the whole batch, would be a different (wrong) penalty.

    Args:
        real: (B, ...) real samples x.
        fake: (B, ...) generated samples x~, same shape.
    """
    if real.shape != fake.shape:
        raise ValueError(f"real and fake must have the same shape, got {tuple(real.shape)} and {tuple(fake.shape)}")
    eps_shape = (real.shape[0],) + (1,) * (real.ndim - 1)
    if generator is None:
        eps = torch.rand(eps_shape, device=real.device, dtype=real.dtype)
    else:
        eps = torch.rand(eps_shape, generator=generator, device=generator.device).to(real)
    return eps * real + (1 - eps) * fake


def _refuse_batch_norm(critic: nn.Module) -> None:
    """Batch norm in training mode mixes the samples of a batch: f(x_i) then depends on the other
    x_j, so grad_x f(x_i) is no longer a per-sample gradient, and every penalty pass updates the
    running statistics. Gulrajani et al. 2017, section 4: no batch norm in the critic."""
    bad = [name or type(m).__name__ for name, m in critic.named_modules()
           if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.training]
    if bad:
        raise ValueError(
            f"the critic has batch norm in training mode ({', '.join(bad)}): it couples the samples of a batch, "
            "so the per-sample gradient norm (and the gradient penalty) is wrong, and each pass updates its running "
            "statistics. Use nn.LayerNorm (or nn.GroupNorm(1, C) for conv maps) or no normalisation, as the WGAN-GP "
            "paper does (Gulrajani et al. 2017, section 4)."
        )


def critic_grad_norm(critic: nn.Module, x: torch.Tensor, create_graph: bool = False) -> torch.Tensor:
    """Per-sample gradient norms ||grad_x f(x_i)||_2, shape (B,).

    The norm is taken over **all** non-batch dimensions: for images (B, C, H, W) that is
    C*H*W numbers per sample (not dim 1 only, and not the whole batch at once).
    ``create_graph=True`` keeps the graph so that a penalty on the norm can train the critic.

    Raises:
        ValueError: the critic contains batch norm in training mode (see the WGAN-GP paper, section 4).
    """
    _refuse_batch_norm(critic)
    x = x.detach().requires_grad_(True)
    scores = critic(x)  # (B,)
    (grad,) = torch.autograd.grad(scores.sum(), x, create_graph=create_graph)  # (B, ...)
    return grad.flatten(start_dim=1).norm(2, dim=1)  # (B,)


def gradient_penalty(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor, lambda_gp: float = 10.0,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """The WGAN-GP gradient penalty (Gulrajani et al. 2017, eq. 3 and Algorithm 1):

        GP = lambda * E_{x_hat}[(||grad_{x_hat} f(x_hat)||_2 - 1)^2],
        x_hat = eps * x + (1 - eps) * x~,  eps ~ U[0, 1], one eps per sample.

    The gradient is taken with ``create_graph=True`` so the penalty trains the critic.
    Works for (B, d) toy data and (B, C, H, W) images alike.

    Args:
        critic: f, mapping (B, ...) -> (B,).
        real: (B, ...) real samples x.
        fake: (B, ...) generated samples x~ (detach them when training the critic).
        lambda_gp: the penalty weight lambda (paper: 10; toy script: 0.1).
        generator: optional ``torch.Generator`` for eps (without one, torch's global generator).

    Raises:
        ValueError: the critic contains batch norm in training mode (it breaks the per-sample
            penalty: Gulrajani et al. 2017, section 4), or real and fake differ in shape.
    """
    x_hat = interpolate(real, fake, generator)
    norms = critic_grad_norm(critic, x_hat, create_graph=True)  # (B,)
    return lambda_gp * ((norms - 1.0) ** 2).mean()


# ----------------------------------------------------------------------------- weight clipping


@torch.no_grad()
def clip_weights_(critic: nn.Module, clip_value: float) -> nn.Module:
    """Clamp every parameter of the critic into [-c, c], in place (Arjovsky et al. 2017,
    Algorithm 1, line 7). Call it **after** the critic's ``optimizer.step()``: clipping
    before the step lets the step push the weights back outside the box."""
    if not clip_value > 0:
        raise ValueError(f"clip_value must be positive, got {clip_value}")
    for p in critic.parameters():
        p.clamp_(-clip_value, clip_value)
    return critic
