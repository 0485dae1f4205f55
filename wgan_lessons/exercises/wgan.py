"""Checkers for the Wasserstein lessons: the critic loss and the gradient penalty.

- :func:`check_critic_loss`: ``fn(critic_real, critic_fake) -> scalar``, the loss the critic
  minimises, E_g[f] - E_r[f] (Arjovsky et al. 2017).
- :func:`check_gradient_penalty`: ``fn(critic, real, fake, lambda_gp) -> scalar``, the WGAN-GP
  penalty lambda * E[(||grad f(x_hat)||_2 - 1)^2] with one eps per sample (Gulrajani et al. 2017).

The gradient-penalty checker runs the learner's function with an *instrumented* critic that
records every batch it is called on, so it can look at the interpolates themselves: whether
eps was drawn per sample, per pixel or once per batch, and whether the points lie on the
segments between real and fake samples. Public WGAN-GP code has shipped each of the mistakes
it names.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from wgan_lessons import losses
from wgan_lessons.exercises.base import CheckResult, call_learner, failed, passed

__all__ = ["check_critic_loss", "check_gradient_penalty"]


def _scalar_tensor(value):
    if not isinstance(value, torch.Tensor):
        return failed(f"Your function returned {type(value).__name__}; return a scalar torch tensor "
                      "(the critic is trained by calling .backward() on it).")
    if value.numel() != 1:
        return failed(f"Your function returned a tensor of shape {tuple(value.shape)}; return one number: "
                      "average over the batch with .mean().")
    return value


def _close(a: float, b: float, tol: float = 1e-4) -> bool:
    return abs(a - b) <= tol * max(1.0, abs(b))


# ----------------------------------------------------------------------------- critic loss


def check_critic_loss(fn) -> CheckResult:
    """Check ``fn(critic_real, critic_fake)`` against L = E_g[f(x~)] - E_r[f(x)]."""
    g = torch.Generator().manual_seed(0)
    for b in (1, 4, 64):
        real, fake = 2 * torch.randn(b, generator=g) + 1, 2 * torch.randn(b, generator=g)
        value, err = call_learner(fn, real.clone(), fake.clone())
        if err is not None:
            return err
        value = _scalar_tensor(value)
        if isinstance(value, CheckResult):
            return value
        v, want = float(value.detach()), float(losses.wasserstein_critic_loss(real, fake))
        if _close(v, want):
            continue
        if _close(v, -want):
            return failed("The sign is flipped: that is the W estimate, not the critic's loss.",
                          "The critic maximises E_r[f] - E_g[f]; the loss it minimises is E_g[f] - E_r[f]. "
                          "-loss is what you plot as the Wasserstein estimate.")
        sig = torch.sigmoid
        bce = float(torch.nn.functional.softplus(-real).mean() + torch.nn.functional.softplus(fake).mean())
        if _close(v, bce) or _close(v, float(-(torch.log(sig(real)).mean() + torch.log(1 - sig(fake)).mean()))):
            return failed("This is the GAN discriminator loss (log / sigmoid), not the Wasserstein critic loss.",
                          "A WGAN critic outputs unbounded scores: no sigmoid, no log.")
        if _close(v, float(sig(fake).mean() - sig(real).mean())):
            return failed("A sigmoid was applied: the critic's scores are used as they are (they are not "
                          "probabilities or logits).")
        hinge = float(torch.relu(1 - real).mean() + torch.relu(1 + fake).mean())
        if _close(v, hinge):
            return failed("This is the hinge loss (relu(1 - f(x)) + relu(1 + f(x~))), not the WGAN loss.")
        if b > 1 and _close(v, float(fake.sum() - real.sum())):
            return failed("You summed over the batch; take the mean (E[...] is an average).")
        return failed(f"Wrong value on a batch of {b}: got {v:.5g}, expected {want:.5g}.")
    return passed("Correct: L = E_g[f(x~)] - E_r[f(x)], and -L is the critic's W1 estimate.")


# ----------------------------------------------------------------------------- gradient penalty


class _Recorder(nn.Module):
    """A critic f(x) = sum(w * x) + 0.5 * sum(x^2 * v) (per sample) that records its inputs.
    Its gradient varies from point to point, so the norm of each sample matters."""

    def __init__(self, shape, seed: int):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        w = torch.randn(shape, generator=g)
        d = w.numel()
        # ||w|| = 1 and a curvature term of similar size: per-sample gradient norms straddle 1,
        # so one-sided and two-sided penalties differ
        self.w = nn.Parameter(w / w.norm())
        self.v = nn.Parameter(torch.rand(shape, generator=g) / d ** 0.5)
        self.calls: list[torch.Tensor] = []

    def forward(self, x):
        self.calls.append(x.detach().clone())
        flat = x.flatten(1)
        return (flat * self.w.flatten()).sum(1) + 0.5 * ((flat ** 2) * self.v.flatten()).sum(1)  # (B,)

    def grad_at(self, x):  # analytic per-sample gradient, (B, ...)
        return self.w.detach() + x * self.v.detach()


def _reference_from_points(critic: _Recorder, x_hat: torch.Tensor, lambda_gp: float) -> float:
    norms = critic.grad_at(x_hat).flatten(1).norm(dim=1)
    return float(lambda_gp * ((norms - 1) ** 2).mean())


def _eps_of(x_hat, real, fake):
    """Per-element eps with x_hat = eps * real + (1 - eps) * fake, where defined."""
    d = real - fake
    ok = d.abs() > 1e-3
    eps = torch.full_like(d, float("nan"))
    eps[ok] = ((x_hat - fake)[ok] / d[ok])
    return eps


def check_gradient_penalty(fn) -> CheckResult:
    """Check ``fn(critic, real, fake, lambda_gp)`` on 2-D and image-shaped batches."""
    cases = [((16, 2), 0), ((8, 3, 4, 4), 1), ((8, 1, 5, 5), 2)]
    for shape, seed in cases:
        g = torch.Generator().manual_seed(100 + seed)
        real, fake = torch.randn(shape, generator=g), torch.randn(shape, generator=g) + 0.5
        lam = 3.0
        critic = _Recorder(shape[1:], seed)
        value, err = call_learner(fn, critic, real.clone(), fake.clone(), lam, seed=seed)
        if err is not None:
            if "does not require grad" in " ".join(err.details):
                err.details.append("Hint: call x_hat.requires_grad_(True) before evaluating the critic on it, "
                                   "so torch.autograd.grad can differentiate with respect to x_hat.")
            return err
        value = _scalar_tensor(value)
        if isinstance(value, CheckResult):
            return value
        what = "images (B, C, H, W)" if len(shape) == 4 else "2-D points (B, 2)"
        # 1. where was the critic evaluated?
        candidates = [c for c in critic.calls if c.shape == real.shape]
        if not candidates:
            return failed(f"The critic was never called on a batch shaped like the inputs ({tuple(shape)}).",
                          "Evaluate the critic at the interpolates x_hat = eps * real + (1 - eps) * fake.")
        x_hat = candidates[-1]
        if torch.allclose(x_hat, real):
            return failed("The penalty is taken at the real points only (eps = 1).",
                          "Take it at random interpolates between real and fake samples.")
        if torch.allclose(x_hat, fake):
            return failed("The penalty is taken at the fake points only (eps = 0).",
                          "Take it at random interpolates between real and fake samples.")
        eps = _eps_of(x_hat, real, fake).flatten(1)  # (B, D)
        finite = torch.isfinite(eps)
        per_sample_spread = torch.stack([
            (e[f].max() - e[f].min()) if f.any() else torch.tensor(0.0) for e, f in zip(eps, finite)])
        if (per_sample_spread > 1e-3).any():
            return failed(f"On {what}: eps differs inside one sample: it was drawn per element (per pixel).",
                          "Draw one eps per sample, shape (B, 1) or (B, 1, 1, 1), so it broadcasts.")
        eps_b = torch.stack([e[f][0] if f.any() else torch.tensor(float("nan")) for e, f in zip(eps, finite)])
        if not ((eps_b >= -1e-4) & (eps_b <= 1 + 1e-4)).all():
            return failed("The interpolates do not lie on the segments between real and fake samples.",
                          "Use x_hat = eps * real + (1 - eps) * fake with eps ~ U[0, 1].")
        if float(eps_b.max() - eps_b.min()) < 1e-6:
            return failed(f"On {what}: the same eps was used for the whole batch.",
                          "Draw one eps per sample: torch.rand(B, 1) for (B, 2), torch.rand(B, 1, 1, 1) for images.")
        # 2. the value, given those interpolates
        v = float(value.detach())
        want = _reference_from_points(critic, x_hat, lam)
        if not _close(v, want, 1e-3):
            grads = critic.grad_at(x_hat)
            b = shape[0]
            whole = float(lam * (grads.norm() - 1) ** 2)
            dim1 = float(lam * ((grads.norm(dim=1) - 1) ** 2).mean()) if len(shape) == 4 else None
            no_sq = float(lam * (grads.flatten(1).norm(dim=1) - 1).abs().mean())
            sq_norm = float(lam * ((grads.flatten(1).pow(2).sum(1) - 1) ** 2).mean())
            no_lam = want / lam
            one_sided = float(lam * torch.relu(grads.flatten(1).norm(dim=1) - 1).pow(2).mean())
            if _close(v, whole, 1e-3):
                return failed("The norm is taken over the whole batch at once.",
                              "Take one norm per sample: grad.flatten(1).norm(2, dim=1), then average.")
            if dim1 is not None and _close(v, dim1, 1e-3):
                return failed("On images the norm is taken over dim 1 (channels) only.",
                              "Flatten every non-batch dimension first: grad.flatten(start_dim=1).norm(2, dim=1).")
            if _close(v, sq_norm, 1e-3):
                return failed("You used the squared norm ||g||^2 instead of the norm ||g||.")
            if _close(v, no_sq, 1e-3):
                return failed("The penalty is (||g|| - 1)^2: you left out the square.")
            if _close(v, no_lam, 1e-3):
                return failed("lambda_gp is missing: multiply the mean by lambda_gp.")
            if _close(v, one_sided, 1e-3):
                return failed("That is the one-sided penalty max(0, ||g|| - 1)^2 (WGAN-LP); WGAN-GP "
                              "penalises both sides: (||g|| - 1)^2.")
            if b > 1 and _close(v, want * b, 1e-3):
                return failed("You summed over the batch; take the mean.")
            return failed(f"On {what}: got {v:.5g}, expected {want:.5g} at the interpolates your code used.")
        # 3. does the penalty train the critic?
        if not value.requires_grad:
            return failed("The penalty has no gradient with respect to the critic's weights.",
                          "Call torch.autograd.grad(..., create_graph=True) so the penalty can be "
                          "back-propagated into the critic (and do not .detach() or .item() it).")
        critic.zero_grad()
        value.backward()
        if critic.w.grad is None or float(critic.w.grad.abs().sum()) == 0:
            return failed("The penalty does not reach the critic's weights: create_graph=True is missing.",
                          "Without it the gradient norm is a constant and the penalty trains nothing.")
        # compare with the analytic gradient of the penalty w.r.t. w at the same x_hat
        w = critic.w.detach().clone().requires_grad_(True)
        grads = w + x_hat * critic.v.detach()
        ref = lam * ((grads.flatten(1).norm(dim=1) - 1) ** 2).mean()
        (gw,) = torch.autograd.grad(ref, w)
        if not torch.allclose(critic.w.grad, gw, rtol=1e-3, atol=1e-5):
            return failed("The value is right but its gradient with respect to the critic is not.",
                          "Keep the whole computation in torch with create_graph=True; no .detach() or numpy.")
    return passed("Correct: one eps per sample, a per-sample norm over all non-batch dimensions, "
                  "and a penalty that trains the critic.")
