"""Lesson 06's "find the bugs" checker: the reference step and a differently written correct step
pass; the step handed to the learner fails with every one of its mistakes named; each mistake on its
own is named (and nothing else); the checker never raises and leaves the global random state alone."""

import importlib.util
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from wgan_lessons import losses
from wgan_lessons.exercises import check_wgan_gp_step
from wgan_lessons.exercises.base import CheckResult
from wgan_lessons.exercises.lesson06 import MISTAKES, buggy_train_step

ROOT = Path(__file__).resolve().parents[1]


def _solutions():
    spec = importlib.util.spec_from_file_location("sol06", ROOT / "teacher" / "solutions" / "06_wgan_gp.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def make_step(*bugs):
    """A WGAN-GP step with the named mistakes (the keys of BUGS) and nothing else wrong."""
    unknown = set(bugs) - set(BUGS)
    assert not unknown, unknown

    def step(G, D, opt_g, opt_d, real_batches, z_dim, lambda_gp, n_critic):
        real = next(real_batches) if "real" in bugs else None
        for k in range(n_critic):
            if "real" not in bugs:
                real = next(real_batches)
            b = real.shape[0]
            z = torch.randn(b, z_dim)
            fake = G(z) if "detach" in bugs else G(z).detach()
            eps = torch.rand_like(real) if "eps" in bugs else torch.rand(b, 1, 1, 1)
            x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
            (grad,) = torch.autograd.grad(D(x_hat).sum(), x_hat, create_graph="graph" not in bugs)
            norms = grad.norm(2, dim=1) if "dim1" in bugs else grad.flatten(1).norm(2, dim=1)
            penalty = lambda_gp * ((norms - 1) ** 2).mean()
            w_loss = D(fake).mean() - D(real).mean()
            loss_d = (-w_loss if "sign" in bugs else w_loss) + penalty
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
            if "interleave" in bugs or k == n_critic - 1:
                loss_g = -D(G(torch.randn(b, z_dim))).mean()
                opt_g.zero_grad()
                loss_g.backward()
                opt_g.step()
        return loss_d.item(), loss_g.item()

    return step


# each mistake of the handed-out step: (how make_step spells it, the words its message contains)
BUGS = {
    "real": MISTAKES["the same real batch for every critic step"],
    "detach": MISTAKES["the fakes not detached for the critic step"],
    "eps": MISTAKES["eps drawn per pixel"],
    "graph": MISTAKES["the penalty's graph not kept (no create_graph=True)"],
    "dim1": MISTAKES["the gradient norm over dim 1 of an image batch"],
    "sign": MISTAKES["the sign of the critic loss"],
    "interleave": MISTAKES["one critic step per generator step (the generator's update inside the critic loop)"],
}


def _passes(result):
    assert isinstance(result, CheckResult)
    assert result.passed, str(result)


def _names(result, *words):
    assert isinstance(result, CheckResult) and not result.passed, str(result)
    text = str(result)
    for w in words:
        assert w in text, f"{w!r} not named in:\n{text}"


def test_the_reference_solution_passes():
    _passes(check_wgan_gp_step(_solutions().train_step))


def test_a_differently_written_correct_step_passes():
    """One generator pass for all the critic's fakes (as the course's Trainer does), real and fake
    through the critic in one pass, the package's gradient_penalty, a frozen critic in the
    generator step, zero_grad(set_to_none=True), a dict returned."""

    def step(G, D, opt_g, opt_d, real_batches, z_dim, lambda_gp, n_critic):
        reals = [next(real_batches) for _ in range(n_critic)]
        b = reals[0].shape[0]
        with torch.no_grad():
            fakes = G(torch.randn(n_critic * b, z_dim))
        for i, real in enumerate(reals):
            fake = fakes[i * b:(i + 1) * b]
            scores = D(torch.cat([real, fake]))
            loss_d = -(scores[:b].mean() - scores[b:].mean()) + losses.gradient_penalty(D, real, fake, lambda_gp)
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
        D.requires_grad_(False)
        try:
            loss_g = -D(G(torch.randn(b, z_dim))).mean()
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
        finally:
            D.requires_grad_(True)
        return {"loss_d": float(loss_d), "loss_g": float(loss_g)}

    _passes(check_wgan_gp_step(step))
    _passes(check_wgan_gp_step(make_step()))  # the test's own builder, without mistakes


def test_the_handed_out_step_fails_naming_every_mistake():
    result = check_wgan_gp_step(buggy_train_step)
    _names(result, *MISTAKES.values())
    assert f"{len(MISTAKES)} mistakes" in result.message, str(result)
    assert len(MISTAKES) >= 4


@pytest.mark.parametrize("bug", sorted(BUGS))
def test_each_mistake_alone_is_named_and_nothing_else(bug):
    result = check_wgan_gp_step(make_step(bug))
    _names(result, BUGS[bug])
    others = [w for b, w in BUGS.items() if b != bug and w in str(result)]
    assert not others, f"{bug}: also named {others}:\n{result}"
    assert "1 mistake is" in result.message, str(result)


@pytest.mark.parametrize("bugs", [("dim1", "graph"), ("sign", "eps", "real"), ("interleave", "detach", "dim1")])
def test_several_mistakes_are_named_together(bugs):
    _names(check_wgan_gp_step(make_step(*bugs)), *(BUGS[b] for b in bugs))


def test_other_mistakes_are_named():
    def per_batch_eps(G, D, opt_g, opt_d, real_batches, z_dim, lambda_gp, n_critic):
        for _ in range(n_critic):
            real = next(real_batches)
            fake = G(torch.randn(real.shape[0], z_dim)).detach()
            eps = torch.rand(1)
            x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
            (g,) = torch.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True)
            loss_d = D(fake).mean() - D(real).mean() + lambda_gp * ((g.flatten(1).norm(dim=1) - 1) ** 2).mean()
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
        loss_g = D(G(torch.randn(real.shape[0], z_dim))).mean()  # the generator's sign flipped too
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()

    _names(check_wgan_gp_step(per_batch_eps), "One eps for the whole batch", "generator's loss has the wrong sign")

    def no_penalty(G, D, opt_g, opt_d, real_batches, z_dim, lambda_gp, n_critic):
        for _ in range(n_critic):
            real = next(real_batches)
            fake = G(torch.randn(real.shape[0], z_dim)).detach()
            loss_d = D(fake).mean() - D(real).mean()
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
        loss_g = -D(G(torch.randn(real.shape[0], z_dim))).mean()
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()

    _names(check_wgan_gp_step(no_penalty), "never evaluated at interpolates")


def test_not_implemented_and_errors_are_friendly():
    def stub(*args):
        raise NotImplementedError

    _names(check_wgan_gp_step(stub), "Not implemented yet")
    _names(check_wgan_gp_step(lambda *a: 1 / 0), "raised an error", "ZeroDivisionError")
    _names(check_wgan_gp_step(lambda *a: None), "never stepped")


def test_the_checker_leaves_the_global_random_state_alone():
    def global_states():
        return torch.get_rng_state().clone(), np.random.get_state()[1].copy(), random.getstate()

    torch.manual_seed(1234)
    np.random.seed(5)
    random.seed(6)
    before = global_states()
    check_wgan_gp_step(_solutions().train_step)
    check_wgan_gp_step(buggy_train_step)
    after = global_states()
    assert torch.equal(before[0], after[0]), "torch's global generator changed"
    assert np.array_equal(before[1], after[1]), "numpy's global generator changed"
    assert before[2] == after[2], "Python's random changed"
