"""Weight clipping: what it does to a WGAN critic, measured (lesson 05).

WGAN (Arjovsky, Chintala and Bottou 2017, Algorithm 1) keeps its critic f near the Lipschitz class by
clamping every weight into [-c, c] after each critic step (``losses.clip_weights_``), with RMSProp at
learning rate 5e-5, c = 0.01 and 5 critic steps per generator step. This module holds the experiments
of lesson 05:

- :func:`track_run` / :func:`measure_tracking`: the WGAN paper's section 4.2 ("meaningful loss
  metric"): during a training run, minus the critic's loss, -L_D, is its estimate of W1; how closely
  does it follow the exact W1 (POT, ``metrics.exact_w1``) of the generator's current samples, next to
  a GAN discriminator's -L_D on the same data? Also the share of the clipped critic's weights at the
  walls of [-c, c] at the end of the run (``plots.weights_at_the_walls``).
- :class:`NoisyData`: the fixed "generator" of the WGAN-GP paper's Figure 1 (Gulrajani et al. 2017):
  the real data plus unit Gaussian noise, a sampler for ``duality.train_critic``.
- :func:`value_surfaces`: Figure 1(a), critics trained against that fixed generator on the three toy
  sets, with clipping and with the gradient penalty.
- :func:`layer_gradient_norms`, :func:`deep_critic_run` / :func:`measure_depth`: Figure 1(b), the
  norms of the back-propagated gradient at each layer of a deep (12 linear layers) ReLU critic
  clipped at c in {0.1, 0.01, 0.001}, next to the same critic trained with the gradient penalty.
- :func:`measure_clipping_claims` / :func:`claims_summary`: the lesson's three 5-seed claims in one
  pool of worker processes, re-measured by ``tests/test_lesson_05_claims.py``.

Every critic trained against a fixed generator is trained by :func:`wgan_lessons.duality.train_critic`;
every GAN or WGAN run by the course's one training loop, :class:`wgan_lessons.train.Trainer`. Nothing
here seeds or draws from the global random generators.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import replace

import numpy as np
import torch
from torch import nn

from wgan_lessons import losses
from wgan_lessons.checks import integer, number

__all__ = [
    "NoisyData",
    "layer_gradient_norms",
    "spread",
    "critic_weights",
    "SURFACES",
    "value_surfaces",
    "TRACKING",
    "track_run",
    "measure_tracking",
    "DEPTH",
    "deep_critic_config",
    "deep_critic_run",
    "measure_depth",
    "measure_clipping_claims",
    "claims_summary",
]


# ----------------------------------------------------------------------------- the fixed generator


class NoisyData:
    """The fixed "generator" of the WGAN-GP paper's Figure 1: a sample of ``base`` (any distribution
    with ``sample(n, generator=...)``, e.g. ``data.get_toy('ring8')``) plus ``std`` times unit Gaussian
    noise, x~ = x + std * N(0, I). A sampler for :func:`wgan_lessons.duality.train_critic`.

    ``sample(n, generator)`` draws the n base points first and then the noise, both from ``generator``
    (torch's global generator when None), and returns an (n, d) float32 tensor.

    Raises:
        ValueError: std not a finite number >= 0, or a base without ``sample``.
    """

    centers = None

    def __init__(self, base, std: float = 1.0):
        if not callable(getattr(base, "sample", None)):
            raise ValueError(f"base must have a sample(n, generator=...) method (a toy distribution), got "
                             f"{type(base).__name__}")
        self.base = base
        self.std = number(std, "std", minimum=0.0)
        self.name = f"{getattr(base, 'name', type(base).__name__)} + {self.std:g} N(0, I)"

    def sample(self, n: int, generator: torch.Generator | None = None, device=None) -> torch.Tensor:
        x = self.base.sample(n, generator=generator).float()  # (n, d)
        noise = torch.randn(x.shape, generator=generator)
        out = x + self.std * noise
        return out if device is None else out.to(device)

    def __repr__(self) -> str:
        return f"NoisyData({self.base!r}, std={self.std:g})"


# ----------------------------------------------------------------------------- per-layer gradients


def layer_gradient_norms(critic: nn.Module, real, fake) -> dict:
    """How large the critic's loss gradient is at each of its linear layers, the quantity of Figure 1(b)
    of Gulrajani et al. (2017): for the WGAN critic loss L = E_g[f(x~)] - E_r[f(x)]
    (``losses.wasserstein_critic_loss``, without any penalty) on the batches ``real`` (n, d) and
    ``fake`` (m, d),

    - ``"activation"``: ||dL/dz_k||, the Frobenius norm over the whole batch of the gradient with respect
      to z_k, the output of the k-th ``nn.Linear`` (before its ReLU): the back-propagated signal as it
      reaches layer k. Back-propagation multiplies it by W_k^T and the ReLU's 0/1 mask at every layer,
      so a critic whose layers all shrink (or grow) it makes it vanish (or explode) exponentially with
      depth;
    - ``"weight"``: ||dL/dW_k||, the Frobenius norm of the gradient with respect to the k-th layer's
      weight matrix, what the optimiser receives for that layer.

    Layers are numbered in the order the forward pass calls them (k = 1 next to the input, the last one
    is the output layer). Returns both as (K,) float64 numpy arrays and ``"layers"``, K. The critic's
    ``.grad`` fields, its mode and its weights are left as they were.

    Raises:
        ValueError: a critic without linear layers, batch norm in training mode (it couples the rows of a
            batch), or batches of different dimensions.
    """
    losses._refuse_batch_norm(critic)
    r = torch.as_tensor(real, dtype=torch.float32).detach()
    f = torch.as_tensor(fake, dtype=torch.float32).detach()
    if r.ndim != 2 or f.ndim != 2 or r.shape[1] != f.shape[1]:
        raise ValueError(f"real and fake must be (n, d) and (m, d) batches, got {tuple(r.shape)} and {tuple(f.shape)}")
    called: list[tuple[nn.Linear, torch.Tensor]] = []

    def hook(module, _inputs, output):
        called.append((module, output))

    hooks = [m.register_forward_hook(hook) for m in critic.modules() if isinstance(m, nn.Linear)]
    if not hooks:
        raise ValueError("the critic has no nn.Linear layer: layer_gradient_norms measures MLP critics")
    try:
        with torch.enable_grad():
            scores = critic(torch.cat([r, f]))  # one pass for both batches (no batch norm: rows are independent)
            loss = losses.wasserstein_critic_loss(scores[:len(r)], scores[len(r):])
            outs = [o for _, o in called]
            weights = [m.weight for m, _ in called]
            grads = torch.autograd.grad(loss, outs + weights, allow_unused=True)
    finally:
        for h in hooks:
            h.remove()
    k = len(called)

    def norms(gs):
        return np.array([0.0 if g is None else float(g.detach().double().norm()) for g in gs])

    return {"activation": norms(grads[:k]), "weight": norms(grads[k:]), "layers": k}


def spread(norms) -> float:
    """max / min of a critic's per-layer gradient norms (:func:`layer_gradient_norms`): 1 when every layer
    gets a gradient of the same size, large when it explodes or vanishes with depth. +inf when a norm is
    exactly 0 (the gradient underflowed float32 before reaching that layer).

    Raises:
        ValueError: no norms, or a negative or non-finite one.
    """
    a = np.asarray(norms, dtype=np.float64).ravel()
    if a.size == 0 or not np.isfinite(a).all() or (a < 0).any():
        raise ValueError(f"norms must be non-empty, finite and >= 0, got {a}")
    lo, hi = float(a.min()), float(a.max())
    if hi == 0:
        raise ValueError("every norm is 0: a spread is not defined")
    return math.inf if lo == 0 else hi / lo


def critic_weights(critic: nn.Module) -> np.ndarray:
    """Every parameter of the critic (weights and biases: all of them are clipped), flattened into one
    float64 numpy array, e.g. for ``plots.weights_at_the_walls``."""
    return torch.cat([p.detach().flatten().double().cpu() for p in critic.parameters()]).numpy()


# ----------------------------------------------------------------------------- Figure 1(a): value surfaces

#: The value-surface critics (Figure 1(a)): ``duality.train_critic`` with samplers, the real toy set
#: against the toy set plus unit Gaussian noise, batch 256, the course's critic (3 hidden ReLU layers of
#: 64), 500 steps. 'clip': the WGAN paper's c = 0.01 with RMSProp at 5e-4, ten times the paper's 5e-5, so
#: that the critic nears its optimum in 500 steps (at 5e-5 its estimate still triples between steps 500 and
#: 1000); 'gp': lambda = 10, Adam 1e-3, betas (0, 0.9) (lesson 04's settings).
SURFACES = {"datasets": ("ring8", "grid25", "swissroll"), "steps": 500, "batch_size": 256, "noise_std": 1.0,
            "clip_value": 0.01, "clip_lr": 5e-4, "lambda_gp": 10.0, "eval_points": 512, "w1_points": 2000}


def value_surfaces(datasets=SURFACES["datasets"], steps: int = SURFACES["steps"], seed: int = 0,
                   batch_size: int = SURFACES["batch_size"], noise_std: float = SURFACES["noise_std"],
                   w1_points: int = SURFACES["w1_points"]) -> dict:
    """Figure 1(a) of Gulrajani et al. (2017): for each toy data set, a clipped and a penalised critic
    trained (``duality.train_critic``, ``steps`` steps of ``batch_size`` from each side) against a fixed
    generator, the data plus ``noise_std`` times unit Gaussian noise (:class:`NoisyData`).

    Returns ``{name: {"clip": CriticRun, "gp": CriticRun, "real": (k, 2), "fake": (k, 2), "w1": float}}``
    with k = ``SURFACES['eval_points']`` fixed points of each side (drawn with ``seed``) to draw over the
    surfaces, and ``w1`` the exact W1 (``metrics.exact_w1``, POT) between ``w1_points`` fresh points of each
    side: what an optimal 1-Lipschitz critic's estimate would be (up to the small-sample bias of lesson 03).
    """
    from wgan_lessons.data import get_toy
    from wgan_lessons.duality import CriticConfig, train_critic
    from wgan_lessons.metrics import exact_w1

    steps = integer(steps, "steps", minimum=1)
    seed = integer(seed, "seed", minimum=0)
    w1_points = integer(w1_points, "w1_points", minimum=2)
    out = {}
    for name in datasets:
        real_dist = get_toy(name)
        fake_dist = NoisyData(real_dist, noise_std)
        g = torch.Generator().manual_seed(seed + 1234)
        k = SURFACES["eval_points"]
        real, fake = real_dist.sample(k, generator=g).float(), fake_dist.sample(k, generator=g)
        base = CriticConfig(steps=steps, batch_size=batch_size, seed=seed, log_every=max(1, steps // 20))
        runs = {"clip": train_critic(real_dist, fake_dist, replace(base, method="clip", lr=SURFACES["clip_lr"],
                                                                   clip_value=SURFACES["clip_value"])),
                "gp": train_critic(real_dist, fake_dist, replace(base, method="gp", lambda_gp=SURFACES["lambda_gp"]))}
        w1 = exact_w1(real_dist.sample(w1_points, generator=g).float(), fake_dist.sample(w1_points, generator=g))
        out[name] = {**runs, "real": real, "fake": fake, "w1": w1}
    return out


# ----------------------------------------------------------------------------- the loss as a metric

#: The tracking runs (section 4 of the lesson): each preset with networks of width 64 (instead of 256:
#: about 4x cheaper per step) and Algorithm 1's batch m = 64, ``steps`` generator steps; the exact W1
#: between ``n_eval`` generated samples (a fixed noise draw) and ``n_eval`` held-out real ones every
#: ``every`` steps. The WGAN run starts as the authors' released code does: 100 critic steps per
#: generator step for the first 25 generator steps (``warmup``), then Algorithm 1's 5.
TRACKING = {"presets": ("wgan-clipping", "mode-collapse"), "data": "ring8", "steps": 500, "every": 25,
            "n_eval": 300, "width": 64, "batch_size": 64, "log_every": 5, "warmup": {"wgan-clipping": (25, 100)}}


def track_run(preset: str, seed: int = 0, steps: int = TRACKING["steps"], every: int = TRACKING["every"],
              n_eval: int = TRACKING["n_eval"], width: int = TRACKING["width"],
              batch_size: int = TRACKING["batch_size"], warmup: tuple | None = None, data: str = TRACKING["data"],
              log_every: int = TRACKING["log_every"], start_inside: float | None = None,
              threads: int | None = None) -> dict:
    """Train ``preset`` (with ``g_width = d_width = width``, ``batch_size``, ``steps``, ``data``,
    ``log_every``, seed ``seed``, on the CPU) and, every ``every`` generator steps, measure

    - ``w1``: the exact W1 (``metrics.exact_w1``, POT) between ``n_eval`` samples of the generator (the
      same noise every time: ``Trainer.sample``) and ``n_eval`` held-out real samples (drawn once);
    - ``estimate``: minus the critic's loss, -L_D, averaged over the history rows recorded since the
      previous measurement (``Trainer.history['loss_d']``, one row every ``log_every`` steps): for a
      WGAN critic its W1 estimate E_r[f] - E_g[f] (a multiple of W1 for a clipped one); for a GAN
      discriminator -L_D = E_r[log D] + E_g[log(1 - D)], which at the optimal D is 2 JS - log 4
      (Goodfellow et al. 2014): its distance estimate, up to a constant.

    ``warmup = (k, n)`` trains the first k generator steps with n critic steps each, then returns to the
    preset's n_critic (the WGAN authors' released code: 100 critic steps for the first 25 generator
    steps). ``start_inside = s`` (method 'wgan' only) scales each of the critic's initial parameter tensors
    so that its largest entry is s * c: a critic that starts inside its box, away from the walls, instead of
    with PyTorch's default initial weights (up to 1 / sqrt(fan_in), much larger than c = 0.01, so that the
    first clamp puts most of them at the walls). Returns a dict: ``preset``, ``seed``, ``step``, ``w1``, ``estimate`` (lists over the
    measurements), ``spearman`` (the rank correlation of estimate and w1 over the run,
    ``scipy.stats.spearmanr``), ``spearman_clock`` (the same for minus the step count and w1: what a clock
    that knows nothing of the samples scores, the shared trend alone), ``spearman_changes`` (the rank
    correlation of the changes from one measurement to the next, np.diff of both series: whether the
    estimate follows W1's moves beyond the trend), ``walls`` (the share of the critic's parameters within 5% of ±c at the end,
    ``plots.weights_at_the_walls``; NaN unless the method is 'wgan'), ``walls_start`` (the same share for the
    initial parameters clamped into [-c, c]: where the first clamp puts them), ``weights`` (every parameter of the
    final critic, float32), ``clip_value`` (None unless 'wgan'), ``modes`` and ``hq_fraction`` of the last
    measurement (2-D mixtures), ``history`` (the trainer's), ``seconds`` (wall) and ``cpu_seconds``.

    Raises:
        ValueError: an unknown preset, or counts below 1.
    """
    from scipy.stats import spearmanr

    from wgan_lessons.metrics import exact_w1, mode_coverage
    from wgan_lessons.plots import weights_at_the_walls
    from wgan_lessons.presets import get_preset
    from wgan_lessons.train import Trainer

    steps = integer(steps, "steps", minimum=1)
    every = integer(every, "every", minimum=1)
    n_eval = integer(n_eval, "n_eval", minimum=2)
    if threads:
        torch.set_num_threads(integer(threads, "threads", minimum=1))
    t0, c0 = time.perf_counter(), time.process_time()
    cfg = get_preset(preset, seed=seed, device="cpu", steps=steps, g_width=width, d_width=width,
                     batch_size=batch_size, data=data, log_every=log_every)
    tr = Trainer(cfg, progress=False)
    real = tr.sample_real(n_eval, seed=seed + 100_003)  # held out: training never draws these
    out = {"preset": preset, "seed": seed, "step": [], "w1": [], "estimate": []}
    n_critic = tr.config.n_critic
    clip = tr.config.clip_value if tr.config.method == "wgan" else None
    if start_inside is not None:
        if not clip:
            raise ValueError("start_inside is for a weight-clipped critic (a preset with method 'wgan')")
        s = number(start_inside, "start_inside", minimum=0.0, strict=True)
        with torch.no_grad():
            for p in tr.critic.parameters():
                p.mul_(s * clip / p.abs().max().clamp_min(1e-30))
    w0 = critic_weights(tr.critic)
    out["walls_start"] = weights_at_the_walls(np.clip(w0, -clip, clip), clip) if clip else float("nan")
    if warmup:
        k, n = (integer(v, "warmup", minimum=1) for v in warmup)
    else:
        k, n = 0, n_critic
    while tr.step < steps:
        target = min(steps, (tr.step // every + 1) * every)
        rows = len(tr.history["step"])
        while tr.step < target:
            if tr.step < k:  # the warm-up: n critic steps per generator step
                tr.update_hparams(n_critic=n)
                tr.run(min(k, target) - tr.step)
                tr.update_hparams(n_critic=n_critic)
            else:
                tr.run(target - tr.step)
            if tr.stop_reason:
                break
        if tr.stop_reason:
            break
        fake = tr.sample(n_eval)
        out["step"].append(tr.step)
        out["w1"].append(exact_w1(fake, real))
        new = tr.history["loss_d"][rows:]
        out["estimate"].append(-float(np.mean(new)) if new else float("nan"))
    est, w1 = np.asarray(out["estimate"]), np.asarray(out["w1"])
    ok = np.isfinite(est) & np.isfinite(w1)
    out["spearman"] = float(spearmanr(est[ok], w1[ok])[0]) if ok.sum() >= 3 else float("nan")
    step = np.asarray(out["step"], dtype=float)
    out["spearman_clock"] = float(spearmanr(-step[ok], w1[ok])[0]) if ok.sum() >= 3 else float("nan")
    d_est, d_w1 = np.diff(est[ok]), np.diff(w1[ok])
    out["spearman_changes"] = float(spearmanr(d_est, d_w1)[0]) if len(d_est) >= 3 else float("nan")
    weights = critic_weights(tr.critic)
    out["clip_value"] = clip
    out["walls"] = weights_at_the_walls(weights, clip) if clip else float("nan")
    out["weights"] = weights.astype(np.float32)
    if tr.dist.centers is not None and out["step"]:
        cov = mode_coverage(fake, tr.dist.centers, tr.dist.std)
        out["modes"], out["hq_fraction"] = cov["modes"], cov["hq_fraction"]
    else:
        out["modes"], out["hq_fraction"] = None, float("nan")
    out["history"] = {key: list(v) for key, v in tr.history.items()}
    out["stop_reason"] = tr.stop_reason
    out["seconds"], out["cpu_seconds"] = time.perf_counter() - t0, time.process_time() - c0
    return out


def _track_args(presets, seeds) -> list[tuple]:
    return [(p, s) for p in presets for s in seeds]


def _track_task(preset: str, seed: int, overrides: dict | None = None, threads: int | None = None) -> dict:
    """One run of :func:`measure_tracking` with the lesson's settings (top level, for worker processes)."""
    kw = dict(overrides or {})
    warmup = TRACKING["warmup"].get(preset)
    kw["warmup"] = kw.get("warmup", warmup) if warmup else None  # only the presets that have a warm-up
    return track_run(preset, seed, threads=threads, **kw)


def measure_tracking(seeds=(0, 1, 2, 3, 4), presets=TRACKING["presets"], workers: int = 1, **overrides) -> list[dict]:
    """:func:`track_run` with the lesson's settings (:data:`TRACKING`, the warm-up for the WGAN) for every
    preset and seed, in the order presets x seeds. ``overrides`` (e.g. ``steps=10, every=5, warmup=(2, 10)``
    for the lessons' fast mode) go to every run (a ``warmup`` only to the presets that have one).
    ``workers > 1`` runs them in that many processes with one torch thread each: the same numbers (CPU
    training is the same with 1 or 2 threads on the AMD CPUs the lessons were measured on; with MKL's Intel
    kernels not always: README, "What is reproducible")."""
    seeds = [integer(s, "seed", minimum=0) for s in seeds]
    return _pool_map(_track_task, [(*a, overrides) for a in _track_args(tuple(presets), seeds)], workers)


# ----------------------------------------------------------------------------- Figure 1(b): deep critics

#: The deep critics (section 7): 12 linear layers (11 hidden ReLU layers of width 64 and the output
#: layer), trained by ``duality.train_critic`` on the Swiss roll against the Swiss roll plus unit
#: Gaussian noise, ``steps`` steps of ``batch_size`` points from each side. Clipped critics use RMSProp
#: with the learning rate c / 200 (the paper's 5e-5 for c = 0.01), so that each step moves a weight by
#: about the same share of its box [-c, c] whatever c is; the penalised one lambda = 10, Adam 1e-3,
#: betas (0, 0.9). The gradients are measured on ``n_measure`` fresh points of each side.
DEPTH = {"data": "swissroll", "clip_values": (0.1, 0.01, 0.001), "hidden_layers": 11, "width": 64, "steps": 150,
         "batch_size": 128, "noise_std": 1.0, "lambda_gp": 10.0, "n_measure": 512}


def deep_critic_config(method: str, clip_value: float | None = None, seed: int = 0, steps: int = DEPTH["steps"]):
    """The :class:`~wgan_lessons.duality.CriticConfig` of one deep critic of :data:`DEPTH`."""
    from wgan_lessons.duality import CriticConfig

    base = CriticConfig(method=method, steps=steps, width=DEPTH["width"], depth=DEPTH["hidden_layers"],
                        batch_size=DEPTH["batch_size"], seed=seed, log_every=max(1, steps),
                        eval_size=DEPTH["n_measure"])
    if method == "clip":
        c = number(clip_value, "clip_value", minimum=0.0, strict=True)
        return replace(base, clip_value=c, lr=c / 200)
    return replace(base, lambda_gp=DEPTH["lambda_gp"])


def deep_critic_run(seed: int = 0, clip_values=DEPTH["clip_values"], steps: int = DEPTH["steps"],
                    threads: int | None = None) -> dict:
    """Figure 1(b) of Gulrajani et al. (2017), one seed: deep critics (:data:`DEPTH`) clipped at each c of
    ``clip_values`` and one with the gradient penalty, all from the same initial weights (seed ``seed``),
    trained by ``duality.train_critic`` against the Swiss roll plus unit Gaussian noise; then
    :func:`layer_gradient_norms` of each on the same fresh measuring batches.

    Returns ``{"seed", "critics": {label: {"activation": (12,), "weight": (12,), "estimate", "walls",
    "spread": spread of the activation norms, "weight_spread", "weights": every parameter (float32)}},
    "init": the same norms for the untrained network, "clamped": {label: the same norms for the untrained
    network with every parameter clamped into [-c, c], no training step}, "cpu_seconds"}`` with labels
    ``"c = 0.1"`` ... and ``"gradient penalty"`` (``"clamped"`` has the clip labels only); ``walls`` is the
    share of parameters within 5% of ±c (NaN for the penalty); ``max_move`` the largest distance of any
    parameter from where it started (for a clipped critic: its initial value clamped into [-c, c]) and
    ``flipped`` the share of parameters whose sign is the opposite of that start's (PyTorch's RMSProp moves
    a parameter by up to 10 learning rates in its first step, its running average of g^2 starting at 0, and
    by about one learning rate per step later while |g| >> eps). Trained and ``clamped`` side by side
    separate what training did from what the first clamp alone does.
    """
    from wgan_lessons.data import get_toy
    from wgan_lessons.duality import train_critic
    from wgan_lessons.nets import mlp_critic
    from wgan_lessons.plots import weights_at_the_walls

    seed = integer(seed, "seed", minimum=0)
    if threads:
        torch.set_num_threads(integer(threads, "threads", minimum=1))
    c0 = time.process_time()
    real_dist = get_toy(DEPTH["data"])
    fake_dist = NoisyData(real_dist, DEPTH["noise_std"])
    g = torch.Generator().manual_seed(seed + 4242)
    n = DEPTH["n_measure"]
    real, fake = real_dist.sample(n, generator=g).float(), fake_dist.sample(n, generator=g)
    with torch.random.fork_rng(devices=[]):  # the untrained network train_critic starts from
        torch.manual_seed(seed)
        init = mlp_critic(2, DEPTH["width"], DEPTH["hidden_layers"])
    n0 = layer_gradient_norms(init, real, fake)
    w_init = critic_weights(init)
    clamped = {}
    for c in clip_values:  # where the first clamp of a clipped critic puts the untrained network
        with torch.no_grad():
            net = losses.clip_weights_(copy.deepcopy(init), c)
        nc = layer_gradient_norms(net, real, fake)
        clamped[f"c = {c:g}"] = {"activation": nc["activation"], "weight": nc["weight"],
                                 "spread": spread(nc["activation"]), "weight_spread": spread(nc["weight"])}
    critics = {}
    for label, method, c in [*((f"c = {c:g}", "clip", c) for c in clip_values), ("gradient penalty", "gp", None)]:
        run = train_critic(real_dist, fake_dist, deep_critic_config(method, c, seed, steps))
        norms = layer_gradient_norms(run.critic, real, fake)
        w = critic_weights(run.critic)
        start = np.clip(w_init, -c, c) if c else w_init  # where the first clamp put the weights
        critics[label] = {"activation": norms["activation"], "weight": norms["weight"], "estimate": run.estimate,
                          "spread": spread(norms["activation"]), "weight_spread": spread(norms["weight"]),
                          "walls": weights_at_the_walls(w, c) if c else float("nan"), "clip_value": c,
                          "weights": w.astype(np.float32),
                          "max_move": float(np.abs(w - start).max()),
                          "flipped": float(np.mean(np.sign(w) * np.sign(start) < 0))}
    return {"seed": seed, "critics": critics,
            "init": {"activation": n0["activation"], "weight": n0["weight"], "spread": spread(n0["activation"]),
                     "weight_spread": spread(n0["weight"])},
            "clamped": clamped, "cpu_seconds": time.process_time() - c0}


def _depth_task(seed: int, steps: int = DEPTH["steps"], threads: int | None = None) -> dict:
    return deep_critic_run(seed, steps=steps, threads=threads)


def measure_depth(seeds=(0, 1, 2, 3, 4), workers: int = 1, steps: int = DEPTH["steps"]) -> list[dict]:
    """:func:`deep_critic_run` for every seed (``workers`` processes with one torch thread each when > 1);
    ``steps`` overrides :data:`DEPTH`'s (the lessons' fast mode)."""
    seeds = [integer(s, "seed", minimum=0) for s in seeds]
    steps = integer(steps, "steps", minimum=1)
    return _pool_map(_depth_task, [(s, steps) for s in seeds], workers)


# ----------------------------------------------------------------------------- the claims


def _pool_map(fn, args: list[tuple], workers: int) -> list:
    """``[fn(*a) for a in args]``, or the same in ``workers`` spawned processes with one torch thread each."""
    workers = integer(workers, "workers", minimum=1)
    if workers == 1 or len(args) < 2:
        return [fn(*a) for a in args]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(fn, *a, threads=1) for a in args]
        return [f.result() for f in futures]


def _claims_task(kind: str, args: tuple, threads: int | None = None):
    return _track_task(*args, threads=threads) if kind == "track" else _depth_task(*args, threads=threads)


def measure_clipping_claims(seeds=(0, 1, 2, 3, 4), workers: int = 1, depth_steps: int = DEPTH["steps"],
                            **tracking_overrides) -> dict:
    """The lesson's three 5-seed measurements in one pool of ``workers`` processes: ``{"tracking":
    measure_tracking(seeds, **tracking_overrides), "depth": measure_depth(seeds, steps=depth_steps),
    "inside": [the WGAN run of the first seed, its critic started inside its box: track_run(...,
    start_inside=0.5)]}``, the same rows as the separate calls (the longest runs, the WGAN's, are handed out
    first). The overrides are for the lessons' fast mode; the claims use the defaults."""
    seeds = [integer(s, "seed", minimum=0) for s in seeds]
    depth_steps = integer(depth_steps, "depth_steps", minimum=1)
    wgan = TRACKING["presets"][0]
    tasks = [("track", (*a, tracking_overrides)) for a in _track_args(TRACKING["presets"], seeds)]
    tasks.insert(len(seeds), ("track", (wgan, seeds[0], {**tracking_overrides, "start_inside": 0.5})))
    tasks += [("depth", (s, depth_steps)) for s in seeds]
    results = _pool_map(_claims_task, tasks, workers)
    n = len(seeds)
    inside = results.pop(n)
    m = len(TRACKING["presets"]) * n
    return {"tracking": results[:m], "depth": results[m:], "inside": [inside]}


def claims_summary(tracking: list[dict], depth: list[dict]) -> dict:
    """The numbers the lesson's claims quote, from :func:`measure_tracking` and :func:`measure_depth` rows:

    - ``spearman``: {preset: [rho per seed]}; ``wins``: seeds where the WGAN's rho exceeds the GAN's;
      ``clock`` and ``changes``: {preset: [per seed]} of :func:`track_run`'s ``spearman_clock`` and
      ``spearman_changes`` (NaN for rows without them);
    - ``walls``: the clipped critic's share of parameters at the walls, per seed, at the end of its run;
      ``walls_start``: the same share of its initial parameters clamped into the box;
    - ``spread``: {label: [activation-norm spread per seed]} for each deep critic and ``"init"``;
      ``weight_spread`` likewise for the weight gradients; ``clamped_spread``: {clip label: [spread per
      seed]} of the untrained network only clamped into [-c, c].
    """
    wgan, gan = TRACKING["presets"]
    by = {p: sorted((r for r in tracking if r["preset"] == p), key=lambda r: r["seed"]) for p in (wgan, gan)}
    rho = {p: [r["spearman"] for r in rows] for p, rows in by.items()}
    wins = sum(a > b for a, b in zip(rho[wgan], rho[gan]))
    depth = sorted(depth, key=lambda r: r["seed"])
    labels = list(depth[0]["critics"]) if depth else []
    clock = {p: [r.get("spearman_clock", float("nan")) for r in rows] for p, rows in by.items()}
    changes = {p: [r.get("spearman_changes", float("nan")) for r in rows] for p, rows in by.items()}
    return {"seeds": [r["seed"] for r in by[wgan]], "spearman": rho, "wins": wins, "clock": clock,
            "changes": changes,
            "walls": [r["walls"] for r in by[wgan]], "walls_start": [r["walls_start"] for r in by[wgan]],
            "spread": {**{lab: [d["critics"][lab]["spread"] for d in depth] for lab in labels},
                       "init": [d["init"]["spread"] for d in depth]},
            "weight_spread": {**{lab: [d["critics"][lab]["weight_spread"] for d in depth] for lab in labels},
                              "init": [d["init"]["weight_spread"] for d in depth]},
            "clamped_spread": {lab: [d["clamped"][lab]["spread"] for d in depth]
                               for lab in (depth[0].get("clamped", {}) if depth else {})}}
