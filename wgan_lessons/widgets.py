"""The training lab: train a GAN, WGAN or WGAN-GP on 2-D toy data and watch it live.

    from wgan_lessons.widgets import TrainingLab
    lab = TrainingLab(preset="mode-collapse")
    lab                      # shows controls + live view in a notebook
    lab.run(200)             # or drive it from Python (blocking)

    TrainingLab.side_by_side("mode-collapse", "stable-wgan-gp", seed=0)   # same seed, two settings

What it shows, refreshed after every chunk of training:

- real vs generated samples over the critic (or discriminator logit) as a heatmap,
- arrows of the generator's gradient at its samples (where the loss pushes each sample),
- the loss curves,
- the critic's W estimate next to the exact W1 between generated and held-out real samples
  (POT), and
- modes covered and the high-quality percentage (VEEGAN/PacGAN definitions).

Training runs in chunks from an asyncio task on the kernel's event loop, so the notebook
stays responsive and Pause works while training runs. Creating a new lab stops every
earlier lab's task, so re-running the cell leaves no orphaned training behind.
The widgets used exist in ipywidgets 7.7 (Colab) and 8 (JupyterLab 4) alike, and the view
is a PNG in an ``ipywidgets.Image``, which needs no extra front-end extension.
"""

from __future__ import annotations

import asyncio
import math
import time
import weakref
from dataclasses import replace

import numpy as np
import torch

from wgan_lessons.metrics import HQ_PERFECT, exact_w1, mode_coverage
from wgan_lessons.presets import PRESETS, get_preset
from wgan_lessons.train import METHODS, TrainConfig, Trainer

__all__ = ["TrainingLab", "SideBySide"]

TOY_DATA = ("ring8", "grid25", "swissroll")
_LABS: "weakref.WeakSet[TrainingLab]" = weakref.WeakSet()


def _import_in_background(*modules: str) -> None:
    """Import ``modules`` one after the other in one daemon thread (a later ``import`` of one of them
    waits for it, never imports twice). One thread, in order: two threads importing at once can
    each hold a module the other needs (a concurrent circular import)."""
    import sys
    import threading

    todo = [m for m in modules if m not in sys.modules]
    if todo:
        threading.Thread(target=lambda: [__import__(m) for m in todo], daemon=True).start()


def _widgets():
    import ipywidgets

    return ipywidgets


class TrainingLab:
    """Controls, live plots and a Python API around one :class:`~wgan_lessons.train.Trainer`.

    Args:
        config: a :class:`TrainConfig` (toy data only); or
        preset: a name from :data:`wgan_lessons.presets.PRESETS`.
        chunk_steps: generator steps between two measurements of the exact W1 and the mode
            metrics (and the steps one :meth:`step` trains).
        frame_seconds: while running in the background, the wall time trained between two frames.
        eval_samples: samples for the exact W1 and the mode metrics at each refresh.
        title: a label shown above the view.
        **overrides: fields of TrainConfig applied on top (e.g. ``seed=3``).

    Python API: :meth:`run` (blocking), :meth:`start` / :meth:`pause` (background task),
    :meth:`step` (one chunk), :meth:`reset`, and :attr:`history` / :attr:`metrics`.
    ``metrics`` holds, at every refresh: ``step``, ``exact_w1`` (POT, generated vs held-out real),
    ``modes``, ``hq_fraction``, ``reverse_kl`` and ``counts`` (HQ samples per mode: mode hopping).
    """

    def __init__(self, config: TrainConfig | None = None, preset: str | None = None,
                 chunk_steps: int = 25, eval_samples: int = 500, title: str | None = None,
                 frame_seconds: float = 0.1, **overrides):
        from wgan_lessons.checks import integer

        if config is not None and preset is not None:
            raise ValueError("give either config or preset, not both (a preset is a config: "
                             "TrainingLab(preset=name, **overrides) changes some of its fields)")
        if config is None:
            preset = preset or "stable-wgan-gp"
            config = get_preset(preset)
        config = replace(config, **overrides)
        chunk_steps = integer(chunk_steps, "chunk_steps", minimum=1)
        eval_samples = integer(eval_samples, "eval_samples", minimum=1)
        if config.data not in TOY_DATA:
            raise ValueError(f"the training lab shows 2-D toy data; data must be one of {list(TOY_DATA)}, "
                             f"got {config.data!r}")
        self._stop_other_labs()
        _LABS.add(self)
        from wgan_lessons.checks import number

        self.chunk_steps = chunk_steps
        self.eval_samples = eval_samples
        self.frame_seconds = number(frame_seconds, "frame_seconds", minimum=0.0, strict=True)
        self._view = None
        self.title = title
        self._task: asyncio.Task | None = None
        self._running = False
        self.metrics: dict[str, list] = {}
        self._build_controls(config)
        if preset in PRESETS and config == replace(get_preset(preset), **overrides):
            self._syncing = True
            self.controls["preset"].value = preset
            self._syncing = False
        self.reset(config)

    # ------------------------------------------------------------------ state
    @property
    def config(self) -> TrainConfig:
        return self.trainer.config

    @property
    def history(self) -> dict:
        """The trainer's history (losses, W estimate, gradient norms), see :class:`Trainer`."""
        return self.trainer.history

    @property
    def running(self) -> bool:
        return self._running

    def reset(self, config: TrainConfig | None = None) -> None:
        """Start again from step 0 with ``config`` (default: what the controls say)."""
        self.pause()
        cfg = (config or self._config_from_controls()).resolved()
        self.trainer = Trainer(cfg, progress=False)
        self._held_out = self.trainer.dist.sample(self.eval_samples,
                                                  generator=torch.Generator().manual_seed(cfg.seed + 7))
        self._set_controls(cfg)
        self.metrics = {"step": [], "exact_w1": [], "modes": [], "hq_fraction": [], "reverse_kl": [], "counts": []}
        self._measure()
        self.refresh()
        # What the first training step needs and the first frame does not, imported while the learner
        # looks at it: torch._dynamo (building an optimiser imports it) and POT (the exact W1), about
        # a second each on a laptop. Started after the frame, so it does not compete for the GIL.
        _import_in_background("torch._dynamo", "ot")

    @staticmethod
    def _stop_other_labs() -> None:
        for lab in list(_LABS):
            lab.pause()

    # ------------------------------------------------------------------ training
    def step(self, steps: int | None = None) -> None:
        """Train one chunk (``chunk_steps`` generator steps, or ``steps``), then refresh."""
        from wgan_lessons.checks import integer

        steps = self.chunk_steps if steps is None else integer(steps, "steps", minimum=1)
        self._apply_live_controls()
        self.trainer.run(steps, progress=False)
        self._measure()
        self.refresh()

    def run(self, steps: int) -> dict:
        """Train ``steps`` generator steps now, refreshing after every chunk (blocking).
        Returns the history. Stops early if training diverges."""
        from wgan_lessons.checks import integer

        target = self.trainer.step + integer(steps, "steps", minimum=0)
        if self.trainer.config.steps < target:
            self.trainer.update_hparams(steps=target)
        while self.trainer.step < target and self.trainer.stop_reason is None:
            self.step(min(self.chunk_steps, target - self.trainer.step))
        return self.history

    def start(self) -> asyncio.Task | None:
        """Train in the background (an asyncio task on the running event loop: the Jupyter
        kernel's) until :meth:`pause`, divergence or ``config.steps``. Returns the task."""
        if self._running:
            return self._task
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None:
            try:
                loop = asyncio.get_event_loop()
            except RuntimeError:
                loop = None
        if loop is None or not loop.is_running():
            raise RuntimeError("start() needs a running event loop (a Jupyter kernel, or inside an async "
                               "function); use lab.run(steps) to train in a plain script")
        self._stop_other_labs()
        self._running = True
        self._task = loop.create_task(self._loop())
        self._update_buttons()
        return self._task

    async def _loop(self) -> None:
        """Train in slices of about ``frame_seconds`` of wall time, one generator step at a time,
        and redraw after each: the kernel is never busy for longer than a slice plus a frame, so a
        slider move or Pause is taken up at once. Metrics (exact W1, modes) are measured every
        ``chunk_steps`` generator steps, on the same schedule as :meth:`step`."""
        try:
            while self._running and not self.trainer.done:
                self._train_slice()
                self.refresh()
                await asyncio.sleep(0.005)  # let the kernel handle button clicks and slider moves
        finally:
            self._running = False
            self._update_buttons()

    def _train_slice(self, seconds: float | None = None, owner=None) -> None:
        """Train about ``seconds`` (default ``frame_seconds``) while ``owner`` (this lab, or the
        side-by-side pair driving it) is running."""
        self._apply_live_controls()
        t, owner = self.trainer, owner or self
        deadline = time.perf_counter() + (seconds or self.frame_seconds)
        while owner._running and not t.done:
            t.run(1, progress=False)
            if t.step - self.metrics["step"][-1] >= self.chunk_steps:
                self._measure()
            if time.perf_counter() >= deadline:
                break

    def pause(self) -> None:
        """Stop background training after the current chunk; :meth:`start` resumes it."""
        self._running = False
        if getattr(self, "trainer", None) is not None:
            self.trainer.request_stop()
        self._update_buttons()

    stop = pause

    # ------------------------------------------------------------------ measuring
    def _measure(self) -> None:
        """Exact W1 and mode metrics of ``eval_samples`` generated samples, at the current step. The
        first frame (step 0) shows the mode metrics only, so that it does not wait for POT's import."""
        t = self.trainer
        fake = t.sample(self.eval_samples)
        m = self.metrics
        m["step"].append(t.step)
        w1_now = t.step > 0 and bool(torch.isfinite(fake).all())
        m["exact_w1"].append(exact_w1(fake, self._held_out) if w1_now else float("nan"))
        if t.dist.centers is not None and torch.isfinite(fake).all():
            cov = mode_coverage(fake, t.dist.centers, t.dist.std)
            for k in ("modes", "hq_fraction", "reverse_kl", "counts"):
                m[k].append(cov[k])
        else:
            for k in ("modes", "hq_fraction", "reverse_kl"):
                m[k].append(float("nan"))
            m["counts"].append([])

    # ------------------------------------------------------------------ controls
    def _build_controls(self, cfg: TrainConfig) -> None:
        w = _widgets()
        lay = w.Layout(width="250px")
        style = {"description_width": "90px"}

        def log_slider(desc, lo, hi, value):
            return w.FloatLogSlider(value=value, base=10, min=lo, max=hi, step=0.25, description=desc,
                                    readout_format=".1e", layout=lay, style=style, continuous_update=False)

        self.controls = {
            "preset": w.Dropdown(options=["(custom)"] + sorted(PRESETS), value="(custom)", description="preset",
                                 layout=lay, style=style),
            "method": w.Dropdown(options=list(METHODS), value="wgan-gp", description="method", layout=lay,
                                 style=style),
            "data": w.Dropdown(options=list(TOY_DATA), value="ring8", description="data", layout=lay, style=style),
            "n_critic": w.IntSlider(value=5, min=1, max=20, description="n_critic (D steps)", layout=lay,
                                    style=style, continuous_update=False),
            "lr_g": log_slider("lr G", -6, -1, 1e-4),
            "lr_d": log_slider("lr D", -6, -1, 1e-4),
            "clip_value": log_slider("clip c", -4, 0, 0.01),
            "lambda_gp": log_slider("lambda", -3, 2, 0.1),
            "width": w.IntSlider(value=128, min=16, max=512, step=16, description="width", layout=lay,
                                 style=style, continuous_update=False),
            "batch_size": w.IntSlider(value=128, min=16, max=512, step=16, description="batch", layout=lay,
                                      style=style, continuous_update=False),
            "seed": w.IntText(value=0, description="seed", layout=lay, style=style),
        }
        self.buttons = {name: w.Button(description=name, layout=w.Layout(width="70px"))
                        for name in ("Run", "Pause", "Step", "Reset")}
        self.buttons["Run"].button_style = "success"
        self.buttons["Run"].on_click(lambda _: self.start())
        self.buttons["Pause"].on_click(lambda _: self.pause())
        self.buttons["Step"].on_click(lambda _: self.step())
        self.buttons["Reset"].on_click(lambda _: self.reset())
        # Only what the learner moved is applied: a control that merely shows the config (maybe
        # rounded to the slider's steps) never changes the run. (Registered first, so that the
        # handlers below already see the move.)
        self._touched: set[str] = set()
        for name in self.controls:
            self.controls[name].observe(lambda change, name=name: self._touch(name), names="value")
        self.controls["preset"].observe(self._on_preset, names="value")
        for name in ("method", "data", "width", "seed"):
            self.controls[name].observe(self._on_structural, names="value")
        self.status = w.HTML()
        self.image = w.Image(format="png", layout=w.Layout(width="100%", max_width="1100px"))
        self._syncing = False

    def _touch(self, name: str) -> None:
        if not self._syncing:
            self._touched.add(name)

    def _set_controls(self, cfg: TrainConfig) -> None:
        """Show ``cfg`` on the controls, widening a slider's range where a value lies outside it
        (nothing is clamped; a value a slider cannot show, such as lambda 0 on a log scale, is
        kept in the run and named in the status line)."""
        self._syncing = True
        self._touched = set()
        hidden = []
        try:
            c = self.controls
            c["method"].value, c["data"].value = cfg.method, cfg.data
            for name, value in (("n_critic", cfg.n_critic), ("width", cfg.g_width), ("batch_size", cfg.batch_size)):
                c[name].min, c[name].max = min(c[name].min, value), max(c[name].max, value)
                c[name].value = value
            for name, value in (("lr_g", cfg.lr_g), ("lr_d", cfg.lr_d), ("clip_value", cfg.clip_value),
                                ("lambda_gp", cfg.lambda_gp)):
                if value > 0:
                    exp = math.log10(value)
                    c[name].min, c[name].max = min(c[name].min, math.floor(exp)), max(c[name].max, math.ceil(exp))
                    c[name].value = value
                else:
                    hidden.append(f"{name} = {value:g}")
            if cfg.g_width != cfg.d_width:
                hidden.append(f"g_width {cfg.g_width}, d_width {cfg.d_width} (the slider shows g_width)")
            c["seed"].value = cfg.seed
            # a slider the method does not use is greyed out: clip c is weight clipping's (method 'wgan'),
            # lambda the gradient penalty's ('wgan-gp'); moving them would change nothing
            c["clip_value"].disabled = cfg.method != "wgan"
            c["lambda_gp"].disabled = cfg.method != "wgan-gp"
        finally:
            self._syncing = False
        self._hidden_note = ("the run uses " + "; ".join(hidden)) if hidden else None

    def _config_from_controls(self) -> TrainConfig:
        c = self.controls
        base = getattr(self, "trainer", None)
        cfg = base.config if base is not None else TrainConfig()
        fields = {"method": ("method",), "data": ("data",), "n_critic": ("n_critic",), "lr_g": ("lr_g",),
                  "lr_d": ("lr_d",), "clip_value": ("clip_value",), "lambda_gp": ("lambda_gp",),
                  "width": ("g_width", "d_width"), "batch_size": ("batch_size",), "seed": ("seed",)}
        changes = {f: c[name].value for name, fs in fields.items() if name in self._touched for f in fs}
        if "seed" in changes:
            changes["seed"] = int(changes["seed"])
        if changes.get("method", cfg.method) != cfg.method:  # a new method brings its own optimiser defaults
            changes.update(optimizer=None, betas=None)
        return replace(cfg, **changes)

    def _apply_live_controls(self) -> None:
        c = self.controls
        live = {k: c[k].value for k in ("lr_g", "lr_d", "n_critic", "clip_value", "lambda_gp", "batch_size")
                if k in self._touched}
        if any(getattr(self.trainer.config, k) != v for k, v in live.items()):
            self.trainer.update_hparams(**live)

    def _on_preset(self, change) -> None:
        if self._syncing or change["new"] == "(custom)":
            return
        self.reset(get_preset(change["new"], seed=int(self.controls["seed"].value)))

    def _on_structural(self, change) -> None:
        if self._syncing:
            return
        if self.trainer.step == 0 and not self._running:
            self.reset()
        else:
            self._status_note = "method, data, width and seed apply on Reset"
            self.refresh()

    def _update_buttons(self) -> None:
        if not hasattr(self, "buttons"):
            return
        self.buttons["Run"].disabled = self._running
        self.buttons["Step"].disabled = self._running
        self.buttons["Pause"].disabled = not self._running

    # ------------------------------------------------------------------ view
    def figure(self):
        """The live view as a matplotlib Figure (no pyplot), brought up to date."""
        self._update_view()
        return self._view.figure()

    def _update_view(self) -> None:
        from wgan_lessons.plots import LiveView

        t = self.trainer
        clip = t.config.clip_value if t.config.method == "wgan" else None
        key = (t.config.data, clip)
        if getattr(self, "_view", None) is None or self._view_key != key:
            centers = t.dist.centers
            self._view = LiveView(None if centers is None else len(centers), clip_value=clip)
            self._view_key = key
        fake = t.sample(self.eval_samples)
        ok = bool(torch.isfinite(fake).all())
        weights = (torch.cat([p.detach().flatten() for p in t.critic.parameters()]).cpu().numpy()
                   if clip else None)
        self._view.update(self._held_out.numpy(), fake.numpy() if ok else None, t.critic_scores, t.generator_field,
                          t.history, self.metrics, t.config.method,
                          show_w_estimate=t.config.method in ("wgan", "wgan-gp"), critic_weights=weights, step=t.step)

    def refresh(self) -> None:
        """Redraw the view (its artists move; nothing is rebuilt) and the status line."""
        self._update_view()
        self.image.value = self._view.png()
        t, m = self.trainer, self.metrics
        parts = [f"<b>{self.title}</b>" if self.title else "",
                 f"step {t.step}/{t.config.steps}", f"{t.elapsed:.1f} s training on the {t.device.type.upper()}"]
        if m.get("modes") and m["modes"][-1] == m["modes"][-1]:
            parts.append(f"modes {m['modes'][-1]}, HQ {100 * m['hq_fraction'][-1]:.0f}% "
                         f"(a perfect sampler: {100 * HQ_PERFECT:.1f}%)")
        if m.get("exact_w1"):
            parts.append(f"exact W1 {m['exact_w1'][-1]:.3f} (on {self.eval_samples} samples, so never 0: "
                         f"lesson 01 measures its floor)")
        if t.stop_reason:
            parts.append(f"<span style='color:#b00'>{t.stop_reason}</span>")
        if getattr(self, "_hidden_note", None):
            parts.append(f"<i>{self._hidden_note}</i>")
        note = getattr(self, "_status_note", None)
        if note:
            parts.append(f"<i>{note}</i>")
            self._status_note = None
        self.status.value = " &middot; ".join(p for p in parts if p)

    def widget(self):
        """The whole lab as one ipywidgets box."""
        w = _widgets()
        c = self.controls
        col1 = w.VBox([c["preset"], c["method"], c["data"], c["seed"]])
        col2 = w.VBox([c["n_critic"], c["lr_g"], c["lr_d"], c["batch_size"]])
        col3 = w.VBox([c["clip_value"], c["lambda_gp"], c["width"], w.HBox(list(self.buttons.values()))])
        self._update_buttons()
        return w.VBox([w.HBox([col1, col2, col3]), self.status, self.image])

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget())

    # ------------------------------------------------------------------ side by side
    @staticmethod
    def side_by_side(a: str | TrainConfig = "mode-collapse", b: str | TrainConfig = "stable-wgan-gp",
                     seed: int = 0, **kwargs) -> "SideBySide":
        """Two labs, same seed, two settings (preset names or configs), run in lockstep."""
        return SideBySide(a, b, seed=seed, **kwargs)


class SideBySide:
    """Two :class:`TrainingLab` s with the same seed and shared Run / Pause / Step / Reset."""

    def __init__(self, a, b, seed: int = 0, **kwargs):
        def make(spec):
            cfg = get_preset(spec) if isinstance(spec, str) else spec
            return cfg, (spec if isinstance(spec, str) else cfg.method)

        (ca, ta), (cb, tb) = make(a), make(b)
        lab_a = TrainingLab(ca, seed=seed, title=ta, **kwargs)
        lab_b = TrainingLab(cb, seed=seed, title=tb, **kwargs)
        self.labs = (lab_a, lab_b)
        _LABS.add(self)  # a later lab pauses this pair too  # type: ignore[arg-type]
        self._running = False
        self._task = None
        w = _widgets()
        self.buttons = {n: w.Button(description=n, layout=w.Layout(width="70px")) for n in ("Run", "Pause", "Step", "Reset")}
        self.buttons["Run"].button_style = "success"
        self.buttons["Run"].on_click(lambda _: self.start())
        self.buttons["Pause"].on_click(lambda _: self.pause())
        self.buttons["Step"].on_click(lambda _: self.step())
        self.buttons["Reset"].on_click(lambda _: [lab.reset() for lab in self.labs])

    def step(self) -> None:
        for lab in self.labs:
            lab.step()

    def run(self, steps: int) -> None:
        for lab in self.labs:  # same chunks for both, in turn
            lab.run(steps)

    def start(self):
        if self._running:
            return self._task
        loop = asyncio.get_event_loop()
        if not loop.is_running():
            raise RuntimeError("start() needs a running event loop (a Jupyter kernel); use run(steps)")
        self._running = True
        self._task = loop.create_task(self._loop())
        return self._task

    async def _loop(self):
        try:
            while self._running and not all(lab.trainer.done for lab in self.labs):
                for lab in self.labs:  # a time slice each, in turn, then both frames
                    if not lab.trainer.done:
                        lab._train_slice(owner=self)
                for lab in self.labs:
                    lab.refresh()
                await asyncio.sleep(0.005)
        finally:
            self._running = False

    def pause(self) -> None:
        self._running = False
        for lab in self.labs:
            lab.pause()

    @property
    def running(self) -> bool:
        return self._running

    def widget(self):
        w = _widgets()
        cols = [w.VBox([lab.status, lab.image]) for lab in self.labs]
        return w.VBox([w.HBox(list(self.buttons.values())), *cols])

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget())
