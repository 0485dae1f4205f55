"""Lesson 05 exercises: WGAN with weight clipping.

- the critic loss is checked by :func:`wgan_lessons.exercises.wgan.check_critic_loss`;
- :func:`check_critic_step`: ``critic_step(critic, optimizer, real, fake, clip_value)``, one critic
  update of Algorithm 1 of Arjovsky et al. (2017): zero the gradients, L = E_g[f(x~)] - E_r[f(x)],
  backward, ``optimizer.step()``, and then clamp **every** parameter into [-c, c]. Returns L (before the
  update) as a number or a 0-d tensor.

How the checker sees the mistakes. It runs the learner's step on small seeded critics
(``nets.mlp_critic``) with an optimiser it builds (RMSProp as in Algorithm 1, then SGD with momentum),
whose parameters hold *stale* gradients (as after a generator step that reached the critic), some of
whose weights lie outside [-c, c] (a fresh critic, before its first clip) or at its walls. From the
same state it computes the correct update and, when the learner's weights differ from it, every mistaken
one it knows (and their combinations): clipping before ``optimizer.step()`` (or before the whole update,
or both before and after it), no clipping, clipping the weights but not the biases, only the
last layer, only the first, the bounds [0, c], [-c/2, c/2] or [-c^2, c^2], the loss with the wrong
sign, no ``zero_grad`` (the stale gradients added in), no ``optimizer.step()``, and clipping the
gradients instead of the weights (``clip_grad_value_`` / ``clip_grad_norm_``). The learner's weights
after the call are compared with each; the mistakes of the one they match are named. Weights that
match none are described (which parameters lie outside the box, which bounds they respect).
Whatever way the clamping is written (``p.clamp_`` in a loop, ``p.data.clamp_``, ``losses.clip_weights_``,
``torch.nn.utils.parameters_to_vector`` / ``vector_to_parameters``), only the weights it produces count.
"""

from __future__ import annotations

import copy
import itertools

import torch
from torch import nn

from wgan_lessons.exercises.base import CheckResult, call_learner, failed, passed

__all__ = ["check_critic_step", "STEP_MISTAKES", "CLIP_MISTAKES"]

#: How the update itself can go wrong (before any clipping), with what the checker says.
STEP_MISTAKES = {
    "sign": "The sign of the loss is flipped: the critic minimises L = E_g[f(x~)] - E_r[f(x)] (it maximises "
            "E_r[f] - E_g[f], the W estimate); your step moves the weights the other way.",
    "no_zero_grad": "The gradients were not zeroed before backward(): the critic's .grad still held gradients from "
                    "before (e.g. from the generator's step), and backward() adds to them. Call "
                    "optimizer.zero_grad() (or critic.zero_grad()) before loss.backward().",
    "no_step": "The weights did not move apart from the clipping: optimizer.step() was not called, or the gradients "
               "were zeroed after backward() instead of before it.",
    "grad_value": "You clipped the gradients (torch.nn.utils.clip_grad_value_), not the weights. WGAN clamps the "
                  "weights themselves into [-c, c], after optimizer.step().",
    "grad_norm": "You clipped the gradients' norm (torch.nn.utils.clip_grad_norm_), not the weights. WGAN clamps the "
                 "weights themselves into [-c, c], after optimizer.step().",
}

#: How the clipping can go wrong, with what the checker says ({c} is filled in).
CLIP_MISTAKES = {
    "before_step": "You clipped before optimizer.step(): the step then moves weights out of [-c, c] again ({n} of the "
                   "{total} parameters end outside the box). Clip after the step (Algorithm 1, line 7).",
    "before_all": "You clipped before the update (before computing the loss): optimizer.step() then moves weights out "
                  "of [-c, c] again ({n} of the {total} parameters end outside the box). Clip after the step "
                  "(Algorithm 1, line 7).",
    "both": "You clip both before the update and after optimizer.step(). The clip after the step is the one "
            "Algorithm 1 has (line 7); the one before changes the update of a critic whose weights are not yet in the box (a fresh "
            "one): remove it.",
    "none": "You did not clip the weights: {n} of the {total} parameters lie outside [-{c:g}, {c:g}] after your step. "
            "(Note: p.clamp(-c, c) returns a new tensor and leaves p as it was; p.clamp_(-c, c), with the underscore, "
            "changes it in place; and clipping the gradients, clip_grad_value_ or clip_grad_norm_, is not "
            "clipping the weights.)",
    "weights_only": "You clipped the weights but not the biases: the biases end outside [-c, c]. Clip every "
                    "parameter of the critic: for p in critic.parameters().",
    "last_layer": "You clipped only the last layer: the other layers' parameters end outside [-c, c]. Clip every "
                  "parameter of the critic: for p in critic.parameters().",
    "first_layer": "You clipped only the first layer: the other layers' parameters end outside [-c, c]. Clip every "
                   "parameter of the critic: for p in critic.parameters().",
    "zero_c": "You clamped into [0, c]: the box is [-c, c], and negative weights are allowed.",
    "half": "You clamped into [-c/2, c/2]: the box is [-c, c].",
    "c_squared": "You clamped into [-c^2, c^2] (c squared): the box is [-c, c].",
}

_CLIPS = ("after",) + tuple(CLIP_MISTAKES)
_STEPS = (("ok",), ("sign",), ("no_zero_grad",), ("sign", "no_zero_grad"), ("no_step",), ("grad_value",),
          ("grad_norm",))


# ----------------------------------------------------------------------------- the cases


def _linears(critic: nn.Module) -> list[nn.Linear]:
    return [m for m in critic.modules() if isinstance(m, nn.Linear)]


def _case(index: int):
    """(critic, optimizer, real (B, 2), fake (B, 2), c), seeded. Case 0: a fresh critic (many weights outside
    the box) and RMSProp, the Algorithm-1 optimiser; case 1: a critic already clipped, with SGD with momentum
    that has taken steps before. Both critics hold stale gradients."""
    from wgan_lessons.nets import mlp_critic

    g = torch.Generator().manual_seed(500 + index)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(50 + index)
        critic = mlp_critic(2, 8, 2)  # Linear(2, 8), Linear(8, 8), Linear(8, 1)
    b = 16 + 8 * index
    real = torch.randn(b, 2, generator=g) * 0.5 + torch.tensor([1.0, 0.5])
    fake = torch.randn(b, 2, generator=g)
    if index == 0:
        c = 0.1
        opt = torch.optim.RMSprop(critic.parameters(), lr=2e-3)
    else:
        c = 0.05
        opt = torch.optim.SGD(critic.parameters(), lr=0.5, momentum=0.5)
        with torch.no_grad():
            for p in critic.parameters():
                p.clamp_(-c, c)
        for _ in range(2):  # give the optimiser some state: earlier correct steps on other batches
            r, f = torch.randn(b, 2, generator=g) + 1, torch.randn(b, 2, generator=g)
            _reference_step(critic, opt, r, f, c)
    for p in critic.parameters():  # stale gradients, as after a generator step that reached the critic
        p.grad = torch.randn(p.shape, generator=g) * 0.3
    return critic, opt, real, fake, c


def _reference_step(critic, opt, real, fake, c):
    opt.zero_grad()
    loss = critic(fake).mean() - critic(real).mean()
    loss.backward()
    opt.step()
    with torch.no_grad():
        for p in critic.parameters():
            p.clamp_(-c, c)
    return float(loss.detach())


def _clone(critic, opt):
    """A copy of the critic (with its .grad) and an optimiser of the same kind on it, in the same state."""
    twin = copy.deepcopy(critic)
    for p, q in zip(critic.parameters(), twin.parameters()):
        q.grad = None if p.grad is None else p.grad.detach().clone()
    defaults = {k: v for k, v in opt.defaults.items()}
    twin_opt = type(opt)(twin.parameters(), **defaults)
    twin_opt.load_state_dict(copy.deepcopy(opt.state_dict()))
    return twin, twin_opt


def _clip(critic, c, how):
    lin = _linears(critic)
    with torch.no_grad():
        if how in ("after", "before_step", "before_all", "both", "none"):
            params, lo, hi = (list(critic.parameters()) if how != "none" else []), -c, c
        elif how == "weights_only":
            params, lo, hi = [m.weight for m in lin], -c, c
        elif how == "last_layer":
            params, lo, hi = list(lin[-1].parameters()), -c, c
        elif how == "first_layer":
            params, lo, hi = list(lin[0].parameters()), -c, c
        elif how == "zero_c":
            params, lo, hi = list(critic.parameters()), 0.0, c
        elif how == "half":
            params, lo, hi = list(critic.parameters()), -c / 2, c / 2
        elif how == "c_squared":
            params, lo, hi = list(critic.parameters()), -c * c, c * c
        else:  # pragma: no cover
            raise ValueError(how)
        for p in params:
            p.clamp_(lo, hi)


def _variant(critic, opt, real, fake, c, step: tuple, clip: str) -> list[torch.Tensor]:
    """The critic's parameters after one update with the mistakes ``step`` and ``clip`` (from the given state)."""
    critic, opt = _clone(critic, opt)
    if clip in ("before_all", "both"):
        _clip(critic, c, clip)
    if "no_zero_grad" not in step:
        opt.zero_grad()
    loss = critic(fake).mean() - critic(real).mean()
    if "sign" in step:
        loss = -loss
    loss.backward()
    if "grad_value" in step:
        nn.utils.clip_grad_value_(critic.parameters(), c)
    if "grad_norm" in step:
        nn.utils.clip_grad_norm_(critic.parameters(), c)
    if clip == "before_step":
        _clip(critic, c, clip)
    if "no_step" not in step:
        opt.step()
    if clip not in ("before_step", "before_all"):
        _clip(critic, c, clip)
    return [p.detach().clone() for p in critic.parameters()]


def _same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return all(x.shape == y.shape and torch.allclose(x, y, rtol=1e-4, atol=1e-6) for x, y in zip(a, b))


def _names(critic) -> dict[int, str]:
    """Readable names of the critic's parameters: 'the weight of layer 2 (of 3)'."""
    lin = _linears(critic)
    out = {}
    for k, m in enumerate(lin, 1):
        out[id(m.weight)] = f"the weight of linear layer {k} (of {len(lin)})"
        if m.bias is not None:
            out[id(m.bias)] = f"the bias of linear layer {k}"
    return out


# ----------------------------------------------------------------------------- the checker


def check_critic_step(fn) -> CheckResult:
    """Check ``fn(critic, optimizer, real, fake, clip_value)``: one WGAN critic update (zero the gradients,
    L = E_g[f(x~)] - E_r[f(x)], backward, ``optimizer.step()``, then every parameter clamped into [-c, c]),
    returning L before the update. See the module docstring for what is compared and named."""
    for index in range(2):
        critic, opt, real, fake, c = _case(index)
        case = ("case 1: a fresh critic (some weights outside [-c, c]) and RMSProp" if index == 0 else
                "case 2: a critic already clipped, and SGD with momentum that has taken steps before")
        start = _clone(critic, opt)  # the state before the learner's call: every update is computed from it
        correct = _variant(*start, real, fake, c, ("ok",), "after")
        twin, twin_opt = _clone(critic, opt)
        want_loss = _reference_step(twin, twin_opt, real, fake, c)
        before_ids = [id(p) for p in critic.parameters()]
        names = _names(critic)
        value, err = call_learner(fn, critic, opt, real.clone(), fake.clone(), c, seed=index)
        if err is not None:
            return err
        params = list(critic.parameters())
        if [id(p) for p in params] != before_ids:
            return failed("Your step replaced the critic's parameters with new tensors: the optimiser still holds the "
                          "old ones, so the next step would update tensors the critic no longer uses.",
                          "Clamp in place: p.clamp_(-c, c) under torch.no_grad(), or p.data.clamp_(-c, c).", case)
        got = [p.detach().clone() for p in params]
        if any(not torch.isfinite(p).all() for p in got):
            return failed("After your step some weights are NaN or inf.", case)
        if _same(got, correct):
            message = _check_return(value, want_loss, case)
            if message is not None:
                return message
            continue
        total = sum(p.numel() for p in got)
        outside = sum(int((p.abs() > c * (1 + 1e-6)).sum()) for p in got)
        for step, clip in itertools.product(_STEPS, _CLIPS):  # every known mistake, and their combinations
            if (step, clip) == (("ok",), "after") or not _same(got, _variant(*start, real, fake, c, step, clip)):
                continue
            found = [STEP_MISTAKES[s] for s in step if s != "ok"]
            if clip != "after":
                found.append(CLIP_MISTAKES[clip].format(n=outside, total=total, c=c))
            head = found[0] if len(found) == 1 else f"Your step has {len(found)} mistakes."
            return failed(head, *(found[1:] if len(found) == 1 else found), case)
        return _describe(got, params, names, correct, c, case)
    return passed("Correct: zero the gradients, L = E_g[f(x~)] - E_r[f(x)], backward, optimizer.step(), and then every "
                  "parameter clamped into [-c, c] (Algorithm 1 of the WGAN paper).")


def _check_return(value, want: float, case: str) -> CheckResult | None:
    if value is None:
        return failed("Your update is right, but the function returned None: return the critic's loss L (a number, "
                      "or loss.item()).", case)
    try:
        v = float(value.detach()) if isinstance(value, torch.Tensor) else float(value)
    except (TypeError, ValueError):
        return failed(f"Your update is right, but it returned a {type(value).__name__}; return the critic's loss L "
                      "as a number (loss.item()) or a 0-d tensor.", case)
    if abs(v - want) <= 1e-5 * max(1.0, abs(want)):
        return None
    if abs(v + want) <= 1e-5 * max(1.0, abs(want)):
        return failed("Your update is right, but you returned -L, the W estimate E_r[f] - E_g[f]; return the loss L = "
                      "E_g[f(x~)] - E_r[f(x)] that the critic minimises.", case)
    return failed(f"Your update is right, but the returned loss is {v:.6g}; expected L = E_g[f(x~)] - E_r[f(x)] = "
                  f"{want:.6g}, computed before the update.", case)


def _describe(got, params, names, want, c, case) -> CheckResult:
    """Weights that match no known update: say what is wrong with them."""
    out = [names.get(id(p), "a parameter") for p, v in zip(params, got) if (v.abs() > c * (1 + 1e-6)).any()]
    if out:
        return failed(f"After your step some parameters lie outside [-{c:g}, {c:g}]: {', '.join(out)}.",
                      "Clip every parameter of the critic, after optimizer.step().", case)
    hi = max(float(v.abs().max()) for v in got)
    want_hi = max(float(v.abs().max()) for v in want)
    if hi < want_hi * (1 - 1e-4):
        return failed(f"Every parameter is inside [-{c:g}, {c:g}], but none reaches beyond {hi:.4g}: your bounds are "
                      f"narrower than [-c, c] (the correct step puts weights at ±{want_hi:.4g}).", case)
    if min(float(v.min()) for v in got) >= 0 > min(float(v.min()) for v in want):
        return failed("Every parameter is >= 0 after your step: the lower bound of the box is -c, not 0.", case)
    diff = max(float((a - b).abs().max()) for a, b in zip(got, want))
    return failed("Your weights after the step differ from those of one correct update "
                  f"(largest difference {diff:.3g}).",
                  "One critic update: zero_grad, L = E_g[f(x~)] - E_r[f(x)], backward, optimizer.step(), then clamp "
                  "every parameter into [-c, c].", case)
