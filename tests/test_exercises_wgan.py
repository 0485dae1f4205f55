import torch
import torch.nn.functional as F

from wgan_lessons import losses
from wgan_lessons.exercises import check_critic_loss, check_gradient_penalty


def _grad_norms(critic, x_hat, create_graph=True, how="flatten"):
    x_hat = x_hat.requires_grad_(True)
    (g,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=create_graph)
    if how == "flatten":
        return g.flatten(1).norm(2, dim=1)
    if how == "view":
        return g.reshape(g.shape[0], -1).norm(dim=1)
    if how == "sqrt":
        return torch.sqrt((g ** 2).sum(dim=tuple(range(1, g.ndim))))
    if how == "batch":
        return g.norm()
    if how == "dim1":
        return g.norm(2, dim=1)
    raise ValueError(how)


def eps_per_sample(real):
    return torch.rand((real.shape[0],) + (1,) * (real.ndim - 1))


def make_gp(mix="ref", how="flatten", eps_fn=eps_per_sample, create_graph=True, square=True, lam_used=True):
    def gp(critic, real, fake, lambda_gp):
        eps = eps_fn(real)
        if mix == "ref":
            x_hat = eps * real + (1 - eps) * fake
        elif mix == "swap":
            x_hat = (1 - eps) * real + eps * fake
        elif mix == "delta":
            x_hat = fake + eps * (real - fake)
        elif mix == "real":
            x_hat = real.clone()
        norms = _grad_norms(critic, x_hat, create_graph, how)
        pen = (norms - 1) ** 2 if square else (norms - 1).abs()
        return (lambda_gp if lam_used else 1.0) * pen.mean()
    return gp


def test_gp_accepts_reference_and_alternatives():
    assert check_gradient_penalty(lambda c, r, f, lam: losses.gradient_penalty(c, r, f, lam)).passed
    for mix in ("ref", "swap", "delta"):
        for how in ("flatten", "view", "sqrt"):
            res = check_gradient_penalty(make_gp(mix=mix, how=how))
            assert res.passed, (mix, how, str(res))


def test_gp_names_each_mistake():
    cases = {
        "same eps was used for the whole batch": make_gp(eps_fn=lambda r: torch.rand(1)),
        "per element": make_gp(eps_fn=lambda r: torch.rand_like(r)),
        "whole batch at once": make_gp(how="batch"),
        "dim 1": make_gp(how="dim1"),
        "create_graph": make_gp(create_graph=False),
        "real points only": make_gp(mix="real"),
        "left out the square": make_gp(square=False),
        "lambda_gp is missing": make_gp(lam_used=False),
        "requires_grad_": lambda c, r, f, lam: torch.autograd.grad(c(r).sum(), r)[0].sum(),
        "Not implemented": lambda *a: (_ for _ in ()).throw(NotImplementedError()),
    }
    for words, fn in cases.items():
        res = check_gradient_penalty(fn)
        assert not res.passed and words in str(res), (words, str(res))


def test_gp_one_sided_and_squared_norm_are_named():
    def one_sided(c, r, f, lam):
        e = eps_per_sample(r)
        n = _grad_norms(c, e * r + (1 - e) * f)
        return lam * torch.relu(n - 1).pow(2).mean()

    def squared(c, r, f, lam):
        e = eps_per_sample(r)
        n = _grad_norms(c, e * r + (1 - e) * f)
        return lam * ((n ** 2 - 1) ** 2).mean()

    assert "one-sided" in str(check_gradient_penalty(one_sided))
    assert "squared norm" in str(check_gradient_penalty(squared))


def test_critic_loss():
    assert check_critic_loss(lambda r, f: f.mean() - r.mean()).passed
    assert check_critic_loss(lambda r, f: -(r.mean() - f.mean())).passed
    assert "sign is flipped" in str(check_critic_loss(lambda r, f: r.mean() - f.mean()))
    assert "GAN discriminator loss" in str(check_critic_loss(lambda r, f: F.softplus(-r).mean() + F.softplus(f).mean()))
    assert "sigmoid" in str(check_critic_loss(lambda r, f: torch.sigmoid(f).mean() - torch.sigmoid(r).mean()))
    assert "hinge" in str(check_critic_loss(lambda r, f: F.relu(1 - r).mean() + F.relu(1 + f).mean()))
    assert "summed" in str(check_critic_loss(lambda r, f: f.sum() - r.sum()))
    assert "scalar torch tensor" in str(check_critic_loss(lambda r, f: 1.0))
