"""The pictures the lessons draw. Every function draws on a matplotlib ``Axes`` it is given
(or makes a new figure without pyplot), so it works in notebooks, widgets and the headless CLI.
"""

from __future__ import annotations

import math

import numpy as np
import torch

__all__ = ["new_figure", "critic_grid", "plot_samples", "plot_history", "plot_image_grid", "plot_mode_occupancy", "plot_dirac_path", "plot_plan",
           "LiveView", "weights_at_the_walls"]


#: A note written over samples (how many lie outside the view) keeps a white box under it, so it stays readable.
NOTE_BOX = dict(facecolor="white", alpha=0.8, edgecolor="none", pad=1.5)


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
                    transform=ax.transAxes, fontsize=7, color="tab:red", bbox=NOTE_BOX, zorder=5)
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


def plot_image_grid(ax, images, nrow: int | None = None, title: str | None = None, labels=None):
    """Show a batch of images (B, C, H, W) in [-1, 1] as one grid, ``nrow`` images to a row (default: a
    square grid). ``labels``: one short string per image (B of them), written under its tile (for example
    each interpolate's epsilon).

    Raises:
        ValueError: ``images`` is not (B, C, H, W), or ``labels`` does not hold one string per image.
    """
    x = torch.as_tensor(images).detach().cpu().float()
    if x.dim() != 4:
        raise ValueError(f"images must be a batch (B, C, H, W), got shape {tuple(x.shape)}: "
                         "add the batch and channel dimensions (x.reshape(B, 1, H, W) for grey images)")
    b, c, h, w = x.shape
    if labels is not None and len(labels) != b:
        raise ValueError(f"labels: {len(labels)} given for {b} images; give one per image")
    nrow = nrow or int(math.ceil(math.sqrt(b)))
    ncol = int(math.ceil(b / nrow))
    grid = torch.ones(c, ncol * (h + 1), nrow * (w + 1))
    for i in range(b):
        r, q = divmod(i, nrow)
        grid[:, r * (h + 1): r * (h + 1) + h, q * (w + 1): q * (w + 1) + w] = (x[i] + 1) / 2
    img = grid.permute(1, 2, 0).squeeze(-1).clamp(0, 1).numpy()
    ax.imshow(img, cmap="gray" if c == 1 else None, vmin=0, vmax=1)
    ax.axis("off")
    for i, text in enumerate(labels or ()):
        r, q = divmod(i, nrow)
        ax.text(q * (w + 1) + (w - 1) / 2, r * (h + 1) + h - 0.5, str(text), ha="center", va="top", fontsize=8,
                clip_on=False)
    if title:
        ax.set_title(title)


def plot_mode_occupancy(ax, steps, counts, title: str | None = "which modes the generator covers", centers=None,
                        colorbar: bool = True):
    """Mode hopping at a glance: a (modes x time) image of the share of the high-quality samples at
    each mode centre, from ``TrainingLab.metrics['step']`` and ``['counts']`` (or ``measure_presets``'s
    ``tracked_steps`` and ``counts``). With ``centers`` (K, 2) each row is labelled with its mode's
    index and position (its angle on the ring, or its coordinates), and on a ring the rows follow the
    modes around it; ``colorbar`` adds the colour scale.
    Returns the image (or None when there is no data)."""
    c = np.asarray([row for row in counts if len(row)], dtype=float)  # (T, K)
    s = [st for st, row in zip(steps, counts) if len(row)]
    if c.size == 0:
        ax.text(0.5, 0.5, "no mode data", ha="center", va="center", transform=ax.transAxes)
        return None
    share = c / np.maximum(c.sum(axis=1, keepdims=True), 1)
    k = c.shape[1]
    order = list(range(k))
    ring = False
    if centers is not None:
        xy = np.asarray(centers, dtype=float)
        radius = np.hypot(xy[:, 0], xy[:, 1])
        ring = bool(np.allclose(radius, radius.mean(), rtol=1e-3))
        if ring:  # rows in the order of the modes around the ring, so neighbouring rows are neighbours
            order = list(np.argsort(np.degrees(np.arctan2(xy[:, 1], xy[:, 0])) % 360, kind="stable"))
        share = share[:, order]
    im = ax.imshow(share.T, aspect="auto", origin="lower", cmap="magma", vmin=0, vmax=1,
                   extent=(s[0], s[-1] if len(s) > 1 else s[0] + 1, -0.5, c.shape[1] - 0.5), interpolation="nearest")
    ax.set_xlabel("generator step")
    ax.set_ylabel("mode")
    if centers is not None:
        if ring:  # label by angle
            labels = [f"{i}: {np.degrees(np.arctan2(xy[i, 1], xy[i, 0])) % 360:.0f}°" for i in order]
        else:
            labels = [f"{i}: ({xy[i, 0]:.1f}, {xy[i, 1]:.1f})" for i in order]
        ax.set_yticks(range(k), labels, fontsize=7)
    else:
        ax.set_yticks(range(k))
    if colorbar:
        ax.figure.colorbar(im, ax=ax, label="share of the HQ samples")
    if title:
        ax.set_title(title)
    return im


def plot_dirac_path(ax, path, field=None, title: str | None = None, lim: float | None = None):
    """A Dirac-GAN path (steps + 1, 2) of (theta, psi) with its start (dot) and the equilibrium (0, 0)
    (red star), over the gradient field ``field = (theta_grid, psi_grid, v_theta, v_psi)`` when given
    (from :func:`wgan_lessons.dirac.dirac_gan_field`). The view is [-lim, lim]^2 (default: the path's
    extent, at least 1.5); a path that leaves it is clipped by the axes, and the title says so."""
    path = np.asarray(path, dtype=float)
    if field is not None:
        th, ps, vt, vp = field
        ax.quiver(th, ps, vt, vp, color="0.6")
    ext = float(np.abs(path).max()) if np.isfinite(path).all() else np.inf
    if lim is None:
        lim = max(1.5, min(ext, 1e3) * 1.1)
    ax.plot(path[:, 0], path[:, 1], lw=0.8)
    ax.plot(path[0, 0], path[0, 1], "o", ms=4, color="tab:blue")
    ax.plot([0], [0], "r*", ms=10)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_xlabel("θ (generator)")
    ax.set_ylabel("ψ (discriminator)")
    if title:
        ax.set_title(title + ("  (leaves the view)" if ext > lim else ""), fontsize=9)


def plot_plan(ax, x, y, plan, title: str | None = None, min_share: float = 1e-3):
    """A transport plan as lines: x (n, 2) and y (m, 2) scattered, and a line x_i -> y_j for every
    entry of ``plan`` (n, m) above ``min_share`` of its largest entry, darker for more mass (the plan
    ``ot.emd`` or :func:`wgan_lessons.transport.wasserstein_2d` returns). Returns the LineCollection.

    Raises:
        ValueError: the shapes do not fit together (plan must be (len(x), len(y))).
    """
    from matplotlib.collections import LineCollection

    x, y, plan = np.asarray(x, dtype=float), np.asarray(y, dtype=float), np.asarray(plan, dtype=float)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != 2 or y.shape[1] != 2 or plan.shape != (len(x), len(y)):
        raise ValueError(f"plot_plan needs x (n, 2), y (m, 2) and plan (n, m); got {x.shape}, {y.shape} and {plan.shape}")
    top = plan.max() if plan.size and plan.max() > 0 else 1.0
    i, j = np.nonzero(plan > min_share * top)
    colors = np.zeros((len(i), 4))
    colors[:, 3] = 0.8 * plan[i, j] / top
    lines = LineCollection(np.stack([x[i], y[j]], axis=1), colors=colors, linewidths=0.8)
    ax.add_collection(lines)
    ax.scatter(*x.T, s=10, label="x")
    ax.scatter(*y.T, s=10, label="y")
    ax.set_aspect("equal")
    if title:
        ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="upper right")
    return lines


def weights_at_the_walls(weights, clip_value: float, within: float = 0.05) -> float:
    """The share of weights w with |w| >= (1 - within) * c: how many a clipped critic has piled up
    at the walls of its box [-c, c] (Gulrajani et al. 2017, Figure 1b). ``weights``: any array of
    the critic's parameters (flattened here)."""
    w = np.abs(np.asarray(weights, dtype=float).ravel())
    if not clip_value > 0:
        raise ValueError(f"clip_value must be positive, got {clip_value}")
    return float((w >= (1 - within) * clip_value).mean()) if w.size else float("nan")


class LiveView:
    """The training lab's four panels, drawn once and then *updated*: every refresh moves the
    existing artists (scatter offsets, the critic image, the arrows, the curves) instead of
    building a new figure, so a frame costs tens of milliseconds rather than half a second.

    Panels: samples over the critic's heatmap with the generator's gradient arrows; the losses;
    the critic's W estimate next to the exact W1; modes covered and the high-quality share
    (with the 98.9% of a perfect sampler as a dashed line); and, for a weight-clipped critic
    (``clip_value`` given), a fifth panel: the histogram of the critic's weights in [-c, c], where
    clipping piles them up at the two walls (Gulrajani et al. 2017, Figure 1b).

    Args:
        n_modes: K, the number of mixture modes (None for the swiss roll).
        lim: the view is [-lim, lim]^2.
        grid: the critic heatmap's resolution (grid x grid points).
        clip_value: c of a weight-clipped critic (WGAN): adds the weight histogram panel.
    """

    #: Seconds between two full redraws of the figure (the curves, the mode panel, the weights); in
    #: between, a frame redraws only the samples panel over a saved copy of its background (blitting).
    full_every: float = 1.0

    def __init__(self, n_modes: int | None, lim: float = 2.0, grid: int = 64, size: float = 3.6, dpi: int = 72,
                 clip_value: float | None = None):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        from wgan_lessons.metrics import HQ_PERFECT

        self.fig, axes = new_figure(5 if clip_value else 4, 1, size=size)
        self.fig.set_dpi(dpi)
        self.canvas = FigureCanvasAgg(self.fig)
        self.dpi, self.lim, self.grid = dpi, lim, grid
        self.ax_samples, self.ax_loss, self.ax_w, self.ax_modes = axes[0][:4]
        self.clip_value, self.weights = clip_value, None
        if clip_value:
            ax = self.ax_weights = axes[0][4]
            self.weight_edges = np.linspace(-clip_value, clip_value, 41)  # 40 bins over [-c, c]
            self.weights = ax.stairs(np.zeros(40), self.weight_edges, fill=True, color="tab:gray")
            for x in (-clip_value, clip_value):
                ax.axvline(x, color="tab:red", lw=0.8, ls=":")
            ax.set_title(f"critic parameters (clipped to ±{clip_value:g})")
            ax.set_xlabel("parameter value")
            ax.set_ylabel("share of parameters %")
            ax.set_xlim(-1.1 * clip_value, 1.1 * clip_value)
            self.wall_note = ax.text(0.5, 0.97, "", transform=ax.transAxes, fontsize=7, ha="center", va="top")
        ax = self.ax_samples
        self.heat = ax.imshow(np.zeros((grid, grid)), extent=(-lim, lim, -lim, lim), origin="lower", cmap="viridis",
                              alpha=0.55, interpolation="bilinear", aspect="equal")
        self.real = ax.scatter([], [], s=3, c="tab:blue", alpha=0.5, label="real")
        self.fake = ax.scatter([], [], s=3, c="tab:orange", alpha=0.6, label="generated")
        self.n_arrows = 64  # a quiver keeps its number of arrows: unused ones have length 0
        zeros = np.zeros(self.n_arrows)
        self.arrows = ax.quiver(zeros, zeros, zeros, zeros, angles="xy", scale_units="xy", scale=1, color="k",
                                width=0.004, alpha=0.7)
        self.arrow_note = ax.text(0.02, 0.97, "", transform=ax.transAxes, fontsize=7, va="top")
        self.outside = ax.text(0.02, 0.80, "", transform=ax.transAxes, fontsize=7, color="tab:red", bbox=NOTE_BOX,
                               zorder=5)
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        self.legend = ax.legend(loc="lower right", fontsize=7, markerscale=3)
        self.title = ax.set_title("")
        # What a frame redraws: the samples panel's changing artists, drawn over the saved background
        # (axes face, ticks, labels) in this order; the spines go on top again.
        self._live = [self.heat, self.real, self.fake, self.arrows, self.arrow_note, self.outside, self.legend,
                      *ax.spines.values()]
        self._background, self._last_full = None, -float("inf")
        self.loss_d, = self.ax_loss.plot([], [], label="loss_d")
        self.loss_g, = self.ax_loss.plot([], [], label="loss_g")
        self.ax_loss.set_title("losses")
        self.ax_loss.set_xlabel("generator step")
        self.ax_loss.set_ylabel("loss")
        self.ax_loss.legend(fontsize=8)
        self.w_est, = self.ax_w.plot([], [], label="critic's estimate E_r[f] - E_g[f]")
        self.w_exact, = self.ax_w.plot([], [], "o-", ms=3, label="exact W1 (POT)")
        self.ax_w.set_title("Wasserstein-1")
        self.ax_w.set_xlabel("generator step")
        self.ax_w.set_ylabel("W1")
        self.ax_w.legend(fontsize=8, loc="upper right")  # W1 falls from the upper left as training goes on
        ax = self.ax_modes
        ax.set_title("mode coverage")
        ax.set_xlabel("generator step")
        if n_modes:
            self.modes, = ax.plot([], [], "o-", ms=3, color="tab:green", label="modes")
            ax.set_ylim(0, n_modes + 0.5)
            ax.set_ylabel(f"modes covered (of {n_modes})")
            self.ax_hq = ax.twinx()
            self.hq, = self.ax_hq.plot([], [], "s--", ms=3, color="tab:purple")
            self.ax_hq.axhline(100 * HQ_PERFECT, color="tab:purple", lw=0.8, ls=":")
            self.ax_hq.text(0.02, 100 * HQ_PERFECT - 1, f"perfect sampler {100 * HQ_PERFECT:.1f}%", fontsize=8,
                            color="tab:purple", va="top", transform=self.ax_hq.get_yaxis_transform())
            self.ax_hq.set_ylim(0, 100)
            self.ax_hq.set_ylabel("high quality %", color="tab:purple")
        else:
            self.modes = self.hq = None
            ax.text(0.5, 0.5, "no discrete modes\n(swiss roll)", ha="center", va="center", transform=ax.transAxes)
        from matplotlib.ticker import MaxNLocator

        for a in (self.ax_samples, self.ax_loss, self.ax_w, self.ax_modes) + \
                ((self.ax_weights,) if clip_value else ()):  # few tick labels: text is
            a.xaxis.set_major_locator(MaxNLocator(4))  # most of a frame's drawing time
            a.yaxis.set_major_locator(MaxNLocator(5))
        xs = np.linspace(-lim, lim, grid)
        X, Y = np.meshgrid(xs, xs)
        self.grid_points = torch.tensor(np.stack([X.ravel(), Y.ravel()], 1), dtype=torch.float32)  # (grid^2, 2)

    @staticmethod
    def _line(line, x, y):
        y = np.asarray(y, dtype=float)
        line.set_data(np.asarray(x[: len(y)], dtype=float), y)

    def update(self, real, fake, critic_fn, field_fn, history: dict, metrics: dict, title: str,
               show_w_estimate: bool, critic_weights=None, step: int | None = None) -> None:
        """Move every artist to the current state. ``fake`` may be None (a diverged generator).
        ``critic_weights``: every parameter of the critic, flattened (for the clipping panel).
        ``title`` goes above the samples panel (it changes on full redraws only); ``step``, the
        generator step, is written inside the panel, so it is fresh on every frame."""
        self._step_text = "" if step is None else f"step {step} · "
        if self.weights is not None and critic_weights is not None:
            w = np.asarray(critic_weights, dtype=float).ravel()
            counts, _ = np.histogram(np.clip(w, -self.clip_value, self.clip_value), self.weight_edges)
            share = 100 * counts / max(len(w), 1)
            self.weights.set_data(share)
            self.ax_weights.set_ylim(0, max(float(share.max()) * 1.15, 1e-9))
            near = weights_at_the_walls(w, self.clip_value)
            self.wall_note.set_text(f"{100 * near:.0f}% within 5% of ±c")
        z = critic_fn(self.grid_points).detach().cpu().numpy().reshape(self.grid, self.grid)
        if np.isfinite(z).all():
            self.heat.set_data(z)
            self.heat.set_clim(float(z.min()), float(z.max()) + 1e-12)
        self.real.set_offsets(np.asarray(real)[:2500])
        if fake is not None:
            f = np.asarray(fake)
            self.fake.set_offsets(f[:2500])
            outside = int((np.abs(f) > self.lim).any(axis=1).sum())
            self.outside.set_text(f"{outside} of {len(f)} generated samples lie outside this view" if outside else "")
            pts = torch.zeros(self.n_arrows, 2)
            d = torch.zeros(self.n_arrows, 2)
            k = min(self.n_arrows, len(f))
            pts[:k] = torch.as_tensor(f[:k], dtype=torch.float32)
            g = field_fn(pts[:k])  # (k, 2)
            longest = float(g.norm(dim=1).max()) if k else 0.0
            d[:k] = g * (0.25 / max(longest, 1e-12))  # the longest arrow is 0.25 long; its size is printed
            self.arrows.set_offsets(pts.numpy())
            self.arrows.set_UVC(d[:, 0].numpy(), d[:, 1].numpy())
            self.arrow_note.set_text(f"{self._step_text}arrows: -grad of G's loss\nlongest |grad| = {longest:.2g}")
        else:
            self.fake.set_offsets(np.zeros((0, 2)))
            self.outside.set_text("the generator's samples are not finite")
            self.arrow_note.set_text(self._step_text)
        self.title.set_text(title)
        steps = history.get("step", [])
        self._line(self.loss_d, steps, history.get("loss_d", []))
        self._line(self.loss_g, steps, history.get("loss_g", []))
        self._line(self.w_est, steps, history.get("w_estimate", []) if show_w_estimate else [])
        self._line(self.w_exact, metrics["step"], metrics["exact_w1"])
        if self.modes is not None:
            self._line(self.modes, metrics["step"], metrics["modes"])
            self._line(self.hq, metrics["step"], 100 * np.asarray(metrics["hq_fraction"], dtype=float))
        for ax in (self.ax_loss, self.ax_w, self.ax_modes):
            ax.relim()
            ax.autoscale_view(scaley=ax is not self.ax_modes)

    def _set_live(self, animated: bool) -> None:
        for a in self._live:
            a.set_animated(animated)

    def draw(self, full: bool | None = None) -> None:
        """Render the current state into the canvas. A full redraw draws every panel and saves the
        samples panel's background; otherwise (``full=None`` picks: a full redraw every
        :attr:`full_every` seconds) only the samples panel's live artists are drawn again, over that
        background, which costs a fraction of a full frame. The other panels then show their state
        of the last full redraw, at most ``full_every`` seconds old."""
        import time

        now = time.perf_counter()
        if full is None:
            full = self._background is None or now - self._last_full >= self.full_every
        if full:
            self._set_live(True)  # animated artists are left out of a full draw: the background
            self.canvas.draw()
            self._background = self.canvas.copy_from_bbox(self.fig.bbox)
            self._last_full = now
            self._frames = getattr(self, "_frames", 0) + 1
            if self._frames == 1:  # lay out once, with the first frame's labels; later frames only redraw
                self.fig.set_layout_engine("none")
        else:
            self.canvas.restore_region(self._background)
        renderer = self.canvas.get_renderer()
        for a in self._live:
            a.draw(renderer)

    def png(self, full: bool | None = None) -> bytes:
        """The current picture as PNG bytes (Agg, no pyplot), drawn by :meth:`draw`. zlib level 1: a
        frame encodes ~4x faster than at PIL's default level 6, for a PNG about a third larger; it
        travels to a local browser, so time matters more than bytes."""
        import io

        from matplotlib.image import imsave

        self.draw(full)
        buf = io.BytesIO()
        imsave(buf, np.asarray(self.canvas.buffer_rgba()), format="png", pil_kwargs={"compress_level": 1})
        return buf.getvalue()

    def figure(self):
        """The figure with every artist drawn normally (for savefig or display outside the lab)."""
        self._set_live(False)
        self._background = None  # the next frame is a full redraw
        return self.fig


# ----------------------------------------------------------------------------- lesson 04: duality and the critic

__all__ += ["field_grid", "plot_potential", "plot_estimates", "plot_grad_norms", "plot_potential_agreement"]


def field_grid(fn, lim: float = 2.0, n: int = 100, center=(0.0, 0.0)):
    """Evaluate a scalar function of the plane on an n x n grid over center + [-lim, lim]^2.

    ``fn`` maps points (k, 2), a float64 numpy array, to (k,) values (numpy or torch): a
    ``duality.DualPotential``, a ``duality.CriticRun``, or any function. Returns (X, Y, Z), each (n, n).

    Raises:
        ValueError: lim not positive, n below 2, or fn returning a shape other than (k,).
    """
    if not (np.isfinite(lim) and lim > 0) or int(n) != n or n < 2:
        raise ValueError(f"field_grid needs lim > 0 and an integer n >= 2, got lim={lim!r}, n={n!r}")
    cx, cy = (float(c) for c in center)
    X, Y = np.meshgrid(np.linspace(cx - lim, cx + lim, int(n)), np.linspace(cy - lim, cy + lim, int(n)))
    pts = np.stack([X.ravel(), Y.ravel()], 1)  # (n*n, 2)
    Z = fn(pts)
    Z = Z.detach().cpu().numpy() if isinstance(Z, torch.Tensor) else np.asarray(Z, dtype=float)
    if Z.shape != (len(pts),):
        raise ValueError(f"fn must return one value per point, shape ({len(pts)},), got {Z.shape}")
    return X, Y, Z.reshape(X.shape)


def plot_potential(ax, fn, real=None, fake=None, lim: float = 2.5, n: int = 100, center=(0.0, 0.0),
                   title: str | None = None, levels: int = 15, colorbar: bool = True,
                   labels: tuple[str, str] = ("real", "generated")):
    """A function of the plane (a critic, or the exact Kantorovich-Rubinstein potential) as a heatmap
    with contour lines, and the real (blue) and generated (orange) points on top, named in the legend by
    ``labels`` (e.g. ``("data", "data + N(0, I)")`` when the second sample is not a generator's). Two such
    maps that differ by a constant have the same picture up to the colour scale's labels. Returns the
    contour set."""
    X, Y, Z = field_grid(fn, lim, n, center)
    cs = ax.contourf(X, Y, Z, levels=levels, cmap="viridis")
    ax.contour(X, Y, Z, levels=levels, colors="k", linewidths=0.4, alpha=0.6)
    for pts, colour, label in ((real, "tab:blue", labels[0]), (fake, "tab:orange", labels[1])):
        if pts is not None:
            p = pts.detach().cpu().numpy() if isinstance(pts, torch.Tensor) else np.asarray(pts)
            ax.scatter(p[:, 0], p[:, 1], s=12, c=colour, edgecolors="white", linewidths=0.3, label=label)
    ax.set_xlim(center[0] - lim, center[0] + lim)
    ax.set_ylim(center[1] - lim, center[1] + lim)
    ax.set_aspect("equal")
    if real is not None or fake is not None:
        ax.legend(loc="upper right", fontsize=7, markerscale=3)
    if colorbar:
        ax.figure.colorbar(cs, ax=ax, shrink=0.8)
    if title:
        ax.set_title(title, fontsize=10)
    return cs


def plot_estimates(ax, histories: dict, exact: float | None = None, title: str | None = None):
    """Critics' estimates E_r[f] - E_g[f] over training: one curve per ``label -> history`` (a
    ``duality.CriticRun.history``, with ``step`` and ``estimate``), and the exact W1 as a dashed
    horizontal line when given. Returns the list of curves."""
    lines = []
    for label, h in histories.items():
        steps, est = np.asarray(h["step"], dtype=float), np.asarray(h["estimate"], dtype=float)
        if len(steps) != len(est):
            raise ValueError(f"history {label!r}: {len(steps)} steps but {len(est)} estimates")
        lines.append(ax.plot(steps, est, label=label)[0])
    if exact is not None:
        ax.axhline(exact, color="k", ls="--", lw=1, label=f"exact W1 (POT) = {exact:.4f}")
    ax.set_xlabel("critic step")
    ax.set_ylabel("E_r[f] - E_g[f]")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    return lines


def plot_grad_norms(ax, norms: dict, bins: int = 40, title: str | None = None, bound: float | None = 1.0):
    """Histograms of gradient norms ||grad f||, one per ``label -> array`` (e.g. the ``data`` and
    ``between`` of ``duality.gradient_norms``), with the 1-Lipschitz bound as a dashed vertical line
    (``bound=None`` leaves it out, for a critic whose norms are far below 1). Returns the bin edges."""
    arrays = {k: np.asarray(v, dtype=float).ravel() for k, v in norms.items()}
    allv = np.concatenate([v for v in arrays.values() if v.size] or [np.zeros(1)])
    hi = max(float(allv.max()), bound or 0.0) * 1.05 or 1.0
    edges = np.linspace(0.0, hi, bins + 1)
    for label, v in arrays.items():
        ax.hist(v, bins=edges, histtype="step", lw=1.5, density=True, label=f"{label} (median {np.median(v):.3g})")
    if bound is not None:
        ax.axvline(bound, color="k", ls="--", lw=1, label=f"Lipschitz bound {bound:g}")
    ax.set_xlabel("||grad f(z)||")
    ax.set_ylabel("density")
    ax.legend(fontsize=7)
    if title:
        ax.set_title(title, fontsize=10)
    return edges


def plot_potential_agreement(ax, f_values, ref_values, title: str | None = None):
    """A critic's values against a reference potential's on the same points (k,) (e.g. the support
    of the two clouds), with the line ref + offset, offset = mean(f - ref): on that line the two
    agree up to a constant. The title gets their correlation. Returns the offset."""
    f = np.asarray(f_values, dtype=float).ravel()
    r = np.asarray(ref_values, dtype=float).ravel()
    if f.shape != r.shape or f.size < 2:
        raise ValueError(f"f_values and ref_values must have the same length >= 2, got {f.size} and {r.size}")
    offset = float((f - r).mean())
    ax.scatter(r, f, s=5, alpha=0.6)
    line = np.array([r.min(), r.max()])
    ax.plot(line, line + offset, "k--", lw=1, label=f"f = potential + {offset:.3g}")
    ax.set_xlabel("exact potential (POT)")
    ax.set_ylabel("critic f")
    ax.legend(fontsize=8)
    corr = float(np.corrcoef(f, r)[0, 1]) if f.std() > 0 and r.std() > 0 else float("nan")
    ax.set_title((title + ": " if title else "") + f"correlation {corr:.4f}", fontsize=10)
    return offset


# ----------------------------------------------------------------------------- lesson 05: weight clipping

__all__ += ["plot_tracking", "plot_layer_norms", "plot_weight_histogram"]


def plot_tracking(ax, run: dict, title: str | None = None, estimate_label: str = "-L_D (the critic's estimate)"):
    """A training run's loss read as a distance (``clipping.track_run``'s ``step``, ``w1`` and ``estimate``):
    the exact W1 of the generator's current samples (POT) on the left axis and minus the critic's loss on a
    twin right axis (their scales differ by orders of magnitude for a clipped critic). The title gets their
    Spearman rank correlation over the run (``run['spearman']``). Returns the two lines (W1, estimate).

    Raises:
        ValueError: steps, w1 and estimate of different lengths.
    """
    steps = np.asarray(run["step"], dtype=float)
    w1, est = np.asarray(run["w1"], dtype=float), np.asarray(run["estimate"], dtype=float)
    if not (len(steps) == len(w1) == len(est)):
        raise ValueError(f"run: {len(steps)} steps, {len(w1)} W1 values and {len(est)} estimates")
    line_w1, = ax.plot(steps, w1, "o-", ms=3, color="0.3", label="exact W1 (POT)")
    ax.set_xlabel("generator step")
    ax.set_ylabel("exact W1 of the current samples")
    twin = ax.twinx()
    line_est, = twin.plot(steps, est, "s-", ms=3, color="tab:red", label=estimate_label)
    twin.set_ylabel(estimate_label, color="tab:red")
    twin.tick_params(axis="y", colors="tab:red")
    ax.legend([line_w1, line_est], [line_w1.get_label(), line_est.get_label()], fontsize=7, loc="upper right")
    rho = run.get("spearman")
    head = title + ": " if title else ""
    ax.set_title(head + (f"Spearman {rho:.2f}" if rho is not None and np.isfinite(rho) else ""), fontsize=10)
    return line_w1, line_est


def plot_layer_norms(ax, norms: dict, title: str | None = None, ylabel: str = "||dL / dz_k|| (log scale)",
                     floor: float | None = None):
    """Per-layer gradient norms on a log scale, one line per ``label -> (K,) norms`` (e.g. the
    ``activation`` of ``clipping.layer_gradient_norms`` for each critic), layer 1 (next to the input) to K
    (the output). A norm of exactly 0 (float32 underflow) cannot be drawn on a log scale: it is drawn at
    ``floor`` (default: a decade below the smallest positive norm) with an open marker, and said in the
    legend. Returns the lines."""
    arrays = {k: np.asarray(v, dtype=float).ravel() for k, v in norms.items()}
    positive = np.concatenate([v[v > 0] for v in arrays.values()] or [np.ones(1)])
    floor = floor if floor is not None else float(positive.min()) / 10 if positive.size else 1e-30
    lines = []
    for label, v in arrays.items():
        layers = np.arange(1, len(v) + 1)
        zero = v == 0
        shown = np.where(zero, floor, v)
        note = f" ({int(zero.sum())} layers exactly 0: drawn at {floor:.0e})" if zero.any() else ""
        line, = ax.semilogy(layers, shown, "o-", ms=4, label=label + note)
        if zero.any():
            ax.plot(layers[zero], shown[zero], "o", ms=7, mfc="none", color=line.get_color())
        lines.append(line)
    ax.set_xlabel("layer k (1 = next to the input)")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=7)
    if title:
        ax.set_title(title, fontsize=10)
    return lines


def plot_weight_histogram(ax, weights, clip_value: float | None = None, bins: int = 40, title: str | None = None,
                          label: str | None = None, color: str | None = None):
    """The histogram of a critic's parameters (as shares in %, so histograms of nets of different sizes
    compare), over [-c, c] with the walls ±c drawn dotted when ``clip_value`` is given (the label then gets
    the share within 5% of ±c, :func:`weights_at_the_walls`), over the weights' own range otherwise.
    Returns the counts per bin."""
    w = np.asarray(weights, dtype=float).ravel()
    if w.size == 0:
        raise ValueError("weights is empty")
    if clip_value:
        edges = np.linspace(-clip_value, clip_value, bins + 1)
        w_shown = np.clip(w, -clip_value, clip_value)
        extra = f": {100 * weights_at_the_walls(w, clip_value):.0f}% within 5% of ±c"
    else:
        lo, hi = float(w.min()), float(w.max())
        edges = np.linspace(lo, hi if hi > lo else lo + 1.0, bins + 1)
        w_shown, extra = w, ""
    counts, _ = np.histogram(w_shown, edges)
    ax.stairs(100 * counts / w.size, edges, fill=True, alpha=0.6, color=color, label=(label or "parameters") + extra)
    if clip_value:
        for x in (-clip_value, clip_value):
            ax.axvline(x, color="tab:red", lw=0.8, ls=":")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(5))  # few tick labels: values like -0.0075 are long
    ax.set_xlabel("parameter value")
    ax.set_ylabel("share of parameters %")
    ax.legend(fontsize=7, loc="upper center")  # clipped weights pile up at the sides: the middle is free
    if title:
        ax.set_title(title, fontsize=10)
    return counts
