"""Metrics for generated samples: mode coverage on mixtures and exact W1.

Mode coverage follows VEEGAN (Srivastava et al. 2017) and PacGAN (Lin et al. 2018):

- a sample is *high quality* (HQ) if its Euclidean distance to the nearest mode
  centre is below 3 standard deviations;
- ``modes`` is the number of centres that are the nearest centre of at least one HQ sample;
- ``hq_fraction`` is the fraction of HQ samples. A perfect sampler of an isotropic 2-D
  Gaussian mixture scores P(chi_2^2 < 9) = 1 - exp(-4.5) = 98.89%;
- ``reverse_kl`` is KL(q || u) of the histogram q of HQ samples over their nearest modes
  against the uniform histogram u over the K modes: sum_k q_k log(K q_k). It is 0 for
  perfectly balanced modes, log K for a full collapse onto one mode, and +inf when no
  sample is high quality.

The papers evaluate on 2500 samples.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from wgan_lessons.transport import wasserstein_2d

__all__ = ["mode_coverage", "exact_w1", "w1_floor", "evaluate_samples", "HQ_PERFECT"]

HQ_PERFECT = 1.0 - math.exp(-4.5)  # P(||N(0, I_2)|| < 3), the HQ fraction of a perfect sampler


def _as_tensor(x, name: str = "samples") -> torch.Tensor:
    t = torch.as_tensor(np.asarray(x.detach().cpu() if isinstance(x, torch.Tensor) else x), dtype=torch.float64)
    if t.ndim != 2:
        raise ValueError(f"{name} must have shape (n, d), got {tuple(t.shape)}")
    if t.shape[0] == 0:
        raise ValueError(f"{name} is empty")
    return t


def mode_coverage(samples, centers, std: float, threshold: float = 3.0) -> dict:
    """Mode coverage of ``samples`` (n, d) on a mixture with ``centers`` (K, d) and common ``std``.

    Returns ``{"modes": int, "hq_fraction": float, "reverse_kl": float, "counts": list[int]}``,
    where ``counts[k]`` is the number of HQ samples whose nearest centre is k.
    """
    from wgan_lessons.checks import number

    x = _as_tensor(samples)
    c = _as_tensor(centers, "centers")
    if not torch.isfinite(c).all():
        raise ValueError("centers contains NaN or inf")
    std = number(std, "std", minimum=0.0, strict=True)
    threshold = number(threshold, "threshold", minimum=0.0, strict=True)
    if x.shape[1] != c.shape[1]:
        raise ValueError(f"samples have dimension {x.shape[1]} but centers have {c.shape[1]}")
    if not np.isfinite(x.numpy()).all():
        nonfinite = int((~torch.isfinite(x)).any(dim=1).sum())
        raise ValueError(f"{nonfinite} samples are NaN or inf: the generator has diverged")
    dist = torch.cdist(x, c)  # (n, K)
    dmin, nearest = dist.min(dim=1)  # (n,), (n,)
    hq = dmin < threshold * std  # (n,)
    k = c.shape[0]
    counts = torch.bincount(nearest[hq], minlength=k)  # (K,)
    n_hq = int(hq.sum())
    if n_hq == 0:
        rkl = math.inf
    else:
        q = counts.double() / n_hq
        nz = q > 0
        rkl = float((q[nz] * torch.log(k * q[nz])).sum())
    return {
        "modes": int((counts > 0).sum()),
        "hq_fraction": n_hq / x.shape[0],
        "reverse_kl": rkl,
        "counts": counts.tolist(),
    }


def exact_w1(x, y) -> float:
    """Exact W1 between the empirical measures of ``x`` (n, d) and ``y`` (m, d), uniform weights,
    Euclidean ground cost, solved by POT's network simplex (``ot.emd2``). See
    :func:`wgan_lessons.transport.wasserstein_2d`."""
    return wasserstein_2d(x, y, p=1)


def w1_floor(dist, n: int, repeats: int = 5, seed: int = 0) -> dict:
    """The sample-size floor of :func:`exact_w1`: W1 between two *independent* n-samples of the same
    distribution ``dist`` (anything with ``sample(n, generator=...)``), i.e. the exact W1 a perfect
    generator would score when it is measured on n samples against n held-out real ones.

    The empirical measure of n samples is W1-far from its law (Fournier and Guillin 2015: of order
    n^(-1/2) in 2-D up to a log factor, less for tight mixtures), so an exact W1 measured on n
    samples is never below this floor: compare a run's W1 with the floor of the same n, never with
    0, and never W1s measured on different n with each other. Returns ``{"mean", "std", "n",
    "repeats"}`` over ``repeats`` pairs drawn from a seeded generator (the global random state is
    not touched).

    Raises:
        ValueError: n or repeats is not an integer >= 1 (n >= 2 for a meaningful floor).
    """
    from wgan_lessons.checks import integer

    n = integer(n, "n", minimum=2)
    repeats = integer(repeats, "repeats", minimum=1)
    g = torch.Generator().manual_seed(int(seed))
    vals = [exact_w1(dist.sample(n, generator=g), dist.sample(n, generator=g)) for _ in range(repeats)]
    arr = np.asarray(vals)
    return {"mean": float(arr.mean()), "std": float(arr.std(ddof=1)) if repeats > 1 else 0.0, "n": n,
            "repeats": repeats}


def evaluate_samples(samples, dist, real=None, w1_samples: int = 2500, generator: torch.Generator | None = None) -> dict:
    """The numbers that ``metrics.json`` holds for a toy run: ``modes``, ``hq_fraction``,
    ``reverse_kl`` (mixtures only) and ``w1`` (exact W1 against ``real``, or against a fresh
    draw from ``dist`` of the same size)."""
    from wgan_lessons.data import _check_n

    samples = _as_tensor(samples)
    w1_samples = _check_n(w1_samples, "w1_samples")
    out: dict = {"n_samples": int(samples.shape[0])}
    if getattr(dist, "centers", None) is not None:
        cov = mode_coverage(samples, dist.centers, dist.std)
        out.update({k: cov[k] for k in ("modes", "hq_fraction", "reverse_kl")})
        out["n_modes_total"] = int(len(dist.centers))
    if real is None:
        real = dist.sample(min(w1_samples, samples.shape[0]), generator=generator)
    m = min(w1_samples, samples.shape[0])
    out["w1"] = exact_w1(samples[:m], real[:m])
    return out
