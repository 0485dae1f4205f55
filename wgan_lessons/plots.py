"""The pictures the lessons draw. Every function draws on a matplotlib ``Axes`` it is given
(or makes a new figure without pyplot), so it works in notebooks, widgets and the headless CLI.
"""

from __future__ import annotations

import math

import numpy as np
import torch

__all__ = ["new_figure", "critic_grid", "plot_samples", "plot_history", "plot_image_grid"]


def new_figure(ncols: int = 1, nrows: int = 1, size: float = 4.0):
    """A figure with ``nrows x ncols`` axes, built without pyplot (no global state, no GUI backend)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(size * ncols, size * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes


def critic_grid(critic_fn, lim: float = 2.0, n: int = 100):
    """Evaluate a critic on an n x n grid over [-lim, lim]^2. Returns (X, Y, Z), each (n, n)."""
    xs = np.linspace(-lim, lim, n)
    X, Y = np.meshgrid(xs, xs)
    pts = torch.tensor(np.stack([X.ravel(), Y.ravel()], 1), dtype=torch.float32)  # (n*n, 2)
    Z = critic_fn(pts).detach().cpu().numpy().reshape(n, n)
    return X, Y, Z


def plot_samples(ax, real=None, fake=None, critic_fn=None, lim: float | None = None, title: str | None = None,
                 max_points: int = 2500, centers=None):
    """Real (blue) vs generated (orange) 2-D samples, over the critic's filled contour when given.

    ``critic_fn`` maps (N, 2) points to (N,) scores (e.g. ``trainer.critic_scores``).
    Returns the contour set (or None).
    """
    pts = [np.asarray(p)[:max_points] for p in (real, fake) if p is not None]
    if lim is None:
        lim = max(2.0, *(float(np.abs(p).max()) * 1.15 for p in pts if len(p) and np.isfinite(p).all())) \
            if pts else 2.0
    cs = None
    if critic_fn is not None:
        X, Y, Z = critic_grid(critic_fn, lim)
        cs = ax.contourf(X, Y, Z, levels=20, cmap="viridis", alpha=0.55)
    if real is not None:
        r = np.asarray(real)[:max_points]
        ax.scatter(r[:, 0], r[:, 1], s=3, c="tab:blue", alpha=0.5, label="real")
    if fake is not None:
        f = np.asarray(fake)[:max_points]
        ax.scatter(f[:, 0], f[:, 1], s=3, c="tab:orange", alpha=0.6, label="generated")
        outside = int((np.abs(f) > lim).any(axis=1).sum())
        if outside:
            ax.text(0.02, 0.02, f"{outside} of {len(f)} generated samples lie outside this view",
                    transform=ax.transAxes, fontsize=7, color="tab:red")
    if centers is not None:
        c = np.asarray(centers)
        ax.scatter(c[:, 0], c[:, 1], marker="x", c="k", s=30, label="mode centres")
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper right", fontsize=7, markerscale=3)
    if title:
        ax.set_title(title)
    return cs


def plot_history(ax, history: dict, keys=("loss_d", "loss_g", "w_estimate"), title: str | None = None):
    """Curves of ``history[key]`` against ``history['step']`` (NaN-only keys are skipped)."""
    steps = history.get("step", [])
    for k in keys:
        v = np.asarray(history.get(k, []), dtype=float)
        if len(v) and not np.isnan(v).all():
            ax.plot(steps[: len(v)], v, label=k)
    ax.set_xlabel("generator step")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    if title:
        ax.set_title(title)


def plot_image_grid(ax, images, nrow: int | None = None, title: str | None = None):
    """Show a batch of images (B, C, H, W) in [-1, 1] as one grid."""
    x = torch.as_tensor(images).detach().cpu().float()
    b, c, h, w = x.shape
    nrow = nrow or int(math.ceil(math.sqrt(b)))
    ncol = int(math.ceil(b / nrow))
    grid = torch.ones(c, ncol * (h + 1), nrow * (w + 1))
    for i in range(b):
        r, q = divmod(i, nrow)
        grid[:, r * (h + 1): r * (h + 1) + h, q * (w + 1): q * (w + 1) + w] = (x[i] + 1) / 2
    img = grid.permute(1, 2, 0).squeeze(-1).clamp(0, 1).numpy()
    ax.imshow(img, cmap="gray" if c == 1 else None, vmin=0, vmax=1)
    ax.axis("off")
    if title:
        ax.set_title(title)


def plot_mode_occupancy(ax, steps, counts, title: str | None = "which modes the generator covers"):
    """Mode hopping at a glance: a (modes x time) image of the share of high-quality samples
    at each mode centre, from ``TrainingLab.metrics['step']`` and ``['counts']``."""
    c = np.asarray([row for row in counts if len(row)], dtype=float)  # (T, K)
    s = [st for st, row in zip(steps, counts) if len(row)]
    if c.size == 0:
        ax.text(0.5, 0.5, "no mode data", ha="center", va="center", transform=ax.transAxes)
        return None
    share = c / np.maximum(c.sum(axis=1, keepdims=True), 1)
    im = ax.imshow(share.T, aspect="auto", origin="lower", cmap="magma", vmin=0, vmax=1,
                   extent=(s[0], s[-1] if len(s) > 1 else s[0] + 1, -0.5, c.shape[1] - 0.5), interpolation="nearest")
    ax.set_xlabel("generator step")
    ax.set_ylabel("mode index")
    if title:
        ax.set_title(title)
    return im
