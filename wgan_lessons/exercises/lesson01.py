"""Checkers for lesson 01 (the GAN minimax game).

- :func:`check_discriminator_loss`: ``fn(logits_real, logits_fake) -> scalar``, the loss D minimises.
- :func:`check_generator_loss`: ``fn(logits_fake) -> scalar``, the non-saturating generator loss.
- :func:`check_optimal_discriminator`: ``fn(p_r, p_g) -> D`` on a grid, found numerically.
"""

from __future__ import annotations

import numpy as np
import torch

from wgan_lessons import losses
from wgan_lessons.exercises.base import CheckResult, call_learner, failed, forbidden_use, iterates, passed

__all__ = ["check_discriminator_loss", "check_generator_loss", "check_optimal_discriminator"]


def _scalar(value, name: str = "your function"):
    """A learner's return value as a float, or a CheckResult explaining why it is not one."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            return failed(f"{name} returned a tensor of shape {tuple(value.shape)}; return one number "
                          "(average over the batch with .mean()).")
        return float(value.detach())
    if isinstance(value, (float, int, np.floating, np.integer)):
        return float(value)
    return failed(f"{name} returned {type(value).__name__}; return a scalar torch tensor.")


def _cases(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    for b in (1, 5, 64):
        yield 3 * torch.randn(b, generator=g), 3 * torch.randn(b, generator=g)


def _close(a: float, b: float, tol: float = 1e-4) -> bool:
    return abs(a - b) <= tol * max(1.0, abs(b))


def check_discriminator_loss(fn) -> CheckResult:
    """Check ``fn(logits_real, logits_fake)`` against
    L_D = -E_r[log sigmoid(l)] - E_g[log(1 - sigmoid(l~))] (Goodfellow et al. 2014)."""
    ref = losses.gan_discriminator_loss
    sig = torch.sigmoid

    def probs_formula(r, f):  # what you get when logits are treated as probabilities
        return -(torch.log(r).mean() + torch.log(1 - f).mean())

    for lr_, lf in _cases():
        value, err = call_learner(fn, lr_.clone(), lf.clone())
        if err is not None:
            return err
        v = _scalar(value)
        if isinstance(v, CheckResult):
            return v
        want = float(ref(lr_, lf))
        if _close(v, want):
            continue
        b = lr_.numel()
        if _close(v, -want):
            return failed("The sign is flipped.", "D maximises V = E_r[log D(x)] + E_g[log(1 - D(G(z)))], so "
                          "the loss it minimises is -V.")
        if _close(v, float(ref(lf, lr_))):
            return failed("Real and fake are swapped.", "log D(x) goes with the real logits, log(1 - D(x~)) "
                          "with the fake ones.")
        if _close(v, float(ref(sig(lr_), sig(lf)))):
            return failed("The sigmoid is applied twice.", "The inputs are already logits: apply the sigmoid "
                          "once (better: use softplus, log sigmoid(l) = -softplus(-l)).")
        if not np.isfinite(v) or _close(v, float(probs_formula(lr_, lf))):
            return failed("It looks like the logits were used as probabilities.",
                          "The discriminator outputs logits l; D(x) = sigmoid(l). Use log D = -softplus(-l) "
                          "and log(1 - D) = -softplus(l).")
        if b > 1 and _close(v, want * b):
            return failed("You summed over the batch; take the mean (E[...] is an average).")
        return failed(f"Wrong value on a batch of {b}: got {v:.5g}, expected {want:.5g}.")
    # numerical stability on confident logits
    big = torch.tensor([40.0, -40.0])
    value, err = call_learner(fn, big, -big)
    if err is not None:
        return err
    v = _scalar(value)
    if isinstance(v, CheckResult):
        return v
    if not np.isfinite(v) or not _close(v, float(ref(big, -big)), 1e-3):
        return failed("Correct for moderate logits, but not for confident ones (|logit| = 40).",
                      f"got {v}; sigmoid(40) rounds to 1 in float32, so log(1 - sigmoid(40)) = log(0). "
                      "Use torch.nn.functional.softplus: log(1 - sigmoid(l)) = -softplus(l).")
    return passed("Correct, and numerically stable for confident logits.")


def check_generator_loss(fn) -> CheckResult:
    """Check ``fn(logits_fake)`` against the non-saturating loss -E_g[log sigmoid(l~)]."""
    ref = losses.gan_generator_loss_nonsaturating
    sat = losses.gan_generator_loss_saturating
    for _, lf in _cases(1):
        value, err = call_learner(fn, lf.clone())
        if err is not None:
            return err
        v = _scalar(value)
        if isinstance(v, CheckResult):
            return v
        want = float(ref(lf))
        if _close(v, want):
            continue
        if _close(v, float(sat(lf))):
            return failed("This is the saturating (minimax) loss E[log(1 - D(G(z)))].",
                          "Its gradient vanishes when D rejects the fakes. Implement the non-saturating "
                          "-E[log D(G(z))] instead (Goodfellow et al. 2014, section 3).")
        if _close(v, -want):
            return failed("The sign is flipped: G minimises -E[log D(G(z))].")
        if _close(v, float(ref(torch.sigmoid(lf)))):
            return failed("The sigmoid is applied twice: the inputs are already logits.")
        if not np.isfinite(v):
            return failed("Got a NaN or inf: the inputs are logits, not probabilities. "
                          "Use -log sigmoid(l) = softplus(-l).")
        if lf.numel() > 1 and _close(v, want * lf.numel()):
            return failed("You summed over the batch; take the mean.")
        if _close(v, want / 2):
            return failed("Your value is half the loss: the non-saturating loss is -E[log D(G(z))], with no 1/2.")
        return failed(f"Wrong value on a batch of {lf.numel()}: got {v:.5g}, expected {want:.5g}.")
    for logit in (-40.0, -200.0):  # float32: sigmoid(-200) underflows to 0, so log(sigmoid(l)) gives inf
        value, err = call_learner(fn, torch.tensor([logit]))
        if err is not None:
            return err
        v = _scalar(value)
        if isinstance(v, CheckResult):
            return v
        if not np.isfinite(v) or not _close(v, -logit, 1e-3):
            return failed(f"Not stable for a confident logit ({logit:g}): use softplus(-l) for -log sigmoid(l) "
                          "(in float32, sigmoid(-200) is exactly 0 and its log is -inf).", f"got {v}")
    return passed("Correct: the non-saturating generator loss, stable for confident logits.")


def check_optimal_discriminator(fn) -> CheckResult:
    """Check ``fn(p_r, p_g) -> D`` (numpy arrays on a grid) against D* = p_r / (p_r + p_g), to 0.02
    where either density is non-negligible."""
    from wgan_lessons.data import mixture_1d

    xs = np.linspace(-5, 5, 201)
    pr = mixture_1d("bimodal").pdf(xs)
    pg = mixture_1d("gaussian").shifted(0.5, 1.2).pdf(xs)
    value, err = call_learner(fn, pr.copy(), pg.copy())
    if err is not None:
        return err
    d = np.asarray(value.detach().cpu() if isinstance(value, torch.Tensor) else value, dtype=float).reshape(-1)
    if d.shape != xs.shape:
        return failed(f"Return one value of D per grid point: expected shape {xs.shape}, got {d.shape}.")
    mask = (pr + pg) > 1e-3
    want = pr / (pr + pg)
    err_max = float(np.max(np.abs(d[mask] - want[mask])))
    optimises = iterates(fn) or forbidden_use(fn, ("torch.optim", "torch.autograd", "scipy.optimize"),
                                              names=("backward", "grad", "step", "minimize", "optim")) is not None
    if err_max < 1e-7 and not optimises:
        return failed("This is the closed form D* = p_r / (p_r + p_g). The exercise's rule: find D* numerically, "
                      "by gradient ascent on V over one logit per grid point (an optimiser such as "
                      "torch.optim.Adam, or your own gradient steps).")
    if err_max <= 0.02:
        return passed(f"Correct: your D matches D* = p_r/(p_r+p_g) to {err_max:.3g} where the densities live.")
    if np.max(np.abs(d[mask] - (1 - want[mask]))) <= 0.02:
        return failed("You found 1 - D*: real and generated densities are swapped.")
    if (d < 0).any() or (d > 1).any():
        return failed("Some values lie outside [0, 1]: return D = sigmoid(logit), not the logit itself.")
    worst = int(np.argmax(np.where(mask, np.abs(d - want), -1.0)))
    need = float(np.max(np.abs(np.log(pr[mask] / pg[mask]))))
    return failed(f"Not yet D*: the largest error is {err_max:.3g} at x = {xs[worst]:.2f} (tolerance 0.02).",
                  f"Maximise V(D) = sum p_r log D + p_g log(1 - D) pointwise. In the tails D* needs logits as "
                  f"large as |log(p_r/p_g)| = {need:.1f}, and Adam moves each logit by at most about its learning "
                  f"rate per step: at Adam's default lr = 1e-3 that takes thousands of steps. Use lr = 0.1 "
                  f"and a few hundred steps (plain SGD is slower still there: its gradient is scaled by the "
                  f"small density values).")
