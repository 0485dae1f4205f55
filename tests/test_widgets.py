"""The training lab builds without a front end and trains through its Python API."""

import asyncio

import pytest

from wgan_lessons.train import TrainConfig
from wgan_lessons.widgets import SideBySide, TrainingLab

TINY = dict(steps=40, batch_size=32, g_width=16, d_width=16, g_depth=2, d_depth=2, log_every=2, device="cpu")


#: Steps for a run far longer than any test (a fast machine trains TINY's 40 steps in under 0.3 s): for tests
#: that must stop a run before it ends.
LONG = 1_000_000


def tiny_lab(steps: int = TINY["steps"], **kw):
    return TrainingLab(TrainConfig(method="wgan-gp", data="ring8", **{**TINY, "steps": steps}), chunk_steps=4,
                       eval_samples=100, **kw)


def test_lab_builds_and_runs_chunks_and_the_view_updates():
    lab = tiny_lab()
    box = lab.widget()
    assert box.children  # controls, status, image
    first = lab.image.value
    assert first[:4] == b"\x89PNG"
    lab.run(8)
    assert lab.trainer.step == 8
    assert lab.metrics["step"] == [0, 4, 8]
    assert lab.image.value != first
    assert "step 8" in lab.status.value
    assert len(lab.history["w_estimate"]) == 4


def test_start_pause_resume_in_an_event_loop():
    lab = tiny_lab(steps=LONG)  # Pause must stop it, not the end of the run

    async def scenario():
        lab.start()
        assert lab.running
        await asyncio.sleep(0.3)
        lab.pause()
        await asyncio.sleep(0.1)
        paused_at = lab.trainer.step
        assert not lab.running and paused_at > 0
        await asyncio.sleep(0.2)
        assert lab.trainer.step == paused_at  # nothing trains while paused
        task = lab.start()  # resumes from where it stopped
        for _ in range(600):  # up to 60 s for the next chunk on a slow machine
            await asyncio.sleep(0.1)
            if lab.trainer.step > paused_at:
                break
        lab.pause()
        await asyncio.wait_for(task, timeout=60)
        assert not lab.running
        return paused_at

    paused_at = asyncio.run(scenario())
    assert 0 < paused_at < lab.trainer.step < LONG


def test_a_run_started_in_an_event_loop_ends_at_its_steps():
    lab = tiny_lab()

    async def scenario():
        await asyncio.wait_for(lab.start(), timeout=60)

    asyncio.run(scenario())
    assert lab.trainer.step == TINY["steps"] and not lab.running


def test_start_outside_an_event_loop_is_a_clear_error():
    with pytest.raises(RuntimeError, match="run\\(steps\\)"):
        tiny_lab().start()


def test_a_new_lab_stops_the_old_ones_task():
    async def scenario():
        old = tiny_lab(steps=LONG)
        task = old.start()
        await asyncio.sleep(0.1)
        tiny_lab()  # re-running the cell
        await asyncio.wait_for(task, timeout=30)
        return old

    old = asyncio.run(scenario())
    assert not old.running and old.trainer.step < LONG


def test_buttons_and_live_sliders():
    lab = tiny_lab()
    lab.buttons["Step"].click()
    assert lab.trainer.step == 4
    lab.controls["lr_d"].value = 1e-3
    lab.controls["n_critic"].value = 2
    lab.buttons["Step"].click()
    assert lab.trainer.config.lr_d == pytest.approx(1e-3) and lab.trainer.config.n_critic == 2
    assert lab.trainer.opt_d.param_groups[0]["lr"] == pytest.approx(1e-3)
    lab.controls["method"].value = "gan"  # structural: applies on Reset
    assert lab.trainer.config.method == "wgan-gp"
    lab.buttons["Reset"].click()
    assert lab.trainer.config.method == "gan" and lab.trainer.step == 0
    assert lab.trainer.config.optimizer == "adam" and lab.trainer.config.n_critic == 2


def test_preset_dropdown_resets_to_the_preset():
    lab = tiny_lab()
    lab.controls["preset"].value = "mode-collapse"
    assert lab.trainer.config.method == "nsgan" and lab.trainer.step == 0


def test_sliders_a_method_does_not_use_are_greyed_out():
    """clip c acts only for weight clipping (method 'wgan'), lambda only for the gradient penalty ('wgan-gp'):
    the other method's slider is disabled, and follows the method on Reset and on a preset."""
    lab = tiny_lab()
    assert lab.controls["clip_value"].disabled and not lab.controls["lambda_gp"].disabled
    lab.controls["preset"].value = "wgan-clipping"
    assert not lab.controls["clip_value"].disabled and lab.controls["lambda_gp"].disabled
    lab.controls["preset"].value = "mode-collapse"
    assert lab.controls["clip_value"].disabled and lab.controls["lambda_gp"].disabled


def test_side_by_side_same_seed():
    a = TrainConfig(method="gan", **TINY)
    b = TrainConfig(method="wgan-gp", **TINY)
    sbs = TrainingLab.side_by_side(a, b, seed=3, chunk_steps=4, eval_samples=100)
    assert isinstance(sbs, SideBySide)
    sbs.step()
    assert [lab.trainer.step for lab in sbs.labs] == [4, 4]
    assert {lab.trainer.config.seed for lab in sbs.labs} == {3}
    assert sbs.widget().children


def test_images_are_refused_clearly():
    with pytest.raises(ValueError, match="toy data"):
        TrainingLab(TrainConfig(data="digits"))


def test_a_clipped_critic_shows_its_weight_histogram():
    """Issue 11 (lesson 05): with method 'wgan' the live view gets a fifth panel, the critic's weights in
    [-c, c], and the share at the walls (within 5% of ±c) is printed on it."""
    import numpy as np

    from wgan_lessons.plots import weights_at_the_walls

    lab = TrainingLab(TrainConfig(method="wgan", data="ring8", clip_value=0.01, **TINY), chunk_steps=4,
                      eval_samples=100)
    assert len(lab.figure().axes) == 6  # samples, losses, W, modes (+ its twin HQ axis), weights
    lab.run(4)
    w = np.concatenate([p.detach().numpy().ravel() for p in lab.trainer.critic.parameters()])
    share = weights_at_the_walls(w, 0.01)
    assert f"{100 * share:.0f}% within 5% of ±c" == lab._view.wall_note.get_text()
    assert share == np.mean(np.abs(w) >= 0.0095)
    gp = tiny_lab()
    assert len(gp.figure().axes) == 5  # no weight panel for a penalised critic
    with pytest.raises(ValueError, match="clip_value"):
        weights_at_the_walls(w, 0.0)
