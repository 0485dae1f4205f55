"""Lesson 05's exercise checker, check_critic_step: the teacher's solution and differently written correct
updates pass (clamp_ in a loop, p.data.clamp_, losses.clip_weights_, torch.nn.utils' parameters_to_vector /
vector_to_parameters, one pass on real and fake together, a float or a tensor returned); each usual mistake is
named; the checker never raises and leaves the global random state alone. The critic-loss exercise uses
check_critic_loss (tests/test_exercises_wgan.py), which accepts the lesson's solution."""

import importlib.util
import random
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn.utils import parameters_to_vector, vector_to_parameters

from wgan_lessons import losses
from wgan_lessons.exercises import check_critic_loss, check_critic_step

ROOT = Path(__file__).resolve().parents[1]


def _solutions():
    path = ROOT / "teacher" / "solutions" / "05_wgan_weight_clipping.py"
    spec = importlib.util.spec_from_file_location("sol05", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_the_teacher_solutions_pass():
    sol = _solutions()
    assert check_critic_loss(sol.critic_loss).passed
    r = check_critic_step(sol.critic_step)
    assert r.passed, r


# ----------------------------------------------------------------------------- correct variants


def step_loop(critic, optimizer, real, fake, clip_value):
    optimizer.zero_grad()
    loss = critic(fake).mean() - critic(real).mean()
    loss.backward()
    optimizer.step()
    with torch.no_grad():
        for p in critic.parameters():
            p.clamp_(-clip_value, clip_value)
    return loss.item()


def step_data(critic, optimizer, real, fake, clip_value):
    critic.zero_grad()
    loss = -(critic(real).mean() - critic(fake).mean())
    loss.backward()
    optimizer.step()
    for p in critic.parameters():
        p.data.clamp_(-clip_value, clip_value)
    return loss


def step_package(critic, optimizer, real, fake, clip_value):
    scores = critic(torch.cat([real, fake]))  # one pass for both batches
    loss = losses.wasserstein_critic_loss(scores[: len(real)], scores[len(real):])
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    losses.clip_weights_(critic, clip_value)
    return float(loss)


def step_vector(critic, optimizer, real, fake, clip_value):
    optimizer.zero_grad()
    loss = critic(fake).mean() - critic(real).mean()
    loss.backward()
    optimizer.step()
    with torch.no_grad():
        v = parameters_to_vector(critic.parameters()).clamp(-clip_value, clip_value)
        vector_to_parameters(v, critic.parameters())
    return loss.detach()


def step_copy(critic, optimizer, real, fake, clip_value):
    for p in critic.parameters():
        p.grad = None
    loss = torch.mean(critic(fake)) - torch.mean(critic(real))
    loss.backward()
    optimizer.step()
    with torch.no_grad():
        for name, p in critic.named_parameters():
            p.copy_(torch.clamp(p, min=-clip_value, max=clip_value))
    return loss.item()


CORRECT = {"clamp_ in a loop": step_loop, "p.data.clamp_, critic.zero_grad": step_data,
           "losses.clip_weights_, one pass": step_package, "parameters_to_vector": step_vector,
           "grad = None, copy_": step_copy}


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass(name):
    r = check_critic_step(CORRECT[name])
    assert r.passed, r


# ----------------------------------------------------------------------------- mistakes


def _make(order="ok", clip="all", sign=1, zero=True, step=True, ret="loss", grad_clip=None):
    def fn(critic, optimizer, real, fake, clip_value):
        c = clip_value
        lin = [m for m in critic.modules() if isinstance(m, nn.Linear)]

        def do_clip():
            with torch.no_grad():
                if clip == "all":
                    params, lo, hi = list(critic.parameters()), -c, c
                elif clip == "weights":
                    params, lo, hi = [m.weight for m in lin], -c, c
                elif clip == "last":
                    params, lo, hi = list(lin[-1].parameters()), -c, c
                elif clip == "first":
                    params, lo, hi = list(lin[0].parameters()), -c, c
                elif clip == "zero_c":
                    params, lo, hi = list(critic.parameters()), 0.0, c
                elif clip == "half":
                    params, lo, hi = list(critic.parameters()), -c / 2, c / 2
                elif clip == "square":
                    params, lo, hi = list(critic.parameters()), -c ** 2, c ** 2
                elif clip == "not in place":
                    for p in critic.parameters():
                        p.clamp(-c, c)
                    return
                elif clip == "double":
                    params, lo, hi = list(critic.parameters()), -2 * c, 2 * c
                else:
                    return
                for p in params:
                    p.clamp_(lo, hi)

        if order in ("first", "both"):
            do_clip()
        if zero:
            optimizer.zero_grad()
        loss = sign * (critic(fake).mean() - critic(real).mean())
        loss.backward()
        if grad_clip == "value":
            nn.utils.clip_grad_value_(critic.parameters(), c)
        if grad_clip == "norm":
            nn.utils.clip_grad_norm_(critic.parameters(), c)
        if order == "before step":
            do_clip()
        if step:
            optimizer.step()
        if order in ("ok", "both"):
            do_clip()
        if ret == "loss":
            return loss.item()
        if ret == "estimate":
            return -loss.item()
        return None

    return fn


def _replaces(critic, optimizer, real, fake, clip_value):
    optimizer.zero_grad()
    loss = critic(fake).mean() - critic(real).mean()
    loss.backward()
    optimizer.step()
    for m in critic.modules():
        if isinstance(m, nn.Linear):
            m.weight = nn.Parameter(m.weight.detach().clamp(-clip_value, clip_value))
            m.bias = nn.Parameter(m.bias.detach().clamp(-clip_value, clip_value))
    return loss.item()


def _zero_after_backward(critic, optimizer, real, fake, clip_value):
    loss = critic(fake).mean() - critic(real).mean()
    loss.backward()
    optimizer.zero_grad()
    optimizer.step()
    losses.clip_weights_(critic, clip_value)
    return loss.item()


MISTAKES = {
    "clip before optimizer.step()": (_make(order="before step"), "before optimizer.step()"),
    "clip before the loss": (_make(order="first"), "before the update"),
    "clip before and after": (_make(order="both"), "both before the update and after"),
    "no clipping": (_make(clip="none"), "did not clip the weights"),
    "clamp not in place": (_make(clip="not in place"), "with the underscore"),
    "weights, not biases": (_make(clip="weights"), "weights but not the biases"),
    "only the last layer": (_make(clip="last"), "only the last layer"),
    "only the first layer": (_make(clip="first"), "only the first layer"),
    "[0, c]": (_make(clip="zero_c"), "[0, c]"),
    "[-c/2, c/2]": (_make(clip="half"), "[-c/2, c/2]"),
    "c squared": (_make(clip="square"), "c squared"),
    "[-2c, 2c]": (_make(clip="double"), "outside [-"),
    "sign of the loss": (_make(sign=-1), "sign of the loss is flipped"),
    "no zero_grad": (_make(zero=False), "not zeroed"),
    "sign and no zero_grad": (_make(sign=-1, zero=False), "2 mistakes"),
    "no optimizer.step()": (_make(step=False), "optimizer.step() was not called"),
    "zero_grad after backward": (_zero_after_backward, "zeroed after backward()"),
    "clip_grad_value_ instead": (_make(clip="none", grad_clip="value"), "clip"),
    "clip_grad_norm_ instead": (_make(clip="none", grad_clip="norm"), "clip"),
    "returned the W estimate": (_make(ret="estimate"), "returned -L"),
    "returned None": (_make(ret=None), "returned None"),
    "replaced the parameters": (_replaces, "replaced the critic's parameters"),
    "not implemented": (lambda *a: (_ for _ in ()).throw(NotImplementedError), "Not implemented yet"),
    "raises": (lambda critic, optimizer, real, fake, c: critic(real.T), "raised an error"),
    "nan": (lambda critic, optimizer, real, fake, c: [p.data.fill_(float("nan")) for p in critic.parameters()],
            "NaN or inf"),
}


@pytest.mark.parametrize("name", MISTAKES)
def test_each_mistake_is_named(name):
    fn, words = MISTAKES[name]
    r = check_critic_step(fn)
    assert not r.passed, name
    assert words in str(r), str(r)


def test_gradient_clipping_is_named_where_it_can_be_told_apart():
    """On the first case (a fresh RMSProp: its first update has the size lr / sqrt(1 - alpha) whatever the
    gradient's size) clipping the gradients changes nothing, so the checker says the weights were not clipped
    (and that clipping gradients is not clipping weights); the message names the gradient clipping."""
    for grad_clip in ("value", "norm"):
        r = check_critic_step(_make(clip="none", grad_clip=grad_clip))
        assert not r.passed and "clip_grad_value_ or clip_grad_norm_" in str(r), r


def test_checker_leaves_the_global_random_state_alone():
    random.seed(3)
    np.random.seed(3)
    torch.manual_seed(3)
    before = (random.getstate(), np.random.get_state()[1].copy(), torch.get_rng_state())

    def noisy(critic, optimizer, real, fake, clip_value):  # a learner's code that draws from the global streams
        random.random(), np.random.rand(), torch.rand(3)
        return step_loop(critic, optimizer, real, fake, clip_value)

    assert check_critic_step(noisy).passed
    check_critic_step(_make(sign=-1))
    after = (random.getstate(), np.random.get_state()[1], torch.get_rng_state())
    assert before[0] == after[0] and np.array_equal(before[1], after[1]) and torch.equal(before[2], after[2])
