"""Kantorovich-Rubinstein duality, and a critic trained between two fixed distributions (lesson 04).

The maths. For weights a (n,) on points x_i and b (m,) on points y_j (each summing to 1) and the
cost C_ij = ||x_i - y_j||_2, lesson 03's linear program has a dual:

    W1 = min_{P >= 0, P 1 = a, P^T 1 = b} sum_ij P_ij C_ij = max_{u_i + v_j <= C_ij} a.u + b.v.

(u, v) are the *dual potentials*, one number per point. Weak duality is one line: for any plan P and
feasible (u, v), sum_ij P_ij C_ij >= sum_ij P_ij (u_i + v_j) = a.u + b.v; linear programming gives
equality at the optimum (strong duality), and POT's ``ot.emd(a, b, C, log=True)`` returns the optimal
u and v with a.u + b.v = the optimal cost.

Because C is a distance, two potentials collapse into one (the *c-transform*): for feasible (u, v) put

    f(z) = min_j ( ||z - y_j|| - v_j )        for every point z of the plane.

f is 1-Lipschitz (|f(z) - f(z')| <= ||z - z'||: a minimum of 1-Lipschitz functions), f(x_i) >= u_i
(feasibility) and f(y_j) <= -v_j (take j itself in the minimum), so u = f(x), v = -f(y) is feasible
and no worse. Hence

    W1 = max over 1-Lipschitz f of  sum_i a_i f(x_i) - sum_j b_j f(y_j)  =  E_mu[f] - E_nu[f],

the Kantorovich-Rubinstein duality (Villani 2009, Remark 6.5; Arjovsky, Chintala and Bottou 2017,
section 3, where f is the WGAN *critic*). At the optimum f(x_i) = u_i and f(y_j) = -v_j on the support.

This module:

- :func:`dual_potential`: POT's optimal potentials for two uniform point clouds, as a
  :class:`DualPotential` that evaluates the c-transform f anywhere (:func:`c_transform`).
- :class:`CriticConfig` / :func:`train_critic`: a critic (``nets.mlp_critic``) trained between two
  *fixed* samples (or samplers) with the gradient penalty (WGAN-GP, Gulrajani et al. 2017) or weight
  clipping (WGAN, Arjovsky et al. 2017, Algorithm 1), with a history of its estimate
  E_r[f] - E_g[f]. Seeded by its own ``torch.Generator``: the global random state is never touched.
- :func:`critic_values`, :func:`critic_estimate`, :func:`gradient_norms`, :func:`max_slope`,
  :func:`compare_potentials`: what the lesson measures and plots.
- :func:`ring_and_blob` and :func:`measure_critic_claims`: the lesson's fixed pair of distributions
  and its 5-seed claim, re-measured by ``tests/test_lesson_04_claims.py``.
"""

from __future__ import annotations

import contextlib
import time
import warnings
from dataclasses import dataclass, field, replace

import numpy as np
import torch
from torch import nn

from wgan_lessons import losses
from wgan_lessons.checks import integer, number
from wgan_lessons.nets import mlp_critic

__all__ = [
    "c_transform",
    "DualPotential",
    "dual_potential",
    "CriticConfig",
    "CriticRun",
    "train_critic",
    "critic_values",
    "critic_estimate",
    "random_interpolates",
    "gradient_norms",
    "max_slope",
    "compare_potentials",
    "ring_and_blob",
    "PAIR",
    "CLAIM_CONFIG",
    "measure_critic_claims",
    "claims_summary",
]

METHODS = ("gp", "clip")


# ----------------------------------------------------------------------------- input checks


def _cloud(x, name: str) -> np.ndarray:
    """Points as a float64 (n, d) array, checked: 2-D, not empty, finite."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().double().numpy()
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an array of points of shape (n, d), got {type(x).__name__}") from None
    if arr.ndim != 2:
        raise ValueError(f"{name} must have shape (n, d) (one point per row), got shape {arr.shape}; "
                         "for 1-D data use x[:, None]")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}): pass at least one point")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or inf")
    return arr


def _same_dim(x: np.ndarray, y: np.ndarray, names=("x", "y")) -> None:
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"{names[0]} and {names[1]} live in different dimensions: {x.shape[1]} vs {y.shape[1]}")


# ----------------------------------------------------------------------------- the dual potential


def c_transform(z, y, v) -> np.ndarray:
    """The c-transform of the potential v for the cost ||.||_2: f(z_k) = min_j ( ||z_k - y_j||_2 - v_j ).

    f is 1-Lipschitz on the whole space (a minimum of the 1-Lipschitz functions z -> ||z - y_j|| - v_j),
    and for an optimal v of the W1 dual it is an optimal Kantorovich-Rubinstein potential: f(y_j) = -v_j
    and f(x_i) = u_i on the support (see the module docstring).

    Args:
        z: (k, d) points where f is wanted.
        y: (m, d) the points that carry v.
        v: (m,) the potential on y.

    Returns:
        (k,) float64 numpy array.

    Raises:
        ValueError: shapes that do not fit, empty or non-finite input.
    """
    z, y = _cloud(z, "z"), _cloud(y, "y")
    _same_dim(z, y, ("z", "y"))
    v = np.asarray(v.detach().cpu().double().numpy() if isinstance(v, torch.Tensor) else v, dtype=np.float64)
    if v.shape != (y.shape[0],):
        raise ValueError(f"v must have one value per point of y, shape ({y.shape[0]},), got {v.shape}")
    if not np.isfinite(v).all():
        raise ValueError("v contains NaN or inf")
    out = np.empty(z.shape[0])
    chunk = max(1, 2_000_000 // y.shape[0])  # at most ~16 MB of distances at a time
    for s in range(0, z.shape[0], chunk):
        d = np.sqrt(((z[s:s + chunk, None, :] - y[None, :, :]) ** 2).sum(-1))  # (chunk, m)
        out[s:s + chunk] = (d - v[None, :]).min(axis=1)
    return out


@dataclass
class DualPotential:
    """The optimal dual of exact W1 between uniform clouds x (n, d) and y (m, d), from POT.

    Attributes:
        x, y: the two clouds (float64 numpy). a, b: their uniform weights, 1/n and 1/m.
        u: (n,) and v: (m,) POT's optimal potentials, u_i + v_j <= ||x_i - y_j|| and a.u + b.v = w1.
        w1: the exact W1 (POT's optimal cost).
        plan: (n, m) the optimal plan P.

    Calling it, ``pot(z)``, evaluates the 1-Lipschitz Kantorovich-Rubinstein potential
    f(z) = min_j ( ||z - y_j|| - v_j ) (:func:`c_transform`) at points z (k, d): the function a perfect
    critic would be, up to a constant. E_x[f] - E_y[f] = w1.
    """

    x: np.ndarray
    y: np.ndarray
    a: np.ndarray
    b: np.ndarray
    u: np.ndarray
    v: np.ndarray
    w1: float
    plan: np.ndarray

    def __call__(self, z) -> np.ndarray:
        return c_transform(z, self.y, self.v)

    def grad(self, z) -> np.ndarray:
        """The gradient of f at points z (k, d), shape (k, d): (z - y_j*) / ||z - y_j*|| for the j* that
        attains the minimum, a unit vector wherever that j* is unique and z is not y_j* (almost
        everywhere): the exact potential has slope exactly 1. Where z = y_j*, the gradient is 0."""
        z = _cloud(z, "z")
        _same_dim(z, self.y, ("z", "y"))
        d = np.sqrt(((z[:, None, :] - self.y[None, :, :]) ** 2).sum(-1))  # (k, m)
        j = (d - self.v[None, :]).argmin(axis=1)  # (k,)
        diff = z - self.y[j]
        norm = np.linalg.norm(diff, axis=1, keepdims=True)
        return np.divide(diff, norm, out=np.zeros_like(diff), where=norm > 0)

    @property
    def dual_value(self) -> float:
        """a.u + b.v, the dual objective (equal to w1 up to round-off)."""
        return float(self.a @ self.u + self.b @ self.v)

    def max_violation(self) -> float:
        """max_ij (u_i + v_j - ||x_i - y_j||): <= 0 up to round-off for a feasible pair."""
        cost = np.sqrt(((self.x[:, None, :] - self.y[None, :, :]) ** 2).sum(-1))
        return float((self.u[:, None] + self.v[None, :] - cost).max())


def dual_potential(x, y, num_itermax: int = 1_000_000) -> DualPotential:
    """Solve exact W1 between the uniform empirical measures of ``x`` (n, d) and ``y`` (m, d) with
    POT's network simplex, ``ot.emd(a, b, C, log=True)`` with the Euclidean cost C_ij = ||x_i - y_j||
    (``metric='euclidean'``, not ``ot.dist``'s squared default), and return its optimal dual potentials
    (see :class:`DualPotential`).

    Raises:
        ValueError: x or y not of shape (n, d), empty, non-finite, or of different dimensions.
        RuntimeWarning (a warning): the solver stopped at ``num_itermax`` (raise it, or use fewer points).
    """
    import ot

    x, y = _cloud(x, "x"), _cloud(y, "y")
    _same_dim(x, y)
    num_itermax = integer(num_itermax, "num_itermax", minimum=1)
    a, b = np.full(len(x), 1.0 / len(x)), np.full(len(y), 1.0 / len(y))
    cost = ot.dist(x, y, metric="euclidean")  # (n, m): W1's cost, NOT ot.dist's squared default
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plan, log = ot.emd(a, b, cost, numItermax=num_itermax, log=True)
    for w in caught:
        if not (log.get("warning") and "numItermax" in str(w.message)):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if log.get("warning"):
        from wgan_lessons.checks import warn_outside

        warn_outside(f"POT's exact solver stopped early ({log['warning']}); the potentials may not be optimal. "
                     f"Raise num_itermax (now {num_itermax}) or use fewer points.", RuntimeWarning)
    return DualPotential(x=x, y=y, a=a, b=b, u=np.asarray(log["u"], dtype=np.float64),
                         v=np.asarray(log["v"], dtype=np.float64), w1=float(log["cost"]), plan=np.asarray(plan))


# ----------------------------------------------------------------------------- training a critic


@dataclass(frozen=True)
class CriticConfig:
    """How :func:`train_critic` trains a critic f between two fixed distributions.

    Attributes:
        method: ``'gp'``: maximise E_r[f] - E_g[f] - lambda E[(||grad f(x_hat)||_2 - 1)^2] with x_hat
            on random segments between real and fake points (Gulrajani et al. 2017, Algorithm 1), with
            Adam; ``'clip'``: maximise E_r[f] - E_g[f] with RMSProp and clamp every weight into
            [-clip_value, clip_value] after each step (Arjovsky et al. 2017, Algorithm 1).
        steps: critic updates (there is no generator: the two distributions stay fixed).
        lambda_gp: the penalty weight lambda ('gp'). The paper's 10.
        clip_value: c ('clip'). The paper's 0.01.
        lr: the learning rate; None takes ``1e-3`` for 'gp' (ten times the paper's 1e-4: a few hundred
            steps instead of thousands, tested stable on the lesson's pair) and the paper's ``5e-5``
            for 'clip'.
        betas: Adam's betas for 'gp': the paper's (0, 0.9).
        batch_size: points per step from each side; None uses every point of a fixed sample at every
            step (full batch). Required for a sampler.
        width, depth: the critic, ``nets.mlp_critic(2, width, depth)`` (ReLU, no batch norm).
        seed: seeds the critic's initial weights and every draw of training (batches, pairs, eps).
        log_every: record the estimate every this many steps (and at step 0 and at the end).
        eval_size: for a sampler, the size of the fixed evaluation sample the estimate is taken on.
        threads: torch's CPU threads while training (the previous setting is restored afterwards); None
            leaves torch's setting. One is the default: these networks are too small to gain from a
            second thread, and two threads crawl when another program uses a core (measured on the shared
            2-core machine: 10 ms against 114 ms per 'gp' step). CPU results are the same for 1 or 2 threads
            on the AMD CPUs the lessons were measured on (MKL's Intel kernels: not always; README).
    """

    method: str = "gp"
    steps: int = 500
    lambda_gp: float = 10.0
    clip_value: float = 0.01
    lr: float | None = None
    betas: tuple = (0.0, 0.9)
    batch_size: int | None = None
    width: int = 128
    depth: int = 3
    seed: int = 0
    log_every: int = 10
    eval_size: int = 1000
    threads: int | None = 1

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"method must be 'gp' (gradient penalty) or 'clip' (weight clipping), got {self.method!r}")
        object.__setattr__(self, "steps", integer(self.steps, "steps", minimum=0))
        object.__setattr__(self, "lambda_gp", number(self.lambda_gp, "lambda_gp", minimum=0.0))
        object.__setattr__(self, "clip_value", number(self.clip_value, "clip_value", minimum=0.0, strict=True))
        if self.lr is not None:
            object.__setattr__(self, "lr", number(self.lr, "lr", minimum=0.0, strict=True))
        betas = tuple(self.betas)
        if len(betas) != 2 or not all(0.0 <= number(b, "betas") < 1.0 for b in betas):
            raise ValueError(f"betas must be two numbers in [0, 1), got {self.betas!r}")
        object.__setattr__(self, "betas", tuple(float(b) for b in betas))
        if self.batch_size is not None:
            object.__setattr__(self, "batch_size", integer(self.batch_size, "batch_size", minimum=1))
        object.__setattr__(self, "width", integer(self.width, "width", minimum=1))
        object.__setattr__(self, "depth", integer(self.depth, "depth", minimum=1))
        object.__setattr__(self, "seed", integer(self.seed, "seed", minimum=0))
        object.__setattr__(self, "log_every", integer(self.log_every, "log_every", minimum=1))
        object.__setattr__(self, "eval_size", integer(self.eval_size, "eval_size", minimum=1))
        if self.threads is not None:
            object.__setattr__(self, "threads", integer(self.threads, "threads", minimum=1))

    @property
    def learning_rate(self) -> float:
        return self.lr if self.lr is not None else (1e-3 if self.method == "gp" else 5e-5)


@dataclass
class CriticRun:
    """What :func:`train_critic` returns.

    Attributes:
        critic: the trained f, (B, d) -> (B,), in eval mode.
        config: the :class:`CriticConfig` it was trained with.
        history: lists over the recorded steps: ``step``; ``estimate``, E_r[f] - E_g[f] on the fixed
            samples (the evaluation samples for samplers); ``loss``, the critic's loss on that step's
            batch (with the penalty for 'gp'); ``penalty`` (0 for 'clip').
        real, fake: the (n, d) float32 tensors the estimate is taken on.
        seconds: training time.
    """

    critic: nn.Module
    config: CriticConfig
    history: dict = field(default_factory=dict)
    real: torch.Tensor | None = None
    fake: torch.Tensor | None = None
    seconds: float = 0.0

    @property
    def estimate(self) -> float:
        """The final estimate E_r[f] - E_g[f] (the last entry of the history)."""
        return float(self.history["estimate"][-1])

    def __call__(self, z) -> np.ndarray:
        """f at points z (k, d), as a float64 numpy array."""
        return critic_values(self.critic, z)


def _is_sampler(obj) -> bool:
    return hasattr(obj, "sample") and callable(obj.sample) and not isinstance(obj, (torch.Tensor, np.ndarray))


def _fixed(x, name: str) -> torch.Tensor:
    return torch.as_tensor(_cloud(x, name), dtype=torch.float32)


def _batch(source, fixed: torch.Tensor | None, size: int | None, g: torch.Generator) -> torch.Tensor:
    if fixed is None:  # a sampler
        return source.sample(size, generator=g).float()
    if size is None:
        return fixed
    return fixed[torch.randint(0, fixed.shape[0], (size,), generator=g)]


@torch.no_grad()
def critic_values(critic: nn.Module, z) -> np.ndarray:
    """f(z) for points z (k, d) as a float64 numpy array (no gradient; the critic's mode is kept)."""
    z = torch.as_tensor(_cloud(z, "z"), dtype=torch.float32)
    return critic(z).double().numpy()


@torch.no_grad()
def critic_estimate(critic: nn.Module, real, fake) -> float:
    """The critic's W1 estimate E_r[f] - E_g[f], the means over the points ``real`` (n, d) and ``fake`` (m, d).
    It is -L for the critic loss L = E_g[f] - E_r[f] (``losses.wasserstein_critic_loss``)."""
    r, f = _fixed(real, "real"), _fixed(fake, "fake")
    _same_dim(r.numpy(), f.numpy(), ("real", "fake"))
    return float(-losses.wasserstein_critic_loss(critic(r), critic(f)))


@contextlib.contextmanager
def _torch_threads(n: int | None):
    """torch's intra-op threads set to n inside the block (None: unchanged), restored afterwards."""
    old = torch.get_num_threads()
    if n is not None and n != old:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if torch.get_num_threads() != old:
            torch.set_num_threads(old)


def train_critic(real, fake, config: CriticConfig = CriticConfig()) -> CriticRun:
    """Train a critic f between two fixed distributions, the real one and the 'generated' one.

    Each step draws a batch from each side (every point when ``batch_size`` is None), and the critic
    takes one optimiser step on L = E_g[f] - E_r[f] (``losses.wasserstein_critic_loss``), plus for 'gp'
    ``losses.gradient_penalty`` at x_hat = eps x + (1 - eps) x~ on random real-fake pairs, one eps per
    pair; for 'clip' every weight is clamped into [-c, c] after the step (``losses.clip_weights_``).
    By Kantorovich-Rubinstein duality the maximum of E_r[f] - E_g[f] over 1-Lipschitz f is W1, so
    the recorded estimate approaches W1 for a critic held near the 1-Lipschitz class ('gp'), and a
    multiple of it for a clipped one (its Lipschitz constant is set by c, not 1).

    Args:
        real, fake: (n, d) and (m, d) fixed samples (numpy or torch), or samplers with
            ``sample(n, generator=...)`` (``data.get_toy('ring8')``); then ``config.batch_size`` is
            required and the estimate is taken on fixed evaluation samples of ``config.eval_size``.
        config: a :class:`CriticConfig`.

    Returns:
        A :class:`CriticRun`.

    Raises:
        ValueError: bad shapes or values, a sampler without ``batch_size``, or a config that is not a
            :class:`CriticConfig`.
    """
    if not isinstance(config, CriticConfig):
        raise ValueError(f"config must be a CriticConfig, got {type(config).__name__}; "
                         "build one with CriticConfig(method='gp', steps=...)")
    with _torch_threads(config.threads):
        return _train_critic(real, fake, config)


def _train_critic(real, fake, cfg: CriticConfig) -> CriticRun:
    samplers = [_is_sampler(s) for s in (real, fake)]
    if any(samplers) and cfg.batch_size is None:
        raise ValueError("a sampler gives no fixed set of points to use whole: set CriticConfig(batch_size=...)")
    eval_g = torch.Generator().manual_seed(cfg.seed + 7919)  # evaluation draws never touch training's stream
    fixed = [None if s else _fixed(src, name) for s, src, name in zip(samplers, (real, fake), ("real", "fake"))]
    evals = [src.sample(cfg.eval_size, generator=eval_g).float() if s else fx
             for s, src, fx in zip(samplers, (real, fake), fixed)]
    dim = evals[0].shape[1]
    _same_dim(evals[0].numpy(), evals[1].numpy(), ("real", "fake"))

    with torch.random.fork_rng(devices=[]):  # the initial weights, without touching the global state
        torch.manual_seed(cfg.seed)
        critic = mlp_critic(dim, cfg.width, cfg.depth)
    g = torch.Generator().manual_seed(cfg.seed + 1)
    if cfg.method == "gp":  # fused / foreach: the same update in fewer operations
        opt = torch.optim.Adam(critic.parameters(), lr=cfg.learning_rate, betas=cfg.betas, fused=True)
    else:
        opt = torch.optim.RMSprop(critic.parameters(), lr=cfg.learning_rate, foreach=True)
    history = {"step": [], "estimate": [], "loss": [], "penalty": []}

    def record(step, loss, pen):
        critic.eval()
        history["step"].append(step)
        history["estimate"].append(critic_estimate(critic, evals[0], evals[1]))
        history["loss"].append(loss)
        history["penalty"].append(pen)
        critic.train()

    record(0, float("nan"), float("nan"))
    t0 = time.perf_counter()
    for step in range(1, cfg.steps + 1):
        r = _batch(real, fixed[0], cfg.batch_size, g)
        f = _batch(fake, fixed[1], cfg.batch_size, g)
        scores = critic(torch.cat([r, f]))  # one pass for both batches (no batch norm: rows are independent)
        loss = losses.wasserstein_critic_loss(scores[:len(r)], scores[len(r):])
        pen = torch.zeros(())
        if cfg.method == "gp" and cfg.lambda_gp > 0:
            k = min(len(r), len(f))  # random real-fake pairs for the interpolates
            ir = torch.randperm(len(r), generator=g)[:k]
            jf = torch.randperm(len(f), generator=g)[:k]
            pen = losses.gradient_penalty(critic, r[ir], f[jf], cfg.lambda_gp, generator=g)
        opt.zero_grad(set_to_none=True)
        (loss + pen).backward()
        opt.step()
        if cfg.method == "clip":
            losses.clip_weights_(critic, cfg.clip_value)  # after the step (Algorithm 1, line 7)
        if step % cfg.log_every == 0 or step == cfg.steps:
            record(step, float((loss + pen).detach()), float(pen.detach()))
    seconds = time.perf_counter() - t0
    critic.eval()
    return CriticRun(critic=critic, config=cfg, history=history, real=evals[0], fake=evals[1], seconds=seconds)


# ----------------------------------------------------------------------------- what the lesson measures


def random_interpolates(real, fake, k: int | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
    """k points eps x + (1 - eps) x~ on the segments between random pairs of a point x of ``real`` (n, d)
    and a point x~ of ``fake`` (m, d), each drawn uniformly with replacement, one eps ~ U[0, 1] per pair
    (``losses.interpolate``): where the gradient penalty looks. k defaults to min(n, m); ``generator``
    defaults to one seeded with 0, so the same call gives the same points. Returns a (k, d) float32 tensor.

    Raises:
        ValueError: shapes that do not fit, or k below 1.
    """
    r, f = _fixed(real, "real"), _fixed(fake, "fake")
    _same_dim(r.numpy(), f.numpy(), ("real", "fake"))
    k = min(len(r), len(f)) if k is None else integer(k, "k", minimum=1)
    g = torch.Generator().manual_seed(0) if generator is None else generator
    ir = torch.randint(0, len(r), (k,), generator=g)
    jf = torch.randint(0, len(f), (k,), generator=g)
    return losses.interpolate(r[ir], f[jf], generator=g)


def gradient_norms(critic: nn.Module, real, fake, n_between: int | None = None,
                   generator: torch.Generator | None = None) -> dict:
    """The critic's per-point gradient norms ||grad f(z)||_2 (``losses.critic_grad_norm``).

    Returns ``{"data": (n + m,), "between": (k,)}`` float64 numpy arrays: the norms at every point of
    ``real`` (n, d) and ``fake`` (m, d), and at k = ``n_between`` (default min(n, m)) random
    interpolates eps x + (1 - eps) x~ of random real-fake pairs (``losses.interpolate``: where the
    gradient penalty looks). A 1-Lipschitz f has every norm <= 1; the optimal one has norm 1 along
    the segments that carry mass.

    Raises:
        ValueError: shapes that do not fit, or a critic with batch norm in training mode.
    """
    r, f = _fixed(real, "real"), _fixed(fake, "fake")
    between = random_interpolates(r, f, n_between, generator)
    data = torch.cat([r, f])
    return {"data": losses.critic_grad_norm(critic, data).detach().double().numpy(),
            "between": losses.critic_grad_norm(critic, between).detach().double().numpy()}


def max_slope(values, points) -> float:
    """The largest |f(p) - f(q)| / ||p - q||_2 over all pairs of distinct ``points`` (k, d), given
    ``values`` = f(points) (k,): a lower bound of f's Lipschitz constant (f is 1-Lipschitz only if
    this is <= 1). Pairs of coincident points are skipped.

    Raises:
        ValueError: fewer than two distinct points, or shapes that do not fit.
    """
    p = _cloud(points, "points")
    val = np.asarray(values.detach().cpu().double().numpy() if isinstance(values, torch.Tensor) else values,
                     dtype=np.float64)
    if val.shape != (p.shape[0],):
        raise ValueError(f"values must have one entry per point, shape ({p.shape[0]},), got {val.shape}")
    if not np.isfinite(val).all():
        raise ValueError("values contains NaN or inf")
    d = np.sqrt(((p[:, None, :] - p[None, :, :]) ** 2).sum(-1))  # (k, k)
    diff = np.abs(val[:, None] - val[None, :])
    ok = d > 0
    if not ok.any():
        raise ValueError("max_slope needs at least two distinct points")
    return float((diff[ok] / d[ok]).max())


def compare_potentials(f_values, ref_values) -> dict:
    """How well f agrees with a reference potential up to a constant, on the same points (k,).

    Returns ``{"correlation", "offset", "rms", "relative_rms"}``: the Pearson correlation of f and the
    reference (unchanged by adding a constant to either), the constant offset = mean(f - ref), the
    root-mean-square of f - ref - offset (what is left after removing the constant), and that divided
    by the standard deviation of the reference (0: equal up to a constant; about 1.4: unrelated).

    Raises:
        ValueError: shapes that differ, fewer than two points, non-finite values, or a constant reference.
    """
    f = np.asarray(f_values, dtype=np.float64).ravel()
    r = np.asarray(ref_values, dtype=np.float64).ravel()
    if f.shape != r.shape:
        raise ValueError(f"f_values and ref_values must have the same number of points, got {f.size} and {r.size}")
    if f.size < 2:
        raise ValueError("compare_potentials needs at least two points")
    if not (np.isfinite(f).all() and np.isfinite(r).all()):
        raise ValueError("f_values or ref_values contains NaN or inf")
    if r.std() == 0:
        raise ValueError("ref_values is constant: a correlation with it is not defined")
    offset = float((f - r).mean())
    rms = float(np.sqrt(np.mean((f - r - offset) ** 2)))
    corr = float(np.corrcoef(f, r)[0, 1]) if f.std() > 0 else 0.0
    return {"correlation": corr, "offset": offset, "rms": rms, "relative_rms": rms / float(r.std())}


# ----------------------------------------------------------------------------- the lesson's pair and claim

#: The lesson's fixed pair: n points of ``data.ring8`` (8 Gaussians at radius 2/1.414, std 0.02/1.414:
#: the WGAN-GP toy script's ring) as the real distribution, and n points of an isotropic Gaussian blob
#: N((shift, 0), blob_std^2 I) as the generated one.
PAIR = {"n": 256, "shift": 1.0, "blob_std": 0.5}


def ring_and_blob(n: int = PAIR["n"], shift: float = PAIR["shift"], blob_std: float = PAIR["blob_std"],
                  seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """The lesson's fixed pair of samples: ``real`` = n points of the 8-Gaussian ring (``ring8``),
    ``fake`` = n points of N((shift, 0), blob_std^2 I), both (n, 2) float32, drawn from
    ``torch.Generator().manual_seed(seed)`` (ring first)."""
    from wgan_lessons.data import _check_n, get_toy

    n = _check_n(n)
    shift = number(shift, "shift")
    blob_std = number(blob_std, "blob_std", minimum=0.0)
    g = torch.Generator().manual_seed(integer(seed, "seed", minimum=0))
    real = get_toy("ring8").sample(n, generator=g).float()
    fake = blob_std * torch.randn(n, 2, generator=g) + torch.tensor([shift, 0.0])
    return real, fake


#: The claim's training runs: 'gp' (lambda 10, Adam 1e-3, betas (0, 0.9)) and 'clip' (c = 0.01, RMSProp 5e-5), full batch, 1000 steps.
CLAIM_CONFIG = CriticConfig(method="gp", steps=1000, log_every=1000)


def _claim_one(seed: int, n: int, steps: int, lambda_gp: float, clip_value: float, threads: int | None = None) -> dict:
    """One seed of :func:`measure_critic_claims` (top level, so worker processes can run it)."""
    if threads:
        torch.set_num_threads(threads)
    real, fake = ring_and_blob(n=n, seed=seed)
    pot = dual_potential(real, fake)
    w1 = pot.w1
    base = replace(CLAIM_CONFIG, steps=steps, seed=seed, lambda_gp=lambda_gp, clip_value=clip_value, log_every=steps)
    gp = train_critic(real, fake, replace(base, method="gp"))
    clip = train_critic(real, fake, replace(base, method="clip"))
    support = np.concatenate([pot.x, pot.y])
    ref = np.concatenate([pot.u, -pot.v])  # the exact potential on the 2n points
    agree_gp = compare_potentials(gp(support), ref)
    agree_clip = compare_potentials(clip(support), ref)
    # the same interpolates as the lesson's section 6 (generator seeded with 1)
    gp_norms = gradient_norms(gp.critic, real, fake, generator=torch.Generator().manual_seed(1))
    clip_norms = gradient_norms(clip.critic, real, fake, generator=torch.Generator().manual_seed(1))
    return {"seed": seed, "w1": w1, "gp": gp.estimate, "clip": clip.estimate,
            "gp_rel_err": (gp.estimate - w1) / w1, "clip_k": clip.estimate / w1,
            "gp_corr": agree_gp["correlation"], "gp_relative_rms": agree_gp["relative_rms"],
            "clip_corr": agree_clip["correlation"],
            "gp_grad_median": float(np.median(gp_norms["between"])),
            "clip_grad_median": float(np.median(clip_norms["between"])),
            "gp_seconds": gp.seconds, "clip_seconds": clip.seconds}


def measure_critic_claims(seeds=(0, 1, 2, 3, 4), n: int = PAIR["n"], steps: int = CLAIM_CONFIG.steps,
                          lambda_gp: float = 10.0, clip_value: float = 0.01, workers: int = 1) -> list[dict]:
    """The lesson's measured claim, one row per seed: on :func:`ring_and_blob` (drawn with that seed),
    the exact W1 (``w1``, POT), the final estimates E_r[f] - E_g[f] of a critic trained with the
    gradient penalty (``gp``) and with weight clipping (``clip``), both with that seed and
    :data:`CLAIM_CONFIG`, the relative error (gp - w1) / w1 (``gp_rel_err``), the clipped critic's
    scale K = clip / w1 (``clip_k``), each critic's agreement with the exact potential on the 2n points
    (``gp_corr``, ``gp_relative_rms``, ``clip_corr``: :func:`compare_potentials`), each critic's median
    gradient norm at n random interpolates (``gp_grad_median``, ``clip_grad_median``: :func:`gradient_norms`
    with a generator seeded with 1) and the training seconds. ``workers > 1`` runs seeds in that many processes
    with one torch thread each (the same numbers, in less wall time on a multi-core machine)."""
    seeds = [integer(s, "seed", minimum=0) for s in seeds]
    n = integer(n, "n", minimum=2)
    steps = integer(steps, "steps", minimum=1)
    workers = integer(workers, "workers", minimum=1)
    args = [(s, n, steps, float(lambda_gp), float(clip_value)) for s in seeds]
    if workers == 1 or len(args) < 2:
        return [_claim_one(*a) for a in args]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(pool.map(_claim_one, *zip(*args), [1] * len(args)))


def claims_summary(rows: list[dict], tolerance: float = 0.10) -> dict:
    """How many seeds' GP estimates lie within ``tolerance`` (relative) of the exact W1, and the range
    of the clipped critic's scale K."""
    within = [abs(r["gp_rel_err"]) <= tolerance for r in rows]
    ks = [r["clip_k"] for r in rows]
    return {"within": int(sum(within)), "seeds": len(rows), "tolerance": tolerance,
            "k_min": float(min(ks)), "k_max": float(max(ks)),
            "rel_err_min": float(min(r["gp_rel_err"] for r in rows)),
            "rel_err_max": float(max(r["gp_rel_err"] for r in rows))}
