"""The one training loop of the course: GAN, non-saturating GAN, WGAN and WGAN-GP.

``TrainConfig`` (a dataclass) says what to train; ``Trainer`` holds the networks, the
optimisers, the random stream and the history, and trains in chunks (``trainer.run(n)``),
which is what the notebooks' widgets need; ``train(config)`` runs it to the end.

Per-method defaults (a field left as ``None`` takes the default of its method and data):

==========  ==========  ================  =============  ==========  ===========================
method      optimizer   lr (G and D)      betas          n_critic    other
==========  ==========  ================  =============  ==========  ===========================
gan         Adam        1e-4              (0.5, 0.999)   1           minimax (saturating) G loss
nsgan       Adam        1e-4              (0.5, 0.999)   1           non-saturating G loss
wgan        RMSProp     5e-5              --             5           clip_value = 0.01
wgan-gp     Adam        1e-4              (0.5, 0.9)     5           lambda_gp = 0.1 toys, 10 images
==========  ==========  ================  =============  ==========  ===========================

Sources: WGAN (Arjovsky et al. 2017, Algorithm 1: RMSProp 5e-5, c = 0.01, n_critic = 5; Adam
with beta1 > 0 destabilised their critic). WGAN-GP (Gulrajani et al. 2017, Algorithm 1: Adam 1e-4,
n_critic = 5, lambda = 10, betas (0, 0.9)). For WGAN-GP we choose the betas (0.5, 0.9) of the
authors' released code, which the toy script uses, and lambda = 0.1 on 2-D toys as that script
does (gan_toy.py: "Smaller lambda makes things faster for toy tasks, but isn't necessary if you
increase CRITIC_ITERS enough"); images keep the paper's lambda = 10. The 2-D
networks follow the toy script (2-D noise, 3 hidden ReLU layers, batch 256) except for the
width: 256 instead of 512, which is 2.7x faster on a 2-core CPU (49 vs 130 ms per generator
step, measured) and reached all 8 modes of ring8 as fast; ``g_width=d_width=512`` gives the
reference. ``steps`` counts generator iterations: 2500 on toys, about 2 minutes on a 2-core CPU.

Order of operations in one generator iteration (Algorithm 1 of both papers)::

    repeat n_critic times:
        fresh real batch x, fresh noise z, x~ = G(z) (no gradient to G)
        L_D = critic loss (+ gradient penalty for wgan-gp)
        D optimiser step, THEN clip weights (wgan)
    fresh noise z, L_G = generator loss, G optimiser step
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
import time
import warnings
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Callable

import torch

from wgan_lessons import data as data_mod
from wgan_lessons import losses
from wgan_lessons.nets import ConvCritic, ConvGenerator, mlp_critic, mlp_generator
from wgan_lessons.settings import cpuinfo_field, get_device

__all__ = ["TrainConfig", "Trainer", "train", "METHODS", "OPTIMIZERS", "DivergenceWarning", "method_defaults"]

METHODS = ("gan", "nsgan", "wgan", "wgan-gp")
OPTIMIZERS = ("adam", "rmsprop")
DATASETS = tuple(data_mod.TOY_DATASETS) + tuple(data_mod.IMAGE_DATASETS)


@contextlib.contextmanager
def _eval_mode(net: torch.nn.Module):
    """Evaluate ``net`` in eval mode and give it back in the mode it had: an observer never updates
    what the network holds (e.g. batch-norm running statistics, had a custom critic any)."""
    was = net.training
    net.eval()
    try:
        yield net
    finally:
        net.train(was)


class DivergenceWarning(RuntimeWarning):
    """Training stopped because a loss became NaN or infinite."""


def method_defaults(method: str, data: str) -> dict:
    """The paper defaults for ``method`` on ``data`` (see the module docstring)."""
    image = data in data_mod.IMAGE_DATASETS
    if method in ("gan", "nsgan"):
        d = dict(optimizer="adam", lr_g=1e-4, lr_d=1e-4, betas=(0.5, 0.999), n_critic=1)
    elif method == "wgan":
        d = dict(optimizer="rmsprop", lr_g=5e-5, lr_d=5e-5, betas=(0.5, 0.999), n_critic=5, clip_value=0.01)
    elif method == "wgan-gp":
        d = dict(optimizer="adam", lr_g=1e-4, lr_d=1e-4, betas=(0.5, 0.9), n_critic=5,
                 lambda_gp=10.0 if image else 0.1)
    else:
        raise ValueError(f"TrainConfig.method: unknown method {method!r}; choose one of {list(METHODS)}")
    d.setdefault("clip_value", 0.01)
    d.setdefault("lambda_gp", 10.0 if image else 0.1)
    d["z_dim"] = 32 if image else 2
    d["steps"] = 2000 if image else 2500
    return d


@dataclass
class TrainConfig:
    """Everything a training run needs. ``None`` means "the default of this method" (see the
    module docstring); :meth:`resolved` fills those in and checks every value.

    Attributes:
        method: 'gan' (minimax), 'nsgan' (non-saturating), 'wgan' (weight clipping) or 'wgan-gp'.
        data: a 2-D toy ('ring8', 'grid25', 'swissroll') or images ('digits', 'mnist', 'fashion-mnist').
        steps: generator iterations.
        batch_size: m, samples per batch (real and fake alike).
        n_critic: critic (discriminator) steps per generator step.
        lr_g, lr_d: learning rates of G and of the critic D.
        betas: Adam's (beta1, beta2); ignored by RMSProp.
        optimizer: 'adam' or 'rmsprop', used for both networks.
        clip_value: c, the WGAN weight-clipping box [-c, c] (method 'wgan' only).
        lambda_gp: lambda, the gradient penalty weight (method 'wgan-gp' only).
        z_dim: noise dimension (2 for toys, as in the toy script; 32 for images).
        g_width, g_depth, d_width, d_depth, activation: MLP sizes for 2-D toys.
        conv_base: base channel count of the conv nets for images.
        seed: seeds the weights, the data and the noise. Same seed, same history on the CPU.
        device: 'auto' (CUDA, then MPS, then CPU), 'cpu', 'cuda' or 'mps'.
        log_every: record the history every this many generator steps.
        lr_schedule: 'constant', or 'linear': both learning rates decay as lr * max(0, 1 - t / steps)
            over the run's generator steps t, as the WGAN-GP authors' released image code does.
        ema_decay: beta of an exponential moving average of the generator's weights,
            theta_ema <- beta * theta_ema + (1 - beta) * theta after every generator step; 0 turns it
            off. ``sample()``, ``evaluate()`` and the lab show the averaged generator. Training is
            unchanged by it.
        ema_start: generator steps during which the average simply copies the weights (an average
            started at step 0 remembers the untrained generator for ~1 / (1 - beta) steps).
        precision: 'fp32'; 'bf16' runs the networks' training passes under bfloat16 autocast (weights,
            optimiser state and losses stay float32); 'auto' picks bf16 where the hardware has fast
            bfloat16 matrix units (a CPU with AMX, or a CUDA GPU that supports bf16) and fp32 elsewhere.
        image_root, download: where torchvision data sets live, and whether to download them.
    """

    method: str = "wgan-gp"
    data: str = "ring8"
    steps: int | None = None
    batch_size: int = 256
    n_critic: int | None = None
    lr_g: float | None = None
    lr_d: float | None = None
    betas: tuple | None = None
    optimizer: str | None = None
    clip_value: float | None = None
    lambda_gp: float | None = None
    z_dim: int | None = None
    g_width: int = 256
    g_depth: int = 3
    d_width: int = 256
    d_depth: int = 3
    activation: str = "relu"
    conv_base: int = 32
    seed: int = 0
    device: str = "auto"
    log_every: int = 10
    lr_schedule: str = "constant"
    ema_decay: float = 0.0
    ema_start: int = 0
    precision: str = "fp32"
    image_root: str | None = None
    download: bool = False

    def __post_init__(self):
        # Plain Python values whatever numeric type was given (numpy and torch scalars, 1e3 for an
        # integer field), so that a config prints naturally, compares, serialises to JSON and
        # round-trips through ``torch.load(weights_only=True)``. Values that cannot be converted are
        # left as they are, for :meth:`_check` to name.
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name in _INT_FIELDS:
                v = _plain_int(v)
            elif f.name in _FLOAT_FIELDS:
                v = _plain_float(v)
            elif f.name == "betas" and v is not None:
                try:
                    seq = v.tolist() if hasattr(v, "tolist") else list(v)
                    v = tuple(_plain_float(b) for b in seq)
                except TypeError:
                    pass
            elif f.name in _STR_FIELDS and v is not None and type(v) is not str:
                if isinstance(v, (str, os.PathLike, torch.device)):  # np.str_, a Path, a torch.device
                    v = str(v) if not isinstance(v, os.PathLike) else os.fspath(v)
            elif f.name == "download" and type(v).__module__ == "numpy":
                v = bool(v)
            setattr(self, f.name, v)

    # ------------------------------------------------------------------ checks
    def resolved(self) -> "TrainConfig":
        """A copy with every ``None`` replaced by its method's default, and every value checked.

        Raises:
            ValueError: naming the field, for any bad value.
        """
        if self.method not in METHODS:
            raise ValueError(f"TrainConfig.method: unknown method {self.method!r}; choose one of {list(METHODS)}")
        if self.data not in DATASETS:
            raise ValueError(f"TrainConfig.data: unknown data {self.data!r}; choose one of {list(DATASETS)}")
        defaults = method_defaults(self.method, self.data)
        filled = {f.name: getattr(self, f.name) for f in fields(self)}
        for k, v in defaults.items():
            if filled.get(k) is None:
                filled[k] = v
        cfg = TrainConfig(**filled)
        cfg._check()
        return cfg

    def _check(self) -> None:
        def need(ok: bool, name: str, rule: str):
            if not ok:
                raise ValueError(f"TrainConfig.{name} {rule}, got {_show(getattr(self, name))}")

        def is_int(v):
            return isinstance(v, int) and not isinstance(v, bool)

        def is_num(v):
            return isinstance(v, (int, float)) and not isinstance(v, bool)

        need(self.optimizer in OPTIMIZERS, "optimizer", f"must be one of {list(OPTIMIZERS)}")
        need(is_int(self.steps) and self.steps >= 0, "steps", "must be an integer >= 0")
        need(is_int(self.batch_size) and self.batch_size >= 1, "batch_size", "must be an integer >= 1")
        need(is_int(self.n_critic) and self.n_critic >= 1, "n_critic", "must be an integer >= 1")
        for name in ("lr_g", "lr_d"):
            v = getattr(self, name)
            need(is_num(v) and math.isfinite(v) and v > 0, name, "must be a positive number")
        need(isinstance(self.betas, tuple) and len(self.betas) == 2
             and all(is_num(b) and 0 <= b < 1 for b in self.betas), "betas", "must be two numbers in [0, 1)")
        need(is_num(self.clip_value) and math.isfinite(self.clip_value) and self.clip_value > 0,
             "clip_value", "must be a finite number > 0")
        need(is_num(self.lambda_gp) and math.isfinite(self.lambda_gp) and self.lambda_gp >= 0,
             "lambda_gp", "must be a number >= 0")
        need(is_int(self.z_dim) and self.z_dim >= 1, "z_dim", "must be an integer >= 1")
        for name in ("g_width", "d_width", "conv_base"):
            need(is_int(getattr(self, name)) and getattr(self, name) >= 1, name, "must be an integer >= 1")
        for name in ("g_depth", "d_depth"):
            need(is_int(getattr(self, name)) and getattr(self, name) >= 0, name, "must be an integer >= 0")
        from wgan_lessons.nets import ACTIVATIONS

        need(self.activation in ACTIVATIONS, "activation", f"must be one of {sorted(ACTIVATIONS)}")
        need(is_int(self.seed), "seed", "must be an integer")
        need(is_int(self.log_every) and self.log_every >= 1, "log_every", "must be an integer >= 1")
        need(isinstance(self.device, str), "device", "must be a device name such as 'auto', 'cpu' or 'cuda'")
        need(self.lr_schedule in LR_SCHEDULES, "lr_schedule", f"must be one of {list(LR_SCHEDULES)}")
        need(is_num(self.ema_decay) and 0 <= self.ema_decay < 1, "ema_decay", "must be a number in [0, 1)")
        need(is_int(self.ema_start) and self.ema_start >= 0, "ema_start", "must be an integer >= 0")
        need(self.precision in PRECISIONS, "precision", f"must be one of {list(PRECISIONS)}")
        need(self.image_root is None or isinstance(self.image_root, str), "image_root", "must be a folder name")
        need(isinstance(self.download, bool), "download", "must be True or False")
        try:
            get_device(self.device)
        except ValueError as exc:
            raise ValueError(f"TrainConfig.{exc}") from None

    @property
    def is_image(self) -> bool:
        return self.data in data_mod.IMAGE_DATASETS

    def to_dict(self) -> dict:
        d = asdict(self)
        if d["betas"] is not None:
            d["betas"] = list(d["betas"])
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown TrainConfig fields: {sorted(unknown)}")
        d = dict(d)
        if d.get("betas") is not None:
            d["betas"] = tuple(d["betas"])
        return cls(**d)


_INT_FIELDS = ("steps", "batch_size", "n_critic", "z_dim", "g_width", "g_depth", "d_width", "d_depth",
               "conv_base", "seed", "log_every", "ema_start")
_FLOAT_FIELDS = ("lr_g", "lr_d", "clip_value", "lambda_gp", "ema_decay")
_STR_FIELDS = ("method", "data", "optimizer", "activation", "device", "image_root", "lr_schedule", "precision")
LR_SCHEDULES = ("constant", "linear")
PRECISIONS = ("fp32", "bf16", "auto")


def _cpu_has_amx_bf16() -> bool:
    """True on CPUs with AMX bfloat16 tiles (Intel Sapphire Rapids and later), read from /proc/cpuinfo."""
    return "amx_bf16" in cpuinfo_field("flags").split()


def autocast_dtype(precision: str, device: torch.device):
    """The autocast dtype for ``precision`` on ``device`` (None: plain float32)."""
    if precision == "fp32":
        return None
    if precision == "auto":
        fast = (device.type == "cuda" and torch.cuda.is_bf16_supported()) or \
            (device.type == "cpu" and _cpu_has_amx_bf16())
        return torch.bfloat16 if fast else None
    return torch.bfloat16


def _scalar(v):
    """A numpy or one-element torch scalar as the Python number it holds; anything else unchanged."""
    if isinstance(v, bool):
        return v
    if isinstance(v, torch.Tensor):
        return v.item() if v.numel() == 1 else v
    if type(v).__module__ == "numpy" and hasattr(v, "item") and getattr(v, "size", 1) == 1:
        return v.item()
    return v


def _plain_int(v):
    v = _scalar(v)
    if isinstance(v, float) and math.isfinite(v) and v == int(v):  # 1e3 steps, np.float64(5.0)
        return int(v)
    return v


def _plain_float(v):
    v = _scalar(v)
    if isinstance(v, int) and not isinstance(v, bool):
        return float(v)
    return v


def _show(v) -> str:
    """A value as a learner typed it: 0.001, not np.float64(0.001)."""
    return repr(_scalar(v)) if not isinstance(v, tuple) else repr(tuple(_scalar(x) for x in v))


HISTORY_KEYS = ("step", "loss_d", "loss_g", "w_estimate", "penalty", "grad_norm", "d_real", "d_fake", "g_grad_norm",
                "seconds")


class Trainer:
    """Trains one GAN-family model in chunks.

    >>> trainer = Trainer(TrainConfig(method="wgan-gp", data="ring8", steps=100))
    >>> trainer.run(50)          # 50 generator steps (blocking), then
    >>> trainer.run()            # the rest, up to config.steps
    >>> trainer.history["w_estimate"]

    Attributes:
        config: the resolved :class:`TrainConfig`.
        generator, critic: the two networks (``critic`` is the GAN discriminator for gan/nsgan,
            returning logits).
        history: dict of lists, recorded every ``log_every`` generator steps: ``step``,
            ``loss_d`` (critic loss incl. penalty), ``loss_g``, ``w_estimate`` (= -(E_g f - E_r f),
            the critic's W1 estimate; NaN for gan/nsgan), ``penalty``, ``grad_norm`` (mean per-sample
            ||grad_x f|| at interpolates), ``d_real``/``d_fake`` (mean critic outputs: logits for
            gan/nsgan), ``g_grad_norm`` (||grad_phi L_G||_2 over all generator parameters phi, of the
            last generator step: 0 when the generator's gradient vanished), ``seconds``.
        step: generator steps done so far.
        stop_reason: None, or why training stopped early (e.g. a NaN loss).
    """

    def __init__(self, config: TrainConfig | None = None, progress: bool = True,
                 image_shape: tuple | None = None):
        self.config = (config or TrainConfig()).resolved()
        cfg = self.config
        self.device = get_device(cfg.device)
        self.progress = progress
        self._stop_requested = False
        self.stop_reason: str | None = None
        self.step = 0
        self.elapsed = 0.0
        self.history: dict[str, list] = {k: [] for k in HISTORY_KEYS}

        # Data. No silent substitution: a data set that cannot be loaded raises (see
        # data.load_images), and ``data_info`` records what the run really trains on.
        self.dist, self.images = None, None
        if cfg.is_image:
            try:
                self.images = data_mod.load_images(cfg.data, root=cfg.image_root, download=cfg.download,
                                                   verbose=False).to(self.device)
                shape = tuple(int(s) for s in self.images.shape[1:])  # (C, H, W)
            except FileNotFoundError:
                if image_shape is None:
                    raise
                # A checkpoint rebuilds its networks without the data: sample() works, run() says why not.
                shape = tuple(int(s) for s in image_shape)
                warnings.warn(f"{cfg.data} is not available here, so this Trainer can sample but not train; "
                              "pass image_root=<folder with a torchvision copy> to train further.", stacklevel=3)
            if image_shape is not None and tuple(int(s) for s in image_shape) != shape:
                raise ValueError(f"the checkpoint's networks were trained on {cfg.data} images of shape "
                                 f"{tuple(image_shape)}, but {cfg.data} now loads as {shape}")
            self.data_info = {"data": cfg.data, "image_shape": list(shape),
                              "n_images": None if self.images is None else int(self.images.shape[0])}
        else:
            self.dist = data_mod.get_toy(cfg.data)
            self.data_info = {"data": cfg.data, "dim": 2}

        # Networks: initialised from the seed without touching the global RNG.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(cfg.seed)
            if cfg.is_image:
                channels, size = shape[0], shape[-1]
                g = ConvGenerator(cfg.z_dim, size, channels, cfg.conv_base)
                d = ConvCritic(size, channels, cfg.conv_base)
            else:
                g = mlp_generator(cfg.z_dim, 2, cfg.g_width, cfg.g_depth, cfg.activation)
                d = mlp_critic(2, cfg.d_width, cfg.d_depth, cfg.activation)
        self.generator = g.to(self.device)
        self.critic = d.to(self.device)
        # The averaged generator (ema_decay > 0): what sample() shows; never trained directly.
        self.generator_ema = copy.deepcopy(self.generator).requires_grad_(False) if cfg.ema_decay > 0 else None
        # The optimisers are built when first used (a training step, save, load, the learning
        # rates): building one imports torch._dynamo (torch >= 2.x wraps Optimizer.__init__), a
        # second or more on a laptop, which a lab's first frame or a sampling-only Trainer need not
        # wait for. A fresh optimiser holds no state, so when it is built changes no number.
        self._opt_g: torch.optim.Optimizer | None = None
        self._opt_d: torch.optim.Optimizer | None = None
        # Training draws its data, noise and eps from one CPU stream, and nothing else draws from it:
        # whatever only looks at training (history records, evaluate, sample, callbacks, the lab)
        # uses streams of its own, so observing a run never changes it. Reproducible on every device.
        self.rng = torch.Generator().manual_seed(cfg.seed + 1)
        self.amp_dtype = autocast_dtype(cfg.precision, self.device)  # None: float32
        self._last_good = self._snapshot()

    # ------------------------------------------------------------------ pieces
    @property
    def opt_g(self) -> torch.optim.Optimizer:
        """The generator's optimiser (built on first use)."""
        if self._opt_g is None:
            self._opt_g = self._optimizer(self.generator.parameters(), self.config.lr_g)
        return self._opt_g

    @property
    def opt_d(self) -> torch.optim.Optimizer:
        """The critic's optimiser (built on first use)."""
        if self._opt_d is None:
            self._opt_d = self._optimizer(self.critic.parameters(), self.config.lr_d)
        return self._opt_d

    def _optimizer(self, params, lr):
        cfg = self.config
        if cfg.optimizer == "adam":
            params = list(params)
            try:  # one fused kernel for the whole update: ~15% faster steps measured on the 2-core CPU
                return torch.optim.Adam(params, lr=lr, betas=cfg.betas, fused=True)
            except (RuntimeError, TypeError, ValueError):  # an older torch or a device without it
                return torch.optim.Adam(params, lr=lr, betas=cfg.betas)
        return torch.optim.RMSprop(params, lr=lr)

    def _real_batch(self, n: int, generator: torch.Generator) -> torch.Tensor:
        if self.dist is not None:
            return self.dist.sample(n, generator=generator).to(self.device)
        if self.images is None:
            raise ValueError(f"{self.config.data} is not available here, so there are no real images to "
                             "train on; pass image_root=<folder with a torchvision copy>")
        idx = torch.randint(0, self.images.shape[0], (n,), generator=generator)
        return self.images[idx.to(self.device)]

    def sample_real(self, n: int, seed: int | None = None) -> torch.Tensor:
        """n real samples on the training device, (n, 2) for toys and (n, C, H, W) for images, from
        a stream of their own (``seed``, default config.seed + 4): training's stream is untouched."""
        g = torch.Generator().manual_seed(self.config.seed + 4 if seed is None else seed)
        return self._real_batch(n, g)

    def sample_z(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n noise vectors z ~ N(0, I), (n, z_dim), on the training device. Without ``generator``
        they come from training's own stream: pass one to draw without changing the run."""
        return torch.randn(n, self.config.z_dim, generator=generator or self.rng).to(self.device)

    @torch.no_grad()
    def sample(self, n: int = 2500, seed: int | None = None) -> torch.Tensor:
        """n generator samples on the CPU, from a *fixed* noise stream (``seed``, default
        config.seed + 2) that leaves training's random stream untouched: calling it again
        after more training shows how the same z moved."""
        g = torch.Generator().manual_seed(self.config.seed + 2 if seed is None else seed)
        net = self.generator_ema if self.generator_ema is not None else self.generator
        with torch.no_grad(), _eval_mode(net):
            return net(self.sample_z(n, g)).cpu()

    def critic_scores(self, x: torch.Tensor) -> torch.Tensor:
        """The critic's (or discriminator's logit) values at points x, on the CPU (in eval mode:
        looking never updates anything the network holds)."""
        with torch.no_grad(), _eval_mode(self.critic):
            return self.critic(torch.as_tensor(x, dtype=torch.float32).to(self.device)).cpu()

    def _snapshot(self) -> dict:
        return {
            "generator": copy.deepcopy(self.generator.state_dict()),
            "critic": copy.deepcopy(self.critic.state_dict()),
            # None: not built yet, i.e. a fresh optimiser
            "opt_g": None if self._opt_g is None else copy.deepcopy(self._opt_g.state_dict()),
            "opt_d": None if self._opt_d is None else copy.deepcopy(self._opt_d.state_dict()),
            "generator_ema": None if self.generator_ema is None else copy.deepcopy(self.generator_ema.state_dict()),
            "step": self.step,
        }

    def _restore(self, snap: dict) -> None:
        self.generator.load_state_dict(snap["generator"])
        self.critic.load_state_dict(snap["critic"])
        for name in ("opt_g", "opt_d"):
            if snap[name] is None:
                setattr(self, "_" + name, None)  # back to a fresh optimiser, built on first use
            else:
                getattr(self, name).load_state_dict(snap[name])
        if self.generator_ema is not None:
            self.generator_ema.load_state_dict(snap["generator_ema"])

    def _diverged(self, what: str, value: float) -> None:
        good = self._last_good["step"]
        self._restore(self._last_good)
        self.stop_reason = (
            f"Training stopped at generator step {self.step}: the {what} became {value}. "
            f"The networks were restored to step {good}, the last finite state; the history is kept. "
            + {"wgan-gp": "Try smaller learning rates or a larger lambda_gp.",
               "wgan": "Try smaller learning rates or a smaller clip_value."}.get(
                self.config.method, "Try smaller learning rates.")
        )
        self.step = good
        from wgan_lessons.checks import warn_outside

        warn_outside(self.stop_reason, DivergenceWarning)

    # ------------------------------------------------------------------ one iteration
    def _autocast(self):
        """bfloat16 autocast for a training pass when ``precision`` asks for it (else a no-op)."""
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    def _critic_step(self, real: torch.Tensor, fake: torch.Tensor) -> dict:
        """One critic (discriminator) update on a real batch x and a fake batch x~ = G(z), both (B, ...).
        Returns the step's numbers as 0-d tensors (read with .item() only when recorded: no host
        sync per step on a GPU)."""
        cfg = self.config
        b = real.shape[0]
        with self._autocast():
            scores = self.critic(torch.cat([real, fake])).float()  # (2B,): real and fake in one pass
            s_real, s_fake = scores[:b], scores[b:]
            penalty = torch.zeros((), device=self.device)
            if cfg.method in ("gan", "nsgan"):
                loss = losses.gan_discriminator_loss(s_real, s_fake)
                w_est = torch.full((), float("nan"), device=self.device)
            else:
                loss = losses.wasserstein_critic_loss(s_real, s_fake)
                w_est = -loss.detach()
                if cfg.method == "wgan-gp":
                    penalty = losses.gradient_penalty(self.critic, real, fake, cfg.lambda_gp,
                                                      generator=self.rng).float()
                    loss = loss + penalty
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_d.step()
        if cfg.method == "wgan":
            losses.clip_weights_(self.critic, cfg.clip_value)  # after the step, never before
        return {"loss_d": loss.detach(), "w_estimate": w_est, "penalty": penalty.detach(), "real": real,
                "fake": fake, "d_real": s_real.detach().mean(), "d_fake": s_fake.detach().mean()}

    def _iteration(self) -> tuple[dict, torch.Tensor]:
        """One generator iteration of Algorithm 1: n_critic critic updates, then one generator update.

        G does not change during the critic updates, so the n_critic fake batches come from one
        forward pass of G on n_critic * B fresh noise vectors, and the n_critic fresh real batches
        from one draw: the same batches Algorithm 1 uses, in fewer, larger operations."""
        cfg = self.config
        b, k = cfg.batch_size, cfg.n_critic
        self._set_learning_rates()
        with torch.no_grad(), self._autocast():
            fakes = self.generator(self.sample_z(k * b)).float()  # (k B, ...)
        reals = self._real_batch(k * b, self.rng)  # (k B, ...) a fresh real batch for every critic step
        for i in range(k):
            c = self._critic_step(reals[i * b:(i + 1) * b], fakes[i * b:(i + 1) * b])
        return c, self._generator_step()

    def generator_loss(self, scores: torch.Tensor) -> torch.Tensor:
        """The generator loss of this method, from critic scores (logits for gan/nsgan) on fakes."""
        if self.config.method == "gan":
            return losses.gan_generator_loss_saturating(scores)
        if self.config.method == "nsgan":
            return losses.gan_generator_loss_nonsaturating(scores)
        return losses.wasserstein_generator_loss(scores)

    def generator_field(self, x) -> torch.Tensor:
        """-grad_x of the per-sample generator loss at points x (n, 2): the direction in which the
        generator's loss pushes a sample sitting at x (GAN Lab's arrows). Returns (n, 2) on the CPU."""
        x = torch.as_tensor(x, dtype=torch.float32).to(self.device).detach().clone().requires_grad_(True)
        with _eval_mode(self.critic):
            loss = self.generator_loss(self.critic(x)) * x.shape[0]  # sum of per-sample losses
            (grad,) = torch.autograd.grad(loss, x)
        return -grad.detach().cpu()

    def _generator_step(self) -> torch.Tensor:
        cfg = self.config
        self.critic.requires_grad_(False)
        try:
            with self._autocast():
                s_fake = self.critic(self.generator(self.sample_z(cfg.batch_size))).float()  # (B,)
                loss = self.generator_loss(s_fake)
            self.opt_g.zero_grad(set_to_none=True)
            loss.backward()
            self.opt_g.step()
        finally:
            self.critic.requires_grad_(True)
        if self.generator_ema is not None:
            self._update_ema()
        return loss.detach()

    @torch.no_grad()
    def _update_ema(self) -> None:
        beta = 0.0 if self.step < self.config.ema_start else self.config.ema_decay
        for p_ema, p in zip(self.generator_ema.parameters(), self.generator.parameters()):
            p_ema.lerp_(p, 1.0 - beta)  # p_ema = beta * p_ema + (1 - beta) * p

    def _set_learning_rates(self) -> None:
        """The learning rates of this generator step, from the config and ``lr_schedule``."""
        cfg = self.config
        factor = max(0.0, 1.0 - self.step / max(cfg.steps, 1)) if cfg.lr_schedule == "linear" else 1.0
        for opt, lr in ((self.opt_g, cfg.lr_g), (self.opt_d, cfg.lr_d)):
            for group in opt.param_groups:
                group["lr"] = lr * factor

    def _observer_rng(self, salt: int) -> torch.Generator:
        """A stream for observing at the current step, independent of training's: the same step
        gives the same draws however often (and whether) it was observed before."""
        return torch.Generator().manual_seed((self.config.seed * 1_000_003 + self.step * 7919 + salt) % 2**63)

    def _record(self, c: dict, loss_g: float) -> None:
        x_hat = losses.interpolate(c["real"], c["fake"], self._observer_rng(1))
        with _eval_mode(self.critic):
            grad_norm = losses.critic_grad_norm(self.critic, x_hat).mean().item()
        g_grads = [p.grad.detach().float().norm() for p in self.generator.parameters() if p.grad is not None]
        g_grad_norm = float(torch.stack(g_grads).norm()) if g_grads else float("nan")  # of the last G step
        row = {"step": self.step, "loss_d": c["loss_d"].item(), "loss_g": loss_g, "w_estimate": c["w_estimate"].item(),
               "penalty": c["penalty"].item(), "grad_norm": grad_norm, "d_real": c["d_real"].item(),
               "d_fake": c["d_fake"].item(), "g_grad_norm": g_grad_norm, "seconds": self.elapsed}
        for k in HISTORY_KEYS:
            self.history[k].append(row[k])
        if all(torch.isfinite(p).all() for p in self.generator.parameters()) and \
                all(torch.isfinite(p).all() for p in self.critic.parameters()):
            self._last_good = self._snapshot()

    # ------------------------------------------------------------------ public
    LIVE_FIELDS = ("lr_g", "lr_d", "n_critic", "clip_value", "lambda_gp", "batch_size", "steps")

    def update_hparams(self, **changes) -> None:
        """Change hyper-parameters between chunks, keeping the networks and optimiser state:
        the learning rates, n_critic, clip_value, lambda_gp, batch_size and steps (the sliders of
        the training lab). Anything else (method, data, sizes, seed) needs a new Trainer."""
        bad = set(changes) - set(self.LIVE_FIELDS)
        if bad:
            raise ValueError(f"{sorted(bad)} cannot change during training; build a new Trainer "
                             f"(live fields: {list(self.LIVE_FIELDS)})")
        cfg = replace(self.config, **changes)
        cfg._check()
        self.config = cfg
        self._set_learning_rates()

    def request_stop(self) -> None:
        """Ask a running :meth:`run` (e.g. in another thread) to stop after the current step."""
        self._stop_requested = True

    @property
    def done(self) -> bool:
        return self.step >= self.config.steps or self.stop_reason is not None

    def run(self, steps: int | None = None, callback: Callable[["Trainer"], bool | None] | None = None,
            progress: bool | None = None) -> dict:
        """Train ``steps`` more generator iterations (default: up to ``config.steps``).

        ``callback(trainer)`` is called after every recorded step; returning ``False`` stops.
        Returns the history. A NaN/inf loss stops training with a :class:`DivergenceWarning`,
        restores the last finite state and keeps the history.
        """
        if self.stop_reason is not None:
            warnings.warn(f"not training: {self.stop_reason}", DivergenceWarning, stacklevel=2)
            return self.history
        from wgan_lessons.checks import integer

        n = self.config.steps - self.step if steps is None else integer(steps, "steps", minimum=0)
        self._stop_requested = False
        show = self.progress if progress is None else progress
        from tqdm.auto import tqdm

        bar = tqdm(total=n, desc=f"{self.config.method} on {self.config.data}", disable=not show or n == 0,
                   leave=False)
        try:
            for _ in range(n):
                t0 = time.perf_counter()
                c, loss_g_t = self._iteration()
                pair = torch.stack([c["loss_d"], loss_g_t]).cpu()  # the one host sync of an iteration
                if not torch.isfinite(pair).all():
                    what = "critic loss" if not math.isfinite(pair[0]) else "generator loss"
                    self._diverged(what, float(pair[0] if what == "critic loss" else pair[1]))
                    return self.history
                loss_g = float(pair[1])
                self.step += 1
                self.elapsed += time.perf_counter() - t0
                bar.update(1)
                last = self.step == self.config.steps
                if self.step % self.config.log_every == 0 or last:
                    self._record(c, loss_g)
                    bar.set_postfix(loss_d=f"{float(pair[0]):.3g}", loss_g=f"{loss_g:.3g}")
                    if callback is not None and callback(self) is False:
                        break
                if self._stop_requested:
                    break
        finally:
            bar.close()
        return self.history

    def evaluate(self, n: int = 2500) -> dict:
        """metrics.json numbers for toy data: modes, hq_fraction, reverse_kl, w1 (exact, POT)."""
        if self.dist is None:
            raise ValueError("evaluate() measures 2-D toy data; image runs have no mode metrics")
        from wgan_lessons.metrics import evaluate_samples

        real = self.dist.sample(n, generator=torch.Generator().manual_seed(self.config.seed + 3))
        return evaluate_samples(self.sample(n), self.dist, real=real)

    # ------------------------------------------------------------------ checkpoints
    def save(self, path) -> Path:
        """Save a checkpoint that :meth:`load` restores with ``torch.load(weights_only=True)``."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save({
            "config": self.config.to_dict(),
            "step": self.step,
            "generator": self.generator.state_dict(),
            "generator_ema": None if self.generator_ema is None else self.generator_ema.state_dict(),
            "critic": self.critic.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "rng": self.rng.get_state(),
            "history": self.history,
            "elapsed": self.elapsed,
            "data_info": self.data_info,
            "stop_reason": self.stop_reason,
        }, path)
        return path

    @classmethod
    def load(cls, path, device: str | None = None, progress: bool = True) -> "Trainer":
        """Rebuild a Trainer from a checkpoint (safe: ``weights_only=True``). The networks are built
        with the shapes the checkpoint holds (``data_info``); training on continues exactly as the
        uninterrupted run would have (same weights, optimiser state and random stream)."""
        ckpt = torch.load(Path(path), map_location="cpu", weights_only=True)
        cfg = TrainConfig.from_dict(ckpt["config"])
        if device is not None:
            cfg = replace(cfg, device=device)
        shape = (ckpt.get("data_info") or {}).get("image_shape")
        trainer = cls(cfg, progress=progress, image_shape=shape)
        trainer.generator.load_state_dict(ckpt["generator"])
        if trainer.generator_ema is not None:
            trainer.generator_ema.load_state_dict(ckpt["generator_ema"])
        trainer.critic.load_state_dict(ckpt["critic"])
        trainer.opt_g.load_state_dict(ckpt["opt_g"])
        trainer.opt_d.load_state_dict(ckpt["opt_d"])
        trainer.rng.set_state(ckpt["rng"])
        trainer.step = int(ckpt["step"])
        trainer.history = {k: list(v) for k, v in ckpt["history"].items()}
        trainer.elapsed = float(ckpt["elapsed"])
        trainer.stop_reason = ckpt.get("stop_reason")  # a run that diverged stays stopped
        trainer._last_good = trainer._snapshot()
        return trainer

    def history_json(self) -> str:
        """The history as strict JSON (a NaN, e.g. the W estimate of a GAN, is written as null)."""
        from wgan_lessons.jsonio import dumps

        return dumps(self.history)


def train(config: TrainConfig | None = None, callback: Callable[[Trainer], bool | None] | None = None,
          progress: bool = True) -> Trainer:
    """Train ``config`` to ``config.steps`` and return the :class:`Trainer` (networks, history)."""
    trainer = Trainer(config, progress=progress)
    trainer.run(callback=callback)
    return trainer
