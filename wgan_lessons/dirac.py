"""The Dirac-GAN (Mescheder, Geiger, Nowozin 2018, "Which training methods for GANs do actually
converge?", section 2.2): the smallest GAN whose training does not converge.

Real data is a point mass at 0, p_data = delta_0. The generator is a point mass at theta,
p_theta = delta_theta, and the discriminator is linear, D_psi(x) = psi * x (a logit). The
unique equilibrium is (theta, psi) = (0, 0). With the GAN losses of :mod:`wgan_lessons.losses`,

    L_D(theta, psi) = softplus(-psi * 0) + softplus(psi * theta)         (D minimises)
    L_G(theta, psi) = generator loss of the logit psi * theta            (G minimises)

and the gradient vector field of simultaneous gradient descent is

    v(theta, psi) = ( -dL_G/dtheta, -dL_D/dpsi ).

For the non-saturating loss, -dL_G/dtheta = psi * sigmoid(-psi*theta) and -dL_D/dpsi =
-theta * sigmoid(psi*theta): at the equilibrium the Jacobian has purely imaginary eigenvalues
(+-i/2), so nothing pulls the iterates in. What a run does depends on the loss and on the step:

- non-saturating loss: the continuous-time flow loses a little energy away from (0, 0), while each
  finite simultaneous step adds some; the path winds onto a circle whose radius *shrinks with the
  learning rate* (it is an effect of the step, not of the game), and never reaches (0, 0);
- saturating (minimax) loss: the path spirals outwards;
- WGAN loss (no Lipschitz constraint on psi): the path spirals outwards fast (explodes).

A regulariser that penalises the discriminator's gradient at the real data, R1 = (gamma / 2) *
||grad_x D(x)||^2 at x = 0, which is (gamma / 2) psi^2 here (Mescheder et al. 2018, section 4),
adds -gamma psi to psi's velocity and makes (0, 0) attracting: with ``gamma > 0`` the path
converges. Everything below is computed with autograd through the package's own loss functions.
"""

from __future__ import annotations

import numpy as np
import torch

from wgan_lessons import losses

__all__ = ["dirac_gan_field", "dirac_gan_trajectory", "path_summary"]

_G_LOSSES = {
    "gan": losses.gan_generator_loss_saturating,
    "nsgan": losses.gan_generator_loss_nonsaturating,
    "wgan": losses.wasserstein_generator_loss,
}


def _grads(theta: torch.Tensor, psi: torch.Tensor, loss: str, gamma: float = 0.0):
    if loss not in _G_LOSSES:
        raise ValueError(f"loss must be one of {sorted(_G_LOSSES)}, got {loss!r}")
    theta = theta.detach().clone().requires_grad_(True)
    psi = psi.detach().clone().requires_grad_(True)
    real_score = psi * torch.zeros_like(theta)  # D(0) = psi * 0
    fake_score = psi * theta  # D(theta) = psi * theta
    if loss == "wgan":
        loss_d = losses.wasserstein_critic_loss(real_score, fake_score)
    else:
        loss_d = losses.gan_discriminator_loss(real_score, fake_score)
    if gamma:  # R1 at the real point x = 0: grad_x D(x) = psi, so (gamma / 2) psi^2 per point
        loss_d = loss_d + 0.5 * gamma * (psi ** 2).mean()
    loss_g = _G_LOSSES[loss](fake_score)
    (g_theta,) = torch.autograd.grad(loss_g * theta.numel(), theta, retain_graph=True)
    (g_psi,) = torch.autograd.grad(loss_d * psi.numel(), psi)
    return g_theta, g_psi


def _finite_array(x, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or inf")
    return arr


def dirac_gan_field(theta, psi, loss: str = "nsgan", gamma: float = 0.0):
    """The field v = (-dL_G/dtheta, -dL_D/dpsi) at arrays of points; returns (v_theta, v_psi) as numpy
    arrays. ``gamma > 0`` adds the R1 penalty (gamma / 2) psi^2 to L_D.

    Raises:
        ValueError: theta and psi differ in shape or are not finite; ``loss`` is unknown.
    """
    theta, psi = _finite_array(theta, "theta"), _finite_array(psi, "psi")
    if theta.shape != psi.shape:
        raise ValueError(f"theta and psi must have the same shape (a grid of points), got {theta.shape} and {psi.shape}")
    t = torch.as_tensor(theta).reshape(-1)
    p = torch.as_tensor(psi).reshape(-1)
    from wgan_lessons.checks import number

    g_t, g_p = _grads(t, p, loss, number(gamma, "gamma", minimum=0.0))
    shape = np.shape(theta)
    return (-g_t).numpy().reshape(shape), (-g_p).numpy().reshape(shape)


def dirac_gan_trajectory(theta0: float = 1.0, psi0: float = 1.0, lr: float = 0.1, steps: int = 200,
                         loss: str = "nsgan", alternating: bool = False, gamma: float = 0.0) -> np.ndarray:
    """(steps + 1, 2) array of (theta, psi) under simultaneous (or, with ``alternating``, D first then
    G) gradient descent with step ``lr``; ``gamma > 0`` adds the R1 penalty (gamma / 2) psi^2 to L_D.

    Raises:
        ValueError: theta0, psi0 or lr is not a finite number, lr <= 0, or steps is not an integer >= 0.
    """
    from wgan_lessons.checks import integer, number

    theta0, psi0 = number(theta0, "theta0"), number(psi0, "psi0")
    lr = number(lr, "lr", minimum=0.0, strict=True)
    steps = integer(steps, "steps", minimum=0)
    gamma = number(gamma, "gamma", minimum=0.0)
    t = torch.tensor([theta0], dtype=torch.float64)
    p = torch.tensor([psi0], dtype=torch.float64)
    path = [(t.item(), p.item())]
    for _ in range(steps):
        g_t, g_p = _grads(t, p, loss, gamma)
        if alternating:
            p = p - lr * g_p
            g_t, _ = _grads(t, p, loss, gamma)
            t = t - lr * g_t
        else:
            t, p = t - lr * g_t, p - lr * g_p
        path.append((t.item(), p.item()))
    return np.array(path)


def path_summary(path) -> dict:
    """How a Dirac-GAN path (steps + 1, 2) of (theta, psi) ends, in its distance r = ||(theta, psi)||_2
    to the equilibrium (0, 0): ``start`` (r at step 0), ``late_min`` and ``late_max`` (the smallest and
    largest r over the last half of the steps), ``end`` (r at the last step) and ``turns`` (how many
    times the path winds around (0, 0), from the unwrapped angle). A path that converges has
    ``end`` near 0; one that circles has ``late_min`` near ``late_max``; one that spirals outwards has
    ``end > start``.

    Raises:
        ValueError: ``path`` is not an (n, 2) array with n >= 2.
    """
    path = np.asarray(path, dtype=np.float64)
    if path.ndim != 2 or path.shape[1] != 2 or len(path) < 2:
        raise ValueError(f"path must be an (n, 2) array of (theta, psi) with n >= 2, got shape {path.shape}")
    r = np.hypot(path[:, 0], path[:, 1])
    late = r[len(r) // 2:]
    angle = np.unwrap(np.arctan2(path[:, 1], path[:, 0]))
    return {"start": float(r[0]), "late_min": float(late.min()), "late_max": float(late.max()),
            "end": float(r[-1]), "turns": float(abs(angle[-1] - angle[0]) / (2 * np.pi))}
