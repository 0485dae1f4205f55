"""Data for the lessons: 2-D toy mixtures, 1-D mixtures, the WGAN paper's parallel
lines, and small image data sets.

2-D toys follow the scaling of the WGAN-GP paper's released toy script
(Gulrajani et al. 2017, ``gan_toy.py``):

- ``ring8``:     8 Gaussians, centres at radius 2 on the axes and diagonals, std 0.02,
                 everything divided by 1.414.
- ``grid25``:    25 Gaussians, centres on {-4,-2,0,2,4}^2, std 0.05, everything divided by 2.828.
- ``swissroll``: scikit-learn's ``make_swiss_roll(noise=0.25)``, columns 0 and 2, divided by 7.5.

All sampling is vectorised and driven by a ``torch.Generator`` so that runs are
reproducible without touching global seeds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

__all__ = [
    "GaussianMixture",
    "SwissRoll",
    "Mixture1D",
    "TOY_DATASETS",
    "get_toy",
    "ring8",
    "grid25",
    "swissroll",
    "mixture_1d",
    "parallel_lines",
    "load_images",
    "IMAGE_DATASETS",
]


def _check_n(n, name: str = "n") -> int:
    from wgan_lessons.checks import integer

    return integer(n, f"{name} (a number of samples)", minimum=1)


class GaussianMixture:
    """An isotropic Gaussian mixture in d dimensions: p(x) = sum_k w_k N(x; mu_k, std^2 I).

    Args:
        centers: (K, d) mode centres mu_k.
        std: the common standard deviation of every component.
        weights: (K,) mixing weights w_k (uniform when None).
        name: a label for plots and errors.
    """

    def __init__(self, centers, std: float, weights=None, name: str = "mixture"):
        from wgan_lessons.checks import number

        centers = torch.as_tensor(centers, dtype=torch.float32)
        if centers.ndim != 2 or centers.shape[0] == 0:
            raise ValueError(f"centers must have shape (K, d) with K >= 1, got {tuple(centers.shape)}")
        if not torch.isfinite(centers).all():
            raise ValueError("centers contains NaN or inf")
        std = number(std, "std", minimum=0.0, strict=True)
        k = centers.shape[0]
        w = torch.full((k,), 1.0 / k) if weights is None else torch.as_tensor(weights, dtype=torch.float32)
        if w.shape != (k,) or not torch.isfinite(w).all() or (w < 0).any() \
                or not torch.isclose(w.sum(), torch.tensor(1.0)):
            raise ValueError(f"weights must be K = {k} finite non-negative numbers that sum to 1, got {w.tolist()}")
        self.centers = centers  # (K, d)
        self.std = float(std)
        self.weights = w  # (K,)
        self.name = name

    @property
    def dim(self) -> int:
        return self.centers.shape[1]

    def sample(self, n: int, generator: torch.Generator | None = None, device=None) -> torch.Tensor:
        """Draw n points, shape (n, d): pick a component k ~ w, then mu_k + std * N(0, I)."""
        n = _check_n(n)
        idx = torch.multinomial(self.weights, n, replacement=True, generator=generator)  # (n,)
        noise = torch.randn(n, self.dim, generator=generator)  # (n, d)
        x = self.centers[idx] + self.std * noise
        return x if device is None else x.to(device)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x) for x of shape (n, d); returns (n,)."""
        x = torch.as_tensor(x, dtype=torch.float32)
        d2 = torch.cdist(x, self.centers) ** 2  # (n, K)
        log_norm = -0.5 * self.dim * math.log(2 * math.pi * self.std**2)
        return torch.logsumexp(torch.log(self.weights) + log_norm - d2 / (2 * self.std**2), dim=1)

    def __repr__(self) -> str:
        return f"GaussianMixture(name={self.name!r}, K={len(self.centers)}, std={self.std:.4g})"


class SwissRoll:
    """scikit-learn's ``make_swiss_roll(noise=0.25)``, columns 0 and 2, divided by 7.5,
    as in the WGAN-GP toy script. It has no discrete modes (``centers`` is None)."""

    name = "swissroll"
    centers = None
    std = None
    dim = 2

    def __init__(self, noise: float = 0.25, scale: float = 7.5):
        self.noise = noise
        self.scale = scale

    def sample(self, n: int, generator: torch.Generator | None = None, device=None) -> torch.Tensor:
        from sklearn.datasets import make_swiss_roll

        n = _check_n(n)
        # The torch generator draws the seed, so the stream is driven by `generator`.
        seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator).item())
        x, _ = make_swiss_roll(n_samples=n, noise=self.noise, random_state=seed)
        x = torch.as_tensor(x[:, [0, 2]] / self.scale, dtype=torch.float32)  # (n, 2)
        return x if device is None else x.to(device)

    def __repr__(self) -> str:
        return "SwissRoll(noise=0.25, scale=7.5)"


def ring8() -> GaussianMixture:
    """8 Gaussians: radius 2 on the axes and diagonals, std 0.02, all divided by 1.414."""
    s = 1.0 / math.sqrt(2)
    raw = [(1, 0), (-1, 0), (0, 1), (0, -1), (s, s), (s, -s), (-s, s), (-s, -s)]
    centers = 2.0 * torch.tensor(raw) / 1.414
    return GaussianMixture(centers, std=0.02 / 1.414, name="ring8")


def grid25() -> GaussianMixture:
    """25 Gaussians: centres on {-4,-2,0,2,4}^2, std 0.05, all divided by 2.828."""
    ticks = torch.arange(-4.0, 5.0, 2.0)
    gx, gy = torch.meshgrid(ticks, ticks, indexing="ij")
    centers = torch.stack([gx.flatten(), gy.flatten()], dim=1) / 2.828
    return GaussianMixture(centers, std=0.05 / 2.828, name="grid25")


def swissroll() -> SwissRoll:
    return SwissRoll()


TOY_DATASETS = {"ring8": ring8, "grid25": grid25, "swissroll": swissroll}


def get_toy(name: str):
    """The 2-D toy distribution called ``name`` (one of :data:`TOY_DATASETS`)."""
    try:
        return TOY_DATASETS[name]()
    except KeyError:
        raise ValueError(f"data: unknown toy data set {name!r}; choose one of {sorted(TOY_DATASETS)}") from None


# ----------------------------------------------------------------------------- 1-D


@dataclass
class Mixture1D:
    """A 1-D Gaussian mixture p(x) = sum_k w_k N(x; m_k, s_k^2), with exact pdf and cdf.

    Lessons 1 and 2 shift and scale it with sliders: :meth:`shifted` returns the law of
    ``scale * X + shift``.
    """

    means: tuple
    stds: tuple
    weights: tuple | None = None

    def __post_init__(self):
        self.means = tuple(float(m) for m in self.means)
        self.stds = tuple(float(s) for s in self.stds)
        if len(self.means) == 0 or len(self.means) != len(self.stds):
            raise ValueError("means and stds must be non-empty and of the same length")
        if not all(math.isfinite(m) for m in self.means):
            raise ValueError(f"means must be finite numbers, got {self.means}")
        if not all(math.isfinite(s) and s > 0 for s in self.stds):
            raise ValueError(f"every std must be a finite positive number, got {self.stds}")
        k = len(self.means)
        w = (1.0 / k,) * k if self.weights is None else tuple(float(v) for v in self.weights)
        # 1e-6 admits float32 weights (a float32 softmax sums to 1 within ~1e-7 per entry)
        if len(w) != k or not all(math.isfinite(v) and v >= 0 for v in w) or not abs(sum(w) - 1) <= 1e-6:
            raise ValueError(f"weights must be K = {k} finite non-negative numbers that sum to 1 (within 1e-6), "
                             f"got {w} with sum {sum(w)!r}")
        total = sum(w)
        self.weights = tuple(v / total for v in w)

    def _arrays(self):
        return np.array(self.means), np.array(self.stds), np.array(self.weights)

    def pdf(self, x) -> np.ndarray:
        m, s, w = self._arrays()
        x = np.asarray(x, dtype=float)[..., None]
        return (w * np.exp(-0.5 * ((x - m) / s) ** 2) / (s * math.sqrt(2 * math.pi))).sum(-1)

    def cdf(self, x) -> np.ndarray:
        from scipy.special import ndtr

        m, s, w = self._arrays()
        x = np.asarray(x, dtype=float)[..., None]
        return (w * ndtr((x - m) / s)).sum(-1)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n samples, shape (n,)."""
        n = _check_n(n)
        m, s, w = (torch.tensor(a, dtype=torch.float32) for a in self._arrays())
        idx = torch.multinomial(w, n, replacement=True, generator=generator)
        return m[idx] + s[idx] * torch.randn(n, generator=generator)

    def shifted(self, shift: float = 0.0, scale: float = 1.0) -> "Mixture1D":
        """The law of scale * X + shift."""
        if not (math.isfinite(scale) and scale > 0):
            raise ValueError(f"scale must be a finite positive number, got {scale}")
        if not math.isfinite(shift):
            raise ValueError(f"shift must be a finite number, got {shift}")
        return Mixture1D(
            tuple(scale * m + shift for m in self.means), tuple(scale * s for s in self.stds), self.weights
        )


def mixture_1d(name: str = "bimodal") -> Mixture1D:
    """A small family of 1-D mixtures used by the lessons: 'gaussian', 'bimodal', 'trimodal', 'skewed'."""
    family = {
        "gaussian": Mixture1D((0.0,), (1.0,)),
        "bimodal": Mixture1D((-2.0, 2.0), (0.5, 0.5)),
        "trimodal": Mixture1D((-3.0, 0.0, 3.0), (0.4, 0.4, 0.4)),
        "skewed": Mixture1D((-1.0, 1.5), (0.4, 1.0), (0.7, 0.3)),
    }
    try:
        return family[name]
    except KeyError:
        raise ValueError(f"unknown 1-D mixture {name!r}; choose one of {sorted(family)}") from None


def parallel_lines(theta: float, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Samples of P_theta = law of (theta, Z), Z ~ U[0, 1] (Arjovsky et al. 2017, Example 1).

    ``parallel_lines(0, n)`` samples P_0. Returns (n, 2).
    """
    n = _check_n(n)
    z = torch.rand(n, generator=generator)
    return torch.stack([torch.full((n,), float(theta)), z], dim=1)


# ----------------------------------------------------------------------------- images

IMAGE_DATASETS = ("digits", "mnist", "fashion-mnist")


def _digits_tensor() -> torch.Tensor:
    from sklearn.datasets import load_digits

    x = load_digits().images.astype(np.float32)  # (1797, 8, 8), values 0..16
    x = x / 8.0 - 1.0  # to [-1, 1], the range of a tanh generator
    return torch.from_numpy(x).unsqueeze(1)  # (N, 1, 8, 8)


def load_images(name: str = "digits", root: str | None = None, download: bool = False, verbose: bool = True):
    """Image data as a float tensor (N, 1, H, W) in [-1, 1].

    - ``'digits'``: scikit-learn's 8x8 handwritten digits (1797 images). Ships with
      scikit-learn, so it always works offline; the default.
    - ``'mnist'`` / ``'fashion-mnist'``: 28x28, through torchvision, from a local copy
      under ``root`` (default ``./data``) or downloaded when ``download=True``.

    Nothing is substituted: when a data set cannot be loaded this raises, and the message says
    how to get it (or to ask for ``'digits'`` explicitly). ``verbose`` is kept for compatibility.

    Raises:
        ValueError: ``name`` is not one of :data:`IMAGE_DATASETS`.
        FileNotFoundError: MNIST / Fashion-MNIST has no local copy under ``root`` and was not
            (or could not be) downloaded.
    """
    if name not in IMAGE_DATASETS:
        raise ValueError(f"data: unknown image data set {name!r}; choose one of {list(IMAGE_DATASETS)}")
    if name == "digits":
        return _digits_tensor()
    from torchvision import datasets

    cls = datasets.MNIST if name == "mnist" else datasets.FashionMNIST
    root = root or "./data"
    try:
        ds = cls(root=root, train=True, download=download)
    except Exception as exc:  # no local copy and no download (offline, or download=False)
        how = "the download failed" if download else "download=False"
        raise FileNotFoundError(
            f"could not load {name} from {root!r} ({how}: {exc.__class__.__name__}: {exc}). "
            f"To use {name}, pass image_root=<folder with a torchvision copy> (--image-root), or "
            "download=True (--download) on a machine with internet; or train on data='digits', "
            "scikit-learn's 8x8 digits, which need no download."
        ) from None
    return ds.data.float().div(127.5).sub(1.0).unsqueeze(1)  # (N, 1, 28, 28)
