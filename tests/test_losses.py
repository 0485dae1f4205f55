"""The losses, the gradient penalty and clipping, held to hand-derived values."""

import math

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from wgan_lessons import losses
from wgan_lessons.nets import ConvCritic, mlp_critic


def sig(x):
    return 1 / (1 + math.exp(-x))


def test_gan_discriminator_loss_hand_values():
    lr, lf = torch.tensor([0.0, 2.0]), torch.tensor([-1.0, 3.0])
    # -mean log D(real) - mean log(1 - D(fake)), computed by hand with the sigmoid
    expected = -(math.log(sig(0.0)) + math.log(sig(2.0))) / 2 - (math.log(1 - sig(-1.0)) + math.log(1 - sig(3.0))) / 2
    assert_close(losses.gan_discriminator_loss(lr, lf), torch.tensor(expected))


def test_generator_losses_hand_values():
    lf = torch.tensor([-2.0, 0.5])
    sat = (math.log(1 - sig(-2.0)) + math.log(1 - sig(0.5))) / 2
    ns = -(math.log(sig(-2.0)) + math.log(sig(0.5))) / 2
    assert_close(losses.gan_generator_loss_saturating(lf), torch.tensor(sat))
    assert_close(losses.gan_generator_loss_nonsaturating(lf), torch.tensor(ns))


def test_generator_loss_gradients_match_section_3():
    # d/dl log(1 - sigmoid(l)) = -sigmoid(l): vanishes when D rejects fakes (l << 0);
    # d/dl -log sigmoid(l) = -(1 - sigmoid(l)): strong there.
    l = torch.tensor([-6.0], requires_grad=True)
    (g_sat,) = torch.autograd.grad(losses.gan_generator_loss_saturating(l), l)
    (g_ns,) = torch.autograd.grad(losses.gan_generator_loss_nonsaturating(l), l)
    assert_close(g_sat, torch.tensor([-sig(-6.0)]))
    assert_close(g_ns, torch.tensor([-(1 - sig(-6.0))]))
    assert abs(g_ns.item()) > 100 * abs(g_sat.item())


def test_gan_losses_stable_for_huge_logits():
    big = torch.tensor([1e4, -1e4])
    assert torch.isfinite(losses.gan_discriminator_loss(big, -big))
    assert torch.isfinite(losses.gan_generator_loss_nonsaturating(big))


def test_wasserstein_losses_and_sign():
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([0.0, -2.0])
    # L_D = E f(fake) - E f(real) = -1 - 2 = -3; the W estimate is -L_D = 3
    assert_close(losses.wasserstein_critic_loss(real, fake), torch.tensor(-3.0))
    assert_close(losses.wasserstein_generator_loss(fake), torch.tensor(1.0))


class Linear2(nn.Module):
    """f(x) = a . x, gradient a everywhere."""

    def __init__(self, a):
        super().__init__()
        self.a = nn.Parameter(torch.as_tensor(a, dtype=torch.float32))

    def forward(self, x):
        return (x.flatten(1) * self.a).sum(1)


def test_penalty_zero_for_unit_gradient_critic(gen):
    a = torch.tensor([0.6, 0.8])  # |a| = 1
    real, fake = torch.randn(64, 2, generator=gen), torch.randn(64, 2, generator=gen)
    assert_close(losses.gradient_penalty(Linear2(a), real, fake, lambda_gp=10.0), torch.tensor(0.0))


def test_penalty_equals_lambda_for_constant_critic(gen):
    class Const(nn.Module):
        def __init__(self):
            super().__init__()
            self.c = nn.Parameter(torch.tensor(1.5))

        def forward(self, x):
            return self.c + 0 * x.flatten(1).sum(1)

    real, fake = torch.randn(16, 2, generator=gen), torch.randn(16, 2, generator=gen)
    assert_close(losses.gradient_penalty(Const(), real, fake, lambda_gp=7.0), torch.tensor(7.0))


def test_penalty_hand_value_for_linear_critic(gen):
    a = torch.tensor([3.0, 4.0])  # |a| = 5 -> (5 - 1)^2 = 16
    real, fake = torch.randn(8, 2, generator=gen), torch.randn(8, 2, generator=gen)
    assert_close(losses.gradient_penalty(Linear2(a), real, fake, lambda_gp=0.5), torch.tensor(8.0))


def test_penalty_trains_the_critic(gen):
    critic = Linear2([3.0, 4.0])
    real, fake = torch.randn(8, 2, generator=gen), torch.randn(8, 2, generator=gen)
    losses.gradient_penalty(critic, real, fake, lambda_gp=1.0).backward()
    # d/da (|a| - 1)^2 = 2 (|a| - 1) a / |a| = 2 * 4 * a / 5
    assert_close(critic.a.grad, 2 * 4 * torch.tensor([3.0, 4.0]) / 5)


def test_eps_is_drawn_per_sample_on_the_interpolates(gen):
    real = torch.zeros(32, 3, 4, 4)
    fake = torch.ones(32, 3, 4, 4)
    x_hat = losses.interpolate(real, fake, gen)  # = 1 - eps, broadcast
    per_sample = x_hat.flatten(1)
    # one value per sample (constant within each sample) ...
    assert_close(per_sample, per_sample[:, :1].expand_as(per_sample))
    # ... and different values across samples, all in [0, 1]
    assert per_sample[:, 0].unique().numel() == 32
    assert (per_sample >= 0).all() and (per_sample <= 1).all()


def test_interpolates_lie_on_segments(gen):
    real, fake = torch.randn(50, 2, generator=gen), torch.randn(50, 2, generator=gen)
    x_hat = losses.interpolate(real, fake, torch.Generator().manual_seed(1))
    eps = torch.rand(50, 1, generator=torch.Generator().manual_seed(1))
    assert_close(x_hat, eps * real + (1 - eps) * fake)


def test_grad_norm_per_sample_over_all_dims_for_images(gen):
    # f(x) = sum(w * x) with w of norm 2 over (C, H, W): per-sample norm must be 2 for every sample
    w = torch.randn(3, 4, 4, generator=gen)
    w = 2 * w / w.norm()
    critic = Linear2(w.flatten())
    x = torch.randn(5, 3, 4, 4, generator=gen)
    assert_close(losses.critic_grad_norm(critic, x), torch.full((5,), 2.0))
    real, fake = torch.randn(5, 3, 4, 4, generator=gen), torch.randn(5, 3, 4, 4, generator=gen)
    assert_close(losses.gradient_penalty(critic, real, fake, lambda_gp=3.0), torch.tensor(3.0))


def test_grad_norm_of_a_real_conv_critic_matches_per_sample_autograd(gen):
    torch.manual_seed(0)
    critic = ConvCritic(img_size=8, channels=1, base=4)
    x = torch.randn(4, 1, 8, 8, generator=gen)
    norms = losses.critic_grad_norm(critic, x)
    for i in range(4):
        xi = x[i:i + 1].clone().requires_grad_(True)
        (g,) = torch.autograd.grad(critic(xi).sum(), xi)
        assert_close(norms[i], g.norm())


def test_interpolate_shape_mismatch_is_clear():
    with pytest.raises(ValueError, match="same shape"):
        losses.interpolate(torch.zeros(4, 2), torch.zeros(5, 2))


def test_clip_weights_puts_every_weight_in_the_box():
    torch.manual_seed(0)
    critic = mlp_critic(2, 16, 2)
    with torch.no_grad():
        for p in critic.parameters():
            p.mul_(100)
    losses.clip_weights_(critic, 0.01)
    for p in critic.parameters():
        assert p.abs().max() <= 0.01
    with pytest.raises(ValueError, match="clip_value"):
        losses.clip_weights_(critic, 0.0)
