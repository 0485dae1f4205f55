"""Lesson 06 exercises: WGAN-GP, the gradient penalty.

- the penalty itself is checked by :func:`wgan_lessons.exercises.wgan.check_gradient_penalty`;
- :func:`check_wgan_gp_step`: "find the bugs". The lesson hands out :func:`buggy_train_step`, one
  generator iteration of WGAN-GP for images with seven mistakes of the kinds public GAN code has
  shipped; the learner returns the corrected ``train_step(G, D, opt_g, opt_d, real_batches, z_dim,
  lambda_gp, n_critic)``.

How the checker sees the mistakes. It runs the learner's step once per case on small *instrumented*
networks and optimisers, with the global random state isolated (see
:func:`wgan_lessons.exercises.base.call_learner`), and records everything that happens: every batch
the critic is evaluated on, every batch the generator makes, every batch taken from ``real_batches``,
when the backward pass reaches the generator's weights, and, at each ``opt.step()``, the weights and
the gradients the optimiser is about to use. It then checks each part of Algorithm 1 of Gulrajani et
al. (2017) on its own, against what the learner's code really did:

1. the schedule: ``n_critic`` critic steps, then one generator step;
2. a fresh real batch (and fresh fakes) for every critic step;
3. the interpolates x_hat = eps * x + (1 - eps) * x~ the critic was evaluated at: one eps per sample
   (not per pixel, not one for the batch);
4. the critic's gradient at each of its steps, recomputed in float64 at the very points the learner's
   code used, and matched against grad_theta of s * (E[f(x~)] - E[f(x)]) + P, for the sign s = +-1
   and the penalties P the public mistakes give (the per-sample norm, the norm over dim 1 of a
   (B, C, H, W) gradient, one norm of the whole batch, no lambda, and no penalty at all, which is
   what a penalty without ``create_graph=True`` contributes);
5. whether the critic's backward pass reached the generator (fakes not detached);
6. the generator's gradient: that of -E[f(G(z))] at its last batch.

Every mistake found is named, several at once; correct variants (one critic pass on real and fake
together, all fakes from one generator pass, the package's ``losses.gradient_penalty``, a frozen
critic during the generator step, ...) pass, because only what the step computes is compared.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn

from wgan_lessons.exercises.base import CheckResult, call_learner, failed, passed

__all__ = ["check_wgan_gp_step", "buggy_train_step", "MISTAKES"]


def buggy_train_step(G, D, opt_g, opt_d, real_batches, z_dim, lambda_gp, n_critic):
    """One generator iteration of WGAN-GP for images (Gulrajani et al. 2017, Algorithm 1).

    G maps noise (B, z_dim) to images (B, C, H, W); D maps images to scores (B,).
    real_batches is an iterator of real image batches (B, C, H, W).
    Returns the last critic loss and the generator loss, as floats.
    """
    real = next(real_batches)
    batch_size = real.shape[0]
    for _ in range(n_critic):
        z = torch.randn(batch_size, z_dim)
        fake = G(z)
        eps = torch.rand_like(real)
        x_hat = eps * real + (1 - eps) * fake
        x_hat.requires_grad_(True)
        grad = torch.autograd.grad(D(x_hat).sum(), x_hat)[0]
        penalty = lambda_gp * ((grad.norm(2, dim=1) - 1) ** 2).mean()
        loss_d = D(real).mean() - D(fake).mean() + penalty
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()

        z = torch.randn(batch_size, z_dim)
        loss_g = -D(G(z)).mean()
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
    return loss_d.item(), loss_g.item()


#: The mistakes of :func:`buggy_train_step`, each with a phrase the checker's message for it contains.
MISTAKES = {
    "the same real batch for every critic step": "same real batch",
    "the fakes not detached for the critic step": "not detached",
    "eps drawn per pixel": "eps is drawn per pixel",
    "the penalty's graph not kept (no create_graph=True)": "create_graph",
    "the gradient norm over dim 1 of an image batch": "dim 1",
    "the sign of the critic loss": "sign of the critic loss",
    "one critic step per generator step (the generator's update inside the critic loop)":
        "One critic step per generator step",
}

# ----------------------------------------------------------------------------- messages

_M = {
    "interleaved": ("One critic step per generator step: the generator was updated after every critic step "
                    "(D, G, D, G, ...), so the critic never catches up. Train the critic n_critic times, then the "
                    "generator once: its update belongs after the critic loop (check the indentation)."),
    "g_first": ("The generator stepped before the critic: Algorithm 1 trains the critic n_critic times first, so "
                "that the generator follows a critic that has caught up, then the generator once."),
    "real_reused": ("The same real batch is used for every critic step: draw a fresh one with next(real_batches) "
                    "inside the critic loop (Algorithm 1 samples new real data at every critic step)."),
    "fake_reused": ("The same fake batch is used for every critic step: draw fresh noise z and make new fakes "
                    "at every critic step, as Algorithm 1 does."),
    "not_detached": ("The fakes are not detached for the critic step: the critic's backward pass runs on into "
                     "the generator (wasted work, and gradients for G that G must never use). Make the fakes "
                     "with G(z).detach(), or under torch.no_grad()."),
    "per_pixel": ("eps is drawn per pixel (like torch.rand_like(real)): each x_hat is a mosaic of real and fake "
                  "pixels, off the segment between the two images, where the penalty is meant to act. Draw one "
                  "eps per sample: torch.rand(B, 1, 1, 1)."),
    "per_batch": ("One eps for the whole batch: every x_hat sits at the same fraction of the way between its "
                  "real and fake image. Draw one eps per sample: torch.rand(B, 1, 1, 1)."),
    "off_segment": ("The interpolates do not lie on the segments between the real and the fake samples: use "
                    "x_hat = eps * real + (1 - eps) * fake with eps ~ U[0, 1]."),
    "no_interpolates": ("The critic was never evaluated at interpolates between real and fake samples: there is "
                        "no gradient penalty (or it is taken at the real or the fake points only)."),
    "create_graph": ("The penalty does not train the critic: torch.autograd.grad was called without "
                     "create_graph=True, so the gradient norm is a constant for backward() and the penalty adds "
                     "nothing to the critic's gradient."),
    "dim1": ("The gradient norm is taken over dim 1 (the channels) of the (B, C, H, W) gradient: that is one "
             "norm for each position (h, w), shape (B, H, W), not one per sample. Flatten first: "
             "grad.flatten(start_dim=1).norm(2, dim=1)."),
    "whole_batch": ("The gradient norm is taken over the whole batch at once (torch.norm(grad)): take one norm "
                    "per sample, grad.flatten(start_dim=1).norm(2, dim=1), then the mean of (norm - 1)^2."),
    "no_lambda": "lambda_gp is not used: the penalty is lambda_gp * mean((norm - 1)^2).",
    "sign": ("The sign of the critic loss is flipped: the critic minimises E[f(x~)] - E[f(x)] + penalty (fake "
             "minus real); yours trains it to score the fakes higher than the real images. Its negative, "
             "without the penalty, is the W estimate."),
    "g_sign": "The generator's loss has the wrong sign: the generator minimises -E[f(G(z))].",
    "g_no_grad": ("The generator's step had no gradient: compute its loss on G(z) with the graph kept (no "
                  "detach, no torch.no_grad() in the generator step)."),
}


# ----------------------------------------------------------------------------- instrumented networks


class _Log:
    """What happened during one call of the learner's step, in order."""

    def __init__(self):
        self.events: list[tuple] = []  # ("D", rows) | ("G", z, out, grad) | ("gradG",) | ("step", "D"/"G", ...)
        self.real: list[torch.Tensor] = []  # the batches drawn from real_batches, (B, d) each


class _Critic(nn.Module):
    """f: (B, C, H, W) -> (B,), a small smooth MLP (tanh), that logs every batch it is evaluated on."""

    def __init__(self, shape, log: _Log, width: int = 16):
        super().__init__()
        d = math.prod(shape)
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(d, width), nn.Tanh(), nn.Linear(width, 1))
        self.log = log

    def forward(self, x):
        self.log.events.append(("D", x.detach().reshape(x.shape[0], -1).clone()))
        return self.net(x).squeeze(-1)


class _Generator(nn.Module):
    """G: (B, z_dim) -> (B, C, H, W), linear then tanh, that logs its noise and its images."""

    def __init__(self, z_dim: int, shape, log: _Log):
        super().__init__()
        self.shape = tuple(shape)
        self.net = nn.Sequential(nn.Linear(z_dim, math.prod(shape)), nn.Tanh())
        self.log = log

    def forward(self, z):
        out = self.net(z).reshape(z.shape[0], *self.shape)
        self.log.events.append(("G", z.detach().clone(), out.detach().reshape(z.shape[0], -1).clone(),
                                out.requires_grad))
        return out


def _snapshot(net: nn.Module):
    params = {n: p.detach().clone() for n, p in net.named_parameters()}
    grads = {n: (p.grad.detach().clone() if p.grad is not None else torch.zeros_like(p)) for n, p in
             net.named_parameters()}
    return params, grads


class _RecordingSGD:
    """Plain SGD with the optimiser API a training step uses (``zero_grad``, ``step``,
    ``param_groups``) that logs, at every step(), the weights (before the step) and the gradients it
    uses. Not a torch.optim.Optimizer: building one of those imports torch._dynamo, seconds on a
    loaded CPU, and the checker needs none of it."""

    def __init__(self, params, lr, log: _Log, which: str, nets):
        self.param_groups = [{"params": list(params), "lr": lr}]
        self.state: dict = {}
        self._log, self._which, self._nets = log, which, nets

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.param_groups[0]["params"]:
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad.detach_().zero_()

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        d_params, d_grads = _snapshot(self._nets["D"])
        g_params, g_grads = _snapshot(self._nets["G"])
        self._log.events.append(("step", self._which, d_params, d_grads, g_params, g_grads))
        group = self.param_groups[0]
        for p in group["params"]:
            if p.grad is not None:
                p.add_(p.grad, alpha=-group["lr"])
        return loss

    def state_dict(self) -> dict:
        return {"state": {}, "param_groups": [{"lr": self.param_groups[0]["lr"]}]}


class _RealBatches:
    """An endless iterator of real batches (uniform in [-1, 1]), logging each batch it hands out."""

    def __init__(self, batch: int, shape, log: _Log, generator: torch.Generator):
        self.batch, self.shape, self.log, self.generator = batch, tuple(shape), log, generator

    def __iter__(self):
        return self

    def __next__(self):
        x = 2 * torch.rand((self.batch, *self.shape), generator=self.generator) - 1
        self.log.real.append(x.reshape(self.batch, -1).clone())
        return x


def _build(case):
    """The instrumented G, D, optimisers and data of one case, built without touching the global
    random state (the weights come from the case's seed)."""
    log = _Log()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(case["seed"])
        D = _Critic(case["shape"], log)
        G = _Generator(case["z_dim"], case["shape"], log)
        # scale the critic so that its per-sample gradient norms are about 1.5: the penalty and the
        # Wasserstein term then pull with comparable strength, and every wrong norm gives another value
        with torch.no_grad():
            x = 2 * torch.rand((64, *case["shape"])) - 1
        x.requires_grad_(True)
        (g,) = torch.autograd.grad(D.net(x).sum(), x)
        with torch.no_grad():
            D.net[3].weight.mul_(1.5 / float(g.flatten(1).norm(dim=1).mean()))
    for p in G.parameters():
        p.register_hook(lambda grad: log.events.append(("gradG",)))
    nets = {"D": D, "G": G}
    opt_d = _RecordingSGD(D.parameters(), 0.05, log, "D", nets)
    opt_g = _RecordingSGD(G.parameters(), 0.05, log, "G", nets)
    data = _RealBatches(case["batch"], case["shape"], log, torch.Generator().manual_seed(1000 + case["seed"]))
    return log, G, D, opt_g, opt_d, data


_CASES = (
    dict(seed=0, batch=8, shape=(3, 4, 4), z_dim=4, n_critic=3, lambda_gp=3.0),
    dict(seed=1, batch=6, shape=(2, 3, 3), z_dim=3, n_critic=2, lambda_gp=2.0),
)


# ----------------------------------------------------------------------------- the analysis


def _key(row: torch.Tensor) -> bytes:
    return row.contiguous().numpy().tobytes()


def _flat_vector(d: dict) -> torch.Tensor:
    return torch.cat([v.reshape(-1).double() for v in d.values()])


def _functional(net: nn.Module, params: dict):
    """net's inner Sequential, in float64, as a function of the (float64) parameters ``params``."""
    inner = copy.deepcopy(net.net).double()

    p = {k.removeprefix("net."): v for k, v in params.items()}

    def f(x):
        return torch.func.functional_call(inner, p, (x,)).squeeze(-1)

    return f


def _critic_step_candidates(D, params, real, fake, x_hat, shape, lam):
    """The critic's gradient (over its weights, float64, flattened) for each sign of the Wasserstein
    term and each penalty a known mistake gives, at the points the learner's code used."""
    p = {k: v.double().requires_grad_(True) for k, v in params.items()}
    f = _functional(D, p)
    names = list(p)

    def grad_of(value):
        gs = torch.autograd.grad(value, [p[n] for n in names], allow_unused=True, retain_graph=True)
        return torch.cat([(g if g is not None else torch.zeros_like(p[n])).reshape(-1) for g, n in zip(gs, names)])

    w = f(fake.double()).mean() - f(real.double()).mean()
    g_w = grad_of(w)
    penalties = {"none": torch.zeros((), dtype=torch.float64)}
    if x_hat is not None:
        x = x_hat.double().reshape(x_hat.shape[0], *shape).requires_grad_(True)
        (gx,) = torch.autograd.grad(f(x).sum(), x, create_graph=True)
        per_sample = gx.flatten(1).norm(2, dim=1)
        penalties["ok"] = lam * ((per_sample - 1) ** 2).mean()
        if len(shape) == 3:
            penalties["dim1"] = lam * ((gx.norm(2, dim=1) - 1) ** 2).mean()
        penalties["whole_batch"] = lam * (gx.norm() - 1) ** 2
        penalties["no_lambda"] = ((per_sample - 1) ** 2).mean()
    grads = {name: (grad_of(v) if v.requires_grad else torch.zeros_like(g_w)) for name, v in penalties.items()}
    keys = [(s, name) for s in (1, -1) for name in penalties]
    return ({(s, name): s * g_w + grads[name] for s, name in keys},
            {(s, name): float((s * w + penalties[name]).detach()) for s, name in keys})


def _close(a: torch.Tensor, b: torch.Tensor, rtol: float = 2e-3) -> bool:
    scale = max(float(a.norm()), float(b.norm()), 1e-12)
    return float((a - b).norm()) <= rtol * scale


def _returned_loss_d(value) -> float | None:
    """The critic loss the learner's step returned (first of a pair, or a dict's 'loss_d'), if any."""
    if isinstance(value, dict):
        value = value.get("loss_d")
    elif isinstance(value, (tuple, list)) and value:
        value = value[0]
    try:
        v = float(value.detach()) if isinstance(value, torch.Tensor) else float(value)
    except (TypeError, ValueError, RuntimeError):
        return None
    return v if math.isfinite(v) else None


def _analyse(log: _Log, D, G, case, returned=None) -> tuple[list[str], list[str]]:
    """(names of the mistakes found, details for a mismatch no known mistake explains). ``returned``:
    the critic loss the step returned (used only to tell which norm a penalty without
    create_graph=True used: its gradient cannot say)."""
    found: list[str] = []
    other: list[str] = []
    n, lam, shape = case["n_critic"], case["lambda_gp"], case["shape"]
    steps = [i for i, e in enumerate(log.events) if e[0] == "step"]
    order = "".join(log.events[i][1] for i in steps)
    nd, ng = order.count("D"), order.count("G")
    if nd == 0:
        other.append("The critic's optimiser never stepped: call opt_d.step() after the critic's backward pass.")
    if ng == 0:
        other.append("The generator's optimiser never stepped: call opt_g.step() after the generator's backward "
                     "pass.")
    if nd == 0 or ng == 0:
        return found, other
    if ng > 1 and order.startswith("DG") and "DD" not in order:
        found.append("interleaved")
    elif nd == 1 and ng == 1 and n > 1:
        found.append("interleaved")
    elif order != "D" * n + "G":
        if order.index("G") < order.index("D"):
            found.append("g_first")
        if nd != n:
            other.append(f"The critic took {nd} steps and the generator {ng} (order {'-'.join(order)}); with "
                         f"n_critic = {n} Algorithm 1 takes {n} critic steps, then 1 generator step.")

    real_index = {_key(r): (b, i) for b, batch in enumerate(log.real) for i, r in enumerate(batch)}
    fake_index: dict[bytes, tuple[int, int]] = {}
    window: list[tuple] = []
    reals_used, fakes_used = [], []
    previous_d_grad = None
    reported_mismatch = False
    last_blind = None
    last_g = None  # the last batch of noise the generator turned into images with a graph
    for t, ev in enumerate(log.events):
        if ev[0] == "G":
            for i, r in enumerate(ev[2]):
                fake_index.setdefault(_key(r), (t, i))
            if ev[3]:
                last_g = ev[1]
            window.append(ev)
            continue
        if ev[0] != "step":
            window.append(ev)
            continue
        which, d_params, d_grads, g_params, g_grads = ev[1:]
        if which == "G":
            _check_generator_step(last_g, D, G, d_params, g_params, g_grads, found, other)
            window = []
            continue
        # ---- a critic step: which real, fake and interpolated rows did the critic see?
        real_batches, fake_rows, x_hat = set(), {}, None
        for w in window:
            if w[0] != "D":
                continue
            unmatched = []
            for r in w[1]:
                k = _key(r)
                if k in real_index:
                    real_batches.add(real_index[k][0])
                elif k in fake_index:
                    fake_rows[fake_index[k]] = r
                else:
                    unmatched.append(r)
            if unmatched:
                x_hat = torch.stack(unmatched)
        if any(w[0] == "gradG" for w in window):
            found.append("not_detached")
        window = []
        if not real_batches or not fake_rows:
            other.append("A critic step did not evaluate the critic on both a real batch and a fake batch.")
            continue
        b = max(real_batches)
        real = log.real[b]
        fake = torch.stack([fake_rows[k] for k in sorted(fake_rows)])
        reals_used.append(b)
        fakes_used.append(tuple(sorted(fake_rows)))
        if x_hat is None:
            found.append("no_interpolates")
        elif x_hat.shape == real.shape and fake.shape == real.shape:
            found.extend(_eps_mistakes(x_hat, real, fake))
        # ---- the critic's gradient, against the candidates
        g_learner = _flat_vector(d_grads)
        cands, values = _critic_step_candidates(D, d_params, real, fake, x_hat, shape, lam)
        match = next((key for key, g in cands.items() if _close(g_learner, g)), None)
        if match is None and previous_d_grad is not None:
            match = next((key for key, g in cands.items() if _close(g_learner, g + previous_d_grad)), None)
            if match is not None:
                other.append("The critic's gradients were not zeroed between its steps: call opt_d.zero_grad() "
                             "before each critic backward pass.")
        previous_d_grad = g_learner
        if match is None:
            if not reported_mismatch:
                other.append("The critic's gradient at one of its steps is not the gradient of E[f(x~)] - E[f(x)] "
                             "+ lambda_gp * mean((||grad f(x_hat)|| - 1)^2) at the points your code used, nor of a "
                             "mistake the checker knows. Check the critic loss and the penalty, and zero the "
                             "gradients before each backward pass.")
                reported_mismatch = True
            continue
        sign, penalty = match
        if sign == -1:
            found.append("sign")
        if penalty == "none" and x_hat is not None:
            found.append("create_graph")
            last_blind = (sign, values)  # which norm? only the loss's value can say
        else:
            last_blind = None
            if penalty in ("dim1", "whole_batch", "no_lambda"):
                found.append(penalty)
    if last_blind is not None and returned is not None:
        sign, values = last_blind
        hit = [name for (s, name), v in values.items() if s == sign and name != "none"
               and abs(v - returned) <= 1e-3 * max(1.0, abs(v))]
        if len(hit) == 1 and hit[0] != "ok":
            found.append(hit[0])
    if len(reals_used) > 1 and len(set(reals_used)) < len(reals_used):
        found.append("real_reused")
    if len(fakes_used) > 1 and len(set(fakes_used)) < len(fakes_used):
        found.append("fake_reused")
    return list(dict.fromkeys(found)), other


def _eps_mistakes(x_hat, real, fake) -> list[str]:
    """Read eps off x_hat = eps * real + (1 - eps) * fake, element by element (where real and fake differ)."""
    d = real - fake
    ok = d.abs() > 1e-3
    eps = torch.full_like(d, float("nan"))
    eps[ok] = (x_hat - fake)[ok] / d[ok]
    per_sample = []
    for e, m in zip(eps, ok):
        if not m.any():
            continue
        vals = e[m]
        if float(vals.max() - vals.min()) > 1e-3:
            return ["per_pixel"]
        per_sample.append(float(vals.mean()))
    if not per_sample:
        return []
    if min(per_sample) < -1e-4 or max(per_sample) > 1 + 1e-4:
        return ["off_segment"]
    if len(per_sample) > 1 and max(per_sample) - min(per_sample) < 1e-6:
        return ["per_batch"]
    return []


def _check_generator_step(z, D, G, d_params, g_params, g_grads, found, other) -> None:
    """The generator's gradient must be that of -E[f(G(z))] on ``z``, the last noise batch it made
    images from with a graph."""
    g_learner = _flat_vector(g_grads)
    if z is None or float(g_learner.norm()) == 0:
        found.append("g_no_grad")
        return
    pg = {k: v.double().requires_grad_(True) for k, v in g_params.items()}
    inner_g = copy.deepcopy(G.net).double()
    x = torch.func.functional_call(inner_g, {k.removeprefix("net."): v for k, v in pg.items()}, (z.double(),))
    f = _functional(D, {k: v.double() for k, v in d_params.items()})
    names = list(pg)
    gs = torch.autograd.grad(-f(x).mean(), [pg[n] for n in names], allow_unused=True)
    ref = torch.cat([(g if g is not None else torch.zeros_like(pg[n])).reshape(-1) for g, n in zip(gs, names)])
    if _close(g_learner, ref):
        return
    if _close(g_learner, -ref):
        found.append("g_sign")
        return
    other.append("The generator's gradient is not that of -E[f(G(z))] on its last batch: zero its gradients "
                 "before its backward pass (opt_g.zero_grad()), and use the critic's scores as they are.")


def check_wgan_gp_step(fn) -> CheckResult:
    """Check ``fn(G, D, opt_g, opt_d, real_batches, z_dim, lambda_gp, n_critic)``, one generator
    iteration of WGAN-GP (Gulrajani et al. 2017, Algorithm 1) for images, and name every mistake
    still in it (see the module docstring for how)."""
    found: list[str] = []
    other: list[str] = []
    for case in _CASES:
        log, G, D, opt_g, opt_d, data = _build(case)
        value, err = call_learner(fn, G, D, opt_g, opt_d, data, case["z_dim"], case["lambda_gp"],
                                  case["n_critic"], seed=case["seed"])
        if err is not None:
            return err
        try:
            f, o = _analyse(log, D, G, case, _returned_loss_d(value))
        except Exception as exc:  # the checker never raises: an odd step is reported, not crashed on
            return failed("The checker could not follow your training step.",
                          f"{type(exc).__name__}: {exc}",
                          "Keep the signature and use G, D, opt_g, opt_d and real_batches as the docstring says.")
        found += [k for k in f if k not in found]
        other += [m for m in o if m not in other]
    if not found and not other:
        return passed("Correct: n_critic critic steps on fresh real and fake batches (detached), one eps per "
                      "sample, a per-sample norm over every non-batch dimension, a penalty that trains the critic "
                      "(create_graph=True), the critic loss E[f(x~)] - E[f(x)], then one generator step.")
    messages = [_M[k] for k in found] + other
    head = ("1 mistake is still in your training step:" if len(messages) == 1
            else f"{len(messages)} mistakes are still in your training step:")
    return failed(head, *messages)
