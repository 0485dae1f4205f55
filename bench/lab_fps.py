"""The training lab: seconds to the first frame, frames per second while training, and how long a
slider move or Pause takes to act.

    python bench/lab_fps.py                    # the 'stable-wgan-gp' preset, 8 s of live training
    python bench/lab_fps.py --seconds 2        # shorter
    python bench/lab_fps.py --smoke            # tiny networks, for CI

The lab trains in an asyncio task, as it does in a Jupyter kernel, where widget messages (a slider
move, the Pause button) are handled whenever the task yields. Here a second task plays the
learner: it moves the lr_d slider, then presses Pause, and the script measures when each one took
effect. Side by side in the same run it also times one frame of the live view (artists updated)
against one frame drawn the old way (a new matplotlib figure per frame): their ratio is the
speed-up of the view itself (a frame between two full redraws draws only the samples panel over a saved
background, a full redraw happens once a second). Targets (issue 10): first frame <= 2 s, >= 4 frames/s, a slider move
or Pause in effect within 0.5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import time


def rebuilt_frame(lab) -> bytes:
    """One frame as the lab drew it before the live view: a new 4-panel figure, a contourf heatmap."""
    from wgan_lessons.plots import new_figure, plot_history, plot_samples

    t = lab.trainer
    fig, axes = new_figure(4, 1, size=3.6)
    fake = t.sample(lab.eval_samples)
    plot_samples(axes[0, 0], lab._held_out.numpy(), fake.numpy(), t.critic_scores, lim=2.0, title="old view")
    plot_history(axes[0, 1], t.history, keys=("loss_d", "loss_g"))
    plot_history(axes[0, 2], t.history, keys=("w_estimate",))
    axes[0, 3].plot(lab.metrics["step"], lab.metrics["modes"])
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=72)
    return buf.getvalue()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=8.0, help="live training measured")
    p.add_argument("--preset", default="stable-wgan-gp")
    p.add_argument("--smoke", action="store_true")
    args = p.parse_args(argv)

    # What lesson 01 has run before its lab cell: the setup cell (torch, the package's settings) and
    # the imports cell (matplotlib's pyplot, numpy, torch, wgan_lessons.data and .losses).
    import matplotlib.pyplot  # noqa: F401
    import wgan_lessons.losses  # noqa: F401
    import wgan_lessons.settings  # noqa: F401

    t0 = time.perf_counter()
    from wgan_lessons.widgets import TrainingLab  # the lab cell's import is part of "the cell runs"

    overrides = dict(g_width=16, d_width=16, batch_size=32) if args.smoke else {}
    lab = TrainingLab(preset=args.preset, **overrides)
    first_frame = time.perf_counter() - t0
    assert lab.image.value[:4] == b"\x89PNG"
    seconds = 1.0 if args.smoke else args.seconds

    frames: list[float] = []
    original_refresh = lab.refresh

    def counting_refresh():
        original_refresh()
        frames.append(time.perf_counter())

    lab.refresh = counting_refresh
    result = {}

    async def learner():
        await asyncio.sleep(seconds / 2)
        moved = time.perf_counter()
        lab.controls["lr_d"].value = lab.trainer.config.lr_d * 2
        lab._touch("lr_d")  # what the slider's observer does in a kernel
        target = lab.controls["lr_d"].value
        while lab.trainer.config.lr_d != target:
            await asyncio.sleep(0.001)
        result["slider"] = time.perf_counter() - moved
        await asyncio.sleep(seconds / 2)
        pressed = time.perf_counter()
        lab.pause()
        steps = lab.trainer.step
        await lab._task
        result["pause"] = time.perf_counter() - pressed
        result["steps_after_pause"] = lab.trainer.step - steps

    async def scenario():
        lab.trainer.update_hparams(steps=10**6)
        lab.start()
        await learner()

    start = time.perf_counter()
    asyncio.run(scenario())
    live = time.perf_counter() - start
    fps = (len(frames) - 1) / (frames[-1] - frames[0]) if len(frames) > 1 else 0.0

    view, full, old = [], [], []
    lab._update_view()
    for _ in range(3 if args.smoke else 5):  # the three ways of drawing a frame, in turn
        a = time.perf_counter()
        lab._view.png(full=False)  # a frame between full redraws: the samples panel over its background
        view.append(time.perf_counter() - a)
        a = time.perf_counter()
        lab._view.png(full=True)  # a full redraw of the live view (once a second while training)
        full.append(time.perf_counter() - a)
        a = time.perf_counter()
        rebuilt_frame(lab)
        old.append(time.perf_counter() - a)

    def ok(flag):
        return "met" if flag else "NOT met"

    print(f"preset {args.preset}{' (smoke sizes)' if args.smoke else ''}: {lab.trainer.step} generator steps "
          f"in {live:.1f} s of live training")
    print(f"first frame:      {first_frame:.2f} s after the cell starts (its import included)   target <= 2 s: "
          f"{ok(first_frame <= 2)}")
    print(f"frames/s:         {fps:.1f} while training ({len(frames)} frames)                target >= 4: "
          f"{ok(fps >= 4)}")
    print(f"slider in effect: {result['slider']:.3f} s after the move                       target <= 0.5 s: "
          f"{ok(result['slider'] <= 0.5)}")
    print(f"pause in effect:  {result['pause']:.3f} s after the press ({result['steps_after_pause']} more steps)  "
          f"target <= 0.5 s: {ok(result['pause'] <= 0.5)}")
    med = statistics.median
    print(f"drawing one frame (median of {len(view)}, the view's state already computed): samples panel over "
          f"its saved background {1e3 * med(view):.0f} ms, full redraw of the live view {1e3 * med(full):.0f} ms, "
          f"a new figure as before issue 10 {1e3 * med(old):.0f} ms: {med(old) / med(view):.1f}x and "
          f"{med(old) / med(full):.1f}x faster")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
